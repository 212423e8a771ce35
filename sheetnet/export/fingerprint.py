"""Tell a workbook sheetnet wrote, untouched, from one a person has since saved.

After writing, sheetnet stores a fingerprint of the archive's parts (names, sizes,
CRCs) in the zip comment. Spreadsheet applications write a fresh archive when
they save, without that comment; any change to a part changes its CRC.
"""

from __future__ import annotations

import hashlib
import os
import zipfile

_TAG = b"sheetnet-fingerprint:"


def _digest(z: zipfile.ZipFile) -> bytes:
    h = hashlib.sha256()
    for info in sorted(z.infolist(), key=lambda i: i.filename):
        h.update(f"{info.filename}\0{info.file_size}\0{info.CRC}\n".encode())
    return h.hexdigest().encode()


def stamp(path: str | os.PathLike[str]) -> None:
    """Record the fingerprint of the archive at `path` in its zip comment."""
    with zipfile.ZipFile(path, "a") as z:
        z.comment = _TAG + _digest(z)


def untouched(path: str | os.PathLike[str]) -> bool:
    """True when `path` is exactly as sheetnet wrote it."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.comment == _TAG + _digest(z)
    except (zipfile.BadZipFile, OSError):
        return False
