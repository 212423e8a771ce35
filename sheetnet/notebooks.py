"""Companion notebooks: each lesson's workbook beside the same computation in PyTorch.

`sheetnet notebook LESSON` writes a Jupyter notebook that builds the lesson's
workbook with the Python API, shows its key sheets, then computes the same thing
the way fast.ai's notebooks write it (nn.Linear, F.cross_entropy, the lesson's
update, torch.optim) and shows the workbook's cells and torch's numbers side by
side, asserting they agree. Cell addresses the torch code reads are taken from the
lesson's layout when the notebook is written, so they match its workbook.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .engine import address
from .lessons import LESSONS

Cell = tuple[str, str]  # ("markdown" | "code", source)

_SETUP = """\
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

import sheetnet as sn

torch.set_default_dtype(torch.float64)  # spreadsheets compute in double precision"""

_AGREE = """\
def agree(sheet_values, torch_values, what):
    \"\"\"The workbook's numbers beside torch's, and the assertion that they agree.\"\"\"
    sheet_values = np.asarray(sheet_values, dtype=float).ravel()
    torch_values = np.asarray(torch_values, dtype=float).ravel()
    table = pd.DataFrame({"workbook": sheet_values, "torch": torch_values})
    np.testing.assert_allclose(sheet_values, torch_values, rtol=1e-9, err_msg=what)
    print(f"{what}: {len(table)} numbers agree (largest difference "
          f"{np.max(np.abs(sheet_values - torch_values)):.1e})")
    return table.head()"""


def _entropy() -> list[Cell]:
    return [
        (
            "markdown",
            "# Softmax and cross-entropy, cell by cell and in PyTorch\n\n"
            "The workbook recreates fast.ai's `entropy_example.xlsx`: every number "
            "below is a live formula you can inspect in a spreadsheet.",
        ),
        ("code", 'wb = sn.build("entropy")\nwb.frame("softmax")'),
        (
            "markdown",
            "## Softmax\n`F.softmax` of the five outputs is the sheet's "
            "`softmax` column: exp of each output over the sum of the exps.",
        ),
        (
            "code",
            'softmax = wb.frame("softmax").loc[3:7]\n'
            'outputs = torch.tensor(softmax["output"].to_numpy(dtype=float))\n'
            'agree(softmax["softmax"], F.softmax(outputs, dim=0), "softmax")',
        ),
        (
            "markdown",
            "## Binary cross-entropy\nThe `entropy` sheet's `BCE (LN)` column is "
            "`F.binary_cross_entropy` of each prediction and its label.",
        ),
        (
            "code",
            'bce = wb.frame("entropy").dropna(subset=["Preds"])\n'
            'preds = torch.tensor(bce["Preds"].to_numpy(dtype=float))\n'
            'is_cat = torch.tensor(bce["isCat"].to_numpy(dtype=float))\n'
            'agree(bce["BCE (LN)"], F.binary_cross_entropy(preds, is_cat, '
            'reduction="none"), "binary cross-entropy")',
        ),
    ]


def _graddesc() -> list[Cell]:
    return [
        (
            "markdown",
            "# Gradient descent on a line, cell by cell and in PyTorch\n\n"
            "fast.ai's `graddesc` fits y = a·x + b one point at a time. The `basic` "
            "sheet is `torch.optim.SGD` stepped once per row on (a·x + b - y)²; the "
            "`momentum` sheet is SGD with momentum β and dampening β.",
        ),
        ("code", 'wb = sn.build("graddesc", epochs=3)\nbasic = wb.frame("basic")\nbasic.head()'),
        (
            "code",
            'data = wb.frame("data")\nxs = data["x"].to_numpy(dtype=float)\n'
            'ys = data["y"].to_numpy(dtype=float)\n'
            'steps = basic[pd.to_numeric(basic["new a"], errors="coerce").notna()]\n'
            'steps = steps[pd.to_numeric(steps["x"], errors="coerce").notna()]\n'
            "len(xs), len(steps)",
        ),
        (
            "code",
            "def fit(sheet, momentum=None):\n"
            '    """(a, b) after every step of torch\'s SGD, from the sheet\'s start."""\n'
            '    a = torch.tensor(wb.values(sheet, "C2")[0, 0], requires_grad=True)\n'
            '    b = torch.tensor(wb.values(sheet, "C1")[0, 0], requires_grad=True)\n'
            '    lr = wb.values(sheet, "F1")[0, 0]\n'
            "    if momentum is None:\n"
            "        opt = torch.optim.SGD([a, b], lr=lr)\n"
            "    else:\n"
            "        opt = torch.optim.SGD([a, b], lr=lr, momentum=momentum, "
            "dampening=momentum)\n"
            "        for p in (a, b):\n"
            '            opt.state[p]["momentum_buffer"] = torch.zeros(())\n'
            "    out = []\n"
            "    for _ in range(wb.params.epochs):\n"
            "        for x, y in zip(xs, ys):\n"
            "            opt.zero_grad()\n"
            "            ((a * x + b - y) ** 2).backward()\n"
            "            opt.step()\n"
            "            out.append((a.item(), b.item()))\n"
            "    return np.array(out)",
        ),
        (
            "code",
            'torch_ab = fit("basic")\n'
            'agree(steps[["new a", "new b"]].to_numpy(dtype=float), torch_ab, '
            '"basic: a and b after every step")',
        ),
    ]


def _digits() -> list[Cell]:
    from .lessons.digits import DigitsParams
    from .lessons.digits.layout import CLASSES, Layout

    params = DigitsParams(epochs=2, train=60, valid=30, batch_size=20)
    lay = Layout(params)
    top = lay.weights_top(0)  # 1-based row of the first class's weights
    first = address.render(top - 1, lay.pix)
    last = address.render(top - 1 + CLASSES - 1, lay.pix + lay.pixels)
    return [
        (
            "markdown",
            "# Handwritten digits: SGD with softmax and cross-entropy\n\n"
            "fast.ai lesson 5 trains `nn.Linear(784, 10)` on MNIST with "
            "`F.cross_entropy` and an `update()` that adds weight decay to the "
            "loss. The workbook does the same on 8x8 digits, every number a "
            "formula. Here torch starts from the workbook's weights and takes the "
            "workbook's batches, and each batch loss must be the sheet's.",
        ),
        (
            "code",
            f'wb = sn.build("digits", epochs={params.epochs}, train={params.train}, '
            f"valid={params.valid}, batch_size={params.batch_size})\n"
            'progress = wb.frame("progress")\nprogress',
        ),
        (
            "code",
            f'start = wb.values("train", "{first}:{last}")  # 10 classes x (64 + bias)\n'
            "model = torch.nn.Linear(start.shape[1] - 1, start.shape[0])\n"
            "with torch.no_grad():\n"
            "    model.weight.copy_(torch.tensor(start[:, :-1]))\n"
            "    model.bias.copy_(torch.tensor(start[:, -1]))\n"
            'lr = wb.values("train", "C1")[0, 0]\nwd = wb.values("train", "F1")[0, 0]\n'
            "lr, wd",
        ),
        (
            "markdown",
            "The `train` sheet lists each iteration's batch: its images, labels "
            "and scaled pixels `x1`… — exactly what torch is given.",
        ),
        (
            "code",
            'train = wb.frame("train")\n'
            'rows = train[pd.to_numeric(train["image"], errors="coerce").notna()]\n'
            'pixels = [c for c in rows.columns if c.startswith("x")]\n'
            "batch_size = wb.params.batch_size\n"
            "losses = []\n"
            "for start_row in range(0, len(rows), batch_size):\n"
            "    batch = rows.iloc[start_row:start_row + batch_size]\n"
            "    x = torch.tensor(batch[pixels].to_numpy(dtype=float))\n"
            '    y = torch.tensor(batch["label"].to_numpy(dtype=float)).long()\n'
            "    loss = F.cross_entropy(model(x), y)\n"
            "    losses.append(loss.item())\n"
            "    w2 = sum((p ** 2).sum() for p in model.parameters())\n"
            "    model.zero_grad()\n"
            "    (loss + wd * w2).backward()  # the notebook's update()\n"
            "    with torch.no_grad():\n"
            "        for p in model.parameters():\n"
            "            p -= lr * p.grad\n"
            'agree(progress["batch loss"].dropna(), losses, "batch loss, every iteration")',
        ),
    ]


def _backprop() -> list[Cell]:
    from .lessons.backprop import BackpropParams
    from .lessons.backprop.layout import CLASSES, INPUTS, Layout

    params = BackpropParams(iterations=10)
    lay = Layout(params)
    r, h = lay.params_row(0), params.hidden

    def span(col: int, rows: int, cols: int) -> str:
        return f"{address.render(r, col)}:{address.render(r + rows - 1, col + cols - 1)}"

    return [
        (
            "markdown",
            "# Backpropagation through a hidden layer\n\n"
            "`Linear(2, H)`, ReLU, `Linear(H, 3)` and `F.cross_entropy`, with weight "
            "decay: the workbook computes every partial derivative in formulas; "
            "torch's autograd, from the same start, gives the same loss at every "
            "iteration.",
        ),
        (
            "code",
            f'wb = sn.build("backprop", iterations={params.iterations})\n'
            'data = wb.frame("data").dropna(subset=["x1"])\ndata',
        ),
        (
            "code",
            'x = torch.tensor(data[["x1", "x2"]].to_numpy(dtype=float))\n'
            'y = torch.tensor(data["label"].to_numpy(dtype=float)).long()\n'
            f"model = torch.nn.Sequential(torch.nn.Linear({INPUTS}, {h}), "
            f"torch.nn.ReLU(), torch.nn.Linear({h}, {CLASSES}))\n"
            "with torch.no_grad():\n"
            f'    model[0].weight.copy_(torch.tensor(wb.values("train", '
            f'"{span(lay.w1, h, INPUTS)}")))\n'
            f'    model[0].bias.copy_(torch.tensor(wb.values("train", '
            f'"{span(lay.b1, h, 1)}")[:, 0]))\n'
            f'    model[2].weight.copy_(torch.tensor(wb.values("train", '
            f'"{span(lay.w2, CLASSES, h)}")))\n'
            f'    model[2].bias.copy_(torch.tensor(wb.values("train", '
            f'"{span(lay.b2, CLASSES, 1)}")[:, 0]))\n'
            'lr = wb.values("train", "C1")[0, 0]\nwd = wb.values("train", "F1")[0, 0]',
        ),
        (
            "code",
            "losses = []\n"
            "for _ in range(wb.params.iterations):\n"
            "    loss = F.cross_entropy(model(x), y)\n"
            "    losses.append(loss.item())\n"
            "    model.zero_grad()\n"
            "    (loss + wd * sum((p ** 2).sum() for p in model.parameters())).backward()\n"
            "    with torch.no_grad():\n"
            "        for p in model.parameters():\n"
            "            p -= lr * p.grad\n"
            'agree(wb.frame("progress")["loss"], losses, "loss, every iteration")',
        ),
    ]


def _optimizers() -> list[Cell]:
    return [
        (
            "markdown",
            "# torch.optim, cell by cell\n\n"
            "Each optimizer sheet fits the line with mini-batches from the `batches` "
            "sheet. Here `torch.optim.Adam`, with torch's defaults, takes the same "
            "batches: a and b after every step are the sheet's.",
        ),
        (
            "code",
            'wb = sn.build("optimizers", iterations=30)\nbatches = wb.frame("batches")\n'
            "batches.head()",
        ),
        (
            "code",
            'xs = batches[[c for c in batches.columns if c.startswith("x ")]]'
            ".to_numpy(dtype=float)\n"
            'ys = batches[[c for c in batches.columns if c.startswith("y ")]]'
            ".to_numpy(dtype=float)\n"
            'adam = wb.frame("adam").dropna(subset=["new a"])\n'
            'a = torch.tensor(adam["a"].iloc[0], requires_grad=True)\n'
            'b = torch.tensor(adam["b"].iloc[0], requires_grad=True)\n'
            'opt = torch.optim.Adam([a, b], lr=wb.params.setting("adam"), '
            "weight_decay=wb.params.wd, foreach=False)\n"
            "steps = []\n"
            "for x, y in zip(torch.tensor(xs[:len(adam)]), torch.tensor(ys[:len(adam)])):\n"
            "    opt.zero_grad()\n"
            "    ((a * x + b - y) ** 2).mean().backward()\n"
            "    opt.step()\n"
            "    steps.append((a.item(), b.item()))\n"
            'agree(adam[["new a", "new b"]].to_numpy(dtype=float), steps, '
            '"adam: a and b after every step")',
        ),
    ]


def _regularisation() -> list[Cell]:
    from .lessons.regularisation import RegularisationParams
    from .lessons.regularisation.layout import LR_CELL, Layout, runs

    params = RegularisationParams(steps=60)
    lay = Layout(params)
    top, n = lay.train_top, params.samples

    def span(row: int, col: int, rows: int, cols: int) -> str:
        return f"{address.render(row, col)}:{address.render(row + rows - 1, col + cols - 1)}"

    xy = span(top, lay.data["x"], n, 2)
    weights = {
        run.sheet: span(lay.row(0), lay.col(run.degree)["w"], params.steps + 1, run.degree + 1)
        for run in runs(params)
    }
    return [
        (
            "markdown",
            "# Weight decay, two ways\n\n"
            "A polynomial fitted to noisy samples by gradient descent on the mean squared "
            "error, with weight decay. The workbook adds 2·wd·w to each gradient (the L2 "
            "term in the loss); `torch.optim.SGD(weight_decay=...)` does the same, so with "
            "`weight_decay = 2·wd` torch's weights after every step are the workbook's.",
        ),
        (
            "code",
            f'wb = sn.build("regularisation", steps={params.steps})\n'
            f'xy = wb.values("data", "{xy}")\n'
            "x, y = torch.tensor(xy[:, 0]), torch.tensor(xy[:, 1])\n"
            f'lr = wb.values("data", "{LR_CELL}")[0, 0]\n'
            "# the features: Legendre polynomials P1..Pd, each scaled by sqrt(2k+1)\n"
            "def features(degree):\n"
            "    return torch.stack([torch.special.legendre_polynomial_p(x, k) * (2 * k + 1) "
            "** 0.5\n"
            "                        for k in range(1, degree + 1)], dim=1)",
        ),
        (
            "code",
            f"weights = {weights!r}\n"
            "for sheet, cells in weights.items():\n"
            "    sheet_w = wb.values(sheet, cells)\n"
            '    wd = wb.values(sheet, "C1")[0, 0]\n'
            "    f = features(sheet_w.shape[1] - 1)\n"
            "    w = torch.zeros(sheet_w.shape[1], requires_grad=True)\n"
            "    opt = torch.optim.SGD([w], lr=lr, weight_decay=2 * wd)\n"
            "    steps = [w.detach().clone()]\n"
            "    for _ in range(wb.params.steps):\n"
            "        opt.zero_grad()\n"
            "        ((w[0] + f @ w[1:] - y) ** 2).mean().backward()\n"
            "        opt.step()\n"
            "        steps.append(w.detach().clone())\n"
            '    agree(sheet_w, torch.stack(steps).numpy(), f"{sheet}: the weights, every step")',
        ),
    ]


def _finetune() -> list[Cell]:
    from .lessons.finetune import FinetuneParams
    from .lessons.finetune.layout import CLASS, DIGIT, PIX, PIXELS, W1, W2, Layout

    params = FinetuneParams(
        hidden=8, pretrain=100, pretrain_batch=25, pretrain_epochs=2, per_class=3, valid=40,
        frozen=2, unfrozen=3,
    )  # fmt: skip
    lay, h = Layout(params), params.hidden

    def span(top: int, left: int, rows: int, cols: int) -> str:
        return f"{address.render(top, left)}:{address.render(top + rows - 1, left + cols - 1)}"

    big = span(lay.big_top, DIGIT, params.pretrain, 1)
    big_x = span(lay.big_top, PIX, params.pretrain, PIXELS)
    mine = span(lay.train_top, CLASS, lay.yours, 1)
    mine_x = span(lay.train_top, PIX, lay.yours, PIXELS)
    body = span(lay.pretrain.start, W1, h, PIXELS + 1)
    old_head = span(lay.pretrain.start, W2, lay.big_classes, h + 1)
    new_head = span(lay.finetune.start, W2, 5, h + 1)
    names = ("hidden", "pretrain", "pretrain_batch", "pretrain_epochs", "per_class", "valid",
             "frozen", "unfrozen")  # fmt: skip
    options = ", ".join(f"{k}={getattr(params, k)}" for k in names)
    return [
        (
            "markdown",
            "# Fine-tuning: a new head, freeze, unfreeze, slice(lo, hi)\n\n"
            "fastai fine-tunes a pretrained model by replacing its head (`create_head`), "
            "training the head alone with the body frozen (`learn.freeze()`), then every "
            "layer with discriminative rates (`learn.unfreeze()`, `lr=slice(lo, hi)`). The "
            "workbook does it cell by cell on 8x8 digits. Here torch does it with "
            "`requires_grad=False` and one parameter group per layer group, from the "
            "workbook's start weights and images: every epoch's loss must be the sheet's.",
        ),
        (
            "code",
            f'wb = sn.build("finetune", {options})\n'
            'progress = wb.frame("progress")\nprogress.iloc[:, :6].dropna()',
        ),
        (
            "code",
            "p = wb.params\n"
            f'x_big = torch.tensor(wb.values("data", "{big_x}"))\n'
            f'y_big = torch.tensor(wb.values("data", "{big}")[:, 0]).long()\n'
            f'x = torch.tensor(wb.values("data", "{mine_x}"))\n'
            f'y = torch.tensor(wb.values("data", "{mine}")[:, 0]).long()\n'
            "\n"
            "def linear(values):\n"
            "    layer = torch.nn.Linear(values.shape[1] - 1, values.shape[0])\n"
            "    with torch.no_grad():\n"
            "        layer.weight.copy_(torch.tensor(values[:, :-1]))\n"
            "        layer.bias.copy_(torch.tensor(values[:, -1]))\n"
            "    return layer\n"
            "\n"
            "def fit(model, x, y, opt):\n"
            "    loss = F.cross_entropy(model(x), y)\n"
            "    w2 = sum((q ** 2).sum() for q in model.parameters())\n"
            "    opt.zero_grad()\n"
            "    (loss + p.wd * w2).backward()\n"
            "    opt.step()\n"
            "    return loss.item()\n"
            "\n"
            f'body = linear(wb.values("pretrain", "{body}"))\n'
            f'head = linear(wb.values("pretrain", "{old_head}"))\n'
            "model = torch.nn.Sequential(body, torch.nn.ReLU(), head)\n"
            "opt = torch.optim.SGD(model.parameters(), lr=p.lr)\n"
            "losses = []\n"
            "for epoch in range(p.pretrain_epochs):  # the data sheet's order every epoch\n"
            "    for first in range(0, p.pretrain, p.pretrain_batch):\n"
            "        rows = slice(first, first + p.pretrain_batch)\n"
            "        losses.append(fit(model, x_big[rows], y_big[rows], opt))\n"
            'agree(progress["batch loss"].dropna(), losses, "pretraining: every batch loss")',
        ),
        (
            "code",
            f'new_head = linear(wb.values("finetune", "{new_head}"))  # create_head\n'
            "model = torch.nn.Sequential(body, torch.nn.ReLU(), new_head)\n"
            "body.requires_grad_(False)  # learn.freeze()\n"
            "opt = torch.optim.SGD(new_head.parameters(), lr=p.head_lr)\n"
            "tuned = [fit(model, x, y, opt) for _ in range(p.frozen)]\n"
            "body.requires_grad_(True)  # learn.unfreeze(); lr=slice(lo, hi): even_mults\n"
            "rates = [p.lo * (p.hi / p.lo) ** (i / (2 - 1)) for i in range(2)]\n"
            'groups = [{"params": body.parameters(), "lr": rates[0]},\n'
            '          {"params": new_head.parameters(), "lr": rates[1]}]\n'
            "opt = torch.optim.SGD(groups, lr=rates[1])\n"
            "tuned += [fit(model, x, y, opt) for _ in range(p.unfrozen)]\n"
            'agree(progress["fine-tuned: training loss"].dropna(), tuned, '
            '"fine-tuned: every epoch\'s loss")',
        ),
        (
            "code",
            "# from scratch: the pretraining's random start for the body, the same new head\n"
            f'body = linear(wb.values("pretrain", "{body}"))\n'
            f'new_head = linear(wb.values("finetune", "{new_head}"))\n'
            "model = torch.nn.Sequential(body, torch.nn.ReLU(), new_head)\n"
            "opt = torch.optim.SGD(model.parameters(), lr=p.scratch_lr)\n"
            "scratch = [fit(model, x, y, opt) for _ in range(p.frozen + p.unfrozen)]\n"
            'agree(progress["from scratch: training loss"].dropna(), scratch, '
            '"from scratch: every epoch\'s loss")',
        ),
    ]


def _conv() -> list[Cell]:
    from .lessons.conv import ConvParams
    from .lessons.conv.layout import CLASSES, FIRST_PARAM_ROW, K, Layout

    params = ConvParams(epochs=1, train=20, valid=10, batch_size=5)
    lay = Layout(params)
    r = FIRST_PARAM_ROW - 1

    def span(col: int, rows: int, cols: int) -> str:
        return f"{address.render(r, col)}:{address.render(r + rows - 1, col + cols - 1)}"

    F_, S = lay.filters, lay.side
    return [
        (
            "markdown",
            "# A convolutional network, cell by cell and in PyTorch\n\n"
            "`F.conv2d` with 3x3 filters, ReLU, `F.max_pool2d(2)`, a linear layer and "
            "`F.cross_entropy`, with the notebook's weight decay: the workbook computes "
            "every step in formulas (SUMPRODUCT over each window, MAX over each pool "
            "window). Torch starts from the workbook's parameters and takes its batches; "
            "each batch loss must be the sheet's.",
        ),
        (
            "code",
            f'wb = sn.build("conv", epochs={params.epochs}, train={params.train}, '
            f"valid={params.valid}, batch_size={params.batch_size})\n"
            'progress = wb.frame("progress")\nprogress',
        ),
        (
            "code",
            f'filters = wb.values("train", "{span(lay.filt, F_, K * K + 1)}")  '
            "# a row per filter: 3x3 weights, bias\n"
            f'dense = wb.values("train", "{span(lay.dense, CLASSES, lay.features + 1)}")  '
            "# a row per class\n"
            f"wf = torch.tensor(filters[:, :-1].reshape({F_}, 1, {K}, {K}), requires_grad=True)\n"
            "bf = torch.tensor(filters[:, -1], requires_grad=True)\n"
            "wl = torch.tensor(dense[:, :-1], requires_grad=True)\n"
            "bl = torch.tensor(dense[:, -1], requires_grad=True)\n"
            "parameters = (wf, bf, wl, bl)\n"
            'lr = wb.values("train", "C1")[0, 0]\nwd = wb.values("train", "F1")[0, 0]\n'
            "lr, wd",
        ),
        (
            "code",
            'train = wb.frame("train")\n'
            'rows = train[pd.to_numeric(train["image"], errors="coerce").notna()]\n'
            'pixels = [c for c in rows.columns if c.startswith("x")]\n'
            "batch_size = wb.params.batch_size\n"
            "losses = []\n"
            "for start_row in range(0, len(rows), batch_size):\n"
            "    batch = rows.iloc[start_row:start_row + batch_size]\n"
            f"    x = torch.tensor(batch[pixels].to_numpy(dtype=float)).reshape(-1, 1, {S}, {S})\n"
            '    y = torch.tensor(batch["label"].to_numpy(dtype=float)).long()\n'
            "    features = F.max_pool2d(F.relu(F.conv2d(x, wf, bf)), 2).flatten(1)\n"
            "    loss = F.cross_entropy(F.linear(features, wl, bl), y)\n"
            "    losses.append(loss.item())\n"
            "    for p in parameters:\n"
            "        p.grad = None\n"
            "    (loss + wd * sum((p ** 2).sum() for p in parameters)).backward()\n"
            "    with torch.no_grad():\n"
            "        for p in parameters:\n"
            "            p -= lr * p.grad\n"
            'agree(progress["batch loss"].dropna(), losses, "batch loss, every iteration")',
        ),
    ]


NOTEBOOKS: dict[str, Callable[[], list[Cell]]] = {
    "entropy": _entropy,
    "graddesc": _graddesc,
    "digits": _digits,
    "backprop": _backprop,
    "optimizers": _optimizers,
    "regularisation": _regularisation,
    "finetune": _finetune,
    "conv": _conv,
}


def notebook(lesson: str) -> dict:
    """The lesson's companion notebook (nbformat 4), as the JSON object it is."""
    if lesson not in NOTEBOOKS:
        raise ValueError(f"unknown lesson {lesson!r} (known: {', '.join(LESSONS)})")
    cells = [("code", _SETUP), ("code", _AGREE), *NOTEBOOKS[lesson]()]
    return {
        "cells": [_cell(k, kind, source) for k, (kind, source) in enumerate(cells)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _cell(k: int, kind: str, source: str) -> dict:
    cell: dict = {"cell_type": kind, "id": f"cell-{k}", "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def write_notebook(lesson: str, outdir: str | Path) -> Path:
    """Write `outdir`/<lesson>.ipynb (atomically: a finished file or none)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{lesson}.ipynb"
    text = json.dumps(notebook(lesson), indent=1, ensure_ascii=False) + "\n"
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target
