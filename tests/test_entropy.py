"""The entropy_example lesson: the spec's cells and formulas, and numpy agreement."""

from __future__ import annotations

import numpy as np
import pytest

from sheetnet.lessons.entropy import EntropyParams
from sheetnet.pipeline import compute
from sheetnet.verify.check import check_lesson

# Formulas as the spec gives them (OFFSET replaced by INDEX, as the spec asks).
SPEC_FORMULAS = [
    ("softmax", "C3", "=EXP(B3)"),
    ("softmax", "D3", "=C3/$C$8"),
    ("softmax", "C8", "=SUM(C3:C7)"),
    ("softmax", "D8", "=SUM(D3:D7)"),
    ("softmax", "H7", "=EXP(G7)"),
    ("softmax", "I7", "=H7/$H$8"),
    ("softmax", "H8", "=SUM(H3:H7)"),
    ("softmax", "I8", "=SUM(I3:I7)"),
    ("softmax", "K5", "=C5/(1+C5)"),
    ("softmax", "L6", "=H6/(1+H6)"),
    ("entropy", "D2", "=-B2*LOG(C2)-(1-B2)*LOG(1-C2)"),
    ("entropy", "E6", "=-IF(B6=1,LOG(C6),LOG(1-C6))"),
    ("log_entropy", "C3", "=1-B3"),
    ("log_entropy", "E4", "=LOG(D4)"),
    ("log_entropy", "F4", "=LOG(1-D4)"),
    ("log_entropy", "G5", "=-B5*E5-C5*F5"),
    ("log_entropy", "H2", "=MATCH(1,B2:C2)"),
    ("log_entropy", "I2", "=INDEX(E2:F2,1,H2)"),
]

SPEC_CONSTANTS = [
    ("softmax", "A3", "cat"),
    ("softmax", "A7", "building"),
    ("softmax", "B1", "Image 1"),
    ("softmax", "G1", "Image 2"),
    ("softmax", "K1", "binary"),
    ("softmax", "D2", "softmax"),
    ("softmax", "B3", 0.021789294543326676),
    ("softmax", "G7", -0.19258159134866187),
    ("entropy", "B1", "isCat"),
    ("entropy", "C1", "Preds"),
    ("entropy", "C3", 0.98),
    ("entropy", "B4", 0.0),
    ("log_entropy", "I1", "idxPred"),
    ("log_entropy", "D6", 0.9),
]


@pytest.fixture(scope="module")
def lesson():
    return compute("entropy")


@pytest.mark.parametrize(("sheet", "cell", "exp"), SPEC_FORMULAS)
def test_formulas_at_the_spec_addresses(lesson, sheet, cell, exp):
    wb, _ = lesson
    got = wb[sheet][cell].content.formula(sheet)
    assert got == exp


@pytest.mark.parametrize(("sheet", "cell", "exp"), SPEC_CONSTANTS)
def test_inputs_and_labels_at_the_spec_addresses(lesson, sheet, cell, exp):
    wb, _ = lesson
    got = wb[sheet][cell].content
    if isinstance(exp, float):
        # an .xlsx number cell keeps 16 significant digits: inputs are exactly that number
        assert got == float(f"{exp:.16G}")
        assert got == pytest.approx(exp, rel=1e-15)
    else:
        assert got == exp


def test_every_formula_cell_agrees_with_numpy():
    report = check_lesson("entropy")
    assert report.ok, report.render()
    assert sum(s.compared for s in report.sheets.values()) == compute("entropy")[0].formula_count()


def test_hand_computed_cells(lesson):
    _, got = lesson
    # BCE of (isCat=1, pred=0.5) in base 10 is log10(2); with ln it is ln(2).
    assert got.at("entropy", "D2") == pytest.approx(np.log10(2), rel=1e-15)
    assert got.at("entropy", "G2") == pytest.approx(np.log(2), rel=1e-15)
    # (0, 0.9): -log10(0.1) = 1 exactly in both columns.
    assert got.at("entropy", "D4") == pytest.approx(1.0, rel=1e-15)
    assert got.at("log_entropy", "H4") == 2.0  # isDog row: class 2
    assert got.at("softmax", "D8") == pytest.approx(1.0, rel=1e-15)


def test_softmax_is_shift_invariant_and_sigmoid_is_not(lesson):
    _, got = lesson
    for n in range(3, 8):
        assert got.at("softmax", f"D{n}") == pytest.approx(got.at("softmax", f"I{n}"), rel=1e-12)
        assert abs(got.at("softmax", f"K{n}") - got.at("softmax", f"L{n}")) > 0.01


def test_other_inputs_still_agree_with_numpy():
    rng = np.random.default_rng(7)
    params = EntropyParams(
        outputs=tuple(rng.normal(size=5)),
        outputs_2=tuple(rng.normal(size=5) * 3),
        labels_preds=tuple(
            (float(rng.integers(0, 2)), float(rng.uniform(0.01, 0.99))) for _ in range(5)
        ),
    )
    report = check_lesson("entropy", params)
    assert report.ok, report.render()
