"""A training that configures logging itself (Hydra at every start, any script with its own
`logging.config.dictConfig`) runs under the hat as bare: the run does not hang and its task keeps its log.

dictConfig closes every logging handler in the process, ClearML's TaskHandler included, while it holds logging's
lock; closing that handler waited for ClearML's log thread, which waits for the same lock as soon as it logs
(urllib3's debug line of each request to the server): the run hung for good. Seen as a Hydra test's 120 s timeout
in about 1 run in 5; with lines still to send when dictConfig runs, as here, in nearly every run. The real hat.py
against the ClearML API stand-in.
"""
from __future__ import annotations

import subprocess

import pytest

from tests.conftest import run_script
from tests.test_remote import commit, make_checkout

pytestmark = pytest.mark.clearml

TRAINING = """\
import argparse
import logging
import logging.config


def main(args=None):
    parser = argparse.ArgumentParser(description="a training that sets up its own logging")
    parser.add_argument("--lines", type=int, default=3000)
    options = parser.parse_args(args)
    for index in range(options.lines):  # lines ClearML's log thread is still sending when dictConfig runs
        print(f"preparing shard {index}")
    logging.getLogger("train").setLevel(logging.INFO)  # as Hydra does first: every logger asks for the lock again
    logging.config.dictConfig({"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
                               "root": {"handlers": ["console"], "level": "INFO"}})
    logging.getLogger("train").info("configured")
    print("trained")


if __name__ == "__main__":
    main()
"""


def test_a_training_that_configures_logging_ends_and_its_task_has_the_log(tmp_path, clearml_server):
    work = make_checkout(tmp_path, files=["hat.py", "clearml_hat"])
    (work / "train_logging.py").write_text(TRAINING)
    (work / "config.yaml").write_text("lines: 3000\n")
    commit(work, "a training that configures logging")
    try:
        result = run_script(["hat.py", "--script", "train_logging.py"], clearml_server.env, cwd=work, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung once the training called logging.config.dictConfig")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "trained" in result.stdout
    [task] = clearml_server.standin.tasks()
    assert task["status"] == "completed"
    log = "\n".join(event["msg"] for event in clearml_server.standin.events(task["id"], "log"))
    assert "preparing shard 2999" in log and "trained" in log
