"""conv: a convolutional network learns the digits, trained by backpropagation in the cells.

3x3 filters slide over each image (SUMPRODUCT of the window with the filter), ReLU,
a 2x2 max-pool, [inverted dropout,] a dense layer, softmax and cross-entropy; then
the backward pass in the order the chain rule runs, back to each filter's weights.
Each iteration is a block of the train sheet (see layout.py); the look sheet draws
one image's trip through the network as pictures.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ...engine import (
    Block,
    Expr,
    If,
    Ref,
    Role,
    Sheet,
    Workbook,
    abs_,
    average,
    count,
    exp,
    index,
    ln,
    match,
    max_,
    sum_,
    sumproduct,
    sumsq,
)
from ...engine.workbook import Chart, Series
from ..images import (
    ImageCells,
    Validation,
    add_confusion,
    add_drawing,
    add_images,
    add_valid_images,
)
from ..network import (
    bias_grad,
    cross_entropy,
    dense,
    logit_grad,
    one_hot,
    relu,
    softmax,
    step,
    weight_grad,
)
from .layout import (
    BATCH_LOSS_COL,
    BATCH_SIZE_COL,
    CHECK_TOP,
    CHECKED,
    CLASSES,
    DATA_FIRST_ROW,
    FIRST_PARAM_ROW,
    NUDGED_TOP,
    VALID_ACCURACY_ROW,
    VALID_FIRST_ROW,
    VALID_LOSS_ROW,
    ConvParams,
    Iteration,
    K,
    Layout,
    draw_top,
    filters_at,
    look_band_top,
    look_cols,
    objective_top,
    valid_left,
    valid_result,
)

PIXEL = "0.00"
WEIGHT = "0.0000"
PROB = "0.000"
GRAD = "0.000000"
HIDE = ";;;"  # a picture's cells: the colour speaks, the number hides (click to see it)
NOTES = {
    "pixel": "the image's pixel from the data sheet, scaled to [0, 1]",
    "z": "convolution: SUMPRODUCT of the 3x3 window of pixels under this position with the "
    "filter, row by row (three rows of three), + the filter's bias",
    "a": "ReLU: MAX(z, 0)",
    "fused": "the convolution (three SUMPRODUCTs, window row by filter row, + bias) and its "
    "ReLU in one cell, MAX(..., 0): predicting needs no z of its own",
    "m": "2x2 max-pool: the largest of the four ReLU outputs in this window",
    "mask": "dropout mask, drawn from the seed: 1 keeps the feature, 0 drops it",
    "h": "inverted dropout: m * mask / (1 - p). Dividing the kept features by 1 - p keeps "
    "their expected value what it is without dropout, so at validation (nothing dropped, "
    "nothing rescaled) the dense layer sees the scale it trained on",
    "logit": "logit: SUMPRODUCT(the pooled features, the class's weights) + its bias",
    "max": "the row's largest logit: subtracting it before EXP gives the same softmax "
    "and EXP can never overflow",
    "softmax": "softmax: exp over the row's sum; the row sums to 1",
    "onehot": "one-hot target: 1 in the true class's column",
    "loss": "cross-entropy: -LN of the probability the model gives the true class",
    "delta": "dL/dlogit for the batch's mean loss: (softmax - one-hot) / batch size",
    "dh": "dL/dfeature = sum over classes k of dL/dlogit k * W[k, this feature]: the "
    "gradient sent back through the dense layer",
    "dm": "dL/dm = dL/dh * mask / (1 - p): a dropped feature passes nothing back",
    "win": "which of the pool window's four positions won (1 top left, 2 top right, "
    "3 bottom left, 4 bottom right): on a tie the first in reading order wins, as "
    "PyTorch's max_pool2d picks it",
    "da": "dL/da: the pool passes its gradient to the position that won and 0 to the other three",
    "dz": "dL/dz = dL/da where z > 0, else 0: the chain rule through the ReLU",
    "corr": "this image's dL/dw for filter weight (row, col): SUMPRODUCT of dL/dz with the "
    "pixels under it shifted by (row, col), row by row: the input correlated with dL/dz",
    "fgrad": "dL/dw = the batch's sum of each image's share + 2*wd*w",
    "fbias": "dL/db = SUM of this filter's dL/dz over the batch's images and positions + 2*wd*b",
    "grad": "dL/dW = SUMPRODUCT(dL/dlogit of this class, this feature over the batch) + 2*wd*W",
    "bias": "dL/db = SUM(dL/dlogit of this class) + 2*wd*b",
    "new": "p - lr * gradient: the parameters the next iteration starts from",
}


def build(p: ConvParams) -> Workbook:
    lay = Layout(p)
    wb = Workbook(title="conv")
    images = add_images(wb, p, lay.side, lay.pixels, lay.scale, DATA_FIRST_ROW)
    training = _train(wb, p, lay, images)
    validation = _valid(wb, p, lay, images, training)
    _progress(wb, p, lay, training, validation)
    _look(wb, lay, training)
    _filters(wb, lay, training)
    assert validation.predictions is not None
    add_confusion(wb, p.epochs, validation.labels, validation.predictions)
    _draw(wb, p, lay, images.scale, training.after[-1].fixed())
    _gradcheck(wb, lay, training)
    return wb


class Section:
    """Parameters on the train sheet: the filters (a row per filter: its 3x3 weights row
    by row, then its bias) and the dense layer (a row per class: a weight per pooled
    feature, then its bias)."""

    def __init__(self, s: Sheet, lay: Layout, top: int) -> None:
        """`top`: 0-based first row."""
        self.filters = Block(s, top, lay.filt, lay.filters, K * K + 1)
        self.dense = Block(s, top, lay.dense, CLASSES, lay.features + 1)

    @property
    def layers(self) -> list[Block]:
        return [self.filters, self.dense]

    def fixed(self) -> Section:
        """The same parameters with absolute references, as other sheets read them."""
        out = copy.copy(self)
        out.filters, out.dense = self.filters.fixed(), self.dense.fixed()
        return out

    @staticmethod
    def weights(layer: Block) -> Block:
        return layer.part(0, 0, layer.rows, layer.cols - 1)

    @staticmethod
    def bias(layer: Block) -> Block:
        return layer.part(0, layer.cols - 1, layer.rows, 1)

    def label(self, s: Sheet, lay: Layout, col: int) -> None:
        """Row headers left of the filters ('filter f') and of the dense layer ('class k'),
        and column headers above both."""
        for f in range(lay.filters):
            s.header((self.filters.top + f, col), f"filter {f + 1}")
        for k in range(CLASSES):
            s.header((self.dense.top + k, self.dense.left - 1), f"class {k}")
        self.filters.headers([f"w({r + 1},{c + 1})" for r in range(K) for c in range(K)] + ["bias"])
        self.dense.headers([f"W·{name}" for name in feature_names(lay)] + ["bias"])


def feature_names(lay: Layout) -> list[str]:
    P = lay.pooled
    return [
        f"f{f + 1} ({i + 1},{j + 1})"
        for f in range(lay.filters)
        for i in range(P)
        for j in range(P)
    ]


def map_names(lay: Layout, what: str) -> list[str]:
    C = lay.conv
    return [
        f"{what} f{f + 1} ({r + 1},{c + 1})"
        for f in range(lay.filters)
        for r in range(C)
        for c in range(C)
    ]


@dataclass
class Forward:
    """One iteration's cells other sheets read: the batch's pixels, labels, pooled
    features, dropout mask, dL/dm, winners and dL/dz."""

    label: Block
    x: Block
    z: Block
    a: Block
    m: Block
    mask: Block | None
    dm: Block
    win: Block
    da: Block
    dz: Block
    corr: Block


@dataclass
class Training:
    """Each iteration's batch loss and the parameters it ends with; the start, the first
    iteration's cells and gradients (for the look and gradcheck sheets)."""

    start: Section
    dropout: Ref
    wd: Ref
    batch_loss: list[Ref] = field(default_factory=list)
    after: list[Section] = field(default_factory=list)
    first: Forward | None = None
    first_grad: Section | None = None


def _train(wb: Workbook, p: ConvParams, lay: Layout, images: ImageCells) -> Training:
    s = wb.add_sheet("train")
    s.label("A1", "learning rate")
    lr = s.input("C1", p.lr, note="lr: change it and every iteration below is recomputed")
    s.label("D1", "weight decay")
    wd = s.input("F1", p.wd, note="wd: each gradient gets 2*wd*p added (the notebook's L2)")
    s.label("G1", "dropout p")
    drop = s.input(
        "I1",
        p.dropout,
        note="the share of pooled features dropped in training. The masks below were drawn "
        "for the p the workbook was built with: changing p here rescales, it does not redraw",
    )
    s.label(
        "K1",
        "Every block below is one iteration: a mini-batch of images, a row each, through "
        "convolution, ReLU, max-pool" + (", dropout" if lay.dropping else "") + ", dense "
        "layer and softmax,",
    )
    s.label(
        "K2",
        "then back again to the filters' gradients and the updated parameters. The look "
        "sheet draws the first image's row as pictures.",
    )
    start = Section(s, lay, FIRST_PARAM_ROW - 1)
    s.header(
        "A3",
        "starting parameters: a row per filter (its 3x3 weights row by row, then "
        "its bias), and the dense layer: a row per class, a weight per pooled feature",
    )
    for layer, values in zip(start.layers, lay.start_weights()):
        layer.inputs(
            values,
            note="seeded random weights (filter biases 0.1, class biases 0): the start",
            number_format=WEIGHT,
        )
    start.label(s, lay, 0)
    training = Training(start.fixed(), drop.fixed(), wd.fixed())
    params = start
    for it in lay.iterations:
        params = _iteration(s, lay, it, params, lr.fixed(), images, training)
    s.freeze = (0, 2)
    s.width(0, 9.0, 1)
    s.width(lay.pix, 8.0, max(lay.end_col, lay.dense + lay.features + 1))
    return training


def _conv(X: Block, W: Block, f: int, r: int, S: int) -> Expr:
    """Feature map f's value at (r, 0) of the image in X's first row: three SUMPRODUCTs,
    a window row by a filter row, + the bias (W: the filters, relative rows allowed)."""
    out: Expr | None = None
    for kr in range(K):
        term = sumproduct(X.part(0, (r + kr) * S, 1, K).row(0), W.part(f, kr * K, 1, K).row(0))
        out = term if out is None else out + term
    return out + W[f, K * K]  # type: ignore[operator]


def _pool(A: Block, C: int, P: int, col: int) -> Expr:
    """MAX over the 2x2 window of pooled column `col` (one image row of A, whose maps
    are C x C; pooled maps P x P)."""
    f, rest = divmod(col, P * P)
    i, j = divmod(rest, P)
    top = A.part(0, f * C * C + 2 * i * C + 2 * j, 1, 2).row(0)
    bottom = A.part(0, f * C * C + (2 * i + 1) * C + 2 * j, 1, 2).row(0)
    return max_(top, bottom)


def _forward_maps(
    X: Block,
    A: Block,
    M: Block,
    W: Block,
    lay: Layout,
    fused: Block | None,
    number_format: str | None = WEIGHT,
) -> None:
    """ReLU'd feature maps A and pooled maps M of the images in X's rows. With `fused`
    (the z block) z is its own block and A = MAX(z, 0); without, A holds
    MAX(convolution, 0) directly."""
    C = lay.conv
    for f in range(lay.filters):
        for r in range(C):
            target = (fused if fused is not None else A).part(0, lay.z_col(f, r, 0), X.rows, C)
            conv = _conv(X, W, f, r, lay.side)
            target.fill_like(
                conv if fused is not None else max_(conv, 0),
                (NOTES["z"] if fused is not None else NOTES["fused"]) if f == r == 0 else None,
                number_format,
            )
    if fused is not None:
        relu(A, fused, NOTES["a"], number_format)
    M.fill_columns(lambda col: _pool(A, lay.conv, lay.pooled, col), NOTES["m"], number_format)


def _iteration(
    s: Sheet,
    lay: Layout,
    it: Iteration,
    params: Section,
    lr: Ref,
    images: ImageCells,
    training: Training,
) -> Section:
    """One iteration's block; returns the parameters it ends with, and adds its batch
    loss and those parameters to `training`."""
    first = it.number == 0

    def note(key: str) -> str | None:
        return NOTES[key] if first else None

    top, n = it.top - 1, len(it.images)
    s.header((top, 0), "iteration")
    s.set((top, 1), float(it.number + 1), Role.HEADER)
    s.header((top, 2), "epoch")
    s.set((top, 3), float(it.epoch + 1), Role.HEADER)
    s.header((top, BATCH_SIZE_COL - 1), "batch size")
    s.header((top, BATCH_LOSS_COL - 1), "batch loss")
    rows = top + 2
    feats = feature_names(lay)
    heads = (
        ["image", "label"]
        + [f"x{j + 1}" for j in range(lay.pixels)]
        + map_names(lay, "z")
        + map_names(lay, "a")
        + [f"m {t}" for t in feats]
        + ([f"mask {t}" for t in feats] + [f"h {t}" for t in feats] if lay.dropping else [])
        + [f"logit {k}" for k in range(CLASSES)]
        + ["max"]
        + [f"exp {k}" for k in range(CLASSES)]
        + ["sum"]
        + [f"p {k}" for k in range(CLASSES)]
        + [f"y {k}" for k in range(CLASSES)]
        + ["loss"]
        + [f"dL/dlogit {k}" for k in range(CLASSES)]
        + [f"dL/d{'h' if lay.dropping else 'm'} {t}" for t in feats]
        + ([f"dL/dm {t}" for t in feats] if lay.dropping else [])
        + [f"winner {t}" for t in feats]
        + map_names(lay, "dL/da")
        + map_names(lay, "dL/dz")
        + [
            f"dL/dw f{f + 1} ({r + 1},{c + 1})"
            for f in range(lay.filters)
            for r in range(K)
            for c in range(K)
        ]
    )
    for j, text in enumerate(heads):
        s.header((top + 1, j), text)

    image = Block(s, rows, 0, n, 1)
    image.inputs(
        [[float(i)] for i in it.images],
        note="which training image (seeded order of this epoch)" if first else None,
    )
    img = image.fixed_col()
    label = Block(s, rows, 1, n, 1)
    label.fill(lambda i, _: index(images.train_labels.fixed_row().col(0), img[i, 0], 1))
    batch = s.formula((top, BATCH_SIZE_COL), count(image.range)).fixed()

    def at(col: int, width: int) -> Block:
        return Block(s, rows, col, n, width)

    X = at(lay.pix, lay.pixels)
    X.fill_like(
        index(images.train_pixels.fixed_row().col(0), img[0, 0], 1) / images.scale,
        note("pixel"),
        PIXEL,
    )
    W, b = Section.weights, Section.bias
    Z, A, M = at(lay.z, lay.maps), at(lay.a, lay.maps), at(lay.m, lay.features)
    _forward_maps(X, A, M, params.filters.fixed(), lay, Z)
    feats_block, mask = M, None
    if lay.dropping:
        mask = at(lay.mask, lay.features)
        mask.inputs(lay.masks[it.number], note=note("mask"))
        feats_block = at(lay.h, lay.features)
        feats_block.fill_like(M[0, 0] * mask[0, 0] / (1 - training.dropout), note("h"), WEIGHT)
    Lg, Mx, E, Sm = at(lay.logit, CLASSES), at(lay.max, 1), at(lay.e, CLASSES), at(lay.sum, 1)
    P, Y, L, D = (
        at(lay.prob, CLASSES),
        at(lay.onehot, CLASSES),
        at(lay.loss, 1),
        at(lay.delta, CLASSES),
    )
    dense(Lg, feats_block, W(params.dense), b(params.dense), note("logit"), WEIGHT)
    softmax(
        Lg,
        Mx,
        E,
        Sm,
        P,
        {"max": NOTES["max"], "softmax": NOTES["softmax"]} if first else None,
        number_format=WEIGHT,
        prob_format=PROB,
    )
    one_hot(Y, label, note("onehot"))
    cross_entropy(L, P, label, note("loss"), WEIGHT)
    training.batch_loss.append(
        s.formula((top, BATCH_LOSS_COL), average(L.range), number_format=WEIGHT)
    )
    logit_grad(D, P, Y, batch, note("delta"), WEIGHT)

    # backwards: through the dense layer, [the dropout,] the pool, the ReLU, the filters
    DH = at(lay.dh, lay.features)
    Dr, Wr = D.fixed_col(), W(params.dense).fixed_row()
    back: Expr = Dr[0, 0] * Wr[0, 0]
    for k in range(1, CLASSES):
        back = back + Dr[0, k] * Wr[k, 0]
    DH.fill_like(back, note("dh"), GRAD)
    DM = DH
    if mask is not None:
        DM = at(lay.dm, lay.features)
        DM.fill_like(DH[0, 0] * mask[0, 0] / (1 - training.dropout), note("dm"), GRAD)
    WIN = at(lay.win, lay.features)
    WIN.fill_columns(lambda col: _winner(A, M, lay, col), note("win"))
    DA = at(lay.da, lay.maps)
    DA.fill_columns(lambda col: _route(WIN, DM, lay, col), note("da"), GRAD)
    DZ = at(lay.dz, lay.maps)
    DZ.fill_like(If(Z[0, 0] > 0, DA[0, 0], 0), note("dz"), GRAD)
    CORR = at(lay.corr, lay.filters * K * K)
    DZf = DZ.fixed_col()
    for f in range(lay.filters):
        for kr in range(K):
            share: Expr | None = None
            for r in range(lay.conv):
                term = sumproduct(
                    DZf.part(0, lay.z_col(f, r, 0), 1, lay.conv).row(0),
                    X.part(0, (r + kr) * lay.side, 1, lay.conv).row(0),
                )
                share = term if share is None else share + term
            CORR.part(0, f * K * K + kr * K, n, K).fill_like(
                share, note("corr") if f == kr == 0 else None, GRAD
            )  # type: ignore[arg-type]
    if first:
        training.first = Forward(label, X, Z, A, M, mask, DM, WIN, DA, DZ, CORR)

    g_top = lay.grad_top(it) - 1
    s.header((g_top - 1, 0), "gradient")
    s.label((g_top - 1, 2), "dL/dp for every parameter, weight decay included")
    grad = Section(s, lay, g_top)
    wd = training.wd
    Wf, Gf = W(params.filters), W(grad.filters)
    corr_cols = CORR.fixed_row()
    Gf.fill_rows(lambda f: sum_(corr_cols.col(f * K * K)) + 2 * wd * Wf[f, 0], note("fgrad"), GRAD)
    DZall = DZ.fixed()
    b(grad.filters).fill(
        lambda f, _: (
            sum_(DZall.part(0, lay.z_col(f, 0, 0), n, lay.conv * lay.conv).range)
            + 2 * wd * b(params.filters)[f, 0]
        ),
        note("fbias"),
        GRAD,
    )
    weight_grad(W(grad.dense), D, feats_block, W(params.dense), wd, note("grad"), GRAD)
    bias_grad(b(grad.dense), D, b(params.dense), wd, note("bias"), GRAD)
    n_top = lay.new_top(it) - 1
    s.header((n_top - 1, 0), "new parameters")
    s.label((n_top - 1, 2), f"after iteration {it.number + 1}: p - lr * gradient")
    new = Section(s, lay, n_top)
    for old, g, after in zip(params.layers, grad.layers, new.layers):
        step(after, old, g, lr, note("new") if old is params.filters else None, WEIGHT)
    for section in (grad, new):
        for f in range(lay.filters):
            s.header((section.filters.top + f, 1), f"filter {f + 1}")
        for k in range(CLASSES):
            s.header((section.dense.top + k, section.dense.left - 1), f"class {k}")
    if first:
        training.first_grad = grad
    training.after.append(new)
    return new


def _winner(A: Block, M: Block, lay: Layout, col: int) -> Expr:
    """1..4: the first position of the pool window (reading order) holding its max."""
    f, rest = divmod(col, lay.pooled * lay.pooled)
    i, j = divmod(rest, lay.pooled)
    m = M[0, col]
    spots = [A[0, lay.z_col(f, 2 * i + di, 2 * j + dj)] for di in (0, 1) for dj in (0, 1)]
    return If(spots[0].eq(m), 1, If(spots[1].eq(m), 2, If(spots[2].eq(m), 3, 4)))


def _route(WIN: Block, DM: Block, lay: Layout, col: int) -> Expr:
    """dL/da at map position `col`: the pool's gradient if this position won, else 0."""
    C = lay.conv
    f, rest = divmod(col, C * C)
    r, c = divmod(rest, C)
    q = lay.m_col(f, r // 2, c // 2)
    return If(WIN[0, q].eq((r % 2) * 2 + c % 2 + 1), DM[0, q], 0)


def prediction_heads(lay: Layout, *tail: str) -> list[str]:
    """Headers of the columns `_predict` writes."""
    return [
        *map_names(lay, "conv+ReLU"),
        *(f"m {t}" for t in feature_names(lay)),
        *(f"logit {k}" for k in range(CLASSES)),
        "max",
        *(f"exp {k}" for k in range(CLASSES)),
        "sum",
        *(f"p {k}" for k in range(CLASSES)),
        *tail,
    ]


def _predict(
    s: Sheet,
    lay: Layout,
    rows: int,
    n: int,
    left: int,
    pixels: Block,
    params: Section,
    label: Block | None,
) -> dict[str, Block]:
    """The network without dropout (the convolution and ReLU in one cell), softmax,
    prediction[, loss and right] for `n` images whose scaled pixels are `pixels`."""
    A = Block(s, rows, left, n, lay.maps)
    M = A.right(0, lay.features)
    _forward_maps(pixels, A, M, params.filters, lay, None)
    Z = M.right(0, CLASSES)
    dense(Z, M, Section.weights(params.dense), Section.bias(params.dense), number_format=WEIGHT)
    Mx = Z.right(0, 1)
    E = Mx.right(0, CLASSES)
    Sm = E.right(0, 1)
    P = Sm.right(0, CLASSES)
    softmax(Z, Mx, E, Sm, P, number_format=WEIGHT, prob_format=PROB)
    pred = P.right(0, 1)
    Pf = P.fixed_col()
    pred.fill(lambda i, _: match(max_(Pf.row(i)), Pf.row(i), 0) - 1)
    out = {"a": A, "m": M, "z": Z, "p": P, "pred": pred}
    if label is not None:
        lab = label.fixed_col()
        loss = pred.right(0, 1)
        cross_entropy(loss, P, label, number_format=WEIGHT)
        right = loss.right(0, 1)
        right.fill(lambda i, _: If(pred.fixed_col()[i, 0].eq(lab[i, 0]), 1, 0))
        out |= {"loss": loss, "correct": right}
    return out


def _valid(
    wb: Workbook, p: ConvParams, lay: Layout, images: ImageCells, training: Training
) -> Validation:
    s = wb.add_sheet("valid")
    s.label(
        "A1",
        "Validation images: the model after each epoch, on images it never trained on, "
        "without dropout (nothing dropped, nothing rescaled). prediction = the class of "
        "the largest probability.",
    )
    rows, m = VALID_FIRST_ROW - 1, p.valid
    label, pixels = add_valid_images(s, p, images, rows, lay.pix, NOTES["pixel"], PIXEL)
    validation = Validation(label)
    for epoch in range(p.epochs):
        left = valid_left(lay, epoch)
        after = training.after[lay.last_of_epoch(epoch).number].fixed()
        out = _predict(s, lay, rows, m, left, pixels, after, label)
        validation.predictions = out["pred"]
        s.header((0, left), f"after epoch {epoch + 1}")
        s.header((VALID_LOSS_ROW, left), "loss")
        loss = s.formula(
            valid_result(lay, epoch, VALID_LOSS_ROW),
            average(out["loss"].range),
            number_format=WEIGHT,
            note="mean cross-entropy on the validation images" if epoch == 0 else None,
        )
        s.header((VALID_ACCURACY_ROW, left), "accuracy")
        accuracy = s.formula(
            valid_result(lay, epoch, VALID_ACCURACY_ROW),
            average(out["correct"].range),
            number_format="0.0%",
            note="the share of images predicted right" if epoch == 0 else None,
        )
        validation.loss.append(loss)
        validation.accuracy.append(accuracy)
        for j, text in enumerate(prediction_heads(lay, "prediction", "loss", "correct")):
            s.header((rows - 1, left + j), text)
    s.freeze = (rows, 2)
    s.width(lay.pix, 5.0, lay.pix + lay.pixels - 1)
    s.width(valid_left(lay, 0), 9.0, valid_left(lay, p.epochs))
    return validation


def _progress(
    wb: Workbook, p: ConvParams, lay: Layout, training: Training, validation: Validation
) -> None:
    s = wb.add_sheet("progress")
    for j, text in enumerate(("iteration", "epoch", "batch loss")):
        s.header((0, j), text)
    for it, batch_loss in zip(lay.iterations, training.batch_loss):
        s.set((it.number + 1, 0), float(it.number + 1), Role.LABEL)
        s.set((it.number + 1, 1), float(it.epoch + 1), Role.LABEL)
        s.formula((it.number + 1, 2), batch_loss, number_format=WEIGHT)
    for j, text in enumerate(("epoch", "validation loss", "validation accuracy")):
        s.header((0, 4 + j), text)
    for e, (loss, accuracy) in enumerate(zip(validation.loss, validation.accuracy)):
        s.set((e + 1, 4), float(e + 1), Role.LABEL)
        s.formula((e + 1, 5), loss, number_format=WEIGHT)
        s.formula((e + 1, 6), accuracy, number_format="0.0%")
    s.width(0, 14.0, 6)


def charts(p: ConvParams) -> list[Chart]:
    n = len(Layout(p).iterations)
    return [
        Chart(
            "Training loss per iteration (mini-batch mean)",
            "iteration",
            "loss",
            [Series("batch loss", ("progress", 1, 0, n, 0), ("progress", 1, 2, n, 2))],
            scatter=True,
        ),
        Chart(
            "Validation accuracy after each epoch",
            "epoch",
            "accuracy",
            [Series("accuracy", ("progress", 1, 4, p.epochs, 4), ("progress", 1, 6, p.epochs, 6))],
            y_range=(0.0, 1.0),
            y_format="0%",
        ),
    ]


# -- pictures ----------------------------------------------------------------------------------
def _picture(
    s: Sheet, top: int, left: int, rows: int, cols: int, title: str, diverging: bool = True
) -> Block:
    s.header((top - 1, left), title)
    s.color_scales.append((top, left, top + rows - 1, left + cols - 1, diverging))
    return Block(s, top, left, rows, cols)


def _look(wb: Workbook, lay: Layout, training: Training) -> None:
    """The first image of the first batch through iteration 1, as pictures: the filter,
    its feature map before and after ReLU, the pool, and back again."""
    s = wb.add_sheet("look")
    first = training.first
    assert first is not None
    S, C, P = lay.side, lay.conv, lay.pooled
    s.label(
        "A1",
        "One image through the network, as pictures: the first image of iteration 1 on the "
        "train sheet (the same numbers as its row there). Red is positive, blue negative.",
    )
    s.label(
        "A2",
        "Each filter slides over the image: z(r,c) = SUMPRODUCT(the 3x3 window at (r,c), "
        "the filter) + bias; ReLU; the 2x2 max-pool. Backwards: dL/dm goes to the winner, "
        "through the ReLU to dL/dz, and dL/dw(i,j) = SUMPRODUCT(dL/dz, the 6x6 window of the "
        "image shifted by (i,j))."
        if C == 6
        else "Each filter slides over the image; ReLU; the 2x2 max-pool; and backwards to dL/dw.",
    )
    cols = look_cols(lay)
    x = first.x.fixed()
    start = training.start.filters
    for f in range(lay.filters):
        top = look_band_top(lay, f) + 1
        s.header((top - 2, 0), f"filter {f + 1}")
        img = _picture(s, top, cols["image"], S, S, "the image", diverging=False)
        img.fill(lambda r, c: x[0, r * S + c], NOTES["pixel"] if f == 0 else None, HIDE)
        win = img.fixed()
        filt = _picture(s, top, cols["filter"], K, K, f"filter {f + 1}")
        filt.fill(lambda r, c, f=f: start[f, r * K + c], number_format=WEIGHT)
        s.header((top - 1, cols["bias"]), "bias")
        bias = s.formula((top, cols["bias"]), start[f, K * K], number_format=WEIGHT).fixed()
        ff = filt.fixed()
        z = _picture(s, top, cols["z"], C, C, "z: the feature map")
        z.fill_like(
            sumproduct(win.relative().part(0, 0, K, K).range, ff.range) + bias,
            "z = SUMPRODUCT(the 3x3 window of the image, the filter) + bias",
            HIDE,
        )
        a = _picture(s, top, cols["a"], C, C, "a = ReLU(z)", diverging=False)
        a.fill_like(max_(z[0, 0], 0), None, HIDE)
        m = _picture(s, top, cols["m"], P, P, "m: max-pool", diverging=False)
        m.fill(lambda i, j, a=a: max_(a.part(2 * i, 2 * j, 2, 2).range), None, HIDE)
        dm = _picture(s, top, cols["dm"], P, P, "dL/dm")
        dmf = first.dm.fixed()
        dm.fill(lambda i, j, f=f, dmf=dmf: dmf[0, lay.m_col(f, i, j)], None, HIDE)
        winner = Block(s, top, cols["win"], P, P)
        s.header((top - 1, cols["win"]), "winner 1..4")
        winner.fill(
            lambda i, j, a=a, m=m: If(
                a[2 * i, 2 * j].eq(m[i, j]),
                1,
                If(a[2 * i, 2 * j + 1].eq(m[i, j]), 2, If(a[2 * i + 1, 2 * j].eq(m[i, j]), 3, 4)),
            ),
            NOTES["win"],
        )
        da = _picture(s, top, cols["da"], C, C, "dL/da")
        da.fill(
            lambda r, c, winner=winner, dm=dm: If(
                winner[r // 2, c // 2].eq((r % 2) * 2 + c % 2 + 1), dm[r // 2, c // 2], 0
            ),
            None,
            HIDE,
        )
        dz = _picture(s, top, cols["dz"], C, C, "dL/dz")
        dz.fill_like(If(z[0, 0] > 0, da[0, 0], 0), None, HIDE)
        dw = _picture(s, top, cols["dfilter"], K, K, "dL/dw (this image)")
        dw.fill_like(
            sumproduct(dz.fixed().range, win.relative().part(0, 0, C, C).range),
            "SUMPRODUCT(dL/dz, the image's window shifted by this weight's place)",
            GRAD,
        )
    s.width(0, 10.0)
    s.width(1, 3.2, cols["dfilter"] + K)
    for name in ("filter", "dfilter"):
        s.width(cols[name], 8.0, cols[name] + K - 1)
    s.width(cols["bias"], 8.0)
    s.width(cols["win"], 3.2, cols["win"] + P - 1)


def _filters(wb: Workbook, lay: Layout, training: Training) -> None:
    s = wb.add_sheet("filters")
    s.label(
        "A1",
        "Each filter's 3x3 weights as a picture, before and after training: a red weight "
        "raises the feature map where its pixel has ink, a blue one lowers it.",
    )
    for which, (title, section) in enumerate(
        (("before training", training.start), ("after training", training.after[-1].fixed()))
    ):
        row, _ = filters_at(lay, which, 0)
        s.header((row - 2, 0), title)
        for f in range(lay.filters):
            top, left = filters_at(lay, which, f)
            grid = _picture(s, top, left, K, K, f"filter {f + 1}")
            W = section.filters
            grid.fill(lambda r, c, f=f, W=W: W[f, r * K + c], number_format=WEIGHT)
    s.width(0, 16.0)
    s.width(1, 8.0, lay.filters * (K + 1))


def _draw(wb: Workbook, p: ConvParams, lay: Layout, scale: Ref, final: Section) -> None:
    side, top = lay.side, draw_top(lay)
    s, flat = add_drawing(wb, p, side, lay.scale, "network", top, lay.pix, scale, PIXEL)
    out = _predict(s, lay, top + 4, 1, lay.pix, flat, final, None)
    heads = prediction_heads(lay, "prediction")
    for j, text in enumerate(heads):
        s.header((top + 3, lay.pix + j), text)
    s.header((top + 4, 0), "your digit")
    s.header((top + 6, 0), "prediction")
    s.formula((top + 6, lay.pix), out["pred"][0, 0])
    # the probabilities again beside the grid, where the eye is
    s.header((1, side + 3), "digit")
    s.header((1, side + 4), "probability")
    for k in range(CLASSES):
        s.set((2 + k, side + 3), float(k), Role.HEADER)
    probs = Block(s, 2, side + 4, CLASSES, 1)
    probs.fill(lambda k, _: out["p"].fixed()[0, k], number_format=PROB)
    s.color_scales.append((2, side + 4, 1 + CLASSES, side + 4, False))
    s.width(side + 3, 7.0)
    s.width(side + 4, 11.0)
    s.width(0, 12.0)
    s.width(1, 4.0, side)
    s.width(lay.pix, 9.0, lay.pix + len(heads))


# -- the gradient check ---------------------------------------------------------------------
def _gradcheck(wb: Workbook, lay: Layout, training: Training) -> None:
    """A few of filter 1's parameters nudged by +h and -h: the forward pass of iteration 1
    again (sheet nudged, the same images and dropout masks), and the slope
    (L(p+h) - L(p-h)) / 2h next to backprop's gradient."""
    s = wb.add_sheet("gradcheck")
    first, grad = training.first, training.first_grad
    assert first is not None and grad is not None
    names = [
        f"filter 1 w({q // K + 1},{q % K + 1})" if q < K * K else "filter 1 bias" for q in CHECKED
    ]
    s.label(
        "A1",
        "Is backpropagation right? Nudge one of filter 1's parameters by +h and by -h, run "
        "iteration 1's forward pass again (sheet nudged: the same images and dropout masks), "
        "and compare the slope (L(p+h) - L(p-h)) / 2h with the train sheet's gradient.",
    )
    s.label("A2", "step h")
    h = s.input(
        "C2",
        1e-5,
        note="the nudge: smaller h is closer to the true slope until rounding takes over",
    ).fixed()
    s.label("E2", "largest relative difference")
    heads = [
        "parameter",
        "value",
        "backprop dL/dp",
        "L(p+h)",
        "L(p-h)",
        "(L(p+h)-L(p-h))/2h",
        "relative difference",
    ]
    for j, text in enumerate(heads):
        s.header((CHECK_TOP, j), text)
    rows = CHECK_TOP + 1
    count_p = len(CHECKED)
    for q, name in enumerate(names):
        s.header((rows + q, 0), name)
    start = training.start.filters
    Block(s, rows, 1, count_p, 1).fill(lambda q, _: start[0, CHECKED[q]], number_format=WEIGHT)
    bp = Block(s, rows, 2, count_p, 1)
    g = grad.filters.fixed()
    bp.fill(lambda q, _: g[0, CHECKED[q]], "dL/dp from train's first iteration", GRAD)

    t = wb.add_sheet("nudged")
    b = first.x.rows
    passes = 2 * count_p
    top, body = NUDGED_TOP, NUDGED_TOP + 1
    t.header(
        (top - 2, 0),
        "Each group of rows runs iteration 1's forward pass over its batch "
        "with one of filter 1's parameters nudged; its objective is L(p+h) or L(p-h).",
    )
    for j, text in enumerate(("parameter", "nudge", "which", "sign")):
        t.header((top, j), text)
    for q in range(passes):
        for i in range(b):
            r = body + q * b + i
            t.header((r, 0), names[q // 2])
            t.label((r, 1), "+h" if q % 2 == 0 else "-h")
            t.set((r, 2), float(CHECKED[q // 2] + 1), Role.LABEL)
            t.set((r, 3), 1.0 if q % 2 == 0 else -1.0, Role.LABEL)
    n_rows = passes * b
    which, sign = Block(t, body, 2, n_rows, 1).fixed_col(), Block(t, body, 3, n_rows, 1).fixed_col()
    filt = Block(t, body, 4, n_rows, K * K + 1)
    position = Block(t, top - 1, 4, 1, K * K + 1)
    for j in range(K * K + 1):
        t.set((top - 1, 4 + j), float(j + 1), Role.LABEL)
    filt.headers([f"w({r + 1},{c + 1})" for r in range(K) for c in range(K)] + ["bias"], 1)
    filt.fill_like(
        start.fixed_row()[0, 0] + If(which[0, 0].eq(position.fixed_row()[0, 0]), sign[0, 0] * h, 0),
        "filter 1 with one parameter nudged: p + sign * h where its place is 'which'",
        WEIGHT,
    )
    x = Block(t, body, filt.left + filt.cols + 1, n_rows, lay.pixels)
    feats = Block(t, body, x.left + x.cols + 1, n_rows, lay.features)
    a1 = Block(t, body, feats.left + feats.cols + 1, n_rows, lay.conv * lay.conv)
    P2 = lay.pooled * lay.pooled
    for q in range(passes):
        part = x.part(q * b, 0, b, lay.pixels)
        part.fill(lambda i, j: first.x.relative()[i, j], number_format=PIXEL)
        if lay.filters > 1:
            rest = feats.part(q * b, P2, b, lay.features - P2)
            rest.fill(lambda i, j: first.m.relative()[i, P2 + j], number_format=WEIGHT)
    x.headers([f"x{j + 1}" for j in range(lay.pixels)])
    # filter 1's ReLU'd map with the nudged filter (a row of filt holds it), and its pool
    C = lay.conv
    fr = filt.fixed_col()
    for r in range(C):
        a1.part(0, r * C, n_rows, C).fill_like(max_(_conv(x, fr, 0, r, lay.side), 0), None, WEIGHT)
    a1.headers([f"conv+ReLU f1 ({r + 1},{c + 1})" for r in range(C) for c in range(C)])
    feats.part(0, 0, n_rows, P2).fill_columns(
        lambda col: _pool(a1, lay.conv, lay.pooled, col),
        "filter 1's pool from the nudged map; the other "
        "filters' pools are iteration 1's (the nudge does not reach them)",
        WEIGHT,
    )
    feats.headers([f"m {name}" for name in feature_names(lay)])
    inputs = feats
    if first.mask is not None:
        inputs = Block(t, body, a1.left + a1.cols + 1, n_rows, lay.features)
        for q in range(passes):
            inputs.part(q * b, 0, b, lay.features).fill(
                lambda i, j, q=q: (
                    feats[q * b + i, j]
                    * first.mask.relative()[i, j]  # type: ignore[union-attr]
                    / (1 - training.dropout)
                ),
                number_format=WEIGHT,
            )
        inputs.headers([f"h {name}" for name in feature_names(lay)])
    logits = (inputs if first.mask is not None else a1).right(1, CLASSES)
    W = training.start.dense
    dense(logits, inputs, Section.weights(W), Section.bias(W), number_format=WEIGHT)
    logits.headers([f"logit {k}" for k in range(CLASSES)])
    mx, e = logits.right(0, 1), logits.right(1, CLASSES)
    sm, loss = e.right(0, 1), e.right(1, 1)
    mx.fill_like(max_(logits.fixed_col().row(0)), None, WEIGHT)
    e.fill_like(exp(logits[0, 0] - mx.fixed_col()[0, 0]), None, PROB)
    sm.fill_like(sum_(e.fixed_col().row(0)), None, PROB)
    label = Block(t, body, loss.left + 1, n_rows, 1)
    for q in range(passes):
        label.part(q * b, 0, b, 1).fill(lambda i, _: first.label.relative()[i, 0])
    er = e.fixed_col()
    loss.fill_like(
        -ln(index(er.row(0), 1, label.fixed_col()[0, 0] + 1) / sm.fixed_col()[0, 0]),
        "cross-entropy of this image with the nudged filter",
        WEIGHT,
    )
    for block, text in ((mx, "max"), (sm, "sum"), (loss, "loss"), (label, "label")):
        t.header((top, block.left), text)
    e.headers([f"exp {k}" for k in range(CLASSES)])

    objective = Block(t, objective_top(lay), label.left + 2, passes, 1)
    t.header((objective.top - 1, objective.left), "objective")
    for q in range(passes):
        t.header((objective.top + q, 0), names[q // 2])
        t.label((objective.top + q, 1), "+h" if q % 2 == 0 else "-h")
    wd = training.wd
    objective.fill(
        lambda q, _: (
            average(loss.part(q * b, 0, b, 1).range)
            + wd * sumsq(filt.part(q * b, 0, 1, K * K + 1).range)
        ),
        "mean loss of the pass + wd * filter 1's squared parameters (the other parameters' "
        "wd terms do not move with the nudge)",
        "0.000000000",
    )
    plus = Block(s, rows, 3, count_p, 1)
    plus.fill(lambda q, _: objective[2 * q, 0], number_format="0.000000000")
    minus = Block(s, rows, 4, count_p, 1)
    minus.fill(lambda q, _: objective[2 * q + 1, 0], number_format="0.000000000")
    slope = Block(s, rows, 5, count_p, 1)
    slope.fill(
        lambda q, _: (plus[q, 0] - minus[q, 0]) / (2 * h),
        number_format=GRAD,
        note="the central difference: the slope through p-h and p+h",
    )
    diff = Block(s, rows, 6, count_p, 1)
    diff.fill(
        lambda q, _: If(
            max_(abs_(slope[q, 0]), abs_(bp[q, 0])).eq(0),
            0,
            abs_(slope[q, 0] - bp[q, 0]) / max_(abs_(slope[q, 0]), abs_(bp[q, 0])),
        ),
        number_format="0.0E+00",
        note="|difference| / the larger: about 1e-6 or less when backprop is right (a tiny "
        "gradient loses digits to rounding in the difference)",
    )
    s.formula("G2", max_(diff.range), number_format="0.0E+00")
    s.freeze = (CHECK_TOP + 1, 1)
    s.width(0, 22.0)
    s.width(1, 14.0, 6)
    s.width(5, 19.0)
    t.freeze = (NUDGED_TOP + 1, 2)
    t.width(0, 22.0)
    t.width(4, 9.0, label.left + 1)
    t.width(objective.left, 14.0)
