"""Hostile workbooks and interrupted writes: one line and exit 2, bounded work, nothing lost."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetnet.cli import main
from sheetnet.export import helper
from sheetnet.export.xlsx import sweep_parts

ROOT = Path(__file__).resolve().parents[1]
ENTROPY = ROOT / "workbooks" / "entropy_example.xlsx"


def rewrite(dst: Path, change: dict[str, object]) -> Path:
    """A copy of the entropy workbook with parts replaced (bytes) or rewritten (callable)."""
    with zipfile.ZipFile(ENTROPY) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            new = change.get(info.filename)
            zout.writestr(info.filename, new(data) if callable(new) else new or data)
    return dst


def refused(args: list[str], message: str) -> None:
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 2, got.output
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sheetnet: error:"), got.output
    assert message in lines[0], lines[0]


@pytest.mark.parametrize("command", [["show"], ["compare"], ["verify", "--app", "libreoffice"]])
def test_an_entity_declaration_anywhere_in_any_part_is_refused(command, tmp_path):
    def doctype_after_a_long_comment(data: bytes) -> bytes:
        return data.replace(
            b"?>", b"?><!--" + b"x" * 20_000 + b'--><!DOCTYPE x [<!ENTITY a "b">]>', 1
        )

    bad = rewrite(tmp_path / "bad.xlsx", {"xl/charts/chart1.xml": doctype_after_a_long_comment})
    refused([*command, str(bad)], "declares XML entities")


@pytest.mark.parametrize("command", [["show"], ["compare"]])
def test_a_damaged_deflate_stream_is_one_line(command, tmp_path):
    raw = bytearray(ENTROPY.read_bytes())
    info = zipfile.ZipFile(ENTROPY).getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    raw[start : start + 24] = bytes(24)
    bad = tmp_path / "damaged.xlsx"
    bad.write_bytes(bytes(raw))
    refused([*command, str(bad)], "corrupt")


def test_a_sheet_claiming_the_whole_grid_costs_what_it_holds(tmp_path):
    def claim(data: bytes) -> bytes:
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        rows = b"".join(b'<row r="%d"/>' % i for i in range(20, 300_000))
        return data.replace(b"</sheetData>", rows + b"</sheetData>")

    bad = rewrite(tmp_path / "claims.xlsx", {"xl/worksheets/sheet2.xml": claim})
    # in a child, with a time bound: work proportional to the file, not to its claim
    done = subprocess.run([sys.executable, "-m", "sheetnet", "show", str(bad), "--sheet",
                           "softmax"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "softmax" in done.stdout or "cat" in done.stdout


def test_a_table_larger_than_a_screen_can_hold_is_refused(tmp_path):
    def far_cell(data: bytes) -> bytes:
        far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        return data.replace(b"</sheetData>", far + b"</sheetData>")

    bad = rewrite(tmp_path / "far.xlsx", {"xl/worksheets/sheet2.xml": far_cell})
    refused(["show", str(bad), "--sheet", "softmax", "--rows", "1:1048576"], "use fewer --rows")


CUSTOM = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas'
    '.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.open'
    'xmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-'
    '9397-08002B2CF9AE}" pid="2" name="sheetnet.lesson"><vt:lpwstr>graddesc</vt:lpwstr>'
    '</property><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" '
    'name="sheetnet.params.000"><vt:lpwstr>{params}</vt:lpwstr></property></Properties>'
)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ('{"epochs":32767,"rows":29}', "formula cells"),
        ('{"epochs":2.5}', "expected a whole number"),
        ('{"seed":"abc"}', "expected a whole number"),
        ('{"data_shape":[1000000000,2],"data_sha256":"0"}', "a data shape"),
    ],
)
def test_recorded_parameters_are_checked_before_any_work(tmp_path, params, message):
    from sheetnet.lessons.graddesc import GraddescParams
    from sheetnet.pipeline import build

    built = build("graddesc", tmp_path, GraddescParams(epochs=2))
    custom = CUSTOM.replace("{params}", params.replace('"', "&quot;"))
    with zipfile.ZipFile(built.path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    parts["docProps/custom.xml"] = custom.encode()
    bad = tmp_path / "props.xlsx"
    with zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    refused(["compare", str(bad)], message)


def test_a_killed_build_leaves_the_old_file_and_no_lasting_litter(tmp_path):
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", "entropy", "-o", str(out)]).exit_code == 0
    target = out / "entropy_example.xlsx"
    before = target.read_bytes()
    child = subprocess.Popen([sys.executable, "-m", "sheetnet", "build", "graddesc", "-o",
                              str(out), "--epochs", "400"], stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(out.glob(".graddesc.*.xlsx.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=60)
    assert child.returncode != 0
    assert list(out.glob("*.part")) == []  # removed on the signal
    assert not (out / "graddesc.xlsx").exists() and target.read_bytes() == before


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not helper.AVAILABLE, reason="the writer's helper needs fork (Linux)")
def test_a_build_killed_while_its_helper_writes_leaves_nothing_behind(tmp_path):
    """SIGTERM while the forked helper is writing worksheets: the build exits non-zero,
    the part is removed, and the helper is stopped and reaped, not left running."""
    command = [sys.executable, "-m", "sheetnet", "build", "graddesc", "--epochs", "400"]
    child = subprocess.Popen([*command, "-o", str(tmp_path)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    helpers: list[int] = []
    while not helpers and child.poll() is None and time.monotonic() < deadline:
        helpers = _children(child.pid)
        time.sleep(0.01)
    assert helpers, "the build finished or stalled before its helper started"
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=60)
    assert child.returncode != 0
    assert list(tmp_path.glob("*.part")) == [] and not (tmp_path / "graddesc.xlsx").exists()
    for pid in helpers:
        assert not Path(f"/proc/{pid}").exists(), f"helper {pid} outlived the build"


def test_parts_of_a_process_killed_outright_are_swept_on_the_next_build(tmp_path):
    target = tmp_path / "entropy_example.xlsx"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".entropy_example.{dead}.abc123.xlsx.part"
    mine = tmp_path / f".entropy_example.{os.getpid()}.def456.xlsx.part"
    other = tmp_path / ".notes.txt.part"
    for p in (stale, mine, other):
        p.write_bytes(b"x" * 100)
    sweep_parts(target)
    assert not stale.exists() and mine.exists() and other.exists()


def test_an_unwritable_folder_is_one_line_and_nothing_lost(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/sheetnet-cannot-write-here")
        refused(["build", "entropy", "-o", str(target)], "sheetnet-cannot-write-here")
        return
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    refused(["build", "entropy", "-o", str(folder)], "locked")


def test_a_hanging_application_is_one_line_after_its_timeout(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("soffice", "ssconvert"):
        (fake / name).write_text("#!/bin/sh\nsleep 30\n")
        (fake / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SHEETNET_APP_TIMEOUT", "1")
    started = time.monotonic()
    refused(["verify", "--app", "libreoffice", str(ENTROPY)], "did not finish within 1 s")
    refused(["verify", "--app", "gnumeric", str(ENTROPY)], "did not finish within 1 s")
    assert time.monotonic() - started < 25  # it gave up; it did not wait for the sleep


def test_an_edit_saved_while_a_build_computes_is_not_overwritten(tmp_path):
    from sheetnet.pipeline import EditedWorkbook, build

    build("entropy", tmp_path)
    target = tmp_path / "entropy_example.xlsx"

    def someone_saves(message: str) -> None:
        if message.startswith("entropy: writing"):  # the learner saves, mid-build:
            with zipfile.ZipFile(target) as zin:  # a new archive, as applications save
                parts = {i.filename: zin.read(i) for i in zin.infolist()}
            with zipfile.ZipFile(target, "w") as zout:
                for name, data in parts.items():
                    zout.writestr(name, data)

    with pytest.raises(EditedWorkbook, match="changed since sheetnet wrote it"):
        build("entropy", tmp_path, progress=someone_saves)
    with zipfile.ZipFile(target) as z:
        assert z.comment == b""  # still the learner's file, not sheetnet's
    assert list(tmp_path.glob("*.part")) == []
