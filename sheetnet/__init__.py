"""sheetnet: deep learning's core math, cell by cell, as live spreadsheets.

In a notebook: ``import sheetnet as sn``, then ``sn.lessons()``, ``sn.build(...)``,
``sn.open(path)`` (see sheetnet.api). The names load on first use, so the command
line does not import pandas for every command.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
_API = ("build", "open", "lessons", "params", "SheetnetError", "BuiltWorkbook", "OpenedWorkbook")
__all__ = ["__version__", "read_sheet", *_API]


def __getattr__(name: str) -> Any:
    if name == "read_sheet":
        from .show import read_sheet

        return read_sheet
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sheetnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
