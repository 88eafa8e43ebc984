"""Installed the way Python tools install: `pip install .` of a clean clone into a fresh venv, then the commands.

The install (a fresh venv, clearml and pyyaml from the package index) takes 20-40 s, once per test session.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterator

import pytest

from clearml_hat import __version__
from tests.conftest import REPO, clean_env
from tests.git_repos import commit_and_push

pytestmark = pytest.mark.clearml

TRAIN = """
import argparse

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--mixed_precision", default="no", choices=["no", "fp16"])
    args = parser.parse_args()
    print(f"trained {args.epochs} epochs, precision {args.mixed_precision}")

if __name__ == "__main__":
    main()
"""


def run(command: list, cwd: Path, env: Dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with `pip install .` (not editable) of a clean clone of this repo's HEAD."""
    root = tmp_path_factory.mktemp("install")
    clone = root / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    pip = run([str(root / "venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(clone)], root,
              clean_env(root))
    assert pip.returncode == 0, pip.stderr
    yield root / "venv" / "bin"


def test_the_command_and_the_module_answer(venv: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    helped = run([str(venv / "clearml-hat"), "--help"], tmp_path, env)
    assert helped.returncode == 0, helped.stderr
    assert all(command in helped.stdout for command in ("run", "yaml", "upload", "init"))
    version = run([str(venv / "python"), "-m", "clearml_hat", "--version"], tmp_path, env)
    assert (version.returncode, version.stdout) == (0, f"clearml-hat {__version__}\n")


def _scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text(textwrap.dedent(TRAIN))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    return repo


def test_init_prepares_a_repo_that_runs_the_hat(venv: Path, tmp_path: Path) -> None:
    repo = _scratch_repo(tmp_path)
    env = clean_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    init = run([str(venv / "clearml-hat"), "init", "--script", "train.py"], repo, env)
    assert init.returncode == 0, init.stderr
    assert {p.name for p in repo.iterdir()} >= {"hat.py", "clearml_hat", "config.yaml", "train.py"}
    assert f'__version__ = "{__version__}"' in (repo / "clearml_hat" / "__init__.py").read_text()
    assert "git add hat.py clearml_hat config.yaml" in init.stdout
    assert "mixed_precision: 'no'" in (repo / "config.yaml").read_text()

    printed = run([str(venv / "python"), "hat.py", "--print_argv", "epochs=5"], repo, env)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == ["--epochs", "5"]
    trained = run([str(venv / "python"), "hat.py", "epochs=2"], repo, env)
    assert trained.returncode == 0, trained.stderr
    assert "trained 2 epochs, precision no" in trained.stdout
    (session,) = [p for p in (Path(env["CLEARML_CACHE_DIR"]) / "offline").iterdir() if p.is_dir()]
    train_args = json.loads((session / "task.json").read_text())["hyperparams"]["train_args"]
    assert {name: p["value"] for name, p in train_args.items()} == {"epochs": "2", "mixed_precision": "no"}


def test_init_keeps_a_changed_file_and_refuses_a_folder_that_is_no_git_checkout(venv: Path, tmp_path: Path) -> None:
    repo = _scratch_repo(tmp_path)
    env = clean_env(tmp_path)
    (repo / "hat.py").write_text("# my own hat.py\n")
    assert run([str(venv / "clearml-hat"), "init", "--script", "train.py"], repo, env).returncode == 0
    assert (repo / "hat.py.bak").read_text() == "# my own hat.py\n"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "train.py").write_text(textwrap.dedent(TRAIN))
    refused = run([str(venv / "clearml-hat"), "init", "--script", "train.py"], plain, env)
    assert refused.returncode == 2
    assert refused.stderr == ("clearml-hat init: error: . is not a git checkout, and clearml-agent clones the code "
                              "from git: `git init` there (or clone your repo), or give --force\n")
    assert not (plain / "hat.py").exists()


def test_remote_from_an_initialised_repo_is_a_task_the_agent_runs(venv: Path, tmp_path: Path, clearml_server,
                                                                 real_agent) -> None:
    repo = _scratch_repo(tmp_path)
    assert run([str(venv / "clearml-hat"), "init", "--script", "train.py"], repo, clearml_server.env).returncode == 0
    commit_and_push(repo, tmp_path, message="train under ClearML")
    enqueued = run([str(venv / "python"), "hat.py", "--remote", "epochs=4"], repo, clearml_server.env)
    assert enqueued.returncode == 0, enqueued.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["script"]["entry_point"] == "hat.py"
    assert task["hyperparams"]["hat"]["hat_version"]["value"] == __version__
    result = real_agent.execute(task["id"])
    assert result.returncode == 0, result.stdout
    log = "\n".join(event["msg"] for event in clearml_server.standin.events(task["id"], "log"))
    assert "trained 4 epochs, precision no" in log
    assert clearml_server.standin.task(task["id"])["status"] == "completed"
