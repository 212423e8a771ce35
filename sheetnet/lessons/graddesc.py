"""graddesc: fitting y = a*x + b with SGD, momentum, RMSProp, Adam and annealed Adam.

The original workbook's cells and formulas sit at the original's addresses for
epoch 1 (rows 4 to 3+rows). Where the original ran more epochs with VBA macros,
the epochs here are unrolled as blocks of rows below the first, each starting
from the previous block's result by formula, so changing a learning rate, a beta
or a starting value recalculates the whole trajectory.

Block layout (1-based rows), epoch e counted from 0, height = rows + 3:
  state row   3 + e*height         carried optimizer state (row 3 = headers in epoch 1)
  data rows   state+1 .. state+rows one SGD step per sample
  summary     state+rows+1         error, carried state (row 33 in the original)
  extra       state+rows+2         adam_ann's gradrat (row 34 in the original)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..engine import Expr, If, Paren, Ref, Role, Sheet, Workbook, count, sqrt, sum_, sumsq
from ..engine.address import MAX_ROWS
from ..engine.workbook import Chart, Series

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
STATE_COLS = {"basic": "", "momentum": "JK", "rmsprop": "JK", "adam": "JKLM", "adam_ann": "JKLM"}


def build(params: GraddescParams | None = None) -> Workbook:
    p = params or GraddescParams()
    wb = Workbook(title="graddesc")
    _data(wb, p)
    for name, builder in (
        ("basic", _basic),
        ("momentum", _momentum),
        ("rmsprop", _rmsprop),
        ("adam", _adam),
        ("adam_ann", _adam_ann),
    ):
        s = wb.add_sheet(name)
        builder(s, p)
        s.freeze = (3, 0)
    _summary(wb, p)
    return wb


def _data(wb: Workbook, p: GraddescParams) -> None:
    s = wb.add_sheet("data")
    s.label("A1", "b")
    s.label("B1", "const")
    s.input("C1", p.true_b, note="the true intercept b")
    s.label("A2", "a")
    s.label("B2", "slope")
    s.input("C2", p.true_a, note="the true slope a")
    s.header("B4", "x")
    s.header("C4", "y")
    xs = p.x_values()
    for i, x in enumerate(xs):
        n = DATA_FIRST_ROW + i
        note = None
        if i == 0:
            note = (
                "x: your data"
                if p.data is not None
                else "x: seeded random integers (the original used RANDBETWEEN(1,100))"
            )
        s.input(f"B{n}", x, note=note)
        if p.data is not None:
            s.input(f"C{n}", float(p.data[i][1]), note="y: your data" if i == 0 else None)
        else:
            s.formula(
                f"C{n}",
                s.ref("$C$1") + s.ref(f"B{n}") * s.ref("$C$2"),
                note="y = b + x*a: change C1, C2 or an x and every sheet follows"
                if i == 0
                else None,
            )
    if p.data is not None:
        s.label("E1", "y comes from your data file; C1 and C2 are not used by it.")
    s.freeze = (4, 0)
    s.col_widths.update({0: 8.0, 1: 10.0, 2: 12.0})


def _xy(s: Sheet, p: GraddescParams) -> None:
    """Every data row's x and y reference the data sheet, filled down each block."""
    for b in blocks(p):
        s.fill("A", b.first, b.last, Ref("data", DATA_FIRST_ROW - 1, 1))
        s.fill("B", b.first, b.last, Ref("data", DATA_FIRST_ROW - 1, 2))


def _chain(s: Sheet, b: Block, new_b: str, new_a: str) -> None:
    """Columns C, D (b and a): the block's start, then each row the row above's new b, a."""
    start_b, start_a = _start(s, b, new_b, new_a)
    s.formula(f"C{b.first}", start_b)
    s.formula(f"D{b.first}", start_a)
    s.fill("C", b.first + 1, b.last, s.ref(f"{new_b}{b.first}"))
    s.fill("D", b.first + 1, b.last, s.ref(f"{new_a}{b.first}"))


def _headers(s: Sheet, names: str) -> None:
    for col, name in zip("ABCDEFGHIJKLMNOP", names.split(",")):
        if name:
            s.header(f"{col}3", name)


def _epoch_rows(s: Sheet, p: GraddescParams, err_col: str) -> None:
    """Each block's label, and its error: the root of the summed squared errors."""
    for b in blocks(p):
        if b.epoch:
            s.label(f"A{b.state}", f"epoch {b.epoch + 1}")
        s.header(f"A{b.summary}", "epoch")
        s.set(f"B{b.summary}", float(b.epoch + 1), Role.LABEL)
        if s.name != "basic":  # basic's F33 is its own original cell
            s.formula(
                f"{err_col}{b.summary}",
                sqrt(sum_(s.range(f"{err_col}{b.first}:{err_col}{b.last}"))),
            )


def _carry(s: Sheet, p: GraddescParams, cols: str) -> None:
    """Row 33 carries each column's last value; the next block's state row reads it."""
    for b in blocks(p):
        for col in cols:
            note = _CARRY_NOTE if b.epoch == 0 and col == cols[0] else None
            s.formula(f"{col}{b.summary}", s.ref(f"{col}{b.last}"), note=note)


def _start(s: Sheet, b: Block, new_b: str, new_a: str) -> tuple[Ref, Ref]:
    """The b and a a block starts from: the inputs C1, C2, or the previous epoch's result."""
    if b.epoch == 0:
        return s.ref("C1"), s.ref("C2")
    prev = b.summary - (b.rows + 3)
    return s.ref(f"{new_b}{prev}"), s.ref(f"{new_a}{prev}")


def _state_rows(s: Sheet, p: GraddescParams, starts: Mapping[str, float]) -> None:
    """Epoch 1's state row holds inputs (the start state); later ones read row 33."""
    for b in blocks(p):
        for col, start in starts.items():
            if b.epoch == 0:
                s.input(f"{col}3", start, note=_STATE_NOTE if col == "J" else None)
            else:
                s.formula(f"{col}{b.state}", s.ref(f"{col}{b.summary - (b.rows + 3)}"))


Update = tuple[str, Expr, str | None]  # (column, formula in the block's first row, note)

_STATE_NOTE = (
    "state carried in from the previous epoch; in epoch 1 the start state after the "
    "original's reset (change it here)"
)
_CARRY_NOTE = (
    "the next epoch starts from this epoch's last new a and b (the original macro "
    "copied the last row's starting a and b, silently skipping one update per epoch)"
)


def _basic(s: Sheet, p: GraddescParams) -> None:
    s.label("B1", "intercept")
    s.input("C1", p.init_b, note="starting b")
    s.label("B2", "slope")
    s.input("C2", p.init_a, note="starting a")
    s.label("E1", "learn")
    s.input("F1", p.setting("lr", "basic"), note="learning rate")
    s.label("I1", "de/db=2(ax+b-y)")
    s.label("H2", "e=(ax+b-y)^2")
    s.label("I2", "de/da=x*2(ax+b-y)")
    _headers(s, "x,y,intercept,slope,y_pred,err^2,errb1,est de/db,erra1,est de/da,de/db,de/da,"
                "new a,new b")  # fmt: skip
    _xy(s, p)
    lr = s.ref("$F$1")
    for b in blocks(p):
        n, first = b.first, b.epoch == 0  # formulas as written in the block's first row
        A, B, C, D, E, F, G, ERRA1, K, L = (s.ref(f"{c}{n}") for c in "ABCDEFGIKL")
        _chain(s, b, "N", "M")

        def fill(col: str, expr: Expr, note: str | None = None, b: Block = b) -> None:
            s.fill(col, b.first, b.last, expr, note=note)

        fill("E", C + D * A)
        fill("F", (B - E) ** 2)
        fill(
            "G",
            Paren(Paren(Paren(C + 0.01) + A * D) - B) ** 2,
            "error with b nudged by h = 0.01" if first else None,
        )
        fill(
            "H",
            Paren(G - F) / 0.01,
            "finite-difference estimate of de/db: 2(ax+b-y) + h" if first else None,
        )
        fill("I", Paren(Paren(Paren(D + 0.01) * A + C) - B) ** 2)
        fill(
            "J",
            Paren(ERRA1 - F) / 0.01,
            "finite-difference estimate of de/da: x*2(ax+b-y) + h*x^2" if first else None,
        )
        fill("K", 2 * Paren(E - B))
        fill("L", K * A)
        fill("M", D - L * lr)
        fill("N", C - K * lr)
        r = f"{b.first}:{{c}}{b.last}"
        s.label(f"E{b.summary}", "rmse")
        s.formula(
            f"F{b.summary}",
            sqrt(sum_(s.range("F" + r.format(c="F")))),
            note="the original's 'rmse': the root of the summed squared errors, not divided by n"
            if b.epoch == 0
            else None,
        )
        s.formula(f"K{b.summary}", sqrt(sumsq(s.range("K" + r.format(c="K")))))
        s.formula(f"L{b.summary}", sqrt(sumsq(s.range("L" + r.format(c="L")))))
    _carry(s, p, "MN")
    _epoch_rows(s, p, "F")


def _momentum_like(
    s: Sheet,
    p: GraddescParams,
    update: Callable[[Sheet, Block, int], list[Update]],
    state: Mapping[str, float],
    err_col: str,
    headers: str,
    top: Callable[[Sheet], None],
) -> None:
    """What momentum, rmsprop, adam and adam_ann share: top cells, x/y, a/b chain, error."""
    s.label("B1", "b")
    s.input("C1", p.init_b, note="starting b")
    s.label("B2", "a")
    s.input("C2", p.init_a, note="starting a")
    s.label("D1", "learn")
    s.input("D2", p.setting("lr", s.name), note="learning rate")
    top(s)
    _headers(s, headers)
    s.header(f"{err_col}3", "err^2")
    _state_rows(s, p, state)
    _xy(s, p)
    for b in blocks(p):
        n = b.first  # formulas as written in the block's first row, filled down
        A, B, C, D, E, F = (s.ref(f"{c}{n}") for c in "ABCDEF")
        _chain(s, b, "H", "I")
        s.fill("E", n, b.last, C + D * A)
        s.fill("F", n, b.last, 2 * Paren(D * A + C - B))
        s.fill("G", n, b.last, F * A)
        for col, expr, note in update(s, b, n):
            s.fill(col, n, b.last, expr, note=note if b.epoch == 0 else None)
        s.fill(err_col, n, b.last, (B - E) ** 2)
    _carry(s, p, "HI" + "".join(state))
    _epoch_rows(s, p, err_col)


def _beta_cells(s: Sheet, p: GraddescParams, second: bool) -> None:
    s.label("I1", "beta")
    s.input("J1", p.setting("beta", s.name), note="beta: weight of the old average")
    s.formula("K1", 1 - s.ref("J1"))
    if second:
        s.input("L1", p.setting("beta2", s.name), note="beta2: for the squared gradients")
        s.formula("M1", 1 - s.ref("L1"))


def _momentum(s: Sheet, p: GraddescParams) -> None:
    def update(s: Sheet, b: Block, n: int) -> list[Update]:
        C, D, F, G, J, K = (s.ref(f"{c}{n}") for c in "CDFGJK")
        Jp, Kp = s.ref(f"J{n - 1}"), s.ref(f"K{n - 1}")
        return [
            ("J", Jp * s.ref("$J$1") + s.ref("$K$1") * F, None),
            ("K", Kp * s.ref("$J$1") + s.ref("$K$1") * G, None),
            ("H", C - J * s.ref("$D$2"), None),
            ("I", D - K * s.ref("$D$2"), None),
        ]

    _momentum_like(
        s,
        p,
        update,
        {"J": p.start_avg, "K": p.start_avg},
        "L",
        "x,y,b,a,pred,de/db,de/da,new b,new a",
        lambda s: _beta_cells(s, p, False),
    )


def _rmsprop(s: Sheet, p: GraddescParams) -> None:
    def update(s: Sheet, b: Block, n: int) -> list[Update]:
        C, D, F, G = (s.ref(f"{c}{n}") for c in "CDFG")
        Jp, Kp = s.ref(f"J{n - 1}"), s.ref(f"K{n - 1}")
        quirk = (
            "divides by the previous row's average, J p, not this row's: the "
            "original's quirk, kept (textbook RMSProp uses this row's)"
        )
        return [
            ("J", Jp * s.ref("$J$1") + s.ref("$K$1") * F**2, None),
            ("K", Kp * s.ref("$J$1") + s.ref("$K$1") * G**2, None),
            ("H", C - F * s.ref("$D$2") / sqrt(Jp), quirk),
            ("I", D - G * s.ref("$D$2") / sqrt(Kp), None),
        ]

    _momentum_like(
        s,
        p,
        update,
        {"J": p.start_sq, "K": p.start_sq},
        "L",
        "x,y,b,a,pred,de/db,de/da,new b,new a",
        lambda s: _beta_cells(s, p, False),
    )


def _adam_update(lr_of: Callable[[Block], Ref]) -> Callable[[Sheet, Block, int], list[Update]]:
    def update(s: Sheet, b: Block, n: int) -> list[Update]:
        C, D, F, G, J, K, L, M = (s.ref(f"{c}{n}") for c in "CDFGJKLM")
        quirk = "Adam as the original writes it: no bias correction and no epsilon"
        return [
            ("J", s.ref(f"J{n - 1}") * s.ref("$J$1") + s.ref("$K$1") * F, None),
            ("K", s.ref(f"K{n - 1}") * s.ref("$J$1") + s.ref("$K$1") * G, None),
            ("L", s.ref(f"L{n - 1}") * s.ref("$L$1") + s.ref("$M$1") * F**2, None),
            ("M", s.ref(f"M{n - 1}") * s.ref("$L$1") + s.ref("$M$1") * G**2, None),
            ("H", C - J * lr_of(b) / sqrt(L), quirk),
            ("I", D - K * lr_of(b) / sqrt(M), None),
        ]

    return update


_ADAM_HEADERS = "x,y,b,a,pred,de/db,de/da,new b,new a"


def _adam(s: Sheet, p: GraddescParams) -> None:
    state = {"J": p.start_avg, "K": p.start_avg, "L": p.start_sq, "M": p.start_sq}
    _momentum_like(
        s,
        p,
        _adam_update(lambda b: s.ref("$D$2")),
        state,
        "N",
        _ADAM_HEADERS,
        lambda s: _beta_cells(s, p, True),
    )


def _adam_ann(s: Sheet, p: GraddescParams) -> None:
    def lr_of(b: Block) -> Ref:
        return s.ref("$D$2") if b.epoch == 0 else s.ref(f"$D${b.state}")

    state = {"J": p.start_avg, "K": p.start_avg, "L": p.start_sq, "M": p.start_sq}
    _momentum_like(
        s, p, _adam_update(lr_of), state, "O", _ADAM_HEADERS, lambda s: _beta_cells(s, p, True)
    )
    s.header("N3", "prev_grad2")
    for b in blocks(p):
        f, g = f"F{b.first}:F{b.last}", f"G{b.first}:G{b.last}"
        s.formula(f"F{b.summary}", sqrt(sumsq(s.range(f))) / count(s.range(f)))
        s.formula(f"G{b.summary}", sqrt(sumsq(s.range(g))) / count(s.range(g)))
        s.formula(
            f"N{b.summary}",
            sqrt(s.ref(f"L{b.summary}")) + sqrt(s.ref(f"M{b.summary}")),
            note="avg_grad2: SQRT of the end-of-epoch squared averages, summed"
            if b.epoch == 0
            else None,
        )
        s.label(f"M{b.extra}", "gradrat")
        s.formula(
            f"N{b.extra}",
            s.ref(f"N{b.summary}") / s.ref(f"N{b.state}"),
            note="gradrat = avg_grad2 / prev_grad2; above 2, the next epoch's "
            "learning rate is divided by 4"
            if b.epoch == 0
            else None,
        )
        if b.epoch == 0:
            s.formula(
                "N3",
                s.ref("N" + str(b.summary)),
                note="prev_grad2, the lowest avg_grad2 so far: epoch 1 starts from "
                "its own, so gradrat after epoch 1 is 1",
            )
            continue
        prev = Block(b.epoch - 1, b.rows)
        prev_lr = s.ref("D2") if prev.epoch == 0 else s.ref(f"D{prev.state}")
        s.label(f"C{b.state}", "learn")
        s.formula(
            f"D{b.state}",
            If(s.ref(f"N{prev.extra}") > 2, prev_lr / 4, prev_lr),
            note="annealing: the learning rate is divided by 4 when the last "
            "epoch's gradrat was above 2"
            if b.epoch == 1
            else None,
        )
        s.formula(
            f"N{b.state}",
            If(
                s.ref(f"N{prev.summary}") < s.ref(f"N{prev.state}"),
                s.ref(f"N{prev.summary}"),
                s.ref(f"N{prev.state}"),
            ),
            note="prev_grad2 lowered to avg_grad2 when that is smaller" if b.epoch == 1 else None,
        )


def _summary(wb: Workbook, p: GraddescParams) -> None:
    """One row per epoch: each optimizer's a, b and error, by formula."""
    s = wb.add_sheet("summary")
    s.header("A1", "epoch")
    for j, name in enumerate(OPTIMIZERS):
        for k, what in enumerate(("a", "b", "error")):
            s.header((0, 1 + 3 * j + k), f"{name} {what}")
    extra = 1 + 3 * len(OPTIMIZERS) + 1  # one empty column, then extras
    s.header((0, extra), "adam_ann lr")
    if p.data is None:
        s.header((0, extra + 1), "true a")
        s.header((0, extra + 2), "true b")
    for b in blocks(p):
        row = b.epoch + 1
        s.set((row, 0), float(b.epoch + 1), Role.LABEL)
        for j, name in enumerate(OPTIMIZERS):
            cols = (NEW_A_COL[name], NEW_B_COL[name], ERR_COL[name])
            for k, col in enumerate(cols):
                s.formula((row, 1 + 3 * j + k), Ref(name, b.summary - 1, _col(col)))
        lr_row = 1 if b.epoch == 0 else b.state - 1
        s.formula((row, extra), Ref("adam_ann", lr_row, 3))
        if p.data is None:
            s.formula((row, extra + 1), Ref("data", 1, 2, True, True))
            s.formula((row, extra + 2), Ref("data", 0, 2, True, True))
    s.freeze = (1, 1)
    for c in range(extra + 3):
        s.col_widths[c] = 14.0
    s.charts.extend(_charts(p))


def _col(letter: str) -> int:
    return ord(letter) - 65


def _charts(p: GraddescParams) -> list[Chart]:
    n = p.epochs
    cats = ("summary", 1, 0, n, 0)
    charts = []
    for j, name in enumerate(OPTIMIZERS):
        col = 1 + 3 * j + 2
        charts.append(
            Chart(
                f"{name}: error by epoch",
                "epoch",
                "error (log scale)",
                [Series(f"{name} error", cats, ("summary", 1, col, n, col))],
                log_y=True,
            )
        )
    charts.append(
        Chart(
            "All optimizers: error by epoch",
            "epoch",
            "error (log scale)",
            [
                Series(name, cats, ("summary", 1, 1 + 3 * j + 2, n, 1 + 3 * j + 2))
                for j, name in enumerate(OPTIMIZERS)
            ],
            log_y=True,
        )
    )
    for k, what in enumerate(("a", "b")):
        series = [
            Series(f"{name} {what}", cats, ("summary", 1, 1 + 3 * j + k, n, 1 + 3 * j + k))
            for j, name in enumerate(OPTIMIZERS)
        ]
        if p.data is None:
            true_col = 1 + 3 * len(OPTIMIZERS) + 2 + k
            series.append(Series(f"true {what}", cats, ("summary", 1, true_col, n, true_col)))
        charts.append(Chart(f"{what} approaching the true value", "epoch", what, series))
    return charts
