"""Hostile input, round two: options checked before anything is written, reports that
stay valid and printable, CSV corners, a build that leaves the terminal's handlers."""

from __future__ import annotations

import json
import os
import signal
import zipfile
from pathlib import Path

import pytest
from test_bad_input import assert_refused, run, write

from sheetnet.pipeline import build

ROOT = Path(__file__).resolve().parents[1]


def test_every_option_is_checked_before_the_first_file_is_written(tmp_path):
    out = tmp_path / "out"
    got = run("build", "entropy", "graddesc", "--seed", "-1", "-o", out)
    assert_refused(got, "--seed: must be a whole number from 0", out)


@pytest.mark.parametrize("lesson", ["digits", "backprop"])
def test_a_negative_seed_is_named_as_the_seed(tmp_path, lesson):
    out = tmp_path / "out"
    assert_refused(run("build", lesson, "--seed", "-3", "-o", out), "--seed:", out)


@pytest.mark.parametrize("rtol", ["nan", "inf", "-1", "2"])
def test_a_tolerance_that_would_pass_everything_is_refused(rtol):
    got = run("compare", ROOT / "workbooks" / "entropy_example.xlsx", "--rtol", rtol)
    assert got.exit_code == 2 and "not a tolerance from 0 to 1" in got.output


def test_an_infinite_cached_value_is_a_mismatch_and_the_json_stays_valid(tmp_path):
    src = ROOT / "workbooks" / "entropy_example.xlsx"
    bad = tmp_path / "inf.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":  # softmax: C3's cached exp
                start = data.index(b'<c r="C3"')
                v = data.index(b"<v>", start) + 3
                data = data[:v] + b"1e999" + data[data.index(b"</v>", v) :]
            zout.writestr(info, data)
    got = run("compare", bad, "--json")
    assert got.exit_code == 1, got.output
    report = json.loads(got.output)  # would fail on Infinity
    cells = [m["cell"] for s in report["sheets"] for m in s["mismatches"]]
    assert "softmax!C3" in cells


def test_control_characters_from_a_file_never_reach_the_terminal():
    got = run("show", ROOT / "workbooks" / "entropy_example.xlsx", "--sheet", "x\x1b[31m\u202e")
    assert got.exit_code == 2
    assert "\x1b" not in got.output and "\u202e" not in got.output and "\\u001b" in got.output


CSV = [
    ("quoted.csv", 'x,y\n1,2\n"3\n2",4\n', "x is not a number"),
    ("twice.csv", "x,y,y\n1,2,3\n4,5,6\n", "y given twice"),
]


@pytest.mark.parametrize(("name", "content", "message"), CSV)
def test_csv_corners(tmp_path, name, content, message):
    out = tmp_path / "out"
    got = run("build", "graddesc", "-o", out, "--data", write(tmp_path / name, content))
    assert_refused(got, message, out)


def test_a_line_separator_inside_a_line_does_not_split_it(tmp_path):
    # U+2028 is not a CSV line break: the field is text, refused by its own line number
    out = tmp_path / "out"
    path = write(tmp_path / "ls.csv", "x,y\n1,2\n3\u20284,5\n6,7\n")
    assert_refused(run("build", "graddesc", "-o", out, "--data", path), "line 3: x", out)


def test_a_label_column_given_twice_is_refused(tmp_path):
    header = "label,label," + ",".join(f"p{i}" for i in range(63))
    path = write(tmp_path / "d.csv", header + "\n" + ",".join(["1"] * 65) + "\n")
    out = tmp_path / "out"
    assert_refused(run("build", "digits", "-o", out, "--data", path), "more than once", out)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_or_a_folder_given_as_data_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    for data in (fifo, tmp_path):
        got = run("build", "graddesc", "-o", out, "--data", data)
        assert_refused(got, "not a regular file", out)


def test_a_build_in_a_python_process_leaves_its_signal_handlers(tmp_path):
    mine = signal.getsignal(signal.SIGTERM)
    got = run("build", "entropy", "-o", tmp_path)
    assert got.exit_code == 0, got.output
    assert signal.getsignal(signal.SIGTERM) is mine
    assert build  # the library's build is the CLI's: no handlers of its own


def test_an_optimizers_run_beyond_the_cap_is_refused_up_front(tmp_path):
    out = tmp_path / "out"
    got = run("build", "optimizers", "--iterations", "20000", "--batch-size", "29", "-o", out)
    assert_refused(got, "formula cells; at most 5,000,000", out)


def test_a_file_cut_short_is_refused_before_its_lesson_is_built(tmp_path):
    """Its properties record optimizers with 15,000 iterations; its sheets hold nothing."""
    import re
    import time

    src = ROOT / "workbooks" / "optimizers.xlsx"
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(cut, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/custom.xml":
                assert b'"iterations":100' in data
                data = data.replace(b'"iterations":100', b'"iterations":15000')
            elif info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData/>", data, flags=re.S)
            zout.writestr(info, data)
    for command in ("compare", "verify"):
        started = time.monotonic()
        got = run(command, cut, *(["--app", "sheetnet"] if command == "verify" else []))
        assert time.monotonic() - started < 10
        if command == "compare":
            assert got.exit_code == 2 and "does not hold the optimizers workbook" in got.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_at_the_target_is_refused_without_opening_it(tmp_path):
    os.mkfifo(tmp_path / "entropy_example.xlsx")
    got = run("build", "entropy", "-o", tmp_path)
    assert got.exit_code == 2 and "is not a regular file" in got.output


def test_a_failed_build_leaves_no_new_folders(tmp_path, monkeypatch):
    from sheetnet.export import xlsx

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(xlsx, "_write_atomically", broken)
    target = tmp_path / "full" / "new" / "sub"
    got = run("build", "entropy", "-o", target)
    assert got.exit_code == 2 and "disk full" in got.output
    assert list(tmp_path.iterdir()) == []
