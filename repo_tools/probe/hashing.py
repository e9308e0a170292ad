"""Streaming SHA-256 of a body, with receiving and hashing overlapped.

A reader thread pulls large chunks off the socket while the calling thread hashes the
previous ones: both socket reads and hashlib's update on large buffers release the GIL,
so on two cores the slower of the two sets the pace instead of their sum. A small
bounded queue keeps memory flat whatever the size of the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import queue
import threading
from collections.abc import Callable

CHUNK_SIZE = 1 << 20
QUEUE_DEPTH = 4
HEAD_BYTES = 512


class TooLarge(Exception):
    def __init__(self, received: int):
        super().__init__(received)
        self.received = received


class Stopped(Exception):
    """The caller's stop condition (e.g. the run's deadline) ended the read."""

    def __init__(self, received: int):
        super().__init__(received)
        self.received = received


class BodyError(Exception):
    """Reading failed after `received` bytes; the cause is chained."""

    def __init__(self, received: int):
        super().__init__(received)
        self.received = received


@dataclasses.dataclass(frozen=True, slots=True)
class Digest:
    sha256: str
    size: int
    head: bytes  # the first bytes, to recognise an HTML page served as a file


_END = object()


def hash_stream(read: Callable[[int], bytes], *, max_size: int | None = None,
                on_bytes: Callable[[int], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                abort: Callable[[], None] | None = None,
                chunk_size: int = CHUNK_SIZE) -> Digest:
    """SHA-256 of everything read(n) returns until it returns b"".

    Raises TooLarge past max_size, Stopped when should_stop() turns true, and BodyError
    (chained to the cause) when read raises. `abort` is called before giving up early, to
    unblock a reader stuck in read (e.g. by closing the response).
    """
    chunks: queue.Queue[object] = queue.Queue(maxsize=QUEUE_DEPTH)
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                data = read(chunk_size)
                _put(chunks, data if data else _END, stop)
                if not data:
                    return
        except BaseException as exc:  # handed to the hashing thread, which raises it
            _put(chunks, exc, stop)

    thread = threading.Thread(target=reader, name="probe-reader", daemon=True)
    thread.start()
    sha = hashlib.sha256()
    size = 0
    head = b""
    try:
        while True:
            try:
                item = chunks.get(timeout=0.25)
            except queue.Empty:
                # A reader stuck on a silent socket must not hold the caller past its stop
                # condition (the run's deadline).
                if should_stop is not None and should_stop():
                    raise Stopped(size) from None
                continue
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise BodyError(size) from item
            assert isinstance(item, bytes)
            sha.update(item)
            size += len(item)
            if len(head) < HEAD_BYTES:
                head = (head + item)[:HEAD_BYTES]
            if on_bytes is not None:
                on_bytes(len(item))
            if max_size is not None and size > max_size:
                raise TooLarge(size)
            if should_stop is not None and should_stop():
                raise Stopped(size)
    except BaseException:
        stop.set()
        if abort is not None:
            abort()
        _drain(chunks)
        thread.join(timeout=5)
        raise
    thread.join()
    return Digest(sha.hexdigest(), size, head)


def _put(chunks: queue.Queue[object], item: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            chunks.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _drain(chunks: queue.Queue[object]) -> None:
    while True:
        try:
            chunks.get_nowait()
        except queue.Empty:
            return


def looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))
