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
from ..backprop.layout import Layout as NetworkLayout
from ..contract import (
    INT,
    SETTINGS,
    LessonParams,
    ParamError,
    at_least,
    data_file,
    finite,
    non_negative,
    param,
    positive,
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
# batch_size: the per-epoch table from row 4, then the three runs side by side below it
BATCH_RUN_COLUMNS = ("t", "epoch", "first", "last", "a", "b", "loss", "dL/da", "dL/db",
                     "a'", "b'", "loss, all points")  # fmt: skip


def batch_sizes(p: OptimizersParams) -> tuple[int, int, int]:
    """SGD, the mini-batch, the whole set."""
    return 1, p.batch_size, p.rows


def iterations_per_epoch(p: OptimizersParams, b: int) -> int:
    return (p.rows + b - 1) // b


def batch_epoch_top() -> int:
    return 3


def batch_run_top(p: OptimizersParams) -> int:
    """The runs' first iteration row: below the epoch table, a title, a count and headers."""
    return batch_epoch_top() + p.batch_epochs + 5


def batch_run_left(r: int) -> int:
    return r * (len(BATCH_RUN_COLUMNS) + 1)


RACE_TOP = 3  # race: the first step's row (0-based), under the headers
SUGGESTED_LR = "O3"  # lr_find: a tenth of the rate at the lowest smoothed loss


def race_col(j: int, shared: bool) -> int:
    """race: the column of optimizer j's batch losses, at its own rate or the shared one."""
    return 1 + j + (len(OPTIMIZERS) + 1 if shared else 0)


def one_cycle_loss_col(p: OptimizersParams) -> int:
    """one_cycle: the batch loss column, after t, lr, momentum, a, b and the batch's errors."""
    return 5 + p.batch_size


# formula cells of one step of each optimizer sheet, besides 2 per sample of the batch
STEP_CELLS = {"sgd": 18, "momentum": 22, "nesterov": 26, "rmsprop": 22, "adam": 38, "adamw": 38}


def _lr_settings(values: Mapping[str, float]) -> str | None:
    for sheet, value in values.items():
        if sheet not in DEFAULT_LR:
            return f"no sheet {sheet!r} takes it (sheets: {', '.join(DEFAULT_LR)})"
        if not (value > 0 and math.isfinite(value)):
            return f"{sheet}={value}: a learning rate must be positive"
    return None


@dataclass(frozen=True)
class OptimizersParams(LessonParams):
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
    batch_epochs: int = param(
        10, kind=INT, check=at_least(1), help="batch_size: epochs of each of its three runs"
    )
    batch_lr: float = param(
        5e-5,
        check=positive,
        help="batch_size: the one learning rate of its runs (SGD's single points with x near "
        "100 diverge above 1e-4)",
    )
    slice_div: float = param(
        3.0,
        check=positive,
        help="discriminative: slice(b) gives b/this to every group but the last (3: fastai "
        "v1 up to 1.0.28, as the lesson taught; 10: from 1.0.29 and in v2)",
    )
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

    MAX_FORMULA_CELLS = 5_000_000  # as graddesc: about 2 GB to build, the most that opens well
    SIZE_ADVICE = "use fewer iterations or a smaller --batch-size"

    def check(self) -> None:
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

    def formula_cells(self) -> int:
        t, b = self.iterations, self.batch_size
        runs = sum(t * (cells + 2 * b) + 1 for cells in STEP_CELLS.values())
        race = 12 * t
        batches = max(t, LR_FIND_STEPS) * 2 * b  # each step's x and y
        lr_find = LR_FIND_STEPS * (13 + b) + 3
        one_cycle = t * (21 + b) + 1
        ema_bias = 3 * EMA_SERIES
        disc_train = NetworkLayout(DISCRIMINATIVE).train_cells + 2
        discriminative, points = 50, 1
        data = 0 if self.data is not None else self.rows  # y = b + x*a, unless given
        fixed = ema_bias + disc_train + discriminative + points + data
        sizes = batch_sizes(self)
        per_row = len(BATCH_RUN_COLUMNS) - 1  # all but t
        batch = 1 + sum(1 + iterations_per_epoch(self, b) * self.batch_epochs * per_row
                        for b in sizes) + len(sizes) * self.batch_epochs  # fmt: skip
        return runs + race + batches + lr_find + one_cycle + fixed + batch

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
