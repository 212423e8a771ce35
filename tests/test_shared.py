"""Fills are written as shared formulas, as Excel saves a fill: schema validation cannot
see their meaning, so each group is checked here against the model's own formulas."""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict

import pytest
from openpyxl.formula.translate import Translator

from sheetnet.engine import address
from sheetnet.lessons import LESSONS
from sheetnet.pipeline import build

CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*>(<f[^>]*/>|<f[^>]*>[^<]*</f>)?')
ATTR = re.compile(rb'(\w+)="([^"]*)"')


def groups(xml: bytes) -> dict[str, dict]:
    """si -> {'masters': [(cell, ref, text)], 'members': [cells]} of one sheet."""
    out: dict[str, dict] = defaultdict(lambda: {"masters": [], "members": []})
    for cell, f in CELL.findall(xml):
        if not f or b't="shared"' not in f:
            continue
        attrs = dict(ATTR.findall(f.split(b">")[0]))
        si = attrs[b"si"].decode()
        out[si]["members"].append(cell.decode())
        if b"ref" in attrs:
            text = re.sub(rb"^<f[^>]*>|</f>$", b"", f).decode()
            text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            out[si]["masters"].append((cell.decode(), attrs[b"ref"].decode(), text))
    return out


def cells_of(ref: str) -> set[str]:
    first, _, last = ref.partition(":")
    a, b = address.parse(first), address.parse(last or first)
    return {address.render(r, c) for r in range(a.row, b.row + 1)
            for c in range(a.col, b.col + 1)}  # fmt: skip


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_shared_group_is_whole_and_expands_to_each_cells_formula(name, tmp_path):
    lesson = LESSONS[name]
    params = lesson.examples()[0]
    built = build(name, tmp_path, params)
    model = built.workbook
    checked = 0
    with zipfile.ZipFile(built.path) as z:
        for number, sheet in enumerate(model.sheets.values(), start=1):
            xml = z.read(f"xl/worksheets/sheet{number}.xml")
            for si, group in groups(xml).items():
                assert len(group["masters"]) == 1, (sheet.name, si)
                master, ref, text = group["masters"][0]
                assert master == ref.split(":")[0]  # the master is the top left
                assert set(group["members"]) == cells_of(ref), (sheet.name, si)
                for cell in group["members"]:
                    expanded = Translator("=" + text, origin=master).translate_formula(cell)
                    at = address.parse(cell)
                    exp = sheet.cell(at.row, at.col).content.formula(sheet.name)
                    assert expanded == exp, (sheet.name, cell)
                    checked += 1
    fills = sum(f.size for s in model.sheets.values() for f in s.fills if f.size > 1)
    assert checked == fills
