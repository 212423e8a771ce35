"""The streamed writer (fills written row by row from the engine's values) writes the
same bytes as writing every cell through XlsxWriter's cell table."""

from __future__ import annotations

import pytest

from sheetnet.export.xlsx import write_xlsx
from sheetnet.lessons import LESSONS
from sheetnet.pipeline import compute


@pytest.mark.parametrize("name", list(LESSONS))
def test_streamed_fills_write_the_same_bytes_as_the_cell_table(name, tmp_path):
    params = LESSONS[name].examples()[0]
    wb, results = compute(name, params)
    streamed = write_xlsx(wb, results, tmp_path / "streamed.xlsx")
    tabled = write_xlsx(wb, results, tmp_path / "tabled.xlsx", stream=False)
    assert streamed.read_bytes() == tabled.read_bytes()
