"""entropy_example: softmax, sigmoid, binary cross-entropy and NLL, cell by cell.

Addresses and formulas follow the original workbook (see the project's spec);
OFFSET is replaced by INDEX, and natural-log versions of the losses sit to the
right of the faithful base-10 cells.
"""

from __future__ import annotations

from ...engine import If, Ref, Sheet, Workbook, average, exp, index, ln, log, match, sum_
from ...engine.workbook import Chart, Series
from .layout import PROBABILITIES, EntropyParams


def build(p: EntropyParams) -> Workbook:
    wb = Workbook(title="entropy_example")
    classes = _softmax(wb, p)
    _entropy(wb, p)
    _log_entropy(wb, p)
    _multiclass(wb, p, classes)
    return wb


def _multiclass(wb: Workbook, p: EntropyParams, classes: list[tuple[Ref, Ref]]) -> None:
    """The step after binary cross-entropy: five classes, a one-hot target, -LN(p)."""
    s = wb.add_sheet("multiclass")
    s.label(
        "A1",
        "Cross-entropy with five classes: the loss is -LN of the probability the "
        "softmax gives the true class (image 1 of the softmax sheet).",
    )
    s.label("A2", "true class (1 to 5)")
    true = s.input("C2", float(p.true_class), note="which class is right: change it")
    for col, text in zip("ABCD", ("class", "softmax p", "one-hot y", "-y * LN(p)")):
        s.header(f"{col}4", text)
    for i, (name, probability) in enumerate(classes):
        n = i + 5
        s.formula(f"A{n}", name)
        s.formula(f"B{n}", probability, number_format="0.0000")
        s.formula(
            f"C{n}",
            If(true.fixed().eq(i + 1), 1, 0),
            note="1 for the true class, 0 for the others" if i == 0 else None,
        )
        s.formula(f"D{n}", -s.ref(f"C{n}") * ln(s.ref(f"B{n}")), number_format="0.0000")
    s.header("A11", "cross-entropy")
    s.formula(
        "B11",
        sum_(s.range("D5:D9")),
        number_format="0.0000",
        note="the sum over classes of -y*LN(p): only the true class counts",
    )
    s.header("A12", "-LN(p of the true class)")
    s.formula(
        "B12",
        -ln(index(s.range("B5:B9"), s.ref("$C$2"), 1)),
        number_format="0.0000",
        note="the same number, picked directly: what PyTorch's cross_entropy computes",
    )
    s.label("A14", "A confident wrong answer costs a lot, a right one almost nothing:")
    s.header("A15", "p of the true class")
    s.header("B15", "loss -LN(p)")
    for i, q in enumerate(PROBABILITIES):
        s.input(f"A{16 + i}", q, number_format="0.00")
        s.formula(f"B{16 + i}", -ln(s.ref(f"A{16 + i}")), number_format="0.000")
    s.freeze = (4, 0)
    s.width(0, 26.0)
    s.width(1, 14.0, 3)


def loss_chart() -> Chart:
    n = len(PROBABILITIES)
    return Chart(
        "Cross-entropy -LN(p) against the probability of the true class",
        "probability of the true class",
        "loss",
        [Series("-LN(p)", ("multiclass", 15, 0, 14 + n, 0), ("multiclass", 15, 1, 14 + n, 1))],
        log_x=False,
        scatter=True,
        x_range=(0.0, 1.0),
    )


def _softmax(wb: Workbook, p: EntropyParams) -> list[tuple[Ref, Ref]]:
    """Image 1's and 2's softmax; returns image 1's (class name, probability) cells."""
    s = wb.add_sheet("softmax")
    s.header("B1", "Image 1")
    s.header("G1", "Image 2")
    s.header("K1", "binary")
    for col, text in zip("BCD", ("output", "exp", "softmax")):
        s.header(f"{col}2", text)
    for col, text in zip("GHI", ("output", "exp", "softmax")):
        s.header(f"{col}2", text)
    s.header("K2", "Image 1")
    s.header("L2", "Image 2")
    classes = []
    for i, name in enumerate(p.classes):
        n = i + 3
        name_cell = s.input(f"A{n}", name)
        first = i == 0  # notes go on the first row of a column
        s.formula(f"F{n}", s.ref(f"A{n}"), note="image 2's classes: the same" if first else None)
        s.input(f"B{n}", p.outputs[i], note="the model's output (logit)" if first else None)
        s.input(
            f"G{n}", p.outputs_2[i], note="image 1's output minus a constant" if first else None
        )
        s.formula(f"C{n}", exp(s.ref(f"B{n}")))
        probability = s.formula(
            f"D{n}",
            s.ref(f"C{n}") / s.ref("$C$8"),
            note="softmax: exp of the output over the sum of the exps" if i == 0 else None,
        )
        classes.append((name_cell, probability))
        s.formula(f"H{n}", exp(s.ref(f"G{n}")))
        s.formula(f"I{n}", s.ref(f"H{n}") / s.ref("$H$8"))
        s.formula(
            f"K{n}",
            s.ref(f"C{n}") / (1 + s.ref(f"C{n}")),
            note="sigmoid, written as exp/(1+exp)" if i == 0 else None,
        )
        s.formula(f"L{n}", s.ref(f"H{n}") / (1 + s.ref(f"H{n}")))
    s.formula("C8", sum_(s.range("C3:C7")))
    s.formula("D8", sum_(s.range("D3:D7")), note="softmax always sums to 1")
    s.formula("H8", sum_(s.range("H3:H7")))
    s.formula("I8", sum_(s.range("I3:I7")))
    s.label(
        "A10",
        "Image 2's outputs are image 1's shifted by one constant: the softmax "
        "columns D and I agree, the sigmoids in K and L do not.",
    )
    s.label(
        "A11",
        "Softmax is shift-invariant; the sigmoid is not. Change an output in "
        "column B or G and watch.",
    )
    s.freeze = (2, 1)
    _widths(s, "ABCDEFGHIJKL")
    return classes


def _entropy(wb: Workbook, p: EntropyParams) -> None:
    s = wb.add_sheet("entropy")
    s.header("B1", "isCat")
    s.header("C1", "Preds")
    s.header("D1", "BCE (LOG)", note="binary cross-entropy with Excel's LOG: base 10")
    s.header("E1", "BCE via IF (LOG)", note="the same loss: pick the log of the true class")
    s.header("G1", "BCE (LN)", note="the same loss with the natural log, as PyTorch computes it")
    s.header("H1", "BCE via IF (LN)")
    for i, (label, pred) in enumerate(p.labels_preds):
        n = i + 2
        s.input(f"B{n}", float(label))
        s.input(f"C{n}", float(pred))
        b, c = s.ref(f"B{n}"), s.ref(f"C{n}")
        s.formula(f"D{n}", -b * log(c) - (1 - b) * log(1 - c))
        s.formula(f"E{n}", -If(b.eq(1), log(c), log(1 - c)))
        s.formula(f"G{n}", -b * ln(c) - (1 - b) * ln(1 - c))
        s.formula(f"H{n}", -If(b.eq(1), ln(c), ln(1 - c)))
    s.header("A7", "mean")
    for col in "DEGH":
        s.formula(f"{col}7", average(s.range(f"{col}2:{col}6")))
    s.label(
        "A9",
        "Excel's LOG is base 10 (the original's choice); PyTorch's losses use the "
        "natural log, LN. Columns G and H are D and E with LN: each is D or E "
        "times LN(10).",
    )
    s.freeze = (1, 0)
    _widths(s, "ABCDEFGH")


def _log_entropy(wb: Workbook, p: EntropyParams) -> None:
    s = wb.add_sheet("log_entropy")
    heads = ("isCat", "isDog", "Preds", "logPredCat", "logPredDog", "NLL", "idx", "idxPred")
    for col, text in zip("BCDEFGHI", heads):
        s.header(f"{col}1", text)
    s.header("J1", "NLL (LN)", note="-LN of the true class's probability, as PyTorch's NLL")
    for i, (label, pred) in enumerate(p.labels_preds):
        n = i + 2
        s.input(f"B{n}", float(label))
        s.input(f"D{n}", float(pred))
        s.formula(f"C{n}", 1 - s.ref(f"B{n}"))
        s.formula(f"E{n}", log(s.ref(f"D{n}")))
        s.formula(f"F{n}", log(1 - s.ref(f"D{n}")))
        s.formula(f"G{n}", -s.ref(f"B{n}") * s.ref(f"E{n}") - s.ref(f"C{n}") * s.ref(f"F{n}"))
        s.formula(
            f"H{n}",
            match(1, s.range(f"B{n}:C{n}")),
            note="position of the true class (1 = cat, 2 = dog)" if i == 0 else None,
        )
        s.formula(
            f"I{n}",
            index(s.range(f"E{n}:F{n}"), 1, s.ref(f"H{n}")),
            note="the original used OFFSET(Dn,0,Hn); INDEX gives the same value and is not volatile"
            if i == 0
            else None,
        )
        s.formula(f"J{n}", -ln(If(s.ref(f"H{n}").eq(1), s.ref(f"D{n}"), 1 - s.ref(f"D{n}"))))
    s.label(
        "A8",
        "NLL picks the log-probability of the true class by its index: the same "
        "number as the cross-entropy on the entropy sheet.",
    )
    s.freeze = (1, 0)
    _widths(s, "ABCDEFGHIJ")


def _widths(sheet: Sheet, cols: str) -> None:
    sheet.width(cols[0], 14.0, cols[-1])
