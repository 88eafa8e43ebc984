"""`hat.py --sweep` end to end: ClearML's optimizer, the real SDK and the stand-in; trials under real clearml-agent
daemons (a grid on two agents, a crash, Ctrl-C) or as local processes (`--local`); bad sweep values stop the run
before any task exists."""
from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List

import pytest
import yaml

from tests.conftest import run_script
from tests.real_agent import RealAgent
from tests.test_remote import PROJECT_FILES, commit, make_checkout

pytestmark = pytest.mark.clearml

# A training that prints its metric (no TensorBoard, no returned dict) and records the values it received.
TRAINING = """
import argparse, json, os, time, uuid


def main(args=None):
    parser = argparse.ArgumentParser(description="a tiny training for sweeps")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--batch_size", type=int, default=8, help="images per step")
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "momentum"], help="update rule")
    parser.add_argument("--epochs", type=int, default=2, help="passes")
    parser.add_argument("--record", default="received", help="folder for a record of the values received")
    parser.add_argument("--crash_on_lr", type=float, default=None, help="raise for this learning rate")
    parser.add_argument("--seconds", type=float, default=0, help="sleep this long first")
    args = parser.parse_args(args)
    os.makedirs(args.record, exist_ok=True)
    with open(os.path.join(args.record, uuid.uuid4().hex + ".json"), "w") as f:
        json.dump({k: [v, type(v).__name__] for k, v in vars(args).items()}, f)
    if args.crash_on_lr == args.lr:
        raise RuntimeError("diverged")
    time.sleep(args.seconds)
    for epoch in range(1, args.epochs + 1):
        print(f"epoch {epoch}/{args.epochs} loss {1 / (epoch * args.lr * args.batch_size):.4f}")
    print(f"val_acc: {args.lr * args.batch_size / 10 + (0.05 if args.optimizer == 'momentum' else 0):.4f}")


if __name__ == "__main__":
    main()
"""
TRAIN_YAML = """\
# values for train_tiny.py
# learning rate
lr: 0.1
# images per step
batch_size: 8   # per device
# update rule
optimizer: sgd
epochs: 2
record: received
crash_on_lr: null
seconds: 0
"""


def val_acc(values: dict) -> float:
    return round(values["lr"] * values["batch_size"] / 10 + (0.05 if values.get("optimizer") == "momentum" else 0), 4)


def checkout(tmp_path: Path, sweep: str) -> Path:
    """The user's repository: the hat, the tiny training, its YAML and the sweep, committed and pushed."""
    work = make_checkout(tmp_path, files=[name for name in PROJECT_FILES if name != "data/images"])
    (work / "train_tiny.py").write_text(TRAINING)
    (work / "tiny.yaml").write_text(TRAIN_YAML)
    (work / "sweep.yaml").write_text(textwrap.dedent(sweep))
    commit(work, "a sweep")
    return work


def sweep_args(work: Path, *extra: str) -> List[str]:
    return [str(work / "hat.py"), "--script", "train_tiny.py", "--train_yaml", "tiny.yaml", "--sweep", "sweep.yaml",
            *extra]


def received(folder: Path) -> List[dict]:
    """The values each training received, as (value, type name) per key."""
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def tasks_by_kind(standin) -> dict:
    tasks = standin.tasks()
    return {
        "sweep": [t for t in tasks if t["type"] == "optimizer"],
        "base": [t for t in tasks if t["name"].endswith(": sweep base")],
        "trials": [t for t in tasks if t["type"] == "training" and not t["name"].endswith(": sweep base")],
    }


def trial_lines(stdout: str) -> List[str]:
    return [line for line in stdout.splitlines() if re.match(r"hat.py: trial \d+/\d+ ", line)]


GRID = """\
objective: val_acc
goal: max
strategy: grid
max_trials: 12
parallel: 2
parameters:
  lr: [0.1, 0.2, 0.3]
  batch_size: {min: 4, max: 8, step: 4}
"""


def test_grid_sweep_on_two_agents_runs_each_combination_once_and_writes_the_argmax(tmp_path, clearml_server,
                                                                                  real_agent):
    work = checkout(tmp_path, GRID)
    record = tmp_path / "received"
    second = RealAgent(clearml_server, tmp_path / "agent2")
    started = time.monotonic()
    with real_agent.daemon("compute"), second.daemon("compute"):
        result = run_script([*sweep_args(work, "--queue", "compute"), f"record={record}"], clearml_server.env,
                            cwd=work, timeout=300)
    elapsed = time.monotonic() - started
    second.close()
    assert result.returncode == 0, result.stdout + result.stderr

    kinds = tasks_by_kind(clearml_server.standin)
    (sweep,), (base,), trials = kinds["sweep"], kinds["base"], kinds["trials"]
    assert len(trials) == 6 and all(t["status"] == "completed" for t in trials)
    assert {t["parent"] for t in trials} == {sweep["id"]} and sweep["status"] == "completed"
    assert base["status"] == "created" and "started" not in base, "the base task must never run"
    assert {t["last_worker"] for t in trials} == {real_agent.worker_id, second.worker_id}
    assert base["hyperparams"]["hat"]["objective"]["value"] == "val_acc"

    # Each training got exactly its combination, typed; the values not swept are the YAML's.
    got = received(record)
    assert sorted((r["lr"][0], r["batch_size"][0]) for r in got) == sorted(itertools.product([0.1, 0.2, 0.3], [4, 8]))
    assert {(r["lr"][1], r["batch_size"][1], r["optimizer"][0], r["epochs"][0]) for r in got} == {
        ("float", "int", "sgd", 2)}

    lines = trial_lines(result.stdout)
    assert len(lines) == 6 and all(" completed in " in line and "-> val_acc 0." in line for line in lines)
    assert "hat.py: best trial: " in result.stdout
    board = result.stdout.split("hat.py: best 5 by val_acc (max):\n")[1].splitlines()[:5]
    assert [float(line.split()[1]) for line in board] == sorted((val_acc({"lr": lr, "batch_size": bs}) for lr, bs
                                                                 in itertools.product([0.1, 0.2, 0.3], [4, 8])),
                                                                reverse=True)[:5]
    best = (work / "tiny.best.yaml").read_text()
    values = yaml.safe_load(best)
    assert (values["lr"], values["batch_size"], values["record"]) == (0.3, 8, str(record))
    assert "# learning rate\n" in best and "batch_size: 8   # per device\n" in best  # the comments are kept
    best_id = result.stdout.split("hat.py: best trial: ")[1].split()[0]
    assert clearml_server.standin.task(best_id)["hyperparams"]["train_args"]["lr"]["value"] == "0.3"
    print(f"\ngrid sweep, 6 trials on 2 agents: {elapsed:.1f} s; " + result.stdout.split("hat.py: sweep done in ")[1]
          .splitlines()[0], file=sys.stderr)


RANDOM = """\
objective: val_acc
goal: max
strategy: random
max_trials: 4
parallel: 2
parameters:
  lr: {min: 0.001, max: 0.3, log: true}
  batch_size: [4, 8, 16]
  optimizer: [sgd, momentum]
  epochs: {min: 1, max: 3}
"""


def test_random_sweep_with_local_runs_the_trials_here_without_an_agent(tmp_path, clearml_server):
    work = checkout(tmp_path, RANDOM)
    record = tmp_path / "received"
    result = run_script([*sweep_args(work, "--local", "--best_yaml", str(tmp_path / "best.yaml")),
                         f"record={record}"], clearml_server.env, cwd=work, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    trials = tasks_by_kind(clearml_server.standin)["trials"]
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    assert all(not t.get("last_worker") for t in trials)  # no agent ran them
    got = received(record)
    assert len(got) == 4
    for r in got:
        assert 0.001 <= r["lr"][0] <= 0.3 and r["lr"][1] == "float"
        assert r["batch_size"][0] in (4, 8, 16) and r["optimizer"][0] in ("sgd", "momentum")
        assert r["epochs"][0] in (1, 2, 3) and r["epochs"][1] == "int"
    assert len(trial_lines(result.stdout)) == 4
    assert "epoch 1/" not in result.stdout, "the trials' consoles belong in their logs, not the sweep's output"
    logs = Path(result.stdout.split("consoles are in ")[1].split("/<task id>.log")[0])
    assert len(list(logs.glob("*.log"))) == 4 and "val_acc: " in next(logs.glob("*.log")).read_text()
    best = max(got, key=lambda r: val_acc({k: v[0] for k, v in r.items()}))
    values = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert {k: values[k] for k in ("lr", "batch_size", "optimizer", "epochs")} == {
        k: best[k][0] for k in ("lr", "batch_size", "optimizer", "epochs")}


def test_a_crashing_trial_is_reported_failed_and_the_sweep_goes_on(tmp_path, clearml_server, real_agent):
    work = checkout(tmp_path, GRID.replace("batch_size: {min: 4, max: 8, step: 4}", "batch_size: [8]")
                    .replace("parallel: 2", "parallel: 1"))
    with real_agent.daemon("compute"):
        result = run_script([*sweep_args(work, "--queue", "compute"), f"record={tmp_path / 'r'}", "crash_on_lr=0.2"],
                            clearml_server.env, cwd=work, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = trial_lines(result.stdout)
    assert len(lines) == 3
    (failed,) = [line for line in lines if " failed " in line]
    assert "lr=0.2" in failed and "val_acc not reported" in failed
    trials = tasks_by_kind(clearml_server.standin)["trials"]
    assert sorted(t["status"] for t in trials) == ["completed", "completed", "failed"]
    assert "0 not completed" not in result.stdout and "1 not completed" in result.stdout
    assert yaml.safe_load((work / "tiny.best.yaml").read_text())["lr"] == 0.3


def test_ctrl_c_stops_the_sweep_its_running_trial_and_its_queued_one(tmp_path, clearml_server, real_agent):
    work = checkout(tmp_path, GRID)
    standin = clearml_server.standin
    with real_agent.daemon("compute") as daemon:
        process = subprocess.Popen([sys.executable, *sweep_args(work, "--queue", "compute"), "seconds=120",
                                    f"record={tmp_path / 'r'}"], cwd=work, env=clearml_server.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        try:
            daemon.wait_until(lambda: any(t["status"] == "in_progress" for t in tasks_by_kind(standin)["trials"])
                              and len(tasks_by_kind(standin)["trials"]) == 2, 60, "a trial running, one queued")
            (running,) = [t["id"] for t in tasks_by_kind(standin)["trials"] if t["status"] == "in_progress"]
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
            output, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 130, output
        # The agent sees the trial stopped and ends its process (it would sleep 120 s): bounded by the wait.
        daemon.wait_until(lambda: not daemon.runs(running), 60, "the agent to end the stopped trial")
    kinds = tasks_by_kind(standin)
    assert standin.task(running)["status"] == "stopped", output
    assert sorted(t["status"] for t in kinds["trials"]) == ["created", "stopped"], output
    assert standin.queue_entries("compute") == []
    assert kinds["sweep"][0]["status"] == "stopped"
    assert "hat.py: Ctrl-C: stopping the sweep and the trials it started" in output
    assert "Traceback" not in output
    log = "\n".join(e["msg"] for e in standin.events(running, "log"))
    assert "epoch 1/2" not in log, "the stopped trial trained on"


def test_a_sweep_value_the_parser_rejects_is_one_line_and_no_task(tmp_path, clearml_server):
    work = checkout(tmp_path, GRID.replace("lr: [0.1, 0.2, 0.3]", "optimizer: [sgd, adam]"))
    result = run_script(sweep_args(work, "--queue", "compute"), clearml_server.env, cwd=work)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["hat.py: error: sweep.yaml: parameters.optimizer: optimizer: 'adam' is not one of the choices "
                     "sgd, momentum"], result.stderr
    assert clearml_server.standin.tasks() == []


def test_every_problem_of_a_sweep_is_one_line_of_one_report_and_no_task(tmp_path, clearml_server):
    bad = """\
    objective: val_acc
    goal: maximise
    strategy: grid
    early_stop: true
    parameters:
      lr: {min: 0.001, max: 0.3, log: true}
      batch_size: [4, 8.5]
      epochs: {min: 1, max: 5, step: 0.5}
      epoch: [1, 2]
    """
    work = checkout(tmp_path, bad)
    result = run_script(sweep_args(work, "--queue", "compute"), clearml_server.env, cwd=work)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("hat.py: error: sweep.yaml: ") for line in lines)
    for expected in ("unknown key 'early_stop'", "goal: 'maximise' is not max or min",
                     "parameters.lr: a grid needs a list or a stepped range", "parameters.batch_size: batch_size: 8.5",
                     "parameters.epochs: step 0.5 is not a whole number",
                     "parameters.epoch: 'epoch' is not a training key of the script (did you mean 'epochs'?)"):
        assert sum(expected in line for line in lines) == 1, (expected, lines)
    assert len(lines) == 6
    assert clearml_server.standin.tasks() == []
