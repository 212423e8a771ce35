"""Plain numpy for the backprop lesson: a 2-H-3 ReLU network trained by gradient
descent, its gradients by hand-written backpropagation, and the central differences
of the gradient check, laid onto the workbook's cell addresses.

Nothing here uses the engine; the arithmetic runs in a spreadsheet's order (ops.py).
"""

from __future__ import annotations

import numpy as np

from ..engine.address import render
from ..engine.semantics import stored
from ..lessons.backprop.layout import (
    CHECK_TOP,
    CLASSES,
    INPUTS,
    NUDGED_TOP,
    SAMPLES,
    BackpropParams,
    Layout,
    Parameters,
    samples,
    start_parameters,
)
from .ops import Cells, dot, exp, log, put, total

STEP = 1e-5  # gradcheck!C2


def forward(x: np.ndarray, y: np.ndarray, w: Parameters) -> dict[str, np.ndarray]:
    """Every column of the forward pass for samples x (n, 2) with labels y."""
    z1 = dot(x[:, None, :], w.w1[None, :, :]) + w.b1[None, :]
    a1 = np.maximum(z1, 0.0)
    z2 = dot(a1[:, None, :], w.w2[None, :, :]) + w.b2[None, :]
    m = z2.max(axis=1)
    e = exp(z2 - m[:, None])
    s = total(e)
    p = e / s[:, None]
    loss = -log(p[np.arange(len(y)), y])
    right = (p.argmax(axis=1) == y).astype(float)
    return {"z1": z1, "a1": a1, "z2": z2, "max": m, "exp": e, "sum": s, "p": p,
            "loss": loss, "right": right}  # fmt: skip


def backward(
    x: np.ndarray, y: np.ndarray, w: Parameters, f: dict, wd: float
) -> tuple[dict, Parameters]:
    """The backward pass's columns and the gradients (weight decay included)."""
    n = float(len(y))
    onehot = (y[:, None] == np.arange(CLASSES)[None, :]).astype(float)
    dz2 = (f["p"] - onehot) / n
    da1 = dot(dz2[:, None, :], w.w2.T[None, :, :])
    relu = (f["z1"] > 0).astype(float)
    dz1 = da1 * relu
    grad = Parameters(
        dot(dz1.T[:, None, :], x.T[None, :, :]) + 2 * wd * w.w1,
        total(dz1.T) + 2 * wd * w.b1,
        dot(dz2.T[:, None, :], f["a1"].T[None, :, :]) + 2 * wd * w.w2,
        total(dz2.T) + 2 * wd * w.b2,
    )
    return {"onehot": onehot, "dz2": dz2, "da1": da1, "relu": relu, "dz1": dz1}, grad


def train(p: BackpropParams, lrs: tuple[float, float] | None = None) -> list[dict]:
    """Every iteration's columns, gradients and new parameters, from the start; `lrs`:
    the hidden and the output layer's learning rates (default: p.lr for both)."""
    x, y = samples(p.seed)
    wd = stored(p.wd)
    hidden, output = lrs or (stored(p.lr), stored(p.lr))
    rates = (hidden, hidden, output, output)
    w = start_parameters(p)
    steps = []
    for _ in range(p.iterations):
        f = forward(x, y, w)
        b, g = backward(x, y, w, f, wd)
        new = Parameters(*(a - lr * d for a, d, lr in zip(_parts(w), _parts(g), rates)))
        mean = total(f["loss"]) / SAMPLES
        objective = mean + wd * total(w.flat() ** 2)
        steps.append(f | b | {"start": w, "grad": g, "new": new, "mean": mean,
                              "objective": objective,
                              "accuracy": total(f["right"]) / SAMPLES})  # fmt: skip
        w = new
    return steps


def _parts(w: Parameters) -> tuple[np.ndarray, ...]:
    return w.w1, w.b1, w.w2, w.b2


def unflatten(v: np.ndarray, hidden: int) -> Parameters:
    """The inverse of Parameters.flat."""
    a, b, c = hidden * INPUTS, hidden * INPUTS + hidden, hidden * INPUTS + hidden + CLASSES * hidden
    return Parameters(v[:a].reshape(hidden, INPUTS), v[a:b], v[b:c].reshape(CLASSES, hidden), v[c:])


def objective(x: np.ndarray, y: np.ndarray, v: np.ndarray, hidden: int, wd: float) -> float:
    """Mean loss + wd * sum of squares, for the flat parameters v (the gradcheck rows)."""
    f = forward(x, y, unflatten(v, hidden))
    return float(total(f["loss"]) / SAMPLES + wd * total(v**2))


def expected_cells(p: BackpropParams) -> Cells:
    lay = Layout(p)
    x, y = samples(p.seed)
    cells: Cells = {("data", "C2"): float(SAMPLES)}
    steps = train(p)
    cells.update(train_cells(p, None, "train", steps))
    for t, st in enumerate(steps):
        cells["progress", render(t + 1, 1)] = float(st["mean"])
        cells["progress", render(t + 1, 2)] = float(st["objective"])
        cells["progress", render(t + 1, 3)] = float(st["accuracy"])
    _gradcheck(cells, p, lay, x, y, steps[0]["start"].flat(), steps[0]["grad"].flat())
    return cells


def train_cells(
    p: BackpropParams,
    lrs: tuple[float, float] | None,
    sheet: str,
    steps: list[dict] | None = None,
) -> Cells:
    """The formula cells of a training sheet named `sheet`."""
    lay = Layout(p)
    x, y = samples(p.seed)
    steps = steps or train(p, lrs)
    cells: Cells = {}
    for t, st in enumerate(steps):
        top, rows = lay.top(t), lay.sample_row(t)
        cells[sheet, render(top, 4)] = float(st["mean"])
        cells[sheet, render(top, 7)] = float(st["objective"])
        cells[sheet, render(top, 10)] = float(st["accuracy"])
        put(cells, sheet, rows, 1, y[:, None].astype(float))
        put(cells, sheet, rows, lay.x, x)
        for key, col in (("z1", lay.z1), ("a1", lay.a1), ("z2", lay.z2), ("max", lay.max),
                         ("exp", lay.e), ("sum", lay.sum), ("p", lay.prob),
                         ("onehot", lay.onehot), ("loss", lay.loss), ("right", lay.right),
                         ("dz2", lay.dz2), ("da1", lay.da1), ("relu", lay.relu),
                         ("dz1", lay.dz1)):  # fmt: skip
            values = st[key]
            put(cells, sheet, rows, col, values if values.ndim == 2 else values[:, None])
        _section(cells, sheet, lay, lay.grad_row(t), st["grad"], turned=False)
        _section(cells, sheet, lay, lay.new_row(t), st["new"], turned=True)
    put(cells, sheet, lay.params_row(0), lay.w2t, steps[0]["start"].w2.T)
    return cells


def _section(cells: Cells, sheet: str, lay: Layout, row: int, w: Parameters, turned: bool) -> None:
    put(cells, sheet, row, lay.w1, w.w1)
    put(cells, sheet, row, lay.b1, w.b1[:, None])
    put(cells, sheet, row, lay.w2, w.w2)
    put(cells, sheet, row, lay.b2, w.b2[:, None])
    if turned:
        put(cells, sheet, row, lay.w2t, w.w2.T)


def _gradcheck(
    cells: Cells,
    p: BackpropParams,
    lay: Layout,
    x: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    grad: np.ndarray,
) -> None:
    wd, h, n = stored(p.wd), STEP, len(start)
    rows = CHECK_TOP + 1
    put(cells, "gradcheck", rows, 1, start[:, None])
    put(cells, "gradcheck", rows, 2, grad[:, None])
    body = NUDGED_TOP + 1
    group = 2 * lay.hidden + 2 * CLASSES + 2
    loss_left = 2 + n + SAMPLES * group
    plus, minus = np.zeros(n), np.zeros(n)
    for r in range(2 * n):
        v = start.copy()
        q = r // 2
        v[q] = start[q] + h if r % 2 == 0 else start[q] - h
        put(cells, "nudged", body + r, 2, v[None, :])
        f = forward(x, y, unflatten(v, lay.hidden))
        for i in range(SAMPLES):
            row = np.concatenate([f["z1"][i], f["a1"][i], f["z2"][i], [f["max"][i]],
                                  f["exp"][i], [f["sum"][i]]])  # fmt: skip
            put(cells, "nudged", body + r, 2 + n + i * group, row[None, :])
        loss = -log(f["exp"][np.arange(SAMPLES), y] / f["sum"])
        mean = total(loss) / SAMPLES
        value = mean + wd * total(v**2)
        put(cells, "nudged", body + r, loss_left, np.concatenate([loss, [mean, value]])[None])
        (plus if r % 2 == 0 else minus)[q] = value
    slope = (plus - minus) / (2 * h)
    larger = np.maximum(np.abs(slope), np.abs(grad))
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(larger == 0, 0.0, np.abs(slope - grad) / larger)
    for j, values in ((3, plus), (4, minus), (5, slope), (6, diff)):
        put(cells, "gradcheck", rows, j, values[:, None])
    cells["gradcheck", "G2"] = float(diff.max())
