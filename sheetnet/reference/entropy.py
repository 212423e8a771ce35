"""Plain numpy for the entropy_example lesson, laid onto the spec's cell addresses.

Nothing here uses the engine: it is the independent path the engine's cells
are checked against.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..lessons.entropy.layout import EntropyParams


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x)
    return e / e.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def binary_cross_entropy(y: np.ndarray, p: np.ndarray, log: Callable = np.log10) -> np.ndarray:
    """-y log p - (1-y) log(1-p), per sample; base 10 by default, as Excel's LOG."""
    return -y * log(p) - (1.0 - y) * log(1.0 - p)


def nll(index: np.ndarray, log_probs: np.ndarray) -> np.ndarray:
    """Negative log-likelihood: minus the log-probability at each sample's class index."""
    return -log_probs[np.arange(len(index)), index]


def expected_cells(p: EntropyParams) -> dict[tuple[str, str], object]:
    """Every formula cell of the lesson, as numpy computes it."""
    out: dict[tuple[str, str], object] = {}
    x1, x2 = np.array(p.outputs), np.array(p.outputs_2)
    for x, (ce, cs, ck), total in ((x1, "CDK", "C8"), (x2, "HIL", "H8")):
        e, s, k = np.exp(x), softmax(x), sigmoid(x)
        for i in range(5):
            out["softmax", f"{ce}{i + 3}"] = e[i]
            out["softmax", f"{cs}{i + 3}"] = s[i]
            out["softmax", f"{ck}{i + 3}"] = k[i]
        out["softmax", total] = e.sum()
        out["softmax", f"{cs}8"] = s.sum()
    for i, name in enumerate(p.classes):
        out["softmax", f"F{i + 3}"] = name

    y = np.array([lp[0] for lp in p.labels_preds], dtype=float)
    q = np.array([lp[1] for lp in p.labels_preds], dtype=float)
    bce10, bce = binary_cross_entropy(y, q), binary_cross_entropy(y, q, np.log)
    # The IF form takes only the true class's log: no 0*log(0) when a prediction is 0 or 1.
    picked = np.where(y == 1.0, q, 1.0 - q)
    if10, if_e = -np.log10(picked), -np.log(picked)
    for i in range(5):
        n = i + 2
        out["entropy", f"D{n}"], out["entropy", f"E{n}"] = bce10[i], if10[i]
        out["entropy", f"G{n}"], out["entropy", f"H{n}"] = bce[i], if_e[i]
    for col, v in zip("DEGH", (bce10, if10, bce, if_e)):
        out["entropy", f"{col}7"] = v.mean()

    probs = np.stack([q, 1.0 - q], axis=1)  # column 0: cat, 1: dog
    idx = np.where(y == 1.0, 0, 1)
    nll10, nll_e = nll(idx, np.log10(probs)), nll(idx, np.log(probs))
    for i in range(5):
        n = i + 2
        out["log_entropy", f"C{n}"] = 1.0 - y[i]
        out["log_entropy", f"E{n}"] = np.log10(q[i])
        out["log_entropy", f"F{n}"] = np.log10(1.0 - q[i])
        out["log_entropy", f"G{n}"] = bce10[i]
        out["log_entropy", f"H{n}"] = float(idx[i] + 1)
        out["log_entropy", f"I{n}"] = -nll10[i]
        out["log_entropy", f"J{n}"] = nll_e[i]

    # multiclass: image 1's softmax with a one-hot target
    probs1 = softmax(x1)
    onehot = (np.arange(1, 6) == p.true_class).astype(float)
    for i in range(5):
        out["multiclass", f"A{5 + i}"] = p.classes[i]
        out["multiclass", f"B{5 + i}"] = probs1[i]
        out["multiclass", f"C{5 + i}"] = onehot[i]
        out["multiclass", f"D{5 + i}"] = -onehot[i] * np.log(probs1[i])
    out["multiclass", "B11"] = float(np.sum(-onehot * np.log(probs1)))
    out["multiclass", "B12"] = float(-np.log(probs1[p.true_class - 1]))
    from ..lessons.entropy.layout import PROBABILITIES

    for i, q in enumerate(PROBABILITIES):
        out["multiclass", f"B{16 + i}"] = -np.log(q)
    return out
