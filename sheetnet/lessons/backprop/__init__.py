"""backprop: the chain rule through a hidden ReLU layer, cell by cell, checked by
finite differences the spreadsheet computes itself."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...engine import address
from ..contract import Exercise, KeyResult, Lesson, reference
from ..kit import Front
from .layout import BackpropParams, Layout
from .sheets import build, charts

__all__ = ["LESSON", "BackpropParams", "build"]


def key_results(p: BackpropParams) -> list[KeyResult]:
    lay = Layout(p)
    last = lay.top(p.iterations - 1)
    return [
        KeyResult("final loss", "train", address.render(last, lay.loss_value)),
        KeyResult("final accuracy", "train", address.render(last, lay.accuracy_value), "0%"),
        KeyResult("gradient check: largest relative difference", "gradcheck", "G2", "0.0E+00"),
    ]


def front(p: BackpropParams) -> Front:
    return Front(
        "Backpropagation through a hidden layer, every partial derivative a formula "
        "(fast.ai lesson 5)",
        [
            f"A network with 2 inputs, {p.hidden} hidden ReLU units and 3 classes (softmax, "
            f"cross-entropy) learns to sort 8 points, {p.iterations} steps of gradient descent.",
            "train: each block runs the forward pass, then the backward pass column by column "
            "(dL/dz2, dL/da1, ReLU', dL/dz1), then the gradients and the step. "
            "gradcheck: every gradient against the slope measured by nudging that parameter.",
        ],
        [
            "train!C1 is the learning rate: try 0.05 or 3 and watch the loss chart below.",
            "train!F1 is the weight decay; the yellow start block holds the first weights.",
            "data: move a point or change its class; gradcheck!C2 is the nudge h (try 1e-2, 1e-9).",
        ],
        charts(p),
    )


def examples() -> list[BackpropParams]:
    return [
        BackpropParams(hidden=2, iterations=3, seed=1),
        BackpropParams(hidden=5, iterations=2, lr=2.0, wd=0.01, seed=7),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    return st.builds(
        BackpropParams,
        hidden=st.integers(1, 6),
        iterations=st.integers(1, 4),
        lr=st.floats(1e-3, 5.0),
        wd=st.floats(0.0, 0.1),
        seed=st.integers(0, 2**31),
    )


EXERCISES = (
    Exercise(
        "relu", "train", "a1·h1",
        "I11: the hidden unit's activation, ReLU of its input E11; fill right and down",
        "ReLU is MAX(z, 0)", "the ReLU activation", 1,
    ),
    Exercise(
        "update", "train", "W1·x1",
        "C27: the new weight: the start C4 minus the learning rate ($C$1) times its gradient "
        "C21; fill right and down over W1, b1, W2 and b2's blocks",
        "keep the rate $C$1 fixed; the gradient sits in the same place of the block above",
        "a gradient-descent step", 2,
    ),
    Exercise(
        "through_relu", "train", "dL/dz1·h1",
        "AN11: dL/dz1, dL/da1 (AF11) through the ReLU (its slope AJ11); fill right and down",
        "the chain rule multiplies: dL/da1 times ReLU'", "backpropagation through ReLU", 3,
    ),
)  # fmt: skip


def exercise_params(params: Any) -> Any:
    """One iteration: every cell a learner writes is theirs."""
    return dataclasses.replace(params, iterations=1)


LESSON = Lesson(
    exercises=EXERCISES,
    exercise_params=exercise_params,
    name="backprop",
    filename="backprop.xlsx",
    summary="backpropagation through a hidden ReLU layer, checked by finite differences",
    params=BackpropParams,
    sheets=build,
    reference=reference("backprop"),
    key_results=key_results,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--hidden", "0"), "--hidden: must be at least 1"),
        (("--hidden", "500"), "--hidden: at most 32"),
        (("--iterations", "0"), "--iterations: must be at least 1"),
        (("--lr", "-1"), "--lr: must be positive"),
        (("--wd", "-0.1"), "--wd: must not be negative"),
        (("--iterations", "100000"), "--iterations:"),
    ),
)
