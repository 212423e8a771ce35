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


def test_repeated_bands_reuse_their_code_with_each_sheets_own_move(monkeypatch):
    """An unrolled loop: band k (rows 10k+2..10k+6) reads its own rows, data from row
    3k+1 down (3 rows further per band while the band moves 10) and a fixed cell. The
    bands after the first take the first one's code, with their own offsets; the
    band whose constant differs and the band that reads data in a different way are
    compiled afresh. Values are checked by hand and against the interpreter."""
    from sheetnet.engine import compile as compiler
    from sheetnet.engine.workbook import Fill

    wb = Workbook()
    data = wb.add_sheet("data")
    for row in range(40):
        data.input((row, 0), float(row * row))
    run = wb.add_sheet("run")
    run.input("D1", 0.5)
    constants = [2.0] * 10
    constants[5] = 3.0
    for k in range(10):
        top = 10 * k + 1  # zero-based first row of the band
        run.input((top - 1, 0), float(k))
        source = data.ref(f"A{3 * k + 1}") if k != 7 else data.ref(f"A{3 * k + 2}") * 1.0
        b = source * constants[k] + run.ref(f"A{top}")  # A of the row above
        run.add_fill(Fill(1, top, top + 4, b))
        run.add_fill(Fill(2, top, top + 4, run.ref(f"B{top + 1}") * run.ref("D1").fixed()))
        run.add_fill(Fill(0, top, top + 4, run.ref(f"C{top + 1}")))

    compiled = []
    real = compiler.BandCompiler._compile
    monkeypatch.setattr(
        compiler.BandCompiler, "_compile",
        lambda self, *args: compiled.append(args[2]) or real(self, *args),
    )  # fmt: skip
    fast = evaluate(wb)
    slow = evaluate(wb, compiled=False)
    assert compiled == [1, 51, 61, 71, 81]  # the first band; k=5 (constant), k=6 after it;
    # k=7 (a product instead of a reference); k=8 after it
    for k in range(10):
        a = float(k)
        for r in range(5):
            row = 10 * k + 1 + r
            d = (3 * k + r + (1 if k == 7 else 0)) ** 2  # the data row moves down the band
            b = d * constants[k] + a
            c = b * 0.5
            assert fast.get(("run", row, 1)) == slow.get(("run", row, 1)) == b
            assert fast.get(("run", row, 2)) == slow.get(("run", row, 2)) == c
            a = c
