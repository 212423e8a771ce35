"""A cell's value as text, one way per purpose, for every report sheetnet prints."""

from __future__ import annotations

import math
import unicodedata

from .engine.errors import ExcelError


def exact(v: object) -> str:
    """Every digit (reports that compare values): floats as repr, errors as their
    code, a formula as written, other text quoted."""
    if isinstance(v, ExcelError):
        return v.code
    if isinstance(v, str) and v.startswith("="):
        return printable(v)
    return printable(repr(v))


def brief(v: object) -> str:
    """For reading (tables): numbers to 6 significant digits, logicals as Excel shows
    them, empty as nothing."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, ExcelError):
        return v.code
    return printable(str(v))


def plain(v: object) -> object:
    """For files a spreadsheet may open (CSV) or a program parse (JSON): error codes as
    text, text that would run as a formula (= + - @) quoted, no Infinity or NaN."""
    if isinstance(v, ExcelError):
        return v.code
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def printable(text: str) -> str:
    """Text safe for a terminal: control and direction-changing characters escaped."""
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") else f"\\u{ord(ch):04x}"
        for ch in text
    )
