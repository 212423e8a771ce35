"""Plain numpy for the regularisation lesson: Legendre features, full-batch gradient
descent on the mean squared error with weight decay (the L2 step and the decoupled
step), each run's losses and the curves, laid onto the workbook's cell addresses.

Nothing here uses the engine; sums run left to right as a spreadsheet adds (ops.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.address import render
from ..lessons.regularisation.layout import (
    GRID_TOP,
    RUN_TOP,
    SUMMARY,
    SUMMARY_TOP,
    VALID,
    Layout,
    RegularisationParams,
    grid,
    legendre,
    runs,
    samples,
    scales,
)
from .ops import Cells, dot, put, total


def features(x: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """(P1..Pd, F1..Fd) of the samples x, as the sheet computes them."""
    P = legendre(x, degree)
    return P, P * scales(degree)[None, :]


def fit(
    F: np.ndarray, y: np.ndarray, Fv: np.ndarray, yv: np.ndarray, lr: float, wd: float, steps: int
) -> dict[str, np.ndarray]:
    """Every column of a run sheet: weights (steps + 1 rows), residuals, losses, the
    gradient, the decoupled step and its difference from the L2 step."""
    n, D = len(y), F.shape[1] + 1  # the weights w0..wd: d features and the bias
    w = np.zeros((steps + 1, D))
    g = np.zeros((steps, D))
    dec = np.zeros((steps, D))
    r = np.zeros((steps + 1, n))
    v = np.zeros((steps + 1, len(yv)))
    for t in range(steps + 1):
        r[t] = w[t, 0] + dot(w[t, None, 1:], F[:, : D - 1]) - y
        v[t] = w[t, 0] + dot(w[t, None, 1:], Fv[:, : D - 1]) - yv
        if t == steps:
            break
        g[t, 0] = 2 * total(r[t]) / n
        g[t, 1:] = 2 * dot(r[t][None, :], F[:, : D - 1].T) / n
        w[t + 1] = w[t] - lr * (g[t] + 2 * wd * w[t])
        dec[t] = w[t] * (1 - lr * 2 * wd) - lr * g[t]
    train = total(r * r) / n
    valid = total(v * v) / VALID
    size = total(w * w)
    return {"w": w, "grad": g, "decoupled": dec, "diff": w[1:] - dec, "r": r, "v": v,
            "train_loss": train, "valid_loss": valid, "size": size,
            "objective": train + wd * size}  # fmt: skip


def train_all(p: RegularisationParams) -> dict[str, dict[str, np.ndarray]]:
    """Each run's columns, by sheet name."""
    x, y, xv, yv = samples(p)
    _, F = features(x, p.degree)
    _, Fv = features(xv, p.degree)
    return {
        run.sheet: fit(F[:, : run.degree], y, Fv[:, : run.degree], yv, p.lr, run.wd, p.steps)
        for run in runs(p)
    }


def final_losses(p: RegularisationParams) -> dict[str, tuple[float, float]]:
    """(training loss, validation loss) after the last step, by run sheet."""
    out = train_all(p)
    return {k: (float(c["train_loss"][-1]), float(c["valid_loss"][-1])) for k, c in out.items()}


def expected_cells(p: RegularisationParams) -> Cells:
    lay = Layout(p)
    cells: Cells = {}
    x, _, xv, _ = samples(p)
    d = p.degree
    for top, xs in ((lay.train_top, x), (lay.valid_top, xv)):
        P, F = features(xs, d)
        put(cells, "data", top, lay.data["p"], P)
        put(cells, "data", top, lay.data["f"], F)
    put(cells, "data", lay.turned_top, lay.data["turned"], features(x, d)[1].T)
    columns = train_all(p)
    for run in runs(p):
        c, col = columns[run.sheet], lay.col(run.degree)
        put(cells, run.sheet, RUN_TOP + 1, col["w"], c["w"][1:])
        for name in ("grad", "decoupled", "diff", "r", "v"):
            put(cells, run.sheet, RUN_TOP, col[name], c[name])
        for name in ("train_loss", "valid_loss", "size", "objective"):
            put(cells, run.sheet, RUN_TOP, col[name], c[name][:, None])
    # curves
    gx = grid()
    P, F = features(gx, d)
    cv = lay.curves
    put(cells, "curves", GRID_TOP, cv["x"], gx[:, None])
    put(
        cells,
        "curves",
        GRID_TOP,
        cv["true"],
        np.array([math.cos(math.pi * v) for v in gx])[:, None],
    )
    put(cells, "curves", GRID_TOP, cv["p"], P)
    put(cells, "curves", GRID_TOP, cv["f"], F)
    for j, run in enumerate(runs(p)):
        w = columns[run.sheet]["w"][-1]
        curve = w[0] + dot(w[None, 1:], F[:, : len(w) - 1])
        put(cells, "curves", GRID_TOP, cv["fit"] + j, curve[:, None])
    # summary
    for i, run in enumerate(runs(p)):
        c = columns[run.sheet]
        diff = c["diff"]
        row = [run.wd, c["train_loss"][-1], c["valid_loss"][-1], c["size"][-1],
               max(float(diff.max()), -float(diff.min()))]  # fmt: skip
        put(cells, "summary", SUMMARY_TOP + i, lay.summary[SUMMARY[0]], np.array([row]))
        put(cells, "summary", lay.weights_top, lay.weights["run"] + i, c["w"][-1][:, None])
    good, low = columns["good_decay"], columns["low_degree"]
    cells["summary", render(lay.verdict_row, lay.summary["validation loss"])] = float(
        low["valid_loss"][-1] - good["valid_loss"][-1]
    )
    return cells
