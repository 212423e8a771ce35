"""Shared fixtures: LibreOffice availability (a failure under CI, a visible skip elsewhere)."""

from __future__ import annotations

import os

import pytest

from sheetnet.verify.libreoffice import soffice


@pytest.fixture(scope="session")
def libreoffice() -> str:
    binary = soffice()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice is required under CI (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice is not installed: real-spreadsheet checks skipped")
    return binary
