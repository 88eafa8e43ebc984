"""Ctrl-C during a `--local` sweep (SIGINT to the terminal's process group, which holds the trial processes too):
no traceback, the finished trial keeps its real status, the running one and the sweep end stopped. The real
hat.py against the ClearML API stand-in."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.test_sweep import checkout, sweep_args, tasks_by_kind

pytestmark = pytest.mark.clearml

# The first trial finishes at once, the second sleeps: Ctrl-C comes while it runs.
ONE_DONE_ONE_RUNNING = """\
objective: val_acc
goal: max
strategy: grid
max_trials: 2
parallel: 1
parameters:
  seconds: [0, 120]
"""


def second_trial_in_its_training(tmp_path, standin) -> bool:
    """Each training writes its record, then sleeps: with two records the second trial is in its training."""
    return len(list((tmp_path / "r").glob("*.json"))) >= 2


def second_trial_starting(tmp_path, standin) -> bool:
    """The second trial's task is in_progress: the sweep marks it so as it starts the trial's process, which then
    imports and opens its task (Ctrl-C there ended such trials failed, 3 runs in 8 beside two CPU hogs)."""
    return any(t["status"] == "in_progress" for t in tasks_by_kind(standin)["trials"])


@pytest.mark.parametrize("reached", [second_trial_in_its_training, second_trial_starting], ids=lambda f: f.__name__)
def test_ctrl_c_in_a_local_sweep_stops_it_and_keeps_the_finished_trials_status(tmp_path, clearml_server, reached):
    work = checkout(tmp_path, ONE_DONE_ONE_RUNNING)
    standin = clearml_server.standin
    process = subprocess.Popen([sys.executable, *sweep_args(work, "--local"), f"record={tmp_path / 'r'}"], cwd=work,
                               env=clearml_server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith("hat.py: trial 1/2 completed"):
                break
        deadline = time.monotonic() + 60
        while not reached(tmp_path, standin):
            assert time.monotonic() < deadline, f"never reached: {reached.__doc__}"
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        rest, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = "".join(seen) + rest
    assert process.returncode == 130, output
    assert "Traceback" not in output, output
    kinds = tasks_by_kind(standin)
    statuses = sorted((t["hyperparams"]["train_args"]["seconds"]["value"], t["status"]) for t in kinds["trials"])
    reasons = [t["status_reason"] for t in kinds["trials"]]
    assert statuses == [("0", "completed"), ("120", "stopped")], f"{output}\nstatus reasons: {reasons}"
    assert kinds["sweep"][0]["status"] == "stopped"
    assert "hat.py: Ctrl-C: stopping the sweep and the trials it started" in output
