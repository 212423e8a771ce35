"""The code's shape: the rules that keep lessons readable and the layers one-way.

Read from the source with `ast`, so a rule broken anywhere fails here by file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sheetnet"


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the module at `path`."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module or ""]).strip(".")
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("path", _modules("lessons"), ids=lambda p: p.name)
def test_no_builder_makes_a_reference_from_numbers(path):
    """Lessons keep the cells that input(), formula() and blocks return and write formulas
    from them; a Ref(sheet, row, col) is a second copy of an address, and drifts."""
    made = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Ref"
    ]
    assert not made, f"{path.name} builds a Ref from numbers on lines {made}"


@pytest.mark.parametrize("path", _modules("reference"), ids=lambda p: p.name)
def test_the_references_read_only_the_lessons_layouts(path):
    """The engine-free references import plain data (a lesson's layout), never a builder
    or the engine's expressions: they are an independent path to every cell."""
    for line, name in _imports(path):
        if name.startswith("sheetnet.lessons."):
            parts = name.split(".")
            assert len(parts) >= 4 and parts[3] in ("layout", "data"), f"{path.name}:{line}: {name}"
        assert not name.startswith(("sheetnet.engine.expr", "sheetnet.engine.workbook")), (
            f"{path.name}:{line}: {name}"
        )


def test_the_contract_does_not_import_the_kit():
    """kit.py builds on the contract; the contract stands alone."""
    names = [name for _, name in _imports(PACKAGE / "lessons" / "contract.py")]
    assert not [n for n in names if n.startswith("sheetnet.lessons.kit")]


def test_one_lesson_does_not_import_another_s_builder():
    """What two lessons share lives in lessons/network.py or lessons/training.py; a
    lesson may read another's layout or data (conv trains on digits' images)."""
    for path in _modules("lessons"):
        lesson = path.relative_to(PACKAGE / "lessons").parts[0]
        for line, name in _imports(path):
            parts = name.split(".")
            if len(parts) >= 4 and parts[:2] == ["sheetnet", "lessons"] and parts[2] != lesson:
                assert (
                    parts[3] in ("layout", "data") or not (PACKAGE / "lessons" / parts[2]).is_dir()
                ), f"{path}:{line}: {name}"
