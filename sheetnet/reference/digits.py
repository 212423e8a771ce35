"""Plain numpy for the digits lesson: softmax regression trained by mini-batch SGD
with the notebook's weight decay, laid onto the workbook's cell addresses.

Nothing here uses the engine. Sums run in the order a spreadsheet adds (cumsum,
left to right), so the comparison can be tight.
"""

from __future__ import annotations

import numpy as np

from ..engine.address import render
from ..engine.semantics import stored
from ..lessons.digits.layout import CLASSES, DATA_FIRST_ROW, DigitsParams, Layout
from ..lessons.digits.sheets import VALID_FIRST_ROW, valid_left
from .ops import Cells, as_stored, dot, exp, log, put, total


def forward(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Logits, stable softmax and prediction of images x (n, pixels) under w (10, pixels+1)."""
    z = dot(x[:, None, :], w[None, :, :-1]) + w[None, :, -1]
    m = z.max(axis=1)
    e = exp(z - m[:, None])
    s = total(e)
    p = e / s[:, None]
    return {"z": z, "max": m, "exp": e, "sum": s, "p": p, "pred": p.argmax(axis=1).astype(float)}


def train(p: DigitsParams) -> tuple[Layout, list[dict[str, np.ndarray]]]:
    """Every iteration's intermediate arrays, from the start weights on."""
    lay = Layout(p)
    images = p.images
    pixels = as_stored(images.pixels[: p.train]) / lay.scale
    lr, wd = stored(p.lr), stored(p.wd)  # as the input cells hold them
    labels = np.array(images.labels[: p.train])
    w = lay.start_weights()
    steps = []
    for it in lay.iterations:
        rows = np.array(it.images) - 1
        x, y = pixels[rows], labels[rows]
        f = forward(x, w)
        onehot = (y[:, None] == np.arange(CLASSES)[None, :]).astype(float)
        loss = -log(f["p"][np.arange(len(y)), y])
        batch = float(len(y))
        delta = (f["p"] - onehot) / batch
        grad_w = dot(delta.T[:, None, :], x.T[None, :, :]) + 2 * wd * w[:, :-1]
        grad_b = total(delta.T) + 2 * wd * w[:, -1]
        grad = np.hstack([grad_w, grad_b[:, None]])
        new = w - lr * grad
        steps.append(
            f
            | {
                "label": y.astype(float),
                "x": x,
                "onehot": onehot,
                "loss": loss,
                "batch": np.array(batch),
                "mean": total(loss) / batch,
                "delta": delta,
                "grad": grad,
                "new": new,
            }
        )
        w = new
    return lay, steps


def expected_cells(p: DigitsParams) -> Cells:
    lay, steps = train(p)
    cells: Cells = {}
    for it, st in zip(lay.iterations, steps):
        top, rows = it.top - 1, it.top + 1
        cells["train", render(top, 5)] = float(st["batch"])
        cells["train", render(top, 7)] = float(st["mean"])
        put(cells, "train", rows, 1, st["label"][:, None])
        put(cells, "train", rows, lay.pix, st["x"])
        put(cells, "train", rows, lay.z, st["z"])
        put(cells, "train", rows, lay.max, st["max"][:, None])
        put(cells, "train", rows, lay.e, st["exp"])
        put(cells, "train", rows, lay.sum, st["sum"][:, None])
        put(cells, "train", rows, lay.prob, st["p"])
        put(cells, "train", rows, lay.onehot, st["onehot"])
        put(cells, "train", rows, lay.loss, st["loss"][:, None])
        put(cells, "train", rows, lay.delta, st["delta"])
        put(cells, "train", lay.grad_top(it) - 1, lay.pix, st["grad"])
        put(cells, "train", lay.new_top(it) - 1, lay.pix, st["new"])
    _valid(cells, p, lay, steps)
    final = steps[-1]["new"]
    side = lay.side
    for k in range(CLASSES):
        top, left = 3 + (k // 5) * (side + 2), 1 + (k % 5) * (side + 1)
        put(cells, "templates", top, left, final[k, :-1].reshape(side, side))
    _draw(cells, p, lay, final)
    return cells


def _valid(cells: Cells, p: DigitsParams, lay: Layout, steps: list[dict]) -> None:
    images = p.images
    x = as_stored(images.pixels[p.train :]) / lay.scale
    y = np.array(images.labels[p.train :])
    rows = VALID_FIRST_ROW - 1
    put(cells, "valid", rows, 1, y[:, None].astype(float))
    put(cells, "valid", rows, lay.pix, x)
    ends = {it.epoch: i for i, it in enumerate(lay.iterations)}
    pred = None
    for epoch in range(p.epochs):
        f = forward(x, steps[ends[epoch]]["new"])
        left = valid_left(lay, epoch)
        loss = -log(f["p"][np.arange(len(y)), y])
        right = (f["pred"] == y).astype(float)
        for values in (f["z"], f["max"], f["exp"], f["sum"], f["p"], f["pred"], loss, right):
            values = values if values.ndim == 2 else values[:, None]
            put(cells, "valid", rows, left, values)
            left += values.shape[1]
        left = valid_left(lay, epoch)
        mean_loss, accuracy = total(loss) / len(y), total(right) / len(y)
        cells["valid", render(1, left + 1)] = float(mean_loss)
        cells["valid", render(2, left + 1)] = float(accuracy)
        cells["progress", render(epoch + 1, 5)] = float(mean_loss)
        cells["progress", render(epoch + 1, 6)] = float(accuracy)
        pred = f["pred"]
    for it, st in zip(lay.iterations, steps):
        cells["progress", render(it.number + 1, 2)] = float(st["mean"])
    confusion = np.zeros((CLASSES, CLASSES))
    for true, guess in zip(y, pred):  # type: ignore[arg-type]
        confusion[int(true), int(guess)] += 1
    put(cells, "confusion", 3, 1, confusion)


def _draw(cells: Cells, p: DigitsParams, lay: Layout, w: np.ndarray) -> None:
    first = as_stored(p.images.pixels[p.train])
    top = 3 + lay.side
    x = (first / lay.scale)[None, :]
    put(cells, "draw", top + 1, lay.pix, x)
    f = forward(x, w)
    left = lay.pix
    for values in (f["z"], f["max"], f["exp"], f["sum"], f["p"], f["pred"]):
        values = values if values.ndim == 2 else values[:, None]
        put(cells, "draw", top + 4, left, values)
        left += values.shape[1]
    cells["draw", render(top + 6, lay.pix)] = float(f["pred"][0])


__all__ = ["DATA_FIRST_ROW", "expected_cells", "forward", "train"]
