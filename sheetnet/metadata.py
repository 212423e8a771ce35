"""What a workbook remembers about how sheetnet built it: document properties.

The lesson's name and its parameters go into custom document properties (in
chunks: Excel limits a text property to 255 characters), which Excel and
LibreOffice keep when they save. `compare` reads them back to rebuild the lesson.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from typing import Any

from defusedxml import ElementTree

from . import __version__
from .lessons import get

PREFIX = "sheetnet."
CHUNK = 240
_NS = {
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
}


def _plain(params: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(params)
    if fields.get("data") is not None:
        data = fields.pop("data")
        fields["data_rows"] = len(data)
        fields["data_sha256"] = data_digest(data)
    else:
        fields.pop("data", None)
    return fields


def data_digest(pairs: Any) -> str:
    # rounded as an .xlsx number cell stores it, so the file's cells hash the same
    text = json.dumps([[float(f"{float(v):.16G}") for v in pair] for pair in pairs])
    return hashlib.sha256(text.encode()).hexdigest()


def properties_for(lesson: str, params: Any) -> dict[str, str]:
    """Custom properties recording `lesson` built with `params`."""
    text = json.dumps(_plain(params), sort_keys=True, separators=(",", ":"))
    props = {f"{PREFIX}lesson": lesson, f"{PREFIX}version": __version__}
    for i in range(0, len(text), CHUNK):
        props[f"{PREFIX}params.{i // CHUNK:03d}"] = text[i : i + CHUNK]
    return props


def read_custom_properties(path: str | os.PathLike[str]) -> dict[str, str]:
    """Name -> text of the workbook's custom document properties (empty when none)."""
    with zipfile.ZipFile(path) as z:
        if "docProps/custom.xml" not in z.namelist():
            return {}
        root = ElementTree.fromstring(z.read("docProps/custom.xml"))
    out = {}
    for prop in root.findall("cp:property", _NS):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = "" if value is None or value.text is None else value.text
    return out


def lesson_of(props: dict[str, str]) -> tuple[str, Any, dict[str, Any]]:
    """(lesson name, parameters to rebuild it with, the recorded fields) from properties."""
    name = props.get(f"{PREFIX}lesson")
    if not name:
        raise ValueError("not a sheetnet workbook (no sheetnet.lesson document property)")
    spec = get(name)
    chunks = sorted(k for k in props if k.startswith(f"{PREFIX}params."))
    try:
        fields = json.loads("".join(props[k] for k in chunks)) if chunks else {}
    except json.JSONDecodeError:
        raise ValueError("the workbook's sheetnet.params properties are damaged") from None
    recorded = dict(fields)
    rows = fields.pop("data_rows", None)
    fields.pop("data_sha256", None)
    if rows is not None:  # placeholder values: the cells hold the real data
        fields["data"] = tuple((float(i + 1), 0.0) for i in range(rows))
    known = {f.name for f in dataclasses.fields(spec.params)}
    clean = {k: _tuples(v) for k, v in fields.items() if k in known}
    try:
        return name, spec.params(**clean), recorded
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the workbook's recorded parameters are unusable: {exc}") from None


def _tuples(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    return v
