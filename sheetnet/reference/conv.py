"""Plain numpy for the conv lesson: a 3x3 convolution, ReLU, 2x2 max-pool, [inverted
dropout,] a dense layer, softmax and cross-entropy, trained by mini-batch SGD with the
notebook's weight decay, laid onto the workbook's cell addresses.

Nothing here uses the engine. Sums run in the order a spreadsheet adds (left to right,
a range row by row), so the comparison can be tight.
"""

from __future__ import annotations

import numpy as np

from ..engine.address import render
from ..engine.semantics import stored
from ..lessons.conv.layout import (
    BATCH_LOSS_COL,
    BATCH_SIZE_COL,
    CHECK_TOP,
    CHECKED,
    CLASSES,
    NUDGED_TOP,
    VALID_ACCURACY_ROW,
    VALID_FIRST_ROW,
    VALID_LOSS_ROW,
    ConvParams,
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
from .ops import Cells, as_stored, dot, exp, log, put, total


def conv(x: np.ndarray, w: np.ndarray, lay: Layout) -> np.ndarray:
    """z (n, F, C, C) of images x (n, S*S) under filters w (F, 9 + 1): three SUMPRODUCTs
    (a window row by a filter row) added in turn, then the bias."""
    S, C = lay.side, lay.conv
    n, F = len(x), len(w)
    z = np.zeros((n, F, C, C))
    for r in range(C):
        for c in range(C):
            out = None
            for kr in range(K):
                start = (r + kr) * S + c
                term = dot(x[:, None, start : start + K], w[None, :, kr * K : kr * K + K])
                out = term if out is None else out + term
            z[:, :, r, c] = out + w[None, :, K * K]  # type: ignore[operator]
    return z


def pool(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2x2 max-pool of maps a (n, F, C, C): (m (n, F, P, P), the winner 1..4, the
    first position in reading order holding the max)."""
    spots = np.stack([a[:, :, 0::2, 0::2], a[:, :, 0::2, 1::2],
                      a[:, :, 1::2, 0::2], a[:, :, 1::2, 1::2]], axis=-1)  # fmt: skip
    m = spots.max(axis=-1)
    win = (spots == m[..., None]).argmax(axis=-1) + 1.0
    return m, win


def dense_layer(h: np.ndarray, w: np.ndarray) -> np.ndarray:
    return dot(h[:, None, :], w[None, :, :-1]) + w[None, :, -1]


def head(z: np.ndarray) -> dict[str, np.ndarray]:
    """Stable softmax and prediction of logits z (n, 10)."""
    mx = z.max(axis=1)
    e = exp(z - mx[:, None])
    s = total(e)
    p = e / s[:, None]
    return {"z": z, "max": mx, "exp": e, "sum": s, "p": p, "pred": p.argmax(axis=1).astype(float)}


def flat(v: np.ndarray) -> np.ndarray:
    """(n, F, r, c) -> (n, F*r*c), filter by filter, row by row."""
    return v.reshape(len(v), -1)


def train(p: ConvParams) -> tuple[Layout, list[dict]]:
    """Every iteration's intermediate arrays, from the start weights on."""
    lay = Layout(p)
    images = p.images
    pixels = as_stored(images.pixels[: p.train]) / lay.scale
    lr, wd, drop = stored(p.lr), stored(p.wd), stored(p.dropout)
    labels = np.array(images.labels[: p.train])
    ws = lay.start_weights()
    C, S, F = lay.conv, lay.side, lay.filters
    steps = []
    for it in lay.iterations:
        rows = np.array(it.images) - 1
        x, y = pixels[rows], labels[rows]
        n = len(y)
        z = conv(x, ws[0], lay)
        a = np.maximum(z, 0.0)
        m4, win4 = pool(a)
        m = flat(m4)
        st: dict = {"x": x, "conv": flat(z), "a": flat(a), "m": m, "win": flat(win4)}
        h = m
        if lay.dropping:
            mask = lay.masks[it.number]
            h = m * mask / (1 - drop)
            st["h"] = h
        f = head(dense_layer(h, ws[1]))
        onehot = (y[:, None] == np.arange(CLASSES)[None, :]).astype(float)
        loss = -log(f["p"][np.arange(n), y])
        delta = (f["p"] - onehot) / float(n)
        dh = dot(delta[:, None, :], ws[1][:, :-1].T[None, :, :])
        dm = dh * lay.masks[it.number] / (1 - drop) if lay.dropping else dh
        dm4 = dm.reshape(m4.shape)
        da = np.zeros_like(a)
        for o, (di, dj) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            da[:, :, di::2, dj::2] = np.where(win4 == o + 1, dm4, 0.0)
        dz = np.where(z > 0, da, 0.0)
        corr = np.zeros((n, F, K, K))
        for kr in range(K):
            for kc in range(K):
                share = None
                for r in range(C):
                    start = (r + kr) * S + kc
                    term = dot(dz[:, :, r, :], x[:, None, start : start + C])
                    share = term if share is None else share + term
                corr[:, :, kr, kc] = share
        corr_f = flat(corr)
        gw = total(corr_f.T).reshape(F, K * K) + 2 * wd * ws[0][:, :-1]
        gb = (
            total(dz.reshape(n, F, C * C).transpose(1, 0, 2).reshape(F, -1)) + 2 * wd * ws[0][:, -1]
        )
        g_filters = np.hstack([gw, gb[:, None]])
        g_dense_w = dot(delta.T[:, None, :], h.T[None, :, :]) + 2 * wd * ws[1][:, :-1]
        g_dense_b = total(delta.T) + 2 * wd * ws[1][:, -1]
        grads = [g_filters, np.hstack([g_dense_w, g_dense_b[:, None]])]
        new = [w - lr * g for w, g in zip(ws, grads)]
        st |= f | {"label": y.astype(float), "onehot": onehot, "loss": loss,
                   "batch": np.array(float(n)), "mean": total(loss) / float(n), "delta": delta,
                   "dh": dh, "dm": dm, "da": flat(da), "dz": flat(dz), "corr": corr_f,
                   "start": ws, "grad": grads, "new": new}  # fmt: skip
        steps.append(st)
        ws = new
    return lay, steps


def _section(cells: Cells, lay: Layout, top: int, ws: list[np.ndarray]) -> None:
    put(cells, "train", top, lay.filt, ws[0])
    put(cells, "train", top, lay.dense, ws[1])


def predict(x: np.ndarray, ws: list[np.ndarray], lay: Layout) -> dict[str, np.ndarray]:
    """The network without dropout, the convolution and ReLU in one cell."""
    a = np.maximum(conv(x, ws[0], lay), 0.0)
    m, _ = pool(a)
    return {"a": flat(a), "m": flat(m)} | head(dense_layer(flat(m), ws[1]))


def expected_cells(p: ConvParams) -> Cells:
    lay, steps = train(p)
    cells: Cells = {}
    for it, st in zip(lay.iterations, steps):
        top, rows = it.top - 1, it.top + 1
        cells["train", render(top, BATCH_SIZE_COL)] = float(st["batch"])
        cells["train", render(top, BATCH_LOSS_COL)] = float(st["mean"])
        put(cells, "train", rows, 1, st["label"][:, None])
        columns = [("x", lay.pix), ("conv", lay.z), ("a", lay.a), ("m", lay.m), ("z", lay.logit),
                   ("max", lay.max), ("exp", lay.e), ("sum", lay.sum), ("p", lay.prob),
                   ("onehot", lay.onehot), ("loss", lay.loss), ("delta", lay.delta),
                   ("dh", lay.dh), ("win", lay.win), ("da", lay.da), ("dz", lay.dz),
                   ("corr", lay.corr)]  # fmt: skip
        if lay.dropping:
            columns += [("h", lay.h), ("dm", lay.dm)]
        for key, col in columns:
            values = st[key]
            put(cells, "train", rows, col, values if values.ndim == 2 else values[:, None])
        _section(cells, lay, lay.grad_top(it) - 1, st["grad"])
        _section(cells, lay, lay.new_top(it) - 1, st["new"])
    _valid(cells, p, lay, steps)
    _look(cells, lay, steps[0])
    for which, ws in enumerate((steps[0]["start"], steps[-1]["new"])):
        for f in range(lay.filters):
            put(cells, "filters", *filters_at(lay, which, f), ws[0][f, :-1].reshape(K, K))
    _draw(cells, p, lay, steps[-1]["new"])
    _gradcheck(cells, p, lay, steps[0])
    return cells


def _valid(cells: Cells, p: ConvParams, lay: Layout, steps: list[dict]) -> None:
    images = p.images
    x = as_stored(images.pixels[p.train :]) / lay.scale
    y = np.array(images.labels[p.train :])
    rows = VALID_FIRST_ROW - 1
    put(cells, "valid", rows, 1, y[:, None].astype(float))
    put(cells, "valid", rows, lay.pix, x)
    ends = {it.epoch: i for i, it in enumerate(lay.iterations)}
    pred = None
    for epoch in range(p.epochs):
        f = predict(x, steps[ends[epoch]]["new"], lay)
        left = valid_left(lay, epoch)
        loss = -log(f["p"][np.arange(len(y)), y])
        right = (f["pred"] == y).astype(float)
        for values in (f["a"], f["m"], f["z"], f["max"], f["exp"], f["sum"], f["p"], f["pred"],
                       loss, right):  # fmt: skip
            values = values if values.ndim == 2 else values[:, None]
            put(cells, "valid", rows, left, values)
            left += values.shape[1]
        mean_loss, accuracy = total(loss) / len(y), total(right) / len(y)
        cells["valid", render(*valid_result(lay, epoch, VALID_LOSS_ROW))] = float(mean_loss)
        cells["valid", render(*valid_result(lay, epoch, VALID_ACCURACY_ROW))] = float(accuracy)
        cells["progress", render(epoch + 1, 5)] = float(mean_loss)
        cells["progress", render(epoch + 1, 6)] = float(accuracy)
        pred = f["pred"]
    for it, st in zip(lay.iterations, steps):
        cells["progress", render(it.number + 1, 2)] = float(st["mean"])
    confusion = np.zeros((CLASSES, CLASSES))
    for true, guess in zip(y, pred):  # type: ignore[arg-type]
        confusion[int(true), int(guess)] += 1
    put(cells, "confusion", 3, 1, confusion)


def _look(cells: Cells, lay: Layout, st: dict) -> None:
    """The first image of iteration 1 as pictures; 2-D SUMPRODUCTs add row by row."""
    S, C, P = lay.side, lay.conv, lay.pooled
    cols = look_cols(lay)
    img = st["x"][0].reshape(S, S)
    w = st["start"][0]
    for f in range(lay.filters):
        top = look_band_top(lay, f) + 1
        filt = w[f, :-1].reshape(K, K)
        put(cells, "look", top, cols["image"], img)
        put(cells, "look", top, cols["filter"], filt)
        cells["look", render(top, cols["bias"])] = float(w[f, -1])
        z = np.array([[dot(img[r : r + K, c : c + K].reshape(-1), filt.reshape(-1)) + w[f, -1]
                       for c in range(C)] for r in range(C)])  # fmt: skip
        a = np.maximum(z, 0.0)
        m, win = pool(a[None, None])
        dm = st["dm"][0].reshape(lay.filters, P, P)[f]
        da = np.zeros_like(a)
        for o, (di, dj) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            da[di::2, dj::2] = np.where(win[0, 0] == o + 1, dm, 0.0)
        dz = np.where(z > 0, da, 0.0)
        dw = np.array([[dot(dz.reshape(-1), img[i : i + C, j : j + C].reshape(-1))
                        for j in range(K)] for i in range(K)])  # fmt: skip
        for name, values in (("z", z), ("a", a), ("m", m[0, 0]), ("dm", dm), ("win", win[0, 0]),
                             ("da", da), ("dz", dz), ("dfilter", dw)):  # fmt: skip
            put(cells, "look", top, cols[name], values)


def _draw(cells: Cells, p: ConvParams, lay: Layout, ws: list[np.ndarray]) -> None:
    first = as_stored(p.images.pixels[p.train])
    top = draw_top(lay)
    x = (first / lay.scale)[None, :]
    put(cells, "draw", top + 1, lay.pix, x)
    f = predict(x, ws, lay)
    left = lay.pix
    for values in (f["a"], f["m"], f["z"], f["max"], f["exp"], f["sum"], f["p"], f["pred"]):
        values = values if values.ndim == 2 else values[:, None]
        put(cells, "draw", top + 4, left, values)
        left += values.shape[1]
    cells["draw", render(top + 6, lay.pix)] = float(f["pred"][0])
    put(cells, "draw", 2, lay.side + 4, f["p"][0][:, None])


def _gradcheck(cells: Cells, p: ConvParams, lay: Layout, st: dict) -> None:
    h, wd, drop = stored(1e-5), stored(p.wd), stored(p.dropout)
    w = st["start"]
    x, y = st["x"], st["label"].astype(int)
    b = len(x)
    P2 = lay.pooled * lay.pooled
    body = NUDGED_TOP + 1
    left = 4
    x_left = left + K * K + 2
    feats_left = x_left + lay.pixels + 1
    a1_left = feats_left + lay.features + 1
    objectives = []
    for q in range(2 * len(CHECKED)):
        nudge = np.zeros(K * K + 1)
        nudge[CHECKED[q // 2]] = h if q % 2 == 0 else -h
        filt = w[0][0] + nudge
        rows = body + q * b
        put(cells, "nudged", rows, left, np.tile(filt, (b, 1)))
        put(cells, "nudged", rows, x_left, x)
        a1 = np.maximum(conv(x, filt[None, :], lay), 0.0)
        m1, _ = pool(a1)
        feats = np.hstack([flat(m1), st["m"][:, P2:]])
        put(cells, "nudged", rows, feats_left, feats)
        put(cells, "nudged", rows, a1_left, flat(a1))
        inputs, col = feats, a1_left + lay.conv * lay.conv + 1
        if lay.dropping:
            inputs = feats * lay.masks[0] / (1 - drop)
            put(cells, "nudged", rows, col, inputs)
            col += lay.features + 1
        f = head(dense_layer(inputs, w[1]))
        loss = -log(f["exp"][np.arange(b), y] / f["sum"])
        for values in (f["z"], f["max"], f["exp"], f["sum"], loss, y.astype(float)):
            values = values if values.ndim == 2 else values[:, None]
            put(cells, "nudged", rows, col, values)
            col += values.shape[1]
        objective = total(loss) / b + wd * total(filt * filt)
        cells["nudged", render(objective_top(lay) + q, col + 1)] = float(objective)
        objectives.append(objective)
    rows = CHECK_TOP + 1
    grad = st["grad"][0][0]
    diffs = []
    for i, at in enumerate(CHECKED):
        plus, minus = objectives[2 * i], objectives[2 * i + 1]
        slope = (plus - minus) / (2 * h)
        big = max(abs(slope), abs(grad[at]))
        diff = 0.0 if big == 0 else abs(slope - grad[at]) / big
        diffs.append(diff)
        put(cells, "gradcheck", rows + i, 1,
            np.array([[w[0][0, at], grad[at], plus, minus, slope, diff]]))  # fmt: skip
    cells["gradcheck", "G2"] = float(max(diffs))
