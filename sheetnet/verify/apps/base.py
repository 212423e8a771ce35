"""What sheetnet needs from a real spreadsheet application: recalculate a file
from scratch, and say where its answers are known to differ from Excel's."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT = 600.0  # seconds for one recalculation; then one line and exit 2


def app_timeout(given: float | None = None) -> float:
    """Seconds an application may take: `given`, else $SHEETNET_APP_TIMEOUT, else 600."""
    if given is not None:
        return given
    try:
        return float(os.environ.get("SHEETNET_APP_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


class AppMissing(RuntimeError):
    """The application is not installed."""


@dataclass(frozen=True)
class App:
    """A spreadsheet application sheetnet can drive headlessly."""

    name: str  # as the command line names it: --app libreoffice
    title: str  # as people name it
    install: str  # how to install it
    binary: Callable[[], str | None]  # its program, or None when not installed
    # (file, out folder, timeout) -> the recalculated copy, saved as .xlsx
    recalculate: Callable[..., Path]
    # (Excel's value, the app's value, formula, the sheet's values) -> why it may differ
    known_difference: Callable[..., str | None]

    def available(self) -> bool:
        return self.binary() is not None


def run_app(
    title: str,
    cmd: list[str],
    out: Path,
    timeout: float | None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run an application's command; any failure or hang is one RuntimeError line."""
    timeout = app_timeout(timeout)
    try:
        child = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # its helpers too can be stopped, as one group
        )
    except OSError as exc:
        raise RuntimeError(f"{title} could not be started: {exc.strerror or exc}") from None
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise RuntimeError(f"{title} did not finish within {timeout:.0f} s; gave up") from None
    done = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
    if done.returncode != 0 or not out.exists():
        detail = " ".join((done.stderr or done.stdout or "").split())[:300]
        raise RuntimeError(f"{title} could not recalculate the file: {detail}")
