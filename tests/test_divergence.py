"""A learning rate that blows training up: errors as Excel shows them, warned about."""

from __future__ import annotations

import re
import zipfile

import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.engine import NUM
from sheetnet.lessons.graddesc import GraddescParams
from sheetnet.pipeline import build
from sheetnet.verify.check import check_lesson
from sheetnet.verify.recalc import verify_file

DIVERGING = GraddescParams(epochs=8, lr={"basic": 0.01, "momentum": 0.05})


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    return build("graddesc", tmp_path_factory.mktemp("d"), DIVERGING)


def test_overflow_becomes_num_error_and_propagates(diverged):
    values = diverged.results
    # the squared error overflows first; from there on every dependent cell is #NUM!
    first = next(r for r in range(4, 260) if values.at("basic", f"F{r}") is NUM)
    assert values.at("basic", f"E{first}") != NUM  # the prediction itself is still finite
    assert abs(values.at("basic", f"E{first}")) > 1e150  # (B-E)^2 is past 1.8e308
    assert values.at("summary", "D9") is NUM  # basic's error in the last epoch
    assert values.at("summary", "J9") != NUM  # adam is unaffected


def test_errors_are_cached_as_errors(diverged):
    xml = zipfile.ZipFile(diverged.path).read("xl/worksheets/sheet3.xml").decode()  # basic
    # a filled cell is a shared formula's member: its error is cached with t="e"
    assert re.search(r't="e"><f t="shared" si="[0-9]+"/><v>#NUM!</v>', xml)


def test_engine_matches_numpy_through_divergence(diverged):
    """Where numpy overflows to inf or nan, Excel (and the engine) shows #NUM!."""
    report = check_lesson("graddesc", DIVERGING)
    assert report.ok, report.render()
    errors = [k for k, v in diverged.results.items() if v is NUM]
    assert len(errors) > 500


def test_libreoffice_agrees_but_for_documented_differences(libreoffice, diverged):
    report = verify_file(diverged.path)
    assert report.ok, report.render()


def test_cli_warns_where_it_diverged(tmp_path):
    got = CliRunner().invoke(
        main, ["build", "graddesc", "-o", str(tmp_path), "--epochs", "8", "--lr", "basic=0.01",
               "--lr", "momentum=0.05"])  # fmt: skip
    assert got.exit_code == 0
    warnings = [line for line in got.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert warnings[0].startswith("warning: basic diverged in epoch ")
    assert "is #NUM! (try a smaller learning rate than 0.01)" in warnings[0]
    assert "nan" not in got.output.lower()


def test_a_digits_divergence_is_explained(tmp_path):
    from click.testing import CliRunner

    from sheetnet.cli import main

    got = CliRunner().invoke(main, ["build", "digits", "--lr", "100", "-o", str(tmp_path)])
    assert got.exit_code == 0
    warnings = [line for line in got.output.splitlines() if line.startswith("warning:")]
    assert warnings and all("diverged" in w and "smaller learning rate" in w for w in warnings)
