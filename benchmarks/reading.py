"""Reading against building: the 1,000-epoch graddesc built, compared and verified.

Each step runs as the command a user types, in a process of its own; its wall time
and the peak of its proportional set size (its helper processes included, sampled
every 10 ms) are reported, and each reading step as a ratio to the build. IronCalc
(a spreadsheet engine in Rust) loading and recalculating the same file is stated
beside them, and `show` of one small sheet of the committed digits.xlsx beside
pandas.read_excel of that sheet. Results: benchmarks/RESULTS-reading.md.

    python3 benchmarks/reading.py [--epochs 1000]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import _children, _pss_kb

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MB of the process tree, exit code) of one command."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    peak = 0
    while child.poll() is None:
        total = _pss_kb(child.pid) + sum(_pss_kb(c) for c in _children(child.pid))
        peak = max(peak, total)
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    if child.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed: {child.stderr.read().decode()[-400:]}")
    return seconds, peak / 1024, child.returncode


IRONCALC = """
import sys, time, ironcalc
t = time.perf_counter(); m = ironcalc.load_from_xlsx(sys.argv[1], "en", "UTC")
t1 = time.perf_counter(); m.evaluate(); t2 = time.perf_counter()
print(f"{t1 - t:.2f} {t2 - t1:.2f}")
"""

PANDAS = "import sys, pandas; pandas.read_excel(sys.argv[1], sheet_name='progress', nrows=3)"
IN_PROCESS = """
import sys, time, pandas
from sheetnet.show import sheet_table
t = time.perf_counter(); sheet_table(sys.argv[1], "progress", rows=(1, 3))
t1 = time.perf_counter(); pandas.read_excel(sys.argv[1], sheet_name="progress", nrows=3)
print(f"{t1 - t:.3f} {time.perf_counter() - t1:.3f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sheetnet-bench-") as tmp:
        sheetnet = [PY, "-m", "sheetnet"]
        build = measure([*sheetnet, "build", "graddesc", "--epochs", str(args.epochs), "-o", tmp])
        path = str(Path(tmp, "graddesc.xlsx"))
        rows.append(("build", *build))
        rows.append(("compare (untouched file)", *measure([*sheetnet, "compare", path])))
        rows.append(("verify --app sheetnet", *measure([*sheetnet, "verify", path, "--app",
                                                         "sheetnet"])))  # fmt: skip
        try:
            iron = subprocess.run([PY, "-c", IRONCALC, path], capture_output=True, text=True,
                                  check=True).stdout.split()  # fmt: skip
            ironcalc = f"load {iron[0]} s + evaluate {iron[1]} s"
        except (subprocess.CalledProcessError, FileNotFoundError, IndexError):
            ironcalc = "not installed (pip install ironcalc)"
    digits = str(ROOT / "workbooks" / "digits.xlsx")
    show = measure([*sheetnet, "show", digits, "--sheet", "progress", "--rows", "1:3"])
    pandas = measure([PY, "-c", PANDAS, digits])
    inside = subprocess.run([PY, "-c", IN_PROCESS, digits], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout.split()  # fmt: skip
    b_s, b_mb = build[0], build[1]
    lines = [
        "# Benchmark results: reading",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}. "
        f"Run: `python3 benchmarks/reading.py`. Date: {date.today()}.",
        "Wall-clock times on a shared machine: compare the ratios, not the seconds. Peak MB is",
        "the proportional set size of the command's processes together, sampled every 10 ms.",
        "",
        f"graddesc, {args.epochs} epochs:",
        "",
        "| step | seconds | x build | peak MB | x build |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds, mb, _code in rows:
        lines.append(
            f"| {name} | {seconds:.1f} | {seconds / b_s:.2f} | {mb:.0f} | {mb / b_mb:.2f} |"
        )
    lines += [
        "",
        f"IronCalc on the same file: {ironcalc}.",
        "",
        f"`show workbooks/digits.xlsx --sheet progress --rows 1:3`: {show[0]:.2f} s "
        f"(pandas.read_excel of that sheet, interpreter start included: {pandas[0]:.2f} s); "
        f"in one process, the reading alone: sheetnet {inside[0]} s, pandas {inside[1]} s.",
    ]
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "RESULTS-reading.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
