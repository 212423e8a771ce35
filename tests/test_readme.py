"""README's Python examples run, and print what README says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_python_examples_run_and_print_what_they_claim():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
        printed = out.getvalue().splitlines()
        claims = [c.strip() for c in re.findall(r"print\(.*?\)\s*# (.*)", code)]
        assert len(printed) == len(claims)
        for got, claim in zip(printed, claims):
            assert got.startswith(claim.rstrip(".")), (got, claim)


def test_shown_tables_are_what_show_prints(monkeypatch):
    from click.testing import CliRunner

    from sheetnet.cli import main

    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # README's paths are relative
    blocks = re.findall(r"```\n\$ sheetnet (show [^\n]*)\n(.*?)```", README, re.S)
    assert len(blocks) == 2
    for command, shown in blocks:
        got = CliRunner().invoke(main, command.split())
        assert got.exit_code == 0
        assert got.output.rstrip() == shown.rstrip()
