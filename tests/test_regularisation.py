"""The regularisation lesson's own points: the two ways of writing the weight-decay step
agree on every cell, one step checks by hand, the defaults tell the story the front sheet
tells, and the formula cells are predicted. (Every run against PyTorch: test_torch.py.)"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from sheetnet.engine import evaluate
from sheetnet.lessons.regularisation import LESSON, RegularisationParams
from sheetnet.lessons.regularisation.layout import SUMMARY, SUMMARY_TOP, Layout, runs
from sheetnet.pipeline import compute
from sheetnet.reference.regularisation import final_losses

EPS = sys.float_info.epsilon


def block(results, sheet: str, top: int, left: int, rows: int, cols: int) -> np.ndarray:
    return np.array(
        [[results.get((sheet, top + i, left + j)) for j in range(cols)] for i in range(rows)]
    )


def sheet_weights(results, p: RegularisationParams, run) -> np.ndarray:
    """(steps + 1, degree + 1): the weights every step starts from, and the last."""
    lay = Layout(p)
    return block(results, run.sheet, lay.row(0), lay.col(run.degree)["w"], p.steps + 1,
                 run.degree + 1)  # fmt: skip


PARAMS = [
    RegularisationParams(steps=60),
    RegularisationParams(
        degree=6,
        low_degree=2,
        samples=9,
        steps=25,
        lr=0.08,
        good_wd=0.05,
        big_wd=0.7,
        noise=0.4,
        seed=11,
    ),
]


# -- the two ways of writing weight decay ------------------------------------------------------
@pytest.mark.parametrize("params", PARAMS, ids=["defaults-60-steps", "degree-6"])
def test_the_l2_step_and_the_decoupled_step_agree_on_every_cell(params):
    """w - lr·(g + 2·wd·w) and w·(1 - lr·2·wd) - lr·g are one number written two ways:
    every difference cell is within a few roundings of the weight (exactly 0 without
    weight decay), and the summary's largest difference says so."""
    _, results = compute("regularisation", params)
    lay = Layout(params)
    for i, run in enumerate(runs(params)):
        col, n = lay.col(run.degree), run.degree + 1
        l2 = block(results, run.sheet, lay.row(1), col["w"], params.steps, n)
        decoupled = block(results, run.sheet, lay.row(0), col["decoupled"], params.steps, n)
        diff = block(results, run.sheet, lay.row(0), col["diff"], params.steps, n)
        np.testing.assert_array_equal(diff, l2 - decoupled)
        assert np.all(np.abs(diff) <= 4 * EPS * np.abs(l2) + 1e-300), run.sheet
        if run.wd == 0:
            assert not diff.any(), run.sheet
        largest = results.get(("summary", SUMMARY_TOP + i, lay.summary[SUMMARY[-1]]))
        assert largest == np.abs(diff).max()


# -- one step by hand -------------------------------------------------------------------------
def test_one_step_on_two_points_by_hand():
    """Two samples (x, y) = (-1, 1) and (1, 0), degree 2, lr 0.1, wd 0.5. The features at
    x = -1 and 1: F1 = √3·x = ∓√3, F2 = √5·(3x² - 1)/2 = √5. From w = 0 the residuals are
    -y = (-1, 0), so the training loss is (1 + 0)/2 = 0.5 and the gradient of the mean
    squared error is 2/2 · Σ r·F: (-1, √3, -√5) for w0, w1, w2. Weight decay adds
    2·wd·w = 0, so step 1 is w = -lr·g = (0.1, -0.1√3, 0.1√5). Step 2 adds 2·0.5·w to
    the gradient, and the decoupled form shrinks w by 1 - 0.1·2·0.5 = 0.9 first."""
    params = RegularisationParams(degree=2, low_degree=1, samples=2, steps=2, lr=0.1,
                                  good_wd=0.5)  # fmt: skip
    lay = Layout(params)
    wb = LESSON.sheets(params)
    data = wb["data"]
    for i, (x, y) in enumerate([(-1.0, 1.0), (1.0, 0.0)]):
        data.input((lay.train_top + i, lay.data["x"]), x)
        data.input((lay.train_top + i, lay.data["y"]), y)
    results = evaluate(wb)
    run = runs(params)[1]  # good_decay: wd 0.5
    col = lay.col(run.degree)
    r3, r5 = math.sqrt(3), math.sqrt(5)

    def row(t: int, name: str, n: int = 3) -> np.ndarray:
        return block(results, run.sheet, lay.row(t), col[name], 1, n)[0]

    assert results.get((run.sheet, lay.row(0), col["train_loss"])) == 0.5
    np.testing.assert_allclose(row(0, "grad"), [-1.0, r3, -r5], rtol=1e-15)
    w1 = np.array([0.1, -0.1 * r3, 0.1 * r5])
    np.testing.assert_allclose(row(1, "w"), w1, rtol=1e-15)
    # step 2 by hand: residuals, gradient, then both ways of weight decay
    f = np.array([[1.0, -r3, r5], [1.0, r3, r5]])
    r = f @ w1 - np.array([1.0, 0.0])
    g = 2 * f.T @ r / 2
    np.testing.assert_allclose(row(1, "r", 2), r, rtol=1e-14)
    np.testing.assert_allclose(row(1, "grad"), g, rtol=1e-14)
    np.testing.assert_allclose(row(2, "w"), w1 - 0.1 * (g + 2 * 0.5 * w1), rtol=1e-14)
    np.testing.assert_allclose(row(1, "decoupled"), 0.9 * w1 - 0.1 * g, rtol=1e-14)


# -- the defaults' story --------------------------------------------------------------------------
def test_the_defaults_overfit_underfit_and_regularise():
    """Measured by the numpy reference on the default workbook: without weight decay the
    training loss is smallest and the validation loss over twice the good run's; too much
    decay leaves the training loss high (underfit); the good run's validation loss is below
    the low-degree polynomial's, as the front sheet says."""
    losses = final_losses(RegularisationParams())
    none, good, big, low = (losses[r.sheet] for r in runs(RegularisationParams()))
    assert none[0] < good[0] < big[0]
    assert none[1] > 2 * good[1]
    assert big[1] > 2 * good[1] and big[0] > 5 * good[0]
    assert good[1] < low[1]


@pytest.mark.parametrize("params", [*LESSON.examples(), *PARAMS])
def test_the_predicted_formula_cells_bound_the_real_count(params):
    wb = LESSON.sheets(params)
    real = wb.formula_count()
    assert real <= params.formula_cells() <= 1.1 * real
