"""The backprop lesson's parameters, its data, and where every block of cells sits.

Sheet `train` (0-based rows): the learning rate and weight decay on row 0, the
starting parameters from row 2, then one block per iteration:
  top          iteration, loss, objective (loss + weight decay), accuracy
  top+1        column headers
  top+2..      one row per sample: forward pass, then backward pass, left to right
  then         a blank row, the gradients (header + R rows), a blank row,
               the new parameters (header + R rows), a blank row
A parameter section (start, gradient, new) holds W1 | b1, W2 | b2 and, where the
backward pass needs it, W2 turned (W2ᵀ): R = max(hidden, classes) rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...engine.address import MAX_ROWS
from ..contract import (
    INT,
    LessonParams,
    ParamError,
    at_least,
    non_negative,
    param,
    positive,
    seed_range,
)

INPUTS = 2  # x1, x2: a point in the plane
CLASSES = 3
SAMPLES = 8
MAX_HIDDEN = 32  # a layer a learner can still read across
CHECK_TOP = 3  # gradcheck: the table's header row (0-based)
NUDGED_TOP = 3  # nudged: the forward passes' column headers (0-based row)
DATA_FIRST_ROW = 3  # data!A4 (0-based 3): the first sample
START_TOP = 2  # train: the starting parameters' header row (0-based)


@dataclass(frozen=True)
class BackpropParams(LessonParams):
    """The defaults train the small network to classify all eight points in seconds."""

    hidden: int = param(4, kind=INT, check=at_least(1), help="ReLU units in the hidden layer")
    iterations: int = param(
        40, kind=INT, check=at_least(1), help="training steps (each over all samples)"
    )
    lr: float = param(0.5, check=positive, help="learning rate")
    wd: float = param(
        1e-4, check=non_negative, help="weight decay: 2*wd*p is added to every parameter's gradient"
    )
    seed: int = param(
        0, kind=INT, check=seed_range, help="seed of the samples and the starting weights"
    )

    def check(self) -> None:
        if self.hidden > MAX_HIDDEN:
            raise ParamError(
                "hidden",
                f"at most {MAX_HIDDEN} units fit a sheet a learner can read, not {self.hidden}",
            )
        last = Layout(self).last_row
        if last > MAX_ROWS:
            raise ParamError(
                "iterations",
                f"{last:,} rows on the train sheet; Excel allows {MAX_ROWS:,}: "
                "use fewer iterations",
            )

    def formula_cells(self) -> int:
        return Layout(self).formula_cells


def samples(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(SAMPLES, 2) points in [-1, 1]^2 with two decimals, and their classes: 0 near the
    centre, 1 above, 2 below. No straight line separates class 0, so the hidden layer
    has work to do. Every class appears at least twice."""
    rng = np.random.default_rng([seed, 11])
    while True:
        x = np.round(rng.uniform(-1.0, 1.0, (SAMPLES, INPUTS)), 2)
        y = np.where((x**2).sum(axis=1) < 0.3, 0, np.where(x[:, 1] > 0, 1, 2))
        if np.bincount(y, minlength=CLASSES).min() >= 2:
            return x, y.astype(int)


@dataclass(frozen=True)
class Parameters:
    """The network's parameters: W1 (hidden, inputs), b1, W2 (classes, hidden), b2."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def flat(self) -> np.ndarray:
        """In the gradient check's order: W1 row by row, b1, W2 row by row, b2."""
        return np.concatenate([self.w1.ravel(), self.b1, self.w2.ravel(), self.b2])


def start_parameters(p: BackpropParams) -> Parameters:
    """He-initialised weights with three decimals (easy to read and retype), zero biases."""
    rng = np.random.default_rng([p.seed, 12])
    w1 = np.round(rng.normal(0.0, np.sqrt(2.0 / INPUTS), (p.hidden, INPUTS)), 3)
    w2 = np.round(rng.normal(0.0, np.sqrt(2.0 / p.hidden), (CLASSES, p.hidden)), 3)
    return Parameters(w1 + 0.0, np.zeros(p.hidden), w2 + 0.0, np.zeros(CLASSES))


def parameter_names(hidden: int) -> list[str]:
    """Names in `Parameters.flat` order: W1[h1,x1], ..., b2[class 2]."""
    return (
        [f"W1[h{k + 1},x{j + 1}]" for k in range(hidden) for j in range(INPUTS)]
        + [f"b1[h{k + 1}]" for k in range(hidden)]
        + [f"W2[class {c},h{k + 1}]" for c in range(CLASSES) for k in range(hidden)]
        + [f"b2[class {c}]" for c in range(CLASSES)]
    )


class Layout:
    """Columns of the sample rows and of the parameter sections, 0-based."""

    def __init__(self, p: BackpropParams) -> None:
        self.p = p
        h = self.hidden = p.hidden
        # an iteration's title row: its loss, objective and accuracy, each after its header
        self.loss_value, self.objective_value, self.accuracy_value = 4, 7, 10
        # sample rows: sample, label, x, then the forward and backward passes
        self.x = 2
        self.z1 = self.x + INPUTS
        self.a1 = self.z1 + h
        self.z2 = self.a1 + h
        self.max = self.z2 + CLASSES
        self.e = self.max + 1
        self.sum = self.e + CLASSES
        self.prob = self.sum + 1
        self.onehot = self.prob + CLASSES
        self.loss = self.onehot + CLASSES
        self.right = self.loss + 1
        self.dz2 = self.right + 1
        self.da1 = self.dz2 + CLASSES
        self.relu = self.da1 + h
        self.dz1 = self.relu + h
        self.end_col = self.dz1 + h
        # parameter sections: W1 | b1, a gap, W2 | b2, a gap, W2 turned
        self.w1 = 2
        self.b1 = self.w1 + INPUTS
        self.w2 = self.b1 + 2
        self.b2 = self.w2 + h
        self.w2t = self.b2 + 2
        self.rows = max(h, CLASSES)  # R

    @property
    def height(self) -> int:
        return 2 + SAMPLES + 1 + (1 + self.rows + 1) * 2

    @property
    def first_top(self) -> int:
        """0-based row of the first iteration's title."""
        return START_TOP + 1 + self.rows + 1

    def top(self, t: int) -> int:
        return self.first_top + t * self.height

    def sample_row(self, t: int) -> int:
        return self.top(t) + 2

    def grad_row(self, t: int) -> int:
        """0-based first row of iteration t's gradients (below their header row)."""
        return self.top(t) + 2 + SAMPLES + 2

    def new_row(self, t: int) -> int:
        return self.grad_row(t) + self.rows + 2

    def params_row(self, t: int) -> int:
        """0-based first row of the parameters iteration t starts from."""
        return START_TOP + 1 if t == 0 else self.new_row(t - 1)

    @property
    def last_row(self) -> int:
        return self.top(self.p.iterations)

    @cached_property
    def parameter_count(self) -> int:
        h = self.hidden
        return h * INPUTS + h + CLASSES * h + CLASSES

    @property
    def train_cells(self) -> int:
        """Formula cells of the train sheet (the optimizers lesson trains the network too)."""
        h, n = self.hidden, self.parameter_count
        per_sample = 1 + INPUTS + 2 * h + 4 * CLASSES + 4 + CLASSES + 3 * h
        # a title row (loss, objective, accuracy), the samples, the gradients,
        # the new parameters and W2 turned for the next forward pass
        per_iteration = 3 + SAMPLES * per_sample + n + n + h * CLASSES
        return h * CLASSES + self.p.iterations * per_iteration  # and the start's W2 turned

    @property
    def formula_cells(self) -> int:
        h, n = self.hidden, self.parameter_count
        train = self.train_cells
        nudged = 2 * n * (n + SAMPLES * (2 * h + 2 * CLASSES + 3) + 2)  # 2 forward passes each
        gradcheck = 6 * n + 1
        data, progress = 1, 3 * self.p.iterations
        return train + nudged + gradcheck + data + progress
