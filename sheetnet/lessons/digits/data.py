"""The digits lesson's images: the 8x8 digits that ship with sheetnet, or a learner's
CSV in the common MNIST layout (a `label` column, then pixel columns)."""

from __future__ import annotations

import csv
import functools
import gzip
import io
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ...inputs import number, read_text
from ..contract import ParamError

MAX_IMAGES = 100_000  # rows read from a CSV (more would not fit a workbook anyway)
MAX_PIXELS = 4_096  # 64 x 64


@dataclass(frozen=True)
class Images:
    """Images in the order the workbook lists them: training images first.

    `source` is each image's row in the file it came from (1 = the first image)."""

    source: tuple[int, ...]
    labels: tuple[int, ...]
    pixels: tuple[tuple[float, ...], ...]

    @property
    def side(self) -> int:
        return math.isqrt(len(self.pixels[0]))

    def rows(self) -> list[list[float]]:
        """As cells: source row, label, then the pixels."""
        return [[float(s), float(y), *p] for s, y, p in zip(self.source, self.labels, self.pixels)]

    @classmethod
    def from_rows(cls, rows: list[list[float]]) -> Images:
        return cls(
            tuple(int(r[0]) for r in rows),
            tuple(int(r[1]) for r in rows),
            tuple(tuple(r[2:]) for r in rows),
        )


@dataclass(frozen=True)
class Table:
    """A whole file of labelled images, before the lesson picks its images."""

    labels: np.ndarray  # (n,) int
    pixels: np.ndarray  # (n, pixels) float

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Table)
            and np.array_equal(self.labels, other.labels)
            and np.array_equal(self.pixels, other.pixels)
        )

    def __hash__(self) -> int:
        return hash((self.labels.tobytes(), self.pixels.tobytes()))


@functools.cache
def builtin() -> Table:
    """The 1,797 8x8 digits (UCI, CC BY 4.0; see DIGITS_LICENSE.txt)."""
    raw = resources.files(__package__).joinpath("digits8x8.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode().splitlines(), delimiter=",", skiprows=1)
    return Table(table[:, 0].astype(int), table[:, 1:])


def read_digits_csv(path: str) -> Table:
    """A CSV with a `label` column (0..9) and a square number of pixel columns."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        if "label" not in [h.lower() for h in header]:
            found = ",".join(header)[:60]
            raise ValueError(f"{path}: line 1 must name a 'label' column, found {found!r}")
        if [h.lower() for h in header].count("label") > 1:
            raise ValueError(f"{path}: line 1 names the 'label' column more than once")
        at = [h.lower() for h in header].index("label")
        count = len(header) - 1
        side = math.isqrt(count)
        if count < 4 or side * side != count:
            raise ValueError(
                f"{path}: {count} pixel columns is not a square image (64 = 8x8, 784 = 28x28)"
            )
        if count > MAX_PIXELS:
            raise ValueError(f"{path}: {count} pixels per image; at most {MAX_PIXELS} fit")
        labels, pixels = [], []
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}: line {line}: expected {len(header)} values, found {len(row)}"
                )
            values = _numbers(Path(path), line, header, row)
            label = values[at]
            if label not in range(10):
                raise ValueError(f"{path}: line {line}: label {label:g} is not a digit 0..9")
            labels.append(int(label))
            pixels.append(np.delete(values, at))
            if len(labels) > MAX_IMAGES:
                raise ValueError(f"{path}: more than {MAX_IMAGES:,} images")
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    if len(labels) < 2:
        raise ValueError(f"{path}: need at least 2 images, found {len(labels)}")
    table = np.array(pixels)
    if table.min() < 0:
        raise ValueError(f"{path}: pixels must not be negative (found {table.min():g})")
    if table.max() > 255:
        raise ValueError(
            f"{path}: pixels above 255 (found {table.max():g}); expected 0..16 or 0..255"
        )
    return Table(np.array(labels), table)


def _numbers(path: Path, line: int, header: list[str], row: list[str]) -> np.ndarray:
    try:
        values = np.array([c.strip() for c in row], dtype=float)
    except ValueError:
        values = None
    if values is None or not np.isfinite(values).all():
        for name, cell in zip(header, row):  # find and name the offending value
            number(path, line, name, cell)
        raise ValueError(f"{path}: line {line}: not a row of numbers")
    return values


def scale_of(images: Images) -> float:
    """What the pixels are divided by to lie in [0, 1]: 16 for the 8x8 digits, else 255."""
    return 16.0 if max(max(p) for p in images.pixels) <= 16 else 255.0


def pick(table: Table, train: int, valid: int, seed: int) -> Images:
    """A seeded choice of `train` + `valid` images, training images first."""
    n = len(table.labels)
    if train + valid > n:
        raise ValueError(
            f"the data has {n:,} images; --train {train} and --valid {valid} need more"
        )
    chosen = np.random.default_rng(seed).permutation(n)[: train + valid]
    return Images(
        tuple(int(i) + 1 for i in chosen),
        tuple(int(table.labels[i]) for i in chosen),
        tuple(tuple(float(v) for v in table.pixels[i]) for i in chosen),
    )


def choose_images(params: Any) -> None:
    """The images a lesson's parameters stand for, chosen once when they are made: from
    the shipped table or the learner's (`data`), `train` and `valid` of them by `seed`;
    a recorded choice (an `Images`) must hold that many. ParamError names the option."""
    data = params.data
    if isinstance(data, Table) or data is None:
        table = data if data is not None else builtin()
        try:
            chosen = pick(table, params.train, params.valid, params.seed)
        except ValueError as exc:
            raise ParamError("train", str(exc)) from None
        object.__setattr__(params, "_images", chosen)
        if data is not None:
            object.__setattr__(params, "data", chosen)
    elif len(data.labels) != params.train + params.valid:
        raise ParamError(
            "data", f"{len(data.labels)} images recorded, {params.train + params.valid} expected"
        )
