"""Run work on the second core in a forked copy of this process.

A fork shares the finished workbook model without copying or pickling it; the
helper writes its pickled result to a temporary file (a pipe would stall it while
this process is busy) and exits without running any of this process's cleanup.
Where fork is missing, or the helper cannot start or fails, the caller does the
work itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import tempfile
import warnings
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

# Linux only: macOS's system libraries are not safe to use in a forked child.
AVAILABLE = hasattr(os, "fork") and sys.platform.startswith("linux")


class Helper(Generic[T]):
    """`work()` running in a forked helper process; `result()` waits for it."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by result or stop)
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns when a process with other threads (numpy's BLAS
                # pool) forks: a child could block on a lock one of them held. This
                # one takes no locks: it renders, writes its file and exits.
                warnings.simplefilter("ignore", DeprecationWarning)
                self._pid = os.fork()
        except OSError:
            self._file.close()
            raise
        if self._pid == 0:
            _run_and_exit(work, self._file)

    def result(self) -> T | None:
        """The helper's result, or None if it failed."""
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        with self._file:
            if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
                return None
            self._file.seek(0)
            try:
                return pickle.load(self._file)
            except (pickle.UnpicklingError, EOFError):
                return None

    def stop(self) -> None:
        """End the helper now, if it still runs (the caller gave up waiting)."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = 0
            self._file.close()


def _run_and_exit(work: Callable[[], object], file: object) -> None:
    """The helper's whole life: no return into the caller's code, no cleanup of the
    caller's files (its handlers remove a half-written workbook), no flushing of
    buffers it inherited."""
    code = 1
    try:
        for name in ("SIGTERM", "SIGHUP", "SIGINT"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        pickle.dump(work(), file, protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[arg-type]
        file.flush()  # type: ignore[attr-defined]
        code = 0
    finally:
        os._exit(code)
