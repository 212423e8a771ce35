"""regularisation: a polynomial of high degree fitted to a dozen noisy samples by
gradient descent, three times (no weight decay, a good one, too much), beside a
polynomial of low degree; bias and variance on one chart.

See layout.py for where things sit. Every run sheet is built by one function; the
data, curves and summary sheets read and compare them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...engine import (
    Block,
    Expr,
    Ref,
    Role,
    Sheet,
    Workbook,
    cos,
    lift,
    max_,
    min_,
    pi,
    sqrt,
    sum_,
    sumproduct,
    sumsq,
)
from ...engine.workbook import Chart, Series
from .layout import (
    DATA_TOP,
    GRID,
    GRID_TOP,
    LR_CELL,
    RUN_TOP,
    SUMMARY,
    SUMMARY_TOP,
    VALID,
    Layout,
    RegularisationParams,
    Run,
    runs,
    samples,
)

NUMBER = "0.0000"
GRAD = "0.000000"
TINY = "0.0E+00"
NOTES = {
    "p": "Legendre polynomial: P1 = x, P2 = (3x·P1 - 1)/2, "
    "Pk = ((2k-1)·x·P(k-1) - (k-1)·P(k-2))/k. A polynomial of degree k like x^k, but "
    "the Pk do not look alike as x^k and x^(k+2) do, so gradient descent can tell them apart",
    "f": "feature Fk = Pk·SQRT(2k+1): every feature has mean square 1 over [-1, 1], so one "
    "learning rate suits them all",
    "turned": "the training features turned, one row per feature: SUMPRODUCT pairs a row with "
    "a row, so each gradient reads a feature's row against the residuals' row",
    "w": "w = w - lr·(dMSE/dw + 2·wd·w): the gradient of MSE + wd·(sum of w²), the L2 term in "
    "the loss (the previous row's weights and gradient)",
    "r": "residual: w0 + SUMPRODUCT(w1..wd, this sample's features) - y",
    "v": "the same residual for a validation sample: data the fit never trains on",
    "train_loss": "mean squared error over the training samples: SUMSQ(residuals)/samples",
    "valid_loss": "mean squared error over the validation samples",
    "size": "sum of the weights squared: what weight decay keeps small",
    "objective": "what the steps descend: training loss + wd · (sum of w²)",
    "grad": "dMSE/dwk = 2 · SUMPRODUCT(residuals, feature k's row)/samples (w0: its feature is 1)",
    "decoupled": "the same step the other way: shrink the weights by (1 - lr·2·wd), then step by "
    "the loss's gradient alone. For plain gradient descent this is the L2 step exactly; for Adam "
    "it is not (AdamW, sheet adamw of the optimizers workbook)",
    "diff": "the next row's weights (the L2 way) minus this block (the decoupled way): zero but "
    "for the last bit of rounding",
}


def build(p: RegularisationParams) -> Workbook:
    lay = Layout(p)
    wb = Workbook(title="regularisation")
    data = _data(wb, p, lay)
    fits = [_run(wb, p, lay, run, data) for run in runs(p)]
    _curves(wb, p, lay, fits)
    _summary(wb, p, lay, fits)
    return wb


@dataclass(frozen=True)
class Features:
    """A set of samples on a sheet: x, y and the features F1..Fd (one row per sample)."""

    x: Block
    y: Block | None
    f: Block


@dataclass(frozen=True)
class Data:
    lr: Ref
    train: Features
    valid: Features
    turned: Block  # the training features, one row per feature


def _features(s: Sheet, x: Block, p_left: int, f_left: int, degree: int, notes: bool) -> Block:
    """Legendre polynomials P1..Pd of the column x by their recurrence, and the scaled
    features beside them; returns the features."""
    rows = x.rows
    P = Block(s, x.top, p_left, rows, degree)
    X = x.fixed_col()

    def legendre(i: int, j: int) -> Expr:
        k = j + 1
        if k == 1:
            return X[i, 0]
        before = P[i, j - 2] if k > 2 else 1
        return ((2 * k - 1) * X[i, 0] * P[i, j - 1] - (k - 1) * before) / k

    P.fill(legendre, note=NOTES["p"] if notes else None, number_format=NUMBER)
    P.headers([f"P{k}" for k in range(1, degree + 1)])
    F = Block(s, x.top, f_left, rows, degree)
    F.fill(lambda i, j: P[i, j] * sqrt(2 * j + 3), note=NOTES["f"] if notes else None,
           number_format=NUMBER)  # fmt: skip
    F.headers([f"F{k}" for k in range(1, degree + 1)])
    return F


def _data(wb: Workbook, p: RegularisationParams, lay: Layout) -> Data:
    s = wb.add_sheet("data")
    d = p.degree
    s.label(
        "A1",
        f"{p.samples} noisy samples of cos(πx) to fit, {VALID} more to validate the fit on, and "
        "the features of each: a polynomial of degree d is w0 + w1·F1 + ... + wd·Fd.",
    )
    s.label("A2", "learning rate")
    lr = s.input(LR_CELL, p.lr, note="lr: every run's steps use it")
    x, y, xv, yv = samples(p)
    sets = []
    for top, xs, ys, title in ((lay.train_top, x, y, "training samples"),
                               (lay.valid_top, xv, yv, "validation samples")):  # fmt: skip
        n = len(xs)
        s.header((top - 2, 0), title)
        for i in range(n):
            s.set((top + i, lay.data["sample"]), float(i + 1), Role.LABEL)
        s.header((top - 1, lay.data["sample"]), "sample")
        X = Block(s, top, lay.data["x"], n, 1)
        Y = Block(s, top, lay.data["y"], n, 1)
        first = top == lay.train_top
        X.inputs([[v] for v in xs], note="x: where the sample is read" if first else None,
                 number_format="0.00")  # fmt: skip
        Y.inputs([[v] for v in ys], note="y = cos(πx) + noise, from the seed" if first else None,
                 number_format="0.000")  # fmt: skip
        X.headers(["x"])
        Y.headers(["y"])
        F = _features(s, X, lay.data["p"], lay.data["f"], d, first)
        sets.append(Features(X, Y, F))
    train, valid = sets
    T = Block(s, lay.turned_top, lay.data["turned"], d, p.samples)
    s.header((lay.turned_top - 2, 0), "training features, turned")
    F = train.f
    T.fill(lambda k, i: F[i, k], note=NOTES["turned"], number_format=NUMBER)
    T.headers([f"sample {i + 1}" for i in range(p.samples)])
    T.row_labels([f"F{k}" for k in range(1, d + 1)])
    s.freeze = (DATA_TOP, 3)
    s.width(0, 16.0)
    s.width(1, 9.0, lay.width)
    return Data(lr.fixed(), train, valid, T)


@dataclass(frozen=True)
class Fit:
    """A run sheet's blocks that other sheets read."""

    run: Run
    wd: Ref
    w: Block  # steps + 1 rows of weights w0..wD
    train_loss: Block
    valid_loss: Block
    size: Block
    diff: Block

    @property
    def final(self) -> Block:
        """The weights after the last step (one row)."""
        return self.w.part(self.w.rows - 1, 0, 1, self.w.cols)


def _residuals(R: Block, W: Block, data: Features) -> None:
    """R[t, i] = w0 + SUMPRODUCT(w1..wD, sample i's features) - y_i, for weights row t."""
    d = W.cols - 1
    w = W.fixed_col()
    w0, w1_d = w.part(0, 0, W.rows, 1), w.part(0, 1, W.rows, d)
    F = data.f.fixed().part(0, 0, data.f.rows, d)
    y = data.y.fixed()
    R.fill_columns(lambda i: w0[0, 0] + sumproduct(w1_d.row(0), F.row(i)) - y[i, 0])


def _run(wb: Workbook, p: RegularisationParams, lay: Layout, run: Run, data: Data) -> Fit:
    s = wb.add_sheet(run.sheet)
    col = lay.col(run.degree)
    n, steps, rows = run.degree + 1, p.steps, p.steps + 1
    s.label("A1", "weight decay")
    wd = s.input("C1", run.wd, note="wd: the loss is MSE + wd·(sum of w²)").fixed()
    s.label("E1", f"{run.title}: {steps} steps of gradient descent on all {p.samples} samples "
            f"at the learning rate data!{LR_CELL}.")  # fmt: skip
    s.label("A2", "One row per step: the weights it starts from, how well they fit, the "
            "gradient, and the step written two ways (the L2 term in the loss, or the weights "
            "shrunk first) that agree to the last bit.")  # fmt: skip
    lr = data.lr
    for t in range(rows):
        s.set((lay.row(t), col["step"]), float(t), Role.LABEL)
    s.header((RUN_TOP - 1, col["step"]), "step")

    def block(name: str, width: int, height: int = rows) -> Block:
        return Block(s, RUN_TOP, col[name], height, width)

    W, G = block("w", n), block("grad", n, steps)
    D, Diff = block("decoupled", n, steps), block("diff", n, steps)
    R, V = block("r", p.samples), block("v", VALID)
    train_loss, valid_loss = block("train_loss", 1), block("valid_loss", 1)
    size, objective = block("size", 1), block("objective", 1)
    W.part(0, 0, 1, n).inputs([[0.0] * n], note="the start: every weight 0", number_format=NUMBER)
    before = W.part(0, 0, steps, n)
    after = W.part(1, 0, steps, n)
    after.fill_like(before[0, 0] - lr * (G[0, 0] + 2 * wd * before[0, 0]), note=NOTES["w"],
                    number_format=NUMBER)  # fmt: skip
    _residuals(R, W, data.train)
    _residuals(V, W, data.valid)
    R.headers([f"r{i + 1}" for i in range(p.samples)])
    V.headers([f"valid r{i + 1}" for i in range(VALID)])
    s.set((RUN_TOP - 1, col["r"]), "r1", Role.HEADER, NOTES["r"])
    s.set((RUN_TOP - 1, col["v"]), "valid r1", Role.HEADER, NOTES["v"])
    Rc, Vc = R.fixed_col(), V.fixed_col()
    train_loss.fill_like(sumsq(Rc.row(0)) / p.samples, NOTES["train_loss"], NUMBER)
    valid_loss.fill_like(sumsq(Vc.row(0)) / VALID, NOTES["valid_loss"], NUMBER)
    Wc = W.fixed_col()
    size.fill_like(sumsq(Wc.row(0)), NOTES["size"], NUMBER)
    objective.fill_like(train_loss[0, 0] + wd * size[0, 0], NOTES["objective"], NUMBER)
    T = data.turned.fixed()
    G.fill_columns(
        lambda k: (
            (2 * sum_(Rc.row(0)) if k == 0 else 2 * sumproduct(Rc.row(0), T.row(k - 1))) / p.samples
        ),
        note=NOTES["grad"],
        number_format=GRAD,
    )
    D.fill_like(W[0, 0] * (1 - lr * 2 * wd) - lr * G[0, 0], NOTES["decoupled"], NUMBER)
    Diff.fill_like(after[0, 0] - D[0, 0], NOTES["diff"], TINY)
    W.headers([f"w{k}" for k in range(n)])
    G.headers([f"dMSE/dw{k}" for k in range(n)])
    D.headers([f"w{k} decoupled" for k in range(n)])
    Diff.headers([f"w{k}: L2 - decoupled" for k in range(n)])
    for name, text in (("train_loss", "train loss"), ("valid_loss", "validation loss"),
                       ("size", "sum of w²"), ("objective", "objective")):  # fmt: skip
        s.header((RUN_TOP - 1, col[name]), text)
    s.freeze = (RUN_TOP, 1)
    s.width(0, 8.0)
    s.width(1, 10.0, col["end"])
    s.width(col["valid_loss"], 14.0, col["size"])  # "validation loss", "sum of w²" whole
    s.width(col["diff"], 14.0, col["diff"] + n - 1)
    return Fit(run, wd, W, train_loss, valid_loss, size, Diff)


def _curves(wb: Workbook, p: RegularisationParams, lay: Layout, fits: list[Fit]) -> None:
    s = wb.add_sheet("curves")
    c = lay.curves
    s.label("A1", f"Each run's final polynomial on {GRID} points from -1 to 1, against the "
            "true curve cos(πx) the samples were read from.")  # fmt: skip
    X = Block(s, GRID_TOP, c["x"], GRID, 1)
    X.fill(lambda i, _: -1 + (2 * i) / lift(GRID - 1), number_format="0.000")
    X.headers(["x"])
    true = Block(s, GRID_TOP, c["true"], GRID, 1)
    true.fill_like(cos(pi() * X[0, 0]), note="the true curve, cos(πx)", number_format=NUMBER)
    true.headers(["cos(πx)"])
    F = _features(s, X, c["p"], c["f"], p.degree, notes=False)
    Fc = F.fixed_col()
    for j, fit in enumerate(fits):
        d = fit.w.cols - 1
        w = fit.final.fixed()
        w0, w1_d = w[0, 0], w.part(0, 1, 1, d).row(0)
        features = Fc.part(0, 0, GRID, d)
        curve = Block(s, GRID_TOP, c["fit"] + j, GRID, 1)
        curve.fill_like(w0 + sumproduct(w1_d, features.row(0)),
                        note="w0 + SUMPRODUCT(the run's final weights, the features)"
                        if j == 0 else None, number_format=NUMBER)  # fmt: skip
        curve.headers([fit.run.sheet])
    s.freeze = (GRID_TOP, 1)
    s.width(0, 9.0, c["fit"] + len(fits))


def _summary(wb: Workbook, p: RegularisationParams, lay: Layout, fits: list[Fit]) -> None:
    s = wb.add_sheet("summary")
    s.label("A1", "Each run after its last step: training loss falls as the polynomial bends "
            "closer to the samples, validation loss says whether that helped.")  # fmt: skip
    s.header((SUMMARY_TOP - 1, lay.summary["run"]), "run")
    for text in SUMMARY:
        s.header((SUMMARY_TOP - 1, lay.summary[text]), text)
    table = Block(s, SUMMARY_TOP, lay.summary[SUMMARY[0]], len(fits), len(SUMMARY))
    for i, fit in enumerate(fits):
        s.label((SUMMARY_TOP + i, lay.summary["run"]), fit.run.title)
        last = fit.w.rows - 1
        diff = fit.diff.range
        cells = (fit.wd, fit.train_loss.fixed()[last, 0], fit.valid_loss.fixed()[last, 0],
                 fit.size.fixed()[last, 0], max_(max_(diff), -min_(diff)))  # fmt: skip
        for j, expr in enumerate(cells):
            fmt = TINY if j == len(cells) - 1 else NUMBER
            s.formula((table.top + i, table.left + j), expr, number_format=fmt)
    good, low = fits[1], fits[3]
    verdict_row = lay.verdict_row
    valid = SUMMARY.index("validation loss")
    s.label(
        (verdict_row, lay.summary["run"]),
        f"validation loss: degree {low.run.degree} minus degree {good.run.degree} with wd",
        note=f"{low.run.title} minus {good.run.title}: above 0, the big polynomial with weight "
        "decay generalises better than the small one without",
    )
    s.formula((verdict_row, lay.summary["validation loss"]), table[3, valid] - table[1, valid],
              number_format=NUMBER)  # fmt: skip
    top = lay.weights_top
    s.header((top - 1, lay.weights["k"]), "final weights")
    for i in range(p.degree + 1):
        s.set((top + i, lay.weights["k"]), float(i), Role.LABEL)
    for j, fit in enumerate(fits):
        final = fit.final.fixed()
        s.header((top - 1, lay.weights["run"] + j), fit.run.sheet)
        Block(s, top, lay.weights["run"] + j, fit.w.cols, 1).fill(
            lambda k, _, w=final: w[0, k], number_format=NUMBER
        )
    s.width(0, 44.0)
    s.width(1, 14.0, len(SUMMARY) + 1)
    s.width(lay.summary[SUMMARY[-1]], 22.0)


def _column(sheet: str, col: int, first: int, last: int) -> tuple[str, int, int, int, int]:
    return (sheet, first, col, last, col)


def charts(p: RegularisationParams) -> list[Chart]:
    lay = Layout(p)
    first, last = lay.row(0), lay.row(p.steps)

    def per_step(run: Run, name: str, label: str) -> Series:
        col = lay.col(run.degree)
        return Series(label, _column(run.sheet, col["step"], first, last),
                      _column(run.sheet, col[name], first, last))  # fmt: skip

    big_runs, low = runs(p)[:3], runs(p)[3]
    losses = [
        per_step(run, name, f"{run.sheet} {what}")
        for run in big_runs
        for name, what in (("train_loss", "train"), ("valid_loss", "validation"))
    ]
    losses.append(per_step(low, "valid_loss", f"{low.sheet} validation"))  # fmt: skip
    sizes = [per_step(run, "size", run.sheet) for run in runs(p)]
    c = lay.curves
    g = (GRID_TOP, GRID_TOP + GRID - 1)
    grid_x = _column("curves", c["x"], *g)
    t = (lay.train_top, lay.train_top + p.samples - 1)
    curves = [
        Series("true cos(πx)", grid_x, _column("curves", c["true"], *g)),
        Series("training samples", _column("data", lay.data["x"], *t),
               _column("data", lay.data["y"], *t), marker=True),
    ]  # fmt: skip
    curves += [Series(run.sheet, grid_x, _column("curves", c["fit"] + j, *g))
               for j, run in enumerate(runs(p))]  # fmt: skip
    top = lay.weights_top
    weights = [Series(run.sheet, _column("summary", lay.weights["k"], top, top + p.degree),
                      _column("summary", lay.weights["run"] + j, top, top + p.degree))
               for j, run in enumerate(runs(p))]  # fmt: skip
    return [
        Chart(
            "Loss per step: training falls; validation says whether that helped",
            "step",
            "mean squared error (log scale)",
            losses,
            log_y=True,
            scatter=True,
        ),
        Chart(
            "Fitted polynomials, the true curve and the samples",
            "x",
            "y",
            curves,
            scatter=True,
            x_range=(-1.0, 1.0),
        ),
        Chart("Size of the weights (sum of w²) per step", "step", "sum of w²", sizes, scatter=True),
        Chart("Final weights w0..wd of each run", "k", "wk", weights),
    ]
