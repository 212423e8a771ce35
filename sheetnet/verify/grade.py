"""`grade`: the learner's formulas in an exercise workbook, judged by evaluation.

Each exercise's cells are read as the file holds them (the formula parser reads
what Excel, LibreOffice or Gnumeric saved) and evaluated in the lesson's model,
with sheetnet's own formulas everywhere else, on the file's inputs and on several
seeded variations of them (every input that is not a whole number, moved by a few
percent: data, starting weights, learning rates). The values must be sheetnet's on
every one: a typed number, or a formula that fits only these inputs, fails; an
equivalent formula in another form passes.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import Cell, Role, Workbook, address, evaluate
from ..engine.errors import ExcelError
from ..engine.evaluate import Results
from ..engine.parse import FormulaNotSupported, parse_formula_at
from ..exercises import Key, Placed, placed
from ..lessons import get
from ..lessons.contract import Lesson
from ..lessons.kit import workbook
from ..metadata import lesson_of, parse_custom_properties
from ..reader import Package, SavedSheet
from ..text import brief
from .report import normalise
from .roundtrip import region_reader

VARIATIONS = 3  # seeded variations of the inputs, besides the file's own
SPREAD = 0.05  # each varied input moves by about this fraction
RTOL = 1e-9


@dataclass
class Verdict:
    """How one exercise came out."""

    name: str
    task: str
    status: str  # "correct", "wrong" or "not attempted"
    cells: int
    cell: str | None = None  # the first wrong cell
    formula: str | None = None  # what the learner wrote there
    got: object = None
    expected: object = None
    inputs: str | None = None  # "your file's inputs" or "other inputs"
    hint: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"


@dataclass
class Grade:
    lesson: str
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.verdicts) and all(v.correct for v in self.verdicts)


def grade_file(path: str | os.PathLike[str], variations: int = VARIATIONS, seed: int = 0) -> Grade:
    path = Path(path)
    with Package(path) as package:
        notes = list(package.notes)
        properties = parse_custom_properties(package.read("docProps/custom.xml", 1 << 20))
        saved = package.sheets()
    recorded = lesson_of(properties, region_reader(saved))
    lesson = get(recorded.lesson)
    if not lesson.exercises:
        raise ValueError(f"the {lesson.name} lesson has no exercises")
    grade = Grade(lesson.name, notes=notes)
    model = _model(lesson, recorded.params, saved)
    found = placed(lesson, model)
    inputs = [_inputs(model, None)] + [
        _inputs(model, random.Random(seed * 1000 + v)) for v in range(1, variations + 1)
    ]
    answers = [evaluate(_with(lesson, recorded.params, values)) for values in inputs]
    for p in found:
        grade.verdicts.append(_judge(lesson, recorded.params, saved, p, inputs, answers))
    return grade


def _model(lesson: Lesson, params: Any, saved: dict[str, SavedSheet]) -> Workbook:
    """The lesson's model with the file's inputs (an input written as a formula: its value)."""
    wb = workbook(lesson, params)
    for sheet in wb.sheets.values():
        got = saved.get(sheet.name)
        if got is None:
            raise ValueError(f"sheet {sheet.name!r} is missing from the workbook")
        for (row, col), cell in list(sheet.cells.items()):
            if cell.role is Role.INPUT:
                value = normalise(got.values.at(row, col))
                if isinstance(value, float | str | bool | ExcelError):
                    sheet.cells[row, col] = Cell(value, Role.INPUT)
    return wb


Inputs = dict[tuple[str, int, int], object]


def _inputs(wb: Workbook, rng: random.Random | None) -> Inputs:
    """Every input's value; with `rng`, each one that is not a whole number moved by
    about SPREAD (labels, indexes and counts stay whole, so the layout still holds)."""
    out: Inputs = {}
    for sheet in wb.sheets.values():
        for (row, col), cell in sheet.cells.items():
            if cell.role is not Role.INPUT:
                continue
            v = cell.content
            if rng is not None and type(v) is float and not v.is_integer():
                v = v * (1.0 + SPREAD * rng.uniform(-1.0, 1.0))
            out[sheet.name, row, col] = v
    return out


def _with(
    lesson: Lesson,
    params: Any,
    values: Inputs,
    learner: Placed | None = None,
    contents: dict[Key, Any] | None = None,
) -> Workbook:
    """The lesson's model with `values` as its inputs, and, for `learner`, the
    learner's contents in that exercise's cells."""
    wb = workbook(lesson, params)
    for (sheet, row, col), v in values.items():
        wb[sheet].cells[row, col] = Cell(v, Role.INPUT)  # type: ignore[arg-type]
    if learner is not None and contents is not None:
        for (sheet, row, col), content in contents.items():
            role = Role.FORMULA if hasattr(content, "evaluate") else Role.INPUT
            if content is None:
                role = Role.EXERCISE
            wb[sheet].set((row, col), content, role)
    return wb


def _judge(
    lesson: Lesson,
    params: Any,
    saved: dict[str, SavedSheet],
    p: Placed,
    inputs: list[Inputs],
    answers: list[Results],
) -> Verdict:
    e = p.exercise
    verdict = Verdict(e.name, e.task, "correct", len(p.cells))
    contents: dict[Key, Any] = {}
    texts: dict[Key, str] = {}
    for key in p.cells:
        sheet, row, col = key
        text = saved[sheet].formulas.text_at(row, col)
        if text is not None:
            texts[key] = text
            try:
                contents[key] = parse_formula_at(text, sheet, row, col)
            except FormulaNotSupported as exc:
                return _wrong(verdict, key, text, None, None, None, f"{exc}")
        else:
            contents[key] = normalise(saved[sheet].values.at(row, col))
    if all(v is None for v in contents.values()):
        verdict.status = "not attempted"
        return verdict
    for key, content in contents.items():
        if content is None:
            return _wrong(verdict, key, None, None, None, None,
                          "this cell is still empty: fill every green cell")  # fmt: skip
        if not hasattr(content, "evaluate"):
            return _wrong(verdict, key, None, content, None, None,
                          "a typed number, not a formula: write how it is computed")  # fmt: skip
    for k, (values, answer) in enumerate(zip(inputs, answers)):
        results = evaluate(_with(lesson, params, values, p, contents))
        for key in p.cells:
            mine, exp = results[key], answer[key]
            if not _same(mine, exp):
                where = "your file's inputs" if k == 0 else "other inputs (seeded variations)"
                hint = _hint(p, texts, results, answer, key, mine, exp, k)
                return _wrong(verdict, key, texts.get(key), mine, exp, where, hint)
    return verdict


def _wrong(
    verdict: Verdict, key: Key, formula: str | None, got: object, expected: object,
    inputs: str | None, hint: str | None,
) -> Verdict:  # fmt: skip
    verdict.status = "wrong"
    sheet, row, col = key
    verdict.cell = f"{sheet}!{address.render(row, col)}"
    verdict.formula = formula
    verdict.got, verdict.expected = got, expected
    verdict.inputs, verdict.hint = inputs, hint
    return verdict


def _same(a: object, b: object) -> bool:
    a, b = normalise(a), normalise(b)
    if type(a) is float and type(b) is float:
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-300)
    return a == b


def _hint(
    p: Placed,
    texts: dict[Key, str],
    results: Results,
    answer: Results,
    key: Key,
    mine: object,
    exp: object,
    variation: int,
) -> str | None:
    """A common mistake, recognised: where it can be told, say which."""
    text = (texts.get(key) or "").upper()
    answer_text = "".join(a.formula(first[0]) for first, a in p.blocks).upper()
    if "LOG(" in text and "LN(" in answer_text and "LOG(" not in answer_text:
        return "Excel's LOG is base 10: the natural logarithm is LN"
    firsts = {first for first, _ in p.blocks}
    if key not in firsts and all(_same(results[f], answer[f]) for f in firsts):
        return ("the first cell is right but a copy is not: a reference that must stay put "
                "when you fill needs $ (as in $C$8)")  # fmt: skip
    if type(mine) is float and type(exp) is float and _same(mine, -exp) and exp != 0.0:
        return "the sign is flipped"
    if variation > 0:
        return "right on the file's numbers only: the formula must hold for any inputs"
    return None


def render_grade(grade: Grade) -> str:
    lines = [f"grade: {grade.lesson} exercises"]
    lines += [f"  {note}" for note in grade.notes]
    for v in grade.verdicts:
        lines.append(f"  {v.name:<18} {v.status.upper() if v.status != 'correct' else 'correct'}"
                     f"  ({v.cells:,} cells)")  # fmt: skip
        if v.status == "wrong":
            wrote = v.formula if v.formula is not None else brief(v.got)
            lines.append(f"      {v.cell}: you wrote {wrote}")
            if v.inputs:
                lines.append(f"      on {v.inputs} it gives {brief(v.got)}, expected "
                             f"{brief(v.expected)}")  # fmt: skip
            if v.hint:
                lines.append(f"      hint: {v.hint}")
        elif v.status == "not attempted":
            lines.append(f"      task: {v.task}")
    right = sum(v.correct for v in grade.verdicts)
    lines.append(f"  {'OK' if grade.ok else 'NOT YET'}: {right} of {len(grade.verdicts)} "
                 "exercises correct")  # fmt: skip
    return "\n".join(lines)


def grade_json(grade: Grade) -> str:
    import json

    from ..text import plain

    return json.dumps(
        {
            "lesson": grade.lesson,
            "ok": grade.ok,
            "notes": grade.notes,
            "exercises": [
                {
                    "name": v.name,
                    "status": v.status,
                    "cells": v.cells,
                    "cell": v.cell,
                    "formula": v.formula,
                    "got": plain(v.got),
                    "expected": plain(v.expected),
                    "inputs": v.inputs,
                    "hint": v.hint,
                }
                for v in grade.verdicts
            ],
        },
        indent=2,
        allow_nan=False,
    )
