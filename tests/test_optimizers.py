"""The optimizers lesson's own points, each by a hand calculation or a hand-written
formula from fastai v1: slice, the lr_find schedule and stop, 1cycle's ends, the EMA's
bias correction, and adam = adamw without weight decay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sheetnet.engine import NA
from sheetnet.lessons.optimizers import OptimizersParams
from sheetnet.lessons.optimizers.layout import RUN_TOP
from sheetnet.lessons.optimizers.sheets import FIND_TOP, LR_FIND_STEPS, find_columns
from sheetnet.pipeline import compute


@pytest.fixture(scope="module")
def default():
    return compute("optimizers", OptimizersParams())[1]


def test_slice_gives_fastai_v1s_rates(default):
    """slice(0.05, 0.5) over 3 groups: 0.05, 0.05*sqrt(10), 0.5 (even_mults);
    slice(0.5): 0.5/3 for all but the last group, which gets 0.5."""
    spread = [default.at("discriminative", f"B{r}") for r in (5, 6, 7)]
    last = [default.at("discriminative", f"C{r}") for r in (5, 6, 7)]
    assert spread == pytest.approx([0.05, 0.05 * math.sqrt(10), 0.5], rel=1e-15)
    assert last == pytest.approx([0.5 / 3, 0.5 / 3, 0.5], rel=1e-15)
    # the two-group table drives the network's two learning rates
    assert default.at("disc_train", "C1") == pytest.approx(0.05, rel=1e-15)
    assert default.at("disc_train", "C2") == pytest.approx(0.5, rel=1e-15)


def test_slice_b_gives_b_over_10_as_later_fastai_does():
    """--slice-div 10: slice(0.5) gives 0.05 to all groups but the last (fastai >= 1.0.29)."""
    results = compute("optimizers", OptimizersParams(iterations=4, slice_div=10.0))[1]
    last = [results.at("discriminative", f"C{r}") for r in (5, 6, 7)]
    assert last == pytest.approx([0.05, 0.05, 0.5], rel=1e-15)


def test_an_epoch_of_29_points_is_29_6_or_1_iterations(default):
    """batch_size: batches of 1, 5 and 29 over 29 points make 29, INT(33/5) = 6 (the
    last holds 4 points) and 1 iterations an epoch; epoch 2 of the mini-batch starts at
    iteration 7 with point 1 again."""
    from sheetnet.lessons.optimizers.layout import (
        BATCH_RUN_COLUMNS,
        batch_run_left,
        batch_run_top,
    )

    top = batch_run_top(OptimizersParams())
    counts = [default.get(("batch_size", top - 3, batch_run_left(r) + 3)) for r in range(3)]
    assert counts == [29.0, 6.0, 1.0]

    def cell(name, t):
        return default.get(
            ("batch_size", top + t, batch_run_left(1) + BATCH_RUN_COLUMNS.index(name))
        )

    assert [cell("first", t) for t in range(7)] == [1.0, 6.0, 11.0, 16.0, 21.0, 26.0, 1.0]
    assert cell("last", 5) == 29.0
    assert [cell("epoch", t) for t in (5, 6)] == [1.0, 2.0]


def test_lr_find_schedule_and_stop_are_fastai_v1s(default):
    """lr_i = start * (end/start)^(i/num_it) (fastai's annealing_exp); the finder stops
    the first time the smoothed loss exceeds 4x the best so far, after that step."""
    lr_col, plot_col = find_columns(OptimizersParams())
    lrs = [default.get(("lr_find", FIND_TOP + i, lr_col)) for i in range(LR_FIND_STEPS)]
    assert lrs == pytest.approx([1e-7 * (10 / 1e-7) ** (i / 100) for i in range(100)], rel=1e-14)
    smooth = [default.get(("lr_find", FIND_TOP + i, plot_col - 3)) for i in range(100)]
    plotted = [default.get(("lr_find", FIND_TOP + i, plot_col)) for i in range(100)]
    best, stop = smooth[0], None
    for i, s in enumerate(smooth):
        best = min(best, s)
        if s > 4 * best:
            stop = i
            break
    assert stop is not None and 20 < stop < 99  # it does stop, once the loss blows up
    assert all(v != NA for v in plotted[: stop + 1])
    assert all(v == NA for v in plotted[stop + 1 :])
    lowest = min(smooth[: stop + 1])
    assert default.at("lr_find", "O3") == pytest.approx(lrs[smooth.index(lowest)] / 10, rel=1e-15)


def test_one_cycle_starts_peaks_and_ends_where_fastai_says(default):
    """100 steps, lr_max 1: warm-up INT(0.3*100) = 30 steps; lr starts at 1/25, is 1 at
    step 30 and ends just above 1/(25*1e4); momentum mirrors it, 0.95 -> 0.85 -> 0.95."""
    n = 100
    lr = [default.get(("one_cycle", RUN_TOP + i, 1)) for i in range(n)]
    mom = [default.get(("one_cycle", RUN_TOP + i, 2)) for i in range(n)]
    assert default.at("one_cycle", "D3") == 30
    assert lr[0] == pytest.approx(1 / 25, rel=1e-15)
    assert lr[30] == pytest.approx(1.0, rel=1e-15) and max(lr) == lr[30]
    assert 1 / 25e4 < lr[-1] < 1 / 25e4 + 1e-3
    pct = (99 - 30) / 70  # the last step, in the second phase
    assert lr[-1] == pytest.approx(1 / 25e4 + (1 - 1 / 25e4) / 2 * (1 + math.cos(math.pi * pct)))
    assert mom[0] == 0.95 and mom[30] == pytest.approx(0.85) and min(mom) == mom[30]


def test_the_debiased_ema_of_a_constant_is_the_constant():
    """EMA from 0 of c, c, c...: (1 - beta^t) c, so EMA / (1 - beta^t) = c exactly enough;
    the sheet's series edited to a constant shows it."""
    from sheetnet.engine import evaluate
    from sheetnet.lessons.optimizers.sheets import EMA_SERIES, build

    wb = build(OptimizersParams(iterations=4))
    s = wb["ema_bias"]
    for t in range(EMA_SERIES):
        s.input((3 + t, 1), 2.5)
    r = evaluate(wb)
    ema = [r.get(("ema_bias", 3 + t, 2)) for t in range(EMA_SERIES)]
    debiased = [r.get(("ema_bias", 3 + t, 4)) for t in range(EMA_SERIES)]
    assert ema[0] == pytest.approx(0.25) and ema[1] == pytest.approx(0.475)  # too low at first
    np.testing.assert_allclose(debiased, 2.5, rtol=1e-13)


def test_adam_and_adamw_agree_without_weight_decay_and_differ_with_it():
    same = compute("optimizers", OptimizersParams(iterations=20, wd=0.0))[1]
    differ = compute("optimizers", OptimizersParams(iterations=20, wd=0.1))[1]
    last = RUN_TOP + 19

    def final(results, sheet):
        """a' and b' of the own-rate run: its last two columns, found by their headers."""
        heads: dict = {}
        for c in range(1, 40):
            heads.setdefault(results.get((sheet, RUN_TOP - 1, c)), c)
        return results.get((sheet, last, heads["new a"])), results.get(
            (sheet, last, heads["new b"])
        )

    assert final(same, "adam") == pytest.approx(final(same, "adamw"), rel=1e-12)
    assert final(differ, "adam") != pytest.approx(final(differ, "adamw"), rel=1e-6)
