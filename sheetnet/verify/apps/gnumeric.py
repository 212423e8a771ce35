"""Recalculate a workbook from scratch with Gnumeric's ssconvert (headless).

`ssconvert --recalc` recalculates every formula after loading; the copy it saves
holds Gnumeric's own results. It prints "Unhandled object of type Note" for cell
notes, which is harmless.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

from ...engine.errors import DIV0, NA, NUM, ExcelError
from .base import App, AppMissing, run_app

# Where Gnumeric's answer differs from Excel's (sheetnet follows Excel).
# Each entry: (Excel's value, Gnumeric's value, why). Tests demonstrate each one.
KNOWN_DIFFERENCES: tuple[tuple[ExcelError, ExcelError, str], ...] = (
    (DIV0, NUM, "Gnumeric gives #NUM! for LOG(x,1), Excel #DIV/0!"),
)
# Known, not tolerated (avoided by the lessons and the tests): a one-cell range A1:A1
# is one cell to Gnumeric, so INDEX(A1:A1,1,1) is #REF! and MATCH(x,A1:A1,1) #N/A
# (Excel and LibreOffice read a 1x1 range); INDEX(one-row range, k) reads k as the
# row (#REF!), Excel as the column.
MATCH_ERROR = "Gnumeric's MATCH answers #N/A when it looks up an error; Excel passes it on"
OVERFLOW = "Gnumeric keeps an overflowing result as infinity, where Excel gives #NUM!"


def known_difference(
    excel: object,
    gnumeric: object,
    formula: str | None = None,
    values: dict[str, object] | None = None,
) -> str | None:
    """Why Gnumeric's `gnumeric` may stand where Excel gives `excel`, or None."""
    for exp, got, why in KNOWN_DIFFERENCES:
        if excel is exp and gnumeric is got:
            return why
    if excel is NUM and isinstance(gnumeric, float) and math.isinf(gnumeric):
        return OVERFLOW
    if gnumeric is NA and isinstance(excel, ExcelError) and formula and "MATCH(" in formula:
        return MATCH_ERROR
    return None


def ssconvert() -> str | None:
    return shutil.which("ssconvert")


def recalculate(
    src: str | os.PathLike[str], outdir: str | os.PathLike[str], timeout: float | None = None
) -> Path:
    """Load `src` in Gnumeric, recalculate every formula, save as .xlsx in `outdir`."""
    binary = ssconvert()
    if binary is None:
        raise AppMissing(f"Gnumeric is not installed ({APP.install})")
    src, outdir = Path(src).resolve(), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / (src.stem + ".xlsx")
    with tempfile.TemporaryDirectory(prefix="sheetnet-gnumeric-") as home:
        staged = Path(home, "in.xlsx")
        shutil.copyfile(src, staged)
        cmd = [binary, "--recalc", "-T", "Gnumeric_Excel:xlsx2", str(staged), str(out)]
        run_app("Gnumeric", cmd, out, timeout, env={**os.environ, "HOME": home})
    return out


APP = App(
    name="gnumeric",
    title="Gnumeric",
    install="apt-get install --no-install-recommends gnumeric",
    binary=ssconvert,
    recalculate=recalculate,
    known_difference=known_difference,
)
