"""Where a training script's repository starts, and the files the hat finds there on the user's behalf.

Real training scripts often sit in a sub-folder and import the repo's own packages from its root (yolov5's
`classify/train.py` appends the root to sys.path; improved-diffusion's `scripts/image_train.py` imports
`improved_diffusion` from it). clearml-agent puts the clone's root on PYTHONPATH, so the hat does the same here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

_ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


def repo_root(script: Path) -> Path:
    """The nearest folder at or above the script's that holds .git or a Python project file; else its folder."""
    folder = script.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return candidate
    return folder


def find_requirements(script: Path, name: str = "requirements.txt") -> Optional[Path]:
    """The requirements file beside the script, else at the repo root; None when neither exists."""
    for folder in dict.fromkeys((script.resolve().parent, repo_root(script))):
        if (folder / name).is_file():
            return folder / name
    return None
