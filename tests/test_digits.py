"""The digits lesson's own points: its data, its accuracy, the learner's CSV, the round trip."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from xlsxedit import edit

from sheetnet.cli import main
from sheetnet.lessons.digits import DigitsParams
from sheetnet.lessons.digits.data import builtin
from sheetnet.lessons.digits.layout import Layout
from sheetnet.pipeline import build
from sheetnet.reference.digits import forward, train
from sheetnet.verify.recalc import verify_file
from sheetnet.verify.roundtrip import compare_file


def test_the_shipped_digits_are_the_uci_set():
    raw = resources.files("sheetnet.lessons.digits").joinpath("digits8x8.csv.gz").read_bytes()
    text = gzip.decompress(raw)
    assert hashlib.sha256(text).hexdigest() == (
        "d168c7e6f3c50d0eb1a859158aabd051dc9ac54cb9b20bf72ad3c2dfb765e010"
    )
    table = builtin()
    assert table.pixels.shape == (1797, 64)
    # the class sizes scikit-learn documents for load_digits
    assert np.bincount(table.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert table.pixels.min() == 0 and table.pixels.max() == 16
    assert "CC BY 4.0" in resources.files("sheetnet.lessons.digits").joinpath(
        "DIGITS_LICENSE.txt").read_text()  # fmt: skip


def test_the_default_reaches_a_convincing_accuracy():
    """Measured by the numpy reference (not the engine): above 85% on unseen images."""
    p = DigitsParams()
    lay, steps = train(p)
    x = np.array(p.images.pixels[p.train :]) / lay.scale
    y = np.array(p.images.labels[p.train :])
    accuracy = (forward(x, steps[-1]["new"])["pred"] == y).mean()
    assert accuracy > 0.85
    losses = [float(s["mean"]) for s in steps]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) / 3  # the loss falls


def test_epochs_iterations_and_batches():
    p = DigitsParams(epochs=2, batch_size=4, train=10, valid=3)
    lay = Layout(p)
    assert [len(it.images) for it in lay.iterations] == [4, 4, 2, 4, 4, 2]  # ceil(10/4) each
    assert [it.number for it in lay.iterations] == list(range(6))  # counting across epochs
    for epoch, order in enumerate(lay.orders):
        seen = [i for it in lay.iterations if it.epoch == epoch for i in it.images]
        assert sorted(seen) == list(range(1, 11)) and seen == order


def mnist_like(path: Path, rows: list[list[object]], header: str | None = None) -> Path:
    header = header or "label," + ",".join(f"p{i}" for i in range(16))
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def random_rows(n: int, seed: int = 0) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    return [[int(rng.integers(0, 10)), *rng.integers(0, 256, 16).tolist()] for _ in range(n)]


def test_a_learners_csv_of_4x4_images_builds_and_compares(tmp_path):
    csv = mnist_like(tmp_path / "mine.csv", random_rows(12))
    out = tmp_path / "out"
    got = CliRunner().invoke(main, ["build", "digits", "-o", str(out), "--data", str(csv),
                                    "--train", "8", "--valid", "4", "--batch-size", "4",
                                    "--epochs", "1"])  # fmt: skip
    assert got.exit_code == 0, got.output
    result = compare_file(out / "digits.xlsx")
    assert result.ok, result.report.render()
    from sheetnet.verify.readback import read_workbook

    data = read_workbook(out / "digits.xlsx")["data"].values
    assert data["C2"] == 255.0  # pixels above 16: scaled by 255


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("x," + ",".join(f"p{i}" for i in range(16)), random_rows(3), "must name a 'label' column"),
        (None, [[12, *[0] * 16], [1, *[0] * 16]], "label 12 is not a digit 0..9"),
        ("label," + ",".join(f"p{i}" for i in range(15)), [[1, *[0] * 15]] * 3, "not a square"),
        (None, [[1, "dark", *[0] * 15], [2, *[0] * 16]], "p0 is not a number: 'dark'"),
        (None, [[1, *[300] * 16], [2, *[0] * 16]], "pixels above 255"),
        (None, [[1, *[-1] * 16], [2, *[0] * 16]], "must not be negative"),
        (None, [[1, *[0] * 16]], "need at least 2 images"),
    ],
)
def test_bad_csvs_are_one_line_and_nothing_is_written(tmp_path, header, rows, message):
    csv = mnist_like(tmp_path / "bad.csv", rows, header)
    out = tmp_path / "out"
    got = CliRunner().invoke(main, ["build", "digits", "-o", str(out), "--data", str(csv)])
    assert got.exit_code == 2, got.output
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error: --data:"), got.output
    assert message in lines[0]
    assert not out.exists()


def test_too_large_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    got = CliRunner().invoke(main, ["build", "digits", "-o", str(out), "--train", "1500",
                                    "--valid", "200", "--epochs", "40"])  # fmt: skip
    assert got.exit_code == 2
    assert "formula cells" in got.output and "use fewer epochs" in got.output
    assert not out.exists()


def test_changing_the_learning_rate_in_libreoffice_compares_ok(libreoffice, tmp_path):
    params = DigitsParams(epochs=1, batch_size=5, train=10, valid=5)
    built = build("digits", tmp_path, params)
    edited = tmp_path / "edited.xlsx"
    train_sheet = list(built.workbook.sheets).index("train") + 1
    edit(built.path, edited, train_sheet, {"C1": 0.25})
    saved = libreoffice.recalculate(edited, tmp_path / "saved")
    result = compare_file(saved)
    assert result.ok, result.report.render()
    assert [(c.sheet, c.cell, c.after) for c in result.changes] == [("train", "C1", 0.25)]
    accuracy = next(k for k in result.key_results if k.label == "validation accuracy")
    loss = next(k for k in result.key_results if k.label == "last batch loss")
    assert loss.before != loss.after and accuracy.after is not None


def test_a_hidden_layer_recalculates_in_libreoffice_and_round_trips(libreoffice, tmp_path):
    """digits --hidden 16 --lr 0.5 at the default sizes: LibreOffice agrees with every
    cached value, and a learning rate changed there compares OK."""
    params = DigitsParams(hidden=16, lr=0.5)
    built = build("digits", tmp_path, params)
    report = verify_file(built.path, app=libreoffice)
    assert report.ok, report.render()
    edited = tmp_path / "edited.xlsx"
    edit(built.path, edited, list(built.workbook.sheets).index("train") + 1, {"C1": 0.3})
    result = compare_file(libreoffice.recalculate(edited, tmp_path / "saved"))
    assert result.ok, result.report.render()
    assert [(c.sheet, c.cell, c.after) for c in result.changes] == [("train", "C1", 0.3)]


def test_a_hidden_layer_learns_better_than_none():
    """Measured by the numpy reference: 50 ReLU units (the notebook's Mnist_NN) at
    lr 0.5 reach at least logistic regression's validation accuracy."""

    def accuracy(p: DigitsParams) -> float:
        lay, steps = train(p)
        x = np.array(p.images.pixels[p.train :]) / lay.scale
        y = np.array(p.images.labels[p.train :])
        return float((forward(x, steps[-1]["new"])["pred"] == y).mean())

    assert accuracy(DigitsParams(hidden=50, lr=0.5)) >= accuracy(DigitsParams()) - 0.01
