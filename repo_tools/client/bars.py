"""Progress-bar adapters: a tqdm or rich bar as the `progress=` of `ensure`/`download`.

    with RichProgress("llama-8b.gguf") as bar:
        client.ensure(entry, progress=bar)

Neither package is a dependency: each is imported when its adapter is made (ImportError
otherwise). The adapters are called from the downloading thread; both libraries' bars
may be updated from any thread.
"""

from __future__ import annotations

import importlib
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress


class TqdmProgress:
    """A tqdm bar in bytes (`unit="B"`, scaled); extra keyword arguments go to tqdm (e.g.
    `desc`, `file`, `disable`). Close it, or use it as a context manager."""

    def __init__(self, desc: str | None = None, **tqdm_options: Any) -> None:
        tqdm = importlib.import_module("tqdm").tqdm
        options: dict[str, Any] = {"unit": "B", "unit_scale": True, "unit_divisor": 1024,
                                   "desc": desc, **tqdm_options}
        self.bar: Any = tqdm(total=None, **options)

    def __call__(self, done: int, total: int | None) -> None:
        if total is not None and self.bar.total != total:
            self.bar.total = total
        # tqdm counts increments; the client reports totals so far.
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class RichProgress:
    """A task on a rich `Progress` (bytes done, size, speed). Given none, it makes and
    runs its own on stderr while used as a context manager; given one (several downloads
    on one display), it only adds its task."""

    def __init__(self, description: str = "download", progress: Progress | None = None) -> None:
        rich_progress = importlib.import_module("rich.progress")
        self._own = progress is None
        if progress is None:
            console = importlib.import_module("rich.console").Console(stderr=True)
            progress = rich_progress.Progress(
                rich_progress.TextColumn("{task.description}"), rich_progress.BarColumn(),
                rich_progress.DownloadColumn(), rich_progress.TransferSpeedColumn(),
                console=console)
        self.progress: Progress = progress
        self.task = progress.add_task(description, total=None)

    def __call__(self, done: int, total: int | None) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def __enter__(self) -> RichProgress:
        if self._own:
            self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._own:
            self.progress.stop()
