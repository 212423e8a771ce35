"""What a learner prints: every workbook's front sheet, then its charts, each whole on a page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import UNDER_CI

from sheetnet.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[1]


def pdf_pages(path: Path, pages: int, tmp: Path) -> list[str]:
    """The text of the first `pages` pages LibreOffice prints of `path`."""
    if shutil.which("pdftotext") is None:
        missing = "pdftotext is not installed (apt-get install poppler-utils)"
        pytest.fail(missing) if UNDER_CI else pytest.skip(missing)
    options = f'{{"PageRange":{{"type":"string","value":"1-{pages}"}}}}'
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
         "--convert-to", f"pdf:calc_pdf_Export:{options}", "--outdir", str(tmp), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    pdf = tmp / (path.stem + ".pdf")
    return [
        subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                       check=True, capture_output=True, text=True).stdout
        for i in range(1, pages + 1)
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(LESSONS))
def test_the_front_sheet_prints_first_and_each_chart_on_its_own_page(name, libreoffice, tmp_path):
    lesson = LESSONS[name]
    front = lesson.front(lesson.params())
    pages = pdf_pages(ROOT / "workbooks" / lesson.filename, 1 + len(front.charts), tmp_path)
    assert front.title in " ".join(pages[0].split())
    assert "key results" in pages[0] and "yellow: an input you may change" in pages[0]
    for page, chart in zip(pages[1:], front.charts):
        first_words = " ".join(chart.title.split()[:4])
        assert first_words in " ".join(page.split()), (chart.title, page[:200])


def pdf_text(path: Path, tmp: Path) -> str:
    """The whole text LibreOffice prints of `path`, as pdftotext reads it."""
    if shutil.which("pdftotext") is None:
        missing = "pdftotext is not installed (apt-get install poppler-utils)"
        pytest.fail(missing) if UNDER_CI else pytest.skip(missing)
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp), str(path)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    pdf = tmp / (path.stem + ".pdf")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


@pytest.mark.parametrize("name", list(LESSONS))
def test_no_number_prints_as_hashes(name, libreoffice, tmp_path):
    """A column too narrow for its numbers prints ### where the number should be."""
    text = pdf_text(ROOT / "workbooks" / LESSONS[name].filename, tmp_path)
    assert text.strip()
    lines = [line.strip()[:120] for line in text.splitlines() if "###" in line]
    assert not lines, lines[:3]
