"""Printed metrics become ClearML scalars: sys.stdout and sys.stderr are teed, line by line, to a MetricReader.

    with reporting(task, "auto") as printed:     # "off": nothing is read; a regex: your own pattern
        result = job.train(argv)
    printed.last_values                          # {"val_acc": 0.91, ...}: the last printed value of each name

The console gets every write unchanged and at once; the tee only puts a reference to each write in a queue. A
thread of the hat's own takes the queue in batches, every 50 ms, and does the rest off the training's thread: it
cuts the text into lines, reads them and reports the scalars, and hands the task's log each batch's text as one
record. ClearML's console capture (the wrapper Task.init put on the streams) would make a log record per printed
line on the training's thread, most of what a printed line cost a tracked training: the tee writes to the stream
under it and logs through a second wrapper of the same task logger (sdk_private.console_capture; without it, the
tee writes through the wrapper as it is). The log keeps every line, in order, at ClearML's level for its stream;
its records are a batch late.

The thread shares one interpreter lock with the training, so it works for at most 5 ms per wake-up: a training that
prints on every step of a CPU-bound loop keeps about nine tenths of the interpreter, and what it printed faster than
the thread gets through in that share (some 800 lines a second on a busy 2-core machine) waits in the queue for
quieter steps or for the block's end. Past a backlog of 100,000 writes (about 50,000 printed lines) it works without
the pause, taking its half of the interpreter as with no limit: the queue, and the time the block's end takes to
read it, grow no faster than they did before the limit. Every point keeps the iteration its line showed, however
late it is reported. A line is read when its newline arrives; a `\\r` redraw keeps only the text after it, and what
is left without a newline is read when the block ends (also when the training raises), after everything queued.
Which lines count is metrics.py's rule.

A metric on a line without an iteration (a final `val_acc: 0.91`) is reported at the last iteration any line
showed, so it lands on the graph beside the others; at iteration 0 when no line showed one. It is always a scalar,
never a single value: the same printed name gives the same graph and series whatever else the script printed,
which is what a sweep objective named after it relies on.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple, Union

from clearml_hat.clearml import sdk_private
from clearml_hat.local.metrics import Metric, MetricReader, make_reader

# A line longer than this is no metric print (a tensor dump, a bar redrawn without `\r`): only its tail is kept.
_MAX_LINE = 10_000
# How often the reader thread takes what was written since: a batch of writes costs one wake-up, and the training's
# thread pays only for putting each write in the queue.
_BATCH_EVERY = 0.05
# How long the reader holds the interpreter lock at a time: reading a line and reporting its scalars costs ~100 us of
# pure Python, and with no limit the reader took half the lock from a training printing on every step (the
# benchmark's loop ran 4x slower than with --metrics off). 5 ms is also Python's own switch interval.
_READ_FOR = 0.005
# Past this many queued writes the reader stops pausing, so a training that always prints faster than the reader's
# share reads does not build an ever longer backlog (memory, and time at the block's end) any faster than without it.
_MAX_BACKLOG = 100_000
# In the queue: from here on the training reports its scalars to ClearML itself.
_FRAMEWORK_REPORTS = "framework reports"


Log = Optional[Callable[[str], Any]]  # adds text to the task's log (ClearML's console capture, split), or None


class PrintedMetrics:
    """Reads whole lines out of the text written to several streams, in a thread of its own, and hands each metric
    to `report`; hands the text to the task's log there too, in batches, for streams written to the console alone.
    `end()` reads what is left and stops the thread."""

    def __init__(self, reader: Optional[MetricReader], report: Callable[[Metric], None], logs: bool = False) -> None:
        self._reader = reader
        self._report = report
        self._queue: Deque[Union[str, Tuple[List[str], str, Log]]] = deque()  # appends and pops are thread-safe
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hat: printed metrics", daemon=True)
        self._drawing = True
        self.last_values: Dict[str, float] = {}
        self.last_iteration: Optional[int] = None
        if reader is not None or logs:
            self._thread.start()

    def feed(self, pending: List[str], text: str, log: Log = None) -> None:
        """Queue text written to one stream; `pending` is that stream's unfinished line, `log` its task log."""
        if threading.current_thread() is self._thread:
            # A warning printed while reporting, in the reader's own thread, goes to the log but is not read.
            if log is not None:
                log(text)
        elif self._reader is not None or log is not None:
            self._queue.append((pending, text, log))

    def framework_reports(self) -> None:
        """The training reported a scalar to ClearML itself: lines printed from now on give no scalars (their
        values still go to last_values), so the same metric is not drawn twice."""
        if self._reader is not None and self._drawing:
            self._queue.append(_FRAMEWORK_REPORTS)

    def finish(self, pending: List[str]) -> None:
        """Read what a stream left without a newline (call after end())."""
        rest = pending.pop() if pending else ""
        if rest.strip():
            self._read(rest)

    def end(self) -> None:
        """Stop the thread and read everything written before this call."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
        self._drain()

    def flush_reader(self) -> None:
        """Report what a framework's line left waiting for a later line (Lightning's last epoch)."""
        if self._reader is not None:
            self._report_all(self._reader.finish())

    def _run(self) -> None:
        while not self._stop.wait(_BATCH_EVERY):
            self._drain(None if len(self._queue) > _MAX_BACKLOG else time.perf_counter() + _READ_FOR)

    def _drain(self, until: Optional[float] = None) -> None:
        """Read what is queued, in order; with `until` (a perf_counter time), only until then."""
        batch: List[str] = []  # consecutive text for one log: one log record for all its lines
        batch_log: Log = None
        while self._queue and (until is None or time.perf_counter() < until):
            item = self._queue.popleft()
            if isinstance(item, str):  # what waited for a later line was printed before: it is still drawn
                self.flush_reader()
                self._drawing = False
                continue
            pending, text, log = item
            if log is not batch_log:
                _log_batch(batch_log, batch)
                batch, batch_log = [], log
            batch.append(text)
            if self._reader is not None:
                self._read_text(pending, text)
        _log_batch(batch_log, batch)

    def _read_text(self, pending: List[str], text: str) -> None:
        *lines, rest = ((pending.pop() if pending else "") + text).split("\n")
        for line in lines:
            self._read(line)
        if "\r" in rest and self._reader is not None:  # a redraw: only the text after the last is on screen
            overwritten, _, rest = rest.rpartition("\r")
            self._report_all(self._reader.redraws(overwritten.split("\r")))  # a Trainer's bar, on stderr
        pending.append(rest[-_MAX_LINE:])

    def _read(self, line: str) -> None:
        if self._reader is not None:
            self._report_all(self._reader.read(line))

    def _report_all(self, metrics: List[Metric]) -> None:
        if self._reader is not None and self._reader.last_iteration is not None:
            self.last_iteration = self._reader.last_iteration
        for metric in metrics:
            iteration = metric.iteration if metric.iteration is not None else (self.last_iteration or 0)
            self.last_values[metric.name] = metric.value
            if self._drawing:
                self._report(metric._replace(iteration=iteration))


def _log_batch(log: Log, batch: List[str]) -> None:
    if log is not None and batch:
        log("".join(batch))


class _Tee:
    """A text stream that writes through to `stream` and copies what it gets to PrintedMetrics. Over ClearML's
    console capture it writes to the console itself and PrintedMetrics hands the text to the task's log."""

    def __init__(self, stream: Any, printed: PrintedMetrics, capture: Optional[sdk_private.ConsoleCapture]) -> None:
        self._stream = stream
        self._printed = printed
        self._write: Callable[[str], Any] = stream.write if capture is None else capture.terminal
        self.log: Log = None if capture is None else capture.log
        self._pending: List[str] = []
        self._reading = True  # until finish(): after it nothing reads the queue
        self.line_open = False  # the last text written did not end its line

    def write(self, text: str) -> int:
        written = self._write(text)
        if self._reading and isinstance(text, str) and text:
            self.line_open = text[-1] != "\n"
            self._printed.feed(self._pending, text, self.log)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def finish(self) -> None:
        """Read the open line, and end it on the stream: ClearML's console capture drops a last line that has no
        newline, and the task's log must hold everything the console showed. What the training writes to this
        tee later (a logging handler that kept it) goes through the stream as it is."""
        self._printed.finish(self._pending)
        if self.line_open:
            self._write("\n")
            if self.log is not None:
                self.log("\n")
        self._write, self.log, self._reading = self._stream.write, None, False

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, buffer...: the stream's own
        return getattr(self._stream, name)


def check_setting(setting: str) -> None:
    """HatError for a `--metrics` regex that cannot work, before any task exists."""
    make_reader(setting)


@contextmanager
def reporting(task: Any, setting: str) -> Iterator[PrintedMetrics]:
    """Report what the block prints as scalars of `task`, read by the `--metrics` setting (auto, off, a regex).
    The training's own Task.init attaches to `task` (clearml/one_task.py); once it reports scalars itself, printed
    lines are drawn no more."""
    from clearml_hat.clearml import one_task

    printed: List[PrintedMetrics] = []

    def framework_reports() -> None:
        if printed:
            printed[0].framework_reports()

    with one_task.attached(task, framework_reports) as report_scalar:
        with teeing(make_reader(setting), lambda m: report_scalar(m.title, m.series, m.value, m.iteration or 0)) \
                as tee:
            printed.append(tee)
            yield tee


@contextmanager
def teeing(reader: Optional[MetricReader], report: Callable[[Metric], None]) -> Iterator[PrintedMetrics]:
    """Tee sys.stdout and sys.stderr to `reader` for the block (with no reader, only to end an open last line);
    every metric goes to `report`."""
    saved = sys.stdout, sys.stderr
    captures = sdk_private.console_capture(saved[0]), sdk_private.console_capture(saved[1])
    printed = PrintedMetrics(reader, report, logs=any(captures))
    tees = _Tee(saved[0], printed, captures[0]), _Tee(saved[1], printed, captures[1])
    sys.stdout, sys.stderr = tees
    try:
        yield printed
    finally:
        # Put back only what is still ours: a training that replaced the streams itself keeps its own.
        if sys.stdout is tees[0]:
            sys.stdout = saved[0]
        if sys.stderr is tees[1]:
            sys.stderr = saved[1]
        printed.end()
        for tee in tees:
            tee.finish()
        printed.flush_reader()
