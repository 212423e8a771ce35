"""Evaluation order, cycles, and long chains."""

from __future__ import annotations

import pytest

from sheetnet.engine import CycleError, Workbook, evaluate


def test_cells_written_in_reverse_dependency_order():
    wb = Workbook()
    s = wb.add_sheet("s")
    n = 5000  # deeper than Python's recursion limit: evaluation must not recurse per cell
    for row in range(n - 1):
        s.formula((row, 0), s.ref(f"A{row + 2}") + 1)
    s.input((n - 1, 0), 0)
    got = evaluate(wb)
    assert got.at("s", "A1") == n - 1


def test_cycle_is_named():
    wb = Workbook()
    s = wb.add_sheet("s")
    t = wb.add_sheet("t")
    s.formula("A1", t.ref("B2") + 1)
    t.formula("B2", s.ref("C3") * 2)
    s.formula("C3", s.ref("A1") - 1)
    with pytest.raises(CycleError) as caught:
        evaluate(wb)
    cells = str(caught.value).removeprefix("circular reference: ").split(" -> ")
    assert cells[0] == cells[-1]  # a loop, named from wherever evaluation met it
    ring = cells[:-1]
    start = ring.index("s!A1")
    assert ring[start:] + ring[:start] == ["s!A1", "t!B2", "s!C3"]


def test_self_reference_is_a_cycle():
    wb = Workbook()
    s = wb.add_sheet("s")
    s.formula("A1", s.ref("A1") + 1)
    with pytest.raises(CycleError, match="s!A1 -> s!A1"):
        evaluate(wb)


def test_reference_to_missing_sheet_is_ref_error():
    from sheetnet.engine import REF, Ref

    wb = Workbook()
    s = wb.add_sheet("s")
    s.formula("A1", Ref("gone", 0, 0) + 1)
    assert evaluate(wb).at("s", "A1") is REF


def test_bad_sheet_names_and_addresses_are_refused():
    wb = Workbook()
    with pytest.raises(ValueError, match="sheet name"):
        wb.add_sheet("a/b")
    s = wb.add_sheet("s")
    with pytest.raises(ValueError, match="address"):
        s.ref("A0")
    with pytest.raises(ValueError):
        s.input("XFE1", 1)
