"""Where a command's output goes: the CLI edge makes one, the commands write to it, the library never prints."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass


@dataclass
class Console:
    prog: str  # how the command was started: hat.py, argparse_to_yaml.py, clearml-hat

    def out(self, text: str) -> None:
        """The command's result, on stdout (`--print_argv`'s JSON, `ok`)."""
        print(text, flush=True)

    def note(self, text: str) -> None:
        """What the hat does or found, on stderr, so stdout stays the command's (and the training's) own."""
        print(f"{self.prog}: {text}", file=sys.stderr, flush=True)

    def warn(self, text: str) -> None:
        self.note(f"warning: {text}")

    def error(self, text: str) -> None:
        for line in text.splitlines():
            print(f"{self.prog}: error: {line}", file=sys.stderr, flush=True)


class ProgressLines:
    """Progress of long work as lines on stderr (a log file or CI keeps them readable, unlike a redrawn bar): the
    first and the last of each stage, and at most one a second between them.

        upload_dataset_to_s3.py: hashing 10/24 files, 80.0 MiB/192.0 MiB, 41.2 MiB/s, about 3 s left
        upload_dataset_to_s3.py: uploading zip 1: 25.0 MiB/80.0 MiB, 12.3 MiB/s, about 4 s left

    A stage without a file count (files_total 0) shows bytes only.
    """

    EVERY = 1.0  # seconds between two lines of one stage

    def __init__(self, console: Console) -> None:
        self._console = console
        self._stage = ""
        self._started = self._shown = 0.0
        self._finished = False

    def __call__(self, stage: str, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        now = time.monotonic()
        if stage != self._stage:
            self._stage, self._started, self._shown, self._finished = stage, now, 0.0, False
        finished = files_done >= files_total if files_total else bytes_done >= bytes_total
        if self._finished or (self._shown and not finished and now - self._shown < self.EVERY):
            return  # a stage's last line is shown once, however often the work reports it
        self._shown, self._finished = now, finished
        files = f" {files_done}/{files_total} files," if files_total else ""
        line = f"{stage}{files} {_size(bytes_done)}/{_size(bytes_total)}"
        elapsed = now - self._started
        if bytes_done and elapsed > 0:
            rate = bytes_done / elapsed
            line += f", {_size(rate)}/s"
            if not finished:
                line += f", about {(bytes_total - bytes_done) / rate:.0f} s left"
            else:
                line += f", {elapsed:.1f} s"
        self._console.note(line)


def _size(size: float) -> str:
    """Bytes for a person: KiB below a MiB (a folder of small images), MiB above."""
    return f"{size / 2 ** 10:.1f} KiB" if size < 2 ** 20 else f"{size / 2 ** 20:.1f} MiB"
