"""Workbooks from anywhere are untrusted: look before openpyxl parses anything.

An .xlsx is a zip of XML parts. Refused: anything that is not a zip, a zip that is
not a workbook, one that would inflate past a limit (zip bombs), one whose parts
declare XML entities (entity expansion attacks; openpyxl also parses through
defusedxml). Macros in an .xlsm are never run: sheetnet reads cells only.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from pathlib import Path

from .text import printable

# The largest workbook sheetnet builds (5 million formula cells) holds about 330 MB of
# XML, packed about 4 to 6 times; reading one costs about 200 bytes of memory per cell.
MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 100  # per part: XML compresses well, but not a thousand to one
MAX_PARTS = 10_000
_ENTITY = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)


class UnreadableWorkbook(ValueError):
    """A file sheetnet will not read, with a one-line reason."""


def inspect_xlsx(path: str | os.PathLike[str]) -> list[str]:
    """Check `path` is a plausible, safe workbook; return notes worth telling the user."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableWorkbook(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise UnreadableWorkbook(f"{path}: not an .xlsx workbook (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as z:
            return check_archive(z, path)
    except zipfile.BadZipFile as exc:
        raise UnreadableWorkbook(f"{path}: corrupt workbook ({str(exc)[:120]})") from None


def check_archive(z: zipfile.ZipFile, path: Path) -> list[str]:
    """The checks of inspect_xlsx on an archive already open (read from the same handle
    afterwards, so the file checked is the file read)."""
    notes = []
    try:
        infos = z.infolist()
        if len(infos) > MAX_PARTS:
            raise UnreadableWorkbook(f"{path}: {len(infos):,} parts; refusing to read")
        names = {i.filename for i in infos}
        if len(names) != len(infos):
            raise UnreadableWorkbook(f"{path}: two parts share a name; refusing to read")
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise UnreadableWorkbook(f"{path}: a zip archive, but not an .xlsx workbook")
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        # per part, so a well-packed bomb cannot hide behind a stored, random padding;
        # and over all parts, so many small bombs cannot add up to a big one
        bomb = [
            i
            for i in infos
            if i.file_size > 10_000_000 and i.file_size > MAX_RATIO * i.compress_size
        ]
        many = total > 20_000_000 and total > MAX_RATIO * packed
        if total > MAX_UNCOMPRESSED or bomb or many:
            ratio = max(
                (i.file_size / max(i.compress_size, 1) for i in bomb), default=total / packed
            )
            raise UnreadableWorkbook(
                f"{path}: would inflate to {total:,} bytes ({ratio:.0f}x); "
                "refusing to read (possible zip bomb)"
            )
        for info in infos:
            if _declares_entities(z, info):
                name = printable(info.filename[:80])
                raise UnreadableWorkbook(f"{path}: {name} declares XML entities; refusing to read")
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            notes.append(f"{path.name} contains macros: they are ignored, never run")
    except zipfile.BadZipFile as exc:
        raise UnreadableWorkbook(f"{path}: corrupt workbook ({str(exc)[:120]})") from None
    except (zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        # a damaged deflate stream, an unsupported (deflate64) or encrypted member
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise UnreadableWorkbook(f"{path}: corrupt or unreadable workbook ({reason})") from None
    return notes


def _declares_entities(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML part declares a DOCTYPE or entities anywhere (read whole, in
    chunks: a declaration may follow a long comment). Every member is read, which
    also proves it inflates (a damaged stream raises here, not later)."""
    xml = not info.filename.lower().endswith((".bin", ".png", ".jpeg", ".jpg", ".emf"))
    tail = b""
    with z.open(info) as part:
        while chunk := part.read(1 << 20):
            # UTF-16 and UTF-32 put NULs between ASCII letters: look without them too
            seen = tail + chunk
            if xml and (_ENTITY.search(seen) or _ENTITY.search(seen.replace(b"\0", b""))):
                return True
            tail = chunk[-64:]
    return False
