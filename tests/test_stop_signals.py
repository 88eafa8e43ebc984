"""SIGTERM (`timeout`, `docker stop`, a cluster's preemption) ends a run as promptly as it ends a bare script: the
task is marked stopped, and what the training reported before is on it. The real hat.py in a fresh process, against
the ClearML API stand-in and in offline mode, with the signal sent to the process group as `timeout` sends it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Dict, Tuple

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.clearml

SLOW_SCRIPT = """
import argparse, time
def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120)
    seconds = parser.parse_args(args).seconds
    print("step 1 loss 0.75", flush=True)
    print("training started", flush=True)
    time.sleep(seconds)
    print("training finished", flush=True)
"""


def sigterm_once_started(tmp_path: Path, env: Dict[str, str]) -> Tuple[int, str, str, float]:
    """Start hat.py on the slow training, SIGTERM its process group once the training printed its first lines;
    returns the exit code, stdout, stderr and the seconds from the signal to the exit."""
    (tmp_path / "train_slow.py").write_text(textwrap.dedent(SLOW_SCRIPT))
    (tmp_path / "slow.yaml").write_text("seconds: 120\n")
    process = subprocess.Popen(
        [sys.executable, "hat.py", "--script", str(tmp_path / "train_slow.py"), "--train_yaml",
         str(tmp_path / "slow.yaml")], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "training started" in line:
                break
        os.killpg(process.pid, signal.SIGTERM)
        signalled = time.monotonic()
        stdout, stderr = process.communicate(timeout=60)
        return process.returncode, "".join(seen) + stdout, stderr, time.monotonic() - signalled
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_sigterm_stops_a_tracked_run_at_once_and_keeps_what_it_reported(tmp_path, clearml_server):
    code, stdout, stderr, seconds = sigterm_once_started(tmp_path, clearml_server.env)
    assert code == 143, stderr
    assert seconds < 20, f"{seconds:.1f} s from SIGTERM to exit"  # the training would sleep 120 s
    assert "training finished" not in stdout
    assert "Traceback" not in stderr, stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "stopped"
    (line,) = [line for line in stderr.splitlines() if "SIGTERM" in line]
    assert line == f"hat.py: SIGTERM: the training was stopped; task {task['id']} is marked stopped with what it " \
                   "reported"
    # The line printed before the one the test waited for: the signal may land between the last line's write to
    # the terminal and its hand-over to ClearML's console capture, as it may for any script.
    log = "\n".join(event["msg"] for event in clearml_server.standin.events(task["id"], "log"))
    assert "step 1 loss 0.75" in log, log
    scalars = [(e["metric"], e["value"]) for e in clearml_server.standin.events(task["id"], "training_stats_scalar")]
    assert ("loss", 0.75) in scalars


def test_sigterm_stops_an_offline_run_and_keeps_its_session(tmp_path, offline_env):
    code, stdout, stderr, seconds = sigterm_once_started(tmp_path, offline_env)
    assert code == 143, stderr
    assert seconds < 20
    assert "Traceback" not in stderr, stderr
    (line,) = [line for line in stderr.splitlines() if "SIGTERM" in line]
    session_zip = Path(line.split("offline session ")[1].split(" is marked")[0])
    with zipfile.ZipFile(session_zip) as session:
        log = session.read("log.jsonl").decode()
    assert "step 1 loss 0.75" in log, log
