"""graddesc's parameters and row layout, shared by its sheets, summary and reference.

Block layout (1-based rows), epoch e counted from 0, height = rows + 3:
  state row   3 + e*height         carried optimizer state (row 3 = headers in epoch 1)
  data rows   state+1 .. state+rows one SGD step per sample
  summary     state+rows+1         error, carried state (row 33 in the original)
  extra       state+rows+2         adam_ann's gradrat (row 34 in the original)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..engine.address import MAX_ROWS

OPTIMIZERS = ("basic", "momentum", "rmsprop", "adam", "adam_ann")
ORIGINAL_X = (14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9, 38, 44, 99, 13, 21,
              28, 20, 8, 64, 99, 70, 27, 17, 8)  # fmt: skip
DEFAULT_LR = {"basic": 0.0001, "momentum": 0.0001, "rmsprop": 0.02, "adam": 0.1, "adam_ann": 1.0}
DEFAULT_BETA = {"momentum": 0.9, "rmsprop": 0.9, "adam": 0.9, "adam_ann": 0.9}
DEFAULT_BETA2 = {"adam": 0.9, "adam_ann": 0.95}
DATA_FIRST_ROW = 5  # data!B5 holds the first x


@dataclass(frozen=True)
class GraddescParams:
    """The lesson's parameters; the defaults reproduce the original's settings."""

    epochs: int = 60
    rows: int = 29
    seed: int | None = None  # None: the original's x values (seeded randoms beyond 29 rows)
    true_a: float = 2.0
    true_b: float = 30.0
    init_a: float = 1.0
    init_b: float = 1.0
    lr: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LR))
    beta: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_BETA))
    beta2: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_BETA2))
    start_avg: float = 0.0  # moving averages of gradients, after the original's reset
    start_sq: float = 10000.0  # moving averages of squared gradients, likewise
    data: tuple[tuple[float, float], ...] | None = None  # the learner's own (x, y)

    def __post_init__(self) -> None:
        rows = len(self.data) if self.data is not None else self.rows
        if self.data is not None:
            object.__setattr__(self, "rows", rows)
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, not {self.epochs}")
        if rows < 2:
            raise ValueError(f"need at least 2 data rows, not {rows}")
        last = sheet_rows(self.epochs, rows)
        if last > MAX_ROWS:
            raise ValueError(
                f"{self.epochs} epochs of {rows} rows need {last:,} rows per sheet; "
                f"Excel allows {MAX_ROWS:,}: use fewer epochs or rows"
            )
        for kind, values, known in (
            ("lr", self.lr, DEFAULT_LR),
            ("beta", self.beta, DEFAULT_BETA),
            ("beta2", self.beta2, DEFAULT_BETA2),
        ):
            for sheet, value in values.items():
                if sheet not in known:
                    raise ValueError(
                        f"--{kind}: no sheet {sheet!r} takes it (sheets: {', '.join(known)})"
                    )
                if not np.isfinite(value):
                    raise ValueError(f"--{kind} {sheet}={value}: not a finite number")
                if kind == "lr" and value <= 0:
                    raise ValueError(f"--lr {sheet}={value}: a learning rate must be positive")
                if kind != "lr" and not 0 <= value < 1:
                    raise ValueError(f"--{kind} {sheet}={value}: a beta must be in [0, 1)")
        for name in ("true_a", "true_b", "init_a", "init_b", "start_avg", "start_sq"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number")
        if self.start_sq <= 0:
            raise ValueError(
                "the squared averages' start value must be positive (it is divided by)"
            )

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
    if sheet not in OPTIMIZERS or row <= 3:
        return None
    epoch, offset = divmod(row - 3, p.rows + 3)
    where = f"sample {offset}" if 1 <= offset <= p.rows else "its summary"
    return (
        f"{sheet} diverged in epoch {epoch + 1}, {where}: {cell} is {error} "
        f"(try a smaller learning rate than {p.setting('lr', sheet)})"
    )


def blocks(p: GraddescParams) -> list[Block]:
    return [Block(e, p.rows) for e in range(p.epochs)]


# Where each optimizer sheet keeps its results (for the summary sheet and checks).
NEW_B_COL = {"basic": "N", "momentum": "H", "rmsprop": "H", "adam": "H", "adam_ann": "H"}
NEW_A_COL = {"basic": "M", "momentum": "I", "rmsprop": "I", "adam": "I", "adam_ann": "I"}
ERR_COL = {"basic": "F", "momentum": "L", "rmsprop": "L", "adam": "N", "adam_ann": "O"}
