"""`build` says how training went the same way in every lesson: a loss that ends above
its start or swings instead of settling is named, with the option to change."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.feedback import training_feedback
from sheetnet.lessons import LESSONS
from sheetnet.pipeline import compute


def test_a_steady_descent_is_quiet():
    assert training_feedback([1.0 / (t + 1) for t in range(40)], "train") is None


def test_a_loss_that_ends_above_its_start_is_named_with_its_option():
    line = training_feedback([1.0, 3.0, 2.5, 2.9, 2.6, 2.8], "train", option="--shared-lr")
    assert line is not None
    assert line.startswith("train: the loss ended at 2.8, not below where it started (1)")
    assert line.endswith("try a smaller learning rate (--shared-lr)")


def test_a_swing_in_the_second_half_is_named():
    # falls to 0.5, then jumps between 0.5 and 2 (4x) step after step: not settling
    losses = [4.0, 3.0, 2.0, 1.0] + [0.5, 2.0] * 6
    line = training_feedback(losses, "train")
    assert line is not None and "swings between 0.5 and 2" in line


def test_a_two_step_zigzag_that_settles_and_batch_noise_are_quiet():
    zigzag = [1.0 - 0.02 * t for t in range(20)] + [0.3, 0.34] * 10  # averaged in pairs: flat
    assert training_feedback(zigzag, "train") is None
    noisy = [2.0 - 0.01 * t + (0.6 if t % 3 == 0 else 0.0) for t in range(90)]
    assert training_feedback(noisy, "train", window=15) is None


def test_swings_far_below_the_start_are_the_last_digits_settling():
    losses = [200.0, 100.0, 50.0, 10.0] + [0.001, 0.01] * 8
    assert training_feedback(losses, "adam_ann") is None


@pytest.mark.parametrize("name", [n for n, lesson in LESSONS.items() if lesson.losses])
def test_the_default_workbooks_train_without_a_warning(name):
    from sheetnet.pipeline import Built

    params = LESSONS[name].params()
    wb, results = compute(name, params)
    built = Built(name, wb, results, None, 0, 0.0, 0.0, params)  # type: ignore[arg-type]
    assert built.warnings() == []


def test_backprop_at_a_rate_that_overshoots_says_so(tmp_path):
    got = CliRunner().invoke(main, ["build", "backprop", "--lr", "50", "-o", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert "warning: train: the loss ended at" in got.output
    assert "try a smaller learning rate (--lr)" in got.output
