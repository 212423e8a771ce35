"""The lessons: builders of workbook models on top of the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine import Workbook
from . import entropy, graddesc


@dataclass(frozen=True)
class Lesson:
    name: str
    filename: str
    summary: str
    params: type
    build: Callable[[Any], Workbook]
    # (params, sheet, 1-based row, cell, error) -> a warning, or None to stay quiet
    explain_error: Callable[[Any, str, int, str, Any], str | None] | None = None


LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        Lesson(
            "entropy",
            "entropy_example.xlsx",
            "softmax, sigmoid, binary cross-entropy and NLL (entropy_example.xlsx)",
            entropy.EntropyParams,
            entropy.build,
        ),
        Lesson(
            "graddesc",
            "graddesc.xlsx",
            "SGD, momentum, RMSProp, Adam and annealed Adam fitting y = ax + b (graddesc.xlsm)",
            graddesc.GraddescParams,
            graddesc.build,
            graddesc.explain_error,
        ),
    )
}


def get(name: str) -> Lesson:
    try:
        return LESSONS[name]
    except KeyError:
        raise ValueError(f"unknown lesson {name!r} (known: {', '.join(LESSONS)})") from None
