"""A neural network's formulas over blocks, shared by the lessons that train one.

Samples are rows; a layer's weights are rows too (one per output unit), so every
matrix product is a SUMPRODUCT of a row with a row. Going backwards needs a
weight matrix's columns as rows: `turned` writes that copy.
"""

from __future__ import annotations

from ..engine import Block, If, Ref, exp, index, ln, max_, sum_, sumproduct

Note = str | None


def dense(
    Z: Block, X: Block, W: Block, b: Block, note: Note = None, number_format: str | None = None
) -> None:
    """Z[i, k] = SUMPRODUCT(row i of X, row k of W) + b[k]: a layer's outputs."""
    Xr, Wf, bf = X.fixed_col(), W.fixed(), b.fixed()
    Z.fill_columns(lambda k: sumproduct(Xr.row(0), Wf.row(k)) + bf[k, 0], note, number_format)


def relu(A: Block, Z: Block, note: Note = None, number_format: str | None = None) -> None:
    """A = MAX(Z, 0)."""
    A.fill_like(max_(Z[0, 0], 0), note, number_format)


def relu_slope(R: Block, Z: Block, note: Note = None) -> None:
    """ReLU's derivative: 1 where Z > 0, else 0."""
    R.fill_like(If(Z[0, 0] > 0, 1, 0), note)


def softmax(
    Z: Block, M: Block, E: Block, S: Block, P: Block, notes: dict[str, str] | None = None,
    number_format: str | None = None, prob_format: str | None = None,
) -> None:  # fmt: skip
    """Stable softmax of each row of Z: its MAX, EXP(Z - MAX), their SUM, EXP / SUM."""
    notes = notes or {}
    Zr, Mr, Er, Sr = (block.fixed_col() for block in (Z, M, E, S))
    M.fill_like(max_(Zr.row(0)), notes.get("max"), number_format)
    E.fill_like(exp(Z[0, 0] - Mr[0, 0]), notes.get("exp"), prob_format)
    S.fill_like(sum_(Er.row(0)), notes.get("sum"), prob_format)
    P.fill_like(E[0, 0] / Sr[0, 0], notes.get("softmax"), prob_format)


def one_hot(Y: Block, label: Block, note: Note = None) -> None:
    lab = label.fixed_col()
    Y.fill_columns(lambda k: If(lab[0, 0].eq(k), 1, 0), note)


def cross_entropy(
    L: Block, P: Block, label: Block, note: Note = None, number_format: str | None = None
) -> None:
    """-LN of the probability of the true class (labels count from 0)."""
    Pr, lab = P.fixed_col(), label.fixed_col()
    L.fill_like(-ln(index(Pr.row(0), 1, lab[0, 0] + 1)), note, number_format)


def logit_grad(
    D: Block, P: Block, Y: Block, batch: Ref, note: Note = None, number_format: str | None = None
) -> None:
    """dL/dlogit of the batch's mean loss: (softmax - one-hot) / batch size."""
    D.fill_like((P[0, 0] - Y[0, 0]) / batch, note, number_format)


def turned(WT: Block, W: Block, note: Note = None, number_format: str | None = None) -> None:
    """WT[k, c] = W[c, k]."""
    Wf = W.fixed()
    WT.fill(lambda k, c: Wf[c, k], note, number_format)


def back_through(
    DA: Block, D: Block, WT: Block, note: Note = None, number_format: str | None = None
) -> None:
    """The gradient at a layer's inputs: DA[i, k] = SUMPRODUCT(row i of D, row k of W's
    transpose) = sum over outputs c of D[i, c] * W[c, k]."""
    Dr, WTf = D.fixed_col(), WT.fixed()
    DA.fill_columns(lambda k: sumproduct(Dr.row(0), WTf.row(k)), note, number_format)


def gate(
    DZ: Block, DA: Block, R: Block, note: Note = None, number_format: str | None = None
) -> None:
    """The chain rule through an element-wise function: DZ = DA * its slope."""
    DZ.fill_like(DA[0, 0] * R[0, 0], note, number_format)


def weight_grad(
    G: Block, D: Block, X: Block, W: Block, wd: Ref,
    note: Note = None, number_format: str | None = None,
) -> None:  # fmt: skip
    """G[k, j] = SUMPRODUCT(column k of D, column j of X) + 2*wd*W[k, j]."""
    Dc, Xc = D.fixed(), X.fixed_row()
    G.fill_rows(lambda k: sumproduct(Dc.col(k), Xc.col(0)) + 2 * wd * W[k, 0], note, number_format)


def bias_grad(
    G: Block, D: Block, b: Block, wd: Ref, note: Note = None, number_format: str | None = None
) -> None:
    """G[k] = SUM(column k of D) + 2*wd*b[k]."""
    Dc = D.fixed()
    G.fill(lambda k, _: sum_(Dc.col(k)) + 2 * wd * b[k, 0], note, number_format)


def step(
    new: Block, old: Block, grad: Block, lr: Ref, note: Note = None,
    number_format: str | None = None,
) -> None:  # fmt: skip
    """new = old - lr * gradient."""
    new.fill_like(old[0, 0] - lr * grad[0, 0], note, number_format)
