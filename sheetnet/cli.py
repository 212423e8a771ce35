"""The `sheetnet` command: parses arguments and reports; the work lives in the library."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from . import __version__
from .lessons import LESSONS, get
from .lessons.contract import ParamError, fields_of
from .pipeline import build as build_lesson
from .pipeline import build_exercises, check_target
from .text import brief, plain, printable
from .verify.apps import APPS, AppMissing, get_app, installed
from .verify.check import check_lesson


def comparison_json(result: Any) -> str:
    import json

    payload = json.loads(result.report.to_json())
    payload["lesson"] = result.lesson
    payload["ok"] = result.ok
    payload["not_recalculated"] = result.not_recalculated
    payload["changes"] = [
        {
            "kind": c.kind,
            "cell": f"{c.sheet}!{c.cell}",
            "before": plain(c.before),
            "after": plain(c.after),
        }
        for c in result.changes
    ]
    return json.dumps(payload, indent=2)


def comparison_csv(result: Any) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "cell", "workbook", "python", "reason"])
    for m in result.report.mismatches():
        writer.writerow(
            ["mismatch", f"{m.sheet}!{m.cell}", plain(m.got), plain(m.expected), m.reason]
        )
    for c in result.changes:
        writer.writerow(
            [f"{c.kind} changed", f"{c.sheet}!{c.cell}", plain(c.after), plain(c.before), ""]
        )
    return out.getvalue()


class _Tolerance(click.ParamType):
    """A relative tolerance: a finite number from 0 to 1 (nan would pass everything)."""

    name = "tolerance"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{str(value)[:40]!r} is not a number", param, ctx)
        if not 0.0 <= x <= 1.0:  # also refuses nan and inf
            self.fail(f"{str(value)[:40]} is not a tolerance from 0 to 1", param, ctx)
        return x


TOLERANCE = _Tolerance()


def _fail(message: str, code: int = 2) -> None:
    """One line on stderr: control and direction characters a file or an option put
    in the message are escaped, never sent to the terminal."""
    click.echo(f"sheetnet: error: {printable(' '.join(message.split()))}", err=True)
    sys.exit(code)


def _progress() -> Callable[[str], None] | None:
    """Progress lines on stderr, when a person is watching it."""
    if not sys.stderr.isatty():
        return None
    return lambda message: click.echo(message, err=True)


def _about(path: Path, exc: Exception) -> str:
    """The error's message, naming the file once."""
    text = str(exc)
    return text if str(path) in text else f"{path}: {text}"


def _lessons(names: tuple[str, ...]) -> list[str]:
    for name in names:
        if name not in LESSONS:
            _fail(f"unknown lesson {name!r} (known: {', '.join(LESSONS)})")
    return list(names) or list(LESSONS)


class _Group(click.Group):
    """Usage errors as one line, like every other error sheetnet reports."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message().replace("\n", " "), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except MemoryError:
            _fail("out of memory: choose smaller sizes (fewer epochs, rows or iterations)")
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetnet")
def main() -> None:
    """Deep learning's core math as spreadsheets with live formulas."""


@main.command("list")
def list_() -> None:
    """List the lessons, one line each."""
    for lesson in LESSONS.values():
        click.echo(f"{lesson.name:<10} {lesson.filename:<22} {lesson.summary}")


@contextlib.contextmanager
def _signals_exit() -> Iterator[None]:
    """While a build runs, SIGTERM and SIGHUP end it as an exception would: the
    unfinished file is removed and the old one stays. The handlers before are put
    back when it ends (a test run or a notebook keeps its own)."""
    before = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            before[number] = signal.signal(number, lambda signum, frame: sys.exit(128 + signum))
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


# option name -> lesson -> (what it means to that lesson, its metavar there)
LESSON_HELP: dict[str, dict[str, tuple[str, str]]] = {}


def _lesson_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One option per lesson parameter, made from the lessons' parameter fields; an
    option several lessons share says what it means to each."""
    for lesson in LESSONS.values():
        for f in fields_of(lesson.params):
            default = "" if f.metadata["kind"].bulk else _default_text(f)
            text = f"{lesson.name}: {f.metadata['help']}{default}."
            LESSON_HELP.setdefault(f.name, {})[lesson.name] = (text, f.metadata["kind"].metavar)
    for name in sorted(LESSON_HELP, reverse=True):
        meanings = LESSON_HELP[name]
        command = click.option(
            f"--{name.replace('_', '-')}",
            name,
            multiple=True,
            metavar=next(iter(meanings.values()))[1],
            help=" ".join(text for text, _ in meanings.values()),
        )(command)
    return command


class _BuildCommand(click.Command):
    """`build LESSON --help` lists that lesson's options only, each with its meaning and
    its form there (--lr is SHEET=VALUE for graddesc, a number for digits)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["named"] = [a for a in args if a in LESSONS]
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        named = ctx.meta.get("named") or []
        if not named:
            super().format_options(ctx, formatter)
            return
        rows = []
        for param in self.get_params(ctx):
            meanings = LESSON_HELP.get(param.name or "")
            if meanings is None:
                record = param.get_help_record(ctx)
                if record:
                    rows.append(record)
                continue
            mine = [meanings[n] for n in named if n in meanings]
            if mine:
                flag = f"--{(param.name or '').replace('_', '-')} {mine[0][1]}"
                rows.append((flag, " ".join(text for text, _ in mine)))
        with formatter.section(f"Options (for {', '.join(named)})"):
            formatter.write_dl(rows)


def _default_text(f: Any) -> str:
    value = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if value is None or isinstance(value, dict):
        return ""
    return f" [default: {_short(value)}]"


def _short(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(
            _short(v) if not isinstance(v, tuple) else ":".join(map(_short, v)) for v in value
        )
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _params_for(names: list[str], given: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Each named lesson's parameters from the options given; every option given must
    belong to at least one of them."""
    given = {k: v for k, v in given.items() if v}
    takers = {n: get(n).option_names() for n in names}
    for option in given:
        if not any(option in options for options in takers.values()):
            owners = [n for n, lesson in LESSONS.items() if option in lesson.option_names()]
            raise ValueError(
                f"--{option.replace('_', '-')} is an option of "
                f"{', '.join(owners)}, not of {', '.join(names)}"
            )
    out = {}
    for name in names:
        mine = {k: v for k, v in given.items() if k in takers[name]}
        try:
            out[name] = get(name).parse_options(mine) if mine else None
        except ParamError as exc:
            message = f"{name}: {exc.for_cli()}" if len(names) > 1 else exc.for_cli()
            raise ValueError(message) from None
    return out


@main.command(cls=_BuildCommand)
@click.argument("lessons", nargs=-1)
@click.option(
    "-o",
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("workbooks"),
    show_default=True,
    help="Where to write the workbooks.",
)
@click.option("--force", is_flag=True, help="Overwrite workbooks even if edited since written.")
@click.option(
    "--exercises",
    is_flag=True,
    help="Write each lesson's exercise workbook (<name>-exercises.xlsx): the cells a learner "
    "writes left empty; `sheetnet grade` checks them.",
)
@_lesson_options
def build(
    lessons: tuple[str, ...], outdir: Path, force: bool, exercises: bool, **options: Any
) -> None:
    """Build LESSONS (default: all) into .xlsx workbooks with live formulas.

    Each lesson option lands in a yellow input cell of the workbook. Every lesson's
    options are checked, and every target, before anything is written.
    """
    names = _lessons(lessons)
    try:
        params = _params_for(names, options)
        targets = [check_target(name, outdir, force, exercises) for name in names]
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    written: list[Path] = []
    with _signals_exit():
        for name, target in zip(names, targets):
            try:
                if exercises:
                    built = build_exercises(name, outdir, params[name], force)
                else:
                    built = build_lesson(name, outdir, params[name], force, _progress())
            except (ValueError, OSError) as exc:
                done = f" (written: {', '.join(map(str, written))})" if written else ""
                _fail(f"{target}: not written: {exc}{done}")
            written.append(built.path)
            click.echo(f"wrote {built.path} ({built.formula_cells:,} formula cells)")
            if exercises:  # errors downstream of the empty cells are the point, not a warning
                count = len(get(name).exercises)
                click.echo(f"  {count} exercises: see its exercises sheet; then "
                           f"`sheetnet grade {built.path}`")  # fmt: skip
                continue
            for key in get(name).key_results(built.params):
                value = built.results.at(key.sheet, key.a1)
                click.echo(f"  {key.label}: {brief(value)}")
            for line in built.warnings():
                click.echo(f"warning: {line}", err=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the grade as JSON.")
def grade(file: Path, as_json: bool) -> None:
    """Grade the formulas a learner wrote in an exercise workbook, by evaluating them.

    Exit 0 when every exercise is correct, 1 when not, 2 when FILE is unusable.
    """
    from .verify.grade import grade_file, grade_json, render_grade

    try:
        result = grade_file(file)
    except (ValueError, OSError, KeyError, RecursionError) as exc:
        _fail(_about(file, exc))
    click.echo(grade_json(result) if as_json else render_grade(result))
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("lessons", nargs=-1)
@click.option(
    "-o",
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("notebooks"),
    show_default=True,
    help="Where to write the notebooks.",
)
def notebook(lessons: tuple[str, ...], outdir: Path) -> None:
    """Write companion notebooks: each lesson's workbook beside PyTorch computing the same."""
    from .notebooks import write_notebook

    for name in _lessons(lessons):
        try:
            path = write_notebook(name, outdir)
        except (ValueError, OSError) as exc:
            _fail(f"{outdir}: not written: {exc}")
        click.echo(f"wrote {path}")


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
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--rtol",
    default=1e-12,
    show_default=True,
    type=TOLERANCE,
    help="Relative tolerance.",
)
@click.option(
    "--app",
    "app_name",
    type=click.Choice([*APPS, "sheetnet", "all"]),
    default="all",
    show_default=True,
    help="Which spreadsheet application recalculates (all: every one installed; sheetnet: "
    "the engine itself, from the file alone).",
)
def verify(files: tuple[Path, ...], rtol: float, app_name: str) -> None:
    """Recalculate FILES with real spreadsheet applications; compare with the cached values."""
    from .verify.engine_app import ENGINE
    from .verify.recalc import verify_file

    apps = (
        installed()
        if app_name == "all"
        else [ENGINE if app_name == "sheetnet" else get_app(app_name)]
    )
    if not apps:
        _fail(
            "no spreadsheet application is installed: "
            + "; ".join(f"{a.title}: {a.install}" for a in APPS.values())
        )
    ok = True
    for path in files:
        for app in apps:
            try:
                report = verify_file(path, rtol=rtol, app=app)
            except AppMissing as exc:
                _fail(str(exc))
            except (ValueError, OSError, RuntimeError) as exc:
                _fail(_about(path, exc))
            click.echo(report.render())
            ok &= report.ok
    sys.exit(0 if ok else 1)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--rtol",
    default=1e-9,
    show_default=True,
    type=TOLERANCE,
    help="Relative tolerance.",
)
@click.option(
    "--recalc",
    is_flag=True,
    help="Recalculate with LibreOffice first (for files saved by tools that do not).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print mismatches and changes as CSV.")
def compare(file: Path, rtol: float, recalc: bool, as_json: bool, as_csv: bool) -> None:
    """Compare a workbook you edited and saved with Python recomputing it.

    Lists the inputs you changed and the formulas you rewrote; exit 0 when every
    value agrees, 1 when not (or a formula was rewritten), 2 when FILE is unusable.
    """
    from .verify.roundtrip import compare_file, render_comparison

    try:
        result = compare_file(file, rtol=rtol, recalc=recalc)
    except AppMissing as exc:
        _fail(str(exc))
    except (ValueError, OSError, RuntimeError, KeyError) as exc:
        _fail(_about(file, exc))
    if as_json:
        click.echo(comparison_json(result))
    elif as_csv:
        click.echo(comparison_csv(result), nl=False)
    else:
        click.echo(render_comparison(result))
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", help="Sheet name [default: the first].")
@click.option("--formulas", is_flag=True, help="Show formulas instead of values.")
@click.option("--rows", metavar="A:B", help="Rows A to B (1-based) [default: 1:60].")
@click.option(
    "--width",
    type=click.IntRange(min=4),
    default=28,
    show_default=True,
    help="Longest cell text shown; longer text is cut and ends with '…'.",
)
def show(file: Path, sheet: str | None, formulas: bool, rows: str | None, width: int) -> None:
    """Print a sheet of FILE as an aligned table."""
    from .show import format_table, sheet_table

    try:
        span = _row_span(rows or "1:60")
        table = sheet_table(file, sheet, formulas, span)
    except (ValueError, OSError, KeyError) as exc:
        _fail(str(exc))
    for note in table.notes:
        click.echo(note, err=True)
    click.echo(format_table(table, width))


def _row_span(text: str) -> tuple[int, int]:
    first, sep, last = text.partition(":")
    try:
        span = (int(first), int(last) if sep else int(first))
    except ValueError:
        raise ValueError(f"--rows {text!r}: expected A:B, e.g. --rows 1:40") from None
    if span[0] < 1 or span[1] < span[0]:
        raise ValueError(f"--rows {text!r}: expected 1 <= A <= B")
    return span


if __name__ == "__main__":
    main()
