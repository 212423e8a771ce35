"""Recalculate a workbook with IronCalc, a spreadsheet engine in Rust (PyPI `ironcalc`).

No system install: `pip install ironcalc` (the `ironcalc` extra), so Windows and
macOS users can verify without LibreOffice. It loads the .xlsx, evaluates every
formula and saves a copy with its own results; it runs in a child process, so a
hang is stopped like any application's.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from ...engine.errors import ExcelError
from .base import App, AppMissing, run_app

_SCRIPT = """
import sys, ironcalc
model = ironcalc.load_from_xlsx(sys.argv[1], "en", "UTC")
model.evaluate()
model.save_to_xlsx(sys.argv[2])
"""
# Where IronCalc's answer differs from Excel's. MATCH(x, range) with match type 1 on
# unsorted values: IronCalc's search answers other positions than Excel's there.
APPROX_MATCH = "IronCalc's approximate MATCH over unsorted values differs from Excel's"


def known_difference(
    excel: object,
    ironcalc: object,
    formula: str | None = None,
    values: dict[str, object] | None = None,
) -> str | None:
    """Why IronCalc's `ironcalc` may stand where Excel gives `excel`, or None."""
    approximate = formula and "MATCH(" in formula.upper() and not _exact_match(formula)
    kinds = float | ExcelError
    if approximate and isinstance(excel, kinds) and isinstance(ironcalc, kinds):
        return APPROX_MATCH
    return None


def _exact_match(formula: str) -> bool:
    """MATCH(...,0): an exact lookup, which IronCalc answers as Excel does."""
    return formula.replace(" ", "").upper().count(",0)") >= formula.upper().count("MATCH(")


def available() -> str | None:
    return sys.executable if importlib.util.find_spec("ironcalc") is not None else None


def recalculate(
    src: str | os.PathLike[str], outdir: str | os.PathLike[str], timeout: float | None = None
) -> Path:
    """Load `src` in IronCalc, evaluate every formula, save as .xlsx in `outdir`."""
    if available() is None:
        raise AppMissing(f"IronCalc is not installed ({APP.install})")
    src, outdir = Path(src).resolve(), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / (src.stem + ".xlsx")
    run_app("IronCalc", [sys.executable, "-c", _SCRIPT, str(src), str(out)], out, timeout)
    return out


APP = App(
    name="ironcalc",
    title="IronCalc",
    install="pip install ironcalc",
    binary=available,
    recalculate=recalculate,
    known_difference=known_difference,
)
