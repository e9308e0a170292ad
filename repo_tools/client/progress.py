"""Progress and cancellation of one download, as `ensure` and `download` take them.

`progress(done_bytes, total_bytes_or_None)` is called from the downloading thread: at most
every `PROGRESS_INTERVAL` seconds while bytes arrive, with `done_bytes` strictly
increasing, and last with `done_bytes == total_bytes` once the file is verified. A resumed
download starts at the bytes already on disk; when a server ignores the resume and sends
everything again, nothing is reported until the count passes what was already shown, so a
progress bar never goes backwards.

`cancel` is anything with `is_set() -> bool` (a `threading.Event`). It is looked at after
every chunk and, by a watcher thread, every `CANCEL_POLL` seconds: a cancel then ends the
download's deadline, which wakes whatever the transfer waits for (connecting, the answer,
the next bytes), so it takes effect within that time whatever the server does. A back-off
pause between retries is the one wait it does not cut short.

Ready adapters turn a tqdm or rich progress bar into a `progress` callable
(`repo_tools.client.bars`); neither package is needed otherwise.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

PROGRESS_INTERVAL = 0.1  # seconds; a UI redraws no faster than this anyway
CANCEL_POLL = 0.05  # seconds

ProgressCallback = Callable[[int, int | None], None]


class CancelFlag(Protocol):
    """What `cancel=` accepts: a `threading.Event`, or anything with `is_set()`."""

    def is_set(self) -> bool: ...


class Abortable(Protocol):
    def abort(self) -> None: ...


class Throttle:
    """Which of a stream of byte counts to report: strictly increasing, at most one per
    interval, and the final count always (unless it was the last one reported)."""

    def __init__(self, interval: float = PROGRESS_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.reported = -1
        self._last = float("-inf")

    def due(self, done: int, *, final: bool = False) -> bool:
        if done <= self.reported:
            return False
        now = self.clock()
        if not final and now - self._last < self.interval:
            return False
        self.reported = done
        self._last = now
        return True


@contextlib.contextmanager
def abort_on_cancel(cancel: CancelFlag | None, target: Abortable) -> Iterator[None]:
    """While the block runs, abort target as soon as cancel is set: a wait on a silent
    server wakes up instead of running to the read timeout."""
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(CANCEL_POLL):
            if cancel.is_set():
                target.abort()
                return

    watcher = threading.Thread(target=watch, name="repo-tools-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
