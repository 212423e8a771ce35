"""graddesc's summary sheet: each optimizer's a, b and error per epoch, and charts."""

from __future__ import annotations

from dataclasses import dataclass

from ...engine import Ref, Role, Workbook
from ...engine.workbook import Chart, Series
from .layout import ERR_COL, NEW_A_COL, NEW_B_COL, OPTIMIZERS, GraddescParams, blocks

RACE = "race_"  # the fair race's sheets: race_basic, race_momentum, ...


@dataclass(frozen=True)
class DataCells:
    """The data sheet's cells others read: the true a and b (absolute), the first x and y."""

    true_a: Ref
    true_b: Ref
    x: Ref
    y: Ref


def _error(wb: Workbook, sheet: str, row: int, col: str) -> Ref:
    """An optimizer sheet's cell by the layout's column letter and 1-based row."""
    return wb[sheet].ref(f"{col}{row}")


def kind(sheet: str) -> str:
    """The optimizer a sheet runs: race_adam runs adam."""
    return sheet.removeprefix(RACE)


def add_race(wb: Workbook, p: GraddescParams) -> Ref:
    """The fair race: every optimizer again, on its race_ sheet, all at one learning rate;
    returns that rate's cell (absolute). `add_race_table` fills it once they exist."""
    s = wb.add_sheet("race")
    s.label("A1", "shared learning rate")
    lr = s.input(
        "C1",
        p.race_lr,
        note="every race_ sheet's learning rate: change it and all of them refit at the new rate",
    )
    s.label(
        "A2",
        "A fair race: the five optimizers of this workbook, each on its race_ sheet, "
        "all at the learning rate in C1 (the other sheets run at their own tuned rates).",
    )
    s.freeze = (4, 1)
    s.width(0, 20.0)
    s.width(1, 16.0, len(OPTIMIZERS))
    return lr.fixed()


def add_race_table(wb: Workbook, p: GraddescParams) -> None:
    """Each race_ sheet's error by epoch, side by side."""
    s = wb["race"]
    s.header("A4", "epoch")
    for j, name in enumerate(OPTIMIZERS):
        s.header((3, 1 + j), f"{name} error")
    for b in blocks(p):
        row = 4 + b.epoch
        s.set((row, 0), float(b.epoch + 1), Role.LABEL)
        for j, name in enumerate(OPTIMIZERS):
            s.formula((row, 1 + j), _error(wb, RACE + name, b.summary, ERR_COL[name]))


def race_chart(p: GraddescParams) -> Chart:
    n = p.epochs
    return Chart(
        "Fair race: every optimizer at one learning rate (race sheet, C1): error by epoch",
        "epoch",
        "error (log scale)",
        [
            Series(name, ("race", 4, 0, 3 + n, 0), ("race", 4, 1 + j, 3 + n, 1 + j))
            for j, name in enumerate(OPTIMIZERS)
        ],
        log_y=True,
    )


def add_summary(wb: Workbook, p: GraddescParams, data: DataCells) -> None:
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
                s.formula((row, 1 + 3 * j + k), _error(wb, name, b.summary, col))
        # adam_ann's rate in the epoch: its input D2, then each state row's annealed one
        s.formula((row, extra), _error(wb, "adam_ann", 2 if b.epoch == 0 else b.state, "D"))
        if p.data is None:
            s.formula((row, extra + 1), data.true_a)
            s.formula((row, extra + 2), data.true_b)
    s.freeze = (1, 1)
    s.width(0, 14.0, extra + 2)
    s.charts.extend(charts(p)[: len(OPTIMIZERS)])


def charts(p: GraddescParams) -> list[Chart]:
    """Each optimizer's error (the summary sheet's), then all of them, a and b (the front's)."""
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
            "All optimizers, each at its own learning rate (0.0001 to 1): error by epoch",
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
