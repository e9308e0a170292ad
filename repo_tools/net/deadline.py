"""Overall time limits that hold against servers that trickle.

A socket timeout bounds each wait for the next bytes, not a whole exchange: a server
sending 4 bytes a second never trips it. A `Deadline` therefore has a watchdog: when
it runs out, every socket still open under it is shut down, which wakes any thread
blocked reading it (connecting, in the TLS handshake, waiting for headers or reading a
body), and the transport reports the request as out of time.

One daemon thread serves every deadline of the process; it only sleeps until the
earliest one that has sockets to watch.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time


class Deadline:
    """A time budget in seconds from now (None: unbounded), optionally inside a parent's.

    name: how messages call it ("the run's --deadline"); a child whose parent ends first
    takes the parent's name, since that is the limit a user would raise."""

    def __init__(self, seconds: float | None, *, parent: Deadline | None = None,
                 name: str = "the deadline") -> None:
        self.name = name
        self._end: float | None = None if seconds is None else time.monotonic() + seconds
        if parent is not None and parent._end is not None and (
                self._end is None or parent._end < self._end):
            self._end, self.name = parent._end, parent.name
        self.seconds = seconds
        self._lock = threading.Lock()
        self._guards: set[Guard] = set()
        self._scheduled = False
        self._fired = False
        self._ended = threading.Event()

    def remaining(self) -> float:
        return float("inf") if self._end is None else self._end - time.monotonic()

    def expired(self) -> bool:
        return self._fired or self.remaining() <= 0

    def bound(self, seconds: float) -> float:
        """seconds, or what is left of the budget when that is less (never below 1 ms)."""
        return max(0.001, min(seconds, self.remaining()))

    def guard(self) -> Guard:
        """A set of sockets to shut down when this deadline runs out."""
        return Guard(self)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking when the deadline is ended by `expire` (a
        cancel); True when it was. (Running out of time on its own is the caller's to
        check: it only sleeps for less than what remains.)"""
        return self._ended.wait(seconds) or self._fired

    def expire(self) -> None:
        """End the budget now: every socket under it is shut (a blocked connect or read
        wakes up) and every later request under it fails as out of time. What a cancel
        button calls, from any thread."""
        self._fire()

    def _watch(self, guard: Guard) -> bool:
        """Watch guard's sockets; False when the deadline has already run out. An
        unbounded deadline watches them too, for `expire`, but never wakes the watchdog."""
        with self._lock:
            if self._fired:
                return False
            self._guards.add(guard)
            schedule = self._end is not None and not self._scheduled
            self._scheduled = self._scheduled or schedule
        if schedule:
            assert self._end is not None
            _WATCHDOG.schedule(self._end, self)
        return True

    def _unwatch(self, guard: Guard) -> None:
        with self._lock:
            self._guards.discard(guard)

    def _fire(self) -> None:
        self._ended.set()
        with self._lock:
            self._fired = True
            guards = list(self._guards)
            self._guards.clear()
        for guard in guards:
            guard.shut()


class Guard:
    """The sockets of one exchange (connection, request, response body)."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._shut = False
        self._active = False

    def __enter__(self) -> Guard:
        self._active = self._deadline._watch(self)
        if not self._active:
            self.shut()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            shut = self._shut
        if shut:
            _shutdown(sock)

    def release(self) -> None:
        if self._active:
            self._deadline._unwatch(self)
            self._active = False

    def shut(self) -> None:
        with self._lock:
            self._shut = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    @property
    def tripped(self) -> bool:
        return self._shut


def _shutdown(sock: socket.socket) -> None:
    # shutdown, not close: close waits for a blocked reader, shutdown wakes it.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="repo-tools-deadline",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, _, deadline = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            deadline._fire()


_WATCHDOG = _Watchdog()
