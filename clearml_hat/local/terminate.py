"""SIGTERM ends the training as promptly as it ends a bare script (`timeout`, `docker stop`, a cluster's preemption).

ClearML's signal hook swallows SIGTERM when the process had the default handler (it returns before doing
anything), so under Task.init a training would run on to its end. For the block of the training the hat turns the
first SIGTERM into a Terminated exception in the main thread; the caller then closes the task as stopped, with
everything reported so far delivered. A second SIGTERM a while later kills at once, as for a bare script.

Two things stand between the signal and the exception (both seen with clearml 1.16.3, 1 run in 10):
- The kernel may hand a process's signal to any of its threads, and ClearML runs several. Python then runs the
  handler only when the main thread next executes Python code: a training in `time.sleep` or a long C call would
  go on. A watcher thread learns of the signal from the wakeup fd and sends it to the main thread itself.
- The exception must not be raised inside ClearML's own code (the training's print and torch.save pass through
  it): its locks are Python objects whose `__enter__` can be cut between taking the lock and returning, and the
  task's close would then wait forever for a lock nobody releases. There the handler returns, and the watcher
  sends the signal again a moment later (for at most DEFER_AT_MOST seconds).
"""
from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from types import FrameType
from typing import Iterator, Optional

EXIT_CODE = 128 + signal.SIGTERM  # what a shell reports for a process SIGTERM ended: 143
RETRY_SECONDS = 0.05
DEFER_AT_MOST = 5.0
SECOND_SIGTERM_AFTER = 1.0  # later than that after the first, a SIGTERM is the user's second, not the watcher's


class Terminated(BaseException):
    """The process got SIGTERM during the training. A BaseException, as SystemExit is: the training's own
    `except Exception` must not swallow it."""


def inside_clearml(frame: Optional[FrameType]) -> bool:
    """Whether the frame or one of its callers is code of the clearml package."""
    clearml = sys.modules.get("clearml")
    if clearml is None or not getattr(clearml, "__file__", None):
        return False
    package = os.path.dirname(os.path.abspath(clearml.__file__ or "")) + os.sep
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename).startswith(package):
            return True
        frame = frame.f_back
    return False


class _Sigterm:
    """The handler (main thread) and the watcher (its own thread) of one block."""

    def __init__(self) -> None:
        self.requested_at: Optional[float] = None
        self.raised_at: Optional[float] = None
        self.done = threading.Event()
        self.main = threading.main_thread().ident or 0

    def handle(self, signum: int, frame: Optional[FrameType]) -> None:
        now = time.monotonic()
        if self.raised_at is not None:
            if now - self.raised_at > SECOND_SIGTERM_AFTER:  # the user's second SIGTERM: die as a bare script
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)
            return
        self.requested_at = self.requested_at or now
        if inside_clearml(frame) and now - self.requested_at < DEFER_AT_MOST:
            return  # the watcher sends it again
        self.raised_at = now
        raise Terminated("SIGTERM")

    def watch(self, wakeup: socket.socket) -> None:
        """Until the block ends or Terminated is raised: once a SIGTERM came, send it to the main thread every
        RETRY_SECONDS (the bytes read are signal numbers the C-level handler wrote, whichever thread it ran in)."""
        while not self.done.is_set() and self.raised_at is None:
            if select.select([wakeup], [], [], RETRY_SECONDS)[0]:
                if signal.SIGTERM in wakeup.recv(4096) and self.requested_at is None:
                    self.requested_at = time.monotonic()
            if self.requested_at is not None and self.raised_at is None and not self.done.is_set():
                signal.pthread_kill(self.main, signal.SIGTERM)

    def pending(self) -> bool:
        """Whether a SIGTERM came and was not raised yet."""
        return self.requested_at is not None and self.raised_at is None


@contextmanager
def raises_on_sigterm(enabled: bool = True) -> Iterator[None]:
    """During the block, the first SIGTERM raises Terminated in the main thread; the previous handler is back
    afterwards. Not enabled: the handler in place stays (rank 0 of a torchrun typed by hand has its own)."""
    if not enabled:
        yield
        return
    sigterm = _Sigterm()
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous = signal.signal(signal.SIGTERM, sigterm.handle)
    watcher = threading.Thread(target=sigterm.watch, args=(reader,), name="hat: SIGTERM watcher", daemon=True)
    watcher.start()
    try:
        yield
        if sigterm.pending():  # the block ended while a SIGTERM waited to be raised
            raise Terminated("SIGTERM")
    finally:
        sigterm.done.set()
        watcher.join()
        signal.signal(signal.SIGTERM, previous)
        signal.set_wakeup_fd(previous_fd)
        reader.close()
        writer.close()
