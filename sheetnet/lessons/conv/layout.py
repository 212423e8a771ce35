"""The conv lesson's parameters and where every block of cells sits.

Sheet `train` (1-based rows): the starting parameters from row 5, then one block per
iteration, as digits has them:
  top        iteration, epoch, batch size and batch loss
  top+1      column headers
  top+2..    one row per image of the batch, left to right in the order the network
             runs: image, label, pixels, conv z, ReLU a, max-pool m, [dropout mask and
             kept h,] logits, max, exp, sum, softmax, one-hot, loss, dL/dlogits, then
             backwards: dL/dh, [dL/dm,] the pool's winner, dL/da, dL/dz, and this
             image's share of dL/dfilter
  then       a title row and R rows of gradients, then a title row and R rows of the
             parameters after the update, then one empty row
An image's pixels are a row (row-major), and so is each filter's feature map (C x C
values), each pooled map (P x P) and each filter (3 x 3, then its bias). Parameter
rows: the filters (a row per filter: 9 weights, bias) from column C, the dense layer
(a row per class: F*P*P weights, bias) right of them; R is the larger of F and 10.
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
from ..digits.data import Images, choose_images, read_digits_csv, scale_of

CLASSES = 10
K = 3  # the filters' side
POOL = 2  # the max-pool's side (and stride)
FIRST_PARAM_ROW = 5  # train!C5: filter 1's first starting weight
DATA_FIRST_ROW = 5  # data!A5: the first image
VALID_FIRST_ROW = 6  # valid!A6: the first validation image
MAX_FILTERS = 32
FILTER_SCALE = 0.5  # the starting filters' standard deviation
# the filters' starting bias: blank paper (a window of zeros) gives z = bias, so a bias of
# exactly 0 would sit on ReLU's kink there, where no slope exists to check or follow
FILTER_BIAS = 0.1
# the gradient check: these weights of filter 1 (0-based positions in its row of 9 + bias)
CHECKED = (0, 4, 8, 9)
CHECK_TOP = 3  # gradcheck!A4: the table's headers
NUDGED_TOP = 3  # nudged!A4: the passes' headers

# an iteration's title row on the train sheet: the batch size and loss, after their headers
BATCH_SIZE_COL, BATCH_LOSS_COL = 5, 7
# the valid sheet: each epoch's loss and accuracy, under its title, right of its first column
VALID_LOSS_ROW, VALID_ACCURACY_ROW = 1, 2


def keep_mask_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, 3])


@dataclass(frozen=True)
class ConvParams(LessonParams):
    """The lesson's parameters; the defaults build in seconds and learn the digits."""

    filters: int = param(
        4, kind=INT, check=at_least(1), help="3x3 filters of the convolution, each with a bias"
    )
    epochs: int = param(3, kind=INT, check=at_least(1), help="passes over the training images")
    batch_size: int = param(5, kind=INT, check=at_least(1), help="images per mini-batch")
    lr: float = param(0.3, check=positive, help="learning rate")
    wd: float = param(
        1e-5, check=non_negative, help="weight decay: 2*wd*p is added to every parameter's gradient"
    )
    train: int = param(100, kind=INT, check=at_least(1), help="training images")
    valid: int = param(100, kind=INT, check=at_least(1), help="validation images")
    dropout: float = param(
        0.0,
        check=non_negative,
        help="inverted dropout on the pooled features: the share dropped in training "
        "(0 = off; try 0.25); masks drawn from the seed",
    )
    seed: int = param(
        0,
        kind=INT,
        check=seed_range,
        help="seed of the image choice, batch order, start weights and dropout masks",
    )
    data: Images | None = param(
        None,
        kind=data_file(read_digits_csv),
        help="your own images: a CSV with a label column and square-many pixel columns "
        "(MNIST's layout) [default: the 8x8 digits that ship with sheetnet]",
    )

    MAX_FORMULA_CELLS = 1_500_000
    SIZE_OPTION = "epochs"
    SIZE_ADVICE = "use fewer epochs, filters or training images"

    def check(self) -> None:
        if self.filters > MAX_FILTERS:
            raise ParamError("filters", f"at most {MAX_FILTERS}, not {self.filters}")
        if self.dropout >= 1:
            raise ParamError("dropout", f"must be below 1 (the share dropped), not {self.dropout}")
        if self.batch_size > self.train:
            raise ParamError(
                "batch_size", f"{self.batch_size} is more than the {self.train} training images"
            )
        choose_images(self)
        side = self.images.side
        if side < K + POOL - 1 or (side - K + 1) % POOL:
            raise ParamError(
                "data",
                f"{side}x{side} images: a 3x3 convolution leaves {side - K + 1}x{side - K + 1}, "
                "which a 2x2 pool needs even (8x8 and 28x28 work)",
            )
        lay = Layout(self)
        if lay.last_row > MAX_ROWS:
            raise ParamError(
                "epochs",
                f"{lay.last_row:,} rows on the train sheet; Excel allows {MAX_ROWS:,}: "
                "use fewer epochs or training images",
            )
        if lay.end_col >= MAX_COLS:
            raise ParamError("filters", "too many filters for Excel's 16,384 columns")

    def formula_cells(self) -> int:
        return Layout(self).formula_cells

    @property
    def images(self) -> Images:
        return self.data if isinstance(self.data, Images) else self._images  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConvParams):
            return NotImplemented
        keys = ("filters", "epochs", "batch_size", "lr", "wd", "train", "valid", "dropout", "seed")
        return all(getattr(self, k) == getattr(other, k) for k in keys) and (
            self.images == other.images
        )

    def __hash__(self) -> int:
        return hash((self.filters, self.epochs, self.batch_size, self.lr, self.train, self.seed))


@dataclass(frozen=True)
class Iteration:
    number: int  # 0-based, counting across epochs
    epoch: int  # 0-based
    images: tuple[int, ...]  # 1-based positions among the training images
    top: int  # 1-based row of the block's title


class Layout:
    """Positions of everything, derived from the parameters alone."""

    def __init__(self, p: ConvParams) -> None:
        self.p = p
        images = p.images
        self.side = S = images.side
        self.pixels = S * S
        self.scale = scale_of(images)
        self.filters = F = p.filters
        self.conv = C = S - K + 1  # a feature map's side
        self.pooled = P = C // POOL  # a pooled map's side
        self.maps = F * C * C  # conv outputs per image
        self.features = F * P * P  # pooled outputs per image (the dense layer's inputs)
        self.dropping = p.dropout > 0
        n = self.features
        # columns (0-based) of the train sheet's batch rows
        self.pix = 2
        self.z = self.pix + self.pixels
        self.a = self.z + self.maps
        self.m = self.a + self.maps
        self.mask = self.m + n  # dropout only
        self.h = self.mask + n  # dropout only
        self.logit = self.h + n if self.dropping else self.m + n
        self.max = self.logit + CLASSES
        self.e = self.max + 1
        self.sum = self.e + CLASSES
        self.prob = self.sum + 1
        self.onehot = self.prob + CLASSES
        self.loss = self.onehot + CLASSES
        self.delta = self.loss + 1
        self.dh = self.delta + CLASSES
        self.dm = self.dh + n  # dropout only
        self.win = self.dm + n if self.dropping else self.dh + n
        self.da = self.win + n
        self.dz = self.da + self.maps
        self.corr = self.dz + self.maps
        self.end_col = self.corr + F * K * K
        # parameter sections: the filters (F rows: 9 weights, bias), the dense layer
        self.filt = self.pix
        self.dense = self.filt + K * K + 2
        self.rows = max(F, CLASSES)  # R

    # -- where a filter's or a pooled map's values sit in a row --------------------------
    def z_col(self, f: int, r: int, c: int) -> int:
        """Offset of feature map f's value (r, c) in the z, a, dL/da or dL/dz columns."""
        return f * self.conv * self.conv + r * self.conv + c

    def m_col(self, f: int, i: int, j: int) -> int:
        """Offset of pooled map f's value (i, j) among the F*P*P pooled columns."""
        return f * self.pooled * self.pooled + i * self.pooled + j

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

    @cached_property
    def masks(self) -> list[np.ndarray]:
        """Each iteration's dropout mask (batch, features): 1 kept, 0 dropped."""
        if not self.dropping:
            return []
        rng = keep_mask_rng(self.p.seed)
        return [
            (rng.random((len(it.images), self.features)) >= self.p.dropout).astype(float)
            for it in self.iterations
        ]

    @property
    def first_block_row(self) -> int:
        """1-based row of the first iteration's title."""
        return FIRST_PARAM_ROW + self.rows + 2

    def height(self, batch: int) -> int:
        return 2 + batch + 1 + self.rows + 1 + self.rows + 1

    def grad_top(self, it: Iteration) -> int:
        return it.top + 2 + len(it.images) + 1

    def new_top(self, it: Iteration) -> int:
        return self.grad_top(it) + self.rows + 1

    def last_of_epoch(self, epoch: int) -> Iteration:
        return [it for it in self.iterations if it.epoch == epoch][-1]

    @property
    def last_row(self) -> int:
        return self.iterations[-1].top + self.height(len(self.iterations[-1].images))

    # -- counting ----------------------------------------------------------------------
    @property
    def per_image(self) -> int:
        """Formula cells of a batch row on the train sheet."""
        n, maps = self.features, self.maps
        forward = 1 + self.pixels + 2 * maps + n + (n if self.dropping else 0)
        head = 4 * CLASSES + 3 + CLASSES  # logits ... loss, dL/dlogits
        backward = n + (n if self.dropping else 0) + n + 2 * maps + self.filters * K * K
        return forward + head + backward

    @property
    def params(self) -> int:
        return self.filters * (K * K + 1) + CLASSES * (self.features + 1)

    def predict_cells(self, label: bool) -> int:
        """Formula cells of `_predict` per image: ReLU'd maps, pooled, logits ...
        probabilities, prediction[, loss, right]."""
        return self.maps + self.features + 3 * CLASSES + 2 + 1 + (2 if label else 0)

    @property
    def look_cells(self) -> int:
        C, P, F = self.conv, self.pooled, self.filters
        per_filter = K * K + 1 + 2 * C * C + P * P + P * P + P * P + 2 * C * C + K * K
        return F * (self.pixels + per_filter)  # each band shows the image again

    @property
    def check_cells(self) -> int:
        """The nudged sheet's passes and the gradcheck table."""
        b = len(self.iterations[0].images)
        passes = 2 * len(CHECKED)
        n = self.features
        C = self.conv
        # the nudged filter, pixels, filter 1's map, the pooled features [, kept]
        row = K * K + 1 + self.pixels + C * C + n + (n if self.dropping else 0)
        row += CLASSES + 1 + CLASSES + 1 + 1 + 1  # logits, max, exps, sum, loss, label
        table = len(CHECKED) * 6 + 1
        return passes * b * row + passes + table

    @property
    def formula_cells(self) -> int:
        train = sum(len(it.images) * self.per_image + 2 * self.params + 2 for it in self.iterations)
        epochs = self.p.epochs
        valid = self.p.valid * (1 + self.pixels + epochs * self.predict_cells(True)) + 2 * epochs
        progress = len(self.iterations) + 2 * epochs
        filters = 2 * self.filters * K * K  # before and after, as pictures
        confusion = CLASSES * CLASSES
        draw = self.pixels + self.predict_cells(False) + 1 + CLASSES  # + probabilities again
        return (
            train
            + valid
            + progress
            + filters
            + confusion
            + draw
            + self.look_cells
            + self.check_cells
        )

    @property
    def epoch_cols(self) -> int:
        """Columns of one epoch's predictions on the valid sheet."""
        return self.maps + self.features + 3 * CLASSES + 2 + 3

    def start_weights(self) -> list[np.ndarray]:
        """The filters (F, 9 + 1) and the dense layer (10, F*P*P + 1), bias column last:
        seeded normal weights, the filters with standard deviation 0.5 and bias 0.1, the
        dense layer with sqrt(1 / its inputs) and bias 0."""
        rng = np.random.default_rng([self.p.seed, 2])
        n = self.features
        out = []
        for rows, cols, scale, bias in ((self.filters, K * K, FILTER_SCALE, FILTER_BIAS),
                                        (CLASSES, n, np.sqrt(1.0 / n), 0.0)):  # fmt: skip
            w = np.vectorize(stored)(rng.normal(0.0, scale, (rows, cols)))
            out.append(np.hstack([w, np.full((rows, 1), bias)]))
        return out


def valid_left(lay: Layout, epoch: int) -> int:
    """0-based first column of epoch `epoch`'s predictions on the valid sheet."""
    return lay.pix + lay.pixels + 1 + epoch * (lay.epoch_cols + 1)


def valid_result(lay: Layout, epoch: int, row: int) -> tuple[int, int]:
    """(row, col) of epoch `epoch`'s validation loss or accuracy (`row`) on the valid sheet."""
    return row, valid_left(lay, epoch) + 1


# the look sheet: one image through the network, as pictures
LOOK_TOP = 4  # 0-based row of the first band


def look_band_top(lay: Layout, f: int) -> int:
    """0-based first row of filter f's band on the look sheet."""
    return LOOK_TOP + f * (max(lay.conv, lay.side) + 3)


def look_cols(lay: Layout) -> dict[str, int]:
    """0-based first column of each picture in a band of the look sheet."""
    S, C, P = lay.side, lay.conv, lay.pooled
    out, col = {}, 1
    for name, width in (("image", S), ("filter", K), ("bias", 1), ("z", C), ("a", C), ("m", P),
                        ("dm", P), ("win", P), ("da", C), ("dz", C), ("dfilter", K)):  # fmt: skip
        out[name] = col
        col += width + 1
    return out


def draw_top(lay: Layout) -> int:
    """0-based row of the draw sheet's title of the flattened pixels: below the grid and
    below the probabilities listed beside it (rows 3 to 12)."""
    return max(3 + lay.side, 3 + CLASSES)


def objective_top(lay: Layout) -> int:
    """0-based first row of the nudged sheet's objectives (a row per pass), below the
    passes so that each reads rows above it."""
    return NUDGED_TOP + 1 + 2 * len(CHECKED) * len(lay.iterations[0].images) + 2


def filters_at(lay: Layout, which: int, f: int) -> tuple[int, int]:
    """(row, col), 0-based, of filter f's 3x3 picture on the filters sheet: `which` 0 is
    before training, 1 after."""
    return 3 + which * (K + 3), 1 + f * (K + 1)
