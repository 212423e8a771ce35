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


APP_FIXTURES = {"libreoffice", "gnumeric", "ironcalc", "app"}
TORCH_MODULES = {"test_torch", "test_notebooks"}
# whole modules that build or read large workbooks, kill processes or run schema checks
SLOW_MODULES = {"test_fuzz", "test_schema", "test_hostile", "test_stream", "test_package"}
BIG_LESSONS = ("[digits", "[graddesc", "[optimizers", "-digits", "-graddesc", "-optimizers")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs a spreadsheet application (`app`) or PyTorch (`torch`), and what
    builds the big lessons or kills processes (`slow`), so a quick run can leave them
    out: pytest -m "not app and not torch and not slow" (the lessons are still all
    checked there, on entropy and backprop and on every lesson's small examples)."""
    for item in items:
        if APP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.app)
        module = item.module.__name__.rpartition(".")[2] if item.module is not None else ""
        if module in TORCH_MODULES:
            item.add_marker(pytest.mark.torch)
        if module in SLOW_MODULES or any(big in item.nodeid for big in BIG_LESSONS):
            item.add_marker(pytest.mark.slow)
