"""Every lesson's workbook passes OOXML schema validation (openxml-audit). Schema
validation cannot see what shared formulas mean: tests/test_shared.py checks that."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import zipfile

import pytest
from conftest import UNDER_CI

from sheetnet.lessons import LESSONS
from sheetnet.pipeline import build


def audit(path) -> dict:
    if importlib.util.find_spec("openxml_audit") is None:
        if UNDER_CI:
            pytest.fail("openxml-audit is required under CI (pip install -e '.[test]')")
        pytest.skip("openxml-audit is not installed: schema validation skipped")
    done = subprocess.run(
        [sys.executable, "-m", "openxml_audit", "-o", "json", "--max-errors", "20", str(path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return json.loads(done.stdout)[0]


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_workbook_is_schema_valid(name, tmp_path):
    built = build(name, tmp_path, LESSONS[name].examples()[0])
    found = audit(built.path)
    assert found["valid"] and found["error_count"] == 0, [
        e.get("description") for e in found["errors"]
    ]


def test_the_validator_finds_a_cell_of_an_unknown_type(tmp_path):
    """So the test above can fail: one cell typed t="x" is reported."""
    built = build("entropy", tmp_path)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(built.path) as src, zipfile.ZipFile(broken, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = re.sub(
                    rb'<c (r="[A-Z]+[0-9]+"( s="[0-9]+")?)><f>', rb'<c \1 t="x"><f>', data, count=1
                )  # a formula cell with a number: now type "x"
            out.writestr(info, data)
    found = audit(broken)
    assert not found["valid"] and found["error_count"] >= 1
