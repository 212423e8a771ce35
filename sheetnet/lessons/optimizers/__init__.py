"""optimizers: torch.optim's optimizers on graddesc's line, weight decay, and the
learning-rate tricks of fast.ai lesson 5 (lr_find, 1cycle, discriminative rates)."""

from __future__ import annotations

from typing import Any

from ...engine import NA, address
from ..contract import DataRegion, Exercise, KeyResult, Lesson, LossSeries, reference
from ..kit import Front
from .layout import (
    DATA_FIRST_ROW,
    OPTIMIZERS,
    RACE_TOP,
    RUN_TOP,
    SUGGESTED_LR,
    OptimizersParams,
    iterations_per_epoch,
    one_cycle_loss_col,
    race_col,
)
from .sheets import build, charts

__all__ = ["LESSON", "OptimizersParams"]


def key_results(p: OptimizersParams) -> list[KeyResult]:
    last = RACE_TOP + p.iterations - 1  # race: the last step's row (0-based)
    out = [
        KeyResult(f"{name}: last batch loss, {rate} lr", "race", address.render(last, col))
        for rate, shared in (("own", False), ("shared", True))
        for j, name in enumerate(OPTIMIZERS)
        for col in [race_col(j, shared)]
    ]
    one_cycle = address.render(RUN_TOP + p.iterations - 1, one_cycle_loss_col(p))
    out += [
        KeyResult("lr_find: suggested learning rate", "lr_find", SUGGESTED_LR, "0.00E+00"),
        KeyResult("one_cycle: last batch loss", "one_cycle", one_cycle),
    ]
    return out


def losses(p: OptimizersParams) -> dict[str, LossSeries]:
    """Each run's batch losses on the race sheet, judged an epoch of steps at a time."""
    epoch = max(1, p.rows // p.batch_size)
    rows = range(RACE_TOP, RACE_TOP + p.iterations)
    out = {}
    for j, name in enumerate(OPTIMIZERS):
        for shared, option in ((False, f"--lr {name}=..."), (True, "--shared-lr")):
            cells = [("race", address.render(r, race_col(j, shared))) for r in rows]
            rate = "shared" if shared else "own"
            out[f"{name} ({rate} rate)"] = LossSeries(cells, epoch, option)
    return out


def explain_error(
    p: OptimizersParams, sheet: str, row: int, cell: str, error: object
) -> str | None:
    """Where a run first broke down; lr_find's #N/A after its stop is meant (a chart gap)."""
    if sheet == "lr_find" and error == NA:
        return None
    if sheet in OPTIMIZERS:
        return (
            f"{sheet} diverged at step {row - RUN_TOP}: {cell} is {error} (try a smaller "
            f"learning rate: {sheet}!B1 for the left run, race!C1 for the right)"
        )
    return None if sheet in ("race", "front") else f"{cell} is {error}"


def front(p: OptimizersParams) -> Front:
    return Front(
        "Optimizers as PyTorch runs them, weight decay, and the learning-rate tricks of "
        "fast.ai lesson 5",
        [
            f"Every optimizer of torch.optim fits y = a*x + b to graddesc's points, "
            f"{p.batch_size} points per step, {p.iterations} steps: sgd, momentum, nesterov, "
            "rmsprop, adam (bias correction and eps in their own columns) and adamw "
            "(decoupled weight decay, beside adam's L2).",
            "Each optimizer sheet runs twice: at its own tuned rate and at one shared rate "
            "(race!C1), a fair race.",
            "In that race Adam and RMSprop sit flat near the starting loss: they move each "
            "weight by about the rate per step,",
            "whatever the gradient, and a rate small enough for sgd is a crawl for them (not "
            "a worse method: the wrong rate for it).",
            f"batch_size trains one line {p.batch_epochs} epochs three ways: an epoch is one "
            f"pass over the {p.rows} points, an iteration one step, so batches of 1 make "
            f"{iterations_per_epoch(p, 1)} iterations an epoch,",
            f"batches of {p.batch_size} make {iterations_per_epoch(p, p.batch_size)} and the "
            "whole set 1 (the lesson's 50,000 images in batches of 100: 500).",
            "ema_bias shows why Adam corrects its averages; lr_find finds a rate; one_cycle "
            "anneals rate and momentum;",
            "discriminative gives each layer group its own rate.",
        ],
        [
            "race!C1 is the shared learning rate: try 0.001 or 0.1 and watch the first chart.",
            "Each optimizer sheet's B1 is its own rate, row 2 its settings (momentum, betas, "
            "eps, wd: set adam's and adamw's wd to 0 and the two agree).",
            "lr_find!B1 and D1 bound the finder's range; one_cycle!B1 is lr_max; "
            "discriminative!B1 and D1 are slice(a, b).",
            "batch_size!C1 is its learning rate: above 1e-4 SGD's single points (x near 100) "
            "overshoot, while the whole set still converges.",
        ],
        charts(p),
    )


def examples() -> list[OptimizersParams]:
    return [
        OptimizersParams(iterations=6, batch_size=3),
        OptimizersParams(iterations=5, batch_size=29, wd=0.1, lr={"adam": 0.3}, shared_lr=0.001),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    return st.builds(
        OptimizersParams,
        iterations=st.integers(4, 12),
        batch_size=st.integers(1, 29),
        shared_lr=st.floats(1e-6, 1e-3),
        wd=st.floats(0.0, 0.1),
        lr_max=st.floats(1e-3, 2.0),
        init_a=st.floats(-5, 5),
        init_b=st.floats(-5, 5),
    )


EXERCISES = (
    Exercise(
        "bias_correction", "adam", "1 - beta1^t",
        "R6: Adam's bias correction 1 - beta1^t (beta1 in $D$2, the step t in $A6); fill down",
        "keep $D$2 absolute and the step's column $A", "why Adam divides by 1 - beta^t", 1,
    ),
    Exercise(
        "corrected_mean", "adam", "m̂ a",
        "T6: the bias-corrected first moment, m (N6) divided by 1 - beta1^t (R6); fill down",
        "m̂ = m / (1 - beta1^t)", "Adam's corrected average of gradients", 2,
    ),
    Exercise(
        "step", "adam", "new a",
        "X6: Adam's step for a, as torch writes it: B6 - $B$1/R6*N6/(sqrt(O6)/sqrt(S6) + "
        "$H$2), the rate over 1-beta1^t times m over the corrected root of v plus epsilon; "
        "fill down (and likewise the second run's first cell)",
        "keep the rate and epsilon fixed ($B$1, $H$2); SQRT for the roots", "Adam's update", 3,
    ),
)  # fmt: skip

LESSON = Lesson(
    exercises=EXERCISES,
    name="optimizers",
    filename="optimizers.xlsx",
    summary="torch.optim's optimizers, weight decay, lr_find, 1cycle and discriminative rates",
    params=OptimizersParams,
    sheets=build,
    reference=reference("optimizers"),
    key_results=key_results,
    losses=losses,
    examples=examples,
    strategy=strategy,
    front=front,
    explain_error=explain_error,
    bad_options=(
        (("--iterations", "2"), "--iterations: must be at least 4"),
        (("--batch-size", "0"), "--batch-size: must be at least 1"),
        (("--batch-size", "30"), "more than the 29 points"),
        (("--lr", "adam=-1"), "a learning rate must be positive"),
        (("--lr", "lion=0.1"), "no sheet 'lion'"),
        (("--shared-lr", "0"), "--shared-lr: must be positive"),
        (("--wd", "-1"), "--wd: must not be negative"),
        (("--iterations", "50000"), "at most 20,000"),
    ),
    data_regions=(
        DataRegion(
            "data",
            "data",
            DATA_FIRST_ROW,
            1,
            cells=lambda pairs: [list(pair) for pair in pairs],
            value=lambda rows: tuple((float(x), float(y)) for x, y in rows),
        ),
    ),
)
