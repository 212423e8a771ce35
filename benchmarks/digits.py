"""Benchmark the digits lesson: build time, formula cells and peak memory, beside
LibreOffice's and Gnumeric's recalculation of the same file.

    python3 benchmarks/digits.py      # writes its section of benchmarks/RESULTS.md

Cases: the default workbook (8x8 digits), and an MNIST-sized one (28x28 pixels,
0..255) made by enlarging the shipped digits, since no network is needed or used.
Before an application's time is reported, its validation accuracy (a key result)
is checked against sheetnet's. Each measurement runs in a fresh process.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sheetnet.lessons.kit import workbook

HERE = Path(__file__).resolve().parent
START, END = "<!-- digits: start -->", "<!-- digits: end -->"
CASES = {
    "default (8x8, 300 train, 200 valid, batch 20, 3 epochs)": [],
    "28x28 CSV of 300 images (200 train, 100 valid, batch 20, 2 epochs)": [
        "--train", "200", "--valid", "100", "--epochs", "2"],
}  # fmt: skip


def mnist_sized(path: Path) -> None:
    """300 of the shipped digits enlarged to 28x28 (each pixel a 3.5x3.5 patch), 0..255."""
    import numpy as np

    from sheetnet.lessons.digits.data import builtin

    table = builtin()
    rows = ["label," + ",".join(f"pixel{i}" for i in range(784))]
    index = (np.arange(28) * 8) // 28
    for label, pixels in zip(table.labels[:300], table.pixels[:300]):
        big = pixels.reshape(8, 8)[index][:, index] * 255 / 16
        rows.append(f"{label}," + ",".join(str(round(v)) for v in big.ravel()))
    path.write_text("\n".join(rows) + "\n")


def measure(args: list[str], out: str) -> dict:
    """In this process: parse the options as the CLI does, build, time each stage."""
    import gc

    from sheetnet.engine import evaluate
    from sheetnet.export.xlsx import write_xlsx
    from sheetnet.lessons import get

    gc.disable()
    lesson = get("digits")
    options: dict[str, list[str]] = {}
    for flag, value in zip(args[::2], args[1::2]):
        options.setdefault(flag[2:].replace("-", "_"), []).append(value)
    t0 = time.perf_counter()
    params = lesson.parse_options(options) if options else lesson.params()
    wb = workbook(lesson, params)
    t1 = time.perf_counter()
    results = evaluate(wb)
    t2 = time.perf_counter()
    write_xlsx(wb, results, out)
    t3 = time.perf_counter()
    key = lesson.key_results(params)[0]
    return {
        "cells": wb.formula_count(),
        "layout": t1 - t0,
        "evaluate": t2 - t1,
        "write": t3 - t2,
        "interpreted": results.interpreted,
        "accuracy": results.at(key.sheet, key.a1),
        "accuracy_cell": [key.sheet, key.a1],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "size_mb": Path(out).stat().st_size / 1e6,
    }


def measure_memory(args: list[str], out: str) -> dict:
    """The same build again, its memory (the writer's helper included) sampled."""
    from memory import PeakMemory

    with PeakMemory() as peak:
        measure(args, out)
    return {"peak_mb": peak.mb}


def recalc(app: str, path: str, cell: list[str], tmp: str) -> dict:
    from sheetnet.verify.apps import APPS
    from sheetnet.verify.readback import read_workbook

    t0 = time.perf_counter()
    out = APPS[app].recalculate(path, Path(tmp, app))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "accuracy": read_workbook(out)[cell[0]].values.get(cell[1])}


def child(*argv: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    lines = [START, "## digits", "",
             "Run: `python3 benchmarks/digits.py`. Build = layout + evaluation + write, in "
             "a fresh process; each application loads, recalculates every formula and "
             "saves the same file. Its validation accuracy is checked against sheetnet's "
             "before its time is reported. Peak memory: the build and the writer's helper "
             "process together, sampled in a second run (benchmarks/memory.py).", "",
             "| workbook | formula cells | build s (layout / eval / write) | engine cells/s "
             "| interpreted cells | peak MB (MB per million cells) | file MB "
             "| LibreOffice s | Gnumeric s "
             "| build / LibreOffice | accuracy |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp, "mnist_sized.csv")
        mnist_sized(csv)
        for name, args in CASES.items():
            if args:
                args = [*args, "--data", str(csv)]
            out = str(Path(tmp, "digits.xlsx"))
            got = child("measure", out, *args)
            got |= child("memory", out, *args)
            build = got["layout"] + got["evaluate"] + got["write"]
            apps = {}
            for app in ("libreoffice", "gnumeric"):
                r = child("recalc", app, out, json.dumps(got["accuracy_cell"]), tmp)
                agrees = r["accuracy"] is not None and abs(r["accuracy"] - got["accuracy"]) < 1e-9
                apps[app] = f"{r['seconds']:.1f}" if agrees else f"disagrees ({r['accuracy']})"
            lo = child("recalc", "libreoffice", out, json.dumps(got["accuracy_cell"]), tmp)
            ratio = lo["seconds"] / build
            lines.append(
                f"| {name} | {got['cells']:,} | {build:.1f} ({got['layout']:.1f} / "
                f"{got['evaluate']:.2f} / {got['write']:.1f}) | "
                f"{got['cells'] / got['evaluate']:,.0f} | {got['interpreted']:,} | "
                f"{got['peak_mb']:.0f} ({got['peak_mb'] / got['cells'] * 1e6:.0f}) | "
                f"{got['size_mb']:.1f} | {apps['libreoffice']} | "
                f"{apps['gnumeric']} | {1 / ratio:.2f} | {got['accuracy']:.1%} |"
            )
            print(lines[-1], flush=True)
    lines.append(END)
    results = HERE / "RESULTS.md"
    text = results.read_text()
    if START in text:
        text = text[: text.index(START)] + "\n".join(lines) + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + "\n".join(lines) + "\n"
    results.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("measure", "memory"):
        how = measure if sys.argv[1] == "measure" else measure_memory
        print(json.dumps(how(sys.argv[3:], sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "recalc":
        print(json.dumps(recalc(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5])))
    else:
        main()
