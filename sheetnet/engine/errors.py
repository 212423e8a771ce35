"""Excel error values: a distinct type, so a text cell "#DIV/0!" is never an error."""

from __future__ import annotations

from typing import ClassVar


class ExcelError:
    """One of Excel's error values; instances are interned by code."""

    __slots__ = ("code",)
    _known: ClassVar[dict[str, ExcelError]] = {}

    def __new__(cls, code: str) -> ExcelError:
        if code in cls._known:
            return cls._known[code]
        self = super().__new__(cls)
        self.code = code
        cls._known[code] = self
        return self

    def __repr__(self) -> str:
        return f"ExcelError({self.code!r})"

    def __str__(self) -> str:
        return self.code

    def __reduce__(self) -> tuple:
        return (ExcelError, (self.code,))


DIV0 = ExcelError("#DIV/0!")
NUM = ExcelError("#NUM!")
VALUE = ExcelError("#VALUE!")
NA = ExcelError("#N/A")
REF = ExcelError("#REF!")
NAME = ExcelError("#NAME?")

ERRORS_BY_CODE = {e.code: e for e in (DIV0, NUM, VALUE, NA, REF, NAME)}


def as_error(text: object) -> ExcelError | None:
    """The error a spreadsheet file stores as text (e.g. '#NUM!'), or None."""
    return ERRORS_BY_CODE.get(text) if isinstance(text, str) else None
