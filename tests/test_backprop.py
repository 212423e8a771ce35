"""The backprop lesson's own points: the gradient check agrees as closely as its step
allows, the ReLU gates the backward pass, and the network learns."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sheetnet.lessons.backprop import BackpropParams
from sheetnet.lessons.backprop.layout import (
    CHECK_TOP,
    CLASSES,
    SAMPLES,
    Layout,
    parameter_names,
    samples,
)
from sheetnet.pipeline import compute
from sheetnet.reference.backprop import STEP, objective, train

EPS = sys.float_info.epsilon


def column(results, sheet: str, top: int, col: int, n: int) -> np.ndarray:
    return np.array([results.get((sheet, top + i, col)) for i in range(n)])


@pytest.mark.parametrize("params", [BackpropParams(), BackpropParams(hidden=7, seed=3, wd=0.01)])
def test_finite_differences_agree_with_backprop_as_closely_as_h_allows(params):
    """(L(p+h) - L(p-h)) / 2h = L'(p) + h²/6 L'''(ξ), and each L(p±h) carries a rounding
    error of about eps * L, which the division by 2h magnifies. So the sheet's slope may
    differ from its backprop gradient by at most h²/6 * |L'''| + 2 eps L / h (with a
    factor of 4 for safety); L''' is estimated per parameter, independently of the
    engine, by a third difference of the numpy objective with a coarse step."""
    _, results = compute("backprop", params)
    n = Layout(params).parameter_count
    rows = CHECK_TOP + 1
    value = column(results, "gradcheck", rows, 1, n)
    backprop = column(results, "gradcheck", rows, 2, n)
    slope = column(results, "gradcheck", rows, 5, n)
    x, y = samples(params.seed)
    s = 1e-2

    def loss(v: np.ndarray) -> float:
        return objective(x, y, v, params.hidden, params.wd)

    for q in range(n):
        e = np.zeros(n)
        e[q] = s
        third = (loss(value + 2 * e) - 2 * loss(value + e) + 2 * loss(value - e)
                 - loss(value - 2 * e)) / (2 * s**3)  # fmt: skip
        bound = STEP**2 / 6 * abs(third) + 2 * EPS * abs(loss(value)) / STEP
        assert abs(slope[q] - backprop[q]) <= 4 * bound + 1e-300, parameter_names(params.hidden)[q]
    assert results.get(("gradcheck", 1, 6)) < 1e-6


def test_a_unit_that_is_off_passes_no_gradient_back():
    """Where z1 <= 0, ReLU' is 0 and so is dL/dz1, whatever dL/da1 is."""
    params = BackpropParams(hidden=6, iterations=1, seed=2)
    _, results = compute("backprop", params)
    lay = Layout(params)
    rows = lay.sample_row(0)
    off = 0
    for i in range(SAMPLES):
        for k in range(params.hidden):
            z1 = results.get(("train", rows + i, lay.z1 + k))
            relu = results.get(("train", rows + i, lay.relu + k))
            dz1 = results.get(("train", rows + i, lay.dz1 + k))
            da1 = results.get(("train", rows + i, lay.da1 + k))
            assert relu == (1.0 if z1 > 0 else 0.0)
            assert dz1 == (da1 if z1 > 0 else 0.0)
            off += z1 <= 0
    assert off > 0  # the seed has units that are off, so the point is made


def test_the_output_bias_gradient_by_hand():
    """dL/db2[c] = mean over samples of (softmax - one-hot) + 2 wd b2: a line of numpy
    from the sheet's own probabilities, not the reference's columns."""
    params = BackpropParams(iterations=2, wd=0.05)
    _, results = compute("backprop", params)
    lay = Layout(params)
    for t in range(2):
        rows = lay.sample_row(t)
        p = np.array([[results.get(("train", rows + i, lay.prob + c)) for c in range(CLASSES)]
                      for i in range(SAMPLES)])  # fmt: skip
        labels = samples(params.seed)[1]
        onehot = np.eye(CLASSES)[labels]
        b2 = column(results, "train", lay.params_row(t), lay.b2, CLASSES)
        expected = (p - onehot).sum(axis=0) / SAMPLES + 2 * params.wd * b2
        got = column(results, "train", lay.grad_row(t), lay.b2, CLASSES)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-16)


def test_the_default_network_learns_every_point():
    """Measured by the numpy reference: the loss falls by more than half, all 8 right."""
    steps = train(BackpropParams())
    assert steps[-1]["mean"] < 0.5 * steps[0]["mean"]
    assert steps[-1]["accuracy"] == 1.0
