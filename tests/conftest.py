"""Shared fixtures: the spreadsheet applications (a failure under CI when missing,
a visible skip elsewhere)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from sheetnet.verify.apps import APPS, App

# Under CI the property tests replay the same examples every run (reproducible);
# elsewhere they explore new ones (SHEETNET_LO_BATCHES=60 for a longer hunt).
settings.register_profile("ci", derandomize=True, database=None)
UNDER_CI = os.environ.get("CI", "").lower() == "true"
if UNDER_CI:
    settings.load_profile("ci")


def require(name: str) -> App:
    app = APPS[name]
    if not app.available():
        if UNDER_CI:
            pytest.fail(f"{app.title} is required under CI ({app.install})")
        pytest.skip(f"{app.title} is not installed: its real-spreadsheet checks skipped")
    return app


@pytest.fixture(scope="session")
def libreoffice() -> App:
    return require("libreoffice")


@pytest.fixture(scope="session")
def gnumeric() -> App:
    return require("gnumeric")


@pytest.fixture(scope="session")
def ironcalc() -> App:
    return require("ironcalc")


@pytest.fixture(scope="session", params=list(APPS))
def app(request: pytest.FixtureRequest) -> App:
    """Each spreadsheet application in turn."""
    return require(request.param)
