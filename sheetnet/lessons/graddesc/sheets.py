"""graddesc: fitting y = a*x + b with SGD, momentum, RMSProp, Adam and annealed Adam.

The original workbook's cells and formulas sit at the original's addresses for
epoch 1 (rows 4 to 3+rows). Where the original ran more epochs with VBA macros,
the epochs here are unrolled as blocks of rows below the first, each starting
from the previous block's result by formula, so changing a learning rate, a beta
or a starting value recalculates the whole trajectory.
The layout of the blocks and the parameters are in graddesc_layout.py, the
summary sheet and charts in graddesc_summary.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...engine import Expr, If, Paren, Ref, Role, Sheet, Workbook, count, sqrt, sum_, sumsq
from .layout import (
    DATA_FIRST_ROW,
    OPTIMIZERS,
    Block,
    GraddescParams,
    blocks,
    explain_error,
)
from .summary import RACE, DataCells, add_race, add_race_table, add_summary, kind

__all__ = ["OPTIMIZERS", "Block", "GraddescParams", "blocks", "build", "explain_error"]


@dataclass(frozen=True)
class Shared:
    """What an optimizer sheet reads from others: the first data row's x and y (relative,
    so a fill walks the rows), and on a race sheet the race's shared learning rate."""

    x: Ref
    y: Ref
    race_lr: Ref | None = None


def build(p: GraddescParams) -> Workbook:
    wb = Workbook(title="graddesc")
    data = _data(wb, p)
    builders = (_basic, _momentum, _rmsprop, _adam, _adam_ann)
    own = Shared(data.x, data.y)
    for name, builder in zip(OPTIMIZERS, builders):
        s = wb.add_sheet(name)
        builder(s, p, own)
        s.freeze = (3, 0)
    add_summary(wb, p, data)
    race = Shared(data.x, data.y, add_race(wb, p))
    for name, builder in zip(OPTIMIZERS, builders):
        s = wb.add_sheet(RACE + name)
        builder(s, p, race)
        s.freeze = (3, 0)
    add_race_table(wb, p)
    return wb


def _learning_rate(s: Sheet, p: GraddescParams, where: str, shared: Shared) -> None:
    """The sheet's learning rate: its own input, or on a race sheet the shared one."""
    if shared.race_lr is not None:
        s.formula(
            where,
            shared.race_lr,
            note="the race's shared learning rate: change it at race!C1",
        )
    else:
        s.input(where, p.setting("lr", kind(s.name)), note="learning rate")


def _data(wb: Workbook, p: GraddescParams) -> DataCells:
    s = wb.add_sheet("data")
    s.label("A1", "b")
    s.label("B1", "const")
    true_b = s.input("C1", p.true_b, note="the true intercept b").fixed()
    s.label("A2", "a")
    s.label("B2", "slope")
    true_a = s.input("C2", p.true_a, note="the true slope a").fixed()
    cells: list[tuple[Ref, Ref]] = []
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
        x_cell = s.input(f"B{n}", x, note=note)
        if p.data is not None:
            y_cell = s.input(f"C{n}", float(p.data[i][1]), note="y: your data" if i == 0 else None)
        else:
            y_cell = s.formula(
                f"C{n}",
                true_b + x_cell * true_a,
                note="y = b + x*a: change C1, C2 or an x and every sheet follows"
                if i == 0
                else None,
            )
        cells.append((x_cell, y_cell))
    if p.data is not None:
        s.label("E1", "y comes from your data file; C1 and C2 are not used by it.")
    s.freeze = (4, 0)
    s.width("A", 8.0)
    s.width("B", 10.0)
    s.width("C", 12.0)
    return DataCells(true_a, true_b, *cells[0])


def _xy(s: Sheet, p: GraddescParams, shared: Shared) -> None:
    """Every data row's x and y reference the data sheet, filled down each block."""
    for b in blocks(p):
        s.fill("A", b.first, b.last, shared.x)
        s.fill("B", b.first, b.last, shared.y)


def _chain(s: Sheet, b: Block, new_b: str, new_a: str) -> None:
    """Columns C, D (b and a): the block's start, then each row the row above's new b, a."""
    start_b, start_a = _start(s, b, new_b, new_a)
    s.formula(f"C{b.first}", start_b)
    s.formula(f"D{b.first}", start_a)
    s.fill("C", b.first + 1, b.last, s.ref(f"{new_b}{b.first}"))
    s.fill("D", b.first + 1, b.last, s.ref(f"{new_a}{b.first}"))


def _headers(s: Sheet, names: str, row: int = 3) -> None:
    for col, name in enumerate(names.split(",")):
        if name:
            s.header((row - 1, col), name)


def _epoch_rows(s: Sheet, p: GraddescParams, err_col: str) -> None:
    """Each block's label, and its error: the root of the summed squared errors."""
    for b in blocks(p):
        if b.epoch:
            s.label(f"A{b.state}", f"epoch {b.epoch + 1}")
        s.header(f"A{b.summary}", "epoch")
        s.set(f"B{b.summary}", float(b.epoch + 1), Role.LABEL)
        if kind(s.name) != "basic":  # basic's F33 is its own original cell
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


def _basic(s: Sheet, p: GraddescParams, shared: Shared) -> None:
    s.label("B1", "intercept")
    s.input("C1", p.init_b, note="starting b")
    s.label("B2", "slope")
    s.input("C2", p.init_a, note="starting a")
    s.label("E1", "learn")
    _learning_rate(s, p, "F1", shared)
    s.label("I1", "de/db=2(ax+b-y)")
    s.label("H2", "e=(ax+b-y)^2")
    s.label("I2", "de/da=x*2(ax+b-y)")
    _headers(s, "x,y,intercept,slope,y_pred,err^2,errb1,est de/db,erra1,est de/da,de/db,de/da,"
                "new a,new b")  # fmt: skip
    _xy(s, p, shared)
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
    shared: Shared,
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
    _learning_rate(s, p, "D2", shared)
    top(s)
    _headers(s, headers)
    s.header(f"{err_col}3", "err^2")
    _state_rows(s, p, state)
    _xy(s, p, shared)
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
    s.input("J1", p.setting("beta", kind(s.name)), note="beta: weight of the old average")
    s.formula("K1", 1 - s.ref("J1"), note="1 - beta: weight of the new gradient")
    if second:
        s.input("L1", p.setting("beta2", kind(s.name)), note="beta2: for the squared gradients")
        s.formula("M1", 1 - s.ref("L1"), note="1 - beta2")
        s.label("N1", "J1 beta, K1 1-beta, L1 beta2, M1 1-beta2")
    else:
        s.label("L1", "J1 beta, K1 1-beta")
    averages = {
        "momentum": "avg de/db,avg de/da",
        "rmsprop": "avg (de/db)^2,avg (de/da)^2",
    }.get(kind(s.name), "avg de/db,avg de/da,avg (de/db)^2,avg (de/da)^2")
    _headers(s, ",,,,,,,,," + averages, row=2)  # row 3 holds their start values


def _momentum(s: Sheet, p: GraddescParams, shared: Shared) -> None:
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
        shared,
        update,
        {"J": p.start_avg, "K": p.start_avg},
        "L",
        "x,y,b,a,pred,de/db,de/da,new b,new a",
        lambda s: _beta_cells(s, p, False),
    )


def _rmsprop(s: Sheet, p: GraddescParams, shared: Shared) -> None:
    def update(s: Sheet, b: Block, n: int) -> list[Update]:
        C, D, F, G = (s.ref(f"{c}{n}") for c in "CDFG")
        Jp, Kp = s.ref(f"J{n - 1}"), s.ref(f"K{n - 1}")
        quirk = (
            "divides by the square root of the previous row's average (column J, one "
            "row up), not this row's: the original's quirk, kept (textbook RMSProp uses "
            "this row's)"
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
        shared,
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


def _adam(s: Sheet, p: GraddescParams, shared: Shared) -> None:
    state = {"J": p.start_avg, "K": p.start_avg, "L": p.start_sq, "M": p.start_sq}
    _momentum_like(
        s,
        p,
        shared,
        _adam_update(lambda b: s.ref("$D$2")),
        state,
        "N",
        _ADAM_HEADERS,
        lambda s: _beta_cells(s, p, True),
    )


def _adam_ann(s: Sheet, p: GraddescParams, shared: Shared) -> None:
    def lr_of(b: Block) -> Ref:
        return s.ref("$D$2") if b.epoch == 0 else s.ref(f"$D${b.state}")

    state = {"J": p.start_avg, "K": p.start_avg, "L": p.start_sq, "M": p.start_sq}
    _momentum_like(
        s,
        p,
        shared,
        _adam_update(lr_of),
        state,
        "O",
        _ADAM_HEADERS,
        lambda s: _beta_cells(s, p, True),
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
