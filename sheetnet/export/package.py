"""The .xlsx package, its worksheets rendered and deflated on both cores.

XlsxWriter writes every part of a package into memory and then deflates the parts
one after another; in a big workbook nearly all of that is worksheet XML. Here
each worksheet is rendered and deflated as soon as its turn comes, about half of
them by a forked helper (helper.py) that shares the finished workbook model, and
the zip takes the deflated worksheets as they are. The parts are XlsxWriter's
own, and the file is the same, byte for byte, with or without the helper
(tests/test_package.py); only the order of the work changes, and memory holds a
few rows' XML at a time instead of every worksheet's.
"""

from __future__ import annotations

import functools
import zipfile
import zlib
from dataclasses import dataclass
from io import StringIO

import xlsxwriter
import xlsxwriter.workbook as packaging
from xlsxwriter.packager import Packager
from xlsxwriter.worksheet import Worksheet

from . import helper

# Deflate level 2 (zlib's default is 6): measured on a graddesc workbook's 54 MB of
# sheet XML, level 6 took 1.00 s for 10.4 MB, level 2 0.31 s for 11.9 MB, level 1
# 0.28 s for 12.3 MB. Writing dominates big builds, so three times the speed is worth
# 14% more bytes (shared formulas had already made the files a third smaller).
DEFLATE_LEVEL = 2

# Below this many cells the fork and the result's round trip cost about what the
# helper saves. Measured on graddesc (best of five writes, with and without it):
# 11,855 cells 37 vs 32 ms, 19,745 cells 39 vs 43 ms, 98,645 cells 109 vs 157 ms,
# 197,270 cells 204 vs 304 ms.
HELPER_MIN_CELLS = 20_000


@dataclass(frozen=True)
class Deflated:
    """A zip member's content, deflated as zipfile would."""

    crc: int
    size: int
    data: bytes


class DeflatingWriter(StringIO):
    """Where a worksheet writes its XML: the text is deflated as it comes, a chunk at
    a time (deflate_pending(), called between rows), so no sheet's whole text is held.

    Writes go straight to a list's append (XlsxWriter writes a million times per big
    sheet); the StringIO base is only what XlsxWriter checks for."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.write = self.parts.append  # type: ignore[assignment,method-assign]
        self._squeeze = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        self._crc = self._size = 0
        self._out: list[bytes] = []

    def deflate_pending(self) -> None:
        raw = "".join(self.parts).encode("utf-8")
        self.parts.clear()
        self._crc = zlib.crc32(raw, self._crc)
        self._size += len(raw)
        self._out.append(self._squeeze.compress(raw))

    def finish(self) -> Deflated:
        self.deflate_pending()
        self._out.append(self._squeeze.flush())
        return Deflated(self._crc, self._size, b"".join(self._out))


def deflated(ws: Worksheet) -> Deflated:
    """A worksheet's XML part, as XlsxWriter's packager writes it, deflated."""
    out = DeflatingWriter()
    ws._set_xml_writer(out)
    ws._assemble_xml_file()
    ws._set_xml_writer(StringIO())  # the worksheet would keep the writer alive
    return out.finish()


def cells(ws: Worksheet) -> int:
    """About how much work a worksheet's XML is: its cells, streamed fills included."""
    table = sum(len(row) for row in ws.table.values())
    return table + sum(entry[0].size for entry in getattr(ws, "_fills", ()))


def split(weights: list[int]) -> set[int]:
    """Which worksheets the helper takes: the heaviest first, each to the side with
    less work so far (ties to the helper, as this process also writes the rest)."""
    mine = theirs = 0
    helper_share: set[int] = set()
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        if theirs <= mine:
            helper_share.add(i)
            theirs += weights[i]
        else:
            mine += weights[i]
    return helper_share


class _Packager(Packager):
    """XlsxWriter's packager, with worksheets deflated here instead of in the zip."""

    def __init__(self, deflated: dict[str, Deflated], parallel: bool) -> None:
        super().__init__()
        self.deflated = deflated
        self.parallel = parallel
        self.helper_sheets = 0

    def _write_worksheet_files(self) -> None:
        sheets = [ws for ws in self.workbook.worksheets() if not ws.is_chartsheet]
        names = [f"xl/worksheets/sheet{i}.xml" for i in range(1, len(sheets) + 1)]
        for name in names:
            self._filename(name)  # its place in the zip; the content comes deflated
        weights = [cells(ws) for ws in sheets]
        theirs: set[int] = set()
        if self.parallel and helper.AVAILABLE and sum(weights) >= HELPER_MIN_CELLS:
            theirs = split(weights)
        work: helper.Helper[dict[str, Deflated]] | None = None
        if 0 < len(theirs) < len(sheets):
            try:
                work = helper.Helper(lambda: {names[i]: deflated(sheets[i]) for i in theirs})
            except OSError:  # no temporary file, no process to spare: all of it here
                theirs = set()
        else:
            theirs = set()
        try:
            for i, ws in enumerate(sheets):
                if i not in theirs:
                    self.deflated[names[i]] = deflated(ws)
            done = (work.result() if work else None) or {}
        finally:
            if work:
                work.stop()
        for i in sorted(theirs):
            if names[i] in done:
                self.deflated[names[i]] = done[names[i]]
                self.helper_sheets += 1
            else:  # the helper failed: the work is done here
                self.deflated[names[i]] = deflated(sheets[i])


class _Zip(zipfile.ZipFile):
    """XlsxWriter's zip file: parts deflated at DEFLATE_LEVEL, and the worksheets'
    deflated content taken as it is."""

    def __init__(self, *args: object, deflated: dict[str, Deflated], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.deflated = deflated

    def writestr(self, zinfo, data, compress_type=None, compresslevel=None):  # type: ignore[no-untyped-def]
        member = self.deflated.pop(getattr(zinfo, "filename", None), None)
        if member is None:
            return super().writestr(zinfo, data, compress_type, DEFLATE_LEVEL)
        self._write_deflated(zinfo, member)
        return None

    def _write_deflated(self, zinfo: zipfile.ZipInfo, member: Deflated) -> None:
        """What writestr writes for `member`'s text, without deflating it again:
        the local header with its sizes and CRC, then the data (as zipfile does on
        a seekable file)."""
        zinfo.compress_type = zipfile.ZIP_DEFLATED
        zinfo._compresslevel = DEFLATE_LEVEL  # type: ignore[attr-defined]
        zinfo.file_size, zinfo.CRC = member.size, member.crc
        zinfo.compress_size = len(member.data)
        zinfo.flag_bits = 0
        if not zinfo.external_attr:
            zinfo.external_attr = 0o600 << 16
        zip64 = zinfo.file_size * 1.05 > zipfile.ZIP64_LIMIT
        if zip64 and not self._allowZip64:  # type: ignore[attr-defined]
            raise zipfile.LargeZipFile("Filesize would require ZIP64 extensions")
        with self._lock:  # type: ignore[attr-defined]
            if self._writing or not self._seekable:  # type: ignore[attr-defined]
                raise ValueError("a deflated member needs a seekable zip, not in use")
            self.fp.seek(self.start_dir)  # type: ignore[union-attr]
            zinfo.header_offset = self.fp.tell()  # type: ignore[union-attr]
            self._writecheck(zinfo)  # type: ignore[attr-defined]
            self._didModify = True
            self.fp.write(zinfo.FileHeader(zip64))  # type: ignore[union-attr]
            self.fp.write(member.data)  # type: ignore[union-attr]
            self.start_dir = self.fp.tell()  # type: ignore[union-attr]
            self.filelist.append(zinfo)
            self.NameToInfo[zinfo.filename] = zinfo


class Book(xlsxwriter.Workbook):
    """An XlsxWriter workbook packaged as above (`parallel=False`: all in this
    process)."""

    parallel = True
    helper_sheets = 0  # worksheets the helper wrote (tests make sure it works)

    def _get_packager(self) -> Packager:
        self._packager = _Packager(self._deflated, self.parallel)
        return self._packager

    def close(self) -> None:
        self._deflated: dict[str, Deflated] = {}
        saved = packaging.ZipFile
        packaging.ZipFile = functools.partial(_Zip, deflated=self._deflated)  # type: ignore[misc]
        try:
            super().close()
        finally:
            packaging.ZipFile = saved  # type: ignore[misc]
        self.helper_sheets = self._packager.helper_sheets
        if self._deflated:
            raise RuntimeError(f"worksheets not packaged: {sorted(self._deflated)}")
