"""Benchmark every registered lesson's default workbook: formula cells, how many the
engine interprets (off the compiled fast path), build time by stage, peak memory, and
LibreOffice's recalculation of the same file (load, recalculate, save).

    python3 benchmarks/lessons.py      # writes benchmarks/RESULTS-lessons.md

Each build runs in a fresh process; memory is sampled in a second run, the writer's
helper process included (benchmarks/memory.py). Wall-clock on a shared machine:
read the ratios.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(name: str, out: str) -> dict:
    """In this process: the default build of lesson `name`, each stage timed."""
    import gc

    from sheetnet.engine import evaluate
    from sheetnet.export.xlsx import write_xlsx
    from sheetnet.lessons import get
    from sheetnet.lessons.kit import workbook

    gc.disable()
    lesson = get(name)
    t0 = time.perf_counter()
    wb = workbook(lesson, lesson.params())
    t1 = time.perf_counter()
    results = evaluate(wb)
    t2 = time.perf_counter()
    write_xlsx(wb, results, out)
    t3 = time.perf_counter()
    return {
        "cells": wb.formula_count(),
        "interpreted": results.interpreted,
        "layout": t1 - t0,
        "evaluate": t2 - t1,
        "write": t3 - t2,
    }


def measure_memory(name: str, out: str) -> dict:
    from memory import PeakMemory

    with PeakMemory() as peak:
        measure(name, out)
    return {"peak_mb": peak.mb}


def recalc(path: str, tmp: str) -> float:
    from sheetnet.verify.apps import APPS

    t0 = time.perf_counter()
    APPS["libreoffice"].recalculate(Path(path), Path(tmp, "recalc"))
    return time.perf_counter() - t0


def child(*argv: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    from sheetnet.lessons import LESSONS

    lines = [
        "# Benchmark results: every lesson's default workbook", "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}. Run: "
        "`python3 benchmarks/lessons.py`. Date: " + time.strftime("%Y-%m-%d") + ". "
        "Build = layout + evaluation + write, in a fresh process; peak memory of the build "
        "and the writer's helper together; LibreOffice loads, recalculates every formula "
        "and saves the same file. Wall-clock on a shared machine: read the ratios.", "",
        "| lesson | formula cells | interpreted cells | build s (layout / eval / write) "
        "| build cells/s | peak MB | LibreOffice s | build / LibreOffice |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name in LESSONS:
            out = str(Path(tmp, f"{name}.xlsx"))
            got = child("measure", name, out) | child("memory", name, out)
            build = got["layout"] + got["evaluate"] + got["write"]
            office = child("recalc", out, tmp)["seconds"]
            lines.append(
                f"| {name} | {got['cells']:,} | {got['interpreted']:,} | {build:.1f} "
                f"({got['layout']:.1f} / {got['evaluate']:.2f} / {got['write']:.1f}) | "
                f"{got['cells'] / build:,.0f} | {got['peak_mb']:.0f} | {office:.1f} | "
                f"{build / office:.2f} |"
            )
            print(lines[-1], flush=True)
    (HERE / "RESULTS-lessons.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("measure", "memory"):
        how = measure if sys.argv[1] == "measure" else measure_memory
        print(json.dumps(how(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "recalc":
        print(json.dumps({"seconds": recalc(sys.argv[2], sys.argv[3])}))
    else:
        main()
