"""The fast path: a worksheet's cells as Excel, LibreOffice and XlsxWriter write them.

Those writers put every cell in one regular shape (``<c r="B4" s="1" t="s"><f>…</f>
<v>…</v></c>``), so one regular expression reads a cell, several times faster
than a general XML parser's callbacks. The matches must tile the sheet's data
without a gap; anything else (a namespace prefix, a comment, an inline string,
another encoding) raises NotPlain and the part is read again by expat, which
reads any well-formed part. Both paths feed the same handler and its checks.
"""

from __future__ import annotations

import codecs
import re
from typing import IO

from .cells import _COLS, MAX_TEXT, _SheetHandler

_ENCODING = re.compile(r"""<\?xml[^>]*?encoding=["']([^"']*)["']""")
_START = re.compile(r"<sheetData(/?)>")
_TOKENS = re.compile(
    r'\s*(?:<c r="([A-Z]{1,3})([0-9]+)"([^>/]*)(?:/>|>\s*'
    r"(?:<f([^>/]*)(?:/>|>([^<]*)</f>)\s*)?"
    r"(?:<v>([^<]*)</v>\s*)?"
    r"</c>)"
    r'|<row(?: r="([0-9]*)")?([^>/]*)(/?)>'
    r"|(</row>)"
    r"|(</sheetData>))"
)
_TYPE = re.compile(r' t="([a-zA-Z]*)"')
_ATTRS = re.compile(r'(?: [a-zA-Z][a-zA-Z0-9:_]*="[^"<&]*")*')  # ` s="1" t="s"`, nothing else
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SI = re.compile(r' si="([^"]*)"')
_F_ATTR = re.compile(r' ([a-zA-Z0-9]+)="([^"]*)"')
_ESCAPE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_DIGITS = frozenset("0123456789.")
CHUNK = 1 << 22
MAX_CARRY = 1 << 20  # a cell's text is at most 32,767 characters, escaped: well within


class NotPlain(Exception):
    """The part is not in the plain shape; read it with the general parser."""


def _unescape(text: str) -> str:
    """The text an XML parser would give; NotPlain for anything but the five named
    entities and character references to characters XML allows (expat then refuses)."""
    if "\r" in text:
        raise NotPlain  # XML's line-end normalisation: expat's
    if "&" not in text:
        return text
    if text.count("&") != len(_ESCAPE.findall(text)):
        raise NotPlain  # a bare & or an undeclared entity: not well-formed

    def one(m: re.Match) -> str:
        name = m.group(1)
        if name[0] != "#":
            return _NAMED[name]
        digits = name[2:] if name[1] in "xX" else name[1:]
        if len(digits) > 8:
            raise NotPlain
        code = int(digits, 16) if name[1] in "xX" else int(digits)
        if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF):
            raise NotPlain  # not a character XML allows (NUL, surrogates, beyond Unicode)
        return chr(code)

    return _ESCAPE.sub(one, text)


def scan(part: IO[bytes], handler: _SheetHandler) -> None:
    """Feed every cell of the part to `handler`; NotPlain when the shape is not plain."""
    head = part.read(CHUNK)
    if not head.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")) or b"\0" in head[:200]:
        raise NotPlain
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(head)
    except UnicodeDecodeError:
        raise NotPlain from None
    declared = _ENCODING.match(text.lstrip("\ufeff"))
    found = _START.search(text)
    if found is None or (declared and declared.group(1).lower() not in ("utf-8", "utf8")):
        raise NotPlain
    before = text[: found.start()]
    if "<!" in before or "<?" in before[5:] or 'xmlns="' + _MAIN_NS + '"' not in before:
        raise NotPlain  # a comment, a declaration, a PI, or another namespace: expat's
    if found.group(1):
        return  # <sheetData/>: no cells
    pos, done = found.end(), False
    while not done:
        pos, done = _tokens(text, pos, handler)
        if done:
            return
        chunk = part.read(CHUNK)
        rest = text[pos:]
        if not chunk or len(rest) > MAX_CARRY:
            raise NotPlain
        try:
            text = rest + decoder.decode(chunk)
        except UnicodeDecodeError:
            raise NotPlain from None
        pos = 0


def _tokens(text: str, pos: int, h: _SheetHandler) -> tuple[int, bool]:
    """Handle the tokens from `pos` on; returns where the unread text starts, and
    whether the sheet's data ended. A number cell, a shared member and a plain
    formula with a number take the short way; every other cell goes through the
    handler's general steps."""
    values, formulas = h.sheet.values, h.sheet.formulas
    cols, groups = _COLS, h.groups
    members: dict[str, object] = {}  # a member's <f> attributes -> its group
    # the current row's runs of values and formulas, appended to in place
    run_row, v_start, v_run, f_start, f_run = -1, 0, None, 0, None
    for m in _TOKENS.finditer(text, pos):
        if m.start() != pos:
            break
        (
            letters,
            digits,
            attrs,
            f_attrs,
            f_text,
            value,
            row_r,
            row_attrs,
            _empty,
            end_row,
            end,
        ) = m.groups()
        pos = m.end()
        if letters is not None:
            col = cols.get(letters)
            if (
                col is not None
                and col > h.col
                and h.row >= 0
                and len(digits) < 8
                and int(digits) - 1 == h.row
                and h.cells < h.max_cells
                and (not attrs or ("t" not in attrs and _ATTRS.fullmatch(attrs)))
                and value is not None
                and "&" not in value
                and value.isascii()
                and "_" not in value
                and (f_attrs is None or (not f_text and ' si="' in f_attrs) or not f_attrs)
            ):
                try:
                    number = float(value)
                except ValueError:
                    number = None
                if number is not None and number - number == 0.0 and value[-1] in _DIGITS:
                    row = h.row
                    h.cells += 1
                    h.col = col
                    if row != run_row:
                        run_row, v_run, f_run = row, None, None
                    if f_attrs is not None:
                        if f_attrs:  # a shared member: si only, no text
                            entry = members.get(f_attrs)
                            if entry is None:
                                si = _SI.search(f_attrs)
                                entry = groups.get(si.group(1)) if si else None
                                if entry is None or 't="shared"' not in f_attrs:
                                    raise NotPlain
                                members[f_attrs] = entry
                            entry.add(row, col)  # type: ignore[attr-defined]
                        else:
                            entry = _unescape(f_text) if f_text else ""
                        if f_run is not None and col == f_start + len(f_run):
                            f_run.append(entry)
                        else:
                            formulas.put(row, col, entry)
                            f_start, f_run = formulas.run(row)  # type: ignore[misc]
                    if v_run is not None and col == v_start + len(v_run):
                        v_run.append(number)
                    else:
                        values.put(row, col, number)
                        v_start, v_run = values.run(row)  # type: ignore[misc]
                    continue
            run_row = -1  # the general steps below may add to the runs
            _general_cell(h, letters + digits, attrs, f_attrs, f_text, value)
        elif end is not None:
            return pos, True
        elif end_row is None:
            _row(h, row_r, row_attrs)
    return pos, False


def _general_cell(
    h: _SheetHandler, a1: str, attrs: str, f_attrs: str | None, f_text: str | None,
    value: str | None,
) -> None:  # fmt: skip
    """A cell the short way does not take (text, a type, an error, a master formula):
    the handler's general steps, with the same checks expat's cells get."""
    if attrs and not _ATTRS.fullmatch(attrs):
        raise NotPlain  # attributes in a shape the fast path does not read
    h._cell_start(a1, _kind(attrs))
    if f_attrs is not None:
        h.formula = dict(_F_ATTR.findall(f_attrs)) if f_attrs else {}
        h.f_text = _unescape(f_text) if f_text else ""
    if value is not None:
        h.value = _unescape(value)
        if len(h.value) > MAX_TEXT:
            raise NotPlain  # expat refuses it, by the same limit
    h._cell_end()


def _row(h: _SheetHandler, r: str | None, attrs: str) -> None:
    if r is None and ' r="' in attrs:
        raise NotPlain  # r is not the first attribute: read it properly
    h._row(r)


def _kind(attrs: str) -> str | None:
    if not attrs or 't="' not in attrs:
        return None
    found = _TYPE.search(attrs)
    return found.group(1) if found else None
