"""PyTorch, float64, as a third independent path: the same training, step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_conv import blank_paper

from sheetnet.lessons.backprop import BackpropParams
from sheetnet.lessons.backprop.layout import Layout as BackpropLayout
from sheetnet.lessons.backprop.layout import samples
from sheetnet.lessons.conv import ConvParams
from sheetnet.lessons.conv.layout import K
from sheetnet.lessons.conv.layout import Layout as ConvLayout
from sheetnet.lessons.digits import DigitsParams
from sheetnet.lessons.digits.layout import BATCH_LOSS_COL, CLASSES, OBJECTIVE_COL, Layout
from sheetnet.lessons.graddesc import GraddescParams
from sheetnet.lessons.graddesc.layout import blocks
from sheetnet.lessons.optimizers import OptimizersParams
from sheetnet.lessons.optimizers.layout import RUN_TOP as OPT_RUN_TOP
from sheetnet.lessons.regularisation import RegularisationParams
from sheetnet.lessons.regularisation.layout import Layout as RegLayout
from sheetnet.lessons.regularisation.layout import runs as reg_runs
from sheetnet.lessons.regularisation.layout import samples as reg_samples
from sheetnet.pipeline import compute

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (pip install -e '.[torch]'): torch checks skipped"
)
F = torch.nn.functional


@pytest.fixture(autouse=True)
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def sheet_layers(results, lay: Layout, top: int) -> list[np.ndarray]:
    """Each layer's (outputs, inputs + 1) weights and bias from the train sheet's
    section at `top` (1-based)."""
    shapes = ([(lay.pix, CLASSES, lay.pixels)] if not lay.hidden
              else [(lay.w1, lay.hidden, lay.pixels), (lay.w2, CLASSES, lay.hidden)])  # fmt: skip
    cell = results.get
    return [
        np.array(
            [[cell(("train", top - 1 + k, left + j)) for j in range(cols + 1)] for k in range(rows)]
        )
        for left, rows, cols in shapes
    ]


@pytest.mark.parametrize(
    "params",
    [
        DigitsParams(epochs=2, batch_size=7, train=30, valid=5, seed=3),
        DigitsParams(epochs=1, batch_size=1, train=6, valid=2, lr=0.3, wd=0.05, seed=8),
        DigitsParams(epochs=2, batch_size=8, train=24, valid=4, lr=0.5, seed=6, hidden=12),
    ],
    ids=["logistic", "sgd", "hidden"],
)
def test_digits_training_equals_torch_step_by_step(params):
    """nn.Linear (or Linear, ReLU, Linear with --hidden) + F.cross_entropy + the
    notebook's update: loss + wd * sum(p^2) for weights and biases, then
    p -= lr * p.grad, from the workbook's start and batch order. Every gradient cell
    and every updated parameter equals torch's."""
    _, results = compute("digits", params)
    lay = Layout(params)
    images = params.images
    x_all = torch.tensor(np.array(images.pixels[: params.train]) / lay.scale)
    y_all = torch.tensor(images.labels[: params.train])
    if params.hidden:
        model = torch.nn.Sequential(
            torch.nn.Linear(lay.pixels, params.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(params.hidden, CLASSES),
        )
        linears = [model[0], model[2]]
    else:
        model = torch.nn.Linear(lay.pixels, CLASSES)
        linears = [model]
    with torch.no_grad():
        for linear, w in zip(linears, sheet_layers(results, lay, lay.weights_top(0))):
            linear.weight.copy_(torch.tensor(w[:, :-1]))
            linear.bias.copy_(torch.tensor(w[:, -1]))

    def joined(pairs):
        return [torch.cat([w, b[:, None]], dim=1).detach().numpy() for w, b in pairs]

    worst = 0.0
    for it in lay.iterations:
        rows = torch.tensor(it.images) - 1
        ce = F.cross_entropy(model(x_all[rows]), y_all[rows])
        loss = ce + params.wd * sum((p**2).sum() for p in model.parameters())
        # the title row names both: the batch loss, and the objective update() returns
        title = it.top - 1
        assert results.get(("train", title, BATCH_LOSS_COL)) == pytest.approx(ce.item(), rel=1e-12)
        assert results.get(("train", title, OBJECTIVE_COL)) == pytest.approx(loss.item(), rel=1e-12)
        model.zero_grad()
        loss.backward()
        grads = joined((m.weight.grad, m.bias.grad) for m in linears)
        for got, exp in zip(sheet_layers(results, lay, lay.grad_top(it)), grads):
            np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-15)
        with torch.no_grad():
            for p in model.parameters():
                p -= params.lr * p.grad
        news = joined((m.weight, m.bias) for m in linears)
        for got, exp in zip(sheet_layers(results, lay, lay.new_top(it)), news):
            np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-15)
            rel = np.abs(got - exp) / np.maximum(np.abs(exp), 1e-300)
            worst = max(worst, float(np.max(rel)))
    assert worst < 1e-12


def graddesc_ab(results, sheet: str, new_a: str, new_b: str, p: GraddescParams) -> list:
    """(a, b) after every row of every epoch, as the sheet has them."""
    out = []
    for b in blocks(p):
        for row in range(b.first, b.last + 1):
            out.append((results.at(sheet, f"{new_a}{row}"), results.at(sheet, f"{new_b}{row}")))
    return out


@pytest.mark.parametrize(
    ("sheet", "momentum"), [("basic", None), ("momentum", 0.9)], ids=["sgd", "momentum"]
)
def test_graddesc_basic_and_momentum_are_torch_sgd(sheet, momentum):
    """basic is torch.optim.SGD(lr) stepped once per row on (a*x + b - y)^2; momentum is
    SGD(momentum=beta, dampening=beta) with each momentum buffer started at 0."""
    params = GraddescParams(epochs=3)
    _, results = compute("graddesc", params)
    xs = [results.at("data", f"B{5 + i}") for i in range(params.rows)]
    ys = [results.at("data", f"C{5 + i}") for i in range(params.rows)]
    a = torch.tensor(params.init_a, requires_grad=True)
    b = torch.tensor(params.init_b, requires_grad=True)
    lr = params.setting("lr", sheet)
    if momentum is None:
        opt = torch.optim.SGD([a, b], lr=lr)
    else:
        opt = torch.optim.SGD([a, b], lr=lr, momentum=momentum, dampening=momentum)
        for p in (a, b):
            opt.state[p]["momentum_buffer"] = torch.zeros(())
    exp = []
    for _ in range(params.epochs):
        for x, y in zip(xs, ys):
            opt.zero_grad()
            ((a * x + b - y) ** 2).backward()
            opt.step()
            exp.append((a.item(), b.item()))
    cols = ("M", "N") if sheet == "basic" else ("I", "H")
    got = graddesc_ab(results, sheet, *cols, params)
    np.testing.assert_allclose(got, exp, rtol=1e-12)


def backprop_section(results, lay, row: int):
    """W1, b1, W2, b2 of a parameter section of the backprop lesson's train sheet."""
    from sheetnet.lessons.backprop.layout import CLASSES as C
    from sheetnet.lessons.backprop.layout import INPUTS

    def grid(top, left, rows, cols):
        return np.array([[results.get(("train", top + i, left + j)) for j in range(cols)]
                         for i in range(rows)])  # fmt: skip

    h = lay.hidden
    return (grid(row, lay.w1, h, INPUTS), grid(row, lay.b1, h, 1)[:, 0],
            grid(row, lay.w2, C, h), grid(row, lay.b2, C, 1)[:, 0])  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [BackpropParams(iterations=6), BackpropParams(hidden=9, iterations=4, lr=2.0, wd=0.03, seed=4)],
)
def test_backprop_gradients_and_steps_equal_torch_autograd(params):
    """Linear(2, H), ReLU, Linear(H, 3), F.cross_entropy + wd * sum(p^2), autograd:
    every gradient cell and every updated parameter, from the workbook's own start."""
    _, results = compute("backprop", params)
    lay = BackpropLayout(params)
    x, y = samples(params.seed)
    x, y = torch.tensor(x), torch.tensor(y)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, params.hidden), torch.nn.ReLU(), torch.nn.Linear(params.hidden, 3)
    )
    order = (model[0].weight, model[0].bias, model[2].weight, model[2].bias)
    with torch.no_grad():
        for p, v in zip(order, backprop_section(results, lay, lay.params_row(0))):
            p.copy_(torch.tensor(v))
    for t in range(params.iterations):
        ce = F.cross_entropy(model(x), y)
        loss_cell = ("train", lay.top(t), lay.loss_value)
        assert results.get(loss_cell) == pytest.approx(ce.item(), rel=1e-12)
        loss = ce + params.wd * sum((p**2).sum() for p in model.parameters())
        model.zero_grad()
        loss.backward()
        grads = backprop_section(results, lay, lay.grad_row(t))
        for p, got in zip(order, grads):
            np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-12, atol=1e-16)
        with torch.no_grad():
            for p in model.parameters():
                p -= params.lr * p.grad
        for p, got in zip(order, backprop_section(results, lay, lay.new_row(t))):
            np.testing.assert_allclose(got, p.detach().numpy(), rtol=1e-12, atol=1e-16)


# -- the optimizers lesson: every sheet is torch.optim ---------------------------------------
def line_batches(params):
    """Each step's (x, y) batch, as the batches sheet picks them."""
    from sheetnet.reference.optimizers import batch_xy

    X, Y = batch_xy(params, params.iterations)
    return torch.tensor(X), torch.tensor(Y)


def torch_run(params, make_opt, schedule=None):
    """(a, b) after every step of torch's optimizer on the line, the sheet's batches."""
    a = torch.tensor(params.init_a, requires_grad=True)
    b = torch.tensor(params.init_b, requires_grad=True)
    opt = make_opt([a, b])
    sched = schedule(opt) if schedule else None
    X, Y = line_batches(params)
    out, settings = [], []
    for t in range(params.iterations):
        group = opt.param_groups[0]
        settings.append((group["lr"], group.get("betas", (None,))[0]))
        opt.zero_grad()
        ((a * X[t] + b - Y[t]) ** 2).mean().backward()
        opt.step()
        if sched:
            sched.step()
        out.append((a.item(), b.item()))
    return out, settings


def sheet_run(results, params, sheet: str, left: int, width: int):
    """(a, b) after every step of the run whose columns start at `left`."""
    rows = range(OPT_RUN_TOP, OPT_RUN_TOP + params.iterations)
    return [(results.get((sheet, r, left + width - 2)), results.get((sheet, r, left + width - 1)))
            for r in rows]  # fmt: skip


def torch_optimizer(name: str, lr: float, wd: float):
    """torch.optim's optimizer for a sheet, torch's defaults, single-tensor code."""
    optim = torch.optim
    return {
        "sgd": lambda ps: optim.SGD(ps, lr=lr, weight_decay=wd, foreach=False),
        "momentum": lambda ps: optim.SGD(ps, lr=lr, momentum=0.9, foreach=False),
        "nesterov": lambda ps: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True, foreach=False),
        "rmsprop": lambda ps: optim.RMSprop(ps, lr=lr, alpha=0.99, eps=1e-8, foreach=False),
        "adam": lambda ps: optim.Adam(ps, lr=lr, weight_decay=wd, foreach=False),
        "adamw": lambda ps: optim.AdamW(ps, lr=lr, weight_decay=wd, foreach=False),
    }[name]


@pytest.mark.parametrize(
    "params",
    [OptimizersParams(iterations=40), OptimizersParams(iterations=25, batch_size=1, wd=0.05)],
    ids=["mini-batch", "sgd-batch"],
)
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_each_optimizer_sheet_is_torch_optim_step_by_step(params, name):
    """Both runs of each sheet (its own rate and the shared one), with torch's defaults
    and the sheet's weight decay, single-tensor implementations (foreach=False)."""
    from sheetnet.reference.optimizers import UPDATES, settings

    _, results = compute("optimizers", params)
    h = settings(params, name)
    width = 6 + params.batch_size - 1 + len(UPDATES[name].columns) + 2
    for side, lr in enumerate((params.setting(name), params.shared_lr)):
        make = torch_optimizer(name, lr, h["wd"])
        expected, _ = torch_run(params, make)
        got = sheet_run(results, params, name, 1 + side * (width + 1), width)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"{name} run {side}")


def test_one_cycle_is_torch_one_cycle_lr_with_adam():
    """The sheet counts steps 0..n-1 and ends its warm-up at step a1 = INT(0.3 n), with
    the last step short of the final rate; OneCycleLR ends its warm-up at step
    pct_start*total - 1 and reaches the final rate at step total - 1. So torch runs
    total = n + 1 steps with pct_start = (a1 + 1)/(n + 1): step s is the sheet's step s."""
    params = OptimizersParams(iterations=30, lr_max=0.8)
    _, results = compute("optimizers", params)
    n = params.iterations
    warm = int(0.3 * n)

    def schedule(opt):
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=params.lr_max, total_steps=n + 1, pct_start=(warm + 1) / (n + 1),
            anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4,
            base_momentum=0.85, max_momentum=0.95, cycle_momentum=True,
        )  # fmt: skip

    expected, settings = torch_run(
        params, lambda ps: torch.optim.Adam(ps, lr=params.lr_max, foreach=False), schedule
    )
    top = OPT_RUN_TOP
    lrs = [results.get(("one_cycle", top + t, 1)) for t in range(n)]
    moms = [results.get(("one_cycle", top + t, 2)) for t in range(n)]
    np.testing.assert_allclose(lrs, [s[0] for s in settings], rtol=1e-12)
    np.testing.assert_allclose(moms, [s[1] for s in settings], rtol=1e-12)
    width = 2 + 6 + params.batch_size - 1 + 12 + 2
    got = sheet_run(results, params, "one_cycle", 1, width)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def regularisation_weights(results, p: RegularisationParams, run) -> np.ndarray:
    """(steps + 1, degree + 1): a run sheet's weights at every step, from step 0's row."""
    lay = RegLayout(p)
    top, left = lay.row(0), lay.col(run.degree)["w"]
    return np.array([[results.get((run.sheet, top + t, left + k)) for k in range(run.degree + 1)]
                     for t in range(p.steps + 1)])  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        RegularisationParams(steps=60),
        RegularisationParams(degree=6, low_degree=2, samples=9, steps=25, lr=0.08,
                             good_wd=0.05, big_wd=0.7, noise=0.4, seed=11),
    ],
    ids=["defaults-60-steps", "degree-6"],
)  # fmt: skip
def test_regularisation_runs_are_torch_gradient_descent_with_weight_decay_both_ways(params):
    """Each run sheet's weights at every step equal torch's (relative 1e-12), computed
    two ways from the samples alone: the loss MSE + wd·(sum of every parameter squared,
    bias too) differentiated by autograd and stepped by hand; and the MSE alone stepped by
    torch.optim.SGD(weight_decay=2·wd), torch's decay term in the gradient. (A weight
    near 0 is a difference of larger terms: it is held to 1e-12 of the largest weight.)"""
    _, results = compute("regularisation", params)
    x, y, _, _ = reg_samples(params)
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    for run in reg_runs(params):
        d = run.degree
        feats = torch.stack(
            [torch.special.legendre_polynomial_p(xt, k) * math.sqrt(2 * k + 1)
             for k in range(1, d + 1)], dim=1)  # fmt: skip
        want = regularisation_weights(results, params, run)
        scale = 1e-12 * np.abs(want).max()  # a weight near 0 carries its neighbours' rounding

        def mse(w: torch.Tensor, feats=feats) -> torch.Tensor:
            return ((w[0] + feats @ w[1:] - yt) ** 2).mean()

        # the L2 term in the loss, autograd
        w = torch.zeros(d + 1, dtype=torch.float64, requires_grad=True)
        by_hand = [w.detach().clone()]
        for _ in range(params.steps):
            loss = mse(w) + run.wd * (w**2).sum()
            (g,) = torch.autograd.grad(loss, w)
            with torch.no_grad():
                w = (w - params.lr * g).requires_grad_(True)
            by_hand.append(w.detach().clone())
        np.testing.assert_allclose(torch.stack(by_hand).numpy(), want, rtol=1e-12, atol=scale)

        # torch.optim.SGD with its weight_decay: the gradient gets weight_decay·w
        w = torch.zeros(d + 1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=params.lr, weight_decay=2 * run.wd)
        stepped = [w.detach().clone()]
        for _ in range(params.steps):
            opt.zero_grad()
            mse(w).backward()
            opt.step()
            stepped.append(w.detach().clone())
        np.testing.assert_allclose(torch.stack(stepped).numpy(), want, rtol=1e-12, atol=scale)


@pytest.mark.parametrize("params", [OptimizersParams(iterations=4, batch_epochs=3)])
def test_batch_size_runs_are_torch_sgd_over_epochs_of_batches(params):
    """batch_size's three runs: torch.optim.SGD on mse over the points in order, batches
    of 1, of --batch-size and of all, the last batch of an epoch short: a and b after
    every iteration, and the loss on all points, equal the sheet's."""
    from sheetnet.lessons.optimizers.layout import (
        BATCH_RUN_COLUMNS,
        batch_run_left,
        batch_run_top,
        batch_sizes,
    )
    from sheetnet.reference.optimizers import data_xy

    _, results = compute("optimizers", params)
    x_all, y_all = (torch.tensor(v) for v in data_xy(params))
    n, top = len(x_all), batch_run_top(params)
    for r, b in enumerate(batch_sizes(params)):
        ab = torch.tensor([params.init_a, params.init_b], requires_grad=True)
        opt = torch.optim.SGD([ab], lr=params.batch_lr, foreach=False)
        row = top
        for _epoch in range(params.batch_epochs):
            for first in range(0, n, b):
                x, y = x_all[first : first + b], y_all[first : first + b]
                loss = ((ab[0] * x + ab[1] - y) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                left = batch_run_left(r)

                def cell(name, row=row, left=left):
                    return results.get(("batch_size", row, left + BATCH_RUN_COLUMNS.index(name)))

                assert cell("loss") == pytest.approx(loss.item(), rel=1e-12)
                assert cell("a'") == pytest.approx(ab[0].item(), rel=1e-12)
                assert cell("b'") == pytest.approx(ab[1].item(), rel=1e-12)
                every = ((ab[0] * x_all + ab[1] - y_all) ** 2).mean().item()
                assert cell("loss, all points") == pytest.approx(every, rel=1e-12)
                row += 1


def conv_grid(results, top: int, left: int, rows: int, cols: int) -> np.ndarray:
    """Values of the train sheet from 0-based (top, left)."""
    return np.array(
        [[results.get(("train", top + i, left + j)) for j in range(cols)] for i in range(rows)]
    )


def conv_section(results, lay: ConvLayout, top: int) -> list[np.ndarray]:
    """(filters (F, 9 + 1), dense (10, features + 1)) of the section from 1-based row `top`."""
    return [
        conv_grid(results, top - 1, lay.filt, lay.filters, K * K + 1),
        conv_grid(results, top - 1, lay.dense, CLASSES, lay.features + 1),
    ]


# -- the conv lesson: convolution, pool, dropout and dense layer are torch's ----------------
@pytest.mark.parametrize(
    "params",
    [
        ConvParams(filters=3, epochs=2, batch_size=4, train=10, valid=3, seed=3),
        ConvParams(filters=2, epochs=1, batch_size=3, train=9, valid=2, lr=0.2, wd=0.05,
                   seed=8, dropout=0.25),
        ConvParams(filters=4, epochs=1, batch_size=5, train=10, valid=2, seed=0, dropout=0.5),
        blank_paper(),
    ],
    ids=["plain", "dropout", "dropout-half", "ties"],
)  # fmt: skip
def test_conv_training_equals_torch_step_by_step(params):
    """F.conv2d, ReLU, F.max_pool2d(2), the sheet's dropout masks times 1/(1-p),
    nn.Linear, F.cross_entropy + wd * sum(p^2), autograd, p -= lr * p.grad, from the
    workbook's start, batches and masks. Every gradient the sheet shows on its way back
    (dL/dlogits, dL/dm, dL/dz) and every parameter's gradient and new value agree."""
    _, results = compute("conv", params)
    lay = ConvLayout(params)
    S, n_f = lay.side, lay.filters
    images = params.images
    x_all = torch.tensor(np.array(images.pixels[: params.train]) / lay.scale).reshape(-1, 1, S, S)
    y_all = torch.tensor(images.labels[: params.train])
    start = conv_section(results, lay, lay.first_block_row - lay.rows - 2)
    wf = torch.tensor(start[0][:, :-1].reshape(n_f, 1, K, K), requires_grad=True)
    bf = torch.tensor(start[0][:, -1], requires_grad=True)
    wd_ = torch.tensor(start[1][:, :-1], requires_grad=True)
    bd = torch.tensor(start[1][:, -1], requires_grad=True)
    params_t = (wf, bf, wd_, bd)

    def close(got, expected):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)

    for it in lay.iterations:
        rows = torch.tensor(it.images) - 1
        n = len(rows)
        z = F.conv2d(x_all[rows], wf, bf)
        z.retain_grad()
        m = F.max_pool2d(F.relu(z), 2).reshape(n, -1)
        m.retain_grad()
        h = m
        if lay.dropping:
            mask = torch.tensor(conv_grid(results, it.top + 1, lay.mask, n, lay.features))
            np.testing.assert_array_equal(mask.numpy(), lay.masks[it.number])
            h = m * mask / (1 - params.dropout)
        logits = h @ wd_.T + bd
        logits.retain_grad()
        loss = F.cross_entropy(logits, y_all[rows])
        assert results.get(("train", it.top - 1, 7)) == pytest.approx(loss.item(), rel=1e-12)
        loss = loss + params.wd * sum((p**2).sum() for p in params_t)
        for p in params_t:
            p.grad = None
        loss.backward()
        top = it.top + 1
        close(conv_grid(results, top, lay.delta, n, CLASSES), logits.grad.numpy())
        close(conv_grid(results, top, lay.dm if lay.dropping else lay.dh, n, lay.features),
              m.grad.numpy())  # fmt: skip
        close(conv_grid(results, top, lay.dz, n, lay.maps), z.grad.reshape(n, -1).numpy())
        grads = conv_section(results, lay, lay.grad_top(it))
        close(grads[0][:, :-1], wf.grad.reshape(n_f, -1).numpy())
        close(grads[0][:, -1], bf.grad.numpy())
        close(grads[1][:, :-1], wd_.grad.numpy())
        close(grads[1][:, -1], bd.grad.numpy())
        with torch.no_grad():
            for p in params_t:
                p -= params.lr * p.grad
        new = conv_section(results, lay, lay.new_top(it))
        close(new[0][:, :-1], wf.reshape(n_f, -1).detach().numpy())
        close(new[0][:, -1], bf.detach().numpy())
        close(new[1][:, :-1], wd_.detach().numpy())
        close(new[1][:, -1], bd.detach().numpy())
