"""Why the printed-metrics reader does not use `ast`: a thread parsing Python beside a thread reading printed dicts.

    python benchmarks/parse_threads.py            # 3 runs of each reader
    python benchmarks/parse_threads.py --runs 5

One thread parses Python's own `ast.py` 100 times (as ClearML's requirements detection parses the repo's files in a
thread once Task.init ran, or a training calling torch.jit.script); the other reads a Hugging Face Trainer dict
20,000 times, with `ast.literal_eval` and with the hat's reader (clearml_hat/local/python_literal.py). A garbage
collector callback sleeps 0 s, so that threads switch inside the AST construction as they do now and then in a
real run. Prints the SystemErrors each thread got per run; on Python 3.11 `ast.literal_eval` makes the parser
thread fail ("AST constructor recursion depth mismatch"), the hat's reader never does. Other Pythons show 0 for
both (3.12 no longer shares the counter).
"""
from __future__ import annotations

import argparse
import ast
import gc
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clearml_hat.local.python_literal import python_literal  # noqa: E402

LINE = "{'loss': 0.52, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': 1.0, 'shape': [[1, 2], [3, 4]]}"


def one_run(read: Callable[[str], Any]) -> Dict[str, int]:
    source = Path(ast.__file__).read_text(encoding="utf-8")
    errors = {"parser": 0, "reader": 0}

    def parser() -> None:
        for _ in range(100):
            try:
                ast.parse(source)
            except SystemError:
                errors["parser"] += 1

    def reader() -> None:
        for _ in range(20_000):
            try:
                read(LINE)
            except SystemError:
                errors["reader"] += 1

    threads = [threading.Thread(target=parser), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=3)
    runs = options.parse_args().runs
    gc.callbacks.append(lambda *_: time.sleep(0))
    print(f"Python {sys.version.split()[0]}, {runs} runs each: SystemErrors (parser thread, reader thread)")
    for name, read in (("ast.literal_eval", ast.literal_eval), ("the hat's python_literal", python_literal)):
        results = [one_run(read) for _ in range(runs)]
        shown = ", ".join(f"({errors['parser']}, {errors['reader']})" for errors in results)
        print(f"  {name:26} {shown}")


if __name__ == "__main__":
    main()
