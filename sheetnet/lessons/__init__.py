"""The lessons: builders of workbook models on top of the engine, registered here.

A new lesson is a folder with a `LESSON` (see contract.py) and one line below.
"""

from __future__ import annotations

from . import backprop, digits, entropy, graddesc, optimizers
from .contract import Lesson

LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        entropy.LESSON,
        graddesc.LESSON,
        digits.LESSON,
        backprop.LESSON,
        optimizers.LESSON,
    )
}


def get(name: str) -> Lesson:
    try:
        return LESSONS[name]
    except KeyError:
        raise ValueError(f"unknown lesson {name!r} (known: {', '.join(LESSONS)})") from None
