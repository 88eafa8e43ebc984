"""`clearml-hat init` (here `python -m clearml_hat init`, the same command) in a user's git checkout: it writes
nothing when the script gives no parser, and run again to upgrade it keeps every value the user edited."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO, clean_env

TRAIN = """
import argparse

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--old_flag", default="x")
    print(parser.parse_args())

if __name__ == "__main__":
    main()
"""


def user_repo(tmp_path: Path, script: str = "train.py", source: str = TRAIN) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / script).write_text(textwrap.dedent(source))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    return repo


def init(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**clean_env(repo.parent / "home"), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "clearml_hat", "init", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)


def test_init_on_a_script_that_fails_before_its_parser_writes_nothing(tmp_path):
    # In a function: Python 3.11 compiles away the code after a module-level raise, parser included.
    repo = user_repo(tmp_path, source="def check_gpu():\n    raise RuntimeError('no GPU found')\ncheck_gpu()\n" + TRAIN)
    result = init(repo, "--script", "train.py")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clearml-hat init: error: "), lines
    assert "train.py:2 raised RuntimeError: no GPU found before parsing its arguments" in lines[0], lines
    assert sorted(os.listdir(repo)) == [".git", "train.py"]


def test_init_again_keeps_the_edited_values_adds_new_options_and_reports_removed_ones(tmp_path):
    repo = user_repo(tmp_path)
    assert init(repo, "--script", "train.py").returncode == 0
    config = repo / "config.yaml"
    config.write_text(config.read_text().replace("epochs: 3", "epochs: 7").replace("lr: 0.1", "lr: 0.02"))
    (repo / "train.py").write_text(textwrap.dedent(TRAIN).replace(
        'parser.add_argument("--old_flag", default="x")', 'parser.add_argument("--warmup", type=int, default=5)'))

    again = init(repo, "--script", "train.py")
    assert again.returncode == 0, again.stderr
    text = config.read_text()
    assert "epochs: 7\n" in text and "lr: 0.02\n" in text  # the user's values
    assert "warmup: 5\n" in text  # the new option, at its default
    assert "old_flag" not in text
    assert ("clearml-hat init: config.yaml: 'old_flag' is no longer an option of train.py: left out (the previous "
            "file is kept as config.yaml.bak)") in again.stderr.splitlines()
    assert "old_flag: x" in (repo / "config.yaml.bak").read_text()


def test_init_quotes_a_script_path_with_a_space_in_the_commands_it_prints_and_writes(tmp_path):
    repo = user_repo(tmp_path, script="my train.py")
    result = init(repo, "--script", "my train.py")
    assert result.returncode == 0, result.stderr
    assert "python -m clearml_hat yaml --script 'my train.py' --check config.yaml" in result.stdout
    header = (repo / "config.yaml").read_text()
    assert "# Regenerate: python -m clearml_hat yaml --script 'my train.py' -o config.yaml\n" in header
    assert str(repo) not in header, "the header names the repo's files relative to it"
