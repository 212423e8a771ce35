"""digits: handwritten digits learned by mini-batch SGD with softmax and cross-entropy.

Logistic regression (fast.ai lesson 5's `Mnist_Logistic`) trained cell by cell:
each iteration is a block of formulas from the batch's pixels to the updated
weights, which the next block starts from. See layout.py for where things sit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ...engine import (
    Block,
    If,
    Ref,
    Role,
    Sheet,
    Workbook,
    average,
    count,
    index,
    match,
    max_,
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
    back_through,
    bias_grad,
    cross_entropy,
    dense,
    gate,
    logit_grad,
    one_hot,
    relu,
    relu_slope,
    softmax,
    step,
    turned,
    weight_grad,
)
from .layout import (
    BATCH_LOSS_COL,
    BATCH_SIZE_COL,
    CLASSES,
    DATA_FIRST_ROW,
    FIRST_WEIGHT_ROW,
    OBJECTIVE_COL,
    VALID_ACCURACY_ROW,
    VALID_FIRST_ROW,
    VALID_LOSS_ROW,
    DigitsParams,
    Iteration,
    Layout,
    valid_left,
    valid_result,
)

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
    "bias": "dL/db = SUM(dL/dlogit of this class) + 2*wd*b",
    "logit": "logit: SUMPRODUCT(pixels, the class's weights) + its bias",
    "softmax": "softmax: exp over the row's sum; the row sums to 1",
    "onehot": "one-hot target: 1 in the true class's column",
    "z1": "z1 = SUMPRODUCT(pixels, this hidden unit's row of W1) + b1",
    "a1": "a1 = ReLU(z1) = MAX(z1, 0): the non-linearity that makes two layers more than one",
    "da1": "dL/da1 = SUMPRODUCT(dL/dlogits, this unit's row of W2ᵀ): the gradient sent "
    "back through the output layer's weights",
    "relu": "ReLU'(z1): 1 where z1 > 0, else 0",
    "dz1": "dL/dz1 = dL/da1 * ReLU'(z1): the chain rule through the ReLU",
    "turned": "W2 turned (W2ᵀ[k,c] = W2[c,k]): the backward pass reads W2's columns as rows, "
    "since SUMPRODUCT pairs a row with a row",
}


def build(p: DigitsParams) -> Workbook:
    lay = Layout(p)
    wb = Workbook(title="digits")
    images = add_images(wb, p, lay.side, lay.pixels, lay.scale, DATA_FIRST_ROW)
    training = _train(wb, p, lay, images)
    validation = _valid(wb, p, lay, images, training)
    _progress(wb, p, lay, training, validation)
    final = training.after[-1].fixed()
    _templates(wb, lay, final)
    assert validation.predictions is not None
    add_confusion(wb, p.epochs, validation.labels, validation.predictions)
    _draw(wb, p, lay, images.scale, final)
    return wb


class Section:
    """Parameters on the train sheet: each layer's weights with its bias column right of
    them (a row per output unit), first layer first, and with a hidden layer W2 turned
    (W2ᵀ) for the backward pass."""

    def __init__(self, s: Sheet, lay: Layout, top: int) -> None:
        """`top`: 0-based first row."""
        h = lay.hidden
        shapes = [(lay.pix, CLASSES, lay.pixels)] if not h else [
            (lay.w1, h, lay.pixels), (lay.w2, CLASSES, h)]  # fmt: skip
        self.layers = [Block(s, top, left, rows, cols + 1) for left, rows, cols in shapes]
        self.turned = Block(s, top, lay.w2t, h, CLASSES) if h else None

    def fixed(self) -> Section:
        """The same parameters with absolute references, as other sheets read them."""
        out = copy.copy(self)
        out.layers = [layer.fixed() for layer in self.layers]
        out.turned = self.turned.fixed() if self.turned else None
        return out

    @staticmethod
    def weights(layer: Block) -> Block:
        return layer.part(0, 0, layer.rows, layer.cols - 1)

    @staticmethod
    def bias(layer: Block) -> Block:
        return layer.part(0, layer.cols - 1, layer.rows, 1)

    def label_rows(self, s: Sheet, col: int | None = None) -> None:
        """Row headers: 'class k' (and 'unit k') left of each layer."""
        for n, layer in enumerate(self.layers):
            unit = "class" if n == len(self.layers) - 1 else "unit"
            at = col if col is not None and len(self.layers) == 1 else layer.left - 1
            for k in range(layer.rows):
                s.header((layer.top + k, at), f"{unit} {k}")
        if self.turned is not None:
            for k in range(self.turned.rows):
                s.header((self.turned.top + k, self.turned.left - 1), f"unit {k}")

    def headers(self, lay: Layout, first: bool) -> None:
        if len(self.layers) == 1:
            self.layers[0].headers([f"w{j + 1}" for j in range(lay.pixels)] + ["bias"])
            return
        w1, w2 = self.layers
        w1.headers([f"W1·x{j + 1}" for j in range(lay.pixels)] + ["b1"])
        w2.headers([f"W2·unit {k}" for k in range(lay.hidden)] + ["b2"])
        if self.turned is not None and first:
            self.turned.headers([f"W2ᵀ·class {c}" for c in range(CLASSES)])


@dataclass
class Training:
    """Each iteration's batch loss and the parameters it ends with."""

    batch_loss: list[Ref] = field(default_factory=list)
    after: list[Section] = field(default_factory=list)


def _train(wb: Workbook, p: DigitsParams, lay: Layout, images: ImageCells) -> Training:
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
    start = Section(s, lay, FIRST_WEIGHT_ROW - 1)
    if lay.hidden:
        s.header("A3", "starting parameters: W1 | b1 (a row per hidden unit, a column per "
                 "pixel), W2 | b2 (a row per class), and W2 turned")  # fmt: skip
    else:
        s.header("A3", "starting weights: one row per class, one column per pixel, then the bias")
    start.headers(lay, first=True)
    for layer, values in zip(start.layers, lay.start_weights()):
        layer.inputs(
            values,
            note="seeded small random weights (bias 0): the start"
            if not lay.hidden
            else "seeded random weights, He's scale (biases 0): the start",
            number_format=WEIGHT,
        )
    start.label_rows(s, col=0)
    if start.turned is not None:
        turned(start.turned, Section.weights(start.layers[1]), NOTES["turned"], WEIGHT)
    training = Training()
    params = start
    for it in lay.iterations:
        params = _iteration(s, lay, it, params, lr.fixed(), wd.fixed(), images, training)
    s.freeze = (0, 2)
    s.width(0, 9.0, 1)
    s.width(lay.pix, 6.5, max(lay.end_col, lay.w2t + CLASSES if lay.hidden else 0))
    s.width(BATCH_SIZE_COL - 1, 10.0, OBJECTIVE_COL)  # the title row's names and numbers
    return training


def _iteration(
    s: Sheet,
    lay: Layout,
    it: Iteration,
    params: Section,
    lr: Ref,
    wd: Ref,
    images: ImageCells,
    training: Training,
) -> Section:
    """One iteration's block; returns the section of parameters it ends with, and adds
    its batch loss and that section to `training`."""
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
    s.header((top, OBJECTIVE_COL - 1), "objective")
    rows = top + 2
    h = lay.hidden
    heads = (
        ["image", "label"]
        + [f"x{j + 1}" for j in range(lay.pixels)]
        + [f"z1·unit {k}" for k in range(h)]
        + [f"a1·unit {k}" for k in range(h)]
        + [f"logit {k}" for k in range(CLASSES)]
        + ["max"]
        + [f"exp {k}" for k in range(CLASSES)]
        + ["sum"]
        + [f"p {k}" for k in range(CLASSES)]
        + [f"y {k}" for k in range(CLASSES)]
        + ["image loss"]
        + [f"dL/dlogit {k}" for k in range(CLASSES)]
        + [f"dL/da1·unit {k}" for k in range(h)]
        + [f"ReLU'·unit {k}" for k in range(h)]
        + [f"dL/dz1·unit {k}" for k in range(h)]
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
        note=note("pixel"),
        number_format=PIXEL,
    )
    W, b = Section.weights, Section.bias
    out_layer = params.layers[-1]
    inputs = X  # of the output layer
    if h:
        Z1, A1 = at(lay.z1, h), at(lay.a1, h)
        dense(Z1, X, W(params.layers[0]), b(params.layers[0]), note("z1"), WEIGHT)
        relu(A1, Z1, note("a1"), WEIGHT)
        inputs = A1
    Z, M, E, S = at(lay.z, CLASSES), at(lay.max, 1), at(lay.e, CLASSES), at(lay.sum, 1)
    P, Y, L, D = (
        at(lay.prob, CLASSES),
        at(lay.onehot, CLASSES),
        at(lay.loss, 1),
        at(lay.delta, CLASSES),
    )
    dense(Z, inputs, W(out_layer), b(out_layer), note("logit"), WEIGHT)
    softmax(Z, M, E, S, P, {"max": NOTES["max"], "softmax": NOTES["softmax"]} if first else None,
            number_format=WEIGHT, prob_format=PROB)  # fmt: skip
    one_hot(Y, label, note("onehot"))
    cross_entropy(L, P, label, note("loss"), WEIGHT)
    loss = s.formula(
        (top, BATCH_LOSS_COL),
        average(L.range),
        number_format=WEIGHT,
        note="the batch loss: the mean of the images' cross-entropy (column loss), without "
        "weight decay"
        if first
        else None,
    )
    s.formula(
        (top, OBJECTIVE_COL),
        loss + wd * sumsq(*(layer.range for layer in params.layers)),
        number_format=WEIGHT,
        note="the objective the gradients descend: batch loss + wd * (every weight and bias "
        "squared, summed); the notebook's update() returns this"
        if first
        else None,
    )
    training.batch_loss.append(loss)
    logit_grad(D, P, Y, batch, note("delta"), WEIGHT)
    deltas = [D]  # dL/d(each layer's outputs), last layer first
    if h:
        DA, RP, D1 = at(lay.da1, h), at(lay.relu, h), at(lay.dz1, h)
        back_through(DA, D, params.turned, note("da1"), WEIGHT)  # type: ignore[arg-type]
        relu_slope(RP, Z1, note("relu"))
        gate(D1, DA, RP, note("dz1"), WEIGHT)
        deltas.append(D1)
    layer_inputs = [X] if not h else [X, A1]

    g_top = lay.grad_top(it) - 1
    s.header((g_top - 1, 0), "gradient")
    s.label(
        (g_top - 1, 2),
        "dL/dw for each weight (and dL/db in the bias column), weight decay included",
    )
    grad = Section(s, lay, g_top)
    for old, g, delta, x in zip(params.layers, grad.layers, reversed(deltas), layer_inputs):
        said = old is params.layers[0]
        weight_grad(W(g), delta, x, W(old), wd, note("grad") if said else None, WEIGHT)
        bias_grad(b(g), delta, b(old), wd, note("bias") if said else None, WEIGHT)
    n_top = lay.new_top(it) - 1
    s.header((n_top - 1, 0), "new weights")
    s.label((n_top - 1, 2), f"after iteration {it.number + 1}: w - lr * gradient")
    new = Section(s, lay, n_top)
    for old, g, after in zip(params.layers, grad.layers, new.layers):
        step(after, old, g, lr, note("new") if old is params.layers[0] else None, WEIGHT)
    if new.turned is not None:
        turned(new.turned, W(new.layers[1]), None, WEIGHT)
        new.turned.headers([f"W2ᵀ·class {c}" for c in range(CLASSES)])
    if h:
        grad.headers(lay, first=False)
        new.headers(lay, first=False)
    grad.label_rows(s, col=1)
    new.label_rows(s, col=1)
    training.after.append(new)
    return new


def prediction_heads(lay: Layout, *tail: str) -> list[str]:
    """Headers of the columns `_predict` writes."""
    return [
        *(f"z1·unit {k}" for k in range(lay.hidden)),
        *(f"a1·unit {k}" for k in range(lay.hidden)),
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
    """[Hidden layer,] logits, stable softmax, loss and prediction for `n` images whose
    scaled pixels are `pixels`, with parameters `params`, placed from column `left`."""
    W, b = Section.weights, Section.bias
    inputs = pixels
    if lay.hidden:
        Z1 = Block(s, rows, left, n, lay.hidden)
        dense(Z1, pixels, W(params.layers[0]), b(params.layers[0]), number_format=WEIGHT)
        A1 = Z1.right(0, lay.hidden)
        relu(A1, Z1, number_format=WEIGHT)
        inputs, left = A1, left + 2 * lay.hidden
    Z = Block(s, rows, left, n, CLASSES)
    dense(Z, inputs, W(params.layers[-1]), b(params.layers[-1]), number_format=WEIGHT)
    M = Z.right(0, 1)
    E = M.right(0, CLASSES)
    S = E.right(0, 1)
    P = S.right(0, CLASSES)
    softmax(Z, M, E, S, P, number_format=WEIGHT, prob_format=PROB)
    pred = P.right(0, 1)
    Pf = P.fixed_col()
    pred.fill(lambda i, _: match(max_(Pf.row(i)), Pf.row(i), 0) - 1)
    out = {"z": Z, "max": M, "exp": E, "sum": S, "p": P, "pred": pred}
    if label is not None:
        lab = label.fixed_col()
        loss = pred.right(0, 1)
        cross_entropy(loss, P, label, number_format=WEIGHT)
        right = loss.right(0, 1)
        right.fill(lambda i, _: If(pred.fixed_col()[i, 0].eq(lab[i, 0]), 1, 0))
        out |= {"loss": loss, "correct": right}
    return out


def _valid(
    wb: Workbook, p: DigitsParams, lay: Layout, images: ImageCells, training: Training
) -> Validation:
    s = wb.add_sheet("valid")
    s.label(
        "A1",
        "Validation images: the model after each epoch, on images it never trained "
        "on. prediction = the class of the largest probability.",
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
        heads = prediction_heads(lay, "prediction", "loss", "correct")
        for j, text in enumerate(heads):
            s.header((rows - 1, left + j), text)
    s.freeze = (rows, 2)
    s.width(lay.pix, 5.0, lay.pix + lay.pixels - 1)  # pixels, 0.00 to 1.00
    s.width(valid_left(lay, 0), 9.0, valid_left(lay, p.epochs))  # logits, losses: -12.3456
    return validation


def _progress(
    wb: Workbook, p: DigitsParams, lay: Layout, training: Training, validation: Validation
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


def charts(p: DigitsParams) -> list[Chart]:
    n = len(Layout(p).iterations)
    return [
        Chart(
            "Training loss per iteration (mini-batch mean)",
            "iteration",
            "loss",
            [Series("batch loss", ("progress", 1, 0, n, 0), ("progress", 1, 2, n, 2))],
            scatter=True,  # iterations as numbers: the axis labels a few, not each
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


def _templates(wb: Workbook, lay: Layout, final: Section) -> None:
    s = wb.add_sheet("templates")
    units = lay.hidden or CLASSES
    s.label(
        "A1",
        "Each digit's learned weights drawn as an image: red pixels raise the "
        "digit's logit, blue ones lower it."
        if not lay.hidden
        else "Each hidden unit's learned weights drawn as an image: red pixels switch the "
        "unit on, blue ones off. The output layer combines these detectors into digits.",
    )
    W = Section.weights(final.layers[0])
    side = lay.side
    for k in range(units):
        top, left = 3 + (k // 5) * (side + 2), 1 + (k % 5) * (side + 1)
        s.header((top - 1, left), f"{'unit' if lay.hidden else 'digit'} {k}")
        grid = Block(s, top, left, side, side)
        grid.fill(lambda r, c, k=k: W[k, r * side + c], number_format=";;;")
        s.color_scales.append((top, left, top + side - 1, left + side - 1, True))
    s.width(0, 2.0, 5 * (side + 1))


def _draw(wb: Workbook, p: DigitsParams, lay: Layout, scale: Ref, final: Section) -> None:
    side = lay.side
    top = 3 + side
    s, flat = add_drawing(wb, p, side, lay.scale, "model", top, lay.pix, scale, PIXEL)
    out = _predict(s, lay, top + 4, 1, lay.pix, flat, final, None)
    heads = prediction_heads(lay, "prediction")
    for j, text in enumerate(heads):
        s.header((top + 3, lay.pix + j), text)
    s.header((top + 4, 0), "your digit")
    s.header((top + 6, 0), "prediction")
    s.formula((top + 6, lay.pix), out["pred"][0, 0])
    s.width(0, 12.0)
    s.width(1, 4.0, side)
    s.width(lay.pix, 9.0, lay.pix + len(heads))  # the logits and probabilities below the grid
