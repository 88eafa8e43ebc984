"""How many printed lines the hat's reader thread gets through beside a training that keeps the interpreter busy.

    python benchmarks/reader_share.py                      # steps of 1 ms and 0.2 ms of work, 5 s each
    python benchmarks/reader_share.py --work_ms 0.5 --seconds 10

In one process, offline (a temporary HOME and ClearML cache): a task as the hat makes it, the hat's printed-metrics
block around a loop that spins `work_ms` of pure Python, then prints `step N: train loss X, lr 0.001` (stdout to
/dev/null). Prints how many lines the loop printed, how many the reader had read when the loop ended (its share
of the interpreter: at most 5 ms per 50 ms), and how long the block took to read the rest after it. Needs clearml.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_run(task: object, work: float, seconds: float) -> str:
    from clearml_hat.local.printed_metrics import reporting

    saved = sys.stdout
    with open(os.devnull, "w") as nowhere:
        sys.stdout = nowhere
        try:
            with reporting(task, "auto") as printed:
                step, start = 0, time.perf_counter()
                while time.perf_counter() - start < seconds:
                    busy = time.perf_counter() + work
                    while time.perf_counter() < busy:
                        pass
                    print(f"step {step}: train loss {1 / (step + 1):.4f}, lr 0.001")
                    step += 1
                loop = time.perf_counter() - start
                read = (printed.last_iteration or 0) + 1
                ended = time.perf_counter()
            after = time.perf_counter() - ended
        finally:
            sys.stdout = saved
    return (f"{work * 1e3:.1f} ms of work a line: printed {step} lines in {loop:.1f} s, read {read} by then "
            f"({read / loop:.0f} lines/s), the rest read after the loop in {after:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description="Lines the reader thread reads beside a busy training.")
    parser.add_argument("--work_ms", type=float, nargs="+", default=[1.0, 0.2])
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    for key in [key for key in os.environ if key.startswith(("CLEARML_", "TRAINS_"))]:
        del os.environ[key]
    with tempfile.TemporaryDirectory(prefix="hat-share-") as home:
        os.environ.update(HOME=home, CLEARML_CACHE_DIR=str(Path(home) / "cache"))
        from clearml import Task

        from clearml_hat.clearml import sdk_private

        sdk_private.report_in_a_thread()
        Task.set_offline(True)
        task = Task.init(project_name="bench", task_name="reader share", auto_connect_frameworks=False,
                         auto_resource_monitoring=False)
        for work in options.work_ms:
            print(one_run(task, work / 1e3, options.seconds))
        task.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
