"""Shared test set-up: the ClearML stand-in and agent fixtures, a private ClearML home for offline runs, and a
machine with and without torch."""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.missing_modules import hidden

pytest_plugins = ["tests.standin_fixture", "tests.real_agent"]

# The old-Python CI run installs no S3 tools (moto needs Python 3.10+): a module importing them cannot be collected.
S3_TOOLS = all(importlib.util.find_spec(name) for name in ("moto", "boto3"))
collect_ignore = [] if S3_TOOLS else ["test_datasets_s3.py"]

REPO = Path(__file__).resolve().parent.parent

# A shell without job control starts a background command (`bash .ci/run &`, nohup) with SIGINT ignored, and every
# process started from it inherits that: the scripts the tests interrupt as a terminal does would not see Ctrl-C.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def clean_env(home: Path) -> Dict[str, str]:
    """This process's environment without any ClearML setting, with HOME and the ClearML cache under home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(HOME=str(home), CLEARML_CACHE_DIR=str(home / "clearml-cache"), PYTHONUNBUFFERED="1")
    return env


# argparse as Python ships it: importing clearml patches ArgumentParser.add_subparsers (a subparsers action without
# dest becomes "/subparser1"), and a test that builds parsers must not depend on whether a test before it in the
# same process imported clearml.
_STDLIB_ADD_SUBPARSERS = argparse.ArgumentParser.add_subparsers


@pytest.fixture(autouse=True)
def stdlib_add_subparsers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argparse.ArgumentParser, "add_subparsers", _STDLIB_ADD_SUBPARSERS)


@pytest.fixture(params=["torch installed", "torch missing"])
def torch_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on a machine with torch (skipped where it is not installed) and on one without: torch hidden
    in this process and, through missing_env, in the subprocesses (tests/missing_modules.py)."""
    if request.param == "torch installed":
        pytest.importorskip("torch")
        yield request.param
    else:
        with hidden("torch", "torchvision"):
            yield request.param


@pytest.fixture
def offline_env(tmp_path: Path) -> Dict[str, str]:
    """A HOME with no clearml.conf at all: the hat must fall back to ClearML's offline mode."""
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(home)


def run_script(
    args: List[str], env: Dict[str, str], cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run one of the project's scripts as a user would: `python <script> ...` in a fresh process."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The fixtures of tests/exact/ in a git checkout of their own (the repo root capture and training use)."""
    folder = tmp_path / "work"
    shutil.copytree(Path(__file__).parent / "exact", folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    return folder
