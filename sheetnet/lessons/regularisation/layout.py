"""The regularisation lesson's parameters, its data, and where every cell sits.

Sheet `data`: the learning rate (C2); the training samples (x, y: inputs), their
Legendre polynomials P1..Pd (each from the two before it) and the features
Fk = Pk * SQRT(2k+1); the validation samples the same way; the training features
turned (one row per feature) so a gradient is a SUMPRODUCT of two rows.

A run sheet (one per fit: no decay, a good decay, too much, a low degree), zero-based
rows: the weight decay on row 0 (C1), column headers on row RUN_TOP - 1, then one row
per step t = 0..steps: the weights w0..wD it starts from (row 0: the yellow start),
its losses and weights' size, the gradient of the mean squared error, the step written
the second way (decoupled) and its difference from the next row's weights (the L2
way), then the residuals of the training and the validation samples.

Sheet `curves`: a dense grid of x, the true curve, the grid's features and every
run's fitted curve. Sheet `summary`: each run's final losses and weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...engine.address import MAX_ROWS
from ..contract import (
    DEFAULT_MAX_FORMULA_CELLS,
    INT,
    LessonParams,
    ParamError,
    at_least,
    non_negative,
    param,
    positive,
    seed_range,
)

VALID = 30  # validation samples
GRID = 81  # points of the dense grid the curves are drawn on (x from -1 to 1 by 0.025)
MAX_DEGREE = 20  # features a learner can still read across
MAX_SAMPLES = 200
LR_CELL = "C2"  # data: the learning rate
DATA_TOP = 4  # data: the first training sample (0-based row); headers on the row above
RUN_TOP = 4  # a run sheet: step 0's row (0-based); headers on the row above
GRID_TOP = 3  # curves: the first grid point (0-based row)
SUMMARY_TOP = 3  # summary: the first run's row of the results table (0-based)
# summary: the results table's columns after the run's name, each a run sheet's cell
SUMMARY = ("weight decay", "train loss", "validation loss", "sum of w²", "largest |L2 - decoupled|")


def true_curve(x: np.ndarray) -> np.ndarray:
    """The smooth curve the samples are noisy readings of: cos(pi x)."""
    return np.cos(np.pi * x)


@dataclass(frozen=True)
class RegularisationParams(LessonParams):
    """Defaults measured so the story holds: degree 9 without weight decay overfits
    (training loss near 0, validation loss about 3x the good run's), wd 2 underfits,
    and degree 9 with wd 0.2 beats degree 3 without weight decay on validation."""

    degree: int = param(9, kind=INT, check=at_least(1), help="degree of the big polynomial")
    low_degree: int = param(
        3, kind=INT, check=at_least(1), help="degree of the small polynomial (no weight decay)"
    )
    samples: int = param(12, kind=INT, check=at_least(2), help="noisy training samples")
    noise: float = param(0.25, check=non_negative, help="standard deviation of the samples' noise")
    steps: int = param(
        300, kind=INT, check=at_least(1), help="steps of full-batch gradient descent"
    )
    lr: float = param(0.05, check=positive, help="learning rate")
    good_wd: float = param(0.2, check=non_negative, help="weight decay of the good run")
    big_wd: float = param(2.0, check=non_negative, help="weight decay of the too-much run")
    seed: int = param(4, kind=INT, check=seed_range, help="seed of the samples and their noise")

    MAX_FORMULA_CELLS: ClassVar[int] = DEFAULT_MAX_FORMULA_CELLS
    SIZE_OPTION: ClassVar[str] = "steps"
    SIZE_ADVICE: ClassVar[str] = "use fewer steps"

    def check(self) -> None:
        if self.degree > MAX_DEGREE:
            raise ParamError("degree", f"at most {MAX_DEGREE}, not {self.degree}")
        if self.low_degree >= self.degree:
            raise ParamError(
                "low_degree", f"must be below --degree ({self.degree}), not {self.low_degree}"
            )
        if self.samples > MAX_SAMPLES:
            raise ParamError("samples", f"at most {MAX_SAMPLES}, not {self.samples}")
        lay = Layout(self)
        if lay.last_row >= MAX_ROWS:
            raise ParamError("steps", f"at most {MAX_ROWS - RUN_TOP - 1:,} rows fit a sheet")

    def formula_cells(self) -> int:
        return Layout(self).formula_cells()


@dataclass(frozen=True)
class Run:
    """One fit: its sheet, its degree and the weight decay it starts with."""

    sheet: str
    title: str
    degree: int
    wd: float


RUN_SHEETS = ("no_decay", "good_decay", "big_decay", "low_degree")


def runs(p: RegularisationParams) -> list[Run]:
    return [
        Run("no_decay", f"degree {p.degree}, no weight decay", p.degree, 0.0),
        Run("good_decay", f"degree {p.degree}, good weight decay", p.degree, p.good_wd),
        Run("big_decay", f"degree {p.degree}, too much weight decay", p.degree, p.big_wd),
        Run("low_degree", f"degree {p.low_degree}, no weight decay", p.low_degree, 0.0),
    ]


def samples(p: RegularisationParams) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y) of the training samples and of the validation samples, as the sheet holds
    them: training x spread evenly over [-1, 1] with a jitter, validation x uniform,
    x with two decimals and y = cos(pi x) + noise with three."""
    rng = np.random.default_rng([p.seed, 24])
    n = p.samples
    spacing = 2.0 / (n - 1)
    x = np.linspace(-1.0, 1.0, n) + rng.uniform(-0.5, 0.5, n) * spacing
    x = np.round(np.clip(x, -1.0, 1.0), 2) + 0.0  # + 0.0: no -0.0
    y = np.round(true_curve(x) + rng.normal(0.0, p.noise, n), 3) + 0.0
    xv = np.round(rng.uniform(-1.0, 1.0, VALID), 2) + 0.0
    yv = np.round(true_curve(xv) + rng.normal(0.0, p.noise, VALID), 3) + 0.0
    return x, y, xv, yv


def grid() -> np.ndarray:
    """The dense grid's x, as its formulas compute them: -1 + 2*i/(GRID-1)."""
    return np.array([-1.0 + 2.0 * i / (GRID - 1) for i in range(GRID)])


def legendre(x: np.ndarray, degree: int) -> np.ndarray:
    """(len(x), degree) Legendre polynomials P1..Pd by the recurrence, in the sheet's
    order: P1 = x, P2 = (3*x*P1 - 1)/2, Pk = ((2k-1)*x*P(k-1) - (k-1)*P(k-2))/k."""
    out = np.zeros((len(x), degree))
    out[:, 0] = x
    for k in range(2, degree + 1):
        before = out[:, k - 3] if k > 2 else 1.0
        out[:, k - 1] = ((2 * k - 1) * x * out[:, k - 2] - (k - 1) * before) / k
    return out


def scales(degree: int) -> np.ndarray:
    """SQRT(2k+1) for k = 1..d: each feature's mean square over [-1, 1] becomes 1."""
    return np.array([math.sqrt(2 * k + 1) for k in range(1, degree + 1)])


class Layout:
    """Columns of the sheets, 0-based, by name: `col[name]` is a block's first column."""

    def __init__(self, p: RegularisationParams) -> None:
        self.p = p
        d = p.degree
        # data: sample, x, y, P1..Pd, a gap, F1..Fd
        self.data = {"sample": 0, "x": 1, "y": 2, "p": 3, "f": 4 + d, "turned": 1}
        self.train_top = DATA_TOP
        self.valid_top = DATA_TOP + p.samples + 3  # a gap, a title, the headers
        self.turned_top = self.valid_top + VALID + 3  # features turned: one row per feature
        # curves: x, true curve, P1..Pd, F1..Fd, then one fitted curve per run
        self.curves = {"x": 0, "true": 1, "p": 2, "f": 2 + d, "fit": 2 + 2 * d}
        # summary: the results table, the verdict row below it, the final weights below that
        self.summary = {"run": 0} | {name: 1 + j for j, name in enumerate(SUMMARY)}
        self.verdict_row = SUMMARY_TOP + len(RUN_SHEETS) + 1  # in the validation loss column
        self.weights_top = self.verdict_row + 3
        self.weights = {"k": 0, "run": 1}  # final weights: k, then one column per run

    def col(self, degree: int) -> dict[str, int]:
        """A run sheet's columns for a polynomial of `degree` (degree + 1 weights)."""
        n = degree + 1
        cols = {"step": 0, "w": 1}
        cols["train_loss"] = 1 + n
        cols["valid_loss"] = cols["train_loss"] + 1
        cols["size"] = cols["valid_loss"] + 1
        cols["objective"] = cols["size"] + 1
        cols["grad"] = cols["objective"] + 1
        cols["decoupled"] = cols["grad"] + n
        cols["diff"] = cols["decoupled"] + n
        cols["r"] = cols["diff"] + n
        cols["v"] = cols["r"] + self.p.samples
        cols["end"] = cols["v"] + VALID
        return cols

    def row(self, t: int) -> int:
        """A run sheet's 0-based row of step t (t = 0..steps)."""
        return RUN_TOP + t

    @property
    def last_row(self) -> int:
        return self.row(self.p.steps)

    @property
    def width(self) -> int:
        """Columns in use on the widest sheet."""
        d = self.p.degree
        return max(self.col(d)["end"], self.data["f"] + d, 1 + self.p.samples)

    def run_cells(self, degree: int) -> int:
        n, s = degree + 1, self.p.steps
        per_row = 4 + self.p.samples + VALID  # losses, size, objective, residuals
        return s * n + (s + 1) * per_row + s * 3 * n  # weights after step 0, rows, the step

    def formula_cells(self) -> int:
        p, d = self.p, self.p.degree
        data = 2 * d * (p.samples + VALID) + d * p.samples
        curves = GRID * (2 + 2 * d + 4)
        summary = len(SUMMARY) * 4 + 3 * (d + 1) + (p.low_degree + 1) + 1
        big = 3 * self.run_cells(d) + self.run_cells(p.low_degree)
        return data + curves + summary + big
