"""Peak memory of a build, the writer's helper process included.

ru_maxrss sees one process, and counts the pages a forked helper shares with it in
full. Sampling the proportional set size (PSS: each shared page split between the
processes sharing it) of this process and its children, and taking the largest
sum, counts every page once. Linux only; elsewhere the peak is ru_maxrss.
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
from pathlib import Path

INTERVAL = 0.01  # seconds between samples


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass  # gone between listing and reading
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


class PeakMemory:
    """with PeakMemory() as peak: ...; then peak.mb (all processes) and peak.rss_mb."""

    def __init__(self) -> None:
        self.sampled_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.linux = Path("/proc/self/smaps_rollup").exists()

    def __enter__(self) -> PeakMemory:
        if self.linux:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.linux:
            self._thread.join()

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(INTERVAL):
            total = _pss_kb(me) + sum(_pss_kb(c) for c in _children(me))
            self.sampled_kb = max(self.sampled_kb, total)

    @property
    def rss_mb(self) -> float:
        """This process's own peak resident set (shared pages in full)."""
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @property
    def mb(self) -> float:
        """The peak of all processes together (the larger of the two measures)."""
        return max(self.sampled_kb / 1024, self.rss_mb)
