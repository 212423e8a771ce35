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
