"""Advisory file locks between processes (and threads: each call opens its own handle).

flock-style locks belong to an open file, so a process that dies releases them; no stale
lock ever needs cleaning up. Lock files are never deleted: deleting one while another
process holds it open would let a third lock a fresh file beside it.

A blocking wait is bounded (`timeout`): a dead holder releases the lock, but a hung one
(stopped, deadlocked, stuck on a network file system) never does, and waiting forever
would hang the caller with no word of why. The wait polls, as the `filelock` package
does; that package was not used because importing it costs ~40 ms against ~2 ms here.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

DEFAULT_TIMEOUT = 30.0  # seconds; read at each call, so a test may lower it


class _Default(enum.Enum):
    TIMEOUT = "DEFAULT_TIMEOUT"
_POLL_FIRST, _POLL_MAX = 0.005, 0.1


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the timeout. An OSError (a
    TimeoutError), so callers that handle I/O failures handle it too."""

    def __init__(self, path: Path, timeout: float) -> None:
        message = (f"another repo-tools process holds the lock {path} (waited {timeout:g} s); "
                   "if no repo-tools process is running, check for a hung one")
        super().__init__(errno.ETIMEDOUT, message, str(path))
        self.path = path
        self.timeout = timeout

    def __str__(self) -> str:
        return str(self.strerror)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def exclusive(path: Path, *, blocking: bool = True,
              timeout: float | _Default | None = _Default.TIMEOUT) -> Iterator[bool]:
    """Hold an exclusive lock on path (created if missing) for the block; yields whether it
    was acquired (always True when blocking).

    A blocking call waits at most `timeout` seconds (default DEFAULT_TIMEOUT; None: without
    limit) and then raises LockTimeout naming the lock file.
    """
    if timeout is _Default.TIMEOUT:
        timeout = DEFAULT_TIMEOUT
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        acquired = _try_lock(fd)
        started, pause = time.monotonic(), _POLL_FIRST
        while blocking and not acquired:
            if timeout is not None:
                left = started + timeout - time.monotonic()
                if left <= 0:
                    raise LockTimeout(path, timeout)
                pause = min(pause, left)
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)
            acquired = _try_lock(fd)
        yield acquired
    finally:
        os.close(fd)  # closing releases the lock
