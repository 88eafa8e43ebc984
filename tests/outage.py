"""A tracked hat.py run during which the ClearML stand-in goes down: for tests/test_outage.py and
benchmarks/server_outage.py.

The training prints one line a step and returns a dict of numbers (the hat reports it as single values). The
stand-in is paused once the training has printed a given step, so the outage always falls inside the training,
however long the hat took to start; it is resumed after `outage` seconds, or never.
"""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from tests.clearml_standin import ApiStandIn

REPO = Path(__file__).resolve().parent.parent

TRAIN_SCRIPT = '''\
import argparse
import time


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--step_seconds", type=float, default=1.0)
    args = parser.parse_args(args)
    for step in range(1, args.steps + 1):
        time.sleep(args.step_seconds)
        print(f"outage check step {step}/{args.steps} loss {1.0 / step:.6f}", flush=True)
    return {"final_loss": 1.0 / args.steps, "steps": float(args.steps)}


if __name__ == "__main__":
    main()
'''


def training_lines(steps: int) -> List[str]:
    return [f"outage check step {s}/{steps} loss {1.0 / s:.6f}" for s in range(1, steps + 1)]


def training_values(steps: int) -> Dict[str, float]:
    return {"final_loss": 1.0 / steps, "steps": float(steps)}


@dataclass
class OutageRun:
    returncode: Optional[int]  # None: still running at the timeout (then killed)
    output: str  # stdout and stderr, interleaved as a terminal shows them
    paused_at: float  # seconds after the start
    resumed_at: Optional[float]
    training_done_at: Optional[float]  # when the last step line was seen
    ended_at: float


def run_with_outage(standin: ApiStandIn, env: Dict[str, str], folder: Path, steps: int, step_seconds: float,
                    pause_at_step: int, outage: Optional[float], timeout: float = 120) -> OutageRun:
    """Run hat.py on TRAIN_SCRIPT against standin; pause it at the step, resume after outage seconds (None:
    never). The output goes to a file, read as it grows, so a pipe never fills and nothing is lost."""
    (folder / "train_slow.py").write_text(TRAIN_SCRIPT)
    (folder / "c.yaml").write_text(f"steps: {steps}\nstep_seconds: {step_seconds}\n")
    output = folder / "output.txt"
    started = time.monotonic()
    paused_at = resumed_at = done_at = None
    last_line = training_lines(steps)[-1]
    with output.open("w") as sink:
        child = subprocess.Popen([sys.executable, str(REPO / "hat.py"), "--script", "train_slow.py", "--train_yaml",
                                  "c.yaml"], cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            while child.poll() is None and time.monotonic() - started < timeout:
                text = output.read_text(errors="replace")
                now = time.monotonic() - started
                if paused_at is None and f"outage check step {pause_at_step}/" in text:
                    standin.pause()
                    paused_at = now
                if paused_at is not None and resumed_at is None and outage is not None and now >= paused_at + outage:
                    standin.resume()
                    resumed_at = now
                if done_at is None and last_line in text:
                    done_at = now
                time.sleep(0.05)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
    ended = time.monotonic() - started
    if paused_at is not None and resumed_at is None and outage is not None:  # the run ended inside the outage
        standin.resume()
    text = output.read_text(errors="replace")
    if done_at is None and last_line in text:
        done_at = ended
    assert paused_at is not None, f"the training never reached step {pause_at_step}:\n{text}"
    returncode = child.returncode if ended < timeout else None
    return OutageRun(returncode, text, paused_at, resumed_at, done_at, ended)
