"""Fuzzing: a real sheetnet workbook, mutated at the byte and at the XML level, read by
`show` and `compare`: never a traceback, and within a memory and time budget."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (ROOT / "workbooks" / "entropy_example.xlsx").read_bytes()
with zipfile.ZipFile(io.BytesIO(SOURCE)) as _z:
    PARTS = {i.filename: _z.read(i) for i in _z.infolist()}
XML_PARTS = sorted(n for n in PARTS if n.endswith(".xml"))
SNIPPETS = [
    b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A1" t="e"><v>#BOGUS!</v></c>',
    b'<c r="B2"><f>1/0</f><v>x</v></c>', b'<c r="C3" t="s"><v>99999</v></c>',
    b'<row r="0"/>', b'<row r="99999999"/>', b"<!--", b"]]>", b"&amp", b"\xff\xfe",
    b'<dimension ref="A1:XFD1048576"/>', b'<f t="shared" si="0"/>', b"<v>nan</v>",
    b"<v>1e999</v>", b'<vt:lpwstr>{"epochs":1e9}</vt:lpwstr>',
]  # fmt: skip


def run(args: list[str]) -> None:
    got = CliRunner().invoke(main, args)
    assert got.exception is None or isinstance(got.exception, SystemExit), got.exception
    assert got.exit_code in (0, 1, 2), got.output
    assert "Traceback" not in got.output
    if got.exit_code == 2:
        lines = got.output.strip().splitlines()
        assert lines and lines[-1].startswith("sheetnet: error:"), got.output


def xml_mutation(draw: st.DrawFn) -> bytes:
    """The workbook with one XML part cut, spliced or given a hostile snippet."""
    name = draw(st.sampled_from(XML_PARTS))
    data = PARTS[name]
    at = draw(st.integers(0, len(data)))
    kind = draw(st.sampled_from(["cut", "insert", "duplicate"]))
    if kind == "cut":
        data = data[:at] + data[at + draw(st.integers(1, 200)) :]
    elif kind == "insert":
        data = data[:at] + draw(st.sampled_from(SNIPPETS)) + data[at:]
    else:
        data = data[:at] + data[at : at + 300] + data[at:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part, content in PARTS.items():
            z.writestr(part, data if part == name else content)
    return out.getvalue()


def byte_mutation(draw: st.DrawFn) -> bytes:
    """The file itself with a few bytes changed (headers, deflate streams, directory)."""
    raw = bytearray(SOURCE)
    for _ in range(draw(st.integers(1, 8))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    return xml_mutation(draw) if draw(st.booleans()) else byte_mutation(draw)


@settings(
    max_examples=int(os.environ.get("SHEETNET_FUZZ", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutated())
def test_mutated_workbooks_never_end_in_a_traceback(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "mutated.xlsx"
    path.write_bytes(data)
    run(["show", str(path)])
    run(["show", str(path), "--sheet", "softmax", "--formulas"])
    run(["compare", str(path)])


def limited(args: list[str], memory_mb: int = 2048, seconds: int = 180):
    """Run sheetnet in a child with an address-space limit and a time limit."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "sheetnet", *args], capture_output=True,
                          text=True, timeout=seconds, preexec_fn=limit, env=env)  # fmt: skip


def test_hostile_files_stay_within_memory_and_time(tmp_path):
    """The worst of each kind, in a child limited to 2 GB and 3 minutes."""
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    rows = b"".join(b'<row r="%d"/>' % i for i in range(20, 400_000)) + b"</sheetData>"
    cases = {
        "far": ("xl/worksheets/sheet2.xml", lambda d: d.replace(b"</sheetData>", far)),
        "rows": ("xl/worksheets/sheet2.xml", lambda d: d.replace(b"</sheetData>", rows)),
    }
    for name, (part, change) in cases.items():
        path = tmp_path / f"{name}.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for p, content in PARTS.items():
                z.writestr(p, change(content) if p == part else content)
        for args in (["show", str(path), "--sheet", "softmax", "--rows", "1:1048576"],
                     ["compare", str(path)]):  # fmt: skip
            done = limited(args)
            assert done.returncode in (0, 1, 2), done.stderr[-2000:]
            assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    # a deflated bomb behind a stored, incompressible padding member
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w") as z:
        for p, content in PARTS.items():
            z.writestr(p, content, zipfile.ZIP_DEFLATED)
        z.writestr("xl/media/padding.bin", os.urandom(8 << 20), zipfile.ZIP_STORED)
        z.writestr("xl/worksheets/sheet9.xml", b"<a>" + b" " * (300 << 20) + b"</a>",
                   zipfile.ZIP_DEFLATED)  # fmt: skip
    done = limited(["show", str(bomb)])
    assert done.returncode == 2 and "possible zip bomb" in done.stderr, done.stderr[-500:]
