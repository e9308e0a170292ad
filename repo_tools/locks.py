"""Advisory file locks between processes (and threads: each call opens its own handle).

flock-style locks belong to an open file, so a process that dies releases them; no stale
lock ever needs cleaning up. Lock files are never deleted: deleting one while another
process holds it open would let a third lock a fresh file beside it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


def _lock(fd: int, blocking: bool) -> bool:
    if sys.platform == "win32":
        import msvcrt

        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not blocking:
                    return False
                import time

                time.sleep(0.05)
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def exclusive(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on path (created if missing) for the block; yields whether it
    was acquired (always True when blocking)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield _lock(fd, blocking)
    finally:
        os.close(fd)  # closing releases the lock
