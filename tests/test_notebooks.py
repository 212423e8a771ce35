"""Companion notebooks: written by `sheetnet notebook`, executed on a real Jupyter kernel."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.lessons import LESSONS

pytest.importorskip("torch", reason="PyTorch is not installed (pip install -e '.[torch]')")
nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the test extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra)")


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_each_companion_notebook_runs_and_agrees_with_torch(lesson, tmp_path):
    got = CliRunner().invoke(main, ["notebook", lesson, "-o", str(tmp_path)])
    assert got.exit_code == 0, got.output
    path = tmp_path / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    # a failing cell (an assertion that the workbook and torch agree) raises here
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3").execute(cwd=str(tmp_path))
    printed = "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "stream"
    )
    assert "agree" in printed and "Error" not in printed
    sources = "".join(cell.source for cell in nb.cells)
    assert "import torch" in sources and f'sn.build("{lesson}"' in sources


def test_a_notebook_is_valid_json_with_no_outputs_yet(tmp_path):
    got = CliRunner().invoke(main, ["notebook", "entropy", "-o", str(tmp_path)])
    assert got.exit_code == 0
    data = json.loads((tmp_path / "entropy.ipynb").read_text())
    assert data["nbformat"] == 4
    assert all(c.get("outputs", []) == [] for c in data["cells"])


def test_an_unknown_lesson_is_one_line(tmp_path):
    got = CliRunner().invoke(main, ["notebook", "calculus", "-o", str(tmp_path)])
    assert got.exit_code == 2 and "unknown lesson" in got.output
    assert not list(tmp_path.iterdir())
