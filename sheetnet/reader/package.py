"""A workbook file opened once: checked, then read from the same open file.

The safety checks (sheetnet.safety) and the reading share one open handle, so a
file swapped while it is read cannot slip past the checks. Sheets are found the
way applications find them, through the workbook's relationships, never by the
numbers in their part names; only the sheets asked for are read.
"""

from __future__ import annotations

import gc
import os
import posixpath
import zipfile
from pathlib import Path
from xml.parsers import expat

from ..export import helper
from ..safety import UnreadableWorkbook, check_archive
from .cells import MAX_TEXT, BadSheet, SavedSheet, read_sheet

PARALLEL_BYTES = 20_000_000  # of sheet XML: below this, a helper costs more than it saves
MAX_SHEETS = 1_000  # Excel's own limit is memory; a teaching workbook has a few dozen
MAX_CELLS = 12_000_000  # per sheet: twice the largest workbook sheetnet builds
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"


def _identity(file: object) -> tuple:
    st = os.fstat(file.fileno())  # type: ignore[attr-defined]
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class _Damaged(ValueError):
    """A workbook-level part that cannot be read; Package names the file."""


class Package:
    """An .xlsx (or .xlsm) opened for reading: ``with Package(path) as p: p.sheet("data")``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise UnreadableWorkbook(f"{self.path}: no such file")
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise UnreadableWorkbook(f"{self.path}: cannot open ({exc.strerror})") from None
        try:
            self.zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, OSError, ValueError):
            self._file.close()
            raise UnreadableWorkbook(
                f"{self.path}: not an .xlsx workbook (not a zip archive)"
            ) from None
        try:
            self.notes = check_archive(self.zip, self.path)
            self.parts = _sheet_parts(self.zip)
        except _Damaged as exc:
            self.close()
            raise UnreadableWorkbook(f"{self.path}: damaged workbook ({exc})") from None
        except BaseException:
            self.close()
            raise
        self._strings: list[str] | None = None

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()
        self._file.close()

    @property
    def sheet_names(self) -> list[str]:
        return list(self.parts)

    def sheet(self, name: str) -> SavedSheet:
        """One sheet's formulas and cached values."""
        part = self.parts.get(name)
        if part is None:
            raise KeyError(name)
        try:
            return read_sheet(lambda: self.zip.open(part), name, self.strings(), MAX_CELLS)
        except BadSheet as exc:
            raise UnreadableWorkbook(f"{self.path}: sheet {name[:40]!r}: {exc}") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:120] or type(exc).__name__
            raise UnreadableWorkbook(f"{self.path}: damaged workbook ({reason})") from None

    def sheets(self, names: list[str] | None = None) -> dict[str, SavedSheet]:
        """Several sheets; a large workbook's are read on both cores (Linux): a forked
        helper reads about half of them, by size, from the same file reopened."""
        names = list(names or self.sheet_names)
        sizes = {name: self.zip.getinfo(self.parts[name]).file_size for name in names}
        if not helper.AVAILABLE or len(names) < 2 or sum(sizes.values()) < PARALLEL_BYTES:
            return {name: self.sheet(name) for name in names}
        mine: list[str] = []
        theirs: list[str] = []
        loads = [0, 0]
        for name in sorted(names, key=sizes.__getitem__, reverse=True):
            side = 0 if loads[0] <= loads[1] else 1  # heaviest first, to the lighter side
            (mine, theirs)[side].append(name)
            loads[side] += sizes[name]
        self.strings()  # read once, before the fork: both sides need it
        identity = _identity(self._file)
        try:
            job = helper.Helper(lambda: self._read_reopened(theirs, identity))
        except OSError:
            return {name: self.sheet(name) for name in names}
        try:
            got = {name: self.sheet(name) for name in mine}
        except BaseException:
            job.stop()
            raise
        collecting = gc.isenabled()
        gc.disable()  # unpickling millions of cells: no cycles among them to collect
        try:
            found = job.result() or {}
        finally:
            if collecting:
                gc.enable()
        got.update({name: found.get(name) or self.sheet(name) for name in theirs})
        return {name: got[name] for name in names}

    def _read_reopened(self, names: list[str], identity: tuple) -> dict[str, SavedSheet]:
        """In the helper: the same file, opened anew (a shared handle's position would
        be shared too), and only if it is still the file that was checked."""
        self._file = open(self.path, "rb")  # noqa: SIM115 (the helper exits after)
        if _identity(self._file) != identity:
            raise RuntimeError("the file changed while it was read")
        self.zip = zipfile.ZipFile(self._file)
        gc.disable()  # the helper exits after pickling its sheets
        return {name: self.sheet(name) for name in names}

    def strings(self) -> list[str]:
        """The shared strings table, read on first use."""
        if self._strings is None:
            part = _related(self.zip, "xl/workbook.xml", "sharedStrings")
            self._strings = [] if part is None else _read_strings(self.zip, part, self.path)
        return self._strings

    def read(self, part: str, limit: int) -> bytes | None:
        """A small part's bytes (document properties), or None when absent."""
        try:
            info = self.zip.getinfo(part)
        except KeyError:
            return None
        if info.file_size > limit:
            raise UnreadableWorkbook(f"{self.path}: {part} is far too large")
        return self.zip.read(info)


def read_workbook(
    path: str | os.PathLike[str], sheets: list[str] | None = None
) -> dict[str, SavedSheet]:
    """Formulas and cached values of every sheet (or of `sheets`), in workbook order."""
    with Package(path) as package:
        return package.sheets(sheets)


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part, in the workbook's order, by its relationships."""
    workbook = _xml(z, "xl/workbook.xml")
    rels = _relationships(z, "xl/workbook.xml")
    parts: dict[str, str] = {}
    seen: set[str] = set()
    for tag, attrs in workbook:
        if tag.rpartition(" ")[2] != "sheet":
            continue
        name = attrs.get("name", "")
        if name.lower() in seen:
            raise _Damaged(f"two sheets are named {name[:40]!r}")
        seen.add(name.lower())
        if len(seen) > MAX_SHEETS:
            raise _Damaged(f"more than {MAX_SHEETS:,} sheets; refusing to read")
        rid = attrs.get(f"{_REL} id") or attrs.get(f"{_STRICT_REL} id")
        target = rels.get(rid or "")
        if not name or target is None:
            raise _Damaged(f"sheet {name[:40]!r} has no part in the workbook")
        if target[1].rpartition("/")[2] != "worksheet":
            continue  # a chart sheet or a dialog sheet: no cells
        if target[0] not in z.NameToInfo:
            raise _Damaged(f"sheet {name[:40]!r}: its part {target[0][:60]} is missing")
        parts[name] = target[0]
    return parts


def _related(z: zipfile.ZipFile, source: str, kind: str) -> str | None:
    for target, rel_type in _relationships(z, source).values():
        if rel_type.rpartition("/")[2] == kind:
            return target if target in z.NameToInfo else None
    return None


def _relationships(z: zipfile.ZipFile, source: str) -> dict[str, tuple[str, str]]:
    """Id -> (part name, relationship type) of a part's relationships."""
    folder, _, base = source.rpartition("/")
    rels_part = f"{folder}/_rels/{base}.rels"
    out = {}
    for tag, attrs in _xml(z, rels_part):
        if tag.rpartition(" ")[2] != "Relationship" or attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[attrs.get("Id", "")] = (posixpath.normpath(path), attrs.get("Type", ""))
    return out


def _xml(z: zipfile.ZipFile, part: str, limit: int = 16 << 20) -> list[tuple[str, dict]]:
    """The start tags of a small part (workbook, relationships), as (tag, attributes)."""
    try:
        info = z.getinfo(part)
    except KeyError:
        raise _Damaged(f"a zip archive, but not an .xlsx workbook (no {part})") from None
    if info.file_size > limit:
        raise _Damaged(f"{part} is far too large ({info.file_size:,} bytes)")
    tags: list[tuple[str, dict]] = []
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = lambda tag, attrs: tags.append((tag, attrs))
    parser.EntityDeclHandler = _refuse_entities
    try:
        parser.Parse(z.read(info), True)
    except expat.ExpatError as exc:
        raise _Damaged(f"{part}: damaged XML ({expat.errors.messages[exc.code]})") from None
    return tags


def _refuse_entities(*_: object) -> None:
    raise _Damaged("it declares XML entities; refusing to read")


def _read_strings(z: zipfile.ZipFile, part: str, path: Path) -> list[str]:
    """The shared strings: each <si>'s text runs joined (phonetic runs left out)."""
    strings: list[str] = []
    state = {"depth": 0, "in_t": False, "item": []}

    def start(tag: str, _attrs: dict) -> None:
        local = tag.rpartition(" ")[2]
        if local == "si":
            state["item"] = []
        elif local == "rPh":
            state["depth"] += 1
        elif local == "t" and not state["depth"]:
            state["in_t"] = True

    def end(tag: str) -> None:
        local = tag.rpartition(" ")[2]
        if local == "si":
            text = "".join(state["item"])  # type: ignore[arg-type]
            if len(text) > MAX_TEXT:
                raise BadSheet(f"a shared text of {len(text):,} characters (Excel: {MAX_TEXT:,})")
            strings.append(text)
        elif local == "rPh":
            state["depth"] -= 1
        elif local == "t":
            state["in_t"] = False

    def chars(data: str) -> None:
        if state["in_t"]:
            item = state["item"]
            item.append(data)  # type: ignore[union-attr]
            if len(data) > MAX_TEXT:
                raise BadSheet(f"a shared text of over {MAX_TEXT:,} characters")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = _refuse_entities
    try:
        with z.open(part) as stream:
            while chunk := stream.read(1 << 20):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (BadSheet, _Damaged) as exc:
        raise UnreadableWorkbook(f"{path}: {part}: {exc}") from None
    except expat.ExpatError as exc:
        raise UnreadableWorkbook(
            f"{path}: {part}: damaged XML ({expat.errors.messages[exc.code]})"
        ) from None
    return strings
