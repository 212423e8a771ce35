"""regularisation: bias and variance, and weight decay two ways, on a polynomial fitted
to a dozen noisy samples by gradient descent (fast.ai lesson 5, issue 24)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...engine import address
from ..contract import Exercise, KeyResult, Lesson, LossSeries, reference
from ..kit import Front
from .layout import Layout, RegularisationParams, runs
from .sheets import build, charts

__all__ = ["LESSON", "RegularisationParams", "build"]


def key_results(p: RegularisationParams) -> list[KeyResult]:
    """Each run's last losses, from the run sheets' named columns, and the summary's verdict."""
    lay = Layout(p)
    last = lay.row(p.steps)
    out = []
    for name, what, chosen in (("valid_loss", "validation", runs(p)),
                               ("train_loss", "training", runs(p)[:3])):  # fmt: skip
        for run in chosen:
            where = address.render(last, lay.col(run.degree)[name])
            out.append(KeyResult(f"{what} loss: {run.title}", run.sheet, where))
    low = runs(p)[3]
    verdict = address.render(lay.verdict_row, lay.summary["validation loss"])
    label = f"validation: degree {low.degree} minus good decay"  # above 0: decay wins
    out.append(KeyResult(label, "summary", verdict))
    return out


def front(p: RegularisationParams) -> Front:
    return Front(
        "Weight decay: bias, variance and a polynomial that bends too far (fast.ai lesson 5)",
        [
            f"{p.samples} noisy samples of cos(πx), fitted by a polynomial of degree {p.degree} "
            f"({p.steps} steps of gradient descent on the mean squared error) three times:",
            f"no weight decay (it bends through the noise), wd {p.good_wd:g}, and wd "
            f"{p.big_wd:g} (too flat); beside them degree {p.low_degree} without weight decay.",
            "The features are Legendre polynomials P1..Pd scaled to mean square 1 (data): "
            "x, x², ..., x^d look so alike that",
            "gradient descent would need millions of steps to tell them apart; the Pk span the "
            "same polynomials and it needs a few hundred.",
            "Weight decay adds wd·(sum of w²) to the loss, so each step adds 2·wd·w to the "
            "gradient. The same step written another way",
            "shrinks the weights by (1 - lr·2·wd), then steps: each run sheet computes both "
            "and their difference (0 but rounding).",
            "For Adam the two ways differ: that is AdamW (see the optimizers workbook).",
            "The key results below are the workbook's own formulas: each run's losses, and "
            f"degree {p.low_degree}'s validation loss minus the wd {p.good_wd:g} run's",
            "(above 0: many parameters with weight decay beat few without; with other "
            "samples, --seed, it can go the other way).",
        ],
        [
            "good_decay!C1 is the good run's weight decay: try 0.02 or 0.5 and watch the curves.",
            "data!C2 is the learning rate; data's yellow y cells are the noisy samples.",
            "no_decay!C1: give the unregularised run a little decay (0.05) and compare.",
        ],
        charts(p),
    )


def losses(p: RegularisationParams) -> dict[str, LossSeries]:
    """Each run's training loss per step (validation loss rising is the lesson's point)."""
    lay = Layout(p)
    out = {}
    for run in runs(p):
        col = lay.col(run.degree)["train_loss"]
        cells = [(run.sheet, address.render(lay.row(t), col)) for t in range(p.steps + 1)]
        out[run.sheet] = LossSeries(cells)
    return out


def examples() -> list[RegularisationParams]:
    return [
        RegularisationParams(degree=4, low_degree=2, samples=5, steps=3, seed=1),
        RegularisationParams(degree=6, low_degree=1, samples=8, steps=4, lr=0.02,
                             good_wd=0.01, big_wd=0.5, noise=0.1, seed=7),
    ]  # fmt: skip


def strategy() -> Any:
    from hypothesis import strategies as st

    return st.integers(1, 6).flatmap(
        lambda degree: st.builds(
            RegularisationParams,
            degree=st.just(degree + 1),
            low_degree=st.integers(1, degree),
            samples=st.integers(2, 14),
            noise=st.floats(0.0, 1.0),
            steps=st.integers(1, 5),
            lr=st.floats(1e-3, 0.1),
            good_wd=st.floats(0.0, 1.0),
            big_wd=st.floats(0.0, 5.0),
            seed=st.integers(0, 2**31),
        )
    )


EXERCISES = (
    Exercise(
        "size", "good_decay", "sum of w²",
        "the size of the weights: the sum of the squares of the step's weights; fill down",
        "SUMSQ takes the row of weights w0..wd", "what weight decay measures", 1,
    ),
    Exercise(
        "step", "good_decay", "w0",
        "B6: the weight after step 0, with weight decay as the L2 term: w0 (B5) minus the "
        "learning rate times (its gradient dMSE/dw0 plus 2·wd·w0); fill right and down",
        "keep data!$C$2 (lr) and $C$1 (wd) fixed; the gradient sits on the row above",
        "weight decay in the gradient", 2,
        also=("w0 decoupled", "w0: L2 - decoupled"),
    ),
    Exercise(
        "gradient", "good_decay", "dMSE/dw1",
        "dMSE/dw1: 2·SUMPRODUCT(this step's residuals, feature 1's row of the turned "
        "features on data)/samples; fill down, then right for w2..wd",
        "the residuals' row and the feature's row have one cell per sample",
        "the gradient of the mean squared error", 3,
    ),
)  # fmt: skip


def exercise_params(params: Any) -> Any:
    """A few steps: every cell a learner writes is theirs."""
    return dataclasses.replace(params, steps=min(params.steps, 5))


LESSON = Lesson(
    exercises=EXERCISES,
    exercise_params=exercise_params,
    name="regularisation",
    filename="regularisation.xlsx",
    summary="weight decay against overfitting: a polynomial fitted three ways, bias and variance",
    params=RegularisationParams,
    sheets=build,
    reference=reference("regularisation"),
    key_results=key_results,
    losses=losses,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--degree", "0"), "--degree: must be at least 1"),
        (("--degree", "50"), "--degree: at most 20"),
        (("--low-degree", "9"), "--low-degree: must be below --degree"),
        (("--samples", "1"), "--samples: must be at least 2"),
        (("--steps", "0"), "--steps: must be at least 1"),
        (("--lr", "-1"), "--lr: must be positive"),
        (("--good-wd", "-0.1"), "--good-wd: must not be negative"),
        (("--noise", "-1"), "--noise: must not be negative"),
        (("--steps", "1000000"), "--steps:"),
    ),
)
