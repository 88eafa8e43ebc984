"""The queue of a `--remote` run or a sweep: an unknown one is one line naming the existing queues and no task; the
default is the queue a fresh ClearML server has (`default`); a queue no clearml-agent serves is said, not waited on;
a sweep's trials get the packages a `--remote` run gets.
The real hat.py in a user's committed checkout, against the ClearML API stand-in (which has `default` and
`compute`, as a server where someone added a `compute` queue)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import run_script
from tests.test_remote import commit, enqueue_from, make_checkout
from tests.test_sweep import GRID, checkout, sweep_args, tasks_by_kind

pytestmark = pytest.mark.clearml

UNKNOWN = ("hat.py: error: --queue 'nope': the ClearML server has no such queue; existing queues: compute, default; "
           "give one of them with --queue")


def test_remote_to_an_unknown_queue_is_one_line_listing_the_queues_and_no_task(tmp_path, clearml_server):
    work = make_checkout(tmp_path)
    result = enqueue_from(work, clearml_server, "--queue", "nope")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [UNKNOWN], result.stderr
    assert clearml_server.standin.tasks() == []


def test_sweep_to_an_unknown_queue_is_one_line_listing_the_queues_and_no_task(tmp_path, clearml_server):
    work = checkout(tmp_path, GRID)
    result = run_script(sweep_args(work, "--queue", "nope"), clearml_server.env, cwd=work)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [UNKNOWN], result.stderr
    assert clearml_server.standin.tasks() == []


def test_remote_without_a_queue_goes_to_the_fresh_servers_default_queue_and_says_no_agent_serves_it(
        tmp_path, clearml_server):
    work = make_checkout(tmp_path)
    result = enqueue_from(work, clearml_server)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    assert clearml_server.standin.queue_entries("default") == [task["id"]]
    assert ("hat.py: warning: no clearml-agent serves queue 'default' now: the task waits there until one does "
            "(`clearml-agent daemon --queue default`)") in result.stderr.splitlines()


def test_a_queue_an_agent_serves_goes_without_a_warning(tmp_path, clearml_server):
    standin = clearml_server.standin
    (compute,) = [q["id"] for q in standin.call("queues.get_all", {"name": "compute"})["queues"]]
    standin.call("workers.register", {"worker": "gpu-box:0", "queues": [compute]})
    work = make_checkout(tmp_path)
    result = enqueue_from(work, clearml_server, "--queue", "compute")
    assert result.returncode == 0, result.stderr
    (task,) = standin.tasks()
    assert standin.queue_entries("compute") == [task["id"]]
    assert "serves queue" not in result.stderr


def test_a_sweep_on_a_queue_nobody_serves_says_so_and_its_trials_get_a_remote_runs_packages(tmp_path, clearml_server):
    # requirements.txt at the repo root, torch in it: in the default PyTorch image torch stays the image's.
    work = checkout(tmp_path, GRID)
    (work / "requirements.txt").write_text("torch==2.3.1\nnumpy>=1.24\n")
    commit(work, "the training's requirements")
    process = subprocess.Popen([sys.executable, *sweep_args(work, "--queue", "compute")], cwd=work,
                               env=clearml_server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("hat.py: trials: 2 queued, 0 running, 0 of "):  # no agent takes them
                break
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    (base,) = tasks_by_kind(clearml_server.standin)["base"]
    assert base["script"]["requirements"]["pip"].splitlines() == ["numpy>=1.24", "clearml", "pyyaml"]
    assert "has torch==2.3.1: left out of the task's packages" in stderr
    assert ("hat.py: warning: no clearml-agent serves queue 'compute' now: the task waits there until one does "
            "(`clearml-agent daemon --queue compute`)") in stderr.splitlines()
