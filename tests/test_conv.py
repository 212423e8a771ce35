"""The conv lesson's own points: PyTorch computes the same training step by step, a
convolution written out by hand, ties in the pool, the accuracy, a learner's CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.engine import address
from sheetnet.lessons.conv import ConvParams
from sheetnet.lessons.conv.layout import Layout
from sheetnet.lessons.digits.data import Table, builtin
from sheetnet.pipeline import compute
from sheetnet.reference.conv import predict, train
from sheetnet.verify.check import check_lesson
from sheetnet.verify.roundtrip import compare_file

PARAMS = [
    ConvParams(filters=3, epochs=2, batch_size=4, train=10, valid=3, seed=3),
    ConvParams(
        filters=2, epochs=1, batch_size=3, train=9, valid=2, lr=0.2, wd=0.05, seed=8, dropout=0.25
    ),
]


def blank_paper() -> ConvParams:
    """Six digits, three of them wiped blank: on blank paper every position of a map is
    the filter's bias (0.1 at the start), so every pool window is a four-way tie."""
    table = builtin()
    pixels = table.pixels[:6].copy()
    pixels[::2] = 0.0
    data = Table(table.labels[:8], np.vstack([pixels, table.pixels[6:8]]))
    return ConvParams(filters=2, epochs=1, batch_size=3, train=6, valid=2, seed=4, data=data)


def test_ties_in_the_pool_go_to_the_first_position_as_in_torch():
    """A window of equal values sends its gradient to the top-left position, the
    sheet's winner 1, and torch's max_pool2d does the same (test_torch runs the whole
    training on blank_paper() against torch)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: torch checks skipped")
    a = torch.tensor([[[[0.5, 0.5], [0.5, 0.5]]]], requires_grad=True, dtype=torch.float64)
    torch.nn.functional.max_pool2d(a, 2).sum().backward()
    assert a.grad.reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]

    params = blank_paper()
    _, results = compute("conv", params)
    lay = Layout(params)
    ties = 0
    for it in lay.iterations:
        for i in range(len(it.images)):
            row = it.top + 1 + i
            for f in range(lay.filters):
                for q in range(lay.pooled * lay.pooled):
                    qi, qj = divmod(q, lay.pooled)
                    cols = [lay.a + lay.z_col(f, 2 * qi + di, 2 * qj + dj)
                            for di in (0, 1) for dj in (0, 1)]  # fmt: skip
                    spots = [results.get(("train", row, col)) for col in cols]
                    win = results.get(("train", row, lay.win + lay.m_col(f, qi, qj)))
                    assert win == 1 + spots.index(max(spots))
                    if spots.count(max(spots)) == 4 and max(spots) > 0:
                        ties += 1
                        routed = [results.get(("train", row, col - lay.a + lay.da)) for col in cols]
                        assert routed[1:] == [0.0, 0.0, 0.0]
    assert ties >= 9


def test_a_convolution_written_out_by_hand():
    """train's first feature-map cell: the first image's top-left 3x3 pixels times
    filter 1, nine products, plus the bias: the formula says so and the number is the sum."""
    params = ConvParams(filters=1, epochs=1, batch_size=2, train=2, valid=1)
    wb, results = compute("conv", params)
    lay = Layout(params)
    row = lay.iterations[0].top + 1  # 0-based: the first image's row
    cell = wb["train"].cell(row, lay.z)
    r = row + 1
    assert cell.content.formula("train") == (
        f"=SUMPRODUCT(C{r}:E{r},$C$5:$E$5)+SUMPRODUCT(K{r}:M{r},$F$5:$H$5)"
        f"+SUMPRODUCT(S{r}:U{r},$I$5:$K$5)+$L$5"
    )
    assert address.render(row, lay.z) == f"BO{r}"
    x = np.array(params.images.pixels[lay.iterations[0].images[0] - 1]).reshape(8, 8) / 16
    w = lay.start_weights()[0][0]
    by_hand = (
        x[0, 0] * w[0] + x[0, 1] * w[1] + x[0, 2] * w[2]
        + x[1, 0] * w[3] + x[1, 1] * w[4] + x[1, 2] * w[5]
        + x[2, 0] * w[6] + x[2, 1] * w[7] + x[2, 2] * w[8]
        + w[9]
    )  # fmt: skip
    assert results.get(("train", row, lay.z)) == pytest.approx(by_hand, rel=1e-14)


def test_the_default_learns():
    """Measured by the numpy reference: the loss falls and the validation accuracy after
    the last epoch is far above chance (10%)."""
    p = ConvParams()
    lay, steps = train(p)
    x = np.array(p.images.pixels[p.train :]) / lay.scale
    y = np.array(p.images.labels[p.train :])
    accuracy = (predict(x, steps[-1]["new"], lay)["pred"] == y).mean()
    assert accuracy > 0.5
    losses = [float(s["mean"]) for s in steps]
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) * 0.8


def test_the_gradient_check_agrees():
    _, results = compute("conv", PARAMS[1])
    assert results.at("gradcheck", "G2") < 1e-6


def test_too_large_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    got = CliRunner().invoke(main, ["build", "conv", "-o", str(out), "--epochs", "30"])
    assert got.exit_code == 2
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and "formula cells" in lines[0] and "use fewer epochs" in lines[0]
    assert not out.exists()


def test_a_learners_csv_of_4x4_images_builds_and_compares(tmp_path):
    rng = np.random.default_rng(0)
    rows = [[int(rng.integers(0, 10)), *rng.integers(0, 256, 16).tolist()] for _ in range(9)]
    csv = Path(tmp_path / "mine.csv")
    csv.write_text("label," + ",".join(f"p{i}" for i in range(16)) + "\n"
                   + "\n".join(",".join(map(str, r)) for r in rows) + "\n")  # fmt: skip
    out = tmp_path / "out"
    got = CliRunner().invoke(main, ["build", "conv", "-o", str(out), "--data", str(csv),
                                    "--train", "6", "--valid", "3", "--batch-size", "3",
                                    "--epochs", "1", "--filters", "2"])  # fmt: skip
    assert got.exit_code == 0, got.output
    result = compare_file(out / "conv.xlsx")
    assert result.ok, result.report.render()
    table = Table(np.array([r[0] for r in rows]), np.array([r[1:] for r in rows], dtype=float))
    params = ConvParams(data=table, train=6, valid=3, batch_size=3, epochs=1, filters=2)
    report = check_lesson("conv", params)  # 2x2 feature maps, one pooled value each
    assert report.ok, report.render()


def test_an_odd_feature_map_is_refused(tmp_path):
    csv = tmp_path / "five.csv"
    rows = "\n".join(f"{k}," + ",".join(["1"] * 25) for k in range(4))
    csv.write_text("label," + ",".join(f"p{i}" for i in range(25)) + "\n" + rows + "\n")
    got = CliRunner().invoke(main, ["build", "conv", "-o", str(tmp_path / "o"), "--data",
                                    str(csv), "--train", "2", "--valid", "2",
                                    "--batch-size", "2"])  # fmt: skip
    assert got.exit_code == 2
    assert "--data: 5x5 images" in got.output
