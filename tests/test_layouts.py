"""Repo layouts for remote runs: the hat and the training in a sub-folder, started from the repo root."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.git_repos import commit_and_push

pytestmark = pytest.mark.clearml

TRAIN = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=2)
parser.add_argument("--out", default="result.txt")
args = parser.parse_args()
open(args.out, "w").write(f"steps {args.steps}")
print(f"ran {args.steps} steps")
"""


def pushed_repo(tmp_path: Path, requirements: bool) -> Path:
    """A repo whose hat, training and YAML live in sub/ (the YAML untracked), pushed to a local bare repo."""
    repo = tmp_path / "repo"
    sub = repo / "sub"
    sub.mkdir(parents=True)
    shutil.copy(REPO / "hat.py", sub / "hat.py")
    shutil.copytree(REPO / "clearml_hat", sub / "clearml_hat", ignore=shutil.ignore_patterns("__pycache__"))
    (sub / "train.py").write_text(textwrap.dedent(TRAIN))
    if requirements:
        (sub / "requirements.txt").write_text("numpy\n")
    (sub / "config.yaml").write_text("steps: 5\nout: result.txt\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit_and_push(repo, tmp_path, ["sub/hat.py", "sub/clearml_hat", "sub/train.py"]
                    + (["sub/requirements.txt"] if requirements else []))
    return repo


def enqueue(repo: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "sub/hat.py", "--remote", "--script", "sub/train.py", "--train_yaml",
                           "sub/config.yaml"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def test_sub_folder_hat_from_the_repo_root_takes_the_scripts_requirements_and_runs_on_the_agent(
        tmp_path, clearml_server, real_agent):
    repo = pushed_repo(tmp_path, requirements=True)
    enqueued = enqueue(repo, clearml_server.env)
    assert enqueued.returncode == 0, enqueued.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["script"]["requirements"]["pip"].splitlines() == ["numpy", "clearml", "pyyaml"]
    assert (task["script"]["entry_point"], task["script"]["working_dir"]) == ("sub/hat.py", ".")
    result = real_agent.execute(task["id"])
    assert result.returncode == 0, result.stdout
    log = "\n".join(event["msg"] for event in clearml_server.standin.events(task["id"], "log"))
    assert "ran 5 steps" in log


def test_a_repo_without_requirements_still_goes_remote_and_says_what_the_task_lists(tmp_path, clearml_server):
    repo = pushed_repo(tmp_path, requirements=False)
    enqueued = enqueue(repo, clearml_server.env)
    assert enqueued.returncode == 0, enqueued.stderr
    assert "hat.py: no requirements.txt beside sub/train.py or at its repo root" in enqueued.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "queued"
