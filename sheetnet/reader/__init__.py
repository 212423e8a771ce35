"""Reading workbooks: one streamed pass per sheet, checked and bounded (see package.py)."""

from .cells import SavedFormulas, SavedSheet, SharedGroup
from .package import Package, read_workbook

__all__ = ["Package", "SavedFormulas", "SavedSheet", "SharedGroup", "read_workbook"]
