"""Printed metrics become ClearML scalars: sys.stdout and sys.stderr are teed, line by line, to a MetricReader.

    with reporting(task, "auto") as printed:     # "off": nothing is read; a regex: your own pattern
        result = job.train(argv)
    printed.last_values                          # {"val_acc": 0.91, ...}: the last printed value of each name

The streams in place when the block starts (ClearML's console capture already wraps them after Task.init) get
every write unchanged and at once, so the console, the task's log and the training's output stay as they were;
the tee only keeps a copy of the current line. A line is read when its newline arrives; a `\\r` redraw keeps only
the text after it, and what is left without a newline is read when the block ends (also when the training
raises). Which lines count is metrics.py's rule.

A metric on a line without an iteration (a final `val_acc: 0.91`) is reported at the last iteration any line
showed, so it lands on the graph beside the others; at iteration 0 when no line showed one. It is always a scalar,
never a single value: the same printed name gives the same graph and series whatever else the script printed,
which is what a sweep objective named after it relies on.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional

from clearml_hat.local.metrics import Metric, MetricReader, make_reader

# A line longer than this is no metric print (a tensor dump, a bar redrawn without `\r`): only its tail is kept.
_MAX_LINE = 10_000


class PrintedMetrics:
    """Reads whole lines out of the text written to several streams and hands each metric to `report`."""

    def __init__(self, reader: Optional[MetricReader], report: Callable[[Metric], None]) -> None:
        self._reader = reader
        self._report = report
        self._lock = threading.RLock()
        self._reporting = threading.local()  # a warning printed while reporting must not be read again
        self.last_values: Dict[str, float] = {}
        self.last_iteration: Optional[int] = None

    def feed(self, pending: List[str], text: str) -> None:
        """Add text written to one stream; `pending` is that stream's unfinished line."""
        if self._reader is None or getattr(self._reporting, "active", False):
            return
        with self._lock:
            *lines, rest = ((pending.pop() if pending else "") + text).split("\n")
            for line in lines:
                self._read(line)
            if "\r" in rest:  # a progress redraw: only the text after the last one is still on screen
                overwritten, _, rest = rest.rpartition("\r")
                self._report_all(self._reader.redraws(overwritten.split("\r")))  # a Trainer's bar, on stderr
            pending.append(rest[-_MAX_LINE:])

    def finish(self, pending: List[str]) -> None:
        """Read what a stream left without a newline."""
        with self._lock:
            rest = pending.pop() if pending else ""
            if rest.strip():
                self._read(rest)

    def end(self) -> None:
        """Report what a framework's line left waiting for a later line (Lightning's last epoch)."""
        with self._lock:
            if self._reader is not None:
                self._report_all(self._reader.finish())

    def _read(self, line: str) -> None:
        if self._reader is not None:
            self._report_all(self._reader.read(line))

    def _report_all(self, metrics: List[Metric]) -> None:
        if self._reader is not None and self._reader.last_iteration is not None:
            self.last_iteration = self._reader.last_iteration
        self._reporting.active = True
        try:
            for metric in metrics:
                iteration = metric.iteration if metric.iteration is not None else (self.last_iteration or 0)
                self.last_values[metric.name] = metric.value
                self._report(metric._replace(iteration=iteration))
        finally:
            self._reporting.active = False


class _Tee:
    """A text stream that writes through to `stream` and copies what it gets to PrintedMetrics."""

    def __init__(self, stream: Any, printed: PrintedMetrics) -> None:
        self._stream = stream
        self._printed = printed
        self._pending: List[str] = []

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        if isinstance(text, str):
            self._printed.feed(self._pending, text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def finish(self) -> None:
        self._printed.finish(self._pending)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, buffer...: the stream's own
        return getattr(self._stream, name)


def check_setting(setting: str) -> None:
    """HatError for a `--metrics` regex that cannot work, before any task exists."""
    make_reader(setting)


@contextmanager
def reporting(task: Any, setting: str) -> Iterator[PrintedMetrics]:
    """Report what the block prints as scalars of `task`, read by the `--metrics` setting (auto, off, a regex)."""
    logger = task.get_logger()

    def report(metric: Metric) -> None:
        logger.report_scalar(metric.title, metric.series, metric.value, metric.iteration)

    with teeing(make_reader(setting), report) as printed:
        yield printed


@contextmanager
def teeing(reader: Optional[MetricReader], report: Callable[[Metric], None]) -> Iterator[PrintedMetrics]:
    """Tee sys.stdout and sys.stderr to `reader` for the block; every metric goes to `report`."""
    printed = PrintedMetrics(reader, report)
    if reader is None:
        yield printed
        return
    saved = sys.stdout, sys.stderr
    tees = _Tee(sys.stdout, printed), _Tee(sys.stderr, printed)
    sys.stdout, sys.stderr = tees
    try:
        yield printed
    finally:
        # Put back only what is still ours: a training that replaced the streams itself keeps its own.
        if sys.stdout is tees[0]:
            sys.stdout = saved[0]
        if sys.stderr is tees[1]:
            sys.stderr = saved[1]
        for tee in tees:
            tee.finish()
        printed.end()
