"""The shape every lesson has, so the layers above lessons never name one.

A lesson is a `Lesson`: a parameters dataclass whose fields are made with
`param(...)` (help, parsing, validation and how the value is recorded), a
builder, an engine-free reference, where user data lands (`DataRegion`), its
key results, small examples and a hypothesis strategy. The CLI makes options
from the fields, `metadata` records and restores them, `compare` reads data
regions and reports key results, and one test suite checks every lesson.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..engine import Workbook


class ParamError(ValueError):
    """A parameter value a lesson refuses: which field, and why, in one line."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message

    def for_cli(self) -> str:
        return f"--{self.name.replace('_', '-')}: {self.message}"


# -- kinds: how a parameter is read from the command line and from a workbook ----------
@dataclass(frozen=True)
class Kind:
    """How to parse a parameter from command-line text and check its recorded value."""

    metavar: str
    parse: Callable[[Sequence[str]], Any]  # the option's values, as typed
    from_json: Callable[[Any], Any]  # a recorded value, type-checked
    multiple: bool = False  # the option may be repeated
    bulk: bool = False  # data: recorded as a digest, restored from its DataRegion


def _one(parse: Callable[[str], Any]) -> Callable[[Sequence[str]], Any]:
    def parse_one(values: Sequence[str]) -> Any:
        if len(values) != 1:
            raise ValueError("given more than once")
        return parse(values[0].strip())

    return parse_one


def _int_text(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a whole number") from None


def _float_text(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _json_int(v: Any) -> int:
    if type(v) is not int:
        raise ValueError(f"expected a whole number, found {str(v)[:40]!r}")
    return v


def _json_float(v: Any) -> float:
    if type(v) not in (int, float) or not math.isfinite(v):
        raise ValueError(f"expected a number, found {str(v)[:40]!r}")
    return float(v)


def _json_optional(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else inner(v)


def _settings_text(values: Sequence[str]) -> dict[str, float]:
    """('adam=0.05', ...) -> {'adam': 0.05}."""
    out: dict[str, float] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{item[:40]!r}: expected SHEET=VALUE, e.g. adam=0.05")
        out[name.strip()] = _float_text(text.strip())
    return out


def _json_settings(v: Any) -> dict[str, float]:
    if not isinstance(v, dict) or len(v) > 100:
        raise ValueError("expected a table of SHEET: VALUE")
    return {str(k)[:31]: _json_float(x) for k, x in v.items()}


INT = Kind("N", _one(_int_text), _json_int)
FLOAT = Kind("X", _one(_float_text), _json_float)
SEED = Kind("N", _one(_int_text), _json_optional(_json_int))
SETTINGS = Kind("SHEET=VALUE", _settings_text, _json_settings, multiple=True)


def _json_list(v: Any, count: int) -> list:
    if not isinstance(v, list) or len(v) != count:
        raise ValueError(f"expected a list of {count}")
    return v


def numbers(count: int) -> Kind:
    """Exactly `count` comma-separated numbers: --outputs 1,2,3,4,5."""

    def parse(text: str) -> tuple[float, ...]:
        items = text.split(",")
        if len(items) != count:
            raise ValueError(f"expected {count} comma-separated numbers, found {len(items)}")
        return tuple(_float_text(t.strip()) for t in items)

    return Kind(
        ",".join(["X"] * min(count, 3)) + ("..." if count > 3 else ""),
        _one(parse),
        lambda v: tuple(_json_float(x) for x in _json_list(v, count)),
    )


def texts(count: int) -> Kind:
    """Exactly `count` comma-separated names (kept as text cells, never formulas)."""

    def parse(text: str) -> tuple[str, ...]:
        items = tuple(t.strip() for t in text.split(","))
        if len(items) != count or not all(items):
            raise ValueError(f"expected {count} comma-separated names")
        return from_json(list(items))

    def from_json(v: Any) -> tuple[str, ...]:
        items = _json_list(v, count)
        if not all(isinstance(x, str) and len(x) <= 255 for x in items):
            raise ValueError("expected names of at most 255 characters")
        if any(ch < " " or ch == "\x7f" for x in items for ch in x):
            raise ValueError("a name cannot hold control characters")
        return tuple(items)

    return Kind("A,B,...", _one(parse), from_json)


def pairs(count: int) -> Kind:
    """Exactly `count` pairs, written a:b and separated by commas: --rows 1:0.5,0:0.9."""

    def parse(text: str) -> tuple[tuple[float, float], ...]:
        items = text.split(",")
        if len(items) != count or any(item.count(":") != 1 for item in items):
            raise ValueError(f"expected {count} comma-separated pairs a:b")
        return tuple(
            (_float_text(a.strip()), _float_text(b.strip()))
            for a, b in (item.split(":") for item in items)
        )

    def from_json(v: Any) -> tuple[tuple[float, float], ...]:
        items = _json_list(v, count)
        return tuple(tuple(_json_float(x) for x in _json_list(p, 2)) for p in items)  # type: ignore[misc]

    return Kind("A:B,...", _one(parse), from_json)


def data_file(reader: Callable[[str], Any]) -> Kind:
    """A file of the learner's data, read by `reader`; recorded as a digest."""
    return Kind("FILE", _one(reader), lambda v: v, bulk=True)


# -- parameters --------------------------------------------------------------------------
Check = Callable[[Any], "str | None"]


def param(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    kind: Kind = FLOAT,
    check: Check | None = None,
    excludes: Mapping[str, str] | None = None,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A lesson parameter: a dataclass field that carries its help, kind and check.

    `check(value)` returns a message when the value is refused. `excludes` maps
    other fields to the reason they cannot be given together with this one.
    """
    meta = {"help": help, "kind": kind, "check": check, "excludes": dict(excludes or {})}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def fields_of(params_type: type) -> list[dataclasses.Field]:
    """The fields made with `param`, in order."""
    return [f for f in dataclasses.fields(params_type) if "kind" in f.metadata]


def validate(params: Any) -> None:
    """Run every field's check; the first refusal raises ParamError."""
    for f in fields_of(type(params)):
        check = f.metadata["check"]
        value = getattr(params, f.name)
        if check is not None and value is not None:
            message = check(value)
            if message:
                raise ParamError(f.name, message)


def at_least(low: int) -> Check:
    return lambda v: None if v >= low else f"must be at least {low}, not {v}"


def positive(v: float) -> str | None:
    return None if v > 0 else f"must be positive, not {v}"


def non_negative(v: float) -> str | None:
    return None if v >= 0 else f"must not be negative, not {v}"


def seed_range(v: int) -> str | None:
    """A seed numpy's generators take: a whole number from 0 to 2^63 - 1."""
    return None if 0 <= v < 2**63 else f"must be a whole number from 0 to 2^63-1, not {v}"


def finite(v: float) -> str | None:
    return None if math.isfinite(v) else f"must be a finite number, not {v}"


def reference(module: str) -> Callable[[Any], dict[tuple[str, str], object]]:
    """A lesson's engine-free reference: `sheetnet.reference.<module>.expected_cells`,
    imported when first used, given the parameters as the workbook's cells hold them."""

    def expected(params: Any) -> dict[tuple[str, str], object]:
        import importlib

        from ..reference import as_stored

        found = importlib.import_module(f"sheetnet.reference.{module}")
        return found.expected_cells(as_stored(params))

    return expected


# -- the parameters' common part -------------------------------------------------------
DEFAULT_MAX_FORMULA_CELLS = 3_000_000  # a workbook a spreadsheet opens in reasonable time


class LessonParams:
    """What every lesson's parameters do on creation, in one place: each field's check,
    then the lesson's own rules (`check`), then the size limit, on the lesson's
    prediction of its formula cells (`formula_cells`, an upper bound that a common
    test holds against the real count), so an oversized workbook is refused up front.

    A lesson's parameters are a frozen dataclass of `param` fields deriving from this.
    """

    MAX_FORMULA_CELLS: ClassVar[int] = DEFAULT_MAX_FORMULA_CELLS
    SIZE_OPTION: ClassVar[str] = "iterations"  # the option the refusal names
    SIZE_ADVICE: ClassVar[str] = "use fewer iterations"

    def __post_init__(self) -> None:
        validate(self)
        self.check()
        cells = self.formula_cells()
        if cells > self.MAX_FORMULA_CELLS:
            raise ParamError(
                self.SIZE_OPTION,
                f"about {cells:,} formula cells; at most {self.MAX_FORMULA_CELLS:,} open in "
                f"reasonable time: {self.SIZE_ADVICE}",
            )

    def check(self) -> None:
        """The lesson's rules across fields; raise ParamError. Runs after the fields' checks."""

    def formula_cells(self) -> int:
        """An upper bound of the formula cells of the lesson's own sheets (no front)."""
        raise NotImplementedError


# -- what a lesson declares -----------------------------------------------------------------
@dataclass(frozen=True)
class DataRegion:
    """Where a bulk parameter (the learner's data) lands as input cells.

    `cells(value)` gives the rows of cell values the region holds; `value(rows)`
    turns rows read back from a workbook into the parameter again.
    """

    field: str
    sheet: str
    top: int  # zero-based
    left: int
    cells: Callable[[Any], list[list[float]]]
    value: Callable[[list[list[float]]], Any]


@dataclass(frozen=True)
class KeyResult:
    """A number that says how the lesson came out (final loss, accuracy...)."""

    label: str
    sheet: str
    a1: str
    number_format: str = "0.0000"


@dataclass(frozen=True)
class Exercise:
    """Formula cells a learner writes: the column under `header` (its first cell on
    `sheet`), and every cell whose formula is that cell's filled down or across."""

    name: str
    sheet: str
    header: str
    task: str  # one line: what to compute
    hint: str
    concept: str
    level: int  # 1 easy, 2 medium, 3 hard
    # more columns, by their headers, that compute the same answer another way: empty too,
    # or their values would give the answer away
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    """Everything the generic layers and the common test suite need from a lesson."""

    name: str
    filename: str
    summary: str
    params: type  # a frozen dataclass of `param` fields
    # params -> the lesson's own sheets; kit.workbook adds what every workbook gets (front)
    sheets: Callable[[Any], Workbook]
    reference: Callable[[Any], dict[tuple[str, str], object]]  # engine-free, every formula cell
    key_results: Callable[[Any], list[KeyResult]]
    examples: Callable[[], list[Any]]  # small parameter sets, quick to build
    strategy: Callable[[], Any]  # a hypothesis strategy of valid parameters (imported lazily)
    # (command-line options, what the one-line refusal says): for the common tests
    bad_options: tuple[tuple[tuple[str, ...], str], ...] = ()
    data_regions: tuple[DataRegion, ...] = ()
    front: Callable[[Any], Any] | None = None  # params -> kit.Front: the front sheet
    # (params, sheet, 1-based row, cell, error) -> a warning, or None to stay quiet
    explain_error: Callable[[Any, str, int, str, Any], str | None] | None = None
    exercises: tuple[Exercise, ...] = ()
    # params -> the parameters of its exercise workbook (one block where blocks differ)
    exercise_params: Callable[[Any], Any] | None = None

    def parse_options(self, given: Mapping[str, Sequence[str]]) -> Any:
        """Parameters from command-line values by field name; ParamError names the option."""
        known = {f.name: f for f in fields_of(self.params)}
        values: dict[str, Any] = {}
        for name, texts in given.items():
            f = known[name]
            for other, why in f.metadata["excludes"].items():
                if other in given:
                    raise ParamError(name, f"cannot be combined with --{other} ({why})")
            try:
                values[name] = f.metadata["kind"].parse(texts)
            except ValueError as exc:
                raise ParamError(name, str(exc)) from None
        return self.params(**values)

    def option_names(self) -> list[str]:
        return [f.name for f in fields_of(self.params)]
