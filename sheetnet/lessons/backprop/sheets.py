"""backprop: a network with one hidden ReLU layer, its gradients by the chain rule,
checked by finite differences that the spreadsheet computes itself.

Every iteration is a block: the forward pass and then the backward pass per
sample, left to right in the order the chain rule runs, then the gradients and
the parameters after the step. See layout.py for where things sit.
"""

from __future__ import annotations

from ...engine import (
    Block,
    If,
    Range,
    Role,
    Workbook,
    abs_,
    average,
    exp,
    index,
    ln,
    max_,
    sum_,
    sumproduct,
    sumsq,
)
from ...engine.workbook import Chart, Series
from ..training import GRAD, NUMBER, Points, Trained, add_points, train_network
from .layout import (
    CHECK_TOP,
    CLASSES,
    INPUTS,
    NUDGED_TOP,
    SAMPLES,
    BackpropParams,
    Layout,
    parameter_names,
)


def build(p: BackpropParams) -> Workbook:
    lay = Layout(p)
    wb = Workbook(title="backprop")
    points = add_points(wb, p)
    trained = train_network(wb, p, lay, points)
    _gradcheck(wb, lay, points, trained)
    _progress(wb, trained)
    return wb


# -- the gradient check ---------------------------------------------------------------------
def _gradcheck(wb: Workbook, lay: Layout, points: Points, trained: Trained) -> None:
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
    start, grads = trained.start.flat(), trained.first_gradient.flat()
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
    x, y = points.x, points.y
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
    wd = trained.wd
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


def _progress(wb: Workbook, trained: Trained) -> None:
    s = wb.add_sheet("progress")
    for j, text in enumerate(("iteration", "loss", "objective", "accuracy")):
        s.header((0, j), text)
    steps = zip(trained.loss, trained.objective, trained.accuracy)
    for t, (loss, objective, accuracy) in enumerate(steps):
        s.set((t + 1, 0), float(t + 1), Role.LABEL)
        s.formula((t + 1, 1), loss, number_format=NUMBER)
        s.formula((t + 1, 2), objective, number_format=NUMBER)
        s.formula((t + 1, 3), accuracy, number_format="0%")
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
