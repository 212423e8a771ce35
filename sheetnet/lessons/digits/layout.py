"""The digits lesson's parameters and where every block of cells sits.

Sheet `train` (1-based rows): the starting weights from row 5, then one block
per iteration:
  top        iteration, epoch, batch size and batch loss
  top+1      column headers
  top+2..    one row per image of the batch: image, label, pixels, [hidden layer:
             z1, a1,] logits, max, exp, sum, softmax, one-hot, loss, dL/dlogits
             [, dL/da1, ReLU', dL/dz1]
  then       a title row and R rows of gradients (weights, then the bias column)
  then       a title row and R rows of the weights after the update
  then       one empty row
Columns: A image, B label, pixels from C; weight and gradient rows put pixel j's
weight under pixel j, and the bias right of the last pixel. Without a hidden layer
R is 10 (a row per class). With one, W1 | b1 (a row per hidden unit), W2 | b2 (a
row per class) and W2 turned (W2ᵀ, for the backward pass) sit side by side, and R
is the larger of 10 and the hidden units.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...engine.address import MAX_COLS, MAX_ROWS
from ...engine.semantics import stored
from ..contract import (
    INT,
    LessonParams,
    ParamError,
    at_least,
    data_file,
    non_negative,
    param,
    positive,
    seed_range,
)
from .data import Images, choose_images, read_digits_csv, scale_of

CLASSES = 10
FIRST_WEIGHT_ROW = 5  # train!C5: class 0's first starting weight
DATA_FIRST_ROW = 5  # data!A5: the first image
MAX_HIDDEN = 256


@dataclass(frozen=True)
class DigitsParams(LessonParams):
    """The lesson's parameters; the defaults train in seconds to about 90% accuracy."""

    epochs: int = param(3, kind=INT, check=at_least(1), help="passes over the training images")
    batch_size: int = param(
        20, kind=INT, check=at_least(1), help="images per mini-batch (1 = SGD, --train = batch GD)"
    )
    lr: float = param(1.0, check=positive, help="learning rate")
    wd: float = param(
        1e-5, check=non_negative, help="weight decay: 2*wd*p is added to every parameter's gradient"
    )
    train: int = param(300, kind=INT, check=at_least(1), help="training images")
    valid: int = param(200, kind=INT, check=at_least(1), help="validation images")
    seed: int = param(
        0,
        kind=INT,
        check=seed_range,
        help="seed of the image choice, batch order and start weights",
    )
    hidden: int = param(
        0,
        kind=INT,
        check=at_least(0),
        help="ReLU units in a hidden layer (0: none, the notebook's Mnist_Logistic; "
        "its Mnist_NN has 50; train it with --lr 0.5)",
    )
    data: Images | None = param(
        None,
        kind=data_file(read_digits_csv),
        help="your own images: a CSV with a label column and square-many pixel columns "
        "(MNIST's layout) [default: the 8x8 digits that ship with sheetnet]",
    )

    SIZE_OPTION = "epochs"
    SIZE_ADVICE = "use fewer epochs or training images, or larger batches"

    def check(self) -> None:
        if self.hidden > MAX_HIDDEN:
            raise ParamError("hidden", f"at most {MAX_HIDDEN} units, not {self.hidden}")
        if self.batch_size > self.train:
            raise ParamError(
                "batch_size", f"{self.batch_size} is more than the {self.train} training images"
            )
        choose_images(self)
        layout = Layout(self)
        if layout.last_row > MAX_ROWS:
            raise ParamError(
                "epochs",
                f"{layout.last_row:,} rows on the train sheet; Excel "
                f"allows {MAX_ROWS:,}: use fewer epochs or training images",
            )
        if layout.end_col >= MAX_COLS:
            raise ParamError("data", "images too large for Excel's 16,384 columns")

    def formula_cells(self) -> int:
        return Layout(self).formula_cells

    @property
    def images(self) -> Images:
        return self.data if isinstance(self.data, Images) else self._images  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DigitsParams):
            return NotImplemented
        return all(
            getattr(self, k) == getattr(other, k)
            for k in ("epochs", "batch_size", "lr", "wd", "train", "valid", "seed", "hidden")
        ) and (self.images == other.images)

    def __hash__(self) -> int:
        return hash((self.epochs, self.batch_size, self.lr, self.train, self.seed))


@dataclass(frozen=True)
class Iteration:
    number: int  # 0-based, counting across epochs
    epoch: int  # 0-based
    images: tuple[int, ...]  # 1-based positions among the training images
    top: int  # 1-based row of the block's title


class Layout:
    """Positions of everything, derived from the parameters alone."""

    def __init__(self, p: DigitsParams) -> None:
        self.p = p
        images = p.images
        self.pixels = len(images.pixels[0])
        self.side = images.side
        self.scale = scale_of(images)
        h = self.hidden = p.hidden
        # columns (0-based) of the train sheet's batch rows
        self.pix = 2
        self.z1 = self.pix + self.pixels  # hidden layer only
        self.a1 = self.z1 + h
        self.z = self.a1 + h
        self.max = self.z + CLASSES
        self.e = self.max + 1
        self.sum = self.e + CLASSES
        self.prob = self.sum + 1
        self.onehot = self.prob + CLASSES
        self.loss = self.onehot + CLASSES
        self.delta = self.loss + 1
        self.da1 = self.delta + CLASSES  # hidden layer only
        self.relu = self.da1 + h
        self.dz1 = self.relu + h
        self.end_col = self.dz1 + h
        # parameter sections: W1 | b1 (or, without a hidden layer, W | b), W2 | b2, W2ᵀ
        self.w1 = self.pix
        self.w2 = self.pix + self.pixels + 2
        self.w2t = self.w2 + h + 2
        self.rows = max(h, CLASSES)  # R

    @cached_property
    def orders(self) -> list[list[int]]:
        """Each epoch's order of the training images (1-based), seeded."""
        rng = np.random.default_rng([self.p.seed, 1])
        return [[int(i) + 1 for i in rng.permutation(self.p.train)] for _ in range(self.p.epochs)]

    @cached_property
    def iterations(self) -> list[Iteration]:
        out, top, b = [], self.first_block_row, self.p.batch_size
        for epoch, order in enumerate(self.orders):
            for start in range(0, len(order), b):
                images = tuple(order[start : start + b])
                out.append(Iteration(len(out), epoch, images, top))
                top += self.height(len(images))
        return out

    @property
    def first_block_row(self) -> int:
        """1-based row of the first iteration's title."""
        return FIRST_WEIGHT_ROW + self.rows + 2

    def height(self, batch: int) -> int:
        return 2 + batch + 1 + self.rows + 1 + self.rows + 1

    def grad_top(self, it: Iteration) -> int:
        return it.top + 2 + len(it.images) + 1

    def new_top(self, it: Iteration) -> int:
        return self.grad_top(it) + self.rows + 1

    def weights_top(self, t: int) -> int:
        """1-based first row of the weights iteration t starts from (-1: the start)."""
        return FIRST_WEIGHT_ROW if t == 0 else self.new_top(self.iterations[t - 1])

    def last_of_epoch(self, epoch: int) -> Iteration:
        return [it for it in self.iterations if it.epoch == epoch][-1]

    @property
    def last_row(self) -> int:
        return self.iterations[-1].top + self.height(len(self.iterations[-1].images))

    @property
    def formula_cells(self) -> int:
        h = self.hidden
        per_image = 1 + self.pixels + 4 * CLASSES + 3 + CLASSES + 5 * h
        if h:
            params = h * (self.pixels + 1) + CLASSES * (h + 1)
            per_iteration = 2 * params + h * CLASSES + 3
        else:
            per_iteration = 2 * CLASSES * (self.pixels + 1) + 3
        train = sum(len(it.images) * per_image + per_iteration for it in self.iterations)
        epochs = self.p.epochs
        valid = self.p.valid * (self.pixels + 1 + epochs * (3 * CLASSES + 5 + 2 * h)) + 2 * epochs
        progress = len(self.iterations) + 2 * epochs
        start = h * CLASSES  # the starting W2 turned, as every iteration's new one
        templates = self.pixels * (h or CLASSES)  # the first layer's weights as pictures
        confusion = CLASSES * CLASSES
        draw = self.pixels + 3 * CLASSES + 4 + 2 * h
        return train + start + valid + progress + templates + confusion + draw

    @property
    def epoch_cols(self) -> int:
        """Columns of one epoch's predictions on the valid sheet: [z1, a1,] logits, max,
        exps, sum, probabilities, prediction, loss, right."""
        return 2 * self.hidden + 3 * CLASSES + 6

    def start_weights(self) -> list[np.ndarray]:
        """Each layer's starting weights, (outputs, inputs + 1): the bias column last
        (zeros). Without a hidden layer small weights (the notebook's); with one,
        He's scale for the ReLU layer, so its units start neither dead nor saturated."""
        rng = np.random.default_rng([self.p.seed, 2])
        if not self.hidden:
            sizes = [(CLASSES, self.pixels, 0.01)]
        else:
            h = self.hidden
            sizes = [(h, self.pixels, np.sqrt(2.0 / self.pixels)), (CLASSES, h, np.sqrt(1.0 / h))]
        out = []
        for rows, cols, scale in sizes:
            w = np.vectorize(stored)(rng.normal(0.0, scale, (rows, cols)))
            out.append(np.hstack([w, np.zeros((rows, 1))]))
        return out


VALID_FIRST_ROW = 6  # valid!A6: the first validation image


def valid_left(lay: Layout, epoch: int) -> int:
    """0-based first column of epoch `epoch`'s predictions on the valid sheet."""
    return lay.pix + lay.pixels + 1 + epoch * (lay.epoch_cols + 1)


# an iteration's title row on the train sheet: the batch size, the batch loss (the mean
# cross-entropy) and the objective (+ wd * the sum of squared weights), after their headers
BATCH_SIZE_COL, BATCH_LOSS_COL, OBJECTIVE_COL = 5, 7, 9
# the valid sheet: each epoch's loss and accuracy, under its title, right of its first column
VALID_LOSS_ROW, VALID_ACCURACY_ROW = 1, 2


def valid_result(lay: Layout, epoch: int, row: int) -> tuple[int, int]:
    """(row, col) of epoch `epoch`'s validation loss or accuracy (`row`) on the valid sheet."""
    return row, valid_left(lay, epoch) + 1
