"""entropy_example: softmax, sigmoid, binary cross-entropy and NLL, cell by cell."""

from __future__ import annotations

from typing import Any

from ..contract import Exercise, KeyResult, Lesson, reference
from ..kit import Front
from .layout import EntropyParams
from .sheets import build, loss_chart

__all__ = ["LESSON", "EntropyParams", "build"]


def key_results(p: EntropyParams) -> list[KeyResult]:
    return [
        KeyResult("softmax of class 1 (image 1)", "softmax", "D3"),
        KeyResult("mean binary cross-entropy (LOG)", "entropy", "D7"),
        KeyResult("mean binary cross-entropy (LN)", "entropy", "G7"),
    ]


def front(p: EntropyParams) -> Front:
    return Front(
        "Softmax and cross-entropy, cell by cell (fast.ai's entropy_example.xlsx)",
        [
            "softmax: a model's outputs become probabilities that sum to 1; shifting every "
            "output by one constant changes nothing (the sigmoid does not have that property).",
            "entropy, log_entropy: binary cross-entropy with Excel's LOG (base 10, as the "
            "original) and with LN (natural log, as PyTorch).",
            "multiclass: five classes, a one-hot target, and the loss -LN(p of the true class).",
        ],
        [
            "softmax: change an output in column B and watch column D; then change G.",
            "entropy: set a prediction in column C near 0 or 1 for the wrong label:"
            " the loss jumps.",
            "multiclass: change the true class in C2 and compare the loss of each choice.",
        ],
        [loss_chart()],
    )


def examples() -> list[EntropyParams]:
    return [
        EntropyParams(),
        EntropyParams(
            outputs=(1.0, 2.0, 3.0, 4.0, 5.0),
            outputs_2=(0.0, 1.0, 2.0, 3.0, 4.0),
            labels_preds=((1, 0.1), (0, 0.2), (1, 0.99), (0, 0.01), (1, 0.5)),
        ),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def params(draw: Any) -> EntropyParams:
        outputs = draw(st.lists(st.floats(-30, 30), min_size=5, max_size=5))
        shift = draw(st.floats(-5, 5))
        rows = draw(
            st.lists(
                st.tuples(st.sampled_from([0.0, 1.0]), st.floats(0, 1)), min_size=5, max_size=5
            )
        )
        return EntropyParams(
            outputs=tuple(outputs),
            outputs_2=tuple(x - shift for x in outputs),
            labels_preds=tuple(rows),
        )

    return params()


EXERCISES = (
    Exercise(
        "exp", "softmax", "exp",
        "C3: e to the power of the output B3; fill it down to C7 (and likewise H3:H7)",
        "Excel's function for e^x is EXP", "the exponential that softmax starts from", 1,
    ),
    Exercise(
        "softmax", "softmax", "softmax",
        "D3: the softmax, C3 divided by the sum of the exps in C8; fill it down to D7",
        "divide by the sum of the exps (C8), not of the outputs; write $C$8 so it stays put",
        "softmax: exp of each output over the sum of all exps", 2,
    ),
    Exercise(
        "bce", "entropy", "BCE (LN)",
        "G2: binary cross-entropy -(y ln p + (1-y) ln(1-p)) of B2 and C2; fill down to G6; "
        "then H2: the same loss picking the term with IF(B2=1, ...); fill down",
        "the natural log is LN (Excel's LOG is base 10)", "binary cross-entropy", 3,
        also=("BCE via IF (LN)", "NLL (LN)"),
    ),
)  # fmt: skip

LESSON = Lesson(
    exercises=EXERCISES,
    name="entropy",
    filename="entropy_example.xlsx",
    summary="softmax, sigmoid, binary cross-entropy and NLL (entropy_example.xlsx)",
    params=EntropyParams,
    sheets=build,
    reference=reference("entropy"),
    key_results=key_results,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--outputs", "1,2,x,4,5"), "--outputs: 'x' is not a number"),
        (("--labels-preds", "2:0.5,1:0.5,1:0.5,1:0.5,1:0.5"), "a label is 0 or 1"),
    ),
)
