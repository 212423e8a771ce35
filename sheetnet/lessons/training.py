"""The sheets that train the small network of the backprop lesson: its points and the
train sheet, one block per step (forward pass, backward pass, gradients, step). The
backprop lesson and the optimizers lesson's discriminative rates both write them;
what each step computes lives in network.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..engine import Block, If, Ref, Role, Sheet, Workbook, average, count, match, max_, sumsq
from .backprop.layout import (
    CLASSES,
    DATA_FIRST_ROW,
    INPUTS,
    SAMPLES,
    START_TOP,
    BackpropParams,
    Layout,
    samples,
    start_parameters,
)
from .network import (
    back_through,
    bias_grad,
    cross_entropy,
    dense,
    gate,
    logit_grad,
    one_hot,
    relu,
    relu_slope,
    softmax,
    step,
    turned,
    weight_grad,
)

NUMBER = "0.0000"
GRAD = "0.000000"
NOTES = {
    "z1": "z1 = SUMPRODUCT(x, this unit's row of W1) + b1: the hidden unit's input",
    "a1": "a1 = ReLU(z1) = MAX(z1, 0). Without this bend, two linear layers would "
    "collapse into one linear layer, and no line separates class 0 from the others",
    "z2": "logit = SUMPRODUCT(a1, this class's row of W2) + b2",
    "loss": "cross-entropy: -LN of the probability given to the true class",
    "right": "1 when the largest probability is the true class's",
    "dz2": "dL/dz2 = (softmax - one-hot) / samples: the loss's gradient at each logit",
    "da1": "dL/da1[k] = sum over classes c of dL/dz2[c] * W2[c,k] = SUMPRODUCT(dL/dz2, "
    "row k of W2ᵀ): each logit sends its gradient back through the weight joining them",
    "relu": "ReLU'(z1): 1 where z1 > 0, else 0 (the slope of MAX(z1, 0))",
    "dz1": "dL/dz1 = dL/da1 * ReLU'(z1): the chain rule through the ReLU; "
    "a unit that was off passes nothing back",
    "dw1": "dL/dW1[k,j] = sum over samples of dL/dz1[k] * x[j], + 2*wd*W1[k,j]",
    "db1": "dL/db1[k] = sum over samples of dL/dz1[k], + 2*wd*b1[k]",
    "dw2": "dL/dW2[c,k] = sum over samples of dL/dz2[c] * a1[k], + 2*wd*W2[c,k]",
    "db2": "dL/db2[c] = sum over samples of dL/dz2[c], + 2*wd*b2[c]",
    "w2t": "W2 turned (W2ᵀ[k,c] = W2[c,k]): SUMPRODUCT pairs a row with a row, so the "
    "backward pass reads W2's columns as this block's rows",
    "new": "p - lr * dL/dp: the parameters the next iteration starts from",
}


@dataclass(frozen=True)
class Points:
    """The samples as the train sheet reads them: inputs, labels (absolute) and their count."""

    x: Block
    y: Block
    count: Ref


def add_points(wb: Workbook, p: BackpropParams, name: str = "data") -> Points:
    """The sheet of samples (points of the plane and their classes)."""
    s = wb.add_sheet(name)
    s.label(
        "A1",
        "Eight points in the plane and their class: 0 near the centre, 1 above, 2 below. "
        "No straight line cuts class 0 off: the hidden layer must bend the boundary.",
    )
    s.label("A2", "samples")
    for j, text in enumerate(["sample", "x1", "x2", "label"]):
        s.header((DATA_FIRST_ROW - 1, j), text)
    x, y = samples(p.seed)
    for i in range(SAMPLES):
        s.set((DATA_FIRST_ROW + i, 0), float(i + 1), Role.LABEL)
    table = Block(s, DATA_FIRST_ROW, 1, SAMPLES, INPUTS + 1)
    table.inputs(
        [[*x[i], float(y[i])] for i in range(SAMPLES)],
        note="the samples: change a point or its class and the whole training follows",
    )
    inputs, labels = table.part(0, 0, SAMPLES, INPUTS), table.part(0, INPUTS, SAMPLES, 1)
    n = s.formula("C2", count(labels.range))
    s.width(0, 9.0, 3)
    return Points(inputs.fixed(), labels.fixed(), n.fixed())


class Section:
    """A parameter section (start, gradient or new) of the train sheet."""

    def __init__(self, s: Sheet, lay: Layout, row: int) -> None:
        h = lay.hidden
        self.w1 = Block(s, row, lay.w1, h, INPUTS)
        self.b1 = Block(s, row, lay.b1, h, 1)
        self.w2 = Block(s, row, lay.w2, CLASSES, h)
        self.b2 = Block(s, row, lay.b2, CLASSES, 1)
        self.w2t = Block(s, row, lay.w2t, h, CLASSES)

    def parts(self) -> tuple[Block, Block, Block, Block]:
        return self.w1, self.b1, self.w2, self.b2

    def flat(self) -> list[Ref]:
        """Every parameter's cell, absolute, in `Parameters.flat` order."""
        out = []
        for part in self.parts():
            f = part.fixed()
            out += [f[i, j] for i in range(part.rows) for j in range(part.cols)]
        return out

    def headers(self, s: Sheet, lay: Layout, prefix: str, turned: bool) -> None:
        h, top = lay.hidden, self.w1.top
        self.w1.headers([f"{prefix}W1·x{j + 1}" for j in range(INPUTS)])
        self.b1.headers([f"{prefix}b1"])
        self.w2.headers([f"{prefix}W2·h{k + 1}" for k in range(h)])
        self.b2.headers([f"{prefix}b2"])
        for k in range(h):
            s.header((top + k, lay.w1 - 1), f"h{k + 1}")
        for c in range(CLASSES):
            s.header((top + c, lay.w2 - 1), f"class {c}")
        if turned:
            self.w2t.headers([f"W2ᵀ·class {c}" for c in range(CLASSES)])
            for k in range(h):
                s.header((top + k, lay.w2t - 1), f"h{k + 1}")

    def turn(self, first: bool) -> None:
        turned(self.w2t, self.w2, NOTES["w2t"] if first else None, NUMBER)


Rates = Callable[[Sheet], tuple[Ref, Ref]]


@dataclass
class Trained:
    """What the train sheet holds that other sheets read."""

    wd: Ref  # the weight decay (absolute)
    start: Section  # the parameters before the first step
    first_gradient: Section  # the first step's gradients
    loss: list[Ref]  # each step's mean loss, objective and accuracy
    objective: list[Ref]
    accuracy: list[Ref]


def train_network(
    wb: Workbook,
    p: BackpropParams,
    lay: Layout,
    points: Points,
    name: str = "train",
    rates: Rates | None = None,
) -> Trained:
    """The training sheet. `rates` writes the learning rates of the hidden and the
    output layer (rows 1 and 2, columns A to C) and returns their cells; by default
    one rate, an input at C1, drives both."""
    s = wb.add_sheet(name)
    if rates is None:
        s.label("A1", "learning rate")
        lr = s.input("C1", p.lr, note="lr: change it and every iteration below is recomputed")
        lrs = (lr.fixed(), lr.fixed())
    else:
        lrs = tuple(r.fixed() for r in rates(s))  # type: ignore[assignment]
    s.label("D1", "weight decay")
    wd = s.input("F1", p.wd, note="wd: each gradient gets 2*wd*p added").fixed()
    s.label(
        "H1",
        "Each block below is one training step over all samples: forward pass, "
        "backward pass (the chain rule, right to left through the network), "
        "gradients, new parameters.",
    )
    s.header((START_TOP, 0), "start")
    start = Section(s, lay, START_TOP + 1)
    start.headers(s, lay, "", turned=True)
    w = start_parameters(p)
    for part, values in zip(start.parts(), (w.w1, w.b1[:, None], w.w2, w.b2[:, None])):
        part.inputs(values, note="seeded starting parameters (biases 0)", number_format=NUMBER)
    start.turn(first=True)
    trained = Trained(wd, start, start, [], [], [])
    params = start
    for t in range(p.iterations):
        params = _iteration(s, lay, t, params, points, lrs, trained)
    s.freeze = (0, 2)
    s.width(0, 10.0, 1)
    s.width(2, 10.5, lay.end_col)
    return trained


def _iteration(
    s: Sheet,
    lay: Layout,
    t: int,
    params: Section,
    points: Points,
    lr: tuple[Ref, Ref],
    trained: Trained,
) -> Section:
    """Iteration t's block; returns the section of parameters it ends with, and adds its
    loss, objective, accuracy (and the first step's gradients) to `trained`."""
    x, y, n, wd = points.x, points.y, points.count, trained.wd
    first, h = t == 0, lay.hidden
    top, rows = lay.top(t), lay.sample_row(t)

    def note(key: str) -> str | None:
        return NOTES[key] if first else None

    s.header((top, 0), "iteration")
    s.set((top, 1), float(t + 1), Role.HEADER)
    heads = (
        ["sample", "label"]
        + [f"x{j + 1}" for j in range(INPUTS)]
        + [f"z1·h{k + 1}" for k in range(h)]
        + [f"a1·h{k + 1}" for k in range(h)]
        + [f"z2·{c}" for c in range(CLASSES)]
        + ["max"]
        + [f"exp {c}" for c in range(CLASSES)]
        + ["sum"]
        + [f"p {c}" for c in range(CLASSES)]
        + [f"y {c}" for c in range(CLASSES)]
        + ["loss", "right"]
        + [f"dL/dz2·{c}" for c in range(CLASSES)]
        + [f"dL/da1·h{k + 1}" for k in range(h)]
        + [f"ReLU'·h{k + 1}" for k in range(h)]
        + [f"dL/dz1·h{k + 1}" for k in range(h)]
    )
    for j, text in enumerate(heads):
        s.header((top + 1, j), text)
    for i in range(SAMPLES):
        s.set((rows + i, 0), float(i + 1), Role.LABEL)
    label = Block(s, rows, 1, SAMPLES, 1)
    label.fill(lambda i, _: y.relative()[i, 0])
    X = Block(s, rows, lay.x, SAMPLES, INPUTS)
    X.fill(lambda i, j: x.relative()[i, j], number_format="0.00")

    def at(col: int, width: int) -> Block:
        return Block(s, rows, col, SAMPLES, width)

    Z1, A1, Z2 = at(lay.z1, h), at(lay.a1, h), at(lay.z2, CLASSES)
    M, E, S, P = at(lay.max, 1), at(lay.e, CLASSES), at(lay.sum, 1), at(lay.prob, CLASSES)
    Y, L, R = at(lay.onehot, CLASSES), at(lay.loss, 1), at(lay.right, 1)
    D2, DA, RP, D1 = at(lay.dz2, CLASSES), at(lay.da1, h), at(lay.relu, h), at(lay.dz1, h)
    dense(Z1, X, params.w1, params.b1, note("z1"), NUMBER)
    relu(A1, Z1, note("a1"), NUMBER)
    dense(Z2, A1, params.w2, params.b2, note("z2"), NUMBER)
    softmax(Z2, M, E, S, P, number_format=NUMBER, prob_format="0.000")
    one_hot(Y, label)
    cross_entropy(L, P, label, note("loss"), NUMBER)
    Pa, lab = P.fixed_col(), label.fixed_col()
    R.fill(
        lambda i, _: If((match(max_(Pa.row(i)), Pa.row(i), 0) - 1).eq(lab[i, 0]), 1, 0),
        note=note("right"),
    )
    logit_grad(D2, P, Y, n, note("dz2"), GRAD)
    back_through(DA, D2, params.w2t, note("da1"), GRAD)
    relu_slope(RP, Z1, note("relu"))
    gate(D1, DA, RP, note("dz1"), GRAD)

    s.header((top, lay.loss_value - 1), "loss")
    loss = s.formula(
        (top, lay.loss_value), average(L.range), number_format=NUMBER, note=note("loss")
    )
    s.header((top, lay.objective_value - 1), "objective")
    w_all = [part.range for part in (params.w1, params.b1, params.w2, params.b2)]
    objective = s.formula(
        (top, lay.objective_value),
        loss + wd * sumsq(*w_all),
        number_format=NUMBER,
        note="loss + wd * (sum of every parameter squared): what the gradients below descend"
        if first
        else None,
    )
    s.header((top, lay.accuracy_value - 1), "accuracy")
    accuracy = s.formula((top, lay.accuracy_value), average(R.range), number_format="0%")
    trained.loss.append(loss)
    trained.objective.append(objective)
    trained.accuracy.append(accuracy)

    # gradients
    g_row = lay.grad_row(t)
    s.header((g_row - 1, 0), "gradient")
    grad = Section(s, lay, g_row)
    grad.headers(s, lay, "dL/d", turned=False)
    if first:
        trained.first_gradient = grad
    old = params
    weight_grad(grad.w1, D1, X, old.w1, wd, note("dw1"), GRAD)
    bias_grad(grad.b1, D1, old.b1, wd, note("db1"), GRAD)
    weight_grad(grad.w2, D2, A1, old.w2, wd, note("dw2"), GRAD)
    bias_grad(grad.b2, D2, old.b2, wd, note("db2"), GRAD)

    # the step
    n_row = lay.new_row(t)
    s.header((n_row - 1, 0), "new")
    s.label((n_row - 1, 1), f"after step {t + 1}")
    new = Section(s, lay, n_row)
    new.headers(s, lay, "", turned=True)
    rates = (lr[0], lr[0], lr[1], lr[1])  # W1 and b1: the hidden layer's; W2, b2: the output's
    for before, g, after, rate in zip(old.parts(), grad.parts(), new.parts(), rates):
        step(after, before, g, rate, note("new") if before is old.w1 else None, NUMBER)
    new.turn(first=False)
    return new
