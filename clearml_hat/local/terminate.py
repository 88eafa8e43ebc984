"""SIGTERM ends the training as promptly as it ends a bare script (`timeout`, `docker stop`, a cluster's preemption).

ClearML's signal hook swallows SIGTERM when the process had the default handler (it returns before doing
anything), so under Task.init a training would run on to its end. For the block of the training the hat turns the
first SIGTERM into a Terminated exception in the main thread; the caller then closes the task as stopped, with
everything reported so far delivered. A second SIGTERM kills at once, as for a bare script.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Iterator

EXIT_CODE = 128 + signal.SIGTERM  # what a shell reports for a process SIGTERM ended: 143


class Terminated(BaseException):
    """The process got SIGTERM during the training. A BaseException, as SystemExit is: the training's own
    `except Exception` must not swallow it."""


@contextmanager
def raises_on_sigterm(enabled: bool = True) -> Iterator[None]:
    """During the block, the first SIGTERM raises Terminated in the main thread; the previous handler is back
    afterwards. Not enabled: the handler in place stays (rank 0 of a torchrun typed by hand has its own)."""
    if not enabled:
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
