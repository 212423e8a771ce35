"""Read an .xlsx back: each cell's formula (if any) and its saved value.

The reading itself lives in sheetnet.reader; this is what the checks import.
"""

from ..reader import SavedSheet, read_workbook

__all__ = ["SavedSheet", "read_workbook"]
