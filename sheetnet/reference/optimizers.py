"""Plain numpy for the optimizers lesson: every run's columns as torch.optim's
update rules compute them, fastai's lr_find and 1cycle schedules, and the
discriminative rates, laid onto the workbook's cell addresses.

Nothing here uses the engine (only its #N/A value, which the lr_find plot holds after
the stop). Each optimizer is one entry of UPDATES: its update rule, written as
torch.optim's single-tensor code computes it, its torch defaults, and the columns its
sheet shows in their order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.address import render
from ..engine.errors import NA
from ..lessons.backprop.layout import BackpropParams
from ..lessons.backprop.layout import Layout as BackpropLayout
from ..lessons.optimizers.layout import (
    BATCH_RUN_COLUMNS,
    BATCH_TOP,
    DATA_FIRST_ROW,
    DISC_TABLE,
    DISCRIMINATIVE,
    EMA_SERIES,
    FIND_TOP,
    LR_FIND_STEPS,
    OPTIMIZERS,
    RUN_TOP,
    OptimizersParams,
    batch_epoch_top,
    batch_run_left,
    batch_run_top,
    batch_sizes,
    iterations_per_epoch,
)
from .backprop import train_cells
from .ops import Cells, dot, total

Params = dict[str, float]  # a and b


@dataclass
class Step:
    """One iteration as an update rule sees it. `put` records a column's value for
    this step; `state` holds the optimizer's buffers from one step to the next."""

    t: int  # 0-based: the first step starts each buffer
    params: Params  # a and b before the step
    grad: Params  # the batch's dL/da and dL/db
    lr: float
    h: dict[str, float]  # the sheet's settings (or a schedule's, this step's)
    state: dict[str, float]
    put: Callable[[str, float], None]


def _weight_decay(s: Step) -> Params:
    """torch's weight_decay (L2): the gradient plus wd times the parameter; columns da, db."""
    d = {k: s.grad[k] + s.h["wd"] * s.params[k] for k in "ab"}
    for k in "ab":
        s.put(f"d{k}", d[k])
    return d


def sgd(s: Step) -> Params:
    d = _weight_decay(s)
    return {k: s.params[k] - s.lr * d[k] for k in "ab"}


def _momentum_buffer(s: Step, d: Params) -> None:
    """buf = d on the first step, then momentum*buf + (1 - dampening)*d."""
    mu, damp = s.h["momentum"], s.h["dampening"]
    for k in "ab":
        buf = d[k] if s.t == 0 else mu * s.state[f"buf{k}"] + (1 - damp) * d[k]
        s.state[f"buf{k}"] = buf
        s.put(f"buf{k}", buf)


def momentum(s: Step) -> Params:
    d = _weight_decay(s)
    _momentum_buffer(s, d)
    return {k: s.params[k] - s.lr * s.state[f"buf{k}"] for k in "ab"}


def nesterov(s: Step) -> Params:
    d = _weight_decay(s)
    _momentum_buffer(s, d)
    new = {}
    for k in "ab":
        n = d[k] + s.h["momentum"] * s.state[f"buf{k}"]
        s.put(f"n{k}", n)
        new[k] = s.params[k] - s.lr * n
    return new


def rmsprop(s: Step) -> Params:
    d = _weight_decay(s)
    alpha, eps = s.h["alpha"], s.h["eps"]
    new = {}
    for k in "ab":
        g = d[k]
        v = (1 - alpha) * g * g if s.t == 0 else alpha * s.state[f"v{k}"] + (1 - alpha) * g * g
        s.state[f"v{k}"] = v
        s.put(f"v{k}", v)
        new[k] = s.params[k] - s.lr * d[k] / (math.sqrt(v) + eps)
    return new


def _adam(s: Step, grad: Params, base: Params) -> Params:
    """Adam's moments and step from `grad`, applied to `base`, in torch's order:
    m moves (1-beta1) of the way to the gradient (lerp), and the step is
    (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)."""
    b1, b2, eps = s.h["beta1"], s.h["beta2"], s.h["eps"]
    for k in "ab":
        g = grad[k]
        if s.t == 0:
            m, v = (1 - b1) * g, (1 - b2) * g * g
        else:
            m, v = s.state[f"m{k}"], s.state[f"v{k}"]
            m, v = m + (1 - b1) * (g - m), b2 * v + (1 - b2) * g * g
        s.state[f"m{k}"], s.state[f"v{k}"] = m, v
        s.put(f"m{k}", m), s.put(f"v{k}", v)
    bc1, bc2 = 1 - b1 ** (s.t + 1), 1 - b2 ** (s.t + 1)
    s.put("bc1", bc1), s.put("bc2", bc2)
    new = {}
    for k in "ab":
        m, v = s.state[f"m{k}"], s.state[f"v{k}"]
        s.put(f"mh{k}", m / bc1), s.put(f"vh{k}", v / bc2)
        new[k] = base[k] - (s.lr / bc1) * m / (math.sqrt(v) / math.sqrt(bc2) + eps)
    return new


def adam(s: Step) -> Params:
    return _adam(s, _weight_decay(s), s.params)


def adamw(s: Step) -> Params:
    """Decoupled weight decay: the parameter shrinks (columns wa, wb) before the Adam
    step, which sees the plain gradient."""
    shrunk = {k: s.params[k] * (1 - s.lr * s.h["wd"]) for k in "ab"}
    for k in "ab":
        s.put(f"w{k}", shrunk[k])
    return _adam(s, s.grad, shrunk)


@dataclass(frozen=True)
class Optimizer:
    update: Callable[[Step], Params]
    torch: dict[str, float]  # the sheet's settings, torch's defaults
    columns: list[str]  # its sheet's columns after a, b, the errors, loss, dL/da, dL/db
    lesson_wd: bool = False  # its weight decay is the lesson's --wd, not torch's default


ADAM_COLUMNS = ["ma", "va", "mb", "vb", "bc1", "bc2", "mha", "vha", "mhb", "vhb"]
ADAM = {"wd": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
UPDATES = {  # one entry per optimizer sheet
    "sgd": Optimizer(sgd, {"wd": 0.0}, ["da", "db"]),
    "momentum": Optimizer(
        momentum, {"wd": 0.0, "momentum": 0.9, "dampening": 0.0}, ["da", "db", "bufa", "bufb"]
    ),
    "nesterov": Optimizer(
        nesterov,
        {"wd": 0.0, "momentum": 0.9, "dampening": 0.0},
        ["da", "db", "bufa", "bufb", "na", "nb"],
    ),
    "rmsprop": Optimizer(
        rmsprop, {"wd": 0.0, "alpha": 0.99, "eps": 1e-8}, ["da", "db", "va", "vb"]
    ),
    "adam": Optimizer(adam, ADAM, ["da", "db", *ADAM_COLUMNS], lesson_wd=True),
    "adamw": Optimizer(adamw, ADAM | {"wd": 0.01}, ["wa", "wb", *ADAM_COLUMNS], lesson_wd=True),
}


def data_xy(p: OptimizersParams) -> tuple[np.ndarray, np.ndarray]:
    x = np.array(p.x_values(), dtype=float)
    if p.data is not None:
        return x, np.array([y for _, y in p.data], dtype=float)
    return x, p.true_b + x * p.true_a


def batch_xy(p: OptimizersParams, steps: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = data_xy(p)
    picks = np.array([p.batch(t) for t in range(steps)])
    return x[picks], y[picks]


def settings(p: OptimizersParams, name: str) -> dict[str, float]:
    opt = UPDATES[name]
    return opt.torch | {"wd": p.wd} if opt.lesson_wd else dict(opt.torch)


def run(
    p: OptimizersParams,
    name: str,
    lrs: list[float],
    h: dict[str, float] | list[dict[str, float]],
    steps: int | None = None,
    freeze: list[bool] | None = None,
) -> dict[str, list]:
    """Every column of a run of optimizer `name` (sgd for lr_find), one value per step.
    `lrs` and `h` may vary per step; `freeze[t]` keeps the parameters (lr_find's stop)."""
    n = steps or p.iterations
    X, Y = batch_xy(p, n)
    B = p.batch_size
    update = UPDATES[name].update
    cols: dict[str, list] = {}

    def put(key: str, v: object) -> None:
        cols.setdefault(key, []).append(v)

    a, b = p.init_a, p.init_b
    state: dict[str, float] = {}
    for t in range(n):
        e = a * X[t] + b - Y[t]
        g = {"a": 2 * float(dot(e, X[t])) / B, "b": 2 * float(total(e)) / B}
        put("a", a), put("b", b), put("e", e)
        put("loss", float(dot(e, e)) / B), put("ga", g["a"]), put("gb", g["b"])
        hh = h[t] if isinstance(h, list) else h
        new = update(Step(t, {"a": a, "b": b}, g, lrs[t], hh, state, put))
        if freeze is not None and t > 0 and freeze[t - 1]:
            new = {"a": a, "b": b}
        put("a'", new["a"]), put("b'", new["b"])
        a, b = new["a"], new["b"]
    return cols


def _lay(cells: Cells, sheet: str, top: int, left: int, order: list[str], cols: dict) -> int:
    """Write columns in `order` from `left`; 'e' expands to the batch's errors. Returns
    the column after the last."""
    for key in order:
        values = cols[key]
        if key == "e":
            for t, row in enumerate(values):
                for j, v in enumerate(row):
                    cells[sheet, render(top + t, left + j)] = float(v)
            left += len(values[0])
            continue
        for t, v in enumerate(values):
            cells[sheet, render(top + t, left)] = v if v is NA else float(v)
        left += 1
    return left


FIT = ["a", "b", "e", "loss", "ga", "gb"]


def expected_cells(p: OptimizersParams) -> Cells:
    cells: Cells = {}
    y = data_xy(p)[1]
    if p.data is None:
        for i, v in enumerate(y):
            cells["data", render(DATA_FIRST_ROW + i, 2)] = float(v)
    n_batches = max(p.iterations, LR_FIND_STEPS)
    X, Y = batch_xy(p, n_batches)
    B = p.batch_size
    for t in range(n_batches):
        for j in range(B):
            cells["batches", render(BATCH_TOP + t, 1 + B + j)] = float(X[t, j])
            cells["batches", render(BATCH_TOP + t, 1 + 2 * B + j)] = float(Y[t, j])
    n = p.iterations
    race_left = 1 + len(OPTIMIZERS) + 1
    for j, name in enumerate(OPTIMIZERS):
        cells[name, "D1"] = p.shared_lr
        left = 1
        for side, lr in enumerate((p.setting(name), p.shared_lr)):
            cols = run(p, name, [lr] * n, settings(p, name))
            right = _lay(
                cells, name, RUN_TOP, left, [*FIT, *UPDATES[name].columns, "a'", "b'"], cols
            )
            for t, loss in enumerate(cols["loss"]):
                cells["race", render(3 + t, (1 if side == 0 else race_left) + j)] = loss
            left = right + 1
    _batch_size(cells, p)
    _ema_bias(cells)
    _lr_find(cells, p)
    _one_cycle(cells, p)
    _discriminative(cells, p.slice_div)
    return cells


def batch_size_run(p: OptimizersParams, b: int) -> dict[str, list[float]]:
    """One run of the batch_size sheet: the steps of batches of b, epoch after epoch, in
    the spreadsheet's order of operations (a SUMPRODUCT adds point by point)."""
    x, y = data_xy(p)
    n = len(x)
    k = float(int((n + b - 1.0) / b))
    a, bb = p.init_a, p.init_b
    out: dict[str, list[float]] = {name: [] for name in BATCH_RUN_COLUMNS[1:]}
    for t in range(1, int(k) * p.batch_epochs + 1):
        done = float(int((t - 1) / k))
        first = (t - 1 - k * done) * b + 1
        last = min(first + b - 1, float(n))
        mask = [1.0 if first <= i + 1 <= last else 0.0 for i in range(n)]
        error = [a * x[i] + bb - y[i] for i in range(n)]
        size = last - first + 1
        loss = ga = gb = 0.0
        for i in range(n):
            loss += mask[i] * error[i] * error[i]
            ga += mask[i] * error[i] * x[i]
            gb += mask[i] * error[i]
        ga, gb = 2 * ga / size, 2 * gb / size
        new_a, new_b = a - p.batch_lr * ga, bb - p.batch_lr * gb
        every = 0.0
        for i in range(n):
            e = new_a * x[i] + new_b - y[i]
            every += e * e
        row = [done + 1, first, last, a, bb, loss / size, ga, gb, new_a, new_b, every / n]
        for name, value in zip(BATCH_RUN_COLUMNS[1:], row):
            out[name].append(float(value))
        a, bb = new_a, new_b
    return out


def _batch_size(cells: Cells, p: OptimizersParams) -> None:
    n = len(p.x_values())
    cells["batch_size", "E1"] = float(n)
    top, run_top = batch_epoch_top(), batch_run_top(p)
    for r, b in enumerate(batch_sizes(p)):
        left = batch_run_left(r)
        k = iterations_per_epoch(p, b)
        cells["batch_size", render(run_top - 3, left + 3)] = float(k)
        columns = batch_size_run(p, b)
        for j, name in enumerate(BATCH_RUN_COLUMNS[1:], start=1):
            for t, value in enumerate(columns[name]):
                cells["batch_size", render(run_top + t, left + j)] = value
        every = columns["loss, all points"]
        for e in range(p.batch_epochs):
            cells["batch_size", render(top + e, 1 + r)] = every[(e + 1) * k - 1]


def _ema_bias(cells: Cells) -> None:
    rng = np.random.default_rng(5)
    values = np.round(1.0 + 0.3 * rng.normal(size=EMA_SERIES), 2)
    beta, avg = 0.9, 0.0
    for t, v in enumerate(values):
        avg = (1 - beta) * v if t == 0 else beta * avg + (1 - beta) * v
        correction = 1 - beta ** float(t + 1)
        for col, value in ((2, avg), (3, correction), (4, avg / correction)):
            cells["ema_bias", render(3 + t, col)] = float(value)


def _lr_find(cells: Cells, p: OptimizersParams) -> None:
    n, start, end, beta = LR_FIND_STEPS, 1e-7, 10.0, 0.98
    lrs = [start * (end / start) ** (i / float(n)) for i in range(n)]
    # the stop depends on the losses, the losses on the stop: run until it settles
    freeze = [False] * n
    while True:
        cols = run(p, "sgd", lrs, {"wd": 0.0}, n, freeze)
        avgs: list[float] = []
        smooth, best, stop, plot = [], [], [], []
        for i, loss in enumerate(cols["loss"]):
            avgs.append((1 - beta) * loss if i == 0 else beta * avgs[-1] + (1 - beta) * loss)
            smooth.append(avgs[-1] / (1 - beta ** (i + 1.0)))
            if i == 0:
                best.append(smooth[0])
            else:
                best.append(best[-1] if stop[-1] else min(best[-1], smooth[-1]))
            stop.append(bool(i and stop[-1]) or smooth[-1] > 4.0 * best[-1])
            plot.append(NA if i and stop[-2] else smooth[-1])
        if stop == freeze:
            break
        freeze = stop
    cols |= {"lr": lrs, "avg": avgs, "smooth": smooth, "best": best,
             "stop": [float(s) for s in stop], "plot": plot}  # fmt: skip
    # the sheet's order: lr, the fit, average, smoothed, best, stopped, plotted, a', b'
    order = ["lr", *FIT, "avg", "smooth", "best", "stop", "plot", "a'", "b'"]
    _lay(cells, "lr_find", FIND_TOP, 1, order, cols)
    lowest = best[-1]
    at = lrs[smooth.index(lowest)]
    cells["lr_find", "K2"] = lowest
    cells["lr_find", "K3"] = at
    cells["lr_find", "O3"] = at / 10


def _anneal(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)


def one_cycle_schedule(p: OptimizersParams) -> tuple[list[float], list[float], int]:
    """fastai's 1cycle: each step's learning rate and momentum, and the warm-up length."""
    n = p.iterations
    warm = math.floor(float(n) * 0.3)
    low = p.lr_max / 25.0
    lrs, moms = [], []
    for i in range(n):
        if i <= warm:
            pct = i / warm
            lrs.append(_anneal(low, p.lr_max, pct))
            moms.append(_anneal(0.95, 0.85, pct))
        else:
            pct = (i - warm) / (n - warm)
            lrs.append(_anneal(p.lr_max, low / 1e4, pct))
            moms.append(_anneal(0.85, 0.95, pct))
    return lrs, moms, warm


def _one_cycle(cells: Cells, p: OptimizersParams) -> None:
    lrs, moms, warm = one_cycle_schedule(p)
    cells["one_cycle", "D3"] = float(warm)
    h = [ADAM | {"beta1": m} for m in moms]  # torch's Adam, wd 0, 1cycle's momentum
    cols = run(p, "adam", lrs, h) | {"lr": lrs, "mom": moms}
    order = ["lr", "mom", *FIT, *UPDATES["adam"].columns, "a'", "b'"]
    _lay(cells, "one_cycle", RUN_TOP, 1, order, cols)


def slice_rates(
    a: float, b: float, groups: int, div: float = 3.0
) -> tuple[list[float], list[float]]:
    """slice(a, b) and slice(b) for `groups` layer groups: fastai's geometric spread, and
    b/div for all groups but the last (div 3 in v1 up to 1.0.28, 10 after)."""
    spread = [a * (b / a) ** ((g + 1.0 - 1) / (groups - 1)) for g in range(groups)]
    last = [b if g == groups - 1 else b / div for g in range(groups)]
    return spread, last


def _discriminative(cells: Cells, div: float) -> None:
    a, b = 0.05, 0.5
    row = 2
    rates: list[float] = []
    for groups in (3, 2):
        spread, last = slice_rates(a, b, groups, div)
        for g in range(groups):
            cells["discriminative", render(row + 2 + g, 1)] = spread[g]
            cells["discriminative", render(row + 2 + g, 2)] = last[g]
        rates = spread
        row += 3 + groups
    train = train_cells(DISCRIMINATIVE, (rates[0], rates[1]), "disc_train")
    cells.update(train)
    cells["disc_train", "C1"], cells["disc_train", "C2"] = rates[0], rates[1]
    cells["points", "C2"] = 8.0
    lay = BackpropLayout(DISCRIMINATIVE)
    for t in range(DISCRIMINATIVE.iterations):
        cells["discriminative", render(DISC_TABLE + t, 1)] = train[
            "disc_train", render(lay.top(t), lay.loss_value)
        ]


__all__ = ["BackpropParams", "expected_cells", "one_cycle_schedule", "run", "slice_rates"]
