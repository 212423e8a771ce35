"""optimizers: torch.optim's optimizers, weight decay, and fastai's learning-rate
tricks (lr_find, 1cycle, discriminative rates), every step a formula.

Sheets: data (the points), batches (which points each step sees), one sheet per
optimizer (a run at its own learning rate and one at the shared rate), race (every
loss side by side), ema_bias, lr_find, one_cycle, and discriminative with the
backprop network trained at two rates (points, disc_train).
"""

from __future__ import annotations

from ...engine import (
    Block,
    Expr,
    If,
    Range,
    Ref,
    Role,
    Sheet,
    Workbook,
    cos,
    index,
    int_,
    match,
    min_,
    na,
    pi,
)
from ...engine.workbook import Chart, Series
from ..backprop.layout import Layout as BackpropLayout
from ..training import add_points, train_network
from .batch_size import Points, add_batch_size, batch_size_charts
from .layout import (
    BATCH_TOP,
    DATA_FIRST_ROW,
    DISC_TABLE,
    DISCRIMINATIVE,
    EMA_SERIES,
    FIND_TOP,
    LR_FIND_STEPS,
    OPTIMIZERS,
    RACE_TOP,
    RUN_TOP,
    SUGGESTED_LR,
    OptimizersParams,
    one_cycle_loss_col,
    race_col,
)
from .runs import OPTIMIZER_RUNS, Run, Start, Value, adam, batch_columns


def build(p: OptimizersParams) -> Workbook:
    wb = Workbook(title="optimizers")
    start, points = _data(wb, p)
    race = wb.add_sheet("race")  # its shared rate first: every optimizer sheet reads it
    note = "every optimizer's right-hand run uses this rate"
    shared_lr = race.input("C1", p.shared_lr, note=note)
    runs = {name: _optimizer(wb, p, name, start, shared_lr.fixed()) for name in OPTIMIZERS}
    _race(race, p, runs)
    wb.move_sheet("race", after=OPTIMIZERS[-1])
    add_batch_size(wb, p, points, (start.a, start.b))
    _ema_bias(wb)
    _lr_find(wb, p, start)
    _one_cycle(wb, p, start)
    _discriminative(wb, p)
    return wb


def _data(wb: Workbook, p: OptimizersParams) -> tuple[Start, Points]:
    s = wb.add_sheet("data")
    s.label("A1", "b")
    b = s.input("C1", p.true_b, note="the true intercept b").fixed()
    s.label("A2", "a")
    a = s.input("C2", p.true_a, note="the true slope a").fixed()
    s.label("E1", "start a")
    start_a = s.input("G1", p.init_a, note="every run starts from this a").fixed()
    s.label("E2", "start b")
    start_b = s.input("G2", p.init_b, note="and this b").fixed()
    s.header((DATA_FIRST_ROW - 1, 0), "point")
    s.header((DATA_FIRST_ROW - 1, 1), "x")
    s.header((DATA_FIRST_ROW - 1, 2), "y")
    numbers, xs, ys = [], [], []
    for i, x_value in enumerate(p.x_values()):
        r = DATA_FIRST_ROW + i
        numbers.append(s.set((r, 0), float(i + 1), Role.LABEL))
        x = s.input((r, 1), x_value, note="x: the original's points" if i == 0 else None)
        if p.data is not None:
            y = s.input((r, 2), float(p.data[i][1]), note="y: your data" if i == 0 else None)
        else:
            y = s.formula((r, 2), b + x * a, note="y = b + x*a" if i == 0 else None)
        xs.append(x)
        ys.append(y)
    s.freeze = (DATA_FIRST_ROW, 0)

    def column(cells: list[Ref]) -> Range:
        return Range(cells[0], cells[-1]).fixed()

    points = Points(column(numbers), column(xs), column(ys))
    x, y = _batches(wb, p, points.x, points.y)
    return Start(start_a, start_b, x, y), points


def batch_rows(p: OptimizersParams) -> int:
    return max(p.iterations, LR_FIND_STEPS)


def _batches(wb: Workbook, p: OptimizersParams, xs: Range, ys: Range) -> tuple[Block, Block]:
    """Each step's points, and their x and y (a row per step)."""
    s = wb.add_sheet("batches")
    b, n = p.batch_size, batch_rows(p)
    s.label(
        "A1",
        f"Which points each step sees: batches of {b}, in order, wrapping around the "
        f"{p.rows} points. Change a point number and every run follows.",
    )
    x0, y0 = batch_columns(p)
    s.header((BATCH_TOP - 1, 0), "iteration")
    for j in range(b):
        s.header((BATCH_TOP - 1, 1 + j), f"point {j + 1}")
        s.header((BATCH_TOP - 1, x0 + j), f"x {j + 1}")
        s.header((BATCH_TOP - 1, y0 + j), f"y {j + 1}")
    for t in range(n):
        s.set((BATCH_TOP + t, 0), float(t + 1), Role.LABEL)
    picks = Block(s, BATCH_TOP, 1, n, b)
    picks.inputs([[float(i + 1) for i in p.batch(t)] for t in range(n)], note="point numbers")
    x, y = Block(s, BATCH_TOP, x0, n, b), Block(s, BATCH_TOP, y0, n, b)
    x.fill(lambda t, j: index(xs, picks[t, j], 1))
    y.fill(lambda t, j: index(ys, picks[t, j], 1))
    s.freeze = (BATCH_TOP, 1)
    return x, y


def _settings(s: Sheet, row: int, items: list[tuple[str, float, str | None]]) -> dict[str, Ref]:
    """Inputs along `row`, each labelled on its left (columns A:B, C:D, ...); their
    cells, absolute."""
    out = {}
    for j, (key, value, note) in enumerate(items):
        s.label((row, 2 * j), key)
        out[key] = s.input((row, 2 * j + 1), value, note=note).fixed()
    return out


def _constant(ref: Ref) -> Value:
    fixed = ref.fixed()
    return lambda t: fixed


def step_numbers(s: Sheet, top: int, count: int, first: int = 1) -> Block:
    """The column of step numbers left of a run, from `first`; runs read it as t."""
    for t in range(count):
        s.set((top + t, 0), float(first + t), Role.LABEL)
    return Block(s, top, 0, count, 1)


def _optimizer(
    wb: Workbook, p: OptimizersParams, name: str, start: Start, shared_lr: Ref
) -> tuple[Run, Run]:
    s = wb.add_sheet(name)
    update, defaults = OPTIMIZER_RUNS[name]
    s.label("A1", "lr")
    own = s.input("B1", p.setting(name), note="this sheet's own learning rate (left run)")
    s.label("C1", "shared lr")
    shared = s.formula(
        "D1", shared_lr, note="the race's learning rate (right run): change it at race!C1"
    )
    wd = {"wd": p.wd} if name in ("adam", "adamw") else {}
    cells = _settings(s, 1, [(k, v, _HYPER_NOTES.get(k)) for k, v in (defaults | wd).items()])
    hyper: dict[str, Value] = {key: _constant(ref) for key, ref in cells.items()}
    s.header((RUN_TOP - 1, 0), "t")
    steps = step_numbers(s, RUN_TOP, p.iterations)
    runs = []
    left = 1
    for lr, title in ((own, "at its own learning rate (B1)"), (shared, "at the shared rate (D1)")):
        run = Run(p, steps, left)
        run.fit(start)
        update(run, hyper, _constant(lr))
        s.header((RUN_TOP - 2, left), f"{name} {title}")
        runs.append(run)
        left += run.width + 1
    s.freeze = (RUN_TOP, 1)
    s.width(1, 11.0, left)
    return runs[0], runs[1]


_HYPER_NOTES = {
    "wd": "weight decay (torch's weight_decay)",
    "momentum": "momentum (torch's default 0 turns it off; 0.9 is usual)",
    "dampening": "dampening: 0 in torch by default; graddesc's form is dampening = momentum",
    "alpha": "alpha: weight of the old average of squared gradients (torch: 0.99)",
    "eps": "eps: keeps the division finite (torch: 1e-8)",
    "beta1": "beta1: weight of the old average of gradients (torch: 0.9)",
    "beta2": "beta2: weight of the old average of squared gradients (torch: 0.999)",
}


def _race(s: Sheet, p: OptimizersParams, runs: dict[str, tuple[Run, Run]]) -> None:
    s.label("A1", "shared learning rate")
    s.label(
        "E1",
        "Each optimizer's batch loss per step: at its own rate (left), at the shared rate "
        "(right). Its own rate is a tuned race; the shared one a fair one.",
    )
    n = p.iterations
    s.header((RACE_TOP - 1, 0), "iteration")
    step_numbers(s, RACE_TOP, n)
    k = len(OPTIMIZERS)
    for j, name in enumerate(OPTIMIZERS):
        for side, run in enumerate(runs[name]):
            col = race_col(j, shared=side == 1)
            s.header((RACE_TOP - 1, col), f"{name} ({'own' if side == 0 else 'shared'})")
            Block(s, RACE_TOP, col, n, 1).fill(lambda t, _, run=run: run.at("loss", t))
    s.width(0, 10.0)
    s.width(1, 19.0, 2 * k + 1)  # room for "nesterov (shared)" in bold


def _ema_bias(wb: Workbook) -> None:
    import numpy as np

    s = wb.add_sheet("ema_bias")
    s.label("A1", "beta")
    beta = s.input("C1", 0.9, note="weight of the old average").fixed()
    s.label(
        "E1",
        "An average that starts at 0 is too small at first: it has seen only a few "
        "values, each weighted (1 - beta). Dividing by 1 - beta^t undoes exactly that.",
    )
    for j, text in enumerate(("t", "value", "EMA from 0", "1 - beta^t", "debiased EMA")):
        s.header((2, j), text)
    rng = np.random.default_rng(5)
    series = np.round(1.0 + 0.3 * rng.normal(size=EMA_SERIES), 2)
    steps = step_numbers(s, 3, EMA_SERIES)
    value, ema, correction, debiased = (steps.right(j, 1) for j in range(4))
    value.inputs([[float(v)] for v in series], note="a noisy series")
    s.formula(
        ema[0, 0],
        (1 - beta) * value[0, 0],
        number_format="0.0000",
        note="beta*0 + (1-beta)*value: the average starts from 0",
    )
    ema.part(1, 0, EMA_SERIES - 1, 1).fill(
        lambda t, _: beta * ema[t, 0] + (1 - beta) * value[t + 1, 0], number_format="0.0000"
    )
    correction.fill(lambda t, _: 1 - beta ** steps[t, 0], number_format="0.0000")
    debiased.fill(
        lambda t, _: ema[t, 0] / correction[t, 0],
        number_format="0.0000",
        note="EMA / (1 - beta^t): Adam's bias correction",
    )
    s.width(0, 8.0)
    s.width(1, 14.0, 4)


def ema_chart() -> Chart:
    t = ("ema_bias", 3, 0, 2 + EMA_SERIES, 0)
    return Chart(
        "Why Adam corrects its averages: an EMA from 0 starts too low",
        "t",
        "value",
        [
            Series(name, t, ("ema_bias", 3, col, 2 + EMA_SERIES, col))
            for name, col in (("value", 1), ("EMA from 0", 2), ("debiased EMA", 4))
        ],
    )


# -- the learning-rate finder -----------------------------------------------------------


def _lr_find(wb: Workbook, p: OptimizersParams, start: Start) -> None:
    s = wb.add_sheet("lr_find")
    n = LR_FIND_STEPS
    bounds = _settings(s, 0, [("start lr", 1e-7, "fastai's start_lr"),
                              ("end lr", 10.0, "fastai's end_lr")])  # fmt: skip
    start_lr, end_lr = bounds["start lr"], bounds["end lr"]
    s.label("E1", "steps")
    steps = s.set("F1", float(n), Role.LABEL).fixed()
    smoothing = _settings(s, 1, [
        ("smoothing", 0.98, "the smoothed loss: beta*avg + (1-beta)*loss"),
        ("stop at", 4.0, "stop once the smoothed loss exceeds this times the best"),
    ])  # fmt: skip
    beta, stop_at = smoothing["smoothing"], smoothing["stop at"]
    s.label(
        "H1",
        "The learning-rate finder: plain SGD whose rate grows exponentially each step, "
        "until the smoothed loss blows up. Pick a rate where the loss still falls fast.",
    )
    s.header((FIND_TOP - 1, 0), "i")
    run = Run(p, step_numbers(s, FIND_TOP, n, first=0), 1)
    i0 = run.steps.fixed_col()[0, 0]
    run.column(
        "lr",
        "lr",
        start_lr * (end_lr / start_lr) ** (i0 / steps),
        note="start * (end/start)^(i/steps): fastai's exponential schedule",
    )
    run.fit(start)
    run.column(
        "avg",
        "average",
        (1 - beta) * run.at("loss", 0),
        lambda t: beta * run.at("avg", t - 1) + (1 - beta) * run.at("loss", t),
    )
    run.column(
        "smooth",
        "smoothed loss",
        run.at("avg", 0) / (1 - beta ** (i0 + 1)),
        note="the average divided by 1 - beta^(i+1): debiased, as in ema_bias",
    )
    run.cols["stop"] = run.col + 1  # read by "best" from the row above
    run.column(
        "best",
        "best so far",
        run.at("smooth", 0),
        lambda t: If(
            run.at("stop", t - 1).eq(1),
            run.at("best", t - 1),
            min_(run.at("best", t - 1), run.at("smooth", t)),
        ),
        note="the lowest smoothed loss so far (frozen once the finder stops)",
    )
    run.column(
        "stop",
        "stopped",
        If(run.at("smooth", 0) > stop_at * run.at("best", 0), 1, 0),
        lambda t: If(
            run.at("stop", t - 1).eq(1),
            1,
            If(run.at("smooth", t) > stop_at * run.at("best", t), 1, 0),
        ),
        note="1 once the smoothed loss exceeds 4 times the best: fastai stops there",
    )
    run.column(
        "plot",
        "plotted",
        run.at("smooth", 0),
        lambda t: If(run.at("stop", t - 1).eq(1), na(), run.at("smooth", t)),
        note="the smoothed loss until the stop (#N/A after: a gap in the chart)",
    )

    def new(k: str, t: int) -> Expr:
        step = run.at(k, t) - run.at("lr", t) * run.at(f"g{k}", t)
        return step if t == 0 else If(run.at("stop", t - 1).eq(1), run.at(k, t), step)

    run.update(new, "p - lr * gradient, until the finder stops")
    smooth, lrs = run.block("smooth").col(0).fixed(), run.block("lr").col(0).fixed()
    s.label("H2", "lowest smoothed loss")
    lowest = s.formula("K2", run.at("best", n - 1).fixed()).fixed()
    s.label("H3", "at lr")
    at_lr = s.formula("K3", index(lrs, match(lowest, smooth, 0), 1), number_format="0.00E+00")
    s.label("M3", "suggested lr")
    s.formula(
        SUGGESTED_LR,
        at_lr.fixed() / 10,
        number_format="0.00E+00",
        note="one tenth of the rate at the lowest smoothed loss over all steps: the lesson's "
        "rule of thumb (fastai's own suggestion leaves out the first and the last points)",
    )
    s.freeze = (FIND_TOP, 1)
    s.width(1, 16.0, run.col)  # past the best rate the loss reaches 1e9, the gradients 1e6
    assert (run.cols["lr"], run.cols["plot"]) == find_columns(p)


def lr_find_chart(p: OptimizersParams) -> Chart:
    last = FIND_TOP + LR_FIND_STEPS - 1
    lr, plot = find_columns(p)
    return Chart(
        "Learning-rate finder: smoothed loss vs learning rate (log scale)",
        "learning rate",
        "smoothed loss (log scale)",
        [
            Series(
                "smoothed loss",
                ("lr_find", FIND_TOP, lr, last, lr),
                ("lr_find", FIND_TOP, plot, last, plot),
            ),
            Series(
                "lowest (suggestion: a tenth of its lr)",
                ("lr_find", 2, 10, 2, 10),
                ("lr_find", 1, 10, 1, 10),
                marker=True,
            ),
        ],
        log_x=True,
        log_y=True,
    )


# -- 1cycle ----------------------------------------------------------------------------
def _anneal(start: Expr, end: Expr, pct: Expr) -> Expr:
    """Cosine annealing from start to end as pct goes 0 -> 1 (fastai's annealing_cos)."""
    return end + (start - end) / 2 * (cos(pi() * pct) + 1)


def _one_cycle(wb: Workbook, p: OptimizersParams, start: Start) -> None:
    s = wb.add_sheet("one_cycle")
    n = p.iterations
    cells = _settings(s, 0, [
        ("lr_max", p.lr_max, "the peak learning rate"),
        ("div_factor", 25.0, "the start is lr_max / div_factor"),
        ("pct_start", 0.3, "the share of steps spent warming up (fastai v1; v2: 0.25)"),
        ("final_div", 1e4, "the end is the start / final_div: fastai v1's lr_max / (25*1e4); "
         "v2's fit_one_cycle ends at lr_max / 1e5"),
    ]) | _settings(s, 1, [
        ("mom_max", 0.95, "momentum (Adam's beta1) at the start and the end"),
        ("mom_min", 0.85, "momentum at the peak learning rate"),
        ("beta2", 0.999, "Adam's beta2"),
        ("eps", 1e-8, "Adam's eps"),
    ])  # fmt: skip
    s.label("A3", "steps")
    steps = s.set("B3", float(n), Role.LABEL).fixed()
    s.label("C3", "warm-up")
    warm = s.formula(
        "D3", int_(steps * cells["pct_start"]), note="INT(steps * pct_start), as fastai counts"
    ).fixed()
    s.label(
        "F3",
        "1cycle: the learning rate rises to lr_max and falls far below the start, while "
        "momentum does the opposite; Adam trains with both, step by step.",
    )
    s.header((RUN_TOP - 1, 0), "t")
    run = Run(p, step_numbers(s, RUN_TOP, n), 1)
    i = run.steps.fixed_col()[0, 0] - 1
    low = cells["lr_max"] / cells["div_factor"]
    up, down = i / warm, (i - warm) / (steps - warm)
    run.column(
        "lr",
        "lr",
        If(i <= warm, _anneal(low, cells["lr_max"], up),
           _anneal(cells["lr_max"], low / cells["final_div"], down)),
        note="cosine from lr_max/div_factor up to lr_max over the warm-up, then down to "
        "lr_max/div_factor/final_div: end + (start-end)/2 * (cos(pi*pct) + 1)",
        number_format="0.000000",
    )  # fmt: skip
    run.column(
        "mom",
        "momentum",
        If(i <= warm, _anneal(cells["mom_max"], cells["mom_min"], up),
           _anneal(cells["mom_min"], cells["mom_max"], down)),
        note="the opposite cosines: down from mom_max to mom_min, then back",
        number_format="0.0000",
    )  # fmt: skip
    run.fit(start)
    zero = s.set("J3", 0.0, Role.LABEL).fixed()
    hyper: dict[str, Value] = {
        "wd": lambda t: zero,
        "beta1": lambda t: run.at("mom", t),
        "beta2": _constant(cells["beta2"]),
        "eps": _constant(cells["eps"]),
    }
    s.label("I3", "wd")
    adam(run, hyper, lambda t: run.at("lr", t))
    assert run.cols["loss"] == one_cycle_loss_col(p)
    s.freeze = (RUN_TOP, 1)
    s.width(1, 11.0, run.col)


def one_cycle_charts(p: OptimizersParams) -> list[Chart]:
    last = RUN_TOP + p.iterations - 1
    loss = one_cycle_loss_col(p)
    t = ("one_cycle", RUN_TOP, 0, last, 0)
    return [
        Chart("1cycle: learning rate per step", "step", "lr",
              [Series("lr", t, ("one_cycle", RUN_TOP, 1, last, 1))]),
        Chart("1cycle: momentum (Adam's beta1) per step", "step", "momentum",
              [Series("momentum", t, ("one_cycle", RUN_TOP, 2, last, 2))]),
        Chart("1cycle: Adam's batch loss per step under the schedule", "step",
              "loss (log scale)", [Series("loss", t, ("one_cycle", RUN_TOP, loss, last, loss))],
              log_y=True),
    ]  # fmt: skip


# -- discriminative learning rates ------------------------------------------------------
def _discriminative(wb: Workbook, p: OptimizersParams) -> None:
    s = wb.add_sheet("discriminative")
    s.label("A1", "a")
    a = s.input("B1", 0.05, note="slice(a, b): the first layer group's rate").fixed()
    s.label("C1", "b")
    b = s.input("D1", 0.5, note="slice(a, b) and slice(b): the last layer group's rate").fixed()
    s.label("A2", "slice(b): the other groups get b /")
    div = s.input(
        "D2",
        p.slice_div,
        note="3 in fastai v1 up to 1.0.28 (the lesson's notes); 10 from 1.0.29 and in v2",
    ).fixed()
    s.label(
        "F1",
        "fastai's slice: slice(a, b) spreads rates geometrically from a to b over the layer "
        "groups; slice(b) gives b/D2 to every group but the last (D2's note: which fastai).",
    )
    table = (("a CNN with 3 groups", 3), ("the network of disc_train: 2 groups", 2))
    row = 2
    rates = []
    for title, groups in table:
        s.header((row, 0), title)
        for j, text in enumerate(("group", "slice(a, b)", "slice(b)")):
            s.header((row + 1, j), text)
        s.label((row + 1, 4), "groups")
        count = s.set((row + 1, 5), float(groups), Role.LABEL).fixed()
        rates = []
        for g in range(groups):
            r = row + 2 + g
            group = s.set((r, 0), float(g + 1), Role.LABEL)
            rate = a * (b / a) ** ((group - 1) / (count - 1))
            rates.append(s.formula((r, 1), rate, number_format="0.0000"))
            s.formula((r, 2), If(group.eq(count), b, b / div), number_format="0.0000")
        row += 3 + groups
    s.label((row, 0), "disc_train trains the backprop network with the slice(a, b) rates above.")
    s.width(0, 34.0)
    s.width(1, 12.0, 2)
    points = add_points(wb, DISCRIMINATIVE, "points")

    def write(sheet: Sheet) -> tuple[Ref, Ref]:
        sheet.label("A1", "lr, hidden layer")
        first = sheet.formula("C1", rates[0], note="group 1's rate, from the discriminative sheet")
        sheet.label("A2", "lr, output layer")
        second = sheet.formula("C2", rates[1], note="group 2's rate")
        return first, second

    lay = BackpropLayout(DISCRIMINATIVE)
    trained = train_network(wb, DISCRIMINATIVE, lay, points, "disc_train", write)
    s.header((DISC_TABLE - 1, 0), "step")
    s.header((DISC_TABLE - 1, 1), "loss")
    for t, loss in enumerate(trained.loss):
        s.set((DISC_TABLE + t, 0), float(t + 1), Role.LABEL)
        s.formula((DISC_TABLE + t, 1), loss, number_format="0.0000")


def discriminative_chart() -> Chart:
    n = DISCRIMINATIVE.iterations
    return Chart(
        "disc_train: the backprop network trained with one rate per layer group",
        "step",
        "loss",
        [Series("loss", ("discriminative", DISC_TABLE, 0, DISC_TABLE + n - 1, 0),
                ("discriminative", DISC_TABLE, 1, DISC_TABLE + n - 1, 1))],
    )  # fmt: skip


def find_columns(p: OptimizersParams) -> tuple[int, int]:
    """lr_find's columns of the learning rate and the plotted loss (0-based)."""
    return 1, 11 + p.batch_size


def charts(p: OptimizersParams) -> list[Chart]:
    """The front sheet's: the race at the shared rate, each at its own, the schedules."""
    last = RACE_TOP + p.iterations - 1
    t = ("race", RACE_TOP, 0, last, 0)

    def series(shared: bool) -> list[Series]:
        return [Series(name, t, ("race", RACE_TOP, col, last, col))
                for j, name in enumerate(OPTIMIZERS) for col in [race_col(j, shared)]]  # fmt: skip

    own, shared = series(False), series(True)
    return [
        Chart("Fair race: every optimizer at the shared learning rate (race, C1): batch loss",
              "step", "loss (log scale)", shared, log_y=True),
        Chart("Each optimizer at its own learning rate: batch loss", "step",
              "loss (log scale)", own, log_y=True),
        *batch_size_charts(p),
        ema_chart(),
        lr_find_chart(p),
        *one_cycle_charts(p),
        discriminative_chart(),
    ]  # fmt: skip
