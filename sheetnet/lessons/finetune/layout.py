"""The fine-tuning lesson's parameters, its images and where every block of cells sits.

Rows and columns are 0-based. Three sheets train the same network, Linear(64, H),
ReLU (the body) and Linear(H, classes) (the head), with the same kind of block per
step, a `Run`:
  top        title: step, epoch or stage, batch size or the step's two rates, loss
  top+1      column headers
  top+2..    one row per image: image, class, z1, a1, logits, max, exp, sum, p, loss,
             dL/dlogit, dL/da1, ReLU', dL/dz1 (the pixels and one-hot targets are read
             from the data sheet, where each image's row sits once)
  then       a title row and R rows of gradients, a title row and R rows of the new
             parameters (W1 | b1, W2 | b2 and W2 turned side by side), an empty row
`pretrain` trains on the big dataset in mini-batches; `finetune` starts from its body
with a new random head, first frozen (stage 1) then unfrozen (stage 2); `scratch`
trains the same new network from the pretraining's random body for as many epochs.
Your few training images form one batch: each of their steps is an epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...engine.address import MAX_ROWS
from ...engine.semantics import stored
from ..contract import INT, LessonParams, ParamError, at_least, non_negative, param, positive
from ..contract import seed_range as seed_check
from ..digits.data import Table, builtin  # the shipped 8x8 digits

PIXELS = 64  # 8x8
SCALE = 16.0  # the shipped digits' pixels are 0..16: the data sheet holds them / 16
FIRST_NEW = 5  # your task: the digits 5..9, classes 0..4
NEW_CLASSES = 5
MAX_HIDDEN = 64

# the data sheet: columns and the count of your training images
IMAGE, SOURCE, DIGIT, CLASS, PIX = 0, 1, 2, 3, 4
ONEHOT = PIX + PIXELS
COUNT_CELL = (1, CLASS)  # data!D2: how many training images you have
# run sheets: the title row of a block
STEP_COL, STAGE_COL, BODY_LR_COL, HEAD_LR_COL, LOSS_COL = 1, 3, 5, 7, 9
MOVED_COL = 11  # finetune: how far the body has moved from the pretrained weights
# run sheets' columns of a block's image rows
Z1 = 2
# the parameter sections: W1 | b1 from column C, a gap, W2 | b2, a gap, W2 turned
W1 = 2
W2 = W1 + PIXELS + 2
PRETRAIN_START = 4  # pretrain!C5: the first starting weight
RUN_START = 8  # finetune!C9, scratch!C9
# finetune: stage 1's rates (C1 body, F1 head), slice(lo, hi) (C2, F2), the layer
# groups (C3) and each group's rate (C4 body, C5 head)
FROZEN_ROW, SLICE_ROW, GROUPS_ROW, GROUP_ROWS = 0, 1, 2, (3, 4)
# the valid sheet
VALID_FIRST_ROW = 4
VALID_RESULT_ROW = 2  # each evaluation's accuracy, right of its first column
VALID_LEFT = 3


@dataclass(frozen=True)
class FinetuneParams(LessonParams):
    """The defaults: pretrained on 400 digits, a network learns 25 images of 5..9 better
    than from scratch (over seeds 0 to 19: 76% against 67% validation accuracy on average)."""

    hidden: int = param(12, kind=INT, check=at_least(1), help="ReLU units of the body")
    pretrain_digits: int = param(
        10,
        kind=INT,
        check=at_least(2),
        help="the big dataset holds the digits 0..N-1 (10: every digit, other images than "
        "yours; 5: only 0..4, none of yours)",
    )
    pretrain: int = param(400, kind=INT, check=at_least(1), help="pretraining images")
    pretrain_batch: int = param(25, kind=INT, check=at_least(1), help="pretraining mini-batch")
    pretrain_epochs: int = param(3, kind=INT, check=at_least(1), help="pretraining epochs")
    lr: float = param(0.5, check=positive, help="pretraining learning rate")
    per_class: int = param(
        5, kind=INT, check=at_least(1), help="your training images of each digit 5..9"
    )
    valid: int = param(100, kind=INT, check=at_least(1), help="your validation images")
    frozen: int = param(3, kind=INT, check=at_least(1), help="stage 1 epochs: only the head")
    unfrozen: int = param(6, kind=INT, check=at_least(1), help="stage 2 epochs: every layer")
    head_lr: float = param(0.5, check=positive, help="stage 1: the new head's learning rate")
    lo: float = param(0.05, check=positive, help="stage 2: slice(lo, hi), the body's rate")
    hi: float = param(0.5, check=positive, help="stage 2: slice(lo, hi), the head's rate")
    scratch_lr: float = param(
        0.5, check=positive, help="learning rate of the network trained from scratch"
    )
    wd: float = param(0.0, check=non_negative, help="weight decay: 2*wd*p added to gradients")
    seed: int = param(
        0, kind=INT, check=seed_check, help="seed of the images, batches and start weights"
    )

    SIZE_OPTION = "pretrain_epochs"
    SIZE_ADVICE = "use fewer pretraining images or epochs, fewer hidden units or epochs"

    def check(self) -> None:
        if self.hidden > MAX_HIDDEN:
            raise ParamError("hidden", f"at most {MAX_HIDDEN} units, not {self.hidden}")
        if self.pretrain_digits > 10:
            raise ParamError("pretrain_digits", f"at most 10, not {self.pretrain_digits}")
        if self.pretrain_batch > self.pretrain:
            raise ParamError(
                "pretrain_batch", f"{self.pretrain_batch} is more than the {self.pretrain} images"
            )
        try:
            pick(builtin(), self)
        except ValueError as exc:
            name, _, message = str(exc).partition(": ")
            raise ParamError(name, message) from None
        if Layout(self).last_row > MAX_ROWS:
            raise ParamError("pretrain_epochs", "too many rows for Excel: use fewer epochs")

    def formula_cells(self) -> int:
        return Layout(self).formula_cells


@dataclass(frozen=True)
class Chosen:
    """Rows of the shipped table (0-based): pretraining, your training and validation images."""

    big: tuple[int, ...]
    train: tuple[int, ...]
    valid: tuple[int, ...]


def pick(table: Table, p: FinetuneParams) -> Chosen:
    """A seeded choice: `per_class` images of each digit 5..9 (grouped by digit), then
    `valid` more of them, then `pretrain` images of the digits 0..N-1 among the rest."""
    order = np.random.default_rng([p.seed, 0]).permutation(len(table.labels))
    labels = table.labels
    train: list[int] = []
    for digit in range(FIRST_NEW, FIRST_NEW + NEW_CLASSES):
        mine = [int(i) for i in order if labels[i] == digit][: p.per_class]
        if len(mine) < p.per_class:
            raise ValueError(f"per_class: only {len(mine)} images of the digit {digit}")
        train += mine
    taken = set(train)
    rest = [int(i) for i in order if labels[i] >= FIRST_NEW and int(i) not in taken]
    if len(rest) < p.valid:
        raise ValueError(f"valid: only {len(rest)} more images of the digits 5..9")
    valid = rest[: p.valid]
    taken |= set(valid)
    big = [int(i) for i in order if labels[i] < p.pretrain_digits and int(i) not in taken]
    if len(big) < p.pretrain:
        raise ValueError(
            f"pretrain: only {len(big)} images of the digits 0..{p.pretrain_digits - 1}"
        )
    return Chosen(tuple(big[: p.pretrain]), tuple(train), tuple(valid))


@dataclass(frozen=True)
class Step:
    """One block of a run sheet."""

    number: int  # 0-based, counting across epochs
    epoch: int  # 0-based
    first: int  # 0-based position of the batch's first image in its table
    size: int  # images in the batch
    top: int  # 0-based row of the block's title


class Run:
    """Where a run sheet's blocks sit: `classes` outputs, the parameter section at
    `start`, and the batches (first image, size) in order."""

    def __init__(self, hidden: int, classes: int, start: int, batches: list[tuple[int, int, int]]):
        h, c = hidden, classes
        self.hidden, self.classes, self.start = h, c, start
        self.rows = max(h, c)  # R
        self.a1 = Z1 + h
        self.z = self.a1 + h
        self.max = self.z + c
        self.e = self.max + 1
        self.sum = self.e + c
        self.prob = self.sum + 1
        self.loss = self.prob + c
        self.delta = self.loss + 1
        self.da1 = self.delta + c
        self.relu = self.da1 + h
        self.dz1 = self.relu + h
        self.end_col = self.dz1 + h
        self.w2t = W2 + h + 2
        steps, top = [], start + self.rows + 1
        for epoch, first, size in batches:
            steps.append(Step(len(steps), epoch, first, size, top))
            top += self.height(size)
        self.steps = steps

    def height(self, batch: int) -> int:
        return 2 + batch + 1 + self.rows + 1 + self.rows + 1

    @staticmethod
    def grad_top(st: Step) -> int:
        """0-based first row of the step's gradients."""
        return st.top + 2 + st.size + 1

    def new_top(self, st: Step) -> int:
        return self.grad_top(st) + self.rows + 1

    def params_top(self, t: int) -> int:
        """0-based first row of the parameters step t starts from."""
        return self.start if t == 0 else self.new_top(self.steps[t - 1])

    @property
    def last_row(self) -> int:
        last = self.steps[-1]
        return last.top + self.height(last.size)

    @property
    def section(self) -> int:
        """Formula cells of a gradient or new-parameter section (without W2 turned)."""
        return self.hidden * (PIXELS + 1) + self.classes * (self.hidden + 1)

    def cells(self, steps_extra: int) -> int:
        """Formula cells of the blocks; `steps_extra` formulas in each title row."""
        h, c = self.hidden, self.classes
        per_image = 1 + 5 * h + 4 * c + 3
        per_step = 2 * self.section + h * c + steps_extra
        return sum(st.size * per_image + per_step for st in self.steps)


class Layout:
    """Positions of everything, from the parameters alone."""

    def __init__(self, p: FinetuneParams) -> None:
        self.p = p
        h = self.hidden = p.hidden
        self.big_classes = p.pretrain_digits
        self.yours = NEW_CLASSES * p.per_class
        self.epochs = p.frozen + p.unfrozen
        # the data sheet: three tables, each a title row, a header row and its images
        self.big_top = 4
        self.train_top = self.big_top + p.pretrain + 3
        self.valid_top = self.train_top + self.yours + 3
        b = p.pretrain_batch
        batches = [
            (e, s, min(b, p.pretrain - s))
            for e in range(p.pretrain_epochs)
            for s in range(0, p.pretrain, b)
        ]
        self.pretrain = Run(h, self.big_classes, PRETRAIN_START, batches)
        mine = [(e, 0, self.yours) for e in range(self.epochs)]
        self.finetune = Run(h, NEW_CLASSES, RUN_START, mine)
        self.scratch = Run(h, NEW_CLASSES, RUN_START, mine)
        self.eval_cols = h + NEW_CLASSES + 2  # a1, logits, prediction, right

    def stage(self, t: int) -> int:
        """1 (frozen) or 2 (unfrozen): the stage of fine-tuning step t (0-based)."""
        return 1 if t < self.p.frozen else 2

    def valid_left(self, run: int, t: int) -> int:
        """0-based first column of run `run`'s (0 fine-tuned, 1 scratch) evaluation after
        epoch t on the valid sheet."""
        return VALID_LEFT + (run * self.epochs + t) * (self.eval_cols + 1)

    def valid_result(self, run: int, t: int) -> tuple[int, int]:
        return VALID_RESULT_ROW, self.valid_left(run, t) + 1

    # the progress sheet: a row per epoch of your training, then what pretraining buys
    PROGRESS = (
        "epoch",
        "stage",
        "fine-tuned: validation accuracy",
        "from scratch: validation accuracy",
        "fine-tuned: training loss",
        "from scratch: training loss",
    )
    PRE_LEFT = 8  # the pretraining's iteration, epoch, batch loss

    def accuracy_cell(self, run: int) -> tuple[int, int]:
        """progress: the last epoch's validation accuracy of run `run`."""
        return self.epochs, 2 + run

    @property
    def gain_cell(self) -> tuple[int, int]:
        return self.epochs + 2, 2

    @property
    def verdict_cell(self) -> tuple[int, int]:
        return self.epochs + 3, 0

    @property
    def last_row(self) -> int:
        return max(self.pretrain.last_row, self.valid_top + self.p.valid + 1)

    @property
    def formula_cells(self) -> int:
        p, h = self.p, self.hidden
        n, c = self.yours, NEW_CLASSES
        data = n + p.valid + p.pretrain * self.big_classes + n * c + 1
        pretrain = h * self.big_classes + self.pretrain.cells(2)
        body = h * (PIXELS + 1)
        finetune = 2 + body + h * c + self.finetune.cells(4)
        scratch = body + c * (h + 1) + h * c + self.scratch.cells(3)
        valid = p.valid + 2 * self.epochs * (p.valid * self.eval_cols + 1)
        progress = 4 * self.epochs + 2 + len(self.pretrain.steps)
        return data + pretrain + finetune + scratch + valid + progress

    @cached_property
    def chosen(self) -> Chosen:
        return pick(builtin(), self.p)

    def start_weights(self) -> list[np.ndarray]:
        """The pretraining's start: W1 | b1 (He's scale for the ReLU) and W2 | b2, each
        (outputs, inputs + 1), biases 0."""
        rng = np.random.default_rng([self.p.seed, 2])
        return [
            _layer(rng, self.hidden, PIXELS, np.sqrt(2.0 / PIXELS)),
            _layer(rng, self.big_classes, self.hidden, np.sqrt(1.0 / self.hidden)),
        ]

    def new_head(self) -> np.ndarray:
        """The new task's head, as create_head makes it: random, for 5 classes."""
        rng = np.random.default_rng([self.p.seed, 3])
        return _layer(rng, NEW_CLASSES, self.hidden, np.sqrt(1.0 / self.hidden))


def _layer(rng: np.random.Generator, rows: int, cols: int, scale: float) -> np.ndarray:
    w = np.vectorize(stored)(rng.normal(0.0, scale, (rows, cols)))
    return np.hstack([w, np.zeros((rows, 1))])


def slice_rates(lo: float, hi: float, groups: int) -> list[float]:
    """fastai's even_mults: lo * (hi/lo)^(i/(groups-1)) for group i."""
    return [lo * (hi / lo) ** (i / (groups - 1)) for i in range(groups)]
