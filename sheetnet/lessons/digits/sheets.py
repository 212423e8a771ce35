"""digits: handwritten digits learned by mini-batch SGD with softmax and cross-entropy.

Logistic regression (fast.ai lesson 5's `Mnist_Logistic`) trained cell by cell:
each iteration is a block of formulas from the batch's pixels to the updated
weights, which the next block starts from. See layout.py for where things sit.
"""

from __future__ import annotations

from ...engine import (
    Block,
    If,
    Range,
    Ref,
    Role,
    Sheet,
    Workbook,
    average,
    count,
    exp,
    index,
    ln,
    match,
    max_,
    sum_,
    sumproduct,
)
from ...engine.workbook import Chart, Series
from .layout import CLASSES, DATA_FIRST_ROW, FIRST_WEIGHT_ROW, DigitsParams, Iteration, Layout

PIXEL = "0.00"
WEIGHT = "0.0000"
PROB = "0.000"
NOTES = {
    "max": "the row's largest logit: subtracting it before EXP gives the same softmax "
    "(the shift cancels in the division) and EXP can never overflow",
    "loss": "cross-entropy: -LN of the probability the model gives the true class",
    "delta": "dL/dlogit for the batch's mean loss: (softmax - one-hot) / batch size",
    "grad": "dL/dw = SUMPRODUCT(dL/dlogit of this class, this pixel over the batch) "
    "+ 2*wd*w: the weight decay the notebook adds to every parameter's gradient",
    "new": "w - lr * gradient: the weights the next iteration starts from",
    "pixel": "the image's pixel from the data sheet, scaled to [0, 1]",
}


def build(params: DigitsParams | None = None) -> Workbook:
    p = params or DigitsParams()
    lay = Layout(p)
    wb = Workbook(title="digits")
    _data(wb, p, lay)
    _train(wb, p, lay)
    _valid(wb, p, lay)
    _progress(wb, p, lay)
    _templates(wb, lay)
    _confusion(wb, p, lay)
    _draw(wb, p, lay)
    return wb


def _data(wb: Workbook, p: DigitsParams, lay: Layout) -> None:
    s = wb.add_sheet("data")
    s.label(
        "A1",
        f"{p.train} training and {p.valid} validation images, "
        f"{lay.side}x{lay.side} pixels, row by row",
    )
    s.label("A2", "pixel scale")
    s.input(
        "C2",
        lay.scale,
        note="pixels are divided by this to lie in [0, 1] (16 for the 8x8 digits, 255 for MNIST)",
    )
    heads = ["image", "split", "from row", "label"] + [f"p{j + 1}" for j in range(lay.pixels)]
    for j, text in enumerate(heads):
        s.header((DATA_FIRST_ROW - 2, j), text)
    images = p.images
    for i, row in enumerate(images.rows()):
        r = DATA_FIRST_ROW - 1 + i
        s.set((r, 0), float(i + 1), Role.LABEL)
        s.label((r, 1), "train" if i < p.train else "valid")
        s.set((r, 2), row[0], Role.LABEL)
    Block(s, DATA_FIRST_ROW - 1, 3, len(images.labels), 1 + lay.pixels).inputs(
        [row[1:] for row in images.rows()],
        note="the images: label, then pixels (change one and the whole training follows)",
    )
    s.freeze = (DATA_FIRST_ROW - 1, 4)
    s.width(0, 7.0, 3)
    s.width(4, 4.5, 3 + lay.pixels)


def _data_column(col: int, p: DigitsParams) -> Range:
    """Column `col` (0-based) of the training images on the data sheet, absolute rows."""
    first = DATA_FIRST_ROW - 1
    return Range(
        Ref("data", first, col, True, False), Ref("data", first + p.train - 1, col, True, False)
    )


def _train(wb: Workbook, p: DigitsParams, lay: Layout) -> None:
    s = wb.add_sheet("train")
    s.label("A1", "learning rate")
    lr = s.input("C1", p.lr, note="lr: change it and every iteration below is recomputed")
    s.label("D1", "weight decay")
    wd = s.input("F1", p.wd, note="wd: each gradient gets 2*wd*p added (the notebook's L2)")
    s.label(
        "H1",
        "Every block below is one iteration: a mini-batch of training images, "
        "their predictions, the loss, the gradients and the updated weights.",
    )
    s.header("A3", "starting weights: one row per class, one column per pixel, then the bias")
    W = Block(s, FIRST_WEIGHT_ROW - 1, lay.pix, CLASSES, lay.pixels + 1)
    W.headers([f"w{j + 1}" for j in range(lay.pixels)] + ["bias"])
    W.inputs(
        lay.start_weights(),
        note="seeded small random weights (bias 0): the start",
        number_format=WEIGHT,
    )
    for k in range(CLASSES):
        s.header((FIRST_WEIGHT_ROW - 1 + k, 0), f"class {k}")
    scale = Ref("data", 1, 2, True, True)
    for it in lay.iterations:
        W = _iteration(s, p, lay, it, W, lr.fixed(), wd.fixed(), scale)
    s.freeze = (0, 2)
    s.width(0, 9.0, 1)
    s.width(lay.pix, 6.5, lay.end_col)


def _iteration(
    s: Sheet, p: DigitsParams, lay: Layout, it: Iteration, W: Block, lr: Ref, wd: Ref, scale: Ref
) -> Block:
    """One iteration's block; returns the block of weights it ends with."""
    first = it.number == 0
    top, n = it.top - 1, len(it.images)
    s.header((top, 0), "iteration")
    s.set((top, 1), float(it.number + 1), Role.HEADER)
    s.header((top, 2), "epoch")
    s.set((top, 3), float(it.epoch + 1), Role.HEADER)
    s.header((top, 4), "batch size")
    s.header((top, 6), "batch loss")
    rows = top + 2
    heads = (
        ["image", "label"]
        + [f"x{j + 1}" for j in range(lay.pixels)]
        + [f"logit {k}" for k in range(CLASSES)]
        + ["max"]
        + [f"exp {k}" for k in range(CLASSES)]
        + ["sum"]
        + [f"p {k}" for k in range(CLASSES)]
        + [f"y {k}" for k in range(CLASSES)]
        + ["loss"]
        + [f"dL/dlogit {k}" for k in range(CLASSES)]
    )
    for j, text in enumerate(heads):
        s.header((top + 1, j), text)

    image = Block(s, rows, 0, n, 1)
    image.inputs(
        [[float(i)] for i in it.images],
        note="which training image (seeded order of this epoch)" if first else None,
    )
    img = image.fixed(False, True)
    label = Block(s, rows, 1, n, 1)
    label.fill(lambda i, _: index(_data_column(3, p), img[i, 0], 1))
    lab = label.fixed(False, True)
    s.formula((top, 5), count(image.range))
    batch = Ref(s.name, top, 5, True, True)
    X = Block(s, rows, lay.pix, n, lay.pixels)
    X.fill(
        lambda i, j: index(_data_column(4 + j, p), img[i, 0], 1) / scale,
        note=NOTES["pixel"] if first else None,
        number_format=PIXEL,
    )
    Wr = Block(s, W.top, W.left, CLASSES, lay.pixels)
    Wp = Wr.fixed()
    Wb = Block(s, W.top, W.left + lay.pixels, CLASSES, 1).fixed()
    Z = Block(s, rows, lay.z, n, CLASSES)
    Z.fill(
        lambda i, k: sumproduct(X.fixed(False, True).row(i), Wp.row(k)) + Wb[k, 0],
        note="logit: SUMPRODUCT(pixels, the class's weights) + its bias" if first else None,
        number_format=WEIGHT,
    )
    M = Block(s, rows, lay.max, n, 1)
    M.fill(
        lambda i, _: max_(Z.fixed(False, True).row(i)),
        note=NOTES["max"] if first else None,
        number_format=WEIGHT,
    )
    E = Block(s, rows, lay.e, n, CLASSES)
    E.fill(lambda i, k: exp(Z[i, k] - M.fixed(False, True)[i, 0]), number_format=PROB)
    S = Block(s, rows, lay.sum, n, 1)
    S.fill(lambda i, _: sum_(E.fixed(False, True).row(i)), number_format=PROB)
    P = Block(s, rows, lay.prob, n, CLASSES)
    P.fill(
        lambda i, k: E[i, k] / S.fixed(False, True)[i, 0],
        number_format=PROB,
        note="softmax: exp over the row's sum; the row sums to 1" if first else None,
    )
    Y = Block(s, rows, lay.onehot, n, CLASSES)
    Y.fill(
        lambda i, k: If(lab[i, 0].eq(k), 1, 0),
        note="one-hot target: 1 in the true class's column" if first else None,
    )
    L = Block(s, rows, lay.loss, n, 1)
    L.fill(
        lambda i, _: -ln(index(P.fixed(False, True).row(i), 1, lab[i, 0] + 1)),
        note=NOTES["loss"] if first else None,
        number_format=WEIGHT,
    )
    s.formula((top, 7), average(L.range), number_format=WEIGHT)
    D = Block(s, rows, lay.delta, n, CLASSES)
    D.fill(
        lambda i, k: (P[i, k] - Y[i, k]) / batch,
        note=NOTES["delta"] if first else None,
        number_format=WEIGHT,
    )

    g_top = lay.grad_top(it) - 1
    s.header((g_top - 1, 0), "gradient")
    s.label(
        (g_top - 1, 2),
        "dL/dw for each weight (and dL/db in the bias column), weight decay included",
    )
    G = Block(s, g_top, lay.pix, CLASSES, lay.pixels)
    Df, Xc = D.fixed(), X.fixed(True, False)
    G.fill(
        lambda k, j: sumproduct(Df.col(k), Xc.col(j)) + 2 * wd * Wr[k, j],
        note=NOTES["grad"] if first else None,
        number_format=WEIGHT,
    )
    Gb = Block(s, g_top, lay.pix + lay.pixels, CLASSES, 1)
    Gb.fill(
        lambda k, _: sum_(Df.col(k)) + 2 * wd * Wb.fixed(False, False)[k, 0],
        note="dL/db = SUM(dL/dlogit of this class) + 2*wd*b" if first else None,
        number_format=WEIGHT,
    )
    n_top = lay.new_top(it) - 1
    s.header((n_top - 1, 0), "new weights")
    s.label((n_top - 1, 2), f"after iteration {it.number + 1}: w - lr * gradient")
    new = Block(s, n_top, lay.pix, CLASSES, lay.pixels + 1)
    old = Block(s, W.top, W.left, CLASSES, lay.pixels + 1)
    grad = Block(s, g_top, lay.pix, CLASSES, lay.pixels + 1)
    new.fill(
        lambda k, j: old[k, j] - lr * grad[k, j],
        note=NOTES["new"] if first else None,
        number_format=WEIGHT,
    )
    for k in range(CLASSES):
        s.header((g_top + k, 1), f"class {k}")
        s.header((n_top + k, 1), f"class {k}")
    return new


def _final_weights(wb: Workbook, lay: Layout, epoch: int | None = None) -> Block:
    """The weights after the last iteration (of `epoch`), absolute references."""
    it = lay.iterations[-1] if epoch is None else lay.last_of_epoch(epoch)
    return Block(wb["train"], lay.new_top(it) - 1, lay.pix, CLASSES, lay.pixels + 1).fixed()


def prediction_heads(*tail: str) -> list[str]:
    """Headers of the columns `_predict` writes."""
    return [
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
    W: Block,
    label: Block | None,
) -> dict[str, Block]:
    """Logits, stable softmax, loss and prediction for `n` images whose scaled pixels are
    `pixels`, with weights `W` (10 x pixels+1), placed from column `left`."""
    Z = Block(s, rows, left, n, CLASSES)
    Z.fill(
        lambda i, k: (
            sumproduct(pixels.fixed(False, True).row(i), Range(W[k, 0], W[k, lay.pixels - 1]))
            + W[k, lay.pixels]
        ),
        number_format=WEIGHT,
    )
    M = Z.right(0, 1)
    M.fill(lambda i, _: max_(Z.fixed(False, True).row(i)), number_format=WEIGHT)
    E = M.right(0, CLASSES)
    E.fill(lambda i, k: exp(Z[i, k] - M.fixed(False, True)[i, 0]), number_format=PROB)
    S = E.right(0, 1)
    S.fill(lambda i, _: sum_(E.fixed(False, True).row(i)), number_format=PROB)
    P = S.right(0, CLASSES)
    P.fill(lambda i, k: E[i, k] / S.fixed(False, True)[i, 0], number_format=PROB)
    pred = P.right(0, 1)
    Pf = P.fixed(False, True)
    pred.fill(lambda i, _: match(max_(Pf.row(i)), Pf.row(i), 0) - 1)
    out = {"z": Z, "max": M, "exp": E, "sum": S, "p": P, "pred": pred}
    if label is not None:
        lab = label.fixed(False, True)
        loss = pred.right(0, 1)
        loss.fill(lambda i, _: -ln(index(Pf.row(i), 1, lab[i, 0] + 1)), number_format=WEIGHT)
        right = loss.right(0, 1)
        right.fill(lambda i, _: If(pred.fixed(False, True)[i, 0].eq(lab[i, 0]), 1, 0))
        out |= {"loss": loss, "correct": right}
    return out


VALID_FIRST_ROW = 6  # valid!A6: the first validation image


EPOCH_COLS = 3 * CLASSES + 6  # logits, max, exps, sum, probabilities, prediction, loss, right


def valid_left(lay: Layout, epoch: int) -> int:
    """0-based first column of epoch `epoch`'s predictions on the valid sheet."""
    return lay.pix + lay.pixels + 1 + epoch * (EPOCH_COLS + 1)


def _valid(wb: Workbook, p: DigitsParams, lay: Layout) -> None:
    s = wb.add_sheet("valid")
    s.label(
        "A1",
        "Validation images: the model after each epoch, on images it never trained "
        "on. prediction = the class of the largest probability.",
    )
    rows, m = VALID_FIRST_ROW - 1, p.valid
    for j, text in enumerate(["image", "label"] + [f"x{j + 1}" for j in range(lay.pixels)]):
        s.header((rows - 1, j), text)
    first = DATA_FIRST_ROW - 1 + p.train
    for i in range(m):
        s.set((rows + i, 0), float(p.train + i + 1), Role.LABEL)
    label = Block(s, rows, 1, m, 1)
    label.fill(lambda i, _: Ref("data", first + i, 3))
    pixels = Block(s, rows, lay.pix, m, lay.pixels)
    scale = Ref("data", 1, 2, True, True)
    pixels.fill(
        lambda i, j: Ref("data", first + i, 4 + j) / scale, number_format=PIXEL, note=NOTES["pixel"]
    )
    for epoch in range(p.epochs):
        left = valid_left(lay, epoch)
        out = _predict(s, lay, rows, m, left, pixels, _final_weights(wb, lay, epoch), label)
        s.header((0, left), f"after epoch {epoch + 1}")
        s.header((1, left), "loss")
        s.formula(
            (1, left + 1),
            average(out["loss"].range),
            number_format=WEIGHT,
            note="mean cross-entropy on the validation images" if epoch == 0 else None,
        )
        s.header((2, left), "accuracy")
        s.formula(
            (2, left + 1),
            average(out["correct"].range),
            number_format="0.0%",
            note="the share of images predicted right" if epoch == 0 else None,
        )
        heads = prediction_heads("prediction", "loss", "correct")
        for j, text in enumerate(heads):
            s.header((rows - 1, left + j), text)
    s.freeze = (rows, 2)
    s.width(lay.pix, 5.0, valid_left(lay, p.epochs))


def _progress(wb: Workbook, p: DigitsParams, lay: Layout) -> None:
    s = wb.add_sheet("progress")
    for j, text in enumerate(("iteration", "epoch", "batch loss")):
        s.header((0, j), text)
    for it in lay.iterations:
        s.set((it.number + 1, 0), float(it.number + 1), Role.LABEL)
        s.set((it.number + 1, 1), float(it.epoch + 1), Role.LABEL)
        s.formula((it.number + 1, 2), Ref("train", it.top - 1, 7), number_format=WEIGHT)
    for j, text in enumerate(("epoch", "validation loss", "validation accuracy")):
        s.header((0, 4 + j), text)
    for e in range(p.epochs):
        s.set((e + 1, 4), float(e + 1), Role.LABEL)
        left = valid_left(lay, e)
        s.formula((e + 1, 5), Ref("valid", 1, left + 1), number_format=WEIGHT)
        s.formula((e + 1, 6), Ref("valid", 2, left + 1), number_format="0.0%")
    s.width(0, 14.0, 6)


def charts(p: DigitsParams) -> list[Chart]:
    n = len(Layout(p).iterations)
    return [
        Chart(
            "Training loss per iteration (mini-batch mean)",
            "iteration",
            "loss",
            [Series("batch loss", ("progress", 1, 0, n, 0), ("progress", 1, 2, n, 2))],
        ),
        Chart(
            "Validation accuracy after each epoch",
            "epoch",
            "accuracy",
            [Series("accuracy", ("progress", 1, 4, p.epochs, 4), ("progress", 1, 6, p.epochs, 6))],
        ),
    ]


def _templates(wb: Workbook, lay: Layout) -> None:
    s = wb.add_sheet("templates")
    s.label(
        "A1",
        "Each digit's learned weights drawn as an image: red pixels raise the "
        "digit's logit, blue ones lower it.",
    )
    W = _final_weights(wb, lay)
    side = lay.side
    for k in range(CLASSES):
        top, left = 3 + (k // 5) * (side + 2), 1 + (k % 5) * (side + 1)
        s.header((top - 1, left), f"digit {k}")
        grid = Block(s, top, left, side, side)
        grid.fill(lambda r, c, k=k: W[k, r * side + c], number_format=";;;")
        s.color_scales.append((top, left, top + side - 1, left + side - 1, True))
    s.width(0, 2.0, 5 * (side + 1))


def _confusion(wb: Workbook, p: DigitsParams, lay: Layout) -> None:
    s = wb.add_sheet("confusion")
    s.label(
        "A1",
        f"Validation images after epoch {p.epochs}: rows are the true digit, "
        "columns the predicted one; the diagonal is right.",
    )
    s.header("A3", "true \\ predicted")
    rows = VALID_FIRST_ROW - 1
    left = valid_left(lay, p.epochs - 1)
    labels = Range(
        Ref("valid", rows, 1, True, True), Ref("valid", rows + p.valid - 1, 1, True, True)
    )
    pred_col = left + 3 * CLASSES + 2  # after logits, max, exps, sum and probabilities
    preds = Range(
        Ref("valid", rows, pred_col, True, True),
        Ref("valid", rows + p.valid - 1, pred_col, True, True),
    )
    for k in range(CLASSES):
        s.set((2, 1 + k), float(k), Role.HEADER)
        s.set((3 + k, 0), float(k), Role.HEADER)
    grid = Block(s, 3, 1, CLASSES, CLASSES)
    true_k, pred_k = Block(s, 3, 0, CLASSES, 1), Block(s, 2, 1, 1, CLASSES)
    grid.fill(
        lambda i, j: sumproduct(
            (labels.eq(true_k.fixed(False, True)[i, 0]))
            * (preds.eq(pred_k.fixed(True, False)[0, j]))
        ),
        note="SUMPRODUCT((label = row's digit) * (prediction = column's digit)): how many images",
    )
    s.color_scales.append((3, 1, 3 + CLASSES - 1, CLASSES, False))
    s.width(0, 16.0)


def _draw(wb: Workbook, p: DigitsParams, lay: Layout) -> None:
    s = wb.add_sheet("draw")
    side = lay.side
    s.label(
        "A1",
        f"Draw a digit: type pixel values (0 to {lay.scale:g}) in the yellow "
        "grid; the trained model's probabilities follow.",
    )
    grid = Block(s, 2, 1, side, side)
    first = p.images.pixels[p.train]
    grid.inputs(
        [[first[r * side + c] for c in range(side)] for r in range(side)],
        note="starts as the first validation image; type your own",
    )
    s.color_scales.append((2, 1, 1 + side, side, False))
    top = 3 + side
    s.header((top, 0), "pixels, scaled, in one row")
    flat = Block(s, top + 1, lay.pix, 1, lay.pixels)
    scale = Ref("data", 1, 2, True, True)
    flat.fill(lambda _, j: grid.fixed()[j // side, j % side] / scale, number_format=PIXEL)
    out = _predict(s, lay, top + 4, 1, lay.pix, flat, _final_weights(wb, lay), None)
    heads = prediction_heads("prediction")
    for j, text in enumerate(heads):
        s.header((top + 3, lay.pix + j), text)
    s.header((top + 4, 0), "your digit")
    s.header((top + 6, 0), "prediction")
    s.formula((top + 6, lay.pix), out["pred"][0, 0])
    s.width(0, 12.0)
    s.width(1, 4.0, side)
