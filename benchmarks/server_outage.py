"""Reliability figures for a ClearML server outage during a tracked training (hat.py against the stand-in).

    python benchmarks/server_outage.py                  # a 10 s outage in a 20 s training, then a server gone
    python benchmarks/server_outage.py --outage 30 --steps 40

Two runs of `hat.py` on a training that prints one line a second and returns two values, each against a fresh
in-memory ClearML API stand-in (tests/clearml_standin.py) served by this script, with a temporary HOME, cache and
clearml.conf, and without any CLEARML_* variable of this shell:

1. outage: the stand-in goes down (refuses connections, drops requests) once step 5 is printed and comes back on the
   same port with its state after --outage seconds. Printed: the outage, console lines and values sent vs received
   by the task, duplicates, the task's status, the exit code, and how long the run took past the training's end.
2. gone for good: the stand-in goes down at step 2 and never comes back. Printed: the exit code, the time from the
   training's end to the hat's exit, and the hat's last line.

Exit status 1 when a line or value is lost, the exit code is not the expected one, or the gone-for-good run took
longer than tracking.SERVER_GONE_AFTER + 10 s past the training.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `python benchmarks/server_outage.py` puts benchmarks/ first, not the repo root

from clearml_hat import tracking  # noqa: E402
from tests.clearml_standin import ApiStandIn  # noqa: E402
from tests.outage import run_with_outage, training_lines, training_values  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Stop the ClearML stand-in during a tracked training; count losses.")
    parser.add_argument("--steps", type=int, default=20, help="training steps of 1 s (default 20)")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the server is down (default 10)")
    return parser.parse_args()


def environment(standin: ApiStandIn, root: Path) -> Dict[str, str]:
    (root / "home").mkdir()
    conf = root / "clearml.conf"
    conf.write_text(standin.clearml_conf())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(HOME=str(root / "home"), CLEARML_CONFIG_FILE=str(conf), CLEARML_CACHE_DIR=str(root / "cache"),
               PYTHONUNBUFFERED="1")
    return env


def outage_run(args: argparse.Namespace, root: Path) -> bool:
    with ApiStandIn() as standin:
        run = run_with_outage(standin, environment(standin, root), root, steps=args.steps, step_seconds=1.0,
                              pause_at_step=5, outage=args.outage, timeout=args.steps + args.outage + 300)
        tasks = standin.tasks()
        task = tasks[0] if tasks else {"id": "", "status": "none"}
        logged = "\n".join(e["msg"] for e in standin.events(task["id"], "log")).splitlines()
        events = standin.events(task["id"], "training_stats_scalar")
        values = {e["variant"]: e["value"] for e in events if e["metric"] == "Summary"}  # main()'s dict
        printed = {e["iter"] for e in events if e["metric"] == "loss"}  # the loss each step printed
    sent = training_lines(args.steps)
    received = [line for line in sent if line in set(logged)]
    duplicates = sum(logged.count(line) - 1 for line in received)
    wanted = training_values(args.steps)
    down = (run.resumed_at or run.ended_at) - run.paused_at
    after = run.ended_at - run.training_done_at if run.training_done_at is not None else float("nan")
    print(f"outage: server down {down:.1f} s, from {run.paused_at:.1f} s into the run (step 5 of {args.steps})")
    print(f"  console lines sent {len(sent)}, received {len(received)} ({duplicates} duplicates); values sent "
          f"{len(wanted)}, received {sum(values.get(k) == v for k, v in wanted.items())}; printed scalars sent "
          f"{args.steps}, received {len(printed)}")
    print(f"  exit code {run.returncode} (the training's: 0), task status {task['status']}, run {run.ended_at:.1f} s, "
          f"of which {after:.1f} s after the training's last line")
    return (len(received) == len(sent) and values == wanted and len(printed) == args.steps and run.returncode == 0
            and task["status"] == "completed")


def gone_run(root: Path) -> bool:
    with ApiStandIn() as standin:
        run = run_with_outage(standin, environment(standin, root), root, steps=8, step_seconds=1.0, pause_at_step=2,
                              outage=None, timeout=600)
    after = run.ended_at - run.training_done_at if run.training_done_at is not None else float("nan")
    last = run.output.strip().splitlines()[-1] if run.output.strip() else ""
    print(f"gone for good: server down from {run.paused_at:.1f} s into the run (step 2 of 8), never back")
    print(f"  exit code {run.returncode}, time to exit after the training's last line {after:.1f} s "
          f"(limit {tracking.SERVER_GONE_AFTER:.0f} s without an answer), run {run.ended_at:.1f} s")
    print(f"  last line: {last}")
    return run.returncode == tracking.ServerGone.exit_code and after < tracking.SERVER_GONE_AFTER + 10


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="hat-outage-") as tmp:
        (Path(tmp) / "outage").mkdir()
        (Path(tmp) / "gone").mkdir()
        ok = outage_run(args, Path(tmp) / "outage")
        ok = gone_run(Path(tmp) / "gone") and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
