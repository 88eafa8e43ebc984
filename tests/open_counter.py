"""Run a Python script or module and count how often it opens each file under a folder.

    python tests/open_counter.py counts.json FOLDER data/upload_dataset_to_s3.py --path FOLDER ...
    python tests/open_counter.py counts.json FOLDER -m clearml.cli.data add --files FOLDER

Counting uses Python's audit hook for the "open" event (PEP 578), which fires for builtins.open, io.open,
pathlib's open and os.open alike, in every thread: nothing is patched, so nothing can slip past by opening a
file another way from Python code. At exit counts.json maps each file's absolute path to
{"<opener's file>:<function>": opens}; a file never opened is absent.
"""
from __future__ import annotations

import atexit
import json
import os
import runpy
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Dict


def main() -> None:
    out, folder, *command = sys.argv[1:]
    root = os.path.join(os.path.realpath(folder), "")
    counts: Dict[str, Counter] = {}
    lock = threading.Lock()

    def hook(event: str, args: Any) -> None:
        if event != "open" or isinstance(args[0], int):  # an int is an already open descriptor
            return
        path = os.path.realpath(os.fsdecode(args[0]))
        if not path.startswith(root):
            return
        caller = sys._getframe(1).f_code  # the Python code that called open()
        opener = f"{Path(caller.co_filename).name}:{caller.co_name}"
        with lock:
            counts.setdefault(path, Counter())[opener] += 1

    def write() -> None:
        with lock:
            snapshot = {path: dict(openers) for path, openers in sorted(counts.items())}
        Path(out).write_text(json.dumps(snapshot, indent=1))

    atexit.register(write)
    sys.addaudithook(hook)
    if command[0] == "-m":
        sys.argv = [command[1], *command[2:]]
        runpy.run_module(command[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = command
        sys.path[0] = str(Path(command[0]).resolve().parent)  # as `python script.py` would have it
        runpy.run_path(command[0], run_name="__main__")


if __name__ == "__main__":
    main()
