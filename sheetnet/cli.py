"""The `sheetnet` command: parses arguments and reports; the work lives in the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import build as build_lesson
from .lessons import LESSONS
from .verify.check import check_lesson
from .verify.libreoffice import LibreOfficeMissing


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"sheetnet: error: {message}", err=True)
    sys.exit(code)


def _lessons(names: tuple[str, ...]) -> list[str]:
    for name in names:
        if name not in LESSONS:
            _fail(f"unknown lesson {name!r} (known: {', '.join(LESSONS)})")
    return list(names) or list(LESSONS)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetnet")
def main() -> None:
    """Deep learning's core math as spreadsheets with live formulas."""


@main.command("list")
def list_() -> None:
    """List the lessons, one line each."""
    for lesson in LESSONS.values():
        click.echo(f"{lesson.name:<10} {lesson.filename:<22} {lesson.summary}")


@main.command()
@click.argument("lessons", nargs=-1)
@click.option(
    "-o",
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("workbooks"),
    show_default=True,
    help="Where to write the workbooks.",
)
def build(lessons: tuple[str, ...], outdir: Path) -> None:
    """Build LESSONS (default: all) into .xlsx workbooks with live formulas."""
    for name in _lessons(lessons):
        try:
            built = build_lesson(name, outdir)
        except (ValueError, OSError) as exc:
            _fail(str(exc))
        click.echo(f"wrote {built.path} ({built.formula_cells} formula cells)")


@main.command()
@click.argument("lessons", nargs=-1)
def check(lessons: tuple[str, ...]) -> None:
    """Compare every cell the engine computes with independent numpy code."""
    ok = True
    for name in _lessons(lessons):
        report = check_lesson(name)
        click.echo(report.render())
        ok &= report.ok
    sys.exit(0 if ok else 1)


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--rtol", default=1e-12, show_default=True, help="Relative tolerance.")
def verify(files: tuple[Path, ...], rtol: float) -> None:
    """Recalculate FILES with LibreOffice and compare with their cached values."""
    from .verify.recalc import verify_file

    ok = True
    for path in files:
        try:
            report = verify_file(path, rtol=rtol)
        except LibreOfficeMissing as exc:
            _fail(str(exc))
        except (ValueError, OSError, RuntimeError) as exc:
            _fail(f"{path}: {exc}")
        click.echo(report.render())
        ok &= report.ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
