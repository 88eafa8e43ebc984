"""`clearml-hat run` from a pipx install: its venv has clearml and the hat but not the training's packages, so the
training's import fails. The hat says so in one line and points to `python hat.py` in the training's environment.

The pipx venv is made as pipx makes one (a venv with pipx_metadata.json in it); it reaches this environment's
clearml through a .pth file, and torch is hidden from it (tests/missing_modules.py), as pipx would leave it out.
"""
from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.missing_modules import missing_env

pytestmark = pytest.mark.clearml

TRAINING = """\
import argparse

import torch


def main(args=None):
    parser = argparse.ArgumentParser(description="a training that needs torch")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    args = parser.parse_args(args)
    print(torch.tensor([args.lr]))


if __name__ == "__main__":
    main()
"""


def pipx_venv(folder: Path) -> Path:
    """A venv as `pipx install clearml-hat` leaves it: the hat and clearml importable, its own metadata file."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True)
    (folder / "pipx_metadata.json").write_text('{"pipx_metadata_version": "0.5"}\n')
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "hat_test.pth").write_text(f"{REPO}\n{sysconfig.get_paths()['purelib']}\n")
    return python


def test_run_from_a_pipx_venv_that_lacks_the_trainings_packages_is_one_line(tmp_path, offline_env):
    python = pipx_venv(tmp_path / "pipx" / "venvs" / "clearml-hat")
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text(TRAINING)
    (work / "config.yaml").write_text("lr: 0.1\n")
    result = subprocess.run([str(python), "-m", "clearml_hat", "run", "--script", "train.py"], cwd=work,
                            env=missing_env(offline_env, "torch"), capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert errors == [f"clearml-hat run: error: the training cannot import torch: this clearml-hat runs in the venv "
                      f"pipx gave it ({python.parent.parent}), without the training's packages; run `python hat.py "
                      "...` with the training environment's python instead (`clearml-hat init` puts hat.py in the "
                      "repo)"], output
