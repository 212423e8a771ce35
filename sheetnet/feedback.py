"""How training went, said the same way for every lesson that trains: a loss that ends
above where it started, or swings instead of settling, means the steps overshoot.

A learner who tries `--lr 50` should hear that from `build`, not find it in a chart.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

SWING = 1.5  # the last half's largest loss over its smallest: more is a swing, not noise
FLOOR = 0.05  # swings below this share of the starting loss are the last digits settling


def training_feedback(
    losses: Sequence[float], where: str, window: int = 0, option: str = "--lr"
) -> str | None:
    """One line on a loss series (one value per step) that did not settle, or None.

    The steps are averaged in windows, `window` steps each (an epoch, for mini-batch
    losses whose noise is no swing) or by default a twentieth of the run (a two-step
    zigzag averages out). The loss ending above its start, or the second half swinging
    by more than SWING times with the loss rising in at least a third of its windows,
    says the learning rate is too large; a descent stays quiet.
    """
    if len(losses) < 4:
        return None
    w = min(window, len(losses)) if window > 0 else max(1, len(losses) // 20)
    means = [sum(losses[i : i + w]) / w for i in range(0, len(losses) - w + 1, w)]
    first, last = min(losses[0], means[0]), means[-1]  # the start: before any step moved
    if last >= first:
        about = f" (the last {w} steps' mean)" if w > 1 else ""
        return (
            f"{where}: the loss ended at {last:.4g}{about}, not below where it started "
            f"({first:.4g}); the steps overshoot: try a smaller learning rate ({option})"
        )
    tail = means[len(means) // 2 :]
    low, high = min(tail), max(tail)
    rises = sum(b > a for a, b in itertools.pairwise(tail))
    judged = len(tail) >= 5 and high > FLOOR * first  # a few points make no swing
    if judged and low > 0 and high / low > SWING and rises >= (len(tail) - 1) / 3:
        return (
            f"{where}: the loss swings between {min(losses[len(losses) // 2 :]):.4g} and "
            f"{max(losses[len(losses) // 2 :]):.4g} instead of settling: try a smaller "
            f"learning rate ({option})"
        )
    return None
