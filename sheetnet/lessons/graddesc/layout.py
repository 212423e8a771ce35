"""graddesc's parameters and row layout, shared by its sheets, summary and reference.

Block layout (1-based rows), epoch e counted from 0, height = rows + 3:
  state row   3 + e*height         carried optimizer state (row 3 = headers in epoch 1)
  data rows   state+1 .. state+rows one SGD step per sample
  summary     state+rows+1         error, carried state (row 33 in the original)
  extra       state+rows+2         adam_ann's gradrat (row 34 in the original)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ...engine.address import MAX_ROWS
from ...inputs import read_number_table
from ..contract import (
    INT,
    SEED,
    SETTINGS,
    Check,
    LessonParams,
    ParamError,
    at_least,
    data_file,
    finite,
    param,
    positive,
    seed_range,
)

OPTIMIZERS = ("basic", "momentum", "rmsprop", "adam", "adam_ann")
ORIGINAL_X = (
    14,
    86,
    28,
    51,
    28,
    29,
    72,
    62,
    84,
    15,
    42,
    62,
    47,
    35,
    9,
    38,
    44,
    99,
    13,
    21,
    28,
    20,
    8,
    64,
    99,
    70,
    27,
    17,
    8,
)
DEFAULT_LR = {"basic": 0.0001, "momentum": 0.0001, "rmsprop": 0.02, "adam": 0.1, "adam_ann": 1.0}
DEFAULT_BETA = {"momentum": 0.9, "rmsprop": 0.9, "adam": 0.9, "adam_ann": 0.9}
DEFAULT_BETA2 = {"adam": 0.9, "adam_ann": 0.95}
DATA_FIRST_ROW = 5  # data!B5 holds the first x
# formula cells of each optimizer sheet (and its race twin, which has one more):
# per data row and epoch, per epoch, and per epoch after the first
SHEET_CELLS = {
    "basic": (14, 5, 0),
    "momentum": (12, 6, 1),
    "rmsprop": (12, 6, 1),
    "adam": (14, 9, 2),
    "adam_ann": (14, 14, 3),
}
SUMMARY_CELLS, RACE_CELLS = 18, 5  # per epoch: the summary table's row, the race's


def read_xy_csv(path: str) -> tuple[tuple[float, float], ...]:
    """The learner's points: a CSV with the header x,y, then one pair per line."""
    header, rows = read_number_table(path, max_rows=MAX_ROWS - DATA_FIRST_ROW + 1, max_cols=64)
    names = [h.lower() for h in header]
    if names != ["x", "y"]:
        if "x" not in names or "y" not in names:
            found = ",".join(header)[:60]
            raise ValueError(f"{path}: line 1 must be the header 'x,y', found {found!r}")
        extra = [h for h in names if h not in ("x", "y")]
        repeated = [h for h in ("x", "y") if names.count(h) > 1]
        what = (
            f"extra columns: {', '.join(extra)[:60]}"
            if extra
            else f"{' and '.join(repeated)} given twice"
        )
        raise ValueError(f"{path}: expected exactly the columns x,y; {what}")
    if len(rows) < 2:
        raise ValueError(f"{path}: need at least 2 data rows, found {len(rows)}")
    return tuple((x, y) for x, y in rows)


def _settings(known: Mapping[str, float], low: float, high: float, what: str) -> Check:
    """A check for SHEET=VALUE settings: a known sheet, a value in range."""

    def check(values: Mapping[str, float]) -> str | None:
        for sheet, value in values.items():
            if sheet not in known:
                return f"no sheet {sheet!r} takes it (sheets: {', '.join(known)})"
            if not (low < value if what == "a learning rate" else low <= value < high):
                bounds = "positive" if what == "a learning rate" else f"in [{low:g}, {high:g})"
                return f"{sheet}={value}: {what} must be {bounds}"
        return None

    return check


def _sheets(kind: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in kind.items())


@dataclass(frozen=True)
class GraddescParams(LessonParams):
    """The lesson's parameters; the defaults reproduce the original's settings."""

    epochs: int = param(60, kind=INT, check=at_least(1), help="epochs to unroll")
    rows: int = param(
        29,
        kind=INT,
        check=at_least(2),
        help="data rows (samples per epoch)",
        excludes={"data": "the file gives the rows"},
    )
    seed: int | None = param(
        None,
        kind=SEED,
        check=seed_range,
        excludes={"data": "the file gives x"},
        help="random x values from this seed [default: the original's x]",
    )
    true_a: float = param(
        2.0, check=finite, help="the true slope a", excludes={"data": "the file gives y"}
    )
    true_b: float = param(
        30.0, check=finite, help="the true intercept b", excludes={"data": "the file gives y"}
    )
    init_a: float = param(1.0, check=finite, help="starting a on every sheet")
    init_b: float = param(1.0, check=finite, help="starting b on every sheet")
    lr: Mapping[str, float] = param(
        kind=SETTINGS,
        default_factory=lambda: dict(DEFAULT_LR),
        check=_settings(DEFAULT_LR, 0.0, math.inf, "a learning rate"),
        help=f"a sheet's learning rate, e.g. --lr adam=0.05 (repeatable; {_sheets(DEFAULT_LR)})",
    )
    beta: Mapping[str, float] = param(
        kind=SETTINGS,
        default_factory=lambda: dict(DEFAULT_BETA),
        check=_settings(DEFAULT_BETA, 0.0, 1.0, "a beta"),
        help=f"a sheet's beta, weight of the old average ({_sheets(DEFAULT_BETA)})",
    )
    beta2: Mapping[str, float] = param(
        kind=SETTINGS,
        default_factory=lambda: dict(DEFAULT_BETA2),
        check=_settings(DEFAULT_BETA2, 0.0, 1.0, "a beta"),
        help=f"beta for the squared gradients ({_sheets(DEFAULT_BETA2)})",
    )
    race_lr: float = param(
        0.0001, check=positive, help="the one learning rate every optimizer uses on the race sheets"
    )
    start_avg: float = param(0.0, check=finite, help="start of the moving averages of gradients")
    start_sq: float = param(
        10000.0,
        check=positive,
        help="start of the moving averages of squared gradients (divided by: must be positive)",
    )
    data: tuple[tuple[float, float], ...] | None = param(
        None,
        kind=data_file(read_xy_csv),
        help="train on your own CSV (header x,y) instead of the generated line",
    )

    MAX_FORMULA_CELLS = 5_000_000  # about 2 GB to build; more would not open comfortably
    SIZE_OPTION = "epochs"
    SIZE_ADVICE = "use fewer epochs or rows"

    def __post_init__(self) -> None:
        if self.data is not None:  # the file gives the rows
            object.__setattr__(self, "rows", len(self.data))
        super().__post_init__()

    def check(self) -> None:
        last = sheet_rows(self.epochs, self.rows)
        if last > MAX_ROWS:
            raise ParamError(
                "epochs",
                f"{self.epochs} epochs of {self.rows} rows need "
                f"{last:,} rows per sheet; Excel allows {MAX_ROWS:,}: use fewer "
                "epochs or rows",
            )

    def formula_cells(self) -> int:
        e, r = self.epochs, self.rows
        sheets = sum(
            2 * (e * (per_row * r + per_epoch) + (e - 1) * later) + 1
            for per_row, per_epoch, later in SHEET_CELLS.values()
        )
        return sheets + e * (SUMMARY_CELLS + RACE_CELLS) + r  # and data's y column

    def setting(self, kind: str, sheet: str) -> float:
        """The lr/beta/beta2 of `sheet`: the override if given, else the original's."""
        given = getattr(self, kind)
        default = {"lr": DEFAULT_LR, "beta": DEFAULT_BETA, "beta2": DEFAULT_BETA2}[kind]
        return float(given.get(sheet, default[sheet]))

    def x_values(self) -> list[float]:
        if self.data is not None:
            return [float(x) for x, _ in self.data]
        if self.seed is None:
            extra = np.random.default_rng(0).integers(1, 101, size=max(0, self.rows - 29))
            return [float(v) for v in (*ORIGINAL_X[: self.rows], *extra)]
        return [float(v) for v in np.random.default_rng(self.seed).integers(1, 101, self.rows)]


def sheet_rows(epochs: int, rows: int) -> int:
    """Rows an optimizer sheet uses: the last block's extra row."""
    return 3 + (epochs - 1) * (rows + 3) + rows + 2


@dataclass(frozen=True)
class Block:
    """Row numbers (1-based) of one epoch's block."""

    epoch: int  # 0-based
    rows: int

    @property
    def state(self) -> int:
        return 3 + self.epoch * (self.rows + 3)

    @property
    def first(self) -> int:
        return self.state + 1

    @property
    def last(self) -> int:
        return self.state + self.rows

    @property
    def summary(self) -> int:
        return self.last + 1

    @property
    def extra(self) -> int:
        return self.last + 2


def explain_error(p: GraddescParams, sheet: str, row: int, cell: str, error: object) -> str | None:
    """Where an optimizer first broke down (epoch and sample); other sheets only follow."""
    kind = sheet.removeprefix("race_")
    if kind not in OPTIMIZERS or row <= 3:
        return None
    epoch, offset = divmod(row - 3, p.rows + 3)
    where = f"sample {offset}" if 1 <= offset <= p.rows else "its summary"
    return (
        f"{sheet} diverged in epoch {epoch + 1}, {where}: {cell} is {error} "
        f"(try a smaller learning rate than "
        f"{p.race_lr if kind != sheet else p.setting('lr', sheet)})"
    )


def blocks(p: GraddescParams) -> list[Block]:
    return [Block(e, p.rows) for e in range(p.epochs)]


# Where each optimizer sheet keeps its results (for the summary sheet and checks).
NEW_B_COL = {"basic": "N", "momentum": "H", "rmsprop": "H", "adam": "H", "adam_ann": "H"}
NEW_A_COL = {"basic": "M", "momentum": "I", "rmsprop": "I", "adam": "I", "adam_ann": "I"}
ERR_COL = {"basic": "F", "momentum": "L", "rmsprop": "L", "adam": "N", "adam_ann": "O"}
