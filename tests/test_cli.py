"""The command-line edge as a user meets it: --version, --help with defaults and examples, dashed spellings."""
from __future__ import annotations

import json

import pytest

from clearml_hat import __version__
from clearml_hat.cli import add_run_arguments, underscored
from tests.conftest import run_script


def test_hat_py_says_its_version(offline_env):
    result = run_script(["hat.py", "--version"], offline_env)
    assert (result.returncode, result.stdout) == (0, f"clearml-hat {__version__}\n")


def test_help_shows_each_flags_default_and_examples(offline_env):
    result = run_script(["hat.py", "--help"], offline_env)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines at the terminal's width
    assert "--train_yaml TRAIN_YAML YAML file with the training values (default: config.yaml)" in text
    assert "--queue QUEUE clearml-agent queue to enqueue on (default: default)" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "examples: python hat.py " in text


def test_dashed_spellings_work_beside_the_underscored_ones(tmp_path, offline_env):
    (tmp_path / "c.yaml").write_text("epochs: 7\n")
    result = run_script(["hat.py", "--print-argv", "--train-yaml", str(tmp_path / "c.yaml"), "--task-name=t"],
                        offline_env)
    assert result.returncode == 0, result.stderr
    argv = json.loads(result.stdout)
    assert argv[argv.index("--epochs") + 1] == "7"


def test_a_value_that_looks_like_a_flag_keeps_its_text():
    import argparse

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    assert underscored([parser], ["--docker-args=--ipc-mode=host", "--task-name", "--not-a-flag", "--", "--x-y"]) \
        == ["--docker_args=--ipc-mode=host", "--task_name", "--not-a-flag", "--", "--x-y"]


def test_upload_takes_output_uri_as_a_run_does_and_the_old_output_url(tmp_path, offline_env):
    for flag in ("--output-uri", "--output_uri", "--output_url"):
        result = run_script(["data/upload_dataset_to_s3.py", "--path", str(tmp_path / "nowhere"), flag, "s3://b/d"],
                            offline_env)
        assert result.returncode == 2  # parsed: the folder is what is refused
        assert result.stderr.strip() == (f"upload_dataset_to_s3.py: error: {tmp_path / 'nowhere'}: no such folder; "
                                         "give --path an existing folder with the files to upload"), result.stderr


@pytest.mark.clearml
def test_a_tracked_run_ends_with_a_summary_line(tmp_path, clearml_server):
    out = tmp_path / "out"
    result = run_script(["hat.py", "epochs=1", f"output_dir={out}"], clearml_server.env)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"hat.py: done: task {task['id']} completed; results: http://127.0.0.1:"), last
    assert last.endswith(f"; its output {out} is the task's `output` artifact"), last


@pytest.mark.clearml
def test_an_offline_run_ends_with_the_summary_then_the_session_to_import(tmp_path, offline_env):
    result = run_script(["hat.py", "epochs=1", f"output_dir={tmp_path / 'out'}"], offline_env)
    assert result.returncode == 0, result.stderr
    done, session = result.stdout.strip().splitlines()[-2:]
    assert done.startswith("hat.py: done: task offline-") and " completed (offline); its output " in done, done
    assert session.startswith("hat.py: offline session: ") and "clearml-task --import-offline-session" in session
