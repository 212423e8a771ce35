"""Plain numpy for the fine-tuning lesson: pretraining by mini-batch SGD, a new head,
the frozen and the unfrozen stage at slice(lo, hi), and the same network from scratch,
laid onto the workbook's cell addresses.

Nothing here uses the engine's expressions. Sums run in the order a spreadsheet adds
(cumsum, left to right), so the comparison can be tight.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from ..engine.address import render
from ..engine.semantics import to_text
from ..lessons.finetune.layout import (
    BODY_LR_COL,
    CLASS,
    COUNT_CELL,
    FIRST_NEW,
    GROUP_ROWS,
    HEAD_LR_COL,
    LOSS_COL,
    MOVED_COL,
    NEW_CLASSES,
    ONEHOT,
    SCALE,
    VALID_FIRST_ROW,
    W1,
    W2,
    Z1,
    FinetuneParams,
    Layout,
    Run,
    builtin,
)
from .ops import Cells, dot, exp, log, put, total


def layer(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A dense layer: x (n, inputs) under w (outputs, inputs + 1), the bias last."""
    return dot(x[:, None, :], w[None, :, :-1]) + w[None, :, -1]


def _grad(delta: np.ndarray, x: np.ndarray, w: np.ndarray, wd: float) -> np.ndarray:
    grad_w = dot(delta.T[:, None, :], x.T[None, :, :]) + 2 * wd * w[:, :-1]
    grad_b = total(delta.T) + 2 * wd * w[:, -1]
    return np.hstack([grad_w, grad_b[:, None]])


def onehot(labels: np.ndarray, classes: int) -> np.ndarray:
    return (labels[:, None] == np.arange(classes)[None, :]).astype(float)


def sgd_step(
    ws: list[np.ndarray], x: np.ndarray, y: np.ndarray, rates: tuple[float, float], wd: float
) -> dict:
    """One step of Linear, ReLU, Linear + softmax cross-entropy on the batch (x, y)."""
    f: dict = {"label": y.astype(float)}
    f["z1"] = layer(x, ws[0])
    f["a1"] = np.maximum(f["z1"], 0.0)
    f["z"] = layer(f["a1"], ws[1])
    f["max"] = f["z"].max(axis=1)
    f["exp"] = exp(f["z"] - f["max"][:, None])
    f["sum"] = total(f["exp"])
    f["p"] = f["exp"] / f["sum"][:, None]
    f["loss"] = -log(f["p"][np.arange(len(y)), y])
    batch = float(len(y))
    f["batch"], f["mean"] = batch, float(total(f["loss"]) / batch)
    f["delta"] = (f["p"] - onehot(y, ws[1].shape[0])) / batch
    f["da1"] = dot(f["delta"][:, None, :], ws[1][:, :-1].T[None, :, :])
    f["relu"] = (f["z1"] > 0).astype(float)
    f["dz1"] = f["da1"] * f["relu"]
    f["grad"] = [_grad(f["dz1"], x, ws[0], wd), _grad(f["delta"], f["a1"], ws[1], wd)]
    f["new"] = [w - lr * g for w, g, lr in zip(ws, f["grad"], rates)]
    return f


def train(
    run: Run, start: list[np.ndarray], data: tuple[np.ndarray, np.ndarray], rates: list, wd: float
) -> list[dict]:
    """Every step of a run sheet: step t takes its batch's rows of `data` at rates[t]."""
    x, y = data
    ws, out = start, []
    for st in run.steps:
        rows = slice(st.first, st.first + st.size)
        f = sgd_step(ws, x[rows], y[rows], rates[st.number], wd)
        out.append(f)
        ws = f["new"]
    return out


COLUMNS = (
    "label",
    "z1",
    "a1",
    "z",
    "max",
    "exp",
    "sum",
    "p",
    "loss",
    "delta",
    "da1",
    "relu",
    "dz1",
)


def _put_run(cells: Cells, sheet: str, run: Run, steps: list[dict]) -> None:
    where = {
        "label": 1,
        "z1": Z1,
        "a1": run.a1,
        "z": run.z,
        "max": run.max,
        "exp": run.e,
        "sum": run.sum,
        "p": run.prob,
        "loss": run.loss,
        "delta": run.delta,
        "da1": run.da1,
        "relu": run.relu,
        "dz1": run.dz1,
    }
    for st, f in zip(run.steps, steps):
        for key in COLUMNS:
            values = f[key]
            put(
                cells,
                sheet,
                st.top + 2,
                where[key],
                values if values.ndim == 2 else values[:, None],
            )
        cells[sheet, render(st.top, LOSS_COL)] = f["mean"]
        _section(cells, sheet, run, run.grad_top(st), f["grad"], turned=False)
        _section(cells, sheet, run, run.new_top(st), f["new"], turned=True)


def _section(
    cells: Cells,
    sheet: str,
    run: Run,
    top: int,
    ws: list[np.ndarray],
    turned: bool,
    body: bool = True,
    head: bool = True,
) -> None:
    if body:
        put(cells, sheet, top, W1, ws[0])
    if head:
        put(cells, sheet, top, W2, ws[1])
    if turned:
        put(cells, sheet, top, run.w2t, ws[1][:, :-1].T)


def _tables(p: FinetuneParams, lay: Layout) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    table = builtin()
    out = {}
    for name, rows in (
        ("big", lay.chosen.big),
        ("train", lay.chosen.train),
        ("valid", lay.chosen.valid),
    ):
        idx = np.array(rows)
        x = table.pixels[idx] / SCALE
        digits = table.labels[idx]
        out[name] = (x, digits if name == "big" else digits - FIRST_NEW)
    return out


def slice_rate(lo: float, hi: float, group: float, groups: float) -> float:
    return lo * math.pow(hi / lo, (group - 1) / (groups - 1))


def runs(p: FinetuneParams) -> dict:
    """The three runs' steps, and what the sheets around them need."""
    lay = Layout(p)
    data = _tables(p, lay)
    start = lay.start_weights()
    pre = train(lay.pretrain, start, data["big"], [(p.lr, p.lr)] * len(lay.pretrain.steps), p.wd)
    head = lay.new_head()
    slices = [slice_rate(p.lo, p.hi, g, 2.0) for g in (1.0, 2.0)]
    rates = [(0.0, p.head_lr) if lay.stage(t) == 1 else tuple(slices) for t in range(lay.epochs)]
    tuned_start = [pre[-1]["new"][0], head]
    tuned = train(lay.finetune, tuned_start, data["train"], rates, p.wd)
    scratch_start = [start[0], head]
    scratch = train(
        lay.scratch, scratch_start, data["train"], [(p.scratch_lr,) * 2] * lay.epochs, p.wd
    )
    return {
        "lay": lay,
        "data": data,
        "pretrain": pre,
        "finetune": tuned,
        "scratch": scratch,
        "rates": rates,
        "slices": slices,
        "starts": (start, tuned_start, scratch_start),
    }


def evaluate(ws: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> dict:
    a1 = np.maximum(layer(x, ws[0]), 0.0)
    z = layer(a1, ws[1])
    pred = z.argmax(axis=1).astype(float)
    right = (pred == y).astype(float)
    return {
        "a1": a1,
        "z": z,
        "pred": pred,
        "right": right,
        "accuracy": float(total(right) / len(y)),
    }


def excel_round(x: float, digits: int) -> float:
    """ROUND as Excel rounds: the 15-digit decimal, halves away from zero."""
    if x.is_integer():
        return x
    shown = Decimal(f"{x:.15g}")
    if shown.as_tuple().exponent < -digits:  # type: ignore[operator]
        shown = shown.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(shown) + 0.0


def verdict(ft: float, sc: float, gain: float, lay: Layout) -> str:
    def pct(x: float) -> str:
        return to_text(excel_round(100 * x, 1))  # type: ignore[return-value]

    if gain > 0:
        return (
            f"Pretraining helps here: after {lay.epochs} epochs on your {lay.yours} images, "
            f"fine-tuned is right on {pct(ft)}% of the validation images, from scratch on "
            f"{pct(sc)}%: {pct(gain)} points more."
        )
    if gain == 0:
        return (
            f"Here pretraining makes no difference: both networks are right on {pct(ft)}% "
            "of your validation images."
        )
    return (
        f"Here pretraining does not help: from scratch is right on {pct(sc)}% of the "
        f"validation images, fine-tuned on {pct(ft)}%: the big dataset's features do not "
        "fit your digits."
    )


def expected_cells(p: FinetuneParams) -> Cells:
    r = runs(p)
    lay: Layout = r["lay"]
    cells: Cells = {}
    _data(cells, p, lay, r["data"])
    start, tuned_start, scratch_start = r["starts"]
    # pretrain
    pre = lay.pretrain
    put(cells, "pretrain", pre.start, pre.w2t, start[1][:, :-1].T)
    _put_run(cells, "pretrain", pre, r["pretrain"])
    for st, f in zip(pre.steps, r["pretrain"]):
        cells["pretrain", render(st.top, BODY_LR_COL)] = f["batch"]
    # finetune: the slice rates, the pretrained body, W2 turned, the steps
    for row, rate in zip(GROUP_ROWS, r["slices"]):
        cells["finetune", render(row, 4)] = rate
    _section(cells, "finetune", lay.finetune, lay.finetune.start, tuned_start, True, head=False)
    _put_run(cells, "finetune", lay.finetune, r["finetune"])
    for st, f in zip(lay.finetune.steps, r["finetune"]):
        change = (f["new"][0] - tuned_start[0]).ravel()
        cells["finetune", render(st.top, MOVED_COL)] = float(total(change * change))
    _section(cells, "scratch", lay.scratch, lay.scratch.start, scratch_start, True)
    _put_run(cells, "scratch", lay.scratch, r["scratch"])
    for sheet, run in (("finetune", lay.finetune), ("scratch", lay.scratch)):
        rates = r["rates"] if sheet == "finetune" else [(p.scratch_lr,) * 2] * lay.epochs
        for st in run.steps:
            cells[sheet, render(st.top, BODY_LR_COL)] = float(rates[st.number][0])
            cells[sheet, render(st.top, HEAD_LR_COL)] = float(rates[st.number][1])
    _valid_and_progress(cells, p, lay, r)
    return cells


def _data(cells: Cells, p: FinetuneParams, lay: Layout, data: dict) -> None:
    put(cells, "data", lay.big_top, ONEHOT, onehot(data["big"][1], lay.big_classes))
    y = data["train"][1]
    put(cells, "data", lay.train_top, CLASS, y[:, None].astype(float))
    put(cells, "data", lay.train_top, ONEHOT, onehot(y, NEW_CLASSES))
    put(cells, "data", lay.valid_top, CLASS, data["valid"][1][:, None].astype(float))
    cells["data", render(*COUNT_CELL)] = float(len(y))


def _valid_and_progress(cells: Cells, p: FinetuneParams, lay: Layout, r: dict) -> None:
    x, y = r["data"]["valid"]
    top = VALID_FIRST_ROW
    put(cells, "valid", top, 1, y[:, None].astype(float))
    acc: list[list[float]] = [[], []]
    for k, name in enumerate(("finetune", "scratch")):
        for t, f in enumerate(r[name]):
            e = evaluate(f["new"], x, y)
            left = lay.valid_left(k, t)
            put(cells, "valid", top, left, e["a1"])
            put(cells, "valid", top, left + lay.hidden, e["z"])
            put(cells, "valid", top, left + lay.hidden + NEW_CLASSES, e["pred"][:, None])
            put(cells, "valid", top, left + lay.hidden + NEW_CLASSES + 1, e["right"][:, None])
            cells["valid", render(*lay.valid_result(k, t))] = e["accuracy"]
            cells["progress", render(t + 1, 2 + k)] = e["accuracy"]
            cells["progress", render(t + 1, 4 + k)] = f["mean"]
            acc[k].append(e["accuracy"])
    ft, sc = acc[0][-1], acc[1][-1]
    gain = ft - sc
    cells["progress", render(*lay.gain_cell)] = gain
    cells["progress", render(*lay.verdict_cell)] = verdict(ft, sc, gain, lay)
    for st, f in zip(lay.pretrain.steps, r["pretrain"]):
        cells["progress", render(st.number + 1, Layout.PRE_LEFT + 2)] = f["mean"]


__all__ = ["expected_cells", "runs", "slice_rate"]
