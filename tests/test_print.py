"""What a learner prints, through LibreOffice: the front's first page holds its text and
its first chart, every chart is drawn on the front's pages, no workbook prints hundreds
of pages, titles print whole, and no number prints as ###."""

from __future__ import annotations

import html
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import UNDER_CI

from sheetnet.engine import Role
from sheetnet.lessons import LESSONS
from sheetnet.lessons.kit import workbook

ROOT = Path(__file__).resolve().parents[1]
MAX_PAGES = 60  # graddesc printed 251 pages when each long sheet printed whole
_PRINTED: dict[str, Path] = {}


def printed(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PDF LibreOffice prints of lesson `name`'s workbook (printed once per session)."""
    for tool in ("pdftotext", "pdftoppm", "pdfinfo"):
        if shutil.which(tool) is None:
            missing = f"{tool} is not installed (apt-get install poppler-utils)"
            pytest.fail(missing) if UNDER_CI else pytest.skip(missing)
    if name not in _PRINTED:
        path = ROOT / "workbooks" / LESSONS[name].filename
        tmp = tmp_path_factory.mktemp(f"print-{name}")
        subprocess.run(
            ["soffice", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
             "--convert-to", "pdf", "--outdir", str(tmp), str(path)],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        _PRINTED[name] = tmp / (path.stem + ".pdf")
    return _PRINTED[name]


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def text(pdf: Path, page: int | None = None, layout: bool = False) -> str:
    """The text of one page, or of every page, as pdftotext reads it."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return _run("pdftotext", *pages, *(["-layout"] if layout else []), str(pdf), "-")


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.M).group(1))


def drawn(pdf: Path, page: int, words: list[str]) -> bool:
    """Whether `words`, one after another, are drawn on `page`. LibreOffice also writes
    the text of a chart it clips away (one anchored below the page's last row) into
    the page, where no one sees it: the pixels under the words tell."""
    boxes = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
        _run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"),
    )
    said = [html.unescape(w) for *_, w in boxes]
    for i in range(len(said) - len(words) + 1):
        if said[i : i + len(words)] != words:
            continue
        x0, y0 = float(boxes[i][0]), float(boxes[i][1])
        x1, y1 = float(boxes[i + len(words) - 1][2]), float(boxes[i + len(words) - 1][3])
        crop = ["-x", str(int(x0)), "-y", str(int(y0)), "-W", str(int(x1 - x0) + 1),
                "-H", str(int(y1 - y0) + 1)]  # fmt: skip
        pgm = subprocess.run(
            ["pdftoppm", "-gray", "-r", "72", "-f", str(page), "-l", str(page), *crop, str(pdf)],
            check=True,
            capture_output=True,
        ).stdout  # at 72 dpi a pixel is a point
        pixels = pgm.split(b"\n", 3)[3]
        if pixels and min(pixels) < 128:
            return True
    return False


@pytest.mark.parametrize("name", list(LESSONS))
def test_the_front_prints_its_text_and_first_chart_on_page_one(name, libreoffice,
                                                               tmp_path_factory):  # fmt: skip
    """'watch the loss chart below' is on the same page as the chart; the other charts
    follow, each drawn on one of the front's pages."""
    lesson = LESSONS[name]
    front = lesson.front(lesson.params())
    pdf = printed(name, tmp_path_factory)
    first = " ".join(text(pdf, 1).split())
    assert front.title in first
    assert "key results" in first and "yellow: an input you may change" in first
    assert front.charts
    assert drawn(pdf, 1, front.charts[0].title.split()[:3]), front.charts[0].title
    front_pages = [p for p in range(1, 2 + len(front.charts)) if "front" in text(pdf, p)]
    for chart in front.charts[1:]:
        assert any(drawn(pdf, p, chart.title.split()[:3]) for p in front_pages), chart.title


@pytest.mark.parametrize("name", list(LESSONS))
def test_no_workbook_prints_hundreds_of_pages(name, libreoffice, tmp_path_factory):
    """A sheet of thousands of rows or hundreds of columns prints its first part."""
    pdf = printed(name, tmp_path_factory)
    assert page_count(pdf) < MAX_PAGES


@pytest.mark.parametrize("name", list(LESSONS))
def test_first_row_texts_print_whole(name, libreoffice, tmp_path_factory):
    """A sheet's title (A1) and any other long text in its first row print whole: no
    notes column, neighbouring cell or edge of the print cuts them."""
    lesson = LESSONS[name]
    wb = workbook(lesson, lesson.params())
    whole = " ".join(text(printed(name, tmp_path_factory)).split())
    checked = 0
    for sheet in wb.sheets.values():
        for (row, _), cell in sheet.cells.items():
            if row == 0 and cell.role is Role.LABEL and isinstance(cell.content, str):
                line = " ".join(cell.content.split())
                if len(line) > 20:
                    checked += 1
                    assert line in whole, (sheet.name, line)
    assert checked


@pytest.mark.parametrize("name", list(LESSONS))
def test_no_number_prints_as_hashes(name, libreoffice, tmp_path_factory):
    """A column too narrow for its numbers prints ### where the number should be."""
    printout = text(printed(name, tmp_path_factory), layout=True)
    assert printout.strip()
    lines = [line.strip()[:120] for line in printout.splitlines() if "###" in line]
    assert not lines, lines[:3]


# -- the print setup every workbook gets (no spreadsheet application needed) ------------
PAGE_WIDTH, PAGE_HEIGHT, ROW = 784.0, 522.0, 15.0  # A4 landscape less its margins, points


def _width(sheet, first: int, last: int) -> float:
    """Columns first..last as LibreOffice prints them where Calibri is missing (its
    widest case): a column w characters wide takes 7w + 5 points."""
    return sum(7.0 * sheet.col_widths.get(c, 8.43) + 5.0 for c in range(first, last + 1))


@pytest.mark.parametrize("name", list(LESSONS))
def test_the_fronts_first_page_holds_the_first_chart_and_no_break_cuts_a_chart(name):
    lesson = LESSONS[name]
    front = workbook(lesson, lesson.params())["front"]
    scale = front.print_scale / 100
    ((_, first_col, last_row, last_col),) = front.print_areas
    assert _width(front, first_col, last_col) * scale <= PAGE_WIDTH
    charts = sorted(c.anchor[0] for c in front.charts)
    starts = [0, *front.page_breaks, last_row + 1]
    assert starts[1] >= charts[0] + 18  # a chart is 18 rows high
    for start, end in itertools.pairwise(starts):
        assert ((end - start) * ROW + 8 * (start == 0)) * scale <= PAGE_HEIGHT  # title: taller
        for top in charts:
            assert top + 18 <= start or top >= end or start <= top < top + 18 <= end


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_sheet_prints_readably_or_its_first_part_says_so(name):
    """A sheet too wide to read on one page prints its first columns at a readable
    scale, one too long its first rows; the line atop its pages says so."""
    lesson = LESSONS[name]
    wb = workbook(lesson, lesson.params())
    for sheet in wb.sheets.values():
        if sheet.name == "front":
            continue
        rows, cols = sheet.extent()
        area = sheet.print_areas[0] if sheet.print_areas else (0, 0, rows - 1, cols - 1)
        width = _width(sheet, area[1], area[3])
        scale = sheet.print_scale / 100 if sheet.print_scale else min(1.0, PAGE_WIDTH / width)
        assert scale >= 0.42, sheet.name
        assert width * scale <= PAGE_WIDTH * 1.001, sheet.name
        assert (area[2] + 1) * ROW * scale <= 2 * PAGE_HEIGHT, sheet.name  # two pages at most
        for _, c1, _, c2 in sheet.print_areas[1:]:  # its notes or charts
            assert _width(sheet, c1, c2) * scale <= PAGE_WIDTH, sheet.name
        if sheet.print_areas:
            assert sheet.print_note and "first part" in sheet.print_note, sheet.name
            assert "print the selection" in sheet.print_note
