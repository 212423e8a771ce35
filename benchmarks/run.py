"""Benchmark sheetnet on graddesc against the other ways to compute the same workbook.

    python3 benchmarks/run.py            # all sizes; writes benchmarks/RESULTS.md
    python3 benchmarks/run.py --quick    # the small sizes only

Per size it reports formula cells, layout, evaluation and write time, peak memory,
and, for the same file: LibreOffice's recalculation from scratch (load, recalculate,
save), pycel's and formulas' evaluation (where they finish in reasonable time),
and the numpy reference (the same recurrence in a plain loop: the floor). Before a
tool's time is reported, its final values (the summary's last row) are checked
against sheetnet's. Each measurement runs in a fresh process, so peak memory is
that size's alone. Timings are wall-clock on a shared machine: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = [(2, 29), (10, 29), (100, 29), (1000, 29), (100, 290)]
QUICK = [(2, 29), (10, 29), (100, 29)]
PYCEL_MAX_CELLS = 60_000  # about 4,000 cells/s: beyond this it takes minutes
FORMULAS_MAX_CELLS = 10_000  # about 500 cells/s
TIMEOUT = 900
LAST_ROW_CELLS = [f"{c}" for c in "BCDEFGHIJKLMNOP"]  # summary: a, b, error per optimizer


def _final_cells(epochs: int) -> list[str]:
    return [f"summary!{c}{epochs + 1}" for c in LAST_ROW_CELLS]


# -- measurements, each in a child process ---------------------------------------------


def measure_memory(epochs: int, rows: int, out: str) -> dict:
    """The same build again, its memory sampled (apart from the timed run, which the
    sampling would slow)."""
    from memory import PeakMemory

    with PeakMemory() as peak:
        measure_sheetnet(epochs, rows, out)
    return {"peak_mb": peak.mb, "rss_mb": peak.rss_mb}


def measure_sheetnet(epochs: int, rows: int, out: str) -> dict:
    import gc

    from sheetnet.export.xlsx import write_xlsx
    from sheetnet.lessons import graddesc
    from sheetnet.reference import graddesc as reference

    gc.disable()  # as `sheetnet build` does
    params = graddesc.GraddescParams(epochs=epochs, rows=rows)
    t0 = time.perf_counter()
    wb = graddesc.build(params)
    t1 = time.perf_counter()
    from sheetnet.engine import evaluate

    results = evaluate(wb)
    t2 = time.perf_counter()
    write_xlsx(wb, results, out)
    t3 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finals = [results.at("summary", c.split("!")[1]) for c in _final_cells(epochs)]
    # the floor: the numpy reference computing the same recurrence, recording nothing
    t4 = time.perf_counter()
    x, y = reference.data_xy(params)
    histories = [reference.basic(params, x, y, None)]
    for sheet in ("momentum", "rmsprop", "adam", "adam_ann"):
        histories.append(reference.moving(params, sheet, x, y, None))
    t5 = time.perf_counter()
    floor = [float(v) for h in histories for v in h[-1][:3]]
    return {
        "cells": wb.formula_count(), "layout": t1 - t0, "eval": t2 - t1, "write": t3 - t2,
        "peak_mb": peak_mb, "finals": finals, "floor": t5 - t4, "floor_finals": floor,
    }  # fmt: skip


def measure_pycel(path: str, epochs: int) -> dict:
    import threading

    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)  # pycel recurses along each dependency chain
    box: dict = {}

    def work() -> None:
        from pycel import ExcelCompiler

        t0 = time.perf_counter()
        xl = ExcelCompiler(filename=path)
        box["finals"] = [float(xl.evaluate(c)) for c in _final_cells(epochs)]
        box["seconds"] = time.perf_counter() - t0

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return box


def measure_formulas(path: str, epochs: int) -> dict:
    import formulas

    t0 = time.perf_counter()
    solution = formulas.ExcelModel().loads(path).finish().calculate()
    seconds = time.perf_counter() - t0
    by_cell = {k.split("]")[-1].upper(): v for k, v in solution.items()}
    finals = [float(by_cell[f"SUMMARY'!{c.split('!')[1]}"].value[0][0]) for c in
              _final_cells(epochs)]  # fmt: skip
    return {"seconds": seconds, "finals": finals}


def measure_libreoffice(path: str, epochs: int) -> dict:
    import openpyxl

    from sheetnet.verify.apps.libreoffice import recalculate

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = recalculate(path, tmp)
        seconds = time.perf_counter() - t0
        book = openpyxl.load_workbook(out, read_only=True, data_only=True)
        sheet = book["summary"]
        finals = [float(sheet[c.split("!")[1]].value) for c in _final_cells(epochs)]
        book.close()
    return {"seconds": seconds, "finals": finals}


def child(kind: str, *args: str) -> dict:
    """Run one measurement in a fresh interpreter; its result as a dict (or an error)."""
    cmd = [sys.executable, __file__, "--child", kind, *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report -------------------------------------------------------------------------


ABS_TOL = 1e-6  # in the units of y (about 100): see the note in RESULTS.md


def agree(mine: list[float], theirs: list[float] | None) -> bool:
    """Relative 1e-9, or absolute 1e-6 for values that are cancellation noise."""
    if not theirs or len(theirs) != len(mine):
        return False
    return all(abs(a - b) <= max(1e-9 * max(abs(a), abs(b)), ABS_TOL) for a, b in zip(mine, theirs))


def run(sizes: list[tuple[int, int]]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for epochs, n in sizes:
            path = str(Path(tmp, f"graddesc_{epochs}_{n}.xlsx"))
            print(f"graddesc, {epochs} epochs x {n} rows ...", flush=True)
            me = child("sheetnet", str(epochs), str(n), path)
            if "error" in me:
                raise SystemExit(f"sheetnet failed: {me['error']}")
            row = {"epochs": epochs, "rows": n, **me, **child("memory", str(epochs), str(n), path)}
            row["floor_agrees"] = agree(me["finals"], me["floor_finals"])
            tools = [("libreoffice", True)]
            tools.append(("pycel", me["cells"] <= PYCEL_MAX_CELLS))
            tools.append(("formulas", me["cells"] <= FORMULAS_MAX_CELLS))
            for tool, feasible in tools:
                if not feasible:
                    row[tool] = {"skipped": "too slow at this size"}
                    continue
                got = child(tool, path, str(epochs))
                if not got:
                    got = {"skipped": "not installed (pip install -e '.[bench]')"}
                elif "error" not in got:
                    got["agrees"] = agree(me["finals"], got["finals"])
                row[tool] = got
            rows.append(row)
            print(f"  {me['cells']:,} formula cells: eval {me['eval']:.2f} s, total "
                  f"{me['layout'] + me['eval'] + me['write']:.2f} s", flush=True)  # fmt: skip
    return rows


def _tool_cell(result: dict, cells: int, engine_eval: float) -> str:
    if "skipped" in result:
        return f"skipped ({result['skipped']})"
    if "error" in result:
        return f"failed: {result['error']}"
    if not result["agrees"]:
        return "DIFFERENT VALUES (time not reported)"
    s = result["seconds"]
    return f"{s:.2f} s, {cells / s:,.0f} cells/s, {s / engine_eval:,.0f}x engine eval"


def markdown(rows: list[dict]) -> str:
    lo_version = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout
    lines = [
        "# Benchmark results: graddesc",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{lo_version.strip() or 'LibreOffice not found'}. Run: `python3 benchmarks/run.py`.",
        f"Date: {time.strftime('%Y-%m-%d')}. Wall-clock times on a shared machine: "
        "compare the ratios, not the seconds.",
        "",
        "## sheetnet",
        "",
        "Build = layout + evaluation + write. Peak memory is that of the build and the "
        "writer's helper process together (their proportional set sizes, sampled in a "
        "second run; benchmarks/memory.py); the build process alone in brackets.",
        "",
        "| epochs x rows | formula cells | layout s | evaluation s | engine cells/s | write s "
        "| build s | build cells/s | peak MB | MB per million cells |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        total = r["layout"] + r["eval"] + r["write"]
        lines.append(
            f"| {r['epochs']} x {r['rows']} | {r['cells']:,} | {r['layout']:.2f} | {r['eval']:.2f}"
            f" | {r['cells'] / r['eval']:,.0f} | {r['write']:.2f} | {total:.2f} | "
            f"{r['cells'] / total:,.0f} | {r['peak_mb']:.0f} ({r['rss_mb']:.0f}) | "
            f"{r['peak_mb'] / r['cells'] * 1e6:.0f} |"
        )
    lines += [
        "",
        "## The same workbook, other tools",
        "",
        "Each tool's final values (the summary's last row: a, b and error per optimizer) are "
        "checked against sheetnet's (relative 1e-9, or absolute 1e-6) before its time is "
        "reported. The absolute bound is there for the long runs: once a fit has converged, its "
        "error is a root of summed squares of differences of nearly equal numbers, and "
        "LibreOffice rounds a subtraction of numbers equal to within 2^-44 to 0 where Excel "
        "and sheetnet keep the IEEE difference. Those near-zero values (about 1e-10) then "
        "differ, and so can adam_ann's annealing decisions late in the run; a and b agree.",
        "",
        "| epochs x rows | LibreOffice recalculation | sheetnet build / LibreOffice | pycel "
        "| formulas | numpy floor (engine eval / floor) |",
        "|---|---|---:|---|---|---|",
    ]
    for r in rows:
        total = r["layout"] + r["eval"] + r["write"]
        lo = r["libreoffice"]
        lo_text = _tool_cell(lo, r["cells"], r["eval"])
        ratio = f"{total / lo['seconds']:.2f}" if lo.get("agrees") else "-"
        floor = (f"{r['floor']:.2f} s ({r['eval'] / r['floor']:.2f}x)" if r["floor_agrees"]
                 else "DIFFERENT VALUES")  # fmt: skip
        lines.append(
            f"| {r['epochs']} x {r['rows']} | {lo_text} | {ratio} | "
            f"{_tool_cell(r['pycel'], r['cells'], r['eval'])} | "
            f"{_tool_cell(r['formulas'], r['cells'], r['eval'])} | {floor} |"
        )
    by_epochs = {r["epochs"]: r for r in rows if r["rows"] == 29}
    if 100 in by_epochs and 1000 in by_epochs:
        a, b = by_epochs[100], by_epochs[1000]
        ta = a["layout"] + a["eval"] + a["write"]
        tb = b["layout"] + b["eval"] + b["write"]
        lines += ["", f"Linearity: 10x the epochs costs {tb / ta:.1f}x the build time and "
                      f"{b['peak_mb'] / a['peak_mb']:.1f}x the peak memory "
                      "(which includes the interpreter's fixed start)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind in ("sheetnet", "memory"):
            measure = measure_sheetnet if kind == "sheetnet" else measure_memory
            result = measure(int(rest[0]), int(rest[1]), rest[2])
        else:
            fn = {"pycel": measure_pycel, "formulas": measure_formulas,
                  "libreoffice": measure_libreoffice}[kind]  # fmt: skip
            result = fn(rest[0], int(rest[1]))
        print(json.dumps(result))
        return
    rows = run(QUICK if args.quick else SIZES)
    text = markdown(rows)
    out = Path(args.out)
    kept = out.read_text() if out.exists() else ""
    if "<!-- digits: start -->" in kept:  # benchmarks/digits.py's section stays
        text = text.rstrip() + "\n\n" + kept[kept.index("<!-- digits: start -->") :]
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
