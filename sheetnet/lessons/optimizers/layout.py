"""The optimizers lesson's parameters and the fixed places its sheets share.

Every training run fits y = a*x + b to the data sheet's points with mini-batches
that take the samples in order and wrap around (iteration t uses samples
(t-1)*B+1 .. t*B, counted modulo the number of samples); the batches sheet lists
them, and every run reads its batch from there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..backprop.layout import BackpropParams
from ..contract import (
    INT,
    SETTINGS,
    ParamError,
    at_least,
    data_file,
    finite,
    non_negative,
    param,
    positive,
    validate,
)
from ..graddesc.layout import ORIGINAL_X, read_xy_csv

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
# each optimizer's own learning rate: about the fastest that converges smoothly here
DEFAULT_LR = {
    "sgd": 2e-4,
    "momentum": 2e-5,
    "nesterov": 2e-5,
    "rmsprop": 0.3,
    "adam": 1.0,
    "adamw": 1.0,
}
DATA_FIRST_ROW = 4  # data!A5 (0-based 4): the first point
LR_FIND_STEPS = 100  # fastai's num_it
EMA_SERIES = 30
FIND_TOP = 5  # lr_find: the first step's row (0-based)
DISC_TABLE = 16  # discriminative: the first row of the loss table (0-based)
DISCRIMINATIVE = BackpropParams()  # the network the discriminative rates train
BATCH_TOP = 3  # batches: the first iteration's row (0-based)
RUN_TOP = 5  # an optimizer sheet's first iteration row (0-based)
MAX_ITERATIONS = 20_000
MAX_BATCH = 1_000
MAX_FORMULA_CELLS = 5_000_000  # as graddesc: about 2 GB to build, the most that opens well


def _lr_settings(values: Mapping[str, float]) -> str | None:
    for sheet, value in values.items():
        if sheet not in DEFAULT_LR:
            return f"no sheet {sheet!r} takes it (sheets: {', '.join(DEFAULT_LR)})"
        if not (value > 0 and math.isfinite(value)):
            return f"{sheet}={value}: a learning rate must be positive"
    return None


@dataclass(frozen=True)
class OptimizersParams:
    """The defaults fit the graddesc line in 100 mini-batch steps."""

    iterations: int = param(100, kind=INT, check=at_least(4), help="training steps of every run")
    batch_size: int = param(
        5, kind=INT, check=at_least(1), help="samples per step (1 = SGD, all the points = batch GD)"
    )
    lr: Mapping[str, float] = param(
        kind=SETTINGS,
        default_factory=lambda: dict(DEFAULT_LR),
        check=_lr_settings,
        help="an optimizer sheet's own learning rate, e.g. --lr adam=0.3 (repeatable; "
        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items())
        + ")",
    )
    shared_lr: float = param(
        1e-4, check=positive, help="the one learning rate every optimizer also runs at (the race)"
    )
    wd: float = param(
        0.01,
        check=non_negative,
        help="weight decay of adam (added to the gradient, L2) and adamw (decoupled); "
        "the other sheets start at torch's 0",
    )
    lr_max: float = param(1.0, check=positive, help="one_cycle: the peak learning rate")
    true_a: float = param(
        2.0, check=finite, help="the true slope a", excludes={"data": "the file gives y"}
    )
    true_b: float = param(
        30.0, check=finite, help="the true intercept b", excludes={"data": "the file gives y"}
    )
    init_a: float = param(1.0, check=finite, help="starting a of every run")
    init_b: float = param(1.0, check=finite, help="starting b of every run")
    data: tuple[tuple[float, float], ...] | None = param(
        None,
        kind=data_file(read_xy_csv),
        help="fit your own CSV (header x,y) instead of graddesc's line",
    )

    def __post_init__(self) -> None:
        validate(self)
        if self.iterations > MAX_ITERATIONS:
            raise ParamError(
                "iterations", f"at most {MAX_ITERATIONS:,} steps per run, not {self.iterations:,}"
            )
        if self.batch_size > min(self.rows, MAX_BATCH):
            raise ParamError(
                "batch_size",
                f"{self.batch_size} is more than the {self.rows} points"
                if self.batch_size > self.rows
                else f"at most {MAX_BATCH} samples per step",
            )
        if self.formula_cells > MAX_FORMULA_CELLS:
            raise ParamError(
                "iterations",
                f"about {self.formula_cells:,} formula cells; at most {MAX_FORMULA_CELLS:,} "
                "open in reasonable time: use fewer iterations or a smaller --batch-size",
            )

    @property
    def formula_cells(self) -> int:
        """An upper estimate of the workbook's formula cells (measured: within 5% above):
        a fixed part, and per step about 200 cells plus 16 per sample of the batch."""
        return 20_000 + self.iterations * (200 + 16 * self.batch_size)

    @property
    def rows(self) -> int:
        return len(self.data) if self.data is not None else len(ORIGINAL_X)

    def x_values(self) -> list[float]:
        if self.data is not None:
            return [float(x) for x, _ in self.data]
        return [float(x) for x in ORIGINAL_X]

    def setting(self, sheet: str) -> float:
        return float(self.lr.get(sheet, DEFAULT_LR[sheet]))

    def batch(self, t: int) -> list[int]:
        """0-based sample numbers of iteration t (0-based)."""
        return [(t * self.batch_size + j) % self.rows for j in range(self.batch_size)]
