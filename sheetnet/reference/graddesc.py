"""Plain numpy for the graddesc lesson: each optimizer's update exactly as the
sheets define it (quirks included), laid onto the spec's cell addresses.

Nothing here uses the engine. Layout, from the spec: epoch e (0-based) is a block
of rows+3 rows whose state row is 3 + e*(rows+3); data rows follow it, then the
summary row (row 33 for epoch 1) and the extra row (row 34).
"""

from __future__ import annotations

import numpy as np

from ..lessons.graddesc.layout import GraddescParams

Cells = dict[tuple[str, str], object]
H = 0.01  # the finite-difference step the basic sheet uses


def _rows(p: GraddescParams, epoch: int) -> tuple[int, int, int, int]:
    """(state, first, last, summary) row numbers of an epoch's block."""
    state = 3 + epoch * (p.rows + 3)
    return state, state + 1, state + p.rows, state + p.rows + 1


def data_xy(p: GraddescParams) -> tuple[np.ndarray, np.ndarray]:
    x = np.array(p.x_values(), dtype=float)
    if p.data is not None:
        return x, np.array([y for _, y in p.data], dtype=float)
    return x, p.true_b + x * p.true_a


def _put(out: Cells | None, sheet: str, row: int, **cols: float) -> None:
    """Record values at (sheet, column+row); with out=None only the math runs (a floor)."""
    if out is None:
        return
    for col, value in cols.items():
        out[sheet, f"{col}{row}"] = float(value)


def _xy_cells(out: Cells, sheet: str, p: GraddescParams, x: np.ndarray, y: np.ndarray) -> None:
    for e in range(p.epochs):
        _, first, _, _ = _rows(p, e)
        for i in range(p.rows):
            _put(out, sheet, first + i, A=x[i], B=y[i])


def basic(
    p: GraddescParams,
    x: np.ndarray,
    y: np.ndarray,
    out: Cells | None,
    sheet: str = "basic",
    lr: float | None = None,
) -> list[tuple]:
    """Plain SGD with finite-difference gradient estimates. Returns (a, b, error) per epoch."""
    lr = p.setting("lr", "basic") if lr is None else lr
    a, b = p.init_a, p.init_b
    history = []
    for e in range(p.epochs):
        _, first, _, summary = _rows(p, e)
        err2s, dbs, das = np.empty(p.rows), np.empty(p.rows), np.empty(p.rows)
        for i in range(p.rows):
            pred = b + a * x[i]
            err2 = (y[i] - pred) ** 2
            errb1 = (((b + H) + x[i] * a) - y[i]) ** 2
            erra1 = (((a + H) * x[i] + b) - y[i]) ** 2
            db = 2 * (pred - y[i])
            da = db * x[i]
            new_a, new_b = a - da * lr, b - db * lr
            _put(out, sheet, first + i, C=b, D=a, E=pred, F=err2, G=errb1,
                 H=(errb1 - err2) / H, I=erra1, J=(erra1 - err2) / H, K=db, L=da,
                 M=new_a, N=new_b)  # fmt: skip
            err2s[i], dbs[i], das[i] = err2, db, da
            a, b = new_a, new_b
        error = np.sqrt(np.sum(err2s))  # not divided by n, as the original
        _put(out, sheet, summary, F=error, K=np.sqrt(np.sum(dbs**2)),
             L=np.sqrt(np.sum(das**2)), M=a, N=b)  # fmt: skip
        history.append((a, b, error))
    return history


def moving(
    p: GraddescParams,
    sheet: str,
    x: np.ndarray,
    y: np.ndarray,
    out: Cells | None,
    lr: float | None = None,
) -> list:
    """momentum, rmsprop, adam and adam_ann (also as race_ sheets, at the race's `lr`):
    one loop, each optimizer's own update rule."""
    kind = sheet.removeprefix("race_")
    lr0 = p.setting("lr", kind) if lr is None else lr
    beta = p.setting("beta", kind)
    beta2 = p.setting("beta2", kind) if kind in ("adam", "adam_ann") else None
    _put(out, sheet, 1, K=1 - beta)
    if beta2 is not None:
        _put(out, sheet, 1, M=1 - beta2)
    err_col = {"momentum": "L", "rmsprop": "L", "adam": "N", "adam_ann": "O"}[kind]
    a, b = p.init_a, p.init_b
    if kind == "rmsprop":
        j = k = p.start_sq
    else:
        j = k = p.start_avg
    l_ = m = p.start_sq
    lr, prev_grad2 = lr0, None
    history = []
    for e in range(p.epochs):
        state, first, _, summary = _rows(p, e)
        if e:
            _put(out, sheet, state, J=j, K=k)
            if beta2 is not None:
                _put(out, sheet, state, L=l_, M=m)
        err2s, fs, gs = np.empty(p.rows), np.empty(p.rows), np.empty(p.rows)
        for i in range(p.rows):
            pred = b + a * x[i]
            f = 2 * (a * x[i] + b - y[i])
            g = f * x[i]
            if kind == "momentum":
                j, k = j * beta + (1 - beta) * f, k * beta + (1 - beta) * g
                new_b, new_a = b - j * lr, a - k * lr
            elif kind == "rmsprop":  # divides by the previous row's averages
                new_b, new_a = b - f * lr / np.sqrt(j), a - g * lr / np.sqrt(k)
                j, k = j * beta + (1 - beta) * f**2, k * beta + (1 - beta) * g**2
            else:  # adam without bias correction or epsilon
                j, k = j * beta + (1 - beta) * f, k * beta + (1 - beta) * g
                l_, m = l_ * beta2 + (1 - beta2) * f**2, m * beta2 + (1 - beta2) * g**2
                new_b, new_a = b - j * lr / np.sqrt(l_), a - k * lr / np.sqrt(m)
            err2 = (y[i] - pred) ** 2
            _put(out, sheet, first + i, C=b, D=a, E=pred, F=f, G=g, H=new_b, I=new_a, J=j, K=k)
            _put(out, sheet, first + i, **{err_col: err2})
            if beta2 is not None:
                _put(out, sheet, first + i, L=l_, M=m)
            err2s[i], fs[i], gs[i] = err2, f, g
            a, b = new_a, new_b
        error = np.sqrt(np.sum(err2s))
        _put(out, sheet, summary, H=b, I=a, J=j, K=k)
        _put(out, sheet, summary, **{err_col: error})
        if beta2 is not None:
            _put(out, sheet, summary, L=l_, M=m)
        if kind == "adam_ann":
            avg_grad2 = np.sqrt(l_) + np.sqrt(m)
            if prev_grad2 is None:
                prev_grad2 = avg_grad2  # epoch 1 compares with itself: gradrat 1
                _put(out, sheet, 3, N=prev_grad2)
            gradrat = avg_grad2 / prev_grad2
            _put(out, sheet, summary, F=np.sqrt(np.sum(fs**2)) / p.rows,
                 G=np.sqrt(np.sum(gs**2)) / p.rows, N=avg_grad2)  # fmt: skip
            _put(out, sheet, summary + 1, N=gradrat)
            history.append((a, b, error, lr))
            if e + 1 < p.epochs:
                lr = lr / 4 if gradrat > 2 else lr
                prev_grad2 = avg_grad2 if avg_grad2 < prev_grad2 else prev_grad2
                next_state = _rows(p, e + 1)[0]
                _put(out, sheet, next_state, D=lr, N=prev_grad2)
        else:
            history.append((a, b, error))
    return history


def expected_cells(p: GraddescParams) -> Cells:
    """Every formula cell of the lesson, as plain numpy computes it."""
    out: Cells = {}
    x, y = data_xy(p)
    if p.data is None:
        for i in range(p.rows):
            out["data", f"C{5 + i}"] = float(y[i])
    histories = {"basic": basic(p, x, y, out)}
    for sheet in ("momentum", "rmsprop", "adam", "adam_ann"):
        histories[sheet] = moving(p, sheet, x, y, out)
    for sheet in histories:
        _xy_cells(out, sheet, p, x, y)
    letters = "BCDEFGHIJKLMNOP"
    for e in range(p.epochs):
        row = e + 2
        for j, sheet in enumerate(histories):
            a, b, error = histories[sheet][e][:3]
            for k, v in enumerate((a, b, error)):
                out["summary", f"{letters[3 * j + k]}{row}"] = float(v)
        out["summary", f"R{row}"] = float(histories["adam_ann"][e][3])
        if p.data is None:
            out["summary", f"S{row}"] = p.true_a
            out["summary", f"T{row}"] = p.true_b
    _race(out, p, x, y)
    return out


def _race(out: Cells, p: GraddescParams, x: np.ndarray, y: np.ndarray) -> None:
    """The race_ sheets: every optimizer again, all at the one learning rate p.race_lr."""
    errors = {"race_basic": basic(p, x, y, out, "race_basic", p.race_lr)}
    out["race_basic", "F1"] = p.race_lr
    for kind in ("momentum", "rmsprop", "adam", "adam_ann"):
        errors[f"race_{kind}"] = moving(p, f"race_{kind}", x, y, out, p.race_lr)
        out[f"race_{kind}", "D2"] = p.race_lr
    for sheet in errors:
        _xy_cells(out, sheet, p, x, y)
    for e in range(p.epochs):
        for j, sheet in enumerate(errors):
            out["race", f"{'BCDEF'[j]}{5 + e}"] = float(errors[sheet][e][2])
