"""finetune: transfer learning as fastai does it (a new head, freeze, unfreeze, slice),
every number a formula, beside the same network trained from scratch."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...engine import address
from ..contract import Exercise, KeyResult, Lesson, LossSeries, reference
from ..kit import Front
from .layout import LOSS_COL, MOVED_COL, FinetuneParams, Layout, Run
from .sheets import build, charts

__all__ = ["LESSON", "FinetuneParams", "build"]


def key_results(p: FinetuneParams) -> list[KeyResult]:
    lay = Layout(p)
    return [
        KeyResult(
            "fine-tuned: validation accuracy",
            "progress",
            address.render(*lay.accuracy_cell(0)),
            "0.0%",
        ),
        KeyResult(
            "from scratch: validation accuracy",
            "progress",
            address.render(*lay.accuracy_cell(1)),
            "0.0%",
        ),
        KeyResult(
            "what pretraining buys", "progress", address.render(*lay.gain_cell), "+0.0%;-0.0%;0.0%"
        ),
        KeyResult(
            "body moved in stage 1 (0: frozen)",
            "finetune",
            address.render(lay.finetune.steps[p.frozen - 1].top, MOVED_COL),
            "0.0E+00",
        ),
    ]


def losses(p: FinetuneParams) -> dict[str, LossSeries]:
    """Pretraining's batch losses (an epoch at a time), and each of your runs' losses, a
    step an epoch; the head's and the body's rates are its options."""
    lay = Layout(p)

    def cells(sheet: str, run: Run) -> list[tuple[str, str]]:
        return [(sheet, address.render(st.top, LOSS_COL)) for st in run.steps]

    per_epoch = max(1, len(lay.pretrain.steps) // p.pretrain_epochs)
    return {
        "pretrain": LossSeries(cells("pretrain", lay.pretrain), per_epoch, "--lr"),
        "finetune": LossSeries(cells("finetune", lay.finetune), 0, "--head-lr / --lo / --hi"),
        "scratch": LossSeries(cells("scratch", lay.scratch), 0, "--scratch-lr"),
    }


def front(p: FinetuneParams) -> Front:
    lay = Layout(p)
    big = "all ten digits" if lay.big_classes == 10 else f"the digits 0 to {lay.big_classes - 1}"
    return Front(
        "Fine-tuning a pretrained network, every number a formula (fast.ai lesson 5)",
        [
            f"A body (Linear(64, {p.hidden}), ReLU) and a head first learn a big dataset "
            f"({p.pretrain} images of {big}, {len(lay.pretrain.steps)} mini-batch "
            "iterations: pretrain).",
            f"Then a new random head for your task replaces the old one (create_head): "
            f"{lay.yours} images of the digits 5 to 9, {p.per_class} of each (finetune).",
            f"Stage 1 ({p.frozen} epochs): the body is frozen, its rate is 0; stage 2 "
            f"({p.unfrozen} epochs): every layer learns at slice({p.lo:g}, {p.hi:g}), "
            "lo for the body, hi for the head.",
            f"scratch: the same network learns your images from random weights for "
            f"{lay.epochs} epochs; valid scores both after every epoch.",
        ],
        [
            "finetune!C1 is the body's rate in stage 1: 0 is what freezing means (each "
            "block's 'body moved' stays 0); try 0.05 and watch it move.",
            "finetune!C2 and F2 are slice(lo, hi); scratch!C1 is the rate from scratch: "
            "try to make it win.",
            "With --pretrain-digits 5 the big dataset holds only 0 to 4: the sentence "
            "above then says whether pretraining still helps.",
        ],
        charts(p),
        said=(("progress", address.render(*lay.verdict_cell)),),
    )


def examples() -> list[FinetuneParams]:
    return [
        FinetuneParams(
            hidden=3,
            pretrain_digits=4,
            pretrain=8,
            pretrain_batch=3,
            pretrain_epochs=2,
            per_class=1,
            valid=6,
            frozen=1,
            unfrozen=2,
            seed=2,
        ),
        FinetuneParams(
            hidden=2,
            pretrain=6,
            pretrain_batch=6,
            pretrain_epochs=1,
            per_class=2,
            valid=4,
            frozen=2,
            unfrozen=1,
            wd=0.01,
            lr=0.3,
            seed=4,
        ),
        FinetuneParams(
            hidden=4,
            pretrain_digits=5,
            pretrain=10,
            pretrain_batch=4,
            pretrain_epochs=1,
            per_class=1,
            valid=5,
            frozen=1,
            unfrozen=1,
            lo=0.1,
            hi=0.1,
            seed=2,
        ),
    ]


def strategy() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def params(draw: Any) -> FinetuneParams:
        pretrain = draw(st.integers(1, 10))
        return FinetuneParams(
            hidden=draw(st.integers(1, 5)),
            pretrain_digits=draw(st.integers(2, 10)),
            pretrain=pretrain,
            pretrain_batch=draw(st.integers(1, pretrain)),
            pretrain_epochs=draw(st.integers(1, 2)),
            lr=draw(st.floats(1e-3, 2.0)),
            per_class=draw(st.integers(1, 2)),
            valid=draw(st.integers(1, 6)),
            frozen=draw(st.integers(1, 2)),
            unfrozen=draw(st.integers(1, 2)),
            head_lr=draw(st.floats(1e-3, 3.0)),
            lo=draw(st.floats(1e-3, 3.0)),
            hi=draw(st.floats(1e-3, 3.0)),
            scratch_lr=draw(st.floats(1e-3, 3.0)),
            wd=draw(st.floats(0.0, 0.1)),
            seed=draw(st.integers(0, 2**31)),
        )

    return params()


EXERCISES = (
    Exercise(
        "right",
        "valid",
        "right",
        "the first 'right' column: 1 when the row's prediction (the column left of it) is "
        "its class (column B), else 0; fill it down",
        "IF(prediction = $B5, 1, 0): keep column B fixed",
        "accuracy counts right answers",
        1,
    ),
    Exercise(
        "dz1",
        "finetune",
        "dL/dz1·unit 0",
        "the first block's dL/dz1 for unit 0: dL/da1 times ReLU' of the same unit; fill it "
        "right over the units and down the images",
        "the chain rule through the ReLU: a unit that was off passes nothing back",
        "backpropagation through the body",
        2,
    ),
    Exercise(
        "slice",
        "finetune",
        "slice rate",
        "E4: group 1's rate by fastai's slice(lo, hi): lo * (hi/lo)^((group - 1)/(groups - 1)) "
        "with lo $C$2, hi $F$2, the group in D4, the groups in $C$3; fill it down to E5",
        "two groups: the body gets lo, the head hi; ^ raises to a power",
        "discriminative learning rates",
        3,
    ),
)


def exercise_params(params: Any) -> Any:
    """One pretraining iteration and one epoch of each stage."""
    return dataclasses.replace(
        params, pretrain=params.pretrain_batch, pretrain_epochs=1, frozen=1, unfrozen=1
    )


LESSON = Lesson(
    exercises=EXERCISES,
    exercise_params=exercise_params,
    name="finetune",
    filename="finetune.xlsx",
    summary="transfer learning: a pretrained body, a new head, freeze, unfreeze and slice(lo, hi)",
    params=FinetuneParams,
    sheets=build,
    reference=reference("finetune"),
    key_results=key_results,
    losses=losses,
    examples=examples,
    strategy=strategy,
    front=front,
    bad_options=(
        (("--hidden", "0"), "--hidden: must be at least 1"),
        (("--hidden", "100"), "--hidden: at most 64"),
        (("--pretrain-digits", "11"), "--pretrain-digits: at most 10"),
        (("--pretrain-batch", "500"), "--pretrain-batch: 500 is more than the 400 images"),
        (("--per-class", "200"), "--per-class: only"),
        (("--valid", "900"), "--valid: only"),
        (("--lo", "0"), "--lo: must be positive"),
        (("--wd", "-1"), "--wd: must not be negative"),
        (("--pretrain-epochs", "400"), "--pretrain-epochs:"),
    ),
)
