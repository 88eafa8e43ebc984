"""`torchrun --nproc_per_node N hat.py ...` typed by hand: every rank runs hat.py, and rank 0's hat owns the task.

Rank 0 runs the hat as `python hat.py` would (YAML, sections, training, result, close); ClearML's Task.init there
leaves the task id in an anchor file of this torchrun run. Each other rank reads the same YAML (so the same argv),
reads the id from the anchor and attaches to the task as the ranks of `python hat.py --nproc_per_node N` do
(dist_tracking.join_rank_0); it connects, reports and closes nothing. Each rank's console goes to the task from its
own process, marked `[rank<N>]:` as `python hat.py --nproc_per_node N` marks it. Offline, only rank 0 records (its
session cannot take the other processes' lines): use `python hat.py --nproc_per_node N` to have them all in it.
"""
from __future__ import annotations

import signal
import sys
from typing import IO, Any, Optional

from clearml_hat.clearml import dist_tracking
from clearml_hat.config.job import Job
from clearml_hat.values import config_files


class StoppedByTorchrun(Exception):
    """torchrun stopped this rank (SIGTERM): another rank failed, or torchrun itself was stopped."""


def own_task_as_rank_0() -> None:
    """Rank 0 after Task.init: mark its lines, and let a stop by torchrun fail the task instead of ClearML's
    "stopped" (which would hide that another rank crashed)."""
    mark_lines(0)

    def stopped(signum: int, frame: Any) -> None:
        raise StoppedByTorchrun("torchrun stopped rank 0: another rank failed (its traceback is in the log) "
                                "or torchrun was stopped")

    signal.signal(signal.SIGTERM, stopped)  # after Task.init: replaces the SDK's handler, which marks "stopped"


def run_other_rank(job: Job, rank: int, offline: bool) -> int:
    """A rank > 0: attach to rank 0's task (online), train with the same argv; a crash fails the task."""
    task = None if offline else dist_tracking.join_rank_0()
    mark_lines(rank)
    try:
        with config_files.written(job.command.copies):
            job.train(job.argv)
    except Exception as error:
        if task is None:
            raise
        dist_tracking.fail_from_rank(task, f"rank {rank} failed: {type(error).__name__}: {error}")
        return 1  # the traceback is printed and in the log
    return 0


def mark_lines(rank: int) -> None:
    """Start every console line of this process with `[rank<N>]:`, on the terminal and in the task's log (the
    SDK's capture sits below these wrappers)."""
    sys.stdout = _Marked(sys.stdout, f"[rank{rank}]:")
    sys.stderr = _Marked(sys.stderr, f"[rank{rank}]:")


class _Marked:
    """A text stream that puts a prefix at the start of each line written through it."""

    def __init__(self, stream: IO[str], prefix: str) -> None:
        self._stream, self._prefix, self._line_start = stream, prefix, True

    def write(self, text: str) -> int:
        marked = []
        for piece in text.splitlines(keepends=True):
            marked.append(f"{self._prefix}{piece}" if self._line_start else piece)
            self._line_start = piece.endswith("\n")
        self._stream.write("".join(marked))
        return len(text)

    def __getattr__(self, name: str) -> Optional[Any]:
        return getattr(self._stream, name)
