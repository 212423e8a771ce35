"""Shared fixtures: LibreOffice availability (a failure under CI, a visible skip elsewhere)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from sheetnet.verify.libreoffice import soffice

# Under CI the property tests replay the same examples every run (reproducible);
# elsewhere they explore new ones (SHEETNET_LO_BATCHES=60 for a longer hunt).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def libreoffice() -> str:
    binary = soffice()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice is required under CI (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice is not installed: real-spreadsheet checks skipped")
    return binary
