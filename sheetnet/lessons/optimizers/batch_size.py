"""The batch_size sheet: one model trained three times for the same epochs, a point at
a time (SGD), a mini-batch at a time and the whole set at once (batch gradient descent).

An epoch is one pass over the points; an iteration is one step. With N points and
batches of B, an epoch takes INT((N + B - 1) / B) iterations (the last batch may be
smaller): the lesson's 50,000 images in batches of 100 make 500 iterations an epoch.
Each step's batch is a range of point numbers, so one SUMPRODUCT with a mask over the
data sheet's points gives its loss and gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...engine import Block, Range, Ref, Role, Sheet, Workbook, count, index, int_, min_, sumproduct
from ...engine.workbook import Chart, Series
from .layout import (
    BATCH_RUN_COLUMNS,
    OptimizersParams,
    batch_epoch_top,
    batch_run_left,
    batch_run_top,
    batch_sizes,
    iterations_per_epoch,
)

KINDS = ("SGD", "mini-batch", "batch GD")
NOTES = {
    "epoch": "the pass over the points this step belongs to: INT((t-1)/iterations per epoch)+1",
    "first": "the batch's first point: where this step starts within its epoch",
    "last": "its last point: B further on, or the last point (the epoch's last batch is short)",
    "loss": "the batch's mean squared error, before the step: SUMPRODUCT over the points "
    "between first and last",
    "ga": "dL/da: mean of 2*error*x over the batch",
    "gb": "dL/db: mean of 2*error over the batch",
    "a'": "a - lr * dL/da",
    "all": "the loss on all the points after this step: what an epoch's chart shows",
}


@dataclass(frozen=True)
class Points:
    """The data sheet's points as ranges (absolute): their numbers, x and y."""

    number: Range
    x: Range
    y: Range


def add_batch_size(
    wb: Workbook, p: OptimizersParams, points: Points, start: tuple[Ref, Ref]
) -> None:
    s = wb.add_sheet("batch_size")
    s.label("A1", "learning rate")
    lr = s.input("C1", p.batch_lr, note="one rate for the three runs").fixed()
    s.label("D1", "points")
    n = s.formula("E1", count(points.x), note="N: the points in an epoch").fixed()
    s.label(
        "G1",
        f"The same line fitted for {p.batch_epochs} epochs three ways: a point a time, "
        f"batches of {p.batch_size}, all {p.rows} points at once. Small batches step often "
        "and noisily; the whole set steps once an epoch.",
    )
    top = batch_epoch_top()
    s.header((top - 1, 0), "epoch")
    for e in range(p.batch_epochs):
        s.set((top + e, 0), float(e + 1), Role.LABEL)
    for r, (b, kind) in enumerate(zip(batch_sizes(p), KINDS)):
        loss, k = _run(s, p, r, b, kind, lr, n, points, start)
        s.header((top - 1, 1 + r), f"{kind}, batch {b}")
        Block(s, top, 1 + r, p.batch_epochs, 1).fill(
            lambda e, _, loss=loss, k=k: index(loss, (e + 1) * k, 1),
            number_format="0.000",
            note="the loss on all points after each epoch's last iteration" if r == 0 else None,
        )
    s.width(0, 10.0, 3 * (len(BATCH_RUN_COLUMNS) + 1))


def _run(
    s: Sheet,
    p: OptimizersParams,
    r: int,
    b: int,
    kind: str,
    lr: Ref,
    n: Ref,
    points: Points,
    start: tuple[Ref, Ref],
) -> tuple[Range, Ref]:
    """Run r (batch size b): its title, its iterations per epoch, one row per iteration;
    returns its all-points loss column (absolute) and its iterations per epoch."""
    left, top = batch_run_left(r), batch_run_top(p)
    rows = iterations_per_epoch(p, b) * p.batch_epochs
    s.header((top - 4, left), f"{kind}: batch size")
    size = s.set((top - 4, left + 3), float(b), Role.LABEL).fixed()
    s.label((top - 3, left), "iterations per epoch")
    k = s.formula((top - 3, left + 3), int_((n + size - 1) / size), note="INT((N + B - 1) / B)")
    k = k.fixed()
    cols = {name: left + j for j, name in enumerate(BATCH_RUN_COLUMNS)}
    for name, col in cols.items():
        s.header((top - 1, col), name)

    def column(name: str) -> Block:
        return Block(s, top, cols[name], rows, 1)

    t = column("t")
    for i in range(rows):
        s.set((top + i, cols["t"]), float(i + 1), Role.LABEL)
    step = t.fixed_col()
    done = int_((step[0, 0] - 1) / k)  # whole epochs before this step
    column("epoch").fill_like(done + 1, note=NOTES["epoch"])
    first = column("first")
    first.fill_like((step[0, 0] - 1 - k * done) * size + 1, note=NOTES["first"])
    last = column("last")
    last.fill_like(min_(first[0, 0] + size - 1, n), note=NOTES["last"])
    a, bb = column("a"), column("b")
    a_new, b_new = column("a'"), column("b'")
    s.formula(a[0, 0], start[0], number_format="0.0000")
    s.formula(bb[0, 0], start[1], number_format="0.0000")
    if rows > 1:
        a.part(1, 0, rows - 1, 1).fill_like(a_new[0, 0], number_format="0.0000")
        bb.part(1, 0, rows - 1, 1).fill_like(b_new[0, 0], number_format="0.0000")
    mask = (points.number >= first[0, 0]) * (points.number <= last[0, 0])
    error = a[0, 0] * points.x + bb[0, 0] - points.y
    size_now = last[0, 0] - first[0, 0] + 1
    column("loss").fill_like(
        sumproduct(mask, error, error) / size_now, number_format="0.000", note=NOTES["loss"]
    )
    ga, gb = column("dL/da"), column("dL/db")
    ga.fill_like(2 * sumproduct(mask, error, points.x) / size_now, number_format="0.000",
                 note=NOTES["ga"])  # fmt: skip
    gb.fill_like(2 * sumproduct(mask, error) / size_now, number_format="0.000", note=NOTES["gb"])
    a_new.fill_like(a[0, 0] - lr * ga[0, 0], number_format="0.0000", note=NOTES["a'"])
    b_new.fill_like(bb[0, 0] - lr * gb[0, 0], number_format="0.0000")
    after = a_new[0, 0] * points.x + b_new[0, 0] - points.y
    every = column("loss, all points")
    every.fill_like(sumproduct(after, after) / n, number_format="0.000", note=NOTES["all"])
    return every.col(0).fixed(), k


def batch_size_charts(p: OptimizersParams) -> list[Chart]:
    """Loss on all points per epoch (the three side by side) and per iteration."""
    top = batch_epoch_top()
    last = top + p.batch_epochs - 1
    epochs = ("batch_size", top, 0, last, 0)
    sizes = batch_sizes(p)
    per_epoch = [
        Series(f"{kind}, batch {b}", epochs, ("batch_size", top, 1 + r, last, 1 + r))
        for r, (b, kind) in enumerate(zip(sizes, KINDS))
    ]
    run_top = batch_run_top(p)
    per_step = []
    for r, (b, kind) in enumerate(zip(sizes, KINDS)):
        end = run_top + iterations_per_epoch(p, b) * p.batch_epochs - 1
        t = batch_run_left(r)
        loss = t + BATCH_RUN_COLUMNS.index("loss, all points")
        per_step.append(Series(f"{kind}, batch {b}", ("batch_size", run_top, t, end, t),
                               ("batch_size", run_top, loss, end, loss)))  # fmt: skip
    return [
        Chart("Batch size: loss on all points after each epoch", "epoch",
              "loss (log scale)", per_epoch, log_y=True),
        Chart("Batch size: loss on all points after each iteration", "iteration",
              "loss (log scale)", per_step, log_y=True),
    ]  # fmt: skip
