"""digits: handwritten digits learned by mini-batch SGD with softmax and cross-entropy."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...engine import address
from ..contract import DataRegion, Exercise, KeyResult, Lesson, LossSeries, reference
from ..kit import Front
from .data import Images
from .layout import (
    BATCH_LOSS_COL,
    DATA_FIRST_ROW,
    VALID_ACCURACY_ROW,
    VALID_LOSS_ROW,
    DigitsParams,
    Layout,
    valid_result,
)
from .sheets import build, charts

__all__ = ["LESSON", "DigitsParams", "build"]


def key_results(p: DigitsParams) -> list[KeyResult]:
    lay = Layout(p)
    last = p.epochs - 1
    accuracy = valid_result(lay, last, VALID_ACCURACY_ROW)
    loss = valid_result(lay, last, VALID_LOSS_ROW)
    batch = (lay.iterations[-1].top - 1, BATCH_LOSS_COL)  # the title row of the last iteration
    return [
        KeyResult("validation accuracy", "valid", address.render(*accuracy), "0.0%"),
        KeyResult("validation loss", "valid", address.render(*loss)),
        KeyResult("last batch loss", "train", address.render(*batch)),
    ]


def losses(p: DigitsParams) -> dict[str, LossSeries]:
    """The batch losses, judged an epoch at a time: one batch's loss is noisy."""
    lay = Layout(p)
    cells = [("train", address.render(it.top - 1, BATCH_LOSS_COL)) for it in lay.iterations]
    return {"train (batch loss)": LossSeries(cells, window=len(lay.iterations) // p.epochs)}


def front(p: DigitsParams) -> Front:
    lay = Layout(p)
    model = (
        "A logistic regression (one layer, softmax, cross-entropy)"
        if not p.hidden
        else f"A neural network ({p.hidden} hidden ReLU units, then softmax and cross-entropy; "
        "the notebook's Mnist_NN)"
    )
    return Front(
        "Handwritten digits learned by SGD, every number a formula (fast.ai lesson 5)",
        [
            f"{model} learns to read "
            f"{lay.side}x{lay.side} handwritten digits from {p.train} training images, "
            f"{p.batch_size} images per mini-batch, {len(lay.iterations)} iterations over "
            f"{p.epochs} epochs.",
            "train: each block is one iteration, from the batch's pixels to the updated "
            "weights"
            + (", the backward pass through the ReLU included" if p.hidden else "")
            + "; valid: the model on images it never saw; templates: what each "
            + ("hidden unit" if p.hidden else "digit")
            + " learned; confusion: which digits it mixes up; draw: try your own digit.",
        ],
        [
            "train!C1 is the learning rate: try 0.1 or 5 and watch the loss chart below."
            if not p.hidden
            else "train!C1 is the learning rate: a hidden layer wants a smaller one than "
            "logistic regression (0.5 trains well here; 1 or more diverges).",
            "train!F1 is the weight decay; data!C2 the pixel scale.",
            "draw: type numbers into the yellow grid and watch the probabilities.",
        ],
        charts(p),
    )


def examples() -> list[DigitsParams]:
    return [
        DigitsParams(epochs=2, batch_size=4, train=10, valid=6, seed=1),
        DigitsParams(epochs=1, batch_size=3, train=7, valid=5, lr=0.3, wd=0.01, seed=5),
        DigitsParams(epochs=2, batch_size=3, train=6, valid=4, lr=0.5, seed=2, hidden=4),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def params(draw: Any) -> DigitsParams:
        train = draw(st.integers(2, 12))
        return DigitsParams(
            epochs=draw(st.integers(1, 2)),
            batch_size=draw(st.integers(1, train)),
            lr=draw(st.floats(1e-3, 5.0)),
            wd=draw(st.floats(0.0, 0.1)),
            train=train,
            valid=draw(st.integers(1, 6)),
            seed=draw(st.integers(0, 2**31)),
            hidden=draw(st.sampled_from([0, 0, 1, 3, 12])),
        )

    return params()


EXERCISES = (
    Exercise(
        "softmax", "train", "p 0",
        "CK19: the probability of class 0, exp BZ19 over the row's sum $CJ19; fill right to "
        "class 9 and down the batch",
        "keep the column of the sum fixed ($CJ19), not its row", "softmax over ten classes", 1,
    ),
    Exercise(
        "dlogit", "train", "dL/dlogit 0",
        "DF19: dL/dlogit for class 0, (p - y) / batch size ($F$17); fill right and down",
        "the probability is CK19, the one-hot target CU19", "softmax + cross-entropy's gradient",
        2,
    ),
    Exercise(
        "loss", "train", "image loss",
        "DE19: the cross-entropy -ln of the probability of the true class (label $B19, "
        "probabilities $CK19:$CT19); fill it down the batch",
        "INDEX($CK19:$CT19,1,$B19+1) picks the true class's probability; LN, not LOG",
        "cross-entropy picks the true class", 3,
    ),
)  # fmt: skip


def exercise_params(params: Any) -> Any:
    """One iteration (one block of the train sheet): every cell a learner writes is
    theirs, with no later block holding the same formula."""
    return dataclasses.replace(params, epochs=1, train=params.batch_size)


LESSON = Lesson(
    exercises=EXERCISES,
    exercise_params=exercise_params,
    name="digits",
    filename="digits.xlsx",
    summary="handwritten digits learned by mini-batch SGD with softmax and cross-entropy",
    params=DigitsParams,
    sheets=build,
    reference=reference("digits"),
    key_results=key_results,
    losses=losses,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--batch-size", "0"), "--batch-size: must be at least 1"),
        (("--lr", "-0.5"), "--lr: must be positive"),
        (("--wd", "-1"), "--wd: must not be negative"),
        (("--train", "1500", "--valid", "400"), "the data has 1,797 images"),
        (("--epochs", "20000"), "--epochs:"),
        (("--hidden", "-1"), "--hidden: must be at least 0"),
        (("--hidden", "5000"), "--hidden: at most 256"),
    ),
    data_regions=(
        DataRegion(
            "data", "data", DATA_FIRST_ROW - 1, 2, cells=Images.rows, value=Images.from_rows
        ),
    ),
)
