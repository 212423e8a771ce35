"""conv: a convolutional network learns the digits, trained by backpropagation in the cells."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...engine import address
from ..contract import DataRegion, Exercise, KeyResult, Lesson, LossSeries, reference
from ..digits.data import Images
from ..kit import Front
from .layout import (
    BATCH_LOSS_COL,
    DATA_FIRST_ROW,
    VALID_ACCURACY_ROW,
    VALID_LOSS_ROW,
    ConvParams,
    Layout,
    valid_result,
)
from .sheets import build, charts

__all__ = ["LESSON", "ConvParams", "build"]


def key_results(p: ConvParams) -> list[KeyResult]:
    lay = Layout(p)
    last = p.epochs - 1
    accuracy = valid_result(lay, last, VALID_ACCURACY_ROW)
    loss = valid_result(lay, last, VALID_LOSS_ROW)
    batch = (lay.iterations[-1].top - 1, BATCH_LOSS_COL)
    return [
        KeyResult("validation accuracy", "valid", address.render(*accuracy), "0.0%"),
        KeyResult("validation loss", "valid", address.render(*loss)),
        KeyResult("last batch loss", "train", address.render(*batch)),
        KeyResult("gradient check: largest relative difference", "gradcheck", "G2", "0.0E+00"),
    ]


def losses(p: ConvParams) -> dict[str, LossSeries]:
    """The batch losses, judged an epoch at a time: one batch's loss is noisy."""
    lay = Layout(p)
    cells = [("train", address.render(it.top - 1, BATCH_LOSS_COL)) for it in lay.iterations]
    return {"train (batch loss)": LossSeries(cells, window=len(lay.iterations) // p.epochs)}


def front(p: ConvParams) -> Front:
    lay = Layout(p)
    S, C, P = lay.side, lay.conv, lay.pooled
    drop = f", dropout {p.dropout:g} on the pooled features" if lay.dropping else ""
    return Front(
        "A convolutional network learns the digits, every number a formula",
        [
            f"{p.filters} filters of 3x3 slide over each {S}x{S} image ({C}x{C} feature maps), "
            f"ReLU, a 2x2 max-pool ({P}x{P}){drop},",
            f"then a dense layer to 10 classes, softmax and cross-entropy; {p.train} training "
            f"images, {p.batch_size} per mini-batch, {len(lay.iterations)} iterations over "
            f"{p.epochs} epochs.",
            "train: each block is one iteration, forward and then backward in the order the "
            "chain rule runs, to the filters' gradients;",
            "look: one image through the network as pictures; filters: before and after; "
            "gradcheck: backprop against central differences;",
            "valid, confusion, draw: how well it reads digits.",
            "A filter can die: if its ReLU is 0 on every image, its gradient is 0 and it stops "
            "learning (compare it before and after",
            "on the filters sheet; a blank map on look). More filters, a smaller rate or "
            "another seed (--seed) give it a chance.",
        ],
        [
            "train!C1 is the learning rate: try 0.1 or 0.6 and watch the loss chart below.",
            "train!F1 is the weight decay; rebuild with --dropout 0.25 to see dropout's masks.",
            "draw: type numbers into the yellow grid and watch the probabilities.",
        ],
        charts(p),
    )


def examples() -> list[ConvParams]:
    return [
        ConvParams(filters=2, epochs=2, batch_size=3, train=6, valid=4, seed=1),
        ConvParams(filters=1, epochs=1, batch_size=2, train=4, valid=3, lr=0.3, wd=0.01, seed=5),
        ConvParams(filters=3, epochs=1, batch_size=3, train=5, valid=3, dropout=0.25, seed=2),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def params(draw: Any) -> ConvParams:
        train = draw(st.integers(2, 6))
        return ConvParams(
            filters=draw(st.integers(1, 3)),
            epochs=draw(st.integers(1, 2)),
            batch_size=draw(st.integers(1, train)),
            lr=draw(st.floats(1e-3, 2.0)),
            wd=draw(st.floats(0.0, 0.1)),
            train=train,
            valid=draw(st.integers(1, 4)),
            dropout=draw(st.sampled_from([0.0, 0.0, 0.25, 0.5])),
            seed=draw(st.integers(0, 2**31)),
        )

    return params()


EXERCISES = (
    Exercise(
        "relu", "train", "a f1 (1,1)",
        "the ReLU of the first feature map value (z f1 (1,1)), MAX(z, 0); fill it right "
        "over every filter's map and down the batch",
        "MAX of the z cell and 0, with no $: every cell reads the z straight left of it by "
        "the same distance", "ReLU after a convolution", 1,
    ),
    Exercise(
        "winner", "train", "winner f1 (1,1)",
        "which of the first pool window's four positions holds its max (1 top left, 2 top "
        "right, 3 bottom left, 4 bottom right; on a tie the first): fill it down the batch",
        "nested IF: IF(a(1,1) = m, 1, IF(a(1,2) = m, 2, IF(a(2,1) = m, 3, 4))), with a "
        "the ReLU columns and m the pooled column 'm f1 (1,1)'",
        "max-pool's backward pass routes to the winner", 2,
    ),
    Exercise(
        "conv", "train", "z f1 (1,1)",
        "filter 1's first feature-map value: the 3x3 window of pixels x1:x3, x9:x11, "
        "x17:x19 times filter 1's weights (the section above the block), + its bias; fill "
        "it right over the map's first row and down the batch",
        "three SUMPRODUCTs, a window row by a filter row, the filter's cells with $ on "
        "both; the bias too",
        "a convolution is a sliding SUMPRODUCT", 3,
    ),
)  # fmt: skip


def exercise_params(params: Any) -> Any:
    """One iteration: every cell a learner writes is theirs."""
    return dataclasses.replace(params, epochs=1, train=params.batch_size)


LESSON = Lesson(
    exercises=EXERCISES,
    exercise_params=exercise_params,
    name="conv",
    filename="conv.xlsx",
    summary="a convolutional network (3x3 filters, ReLU, max-pool, dense) trained by "
    "backpropagation in the cells",
    params=ConvParams,
    sheets=build,
    reference=reference("conv"),
    key_results=key_results,
    losses=losses,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--filters", "0"), "--filters: must be at least 1"),
        (("--filters", "40"), "--filters: at most 32"),
        (("--dropout", "1"), "--dropout: must be below 1"),
        (("--dropout", "-0.1"), "--dropout: must not be negative"),
        (("--lr", "-0.5"), "--lr: must be positive"),
        (("--train", "1500", "--valid", "400"), "the data has 1,797 images"),
        (("--epochs", "200"), "--epochs:"),
    ),
    data_regions=(
        DataRegion(
            "data", "data", DATA_FIRST_ROW - 1, 2, cells=Images.rows, value=Images.from_rows
        ),
    ),
)
