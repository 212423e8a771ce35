"""graddesc: fitting y = a*x + b with SGD, momentum, RMSProp, Adam and annealed Adam."""

from __future__ import annotations

from typing import Any

from ...engine import address
from ..contract import DataRegion, Exercise, KeyResult, Lesson, LossSeries, reference
from ..kit import Front
from .layout import (
    DATA_FIRST_ROW,
    OPTIMIZERS,
    RACE_TABLE_TOP,
    SUMMARY_TOP,
    GraddescParams,
    blocks,
    explain_error,
    race_table_col,
    summary_col,
)
from .sheets import build
from .summary import charts, race_chart

__all__ = ["LESSON", "OPTIMIZERS", "GraddescParams", "blocks", "build"]


def key_results(p: GraddescParams) -> list[KeyResult]:
    """Each optimizer's final a, b and error: the summary sheet's last row."""
    last = SUMMARY_TOP + p.epochs - 1
    return [
        KeyResult(f"{name} {what}", "summary", address.render(last, summary_col(j, k)))
        for j, name in enumerate(OPTIMIZERS)
        for k, what in enumerate(("a", "b", "error"))
    ]


def losses(p: GraddescParams) -> dict[str, LossSeries]:
    """Each optimizer's error per epoch: at its own rate (summary), at the race's."""
    out = {}
    for j, name in enumerate(OPTIMIZERS):
        own = [address.render(SUMMARY_TOP + b.epoch, summary_col(j, 2)) for b in blocks(p)]
        race = [address.render(RACE_TABLE_TOP + b.epoch, race_table_col(j)) for b in blocks(p)]
        out[name] = LossSeries([("summary", a1) for a1 in own], option=f"--lr {name}=...")
        out[f"race_{name}"] = LossSeries([("race", a1) for a1 in race], option="--race-lr")
    return out


def front(p: GraddescParams) -> Front:
    return Front(
        "Gradient descent fitting y = a*x + b, five ways (fast.ai's graddesc.xlsm)",
        [
            f"Each optimizer sheet learns a and b from the data sheet's points, one SGD step "
            f"per row, {p.epochs} epochs unrolled as blocks of rows.",
            "basic is plain SGD (with finite-difference estimates of the gradient); momentum, "
            "rmsprop, adam and adam_ann (Adam with annealing) follow the original's formulas, "
            "quirks included (see the notes on the sheets).",
            "The chart of all optimizers compares sheets that run at different learning "
            "rates (0.0001 to 1), as the original does: it is not a fair race. The race "
            "sheets are: every optimizer again, all at the one learning rate in race!C1.",
        ],
        [
            "data!C1 and C2 are the true b and a; change them and every sheet refits.",
            "Each sheet's learning rate: basic!F1, and D2 on the others; the betas in J1 and L1.",
            "The summary sheet has a, b and the error of every optimizer per epoch.",
            "race!C1 is the race's shared learning rate: try 0.01 or 0.00001.",
        ],
        [*charts(p)[len(OPTIMIZERS) :], race_chart(p)],
    )


def examples() -> list[GraddescParams]:
    return [
        GraddescParams(epochs=2, rows=5),
        GraddescParams(epochs=3, rows=4, seed=3, lr={"adam": 0.05}, beta={"momentum": 0.8}),
        GraddescParams(epochs=2, data=((1.0, 3.0), (2.0, 5.5), (4.0, 9.0))),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    def settings(draw: Any, low: float, high: float, sheets: tuple[str, ...]) -> dict:
        chosen = draw(st.lists(st.sampled_from(sheets), unique=True))
        return {s: draw(st.floats(low, high)) for s in chosen}

    @st.composite
    def params(draw: Any) -> GraddescParams:
        return GraddescParams(
            epochs=draw(st.integers(1, 4)),
            rows=draw(st.integers(2, 12)),
            seed=draw(st.one_of(st.none(), st.integers(0, 2**32 - 1))),
            true_a=draw(st.floats(-5, 5)),
            true_b=draw(st.floats(-50, 50)),
            init_a=draw(st.floats(-5, 5)),
            init_b=draw(st.floats(-5, 5)),
            lr=settings(draw, 1e-6, 2.0, OPTIMIZERS),
            beta=settings(draw, 0.0, 0.99, ("momentum", "rmsprop", "adam", "adam_ann")),
            beta2=settings(draw, 0.0, 0.99, ("adam", "adam_ann")),
            start_sq=draw(st.floats(1.0, 1e5)),
        )

    return params()


EXERCISES = (
    Exercise(
        "prediction", "basic", "y_pred",
        "E4: the prediction b + a*x from C4 (b), D4 (a) and A4 (x); fill it down the column",
        "the intercept is C, the slope D, x is A", "a linear model's prediction", 1,
        also=("pred",),
    ),
    Exercise(
        "gradient", "basic", "de/da",
        "L4: de/da, the gradient of (ax+b-y)^2 with respect to a; fill it down the column",
        "by the chain rule: 2(ax+b-y) times x, and 2(ax+b-y) is de/db in K4",
        "the gradient of the squared error", 2,
    ),
    Exercise(
        "momentum", "momentum", "avg de/db",
        "J4: the running average of de/db: beta ($J$1) times J3 plus (1-beta) ($K$1) times "
        "F4; fill right to K4 (de/da's average) and down",
        "keep $J$1 and $K$1 absolute, J3 relative: each row averages into the row above",
        "momentum: an exponentially weighted average of gradients", 3,
    ),
)  # fmt: skip

LESSON = Lesson(
    exercises=EXERCISES,
    name="graddesc",
    filename="graddesc.xlsx",
    summary="SGD, momentum, RMSProp, Adam and annealed Adam fitting y = ax + b (graddesc.xlsm)",
    params=GraddescParams,
    sheets=build,
    reference=reference("graddesc"),
    key_results=key_results,
    losses=losses,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--epochs", "0"), "--epochs: must be at least 1"),
        (("--lr", "adam=-1"), "a learning rate must be positive"),
        (("--beta", "momentum=1.5"), "a beta must be in [0, 1)"),
        (("--rows", "2", "--epochs", "400000"), "Excel allows"),
        (("--epochs", "2000"), "formula cells; at most 5,000,000"),
    ),
    data_regions=(
        DataRegion(
            "data",
            "data",
            DATA_FIRST_ROW - 1,
            1,
            cells=lambda pairs: [list(pair) for pair in pairs],
            value=lambda rows: tuple((float(x), float(y)) for x, y in rows),
        ),
    ),
    explain_error=explain_error,
)
