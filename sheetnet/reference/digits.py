"""Plain numpy for the digits lesson: softmax regression trained by mini-batch SGD
with the notebook's weight decay, laid onto the workbook's cell addresses.

Nothing here uses the engine. Sums run in the order a spreadsheet adds (cumsum,
left to right), so the comparison can be tight.
"""

from __future__ import annotations

import numpy as np

from ..engine.address import render
from ..engine.semantics import stored
from ..lessons.digits.layout import (
    BATCH_LOSS_COL,
    BATCH_SIZE_COL,
    CLASSES,
    DATA_FIRST_ROW,
    OBJECTIVE_COL,
    VALID_FIRST_ROW,
    DigitsParams,
    Layout,
    valid_left,
)
from .ops import Cells, as_stored, dot, exp, log, put, total


def layer(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A dense layer: x (n, inputs) under w (outputs, inputs + 1), the bias last."""
    return dot(x[:, None, :], w[None, :, :-1]) + w[None, :, -1]


def forward(x: np.ndarray, ws: list[np.ndarray]) -> dict[str, np.ndarray]:
    """[Hidden layer,] logits, stable softmax and prediction of images x (n, pixels)
    under the layers' weights ws (the last one: 10 rows)."""
    out: dict[str, np.ndarray] = {}
    if len(ws) == 2:
        out["z1"] = layer(x, ws[0])
        out["a1"] = np.maximum(out["z1"], 0.0)
        x = out["a1"]
    z = layer(x, ws[-1])
    m = z.max(axis=1)
    e = exp(z - m[:, None])
    s = total(e)
    p = e / s[:, None]
    pred = p.argmax(axis=1).astype(float)
    return out | {"z": z, "max": m, "exp": e, "sum": s, "p": p, "pred": pred}


def _grad(delta: np.ndarray, x: np.ndarray, w: np.ndarray, wd: float) -> np.ndarray:
    """A layer's weight and bias gradients from dL/d(its outputs), weight decay included."""
    grad_w = dot(delta.T[:, None, :], x.T[None, :, :]) + 2 * wd * w[:, :-1]
    grad_b = total(delta.T) + 2 * wd * w[:, -1]
    return np.hstack([grad_w, grad_b[:, None]])


def train(p: DigitsParams) -> tuple[Layout, list[dict]]:
    """Every iteration's intermediate arrays, from the start weights on."""
    lay = Layout(p)
    images = p.images
    pixels = as_stored(images.pixels[: p.train]) / lay.scale
    lr, wd = stored(p.lr), stored(p.wd)  # as the input cells hold them
    labels = np.array(images.labels[: p.train])
    ws = lay.start_weights()
    steps = []
    for it in lay.iterations:
        rows = np.array(it.images) - 1
        x, y = pixels[rows], labels[rows]
        f = forward(x, ws)
        onehot = (y[:, None] == np.arange(CLASSES)[None, :]).astype(float)
        loss = -log(f["p"][np.arange(len(y)), y])
        batch = float(len(y))
        delta = (f["p"] - onehot) / batch
        back: dict[str, np.ndarray] = {}
        if lay.hidden:
            back["da1"] = dot(delta[:, None, :], ws[1][:, :-1].T[None, :, :])
            back["relu"] = (f["z1"] > 0).astype(float)
            back["dz1"] = back["da1"] * back["relu"]
            grads = [_grad(back["dz1"], x, ws[0], wd), _grad(delta, f["a1"], ws[1], wd)]
        else:
            grads = [_grad(delta, x, ws[0], wd)]
        new = [w - lr * g for w, g in zip(ws, grads)]
        steps.append(f | back | {"label": y.astype(float), "x": x, "onehot": onehot,
                                 "loss": loss, "batch": np.array(batch),
                                 "mean": total(loss) / batch, "delta": delta,
                                 "start": ws, "grad": grads, "new": new})  # fmt: skip
        ws = new
    return lay, steps


def _section(cells: Cells, lay: Layout, top: int, ws: list[np.ndarray], turned: bool) -> None:
    """A parameter section of the train sheet from 0-based row `top`."""
    lefts = [lay.pix] if not lay.hidden else [lay.w1, lay.w2]
    for left, w in zip(lefts, ws):
        put(cells, "train", top, left, w)
    if lay.hidden and turned:
        put(cells, "train", top, lay.w2t, ws[1][:, :-1].T)


def expected_cells(p: DigitsParams) -> Cells:
    lay, steps = train(p)
    cells: Cells = {}
    if lay.hidden:  # the start's weights are inputs; its W2ᵀ is formulas
        put(cells, "train", lay.weights_top(0) - 1, lay.w2t, steps[0]["start"][1][:, :-1].T)
    for it, st in zip(lay.iterations, steps):
        top, rows = it.top - 1, it.top + 1
        cells["train", render(top, BATCH_SIZE_COL)] = float(st["batch"])
        cells["train", render(top, BATCH_LOSS_COL)] = float(st["mean"])
        squares = 0.0  # SUMSQ: each layer's block, row by row, left to right
        for w in st["start"]:
            for v in w.ravel():
                squares += v * v
        cells["train", render(top, OBJECTIVE_COL)] = float(st["mean"]) + stored(p.wd) * squares
        put(cells, "train", rows, 1, st["label"][:, None])
        columns = [("x", lay.pix), ("z", lay.z), ("max", lay.max), ("exp", lay.e),
                   ("sum", lay.sum), ("p", lay.prob), ("onehot", lay.onehot),
                   ("loss", lay.loss), ("delta", lay.delta)]  # fmt: skip
        if lay.hidden:
            columns += [("z1", lay.z1), ("a1", lay.a1), ("da1", lay.da1), ("relu", lay.relu),
                        ("dz1", lay.dz1)]  # fmt: skip
        for key, col in columns:
            values = st[key]
            put(cells, "train", rows, col, values if values.ndim == 2 else values[:, None])
        _section(cells, lay, lay.grad_top(it) - 1, st["grad"], turned=False)
        _section(cells, lay, lay.new_top(it) - 1, st["new"], turned=True)
    _valid(cells, p, lay, steps)
    final = steps[-1]["new"]
    side = lay.side
    for k in range(lay.hidden or CLASSES):
        top, left = 3 + (k // 5) * (side + 2), 1 + (k % 5) * (side + 1)
        put(cells, "templates", top, left, final[0][k, :-1].reshape(side, side))
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
        for values in (*_hidden(f), f["z"], f["max"], f["exp"], f["sum"], f["p"], f["pred"],
                       loss, right):  # fmt: skip
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


def _hidden(f: dict) -> tuple[np.ndarray, ...]:
    return (f["z1"], f["a1"]) if "z1" in f else ()


def _draw(cells: Cells, p: DigitsParams, lay: Layout, w: np.ndarray) -> None:
    first = as_stored(p.images.pixels[p.train])
    top = 3 + lay.side
    x = (first / lay.scale)[None, :]
    put(cells, "draw", top + 1, lay.pix, x)
    f = forward(x, w)
    left = lay.pix
    for values in (*_hidden(f), f["z"], f["max"], f["exp"], f["sum"], f["p"], f["pred"]):
        values = values if values.ndim == 2 else values[:, None]
        put(cells, "draw", top + 4, left, values)
        left += values.shape[1]
    cells["draw", render(top + 6, lay.pix)] = float(f["pred"][0])


__all__ = ["DATA_FIRST_ROW", "expected_cells", "forward", "train"]
