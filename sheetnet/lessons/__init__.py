"""The lessons: builders of workbook models on top of the engine, registered here.

A new lesson is a folder with a `LESSON` (see contract.py) and one line below.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import backprop, conv, digits, entropy, finetune, graddesc, optimizers, regularisation
from .contract import Lesson

LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        entropy.LESSON,
        graddesc.LESSON,
        digits.LESSON,
        backprop.LESSON,
        optimizers.LESSON,
        regularisation.LESSON,
        finetune.LESSON,
        conv.LESSON,
    )
}


def get(name: str) -> Lesson:
    try:
        return LESSONS[name]
    except KeyError:
        raise ValueError(f"unknown lesson {name!r} (known: {', '.join(LESSONS)})") from None


class _Catalogue(types.ModuleType):
    """This package is also `sheetnet.lessons()`, the notebook's table of lessons:
    importing a subpackage binds its name on the parent, which would otherwise hide
    a function of that name (see sheetnet.api.lessons)."""

    def __call__(self) -> Any:
        from ..api import lessons

        return lessons()


sys.modules[__name__].__class__ = _Catalogue
