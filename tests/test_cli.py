"""The command line: exit codes and what it prints."""

from __future__ import annotations

from click.testing import CliRunner

from sheetnet import __version__
from sheetnet.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_version_and_help():
    assert run("--version").output.strip().endswith(__version__)
    for cmd in ("list", "build", "check", "verify"):
        got = run(cmd, "--help")
        assert got.exit_code == 0 and "Usage:" in got.output


def test_list_names_each_lesson():
    got = run("list")
    assert got.exit_code == 0
    assert "entropy" in got.output and "entropy_example.xlsx" in got.output


def test_a_multi_lesson_build_checks_everything_before_writing(tmp_path):
    got = run("build", "entropy", "graddesc", "-o", str(tmp_path), "--epochs", "0")
    assert got.exit_code == 2 and "--epochs: must be at least 1" in got.output
    assert list(tmp_path.iterdir()) == []  # entropy, first in line, was not written either


def test_options_are_made_from_each_lessons_parameters():
    from sheetnet.lessons import LESSONS
    from sheetnet.lessons.contract import fields_of

    help_text = run("build", "--help").output
    for lesson in LESSONS.values():
        for f in fields_of(lesson.params):
            assert f"--{f.name.replace('_', '-')}" in help_text
    assert "momentum 0.9, rmsprop 0.9" in help_text  # --beta names the sheets that take it


def test_build_writes_and_says_so(tmp_path):
    got = run("build", "entropy", "-o", str(tmp_path))
    assert got.exit_code == 0, got.output
    assert (tmp_path / "entropy_example.xlsx").exists()
    assert "entropy_example.xlsx" in got.output


def test_unknown_lesson_is_a_one_line_error(tmp_path):
    got = run("build", "nope", "-o", str(tmp_path))
    assert got.exit_code == 2
    from sheetnet.lessons import LESSONS

    known = ", ".join(LESSONS)
    assert got.output.strip() == f"sheetnet: error: unknown lesson 'nope' (known: {known})"
    assert "Traceback" not in got.output
    assert list(tmp_path.iterdir()) == []


def test_check_passes():
    got = run("check", "entropy")
    assert got.exit_code == 0, got.output
    assert "OK: all cells agree" in got.output


def test_verify(libreoffice, tmp_path):
    run("build", "entropy", "-o", str(tmp_path))
    got = run("verify", str(tmp_path / "entropy_example.xlsx"))
    assert got.exit_code == 0, got.output
    assert "recalculation confirmed" in got.output


def test_verify_without_any_application_exits_2(monkeypatch, tmp_path):
    import importlib.util
    import shutil

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no LibreOffice, no Gnumeric
    monkeypatch.setattr(  # and no IronCalc
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ironcalc" else find_spec(name, *a),
    )
    run("build", "entropy", "-o", str(tmp_path))
    got = run("verify", str(tmp_path / "entropy_example.xlsx"))
    assert got.exit_code == 2
    assert "no spreadsheet application is installed" in got.output
    got = run("verify", "--app", "gnumeric", str(tmp_path / "entropy_example.xlsx"))
    assert got.exit_code == 2
    assert "Gnumeric is not installed" in got.output


def test_graddesc_options_land_in_input_cells(tmp_path):
    import openpyxl

    csv = tmp_path / "xy.csv"
    csv.write_text("x,y\n1,3\n2,5\n4,9.5\n")
    got = run(
        "build",
        "graddesc",
        "-o",
        str(tmp_path),
        "--epochs",
        "2",
        "--lr",
        "adam=0.05",
        "--beta",
        "momentum=0.8",
        "--beta2",
        "adam_ann=0.99",
        "--init-a",
        "0.5",
        "--init-b",
        "-1",
        "--data",
        str(csv),
    )
    assert got.exit_code == 0, got.output
    wb = openpyxl.load_workbook(tmp_path / "graddesc.xlsx")
    assert wb["adam"]["D2"].value == 0.05
    assert wb["momentum"]["J1"].value == 0.8
    assert wb["adam_ann"]["L1"].value == 0.99
    assert wb["basic"]["C2"].value == 0.5 and wb["rmsprop"]["C1"].value == -1
    assert [wb["data"][f"C{n}"].value for n in (5, 6, 7)] == [3, 5, 9.5]


def test_graddesc_bad_option_is_one_line(tmp_path):
    got = run("build", "graddesc", "-o", str(tmp_path), "--lr", "adamm=0.1")
    assert got.exit_code == 2
    assert got.output.count("\n") == 1 and "no sheet 'adamm'" in got.output
    assert list(tmp_path.iterdir()) == []


def test_long_builds_report_progress(tmp_path):
    from sheetnet.lessons.graddesc import GraddescParams
    from sheetnet.pipeline import build

    messages: list[str] = []
    built = build("graddesc", tmp_path, GraddescParams(epochs=150), progress=messages.append)
    assert messages[0] == "graddesc: laying out cells"
    assert messages[1] == f"graddesc: computing {built.formula_cells:,} formula cells"
    assert any(m.strip().endswith(f"of {built.formula_cells:,}") for m in messages)
    assert messages[-1].startswith("graddesc: writing")


def test_build_help_for_one_lesson_lists_its_options_only():
    from sheetnet.lessons import LESSONS

    got = run("build", "digits", "--help")
    assert got.exit_code == 0
    assert "--hidden N" in got.output and "digits: learning rate" in got.output
    assert "--lr X" in got.output and "SHEET=VALUE" not in got.output  # digits' --lr is a number
    assert "graddesc:" not in got.output and "--beta" not in got.output
    everything = run("build", "--help").output
    for lesson in LESSONS:
        assert f"{lesson}:" in everything


def test_build_says_how_the_lesson_came_out(tmp_path):
    got = run("build", "entropy", "-o", str(tmp_path))
    assert got.exit_code == 0
    lines = got.output.splitlines()
    assert lines[0].startswith("wrote ")
    assert any(line.startswith("  mean binary cross-entropy (LN): ") for line in lines)
