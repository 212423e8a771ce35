"""A training run of y = a*x + b: one row per iteration, one column per quantity.

Every run reads its mini-batch from the batches sheet, computes the residuals, the
loss and the gradients, and then its optimizer's columns, ending with the new a
and b that the next row starts from. The optimizers follow torch.optim's code to
the order of its floating-point operations, so a run equals PyTorch's bit for bit
or nearly; where a textbook form reads better (Adam's m̂ and v̂), it is shown in its
own column beside the step that PyTorch computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...engine import Block, Expr, Range, Ref, sqrt, sum_, sumproduct
from .layout import OptimizersParams

SCIENTIFIC = "0.000E+00"
FORMATS = {  # a column's number format by its name, readable at the magnitudes each has
    **dict.fromkeys(["a", "b", "a'", "b'", "wa", "wb", "bc1", "bc2", "mom"], "0.0000"),
    **dict.fromkeys(["loss", "ga", "gb", "da", "db", "bufa", "bufb", "na", "nb"], "0.000"),
    **dict.fromkeys(["avg", "smooth", "best", "plot"], "0.000"),
    **dict.fromkeys(["ma", "mb", "va", "vb", "mha", "mhb", "vha", "vhb", "lr"], SCIENTIFIC),
}
Rest = Callable[[int], Expr]  # iteration t (0-based, t >= 1) -> its formula


@dataclass(frozen=True)
class Start:
    """What every run reads: the starting a and b (absolute), and each step's batch,
    step t's x and y values in row t of the batches sheet."""

    a: Ref
    b: Ref
    x: Block
    y: Block


def batch_columns(p: OptimizersParams) -> tuple[int, int]:
    """0-based first columns of the batch's x values and y values on the batches sheet."""
    b = p.batch_size
    return 1 + b, 1 + 2 * b


class Run:
    """Columns of a run, added left to right from column `left`, beside `steps` (the
    column of step numbers), one row per step."""

    def __init__(self, p: OptimizersParams, steps: Block, left: int) -> None:
        self.s, self.p, self.steps, self.left, self.col = steps.sheet, p, steps, left, left
        self.top, self.rows = steps.top, steps.rows
        self.cols: dict[str, int] = {}

    def block(self, name: str) -> Block:
        """Column `name`, every step."""
        return Block(self.s, self.top, self.cols[name], self.rows, 1)

    def at(self, name: str, t: int) -> Ref:
        """The cell of column `name` at iteration t (0-based)."""
        return self.block(name)[t, 0]

    def column(
        self,
        name: str,
        header: str,
        first: Expr,
        rest: Rest | None = None,
        note: str | None = None,
        number_format: str | None = None,
    ) -> None:
        """A column: `first` at iteration 0, `rest(t)` below it (filled down), or
        `first` filled down the whole run when `rest` is None."""
        col = self.cols[name] = self.col
        self.col += 1
        self.s.header((self.top - 1, col), header, note)
        number_format = number_format or FORMATS.get(name)
        if rest is None:
            base = first
            Block(self.s, self.top, col, self.rows, 1).fill(
                lambda t, _: base.shift(t), number_format=number_format
            )
            return
        self.s.formula((self.top, col), first, number_format=number_format)
        if self.rows > 1:
            Block(self.s, self.top + 1, col, self.rows - 1, 1).fill(
                lambda t, _: rest(t + 1), number_format=number_format
            )

    def carried(self, name: str, header: str, start: Ref, after: str) -> None:
        """A parameter: `start` at iteration 0, then the previous row's `after`."""
        col = self.cols[name] = self.col
        self.col += 1
        self.s.header((self.top - 1, col), header)
        self.s.formula((self.top, col), start, number_format=FORMATS[name])
        self.pending.append((col, after))

    pending: list[tuple[int, str]]

    def close(self) -> None:
        """Fill each carried parameter with the previous row's new value."""
        for col, after in self.pending:
            if self.rows > 1:
                Block(self.s, self.top + 1, col, self.rows - 1, 1).fill(
                    lambda t, _, after=after: self.at(after, t), number_format="0.0000"
                )

    # -- what every run computes -----------------------------------------------------
    def fit(self, start: Start) -> None:
        """a, b, the batch's residuals, loss and gradients."""
        b = self.p.batch_size
        self.pending = []
        self.carried("a", "a", start.a, "a'")
        self.carried("b", "b", start.b, "b'")
        first = self.col
        for j in range(b):
            self.cols[f"e{j}"] = first + j
            self.s.header((self.top - 1, first + j), f"error {j + 1}")
        self.col += b

        def xs(t: int) -> Range:
            return start.x.row(t)

        a, bb = self.block("a").fixed_col(), self.block("b").fixed_col()
        Block(self.s, self.top, first, self.rows, b).fill(
            lambda t, j: a[t, 0] * start.x[t, j] + bb[t, 0] - start.y[t, j],
            note="a*x + b - y for each sample of this step's batch (batches sheet)",
            number_format="0.00",
        )

        def errors(t: int) -> Range:
            return Range(self.at("e0", t), self.at(f"e{b - 1}", t))

        self.column(
            "loss",
            "loss",
            sumproduct(errors(0), errors(0)) / b,
            note="the batch's mean squared error, before this step",
        )
        self.column(
            "ga",
            "dL/da",
            2 * sumproduct(errors(0), xs(0)) / b,
            note="mean of 2*error*x over the batch",
        )
        self.column("gb", "dL/db", 2 * sum_(errors(0)) / b, note="mean of 2*error over the batch")

    def weight_decay(self, wd: Callable[[int], Expr]) -> None:
        """The gradient with L2 weight decay: g + wd*p (torch's weight_decay)."""
        for k in ("a", "b"):
            self.column(
                f"d{k}",
                f"g{k} + wd*{k}",
                self.at(f"g{k}", 0) + wd(0) * self.at(k, 0),
                note="weight decay as torch adds it: wd * the parameter, to the gradient"
                if k == "a"
                else None,
            )

    def update(self, new: Callable[[str, int], Expr], note: str) -> None:
        """The new a and b: `new(parameter, t)`, then close the run."""
        for k in ("a", "b"):
            self.column(
                f"{k}'",
                f"new {k}",
                new(k, 0),
                lambda t, k=k: new(k, t),
                note=note if k == "a" else None,
            )
        self.close()

    @property
    def width(self) -> int:
        return self.col - self.left


# -- the optimizers, as torch.optim computes them ---------------------------------------
Value = Callable[[int], Expr]  # iteration t -> the cell holding a setting for that step
Hyper = dict[str, Value]


def sgd(run: Run, h: Hyper, lr: Value) -> None:
    run.weight_decay(h["wd"])
    run.update(lambda k, t: run.at(k, t) - lr(t) * run.at(f"d{k}", t), "p - lr * gradient")


def _buffer(run: Run, h: Hyper) -> None:
    for k in ("a", "b"):
        run.column(
            f"buf{k}",
            f"buf {k}",
            run.at(f"d{k}", 0),
            lambda t, k=k: (
                h["momentum"](t) * run.at(f"buf{k}", t - 1)
                + (1 - h["dampening"](t)) * run.at(f"d{k}", t)
            ),
            note="torch's momentum buffer: the first step sets it to the gradient, then "
            "buf = momentum*buf + (1 - dampening)*gradient. graddesc's EMA form "
            "(beta*v + (1-beta)*g from v = 0) is this with dampening = momentum and a "
            "zero start"
            if k == "a"
            else None,
        )


def momentum(run: Run, h: Hyper, lr: Value) -> None:
    run.weight_decay(h["wd"])
    _buffer(run, h)
    run.update(lambda k, t: run.at(k, t) - lr(t) * run.at(f"buf{k}", t), "p - lr * buf")


def nesterov(run: Run, h: Hyper, lr: Value) -> None:
    run.weight_decay(h["wd"])
    _buffer(run, h)
    for k in ("a", "b"):
        run.column(
            f"n{k}",
            f"g{k} + momentum*buf",
            run.at(f"d{k}", 0) + h["momentum"](0) * run.at(f"buf{k}", 0),
            note="Nesterov: step along the gradient plus momentum times the new buffer "
            "(a look ahead)"
            if k == "a"
            else None,
        )
    run.update(
        lambda k, t: run.at(k, t) - lr(t) * run.at(f"n{k}", t), "p - lr * (g + momentum*buf)"
    )


def rmsprop(run: Run, h: Hyper, lr: Value) -> None:
    run.weight_decay(h["wd"])
    alpha, eps = h["alpha"], h["eps"]
    for k in ("a", "b"):
        d = lambda t, k=k: run.at(f"d{k}", t)  # noqa: E731
        run.column(
            f"v{k}",
            f"v {k}",
            (1 - alpha(0)) * d(0) * d(0),
            lambda t, k=k, d=d: alpha(t) * run.at(f"v{k}", t - 1) + (1 - alpha(t)) * d(t) * d(t),
            note="running average of squared gradients, from 0: alpha*v + (1-alpha)*g²"
            if k == "a"
            else None,
        )
    run.update(
        lambda k, t: (
            run.at(k, t) - lr(t) * run.at(f"d{k}", t) / (sqrt(run.at(f"v{k}", t)) + eps(t))
        ),
        "p - lr * g / (sqrt(v) + eps): this step's v, and eps against division by 0",
    )


def _adam_moments(run: Run, h: Hyper, grad: str) -> None:
    b1, b2 = h["beta1"], h["beta2"]
    for k in ("a", "b"):
        g = lambda t, k=k: run.at(f"{grad}{k}", t)  # noqa: E731
        run.column(
            f"m{k}",
            f"m {k}",
            (1 - b1(0)) * g(0),
            lambda t, k=k, g=g: (
                run.at(f"m{k}", t - 1) + (1 - b1(t)) * (g(t) - run.at(f"m{k}", t - 1))
            ),
            note="average of gradients from 0, moved (1-beta1) of the way to the gradient: "
            "the same as beta1*m + (1-beta1)*g, computed as torch does (lerp)"
            if k == "a"
            else None,
        )
        run.column(
            f"v{k}",
            f"v {k}",
            (1 - b2(0)) * g(0) * g(0),
            lambda t, k=k, g=g: b2(t) * run.at(f"v{k}", t - 1) + (1 - b2(t)) * g(t) * g(t),
            note="average of squared gradients from 0: beta2*v + (1-beta2)*g²"
            if k == "a"
            else None,
        )
    step = run.steps[0, 0]  # the step number t
    run.column(
        "bc1",
        "1 - beta1^t",
        1 - b1(0) ** step.fixed_col(),
        note="bias correction: m started at 0, so early on it is too small by this factor",
    )
    run.column("bc2", "1 - beta2^t", 1 - b2(0) ** step.fixed_col())
    for k in ("a", "b"):
        run.column(f"mh{k}", f"m̂ {k}", run.at(f"m{k}", 0) / run.at("bc1", 0),
                   note="m̂ = m / (1 - beta1^t)" if k == "a" else None)  # fmt: skip
        run.column(f"vh{k}", f"v̂ {k}", run.at(f"v{k}", 0) / run.at("bc2", 0),
                   note="v̂ = v / (1 - beta2^t)" if k == "a" else None)  # fmt: skip


def _adam_step(run: Run, h: Hyper, lr: Value, base: str) -> None:
    eps = h["eps"]

    def new(k: str, t: int) -> Expr:
        m, v = run.at(f"m{k}", t), run.at(f"v{k}", t)
        bc1, bc2 = run.at("bc1", t), run.at("bc2", t)
        return run.at(f"{base}{k}", t) - (lr(t) / bc1) * m / (sqrt(v) / sqrt(bc2) + eps(t))

    run.update(
        new,
        "p - lr * m̂ / (sqrt(v̂) + eps), computed in torch's order: "
        "(lr / (1-beta1^t)) * m / (sqrt(v) / sqrt(1-beta2^t) + eps)",
    )


def adam(run: Run, h: Hyper, lr: Value) -> None:
    run.weight_decay(h["wd"])
    _adam_moments(run, h, "d")
    _adam_step(run, h, lr, "")


def adamw(run: Run, h: Hyper, lr: Value) -> None:
    for k in ("a", "b"):
        run.column(
            f"w{k}",
            f"{k} * (1 - lr*wd)",
            run.at(k, 0) * (1 - lr(0) * h["wd"](0)),
            note="decoupled weight decay: shrink the parameter itself, before the Adam "
            "step; the gradient (and so m and v) never sees wd. Compare adam's g + wd*p"
            if k == "a"
            else None,
        )
    _adam_moments(run, h, "g")
    _adam_step(run, h, lr, "w")


# name -> (how it updates, its hyperparameters with torch's defaults)
OPTIMIZER_RUNS: dict[str, tuple[Callable[[Run, Hyper, Value], None], dict[str, float]]] = {
    "sgd": (sgd, {"wd": 0.0}),
    "momentum": (momentum, {"wd": 0.0, "momentum": 0.9, "dampening": 0.0}),
    "nesterov": (nesterov, {"wd": 0.0, "momentum": 0.9, "dampening": 0.0}),
    "rmsprop": (rmsprop, {"wd": 0.0, "alpha": 0.99, "eps": 1e-8}),
    "adam": (adam, {"wd": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    "adamw": (adamw, {"wd": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
}
