"""The fine-tuning lesson's own points: freezing leaves the body exactly as pretraining
left it, slice(lo, hi) over two groups is lo and hi, pretraining pays at the defaults
(and the front says when it does not), and every step is PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

from sheetnet.lessons.finetune import FinetuneParams
from sheetnet.lessons.finetune.layout import (
    GROUP_ROWS,
    MOVED_COL,
    PIXELS,
    SCALE,
    W1,
    W2,
    Layout,
    Run,
    builtin,
    slice_rates,
)
from sheetnet.pipeline import compute
from sheetnet.reference.finetune import evaluate, runs

SMALL = FinetuneParams(
    hidden=5, pretrain=20, pretrain_batch=6, pretrain_epochs=2, per_class=2, valid=5,
    frozen=2, unfrozen=2, lr=0.4, head_lr=0.7, lo=0.03, hi=0.6, scratch_lr=0.3, wd=0.01, seed=3,
)  # fmt: skip


def section(results, sheet: str, run: Run, top: int) -> tuple[np.ndarray, np.ndarray]:
    """W1 | b1 and W2 | b2 of the parameter section from 0-based row `top`."""
    h, c = run.hidden, run.classes

    def grid(left: int, rows: int, cols: int) -> np.ndarray:
        return np.array(
            [[results.get((sheet, top + i, left + j)) for j in range(cols)] for i in range(rows)]
        )

    return grid(W1, h, PIXELS + 1), grid(W2, c, h + 1)


@pytest.fixture(scope="module")
def small():
    _, results = compute("finetune", SMALL)
    return results


def test_a_frozen_body_is_exactly_the_pretrained_body(small):
    """Stage 1's body rate is 0: W1 - 0 * gradient is W1, bit for bit, after every step
    of the frozen stage; the unfrozen stage then moves it."""
    lay = Layout(SMALL)
    pretrained, _ = section(
        small, "pretrain", lay.pretrain, lay.pretrain.new_top(lay.pretrain.steps[-1])
    )
    run = lay.finetune
    assert np.array_equal(section(small, "finetune", run, run.start)[0], pretrained)
    for st in run.steps:
        body, _ = section(small, "finetune", run, run.new_top(st))
        if lay.stage(st.number) == 1:
            assert np.array_equal(body, pretrained)
            assert small.get(("finetune", st.top, 5)) == 0.0  # the block's body lr
            assert small.get(("finetune", st.top, MOVED_COL)) == 0.0  # "body moved"
        else:
            assert not np.array_equal(body, pretrained)
            assert small.get(("finetune", st.top, MOVED_COL)) > 0.0


def test_slice_over_two_groups_is_lo_for_the_body_and_hi_for_the_head(small):
    lo, hi = small.get(("finetune", GROUP_ROWS[0], 4)), small.get(("finetune", GROUP_ROWS[1], 4))
    assert lo == SMALL.lo  # (hi/lo)^0 = 1
    assert hi == pytest.approx(SMALL.hi, rel=1e-15)  # lo * (hi/lo), one rounding away
    assert [lo, hi] == slice_rates(SMALL.lo, SMALL.hi, 2)  # fastai's even_mults, as written
    assert slice_rates(0.01, 1.0, 3)[1] == pytest.approx(0.1)  # the middle of three groups


def final_accuracies(p: FinetuneParams) -> tuple[float, float]:
    r = runs(p)
    x, y = r["data"]["valid"]
    return tuple(evaluate(r[name][-1]["new"], x, y)["accuracy"] for name in ("finetune", "scratch"))


def test_pretraining_pays_at_the_defaults_and_the_sheet_says_when_it_does_not():
    """Measured by the numpy reference: at the defaults the fine-tuned network ends 13
    points above the one trained from scratch (74% and 61%); pretrained on the digits
    0 to 4 only, it does not help, and the verdict formula's text says so."""
    from sheetnet.reference.finetune import verdict

    tuned, scratch = final_accuracies(FinetuneParams())
    assert tuned >= scratch + 0.08
    lay = Layout(FinetuneParams())
    assert verdict(tuned, scratch, tuned - scratch, lay).startswith("Pretraining helps here")
    p = FinetuneParams(pretrain_digits=5)
    tuned, scratch = final_accuracies(p)
    assert tuned < scratch
    assert "does not help" in verdict(tuned, scratch, tuned - scratch, Layout(p))


def test_the_front_shows_the_verdict_by_formula(small):
    from sheetnet.lessons import LESSONS
    from sheetnet.lessons.kit import workbook

    wb = workbook(LESSONS["finetune"], SMALL)
    front = wb["front"]
    copies = [
        c.content
        for _, _, c in front.formula_cells()
        if getattr(c.content, "sheet", None) == "progress"
    ]
    lay = Layout(SMALL)
    assert [(r.row, r.col) for r in copies if (r.row, r.col) == lay.verdict_cell] == [
        lay.verdict_cell
    ]
    text = small.get(("progress", *lay.verdict_cell))
    assert isinstance(text, str) and text.split(":")[0] in (
        "Pretraining helps here", "Here pretraining makes no difference",
        "Here pretraining does not help",
    )  # fmt: skip


# -- PyTorch, float64 -----------------------------------------------------------------------
def _images(lay: Layout, rows: tuple[int, ...], offset: int):
    import torch

    table = builtin()
    idx = np.array(rows)
    x = torch.tensor(table.pixels[idx] / SCALE)
    return x, torch.tensor(table.labels[idx] - offset)


def _load(linear, w: np.ndarray) -> None:
    import torch

    with torch.no_grad():
        linear.weight.copy_(torch.tensor(w[:, :-1]))
        linear.bias.copy_(torch.tensor(w[:, -1]))


def _joined(linear) -> np.ndarray:
    import torch

    return torch.cat([linear.weight, linear.bias[:, None]], dim=1).detach().numpy()


def _fit(model, body, head, x, y, wd, opt, check) -> None:
    """One step: cross-entropy + wd * sum(p^2) over every parameter, then opt.step()."""
    import torch.nn.functional as F

    loss = F.cross_entropy(model(x), y) + wd * sum((q**2).sum() for q in model.parameters())
    opt.zero_grad()
    loss.backward()
    opt.step()
    check(_joined(body), _joined(head))


@pytest.mark.parametrize(
    "params",
    [SMALL, FinetuneParams(hidden=7, pretrain_digits=6, pretrain=30, pretrain_batch=8,
                           pretrain_epochs=1, per_class=3, valid=4, frozen=1, unfrozen=3,
                           seed=11)],
    ids=["small", "six-digits"],
)  # fmt: skip
def test_every_step_is_torch_sgd_with_frozen_layers_and_parameter_groups(params):
    """Pretraining: torch.optim.SGD over both layers. Stage 1: the body's parameters
    with requires_grad=False, SGD on the head alone. Stage 2: SGD with one parameter
    group per layer group at slice(lo, hi)'s rates. From scratch: SGD at one rate from
    the pretraining's random body and the new head. Every step's parameters equal the
    sheet's (float64, relative 1e-12)."""
    torch = pytest.importorskip(
        "torch", reason="PyTorch is not installed (pip install -e '.[torch]'): torch checks skipped"
    )
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _torch_runs(torch, params)
    finally:
        torch.set_default_dtype(before)


def _torch_runs(torch, p: FinetuneParams) -> None:
    nn = torch.nn
    _, results = compute("finetune", p)
    lay, h = Layout(p), p.hidden

    def expect(sheet: str, run: Run, top: int):
        def check(body: np.ndarray, head: np.ndarray) -> None:
            got_body, got_head = section(results, sheet, run, top)
            np.testing.assert_allclose(got_body, body, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(got_head, head, rtol=1e-12, atol=1e-15)

        return check

    # pretraining
    pre = lay.pretrain
    body, old_head = nn.Linear(PIXELS, h), nn.Linear(h, lay.big_classes)
    model = nn.Sequential(body, nn.ReLU(), old_head)
    start_body, start_head = section(results, "pretrain", pre, pre.start)
    _load(body, start_body)
    _load(old_head, start_head)
    x, y = _images(lay, lay.chosen.big, 0)
    opt = torch.optim.SGD(model.parameters(), lr=p.lr)
    for st in pre.steps:
        rows = slice(st.first, st.first + st.size)
        _fit(
            model,
            body,
            old_head,
            x[rows],
            y[rows],
            p.wd,
            opt,
            expect("pretrain", pre, pre.new_top(st)),
        )
    pretrained = _joined(body).copy()
    # fine-tuning: create_head's new head, freeze, then unfreeze with slice(lo, hi)
    run = lay.finetune
    head = nn.Linear(h, 5)
    _load(head, section(results, "finetune", run, run.start)[1])
    new_head = _joined(head).copy()
    model = nn.Sequential(body, nn.ReLU(), head)
    x, y = _images(lay, lay.chosen.train, 5)
    body.requires_grad_(False)
    frozen = torch.optim.SGD(head.parameters(), lr=p.head_lr)
    lo, hi = slice_rates(p.lo, p.hi, 2)
    unfrozen = torch.optim.SGD([{"params": body.parameters(), "lr": lo},
                                {"params": head.parameters(), "lr": hi}], lr=hi)  # fmt: skip
    for st in run.steps:
        if lay.stage(st.number) == 2:
            body.requires_grad_(True)
        opt = frozen if lay.stage(st.number) == 1 else unfrozen
        _fit(model, body, head, x, y, p.wd, opt, expect("finetune", run, run.new_top(st)))
        if lay.stage(st.number) == 1:
            assert np.array_equal(_joined(body), pretrained)
    # from scratch: the pretraining's random start for the body, the same new head
    run = lay.scratch
    body, head = nn.Linear(PIXELS, h), nn.Linear(h, 5)
    _load(body, start_body)
    _load(head, new_head)
    model = nn.Sequential(body, nn.ReLU(), head)
    opt = torch.optim.SGD(model.parameters(), lr=p.scratch_lr)
    for st in run.steps:
        _fit(model, body, head, x, y, p.wd, opt, expect("scratch", run, run.new_top(st)))
