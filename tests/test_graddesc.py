"""The graddesc lesson: the spec's cells, unrolled epochs, numpy agreement, the lesson's point."""

from __future__ import annotations

import itertools
import zipfile

import numpy as np
import pytest

from sheetnet.engine import Role
from sheetnet.lessons.graddesc import GraddescParams
from sheetnet.pipeline import build, compute
from sheetnet.verify.check import check_lesson

# Formulas typed from the spec (rows 4-32 with 29 samples; row 33 the epoch's summary).
SPEC_FORMULAS = [
    ("data", "C5", "=$C$1+B5*$C$2"),
    ("basic", "C4", "=C1"), ("basic", "D4", "=C2"), ("basic", "C5", "=N4"), ("basic", "D5", "=M4"),
    ("basic", "E7", "=C7+D7*A7"), ("basic", "F7", "=(B7-E7)^2"),
    ("basic", "G7", "=(((C7+0.01)+A7*D7)-B7)^2"), ("basic", "H7", "=(G7-F7)/0.01"),
    ("basic", "I7", "=(((D7+0.01)*A7+C7)-B7)^2"), ("basic", "J7", "=(I7-F7)/0.01"),
    ("basic", "K7", "=2*(E7-B7)"), ("basic", "L7", "=K7*A7"), ("basic", "M7", "=D7-L7*$F$1"),
    ("basic", "N7", "=C7-K7*$F$1"), ("basic", "F33", "=SQRT(SUM(F4:F32))"),
    ("basic", "K33", "=SQRT(SUMSQ(K4:K32))"), ("basic", "L33", "=SQRT(SUMSQ(L4:L32))"),
    ("momentum", "K1", "=1-J1"), ("momentum", "C5", "=H4"), ("momentum", "D5", "=I4"),
    ("momentum", "E9", "=C9+D9*A9"), ("momentum", "F9", "=2*(D9*A9+C9-B9)"),
    ("momentum", "G9", "=F9*A9"), ("momentum", "J9", "=J8*$J$1+$K$1*F9"),
    ("momentum", "K9", "=K8*$J$1+$K$1*G9"), ("momentum", "H9", "=C9-J9*$D$2"),
    ("momentum", "I9", "=D9-K9*$D$2"), ("momentum", "L9", "=(B9-E9)^2"),
    ("momentum", "L33", "=SQRT(SUM(L4:L32))"),
    ("rmsprop", "J4", "=J3*$J$1+$K$1*F4^2"), ("rmsprop", "K4", "=K3*$J$1+$K$1*G4^2"),
    ("rmsprop", "H4", "=C4-F4*$D$2/SQRT(J3)"), ("rmsprop", "I4", "=D4-G4*$D$2/SQRT(K3)"),
    ("adam", "M1", "=1-L1"), ("adam", "L6", "=L5*$L$1+$M$1*F6^2"),
    ("adam", "M6", "=M5*$L$1+$M$1*G6^2"), ("adam", "H6", "=C6-J6*$D$2/SQRT(L6)"),
    ("adam", "I6", "=D6-K6*$D$2/SQRT(M6)"),
    ("adam_ann", "F33", "=SQRT(SUMSQ(F4:F32))/COUNT(F4:F32)"),
    ("adam_ann", "G33", "=SQRT(SUMSQ(G4:G32))/COUNT(G4:G32)"),
    ("adam_ann", "N33", "=SQRT(L33)+SQRT(M33)"),
]  # fmt: skip

SPEC_INPUTS = [
    ("data", "C1", 30.0), ("data", "C2", 2.0), ("data", "B5", 14.0), ("data", "B33", 8.0),
    ("basic", "F1", 0.0001), ("momentum", "J1", 0.9), ("momentum", "D2", 0.0001),
    ("momentum", "J3", 0.0), ("momentum", "K3", 0.0), ("rmsprop", "D2", 0.02),
    ("rmsprop", "J3", 10000.0), ("adam", "D2", 0.1), ("adam", "L1", 0.9), ("adam", "L3", 10000.0),
    ("adam_ann", "L1", 0.95), ("adam_ann", "D2", 1.0),
]  # fmt: skip


@pytest.fixture(scope="module")
def lesson():
    return compute("graddesc")


@pytest.mark.parametrize(("sheet", "cell", "exp"), SPEC_FORMULAS)
def test_formulas_at_the_spec_addresses(lesson, sheet, cell, exp):
    wb, _ = lesson
    assert wb[sheet][cell].content.formula(sheet) == exp


@pytest.mark.parametrize(("sheet", "cell", "exp"), SPEC_INPUTS)
def test_inputs_at_the_spec_addresses(lesson, sheet, cell, exp):
    wb, _ = lesson
    assert wb[sheet][cell].role is Role.INPUT
    assert wb[sheet][cell].content == exp


def test_x_and_y_come_from_the_data_sheet(lesson):
    wb, _ = lesson
    for sheet in ("basic", "momentum", "rmsprop", "adam", "adam_ann"):
        assert wb[sheet]["A4"].content.formula(sheet) == "=data!B5"
        assert wb[sheet]["B32"].content.formula(sheet) == "=data!C33"
        assert wb[sheet]["A36"].content.formula(sheet) == "=data!B5"  # epoch 2 again


def test_epoch_two_starts_from_epoch_one_by_formula(lesson):
    wb, got = lesson
    assert wb["momentum"]["C36"].content.formula("momentum") == "=H33"
    assert wb["momentum"]["J35"].content.formula("momentum") == "=J33"
    assert got.at("momentum", "C36") == got.at("momentum", "H32")
    assert got.at("basic", "D36") == got.at("basic", "M32")
    assert got.at("adam", "L35") == got.at("adam", "L32")


def test_annealing_between_epochs(lesson):
    wb, got = lesson
    assert wb["adam_ann"]["D35"].content.formula("adam_ann") == "=IF(N34>2,D2/4,D2)"
    assert wb["adam_ann"]["N35"].content.formula("adam_ann") == "=IF(N33<N3,N33,N3)"
    assert got.at("adam_ann", "N34") == 1.0  # epoch 1 is compared with itself
    lrs = [got.at("summary", f"R{e + 2}") for e in range(60)]
    assert lrs[0] == 1.0
    assert all(b in (a, a / 4) for a, b in itertools.pairwise(lrs))
    assert lrs[-1] < 1.0  # it did anneal


def test_every_formula_cell_agrees_with_numpy():
    report = check_lesson("graddesc")
    assert report.ok, report.render()


@pytest.mark.parametrize(
    "params",
    [
        GraddescParams(
            epochs=4,
            rows=7,
            seed=3,
            true_a=-1.5,
            true_b=4.0,
            init_a=0.5,
            init_b=-2.0,
            lr={"adam": 0.05, "basic": 0.0002},
            beta={"momentum": 0.5},
            beta2={"adam_ann": 0.99},
        ),
        GraddescParams(epochs=3, data=((1.0, 3.0), (2.0, 5.5), (4.0, 8.0), (7.0, 15.0))),
        GraddescParams(epochs=5, rows=40, start_avg=1.0, start_sq=50.0),
    ],
)
def test_other_parameters_agree_with_numpy(params):
    report = check_lesson("graddesc", params)
    assert report.ok, report.render()


def test_finite_differences_match_the_gradient_to_order_h(lesson):
    """With h = 0.01: ((e+h)^2 - e^2)/h = 2e + h exactly, so est de/db - de/db = h; for a,
    the nudge moves the error by h*x, so est de/da - de/da = h*x^2. Both are O(h) and
    nothing else: beyond these terms only rounding remains. The nudged error is a sum of
    terms of size |y|, |a*x|, |b|, rounded at about eps times their size, then squared
    (times 2|e|) and divided by h; the difference of two squares adds eps*err^2/h."""
    _, got = lesson
    h, eps = 0.01, np.finfo(float).eps
    for n in range(4, 33):
        x, y, b, a, e = (got.at("basic", f"{c}{n}") for c in "ABCDE")
        err = abs(e - y)
        terms = abs(y) + abs(a * x) + abs(b) + abs(x)
        rounding = 8 * eps * (err**2 + 2 * err * terms) / h
        assert abs(got.at("basic", f"H{n}") - got.at("basic", f"K{n}") - h) <= rounding
        assert abs(got.at("basic", f"J{n}") - got.at("basic", f"L{n}") - h * x * x) <= rounding * x
        assert rounding < 1e-6  # the bound is tight enough to mean something


def test_the_lessons_point_annealed_adam_fits_and_adam_stalls(lesson):
    _, got = lesson
    last = 61  # summary row of epoch 60
    # columns: A epoch, then a, b, error for basic (B-D), momentum, rmsprop, adam (K-M),
    # adam_ann (N-P)
    assert got.at("summary", f"N{last}") == pytest.approx(2.0, abs=5e-4)  # adam_ann a
    assert got.at("summary", f"O{last}") == pytest.approx(30.0, abs=5e-3)  # adam_ann b
    assert abs(got.at("summary", f"K{last}") - 2.0) > 0.03  # adam's a is still off
    assert abs(got.at("summary", f"L{last}") - 30.0) > 0.05


def test_summary_headers(lesson):
    wb, _ = lesson
    s = wb["summary"]
    headers = [s.cells[0, c].content for c in range(16)]
    exp = ["epoch"] + [
        f"{n} {w}"
        for n in ("basic", "momentum", "rmsprop", "adam", "adam_ann")
        for w in ("a", "b", "error")
    ]
    assert headers == exp
    assert s["A61"].content == 60.0


def test_charts_in_the_file(tmp_path):
    built = build("graddesc", tmp_path, GraddescParams(epochs=3, rows=5))
    names = zipfile.ZipFile(built.path).namelist()
    charts = [n for n in names if n.startswith("xl/charts/chart")]
    assert len(charts) == 9  # the front's comparison, a, b and race; the summary's five
    xml = zipfile.ZipFile(built.path).read("xl/charts/chart1.xml").decode()
    assert "each at its own learning rate (0.0001 to 1)" in xml
    assert '<c:logBase val="10"/>' in xml


def test_too_many_epochs_is_refused_up_front():
    with pytest.raises(ValueError, match="Excel allows 1,048,576"):
        GraddescParams(epochs=40_000)
    with pytest.raises(ValueError, match="formula cells; at most 5,000,000"):
        GraddescParams(epochs=2_000)
    with pytest.raises(ValueError, match="rows: must be at least 2"):
        GraddescParams(rows=1)


def test_the_race_runs_every_optimizer_at_one_learning_rate(tmp_path):
    from sheetnet.pipeline import compute

    params = GraddescParams(epochs=2, rows=5, race_lr=0.003, lr={"adam": 0.2})
    wb, results = compute("graddesc", params)
    for name in ("basic", "momentum", "rmsprop", "adam", "adam_ann"):
        cell = "F1" if name == "basic" else "D2"
        assert results.at(f"race_{name}", cell) == 0.003  # the shared rate, by formula
        assert wb[f"race_{name}"][cell].content.formula(f"race_{name}") == "=race!$C$1"
    assert results.at("adam", "D2") == 0.2  # the tuned sheets keep their own
    # at one rate, the race's adam differs from the tuned adam
    assert results.at("race", "E5") != results.at("summary", "K2")
