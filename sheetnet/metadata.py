"""What a workbook remembers about how sheetnet built it: document properties.

The lesson's name and its parameters go into custom document properties (in
chunks: Excel limits a text property to 255 characters), which Excel and
LibreOffice keep when they save. `compare` reads them back to rebuild the lesson.
A lesson's bulk data (a CSV the learner supplied) is recorded as its shape and a
digest only: the cells hold the data, and `compare` reads it back from them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from typing import Any

from defusedxml import ElementTree

from . import __version__
from .engine.address import MAX_COLS, MAX_ROWS
from .engine.semantics import stored
from .lessons import get
from .lessons.contract import DataRegion, Lesson, fields_of

PREFIX = "sheetnet."
EXERCISES = PREFIX + "exercises"  # "1" in an exercise workbook (see sheetnet.exercises)
CHUNK = 240
MAX_PROPERTIES_TEXT = 64 * 1024  # the recorded parameters are small; more is not ours
_NS = {
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
}
ReadRegion = Callable[[DataRegion, int, int], list[list[Any]]]


def data_digest(rows: list[list[Any]]) -> str:
    """A digest of a data region's cells, rounded as an .xlsx number cell stores them."""
    text = json.dumps([[stored(float(v)) for v in row] for row in rows])
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(lesson: Lesson, params: Any) -> dict[str, Any]:
    regions = {r.field: r for r in lesson.data_regions}
    out: dict[str, Any] = {}
    for f in fields_of(type(params)):
        value = getattr(params, f.name)
        if f.metadata["kind"].bulk:
            if value is None:
                continue
            rows = regions[f.name].cells(value)
            out[f"{f.name}_shape"] = [len(rows), len(rows[0]) if rows else 0]
            out[f"{f.name}_sha256"] = data_digest(rows)
        elif isinstance(value, dict):
            out[f.name] = dict(value)
        else:
            out[f.name] = value
    return out


def properties_for(lesson: str, params: Any) -> dict[str, str]:
    """Custom properties recording `lesson` built with `params`."""
    text = json.dumps(_plain(get(lesson), params), sort_keys=True, separators=(",", ":"))
    props = {f"{PREFIX}lesson": lesson, f"{PREFIX}version": __version__}
    for i in range(0, len(text), CHUNK):
        props[f"{PREFIX}params.{i // CHUNK:03d}"] = text[i : i + CHUNK]
    return props


def read_custom_properties(path: str | os.PathLike[str]) -> dict[str, str]:
    """Name -> text of the workbook's custom document properties (empty when none)."""
    with zipfile.ZipFile(path) as z:
        if "docProps/custom.xml" not in z.namelist():
            return {}
        info = z.getinfo("docProps/custom.xml")
        if info.file_size > 4 * MAX_PROPERTIES_TEXT:
            raise ValueError("the workbook's document properties are far too large")
        return parse_custom_properties(z.read(info))


def parse_custom_properties(xml: bytes | None) -> dict[str, str]:
    """The custom properties of a docProps/custom.xml part's bytes (None: no part)."""
    if xml is None:
        return {}
    if len(xml) > 4 * MAX_PROPERTIES_TEXT:
        raise ValueError("the workbook's document properties are far too large")
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, ValueError) as exc:
        raise ValueError(f"the workbook's document properties are damaged ({exc})") from None
    out = {}
    for prop in root.findall("cp:property", _NS):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = "" if value is None or value.text is None else value.text
    return out


@dataclasses.dataclass
class Recorded:
    """What the properties say: the lesson, its parameters, and its data's digests."""

    lesson: str
    params: Any
    digests: dict[str, str]  # bulk field -> digest of the cells when built
    regions: dict[str, tuple[DataRegion, int, int]]  # bulk field -> (region, rows, cols)


def lesson_of(props: dict[str, str], read_region: ReadRegion | None = None) -> Recorded:
    """The lesson and parameters recorded in `props`; bulk data is read from the
    workbook's cells by `read_region(region, rows, cols)`."""
    name = props.get(f"{PREFIX}lesson")
    if not name:
        raise ValueError("not a sheetnet workbook (no sheetnet.lesson document property)")
    lesson = get(name)
    chunks = sorted(k for k in props if k.startswith(f"{PREFIX}params."))
    text = "".join(props[k] for k in chunks)
    if len(text) > MAX_PROPERTIES_TEXT:
        raise ValueError("the workbook's sheetnet.params properties are far too large")
    try:
        fields = json.loads(text) if chunks else {}
    except (json.JSONDecodeError, RecursionError):
        raise ValueError("the workbook's sheetnet.params properties are damaged") from None
    if not isinstance(fields, dict):
        raise ValueError("the workbook's sheetnet.params properties are damaged")
    regions = {r.field: r for r in lesson.data_regions}
    values: dict[str, Any] = {}
    digests: dict[str, str] = {}
    shapes: dict[str, tuple[DataRegion, int, int]] = {}
    try:
        for f in fields_of(lesson.params):
            kind = f.metadata["kind"]
            if kind.bulk and f"{f.name}_sha256" in fields:
                rows, cols = _shape(fields.get(f"{f.name}_shape"))
                digests[f.name] = str(fields[f"{f.name}_sha256"])
                shapes[f.name] = (regions[f.name], rows, cols)
                if read_region is not None:
                    values[f.name] = regions[f.name].value(read_region(regions[f.name], rows, cols))
            elif f.name in fields and not kind.bulk:
                values[f.name] = kind.from_json(fields[f.name])
        params = lesson.params(**values)
    except (TypeError, ValueError, KeyError) as exc:  # ParamError included
        raise ValueError(f"the workbook's recorded parameters are unusable: {exc}") from None
    return Recorded(name, params, digests, shapes)


def _shape(v: Any) -> tuple[int, int]:
    if (
        not isinstance(v, list)
        or len(v) != 2
        or not all(type(x) is int for x in v)
        or not (0 < v[0] <= MAX_ROWS and 0 < v[1] <= MAX_COLS)
    ):
        raise ValueError(f"a data shape of {str(v)[:40]}")
    return v[0], v[1]
