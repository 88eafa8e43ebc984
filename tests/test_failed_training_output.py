"""A training that fails at once (raises, or sys.exit(2)s) leaves only its own error in the hat's output, and its
task keeps the commit it failed on.

ClearML's exit hook kills the repository detection thread Task.init started when the run failed; the thread then
printed "Failed auto-detecting task repository ... SystemExit() is not a BaseException subclass" into the output
(now and then, as fast as the detection was). A slow `git` on PATH makes the detection outlast the training every
time. The real hat.py against the ClearML API stand-in (offline the process ends sooner after the kill, so the
line shows less often; the cause is the same).
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import run_script
from tests.test_remote import commit, git, make_checkout

pytestmark = pytest.mark.clearml

FAILING = {
    "raises": ('raise RuntimeError("diverged at step 0")', 1, "RuntimeError: diverged at step 0"),
    "exits": ("sys.exit(2)", 2, None),
}
TRAINING = """\
import argparse
import sys


def main(args=None):
    parser = argparse.ArgumentParser(description="a training that fails at once")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.parse_args(args)
    {failure}


if __name__ == "__main__":
    main()
"""


def slow_git(folder: Path) -> str:
    """A PATH whose `git` answers as git does, 0.2 s late."""
    folder.mkdir()
    shim = folder / "git"
    shim.write_text(f'#!/bin/sh\nsleep 0.2\nexec {shutil.which("git")} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def checkout(tmp_path: Path, failure: str) -> Path:
    work = make_checkout(tmp_path, files=["hat.py", "clearml_hat"])
    (work / "train_fails.py").write_text(TRAINING.format(failure=failure))
    (work / "config.yaml").write_text("lr: 0.1\n")
    commit(work, "a training that fails")
    return work


@pytest.mark.parametrize("how", sorted(FAILING))
def test_a_training_failing_at_once_prints_only_its_own_error_and_keeps_its_commit(tmp_path, clearml_server, how):
    failure, code, own_error = FAILING[how]
    work = checkout(tmp_path, failure)
    env = {**clearml_server.env, "PATH": slow_git(tmp_path / "bin")}
    result = run_script(["hat.py", "--script", "train_fails.py"], env, cwd=work)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Failed auto-" not in output and "BaseException" not in output, output
    if own_error:
        assert own_error in output
    [task] = clearml_server.standin.tasks()
    assert task["status"] == "failed"
    assert task["script"].get("version_num") == git(work, "rev-parse", "HEAD"), task["script"]
