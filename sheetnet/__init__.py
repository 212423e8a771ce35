"""sheetnet: deep learning's core math, cell by cell, as live spreadsheets."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "read_sheet"]


def __getattr__(name: str) -> Any:
    """`sheetnet.read_sheet` without importing pandas for every command."""
    if name == "read_sheet":
        from .show import read_sheet

        return read_sheet
    raise AttributeError(f"module 'sheetnet' has no attribute {name!r}")
