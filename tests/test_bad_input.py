"""Bad input gets one clear line and exit code 2; nothing is written or changed."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.export.fingerprint import untouched
from sheetnet.lessons import LESSONS


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(got, message: str, outdir: Path) -> None:
    assert got.exit_code == 2, got.output
    assert "Traceback" not in got.output
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error:"), got.output
    assert message in lines[0]
    assert not outdir.exists() or list(outdir.iterdir()) == []


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


CSV_CASES = [
    ("missing.csv", None, "no such file"),
    ("empty.csv", "", "the file is empty"),
    ("noheader.csv", "1,2\n3,4\n", "line 1 must be the header 'x,y'"),
    ("onecol.csv", "x\n1\n2\n", "line 1 must be the header 'x,y'"),
    ("text.csv", "x,y\n1,2\n3,four\n", "line 3: y is not a number: 'four'"),
    ("nan.csv", "x,y\n1,2\nnan,4\n", "line 3: x is nan, not a finite number"),
    ("inf.csv", "x,y\n1,inf\n2,3\n", "line 2: y is inf, not a finite number"),
    ("onerow.csv", "x,y\n1,2\n", "need at least 2 data rows, found 1"),
    ("extra.csv", "x,y,z\n1,2,3\n", "extra columns: z"),
    ("ragged.csv", "x,y\n1,2\n3,4,5\n", "line 3: expected 2 values"),
    ("latin1.csv", "x,y\n1,2\n3,4 \xe9\n".encode("latin-1"), "not UTF-8 text"),
    ("utf16.csv", "x,y\n1,2\n3,4\n".encode("utf-16"), "not UTF-8 text"),
]


@pytest.mark.parametrize(("name", "content", "message"), CSV_CASES)
def test_bad_csv(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        write(path, content)
    out = tmp_path / "out"
    got = run("build", "graddesc", "-o", out, "--data", path)
    assert_refused(got, message, out)


def test_bom_is_fine(tmp_path):
    path = write(tmp_path / "bom.csv", "\ufeffx,y\n1,2\n2,4\n3,6.5\n".encode())
    got = run("build", "graddesc", "-o", tmp_path / "out", "--data", path, "--epochs", "2")
    assert got.exit_code == 0, got.output


def test_more_rows_than_excel_holds(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("x,y\n")
        f.write("1,2\n" * 1_048_573)
    out = tmp_path / "out"
    assert_refused(run("build", "graddesc", "-o", out, "--data", path), "do not fit", out)


def test_rows_times_epochs_beyond_excel(tmp_path):
    out = tmp_path / "out"
    got = run("build", "graddesc", "-o", out, "--rows", "100000", "--epochs", "11")
    assert_refused(got, "Excel allows 1,048,576", out)


def test_huge_file(tmp_path, monkeypatch):
    from sheetnet import inputs

    monkeypatch.setattr(inputs, "MAX_CSV_BYTES", 1000)  # the limit every CSV reader shares
    path = write(tmp_path / "huge.csv", "x,y\n" + "1,2\n" * 500)
    out = tmp_path / "out"
    assert_refused(run("build", "graddesc", "-o", out, "--data", path), "more than the", out)


PARAM_CASES = [
    (["--lr", "adam=0"], "--lr: adam=0.0: a learning rate must be positive"),
    (["--lr", "basic=-0.1"], "a learning rate must be positive"),
    (["--lr", "adam"], "--lr: 'adam': expected SHEET=VALUE"),
    (["--lr", "adam=fast"], "'fast' is not a number"),
    (["--lr", "nosuch=0.1"], "no sheet 'nosuch'"),
    (["--beta", "momentum=1"], "a beta must be in [0, 1)"),
    (["--beta", "adam=-0.1"], "a beta must be in [0, 1)"),
    (["--beta2", "momentum=0.9"], "no sheet 'momentum' takes it"),
    (["--epochs", "0"], "--epochs: must be at least 1, not 0"),
    (["--epochs", "-3"], "--epochs: must be at least 1"),
    (["--epochs", "2", "--epochs", "3"], "--epochs: given more than once"),
    (["--rows", "0"], "--rows: must be at least 2"),
    (["--lr", "adam=nan"], "not a finite number"),
    (["--init-a", "inf"], "--init-a: inf is not a finite number"),
    (["--start-sq", "0"], "--start-sq: must be positive"),
    (["--true-a", "3", "--data", "x.csv"], "--true-a: cannot be combined with --data"),
]


@pytest.mark.parametrize(("args", "message"), PARAM_CASES)
def test_bad_parameters(tmp_path, args, message):
    out = tmp_path / "out"
    assert_refused(run("build", "graddesc", "-o", out, *args), message, out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "entropy", "--outputs", "1,2"], "--outputs: expected 5 comma-separated"),
        (["build", "entropy", "--labels-preds", "1:0.5,1:2,0:0,0:1,1:1"], "in [0, 1], not 2"),
        (["build", "graddesc", "--epochs", "abc"], "--epochs: 'abc' is not a whole number"),
        (["build", "graddesc", "--rows", "5", "--data", "x.csv"], "cannot be combined with --data"),
        (
            ["build", "entropy", "--epochs", "5"],
            "--epochs is an option of "
            + ", ".join(n for n, lesson in LESSONS.items() if "epochs" in lesson.option_names())
            + ", not of entropy",
        ),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["compare"], "Missing argument 'FILE'"),
        (["compare", "x.xlsx", "--rtol", "-1"], "is not a tolerance from 0 to 1"),
        (["verify", "missing.xlsx"], "missing.xlsx: no such file"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, args, message):
    out = tmp_path / "out"
    assert_refused(run(*args, *(["-o", out] if args[0] == "build" else [])), message, out)


def test_unknown_lesson(tmp_path):
    out = tmp_path / "out"
    assert_refused(run("build", "graddescent", "-o", out), "unknown lesson 'graddescent'", out)
    assert_refused(run("check", "nope"), "unknown lesson 'nope'", out)


def test_user_text_never_becomes_a_formula(tmp_path):
    """Text starting with = + - @ is written as text: the classic injection route."""
    import openpyxl

    from sheetnet.lessons.entropy import EntropyParams
    from sheetnet.pipeline import build

    names = ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","y")')
    built = build("entropy", tmp_path, EntropyParams(classes=names))
    ws = openpyxl.load_workbook(built.path)["softmax"]
    for i, name in enumerate(names):
        cell = ws[f"A{i + 3}"]
        assert (cell.value, cell.data_type) == (name, "s")
    xml = (
        zipfile.ZipFile(built.path).read("xl/worksheets/sheet2.xml").decode()
    )  # softmax, after front
    formulas = re.findall(r"<f>(.*?)</f>", xml)
    assert formulas and not any("1+1" in f or "HYPERLINK" in f or "SUM(A1)" in f for f in formulas)
    # F3:F7 repeat the names by formula (=A3): their results are text values, t="str"
    assert re.search(r'<c r="F7" t="str"><f>A7</f><v>=HYPERLINK', xml.replace("&quot;", '"'))


# -- files ------------------------------------------------------------------------------


def test_build_refuses_to_overwrite_an_edited_workbook(tmp_path):
    assert run("build", "entropy", "-o", tmp_path).exit_code == 0
    target = tmp_path / "entropy_example.xlsx"
    # what a spreadsheet application does on save: a new archive, no sheetnet fingerprint
    data = io.BytesIO()
    with zipfile.ZipFile(target) as zin, zipfile.ZipFile(data, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    target.write_bytes(data.getvalue())
    before = target.read_bytes()
    got = run("build", "entropy", "-o", tmp_path)
    assert got.exit_code == 2
    assert "was changed since sheetnet wrote it" in got.output and "--force" in got.output
    assert target.read_bytes() == before
    got = run("build", "entropy", "-o", tmp_path, "--force")
    assert got.exit_code == 0 and target.read_bytes() != before
    assert untouched(target)


def test_rebuilding_an_untouched_workbook_is_allowed(tmp_path):
    assert run("build", "entropy", "-o", tmp_path).exit_code == 0
    assert run("build", "entropy", "-o", tmp_path).exit_code == 0


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


BAD_FILES = {
    "notzip.xlsx": lambda p: write(p, "just text, not a workbook"),
    "truncated.xlsx": None,  # filled in below from a real workbook
    "otherzip.xlsx": lambda p: _zip(p, {"readme.txt": b"hello"}),
    "bomb.xlsx": lambda p: _zip(p, {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>",
                                    "xl/big.xml": b"0" * 300_000_000}),
    "entities.xlsx": lambda p: _zip(p, {
        "[Content_Types].xml": b"<x/>",
        "xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">'
                           b'<!ENTITY b "&a;&a;&a;">]><workbook>&b;</workbook>'}),
    "damaged.xlsx": lambda p: _zip(p, {"[Content_Types].xml": b"<x/>",
                                       "xl/workbook.xml": b"<not-closed"}),
}  # fmt: skip

MESSAGES = {
    "notzip.xlsx": "not an .xlsx workbook",
    "truncated.xlsx": "not an .xlsx workbook",
    "otherzip.xlsx": "a zip archive, but not an .xlsx workbook",
    "bomb.xlsx": "possible zip bomb",
    "entities.xlsx": "declares XML entities",
    "damaged.xlsx": "damaged workbook",
}


@pytest.fixture
def bad_file(tmp_path, request):
    name = request.param
    path = tmp_path / name
    if name == "truncated.xlsx":
        run("build", "entropy", "-o", tmp_path / "src")
        whole = (tmp_path / "src" / "entropy_example.xlsx").read_bytes()
        write(path, whole[: len(whole) // 2])
    else:
        BAD_FILES[name](path)
    return path


@pytest.mark.parametrize("bad_file", list(BAD_FILES), indirect=True)
@pytest.mark.parametrize("command", ["compare", "show", "verify"])
def test_untrusted_files_are_refused(bad_file, command):
    before = bad_file.read_bytes()
    got = run(command, bad_file)
    assert got.exit_code == 2, got.output
    assert MESSAGES[bad_file.name] in got.output
    assert "Traceback" not in got.output
    assert bad_file.read_bytes() == before


def test_macros_are_ignored_and_said_so(tmp_path):
    run("build", "entropy", "-o", tmp_path)
    src = tmp_path / "entropy_example.xlsx"
    xlsm = tmp_path / "with_macros.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(xlsm, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/vbaProject.bin", b'\x00Attribute VB_Name = "evil"')
    got = run("show", xlsm, "--rows", "1:3")
    assert got.exit_code == 0, got.output
    assert "contains macros: they are ignored, never run" in got.output
