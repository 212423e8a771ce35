"""finetune: transfer learning, cell by cell. A body (Linear, ReLU) and a head (Linear)
learn the big dataset; a new random head replaces the old one for your few images;
stage 1 trains the head alone (the body frozen: its rate is 0), stage 2 every layer at
fastai's discriminative rates slice(lo, hi). Beside it the same network learns your
images from scratch. See layout.py for where things sit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...engine import (
    Block,
    If,
    Ref,
    Role,
    Sheet,
    Workbook,
    average,
    count,
    match,
    max_,
    round_,
    sumproduct,
)
from ...engine.expr import BinOp, lift
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
    BODY_LR_COL,
    CLASS,
    COUNT_CELL,
    DIGIT,
    FIRST_NEW,
    FROZEN_ROW,
    GROUP_ROWS,
    GROUPS_ROW,
    HEAD_LR_COL,
    IMAGE,
    LOSS_COL,
    MOVED_COL,
    NEW_CLASSES,
    ONEHOT,
    PIX,
    PIXELS,
    SCALE,
    SLICE_ROW,
    SOURCE,
    STAGE_COL,
    STEP_COL,
    VALID_FIRST_ROW,
    VALID_RESULT_ROW,
    W1,
    W2,
    Z1,
    FinetuneParams,
    Layout,
    Run,
    Step,
    builtin,
)

PIXEL = "0.000"
WEIGHT = "0.0000"
PROB = "0.000"
RATE = "0.0000"
NOTES = {
    "z1": "z1 = SUMPRODUCT(the image's pixels on the data sheet, this unit's row of W1) + b1",
    "a1": "a1 = ReLU(z1) = MAX(z1, 0)",
    "logit": "logit = SUMPRODUCT(a1, this class's row of W2) + b2",
    "max": "the row's largest logit, subtracted before EXP (the same softmax, no overflow)",
    "softmax": "softmax: exp over the row's sum",
    "loss": "cross-entropy: -LN of the probability of the true class",
    "delta": "dL/dlogit = (softmax - one-hot target on the data sheet) / batch size",
    "da1": "dL/da1 = SUMPRODUCT(dL/dlogits, this unit's row of W2ᵀ)",
    "relu": "ReLU'(z1): 1 where z1 > 0, else 0",
    "dz1": "dL/dz1 = dL/da1 * ReLU'(z1)",
    "grad": "dL/dw = SUMPRODUCT(dL/dz of this unit, this input over the batch) + 2*wd*w",
    "bias": "dL/db = SUM(dL/dz of this unit) + 2*wd*b",
    "new": "w - lr * gradient, at the body's rate (title row, F) for W1 | b1 and the "
    "head's (H) for W2 | b2",
    "turned": "W2 turned (W2ᵀ[k,c] = W2[c,k]) for the backward pass's SUMPRODUCTs",
    "label": "the image's class, from the data sheet",
}


def build(p: FinetuneParams) -> Workbook:
    lay = Layout(p)
    wb = Workbook(title="finetune")
    images = _data(wb, p, lay)
    pretrained = _pretrain(wb, p, lay, images)
    tuned, head = _finetune(wb, p, lay, images, pretrained)
    scratch = _scratch(wb, p, lay, images, pretrained, head)
    accuracy = _valid(wb, lay, images, (tuned, scratch))
    _progress(wb, lay, pretrained, (tuned, scratch), accuracy)
    return wb


@dataclass(frozen=True)
class Table:
    """One table of the data sheet: its images' classes, pixels and one-hot targets."""

    labels: Block
    pixels: Block
    onehot: Block | None


@dataclass(frozen=True)
class Images:
    big: Table
    train: Table
    valid: Table
    count: Ref  # how many training images of yours (absolute)


def _data(wb: Workbook, p: FinetuneParams, lay: Layout) -> Images:
    s = wb.add_sheet("data")
    s.label(
        "A1",
        "Pixels are the 8x8 digits' values (0 to 16) divided by 16. The big dataset trains "
        "the body; your dataset is a few images of the digits 5 to 9, classes 0 to 4.",
    )
    s.label("A2", "your training images")
    table_rows = lay.chosen
    shipped = builtin()
    tables = []
    specs = (
        (
            "big",
            lay.big_top,
            table_rows.big,
            lay.big_classes,
            f"the big dataset: {p.pretrain} images of the digits 0 to {lay.big_classes - 1}",
        ),
        (
            "train",
            lay.train_top,
            table_rows.train,
            NEW_CLASSES,
            f"your dataset: {lay.yours} training images, {p.per_class} of each digit 5 to 9",
        ),
        ("valid", lay.valid_top, table_rows.valid, 0, f"your dataset: {p.valid} validation images"),
    )
    for name, top, rows, classes, title in specs:
        s.header((top - 2, 0), title)
        heads = ["image", "source row", "digit", "class"] + [f"x{j + 1}" for j in range(PIXELS)]
        heads += [f"y {k}" for k in range(classes)]
        for j, text in enumerate(heads):
            s.header((top - 1, j), text)
        n = len(rows)
        for i, r in enumerate(rows):
            s.set((top + i, IMAGE), float(i + 1), Role.LABEL)
            s.set((top + i, SOURCE), float(r + 1), Role.LABEL)
        digits = Block(s, top, DIGIT, n, 1)
        digits.inputs(
            [[float(shipped.labels[r])] for r in rows],
            note="the digit drawn (change it and everything that learns from it follows)",
        )
        pixels = Block(s, top, PIX, n, PIXELS)
        pixels.inputs(
            [[float(v) / SCALE for v in shipped.pixels[r]] for r in rows],
            note="pixel / 16: in [0, 1]",
            number_format=PIXEL,
        )
        if name == "big":
            labels = digits  # the big dataset's classes are its digits
        else:
            labels = Block(s, top, CLASS, n, 1)
            labels.fill_like(
                digits[0, 0] - FIRST_NEW, note="class = digit - 5: your head has 5 outputs"
            )
        onehot = None
        if classes:
            onehot = Block(s, top, ONEHOT, n, classes)
            one_hot(onehot, labels, note="one-hot target: 1 in the class's column")
        tables.append(Table(labels, pixels, onehot))
    n = s.formula(COUNT_CELL, count(tables[1].labels.range), note="the batch: all of them")
    s.freeze = (0, PIX)
    s.width(0, 7.0, CLASS)
    s.width(PIX, 5.5, ONEHOT + 10)
    return Images(*tables, n.fixed())


class Section:
    """A run sheet's parameters: W1 | b1 (a row per hidden unit), W2 | b2 (a row per
    class), W2 turned (a row per hidden unit)."""

    def __init__(self, s: Sheet, run: Run, top: int) -> None:
        h, c = run.hidden, run.classes
        self.body = Block(s, top, W1, h, PIXELS + 1)
        self.head = Block(s, top, W2, c, h + 1)
        self.turned = Block(s, top, run.w2t, h, c)

    @staticmethod
    def weights(layer: Block) -> Block:
        return layer.part(0, 0, layer.rows, layer.cols - 1)

    @staticmethod
    def bias(layer: Block) -> Block:
        return layer.part(0, layer.cols - 1, layer.rows, 1)

    def label(self, s: Sheet, turned: bool = True) -> None:
        h = self.body.rows
        self.body.headers([f"W1·x{j + 1}" for j in range(PIXELS)] + ["b1"])
        self.head.headers([f"W2·unit {k}" for k in range(h)] + ["b2"])
        for k in range(h):
            s.header((self.body.top + k, W1 - 1), f"unit {k}")
        for c in range(self.head.rows):
            s.header((self.head.top + c, W2 - 1), f"class {c}")
        if turned:
            self.turned.headers([f"W2ᵀ·class {c}" for c in range(self.head.rows)])
            for k in range(h):
                s.header((self.turned.top + k, self.turned.left - 1), f"unit {k}")

    def turn(self, note: str | None = None) -> None:
        turned(self.turned, self.weights(self.head), note, WEIGHT)


@dataclass
class Trained:
    """Each step's loss and the parameters it ends with."""

    wd: Ref  # the weight decay every run uses (absolute)
    loss: list[Ref] = field(default_factory=list)
    after: list[Section] = field(default_factory=list)
    start: Section | None = None


@dataclass(frozen=True)
class Batch:
    """What a step reads from the data sheet."""

    labels: Block
    pixels: Block
    onehot: Block


Title = Callable[[Sheet, Step], tuple[Ref, Ref, Ref]]  # writes the title, gives (n, body, head)


def _steps(
    s: Sheet,
    run: Run,
    start: Section,
    batch: Callable[[Step], Batch],
    title: Title,
    trained: Trained,
) -> None:
    params = start
    trained.start = start
    for st in run.steps:
        params = _step(s, run, st, params, batch(st), title, trained.wd, trained)


def _step(
    s: Sheet,
    run: Run,
    st: Step,
    params: Section,
    batch: Batch,
    title: Title,
    wd: Ref,
    trained: Trained,
) -> Section:
    """One block; returns the parameters it ends with."""
    first = st.number == 0

    def note(key: str) -> str | None:
        return NOTES[key] if first else None

    top, n, h, c = st.top, st.size, run.hidden, run.classes
    rows = top + 2
    heads = (
        ["image", "class"]
        + [f"z1·unit {k}" for k in range(h)]
        + [f"a1·unit {k}" for k in range(h)]
        + [f"logit {k}" for k in range(c)]
        + ["max"]
        + [f"exp {k}" for k in range(c)]
        + ["sum"]
        + [f"p {k}" for k in range(c)]
        + ["loss"]
        + [f"dL/dlogit {k}" for k in range(c)]
        + [f"dL/da1·unit {k}" for k in range(h)]
        + [f"ReLU'·unit {k}" for k in range(h)]
        + [f"dL/dz1·unit {k}" for k in range(h)]
    )
    for j, text in enumerate(heads):
        s.header((top + 1, j), text)
    for i in range(n):
        s.set((rows + i, 0), float(st.first + i + 1), Role.LABEL)

    def at(col: int, width: int) -> Block:
        return Block(s, rows, col, n, width)

    label = at(1, 1)
    label.fill_like(batch.labels.relative()[0, 0], note("label"))
    size, body_lr, head_lr = title(s, st)
    X = batch.pixels
    W, b = Section.weights, Section.bias
    Z1_, A1 = at(Z1, h), at(run.a1, h)
    dense(Z1_, X, W(params.body), b(params.body), note("z1"), WEIGHT)
    relu(A1, Z1_, note("a1"), WEIGHT)
    Z, M, E, S = at(run.z, c), at(run.max, 1), at(run.e, c), at(run.sum, 1)
    P, L, D = at(run.prob, c), at(run.loss, 1), at(run.delta, c)
    dense(Z, A1, W(params.head), b(params.head), note("logit"), WEIGHT)
    softmax(
        Z,
        M,
        E,
        S,
        P,
        {"max": NOTES["max"], "softmax": NOTES["softmax"]} if first else None,
        number_format=WEIGHT,
        prob_format=PROB,
    )
    cross_entropy(L, P, label, note("loss"), WEIGHT)
    loss = s.formula((top, LOSS_COL), average(L.range), number_format=WEIGHT)
    trained.loss.append(loss)
    logit_grad(D, P, batch.onehot.relative(), size, note("delta"), WEIGHT)
    DA, RP, D1 = at(run.da1, h), at(run.relu, h), at(run.dz1, h)
    back_through(DA, D, params.turned, note("da1"), WEIGHT)
    relu_slope(RP, Z1_, note("relu"))
    gate(D1, DA, RP, note("dz1"), WEIGHT)

    g_top = run.grad_top(st)
    s.header((g_top - 1, 0), "gradient")
    s.label((g_top - 1, 2), "dL/dw for each weight and dL/db in the bias columns")
    grad = Section(s, run, g_top)
    for old, g, delta, x in ((params.body, grad.body, D1, X), (params.head, grad.head, D, A1)):
        said = old is params.body
        weight_grad(W(g), delta, x, W(old), wd, note("grad") if said else None, WEIGHT)
        bias_grad(b(g), delta, b(old), wd, note("bias") if said else None, WEIGHT)
    n_top = run.new_top(st)
    s.header((n_top - 1, 0), "new")
    s.label((n_top - 1, 2), f"after step {st.number + 1}: w - lr * gradient")
    new = Section(s, run, n_top)
    step(new.body, params.body, grad.body, body_lr, note("new"), WEIGHT)
    step(new.head, params.head, grad.head, head_lr, None, WEIGHT)
    new.turn()
    grad.label(s, turned=False)
    new.label(s)
    trained.after.append(new)
    return new


def _start(s: Sheet, run: Run, text: str) -> Section:
    s.header((run.start - 2, 0), text)
    start = Section(s, run, run.start)
    start.label(s)
    return start


def _pretrain(wb: Workbook, p: FinetuneParams, lay: Layout, images: Images) -> Trained:
    s = wb.add_sheet("pretrain")
    s.label("A1", "learning rate")
    lr = s.input("C1", p.lr, note="the pretraining's rate, both layers").fixed()
    s.label("D1", "weight decay")
    wd = s.input("F1", p.wd, note="wd: every gradient on every sheet gets 2*wd*p").fixed()
    s.label(
        "H1",
        f"Pretraining: the body (Linear(64, {p.hidden}), ReLU) and a head for "
        f"{lay.big_classes} classes learn the big dataset, {p.pretrain_batch} images per "
        "mini-batch. Every epoch takes the images in the data sheet's order (shuffled once), "
        "so each batch is a block of its rows.",
    )
    run = lay.pretrain
    start = _start(s, run, "start: W1 | b1 (the body), W2 | b2 (the head), W2 turned")
    w1, w2 = lay.start_weights()
    start.body.inputs(w1, note="seeded random weights, He's scale (biases 0)", number_format=WEIGHT)
    start.head.inputs(w2, number_format=WEIGHT)
    start.turn(NOTES["turned"])
    big = images.big

    def batch(st: Step) -> Batch:
        assert big.onehot is not None
        return Batch(
            big.labels.part(st.first, 0, st.size, 1),
            big.pixels.part(st.first, 0, st.size, PIXELS),
            big.onehot.part(st.first, 0, st.size, lay.big_classes),
        )

    def title(sheet: Sheet, st: Step) -> tuple[Ref, Ref, Ref]:
        top = st.top
        sheet.header((top, 0), "iteration")
        sheet.set((top, STEP_COL), float(st.number + 1), Role.HEADER)
        sheet.header((top, STAGE_COL - 1), "epoch")
        sheet.set((top, STAGE_COL), float(st.epoch + 1), Role.HEADER)
        sheet.header((top, BODY_LR_COL - 1), "batch size")
        labels = Block(sheet, top + 2, 1, st.size, 1)
        size = sheet.formula((top, BODY_LR_COL), count(labels.range))
        sheet.header((top, LOSS_COL - 1), "batch loss")
        return size.fixed(), lr, lr

    trained = Trained(wd)
    _steps(s, run, start, batch, title, trained)
    _widths(s, run)
    return trained


def _widths(s: Sheet, run: Run) -> None:
    s.freeze = (0, 2)
    s.width(0, 9.0, 1)
    s.width(2, 7.5, max(run.end_col, run.w2t + run.classes))
    s.width(MOVED_COL - 1, 11.0)  # "body moved" and the title row's other names


def _yours(images: Images) -> Callable[[Step], Batch]:
    train = images.train
    assert train.onehot is not None
    return lambda st: Batch(train.labels, train.pixels, train.onehot)


def _run_title(
    rates: Callable[[int], tuple[Ref, Ref]], stage: Callable[[int], str], count_: Ref
) -> Title:
    def title(sheet: Sheet, st: Step) -> tuple[Ref, Ref, Ref]:
        top = st.top
        sheet.header((top, 0), "epoch")
        sheet.set((top, STEP_COL), float(st.number + 1), Role.HEADER)
        sheet.header((top, STAGE_COL - 1), "stage")
        sheet.label((top, STAGE_COL), stage(st.number))
        body, head = rates(st.number)
        sheet.header((top, BODY_LR_COL - 1), "body lr")
        b = sheet.formula((top, BODY_LR_COL), body, number_format=RATE)
        sheet.header((top, HEAD_LR_COL - 1), "head lr")
        h = sheet.formula((top, HEAD_LR_COL), head, number_format=RATE)
        sheet.header((top, LOSS_COL - 1), "loss")
        return count_, b.fixed(), h.fixed()

    return title


def _finetune(
    wb: Workbook, p: FinetuneParams, lay: Layout, images: Images, pretrained: Trained
) -> tuple[Trained, Section]:
    s = wb.add_sheet("finetune")
    s.label((FROZEN_ROW, 0), "stage 1: body lr")
    body1 = s.input(
        (FROZEN_ROW, 2),
        0.0,
        note="frozen: a rate of 0 leaves the body's weights exactly as pretraining left them",
    ).fixed()
    s.label((FROZEN_ROW, 3), "head lr")
    head1 = s.input((FROZEN_ROW, 5), p.head_lr, note="stage 1: the new head learns alone").fixed()
    s.label(
        (FROZEN_ROW, 7),
        f"Stage 1 ({p.frozen} epochs), frozen: the body's rate is 0, so its weights stay "
        "exactly as pretraining left them; only the new random head learns (fastai's "
        "learn.freeze(); learn.fit).",
    )
    s.label((SLICE_ROW, 0), "stage 2: slice(lo")
    lo = s.input((SLICE_ROW, 2), p.lo, note="slice(lo, hi): the first group's rate").fixed()
    s.label((SLICE_ROW, 3), "hi)")
    hi = s.input((SLICE_ROW, 5), p.hi, note="slice(lo, hi): the last group's rate").fixed()
    s.label(
        (SLICE_ROW, 7),
        f"Stage 2 ({p.unfrozen} epochs), unfrozen: every layer learns, each layer group at "
        "its own rate, spread geometrically from lo to hi (fastai's learn.unfreeze(); "
        "learn.fit(lr=slice(lo, hi))).",
    )
    s.label((GROUPS_ROW, 0), "layer groups")
    groups = s.set((GROUPS_ROW, 2), 2.0, Role.LABEL).fixed()
    s.label(
        (GROUPS_ROW, 7),
        "Group i's rate is lo * (hi/lo)^((i-1)/(groups-1)), fastai's even_mults: with two "
        "groups, lo for the body and hi for the head.",
    )
    s.header((GROUPS_ROW, 3), "group")
    s.header((GROUPS_ROW, 4), "slice rate")
    rates = []
    for g, (row, name) in enumerate(zip(GROUP_ROWS, ("body", "head"))):
        s.label((row, 0), f"group {g + 1}: the {name}")
        group = s.set((row, 3), float(g + 1), Role.LABEL)
        rate = s.formula(
            (row, 4),
            lo * (hi / lo) ** ((group - 1) / (groups - 1)),
            number_format=RATE,
            note="slice(lo, hi) over the layer groups" if g == 0 else None,
        )
        rates.append(rate.fixed())
    run = lay.finetune
    start = _start(
        s,
        run,
        "start: the pretrained body (W1 | b1, from the pretrain sheet), "
        "a new random head for your 5 classes (W2 | b2), W2 turned",
    )
    body = pretrained.after[-1].body
    start.body.fill_like(
        body.relative()[0, 0], note="the body after pretraining", number_format=WEIGHT
    )
    start.head.inputs(
        lay.new_head(), note="a new random head (create_head): 5 classes", number_format=WEIGHT
    )
    start.turn(NOTES["turned"])

    def stage_rates(t: int) -> tuple[Ref, Ref]:
        return (body1, head1) if lay.stage(t) == 1 else (rates[0], rates[1])

    def stage(t: int) -> str:
        return "1: frozen" if lay.stage(t) == 1 else "2: unfrozen"

    trained = Trained(pretrained.wd)
    title = _run_title(stage_rates, stage, images.count)
    _steps(s, run, start, _yours(images), title, trained)
    pretrained_body = start.body.fixed().range
    for st, after in zip(run.steps, trained.after):
        s.header((st.top, MOVED_COL - 1), "body moved")
        change = after.body.range - pretrained_body
        s.formula(
            (st.top, MOVED_COL),
            sumproduct(change, change),
            note="the sum of the body's squared changes since pretraining: 0 while it is frozen"
            if st.number == 0
            else None,
        )
    _widths(s, run)
    return trained, start


def _scratch(
    wb: Workbook,
    p: FinetuneParams,
    lay: Layout,
    images: Images,
    pretrained: Trained,
    head: Section,
) -> Trained:
    s = wb.add_sheet("scratch")
    s.label("A1", "learning rate")
    lr = s.input("C1", p.scratch_lr, note="every layer learns at this rate").fixed()
    s.label(
        "H1",
        f"From scratch: the same network learns your images for {lay.epochs} epochs, every "
        "layer at one rate, from the random body the pretraining started from and the same "
        "new head: the only difference from finetune is the pretraining.",
    )
    run = lay.scratch
    start = _start(
        s,
        run,
        "start: the pretraining's random body (pretrain sheet's start) and finetune's new head",
    )
    assert pretrained.start is not None
    start.body.fill_like(
        pretrained.start.body.relative()[0, 0],
        number_format=WEIGHT,
        note="random, as the pretraining started",
    )
    start.head.fill_like(
        head.head.relative()[0, 0], note="finetune's new head", number_format=WEIGHT
    )
    start.turn(NOTES["turned"])
    trained = Trained(pretrained.wd)
    title = _run_title(lambda t: (lr, lr), lambda t: "all layers", images.count)
    _steps(s, run, start, _yours(images), title, trained)
    _widths(s, run)
    return trained


RUNS = ("fine-tuned", "from scratch")


def _valid(
    wb: Workbook, lay: Layout, images: Images, runs: tuple[Trained, Trained]
) -> list[list[Ref]]:
    s = wb.add_sheet("valid")
    s.label(
        "A2",  # row 1 holds each epoch's title from column D: here the text runs on
        "Your validation images: each network after each epoch, on images it never trained "
        "on. a1 = MAX(SUMPRODUCT(pixels, W1 row) + b1, 0); prediction = the largest logit's "
        "class.",
    )
    top, m, h = VALID_FIRST_ROW, lay.p.valid, lay.hidden
    s.header((top - 1, 0), "image")
    s.header((top - 1, 1), "class")
    for i in range(m):
        s.set((top + i, 0), float(i + 1), Role.LABEL)
    label = Block(s, top, 1, m, 1)
    label.fill_like(images.valid.labels.relative()[0, 0], note=NOTES["label"])
    X = images.valid.pixels
    out: list[list[Ref]] = []
    for r, trained in enumerate(runs):
        accuracy = []
        for t, after in enumerate(trained.after):
            left = lay.valid_left(r, t)
            s.header((0, left), f"{RUNS[r]}, after epoch {t + 1}")
            right = _evaluate(Block(s, top, left, m, h), X, after, label, t == 0)
            s.header((VALID_RESULT_ROW, left), "accuracy")
            accuracy.append(
                s.formula(lay.valid_result(r, t), average(right.range), number_format="0.0%")
            )
        out.append(accuracy)
    s.freeze = (top, 2)
    s.width(2, 8.5, lay.valid_left(1, lay.epochs - 1) + lay.eval_cols)
    return out


def _evaluate(A1: Block, X: Block, after: Section, label: Block, first: bool) -> Block:
    """A network on the validation images from A1's columns on: a1 (dense and ReLU in
    one cell), logits, prediction, right; returns the column of rights."""
    Xr, Wf, bf = X.fixed_col(), Section.weights(after.body).fixed(), Section.bias(after.body)
    bias = bf.fixed()
    A1.fill_columns(
        lambda k: max_(sumproduct(Xr.row(0), Wf.row(k)) + bias[k, 0], 0),
        NOTES["a1"] if first else None,
        WEIGHT,
    )
    Z = A1.right(0, NEW_CLASSES)
    dense(Z, A1, Section.weights(after.head), Section.bias(after.head), number_format=WEIGHT)
    pred = Z.right(0, 1)
    Zf = Z.fixed_col()
    pred.fill_like(match(max_(Zf.row(0)), Zf.row(0), 0) - 1)
    right = pred.right(0, 1)
    right.fill_like(If(pred.fixed_col()[0, 0].eq(label.fixed_col()[0, 0]), 1, 0))
    heads = (
        [f"a1·unit {k}" for k in range(A1.cols)]
        + [f"logit {k}" for k in range(NEW_CLASSES)]
        + ["prediction", "right"]
    )
    for j, text in enumerate(heads):
        A1.sheet.header((A1.top - 1, A1.left + j), text)
    return right


def _progress(
    wb: Workbook,
    lay: Layout,
    pretrained: Trained,
    runs: tuple[Trained, Trained],
    accuracy: list[list[Ref]],
) -> None:
    s = wb.add_sheet("progress")
    for j, text in enumerate(Layout.PROGRESS):
        s.header((0, j), text)
    cells: list[list[Ref]] = [[], []]
    for t in range(lay.epochs):
        s.set((t + 1, 0), float(t + 1), Role.LABEL)
        s.label((t + 1, 1), "1: frozen" if lay.stage(t) == 1 else "2: unfrozen")
        for r in range(2):
            cells[r].append(s.formula((t + 1, 2 + r), accuracy[r][t], number_format="0.0%"))
            s.formula((t + 1, 4 + r), runs[r].loss[t], number_format=WEIGHT)
    ft, sc = cells[0][-1].fixed(), cells[1][-1].fixed()
    row = lay.gain_cell[0]
    s.header((row, 0), "what pretraining buys")
    gain = s.formula(
        lay.gain_cell,
        ft - sc,
        number_format="+0.0%;-0.0%;0.0%",
        note="fine-tuned minus from scratch, after the last epoch",
    ).fixed()
    s.formula(lay.verdict_cell, _verdict(ft, sc, gain, lay))
    for j, text in enumerate(("iteration", "epoch", "batch loss")):
        s.header((0, Layout.PRE_LEFT + j), text)
    for st, loss in zip(lay.pretrain.steps, pretrained.loss):
        s.set((st.number + 1, Layout.PRE_LEFT), float(st.number + 1), Role.LABEL)
        s.set((st.number + 1, Layout.PRE_LEFT + 1), float(st.epoch + 1), Role.LABEL)
        s.formula((st.number + 1, Layout.PRE_LEFT + 2), loss, number_format=WEIGHT)
    s.width(0, 16.0, 1)
    s.width(2, 14.0, Layout.PRE_LEFT + 2)


def _cat(*parts: object) -> BinOp:
    out = lift(parts[0])
    for part in parts[1:]:
        out = BinOp("&", out, lift(part))
    return out  # type: ignore[return-value]


def _verdict(ft: Ref, sc: Ref, gain: Ref, lay: Layout) -> If:
    """A sentence that says what pretraining bought, by formula: IF it helped or not."""

    def pct(x: object) -> object:
        return round_(100 * x, 1)  # type: ignore[operator]

    epochs, n = lay.epochs, lay.yours
    helps = _cat(
        f"Pretraining helps here: after {epochs} epochs on your {n} images, fine-tuned "
        "is right on ",
        pct(ft),
        "% of the validation images, from scratch on ",
        pct(sc),
        "%: ",
        pct(gain),
        " points more.",
    )
    same = _cat(
        "Here pretraining makes no difference: both networks are right on ",
        pct(ft),
        "% of your validation images.",
    )
    hurts = _cat(
        "Here pretraining does not help: from scratch is right on ",
        pct(sc),
        "% of the validation images, fine-tuned on ",
        pct(ft),
        "%: the big dataset's features do not fit your digits.",
    )
    return If(gain > 0, helps, If(gain.eq(0), same, hurts))


def charts(p: FinetuneParams) -> list[Chart]:
    lay = Layout(p)
    n, k = lay.epochs, len(lay.pretrain.steps)
    x = ("progress", 1, 0, n, 0)
    return [
        Chart(
            "Validation accuracy on your digits per epoch: fine-tuned vs from scratch",
            "epoch",
            "accuracy",
            [Series(RUNS[r], x, ("progress", 1, 2 + r, n, 2 + r)) for r in range(2)],
            y_range=(0.0, 1.0),
            y_format="0%",
        ),
        Chart(
            "Training loss on your images per epoch",
            "epoch",
            "loss",
            [Series(RUNS[r], x, ("progress", 1, 4 + r, n, 4 + r)) for r in range(2)],
        ),
        Chart(
            "Pretraining on the big dataset: batch loss per iteration",
            "iteration",
            "loss",
            [
                Series(
                    "batch loss",
                    ("progress", 1, Layout.PRE_LEFT, k, Layout.PRE_LEFT),
                    ("progress", 1, Layout.PRE_LEFT + 2, k, Layout.PRE_LEFT + 2),
                )
            ],
            scatter=True,
        ),
    ]
