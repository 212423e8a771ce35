"""The package writer: worksheets deflated on two cores make the same file as one
process does, and the same parts as XlsxWriter's own packaging."""

from __future__ import annotations

import os
import zipfile

import pytest
import xlsxwriter

from sheetnet.export import helper, package
from sheetnet.export.xlsx import _populate, write_xlsx
from sheetnet.lessons import graddesc
from sheetnet.pipeline import compute

needs_fork = pytest.mark.skipif(not helper.AVAILABLE, reason="no fork on this platform")


@pytest.fixture(scope="module")
def big():
    """A workbook above the helper's threshold (graddesc's default: 236,736 cells)."""
    params = graddesc.GraddescParams()
    wb, results = compute("graddesc", params)
    assert wb.formula_count() >= package.HELPER_MIN_CELLS
    return wb, results


def _write(wb, results, path, **kwargs):
    """Write and report how many worksheets the helper wrote."""
    seen = {}
    close = package.Book.close

    def spy(book):
        close(book)
        seen["helper"] = book.helper_sheets

    package.Book.close = spy
    try:
        write_xlsx(wb, results, path, **kwargs)
    finally:
        package.Book.close = close
    return seen["helper"]


@needs_fork
def test_the_helper_writes_worksheets_and_the_bytes_do_not_change(big, tmp_path):
    wb, results = big
    helped = _write(wb, results, tmp_path / "two.xlsx")
    alone = _write(wb, results, tmp_path / "one.xlsx", parallel=False)
    assert helped >= 1 and alone == 0
    assert (tmp_path / "two.xlsx").read_bytes() == (tmp_path / "one.xlsx").read_bytes()


@needs_fork
def test_a_failing_helper_leaves_the_work_to_this_process(big, tmp_path, monkeypatch):
    wb, results = big
    deflated = package.deflated
    parent = os.getpid()

    def broken(ws):  # fails in the helper only
        if os.getpid() != parent:
            raise MemoryError("the helper ran out of memory")
        return deflated(ws)

    monkeypatch.setattr(package, "deflated", broken)
    helped = _write(wb, results, tmp_path / "fallback.xlsx")
    monkeypatch.setattr(package, "deflated", deflated)
    _write(wb, results, tmp_path / "one.xlsx", parallel=False)
    assert helped == 0
    assert (tmp_path / "fallback.xlsx").read_bytes() == (tmp_path / "one.xlsx").read_bytes()


def test_the_parts_are_xlsxwriters_own(tmp_path):
    """Every part, its name, order, date and attributes as XlsxWriter packages them
    itself; only the deflate level differs (so compressed sizes do)."""
    wb, results = compute("entropy", None)
    ours = write_xlsx(wb, results, tmp_path / "ours.xlsx")
    book = xlsxwriter.Workbook(
        str(tmp_path / "theirs.xlsx"),
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
         "strings_to_urls": False},
    )  # fmt: skip
    _populate(book, wb, results)
    book.close()
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(tmp_path / "theirs.xlsx") as b:
        fields = ("filename", "date_time", "CRC", "file_size", "external_attr", "flag_bits")
        assert [[getattr(i, f) for f in fields] for i in a.infolist()] == [
            [getattr(i, f) for f in fields] for i in b.infolist()
        ]
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
        assert a.testzip() is None


def test_split_gives_each_side_about_half():
    weights = [400, 10, 350, 420, 380, 5, 430]
    theirs = package.split(weights)
    mine = set(range(len(weights))) - theirs
    helper_load = sum(weights[i] for i in theirs)
    own = sum(weights[i] for i in mine)
    assert abs(helper_load - own) <= max(weights)
    assert theirs and mine


def test_no_process_to_spare_means_the_work_is_done_here(big, tmp_path, monkeypatch):
    wb, results = big

    def refuse():
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(helper.os, "fork", refuse)
    monkeypatch.setattr(helper, "AVAILABLE", True)
    helped = _write(wb, results, tmp_path / "here.xlsx")
    monkeypatch.undo()
    _write(wb, results, tmp_path / "one.xlsx", parallel=False)
    assert helped == 0
    assert (tmp_path / "here.xlsx").read_bytes() == (tmp_path / "one.xlsx").read_bytes()
