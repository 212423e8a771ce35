"""backprop: a network with one hidden ReLU layer, its gradients by the chain rule,
checked by finite differences that the spreadsheet computes itself.

Every iteration is a block: the forward pass and then the backward pass per
sample, left to right in the order the chain rule runs, then the gradients and
the parameters after the step. See layout.py for where things sit.
"""

from __future__ import annotations

from collections.abc import Callable

from ...engine import (
    Block,
    If,
    Range,
    Ref,
    Role,
    Sheet,
    Workbook,
    abs_,
    average,
    count,
    exp,
    index,
    ln,
    match,
    max_,
    sum_,
    sumproduct,
    sumsq,
)
from ...engine.workbook import Chart, Series
from ..network import (
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
from .layout import (
    CHECK_TOP,
    CLASSES,
    DATA_FIRST_ROW,
    INPUTS,
    NUDGED_TOP,
    SAMPLES,
    START_TOP,
    BackpropParams,
    Layout,
    parameter_names,
    samples,
    start_parameters,
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


def build(params: BackpropParams | None = None) -> Workbook:
    p = params or BackpropParams()
    lay = Layout(p)
    wb = Workbook(title="backprop")
    add_points(wb, p)
    train_network(wb, p, lay)
    _gradcheck(wb, p, lay)
    _progress(wb, p, lay)
    return wb


def add_points(wb: Workbook, p: BackpropParams, name: str = "data") -> None:
    """The sheet of samples (points of the plane and their classes)."""
    s = wb.add_sheet(name)
    s.label(
        "A1",
        "Eight points in the plane and their class: 0 near the centre, 1 above, 2 below. "
        "No straight line cuts class 0 off: the hidden layer must bend the boundary.",
    )
    s.label("A2", "samples")
    s.formula("C2", count(s.range(f"D{DATA_FIRST_ROW + 1}:D{DATA_FIRST_ROW + SAMPLES}")))
    for j, text in enumerate(["sample", "x1", "x2", "label"]):
        s.header((DATA_FIRST_ROW - 1, j), text)
    x, y = samples(p.seed)
    for i in range(SAMPLES):
        s.set((DATA_FIRST_ROW + i, 0), float(i + 1), Role.LABEL)
    Block(s, DATA_FIRST_ROW, 1, SAMPLES, INPUTS + 1).inputs(
        [[*x[i], float(y[i])] for i in range(SAMPLES)],
        note="the samples: change a point or its class and the whole training follows",
    )
    s.width(0, 9.0, 3)


def _data_block(wb: Workbook, name: str = "data") -> tuple[Block, Block]:
    """The samples' inputs and labels on the data sheet, absolute references."""
    x = Block(wb[name], DATA_FIRST_ROW, 1, SAMPLES, INPUTS).fixed()
    y = Block(wb[name], DATA_FIRST_ROW, 1 + INPUTS, SAMPLES, 1).fixed()
    return x, y


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


def train_network(
    wb: Workbook,
    p: BackpropParams,
    lay: Layout,
    name: str = "train",
    points: str = "data",
    rates: Rates | None = None,
) -> None:
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
    wd = s.input("F1", p.wd, note="wd: each gradient gets 2*wd*p added")
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
    x, y = _data_block(wb, points)
    samples_cell = Ref(points, 1, 2, True, True)
    params = start
    for t in range(p.iterations):
        params = _iteration(s, lay, t, params, x, y, lrs, wd.fixed(), samples_cell)
    s.freeze = (0, 2)
    s.width(0, 10.0, 1)
    s.width(2, 10.5, lay.end_col)


def _iteration(
    s: Sheet,
    lay: Layout,
    t: int,
    params: Section,
    x: Block,
    y: Block,
    lr: tuple[Ref, Ref],
    wd: Ref,
    n: Ref,
) -> Section:
    """Iteration t's block; returns the section of parameters it ends with."""
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

    s.header((top, 3), "loss")
    s.formula((top, 4), average(L.range), number_format=NUMBER, note=note("loss"))
    s.header((top, 6), "objective")
    w_all = [part.range for part in (params.w1, params.b1, params.w2, params.b2)]
    s.formula(
        (top, 7),
        Ref(s.name, top, 4) + wd * sumsq(*w_all),
        number_format=NUMBER,
        note="loss + wd * (sum of every parameter squared): what the gradients below descend"
        if first
        else None,
    )
    s.header((top, 9), "accuracy")
    s.formula((top, 10), average(R.range), number_format="0%")

    # gradients
    g_row = lay.grad_row(t)
    s.header((g_row - 1, 0), "gradient")
    grad = Section(s, lay, g_row)
    grad.headers(s, lay, "dL/d", turned=False)
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


# -- the gradient check ---------------------------------------------------------------------
def _gradcheck(wb: Workbook, p: BackpropParams, lay: Layout) -> None:
    s = wb.add_sheet("gradcheck")
    h_count = lay.hidden
    names = parameter_names(h_count)
    count_p = len(names)
    s.label(
        "A1",
        "Is backpropagation right? Nudge one parameter by +h and by -h, run the whole "
        "forward pass again (sheet nudged), and compare the slope "
        "(L(p+h) - L(p-h)) / 2h with the backprop gradient of iteration 1.",
    )
    s.label("A2", "step h")
    step = s.input(
        "C2",
        1e-5,
        note="the nudge: smaller h is closer to the true slope until rounding takes over",
    ).fixed()
    s.label("E2", "largest relative difference")
    start = Section(wb["train"], lay, lay.params_row(0)).flat()
    grads = Section(wb["train"], lay, lay.grad_row(0)).flat()
    heads = [
        "parameter",
        "value",
        "backprop dL/dp",
        "L(p+h)",
        "L(p-h)",
        "(L(p+h)-L(p-h))/2h",
        "relative difference",
    ]
    for j, text in enumerate(heads):
        s.header((CHECK_TOP, j), text)
    rows = CHECK_TOP + 1
    for q, name in enumerate(names):
        s.header((rows + q, 0), name)
    Block(s, rows, 1, count_p, 1).fill(lambda q, _: start[q], number_format=NUMBER)
    Block(s, rows, 2, count_p, 1).fill(
        lambda q, _: grads[q], number_format=GRAD, note="dL/dp from train's first iteration"
    )

    # the forward passes: row 2q nudges parameter q up, row 2q+1 down
    t = wb.add_sheet("nudged")  # the forward passes, wide: a sheet of their own
    top = NUDGED_TOP
    group = 2 * h_count + 2 * CLASSES + 2
    first_group = 2 + count_p
    loss_left = first_group + SAMPLES * group
    mean_col, objective_col = loss_left + SAMPLES, loss_left + SAMPLES + 1
    t.header(
        (top - 2, 0),
        "Each row below runs the forward pass over every sample with one parameter "
        "nudged; its objective (mean loss + weight decay) is L(p+h) or L(p-h) on gradcheck.",
    )
    passes = 2 * count_p
    body = top + 1
    for q, name in enumerate(names):
        t.header((body + 2 * q, 0), name)
        t.header((body + 2 * q + 1, 0), name)
        t.label((body + 2 * q, 1), "+h")
        t.label((body + 2 * q + 1, 1), "-h")
    t.header((top, 0), "parameter")
    t.header((top, 1), "nudge")
    nudged = Block(t, body, 2, passes, count_p)
    nudged.headers(names)
    nudged.fill(
        lambda r, q: (
            (start[q] + step if r % 2 == 0 else start[q] - step) if r // 2 == q else start[q]
        ),
        number_format=NUMBER,
    )
    row_of = nudged.fixed_col()

    def w1_row(r: int, k: int) -> Range:
        return Range(row_of[r, k * INPUTS], row_of[r, k * INPUTS + INPUTS - 1])

    b1_at = h_count * INPUTS
    w2_at = b1_at + h_count
    b2_at = w2_at + CLASSES * h_count
    x, y = _data_block(wb)
    losses = Block(t, body, loss_left, passes, SAMPLES)
    for i in range(SAMPLES):
        left = first_group + i * group
        t.header((top - 1, left), f"sample {i + 1}")
        z1 = Block(t, body, left, passes, h_count)
        z1.fill(
            lambda r, k, i=i: sumproduct(x.row(i), w1_row(r, k)) + row_of[r, b1_at + k],
            number_format=NUMBER,
        )
        a1 = z1.right(0, h_count)
        a1.fill(lambda r, k, z1=z1: max_(z1[r, k], 0), number_format=NUMBER)
        z2 = a1.right(0, CLASSES)
        a1r = a1.fixed_col()
        z2.fill(
            lambda r, c, a1r=a1r: (
                sumproduct(
                    a1r.row(r),
                    Range(row_of[r, w2_at + c * h_count], row_of[r, w2_at + (c + 1) * h_count - 1]),
                )
                + row_of[r, b2_at + c]
            ),
            number_format=NUMBER,
        )
        m = z2.right(0, 1)
        m.fill(lambda r, _, z2=z2: max_(z2.fixed_col().row(r)), number_format=NUMBER)
        e = m.right(0, CLASSES)
        mr = m.fixed_col()
        e.fill(lambda r, c, z2=z2, mr=mr: exp(z2[r, c] - mr[r, 0]), number_format=NUMBER)
        total = e.right(0, 1)
        total.fill(lambda r, _, e=e: sum_(e.fixed_col().row(r)), number_format=NUMBER)
        heads = (
            [f"z1·h{k + 1}" for k in range(h_count)]
            + [f"a1·h{k + 1}" for k in range(h_count)]
            + [f"z2·{c}" for c in range(CLASSES)]
            + ["max"]
            + [f"exp {c}" for c in range(CLASSES)]
            + ["sum"]
        )
        for j, text in enumerate(heads):
            t.header((top, left + j), text)
        er, tr = e.fixed_col(), total.fixed_col()
        Block(t, body, loss_left + i, passes, 1).fill(
            lambda r, _, i=i, er=er, tr=tr: -ln(index(er.row(r), 1, y[i, 0] + 1) / tr[r, 0]),
            number_format=NUMBER,
        )
        t.header((top, loss_left + i), f"loss {i + 1}")
    mean = Block(t, body, mean_col, passes, 1)
    mean.fill(lambda r, _: average(losses.fixed_col().row(r)), number_format=NUMBER)
    t.header((top, mean_col), "mean loss")
    wd = Ref("train", 0, 5, True, True)
    objective = Block(t, body, objective_col, passes, 1)
    objective.fill(
        lambda r, _: mean[r, 0] + wd * sumsq(nudged.fixed_col().row(r)),
        number_format="0.000000000",
    )
    t.header((top, objective_col), "objective")

    plus = Block(s, rows, 3, count_p, 1)
    plus.fill(lambda q, _: objective[2 * q, 0], number_format="0.000000000")
    minus = Block(s, rows, 4, count_p, 1)
    minus.fill(lambda q, _: objective[2 * q + 1, 0], number_format="0.000000000")
    slope = Block(s, rows, 5, count_p, 1)
    slope.fill(
        lambda q, _: (plus[q, 0] - minus[q, 0]) / (2 * step),
        number_format=GRAD,
        note="the central difference: the slope of the objective through p-h and p+h",
    )
    bp = Block(s, rows, 2, count_p, 1)
    diff = Block(s, rows, 6, count_p, 1)
    diff.fill(
        lambda q, _: If(
            max_(abs_(slope[q, 0]), abs_(bp[q, 0])).eq(0),
            0,
            abs_(slope[q, 0] - bp[q, 0]) / max_(abs_(slope[q, 0]), abs_(bp[q, 0])),
        ),
        number_format="0.0E+00",
        note="|difference| / the larger: at h = 1e-5 rounding bounds it (near 1e-9 if right)",
    )
    s.formula("G2", max_(diff.range), number_format="0.0E+00")
    s.freeze = (CHECK_TOP + 1, 1)
    s.width(0, 16.0)
    s.width(1, 14.0, 6)
    s.width(5, 19.0)  # the central difference's header
    t.freeze = (NUDGED_TOP + 1, 2)
    t.width(0, 16.0)
    t.width(2, 11.0, objective_col)  # exps and nudged sums reach -1.4002E+01


def _progress(wb: Workbook, p: BackpropParams, lay: Layout) -> None:
    s = wb.add_sheet("progress")
    for j, text in enumerate(("iteration", "loss", "objective", "accuracy")):
        s.header((0, j), text)
    for t in range(p.iterations):
        s.set((t + 1, 0), float(t + 1), Role.LABEL)
        s.formula((t + 1, 1), Ref("train", lay.top(t), 4), number_format=NUMBER)
        s.formula((t + 1, 2), Ref("train", lay.top(t), 7), number_format=NUMBER)
        s.formula((t + 1, 3), Ref("train", lay.top(t), 10), number_format="0%")
    s.width(0, 12.0, 3)


def charts(p: BackpropParams) -> list[Chart]:
    n = p.iterations
    return [
        Chart(
            "Loss per iteration (mean cross-entropy over the samples)",
            "iteration",
            "loss",
            [Series("loss", ("progress", 1, 0, n, 0), ("progress", 1, 1, n, 1))],
            scatter=True,  # iterations as numbers: the axis labels a few, not each
        ),
        Chart(
            "Training accuracy per iteration",
            "iteration",
            "accuracy",
            [Series("accuracy", ("progress", 1, 0, n, 0), ("progress", 1, 3, n, 3))],
            y_range=(0.0, 1.0),
            y_format="0%",
            scatter=True,  # iterations as numbers: the axis labels a few, not each
        ),
    ]
