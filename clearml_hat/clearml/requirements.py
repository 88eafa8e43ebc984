"""The package list recorded on a task, which clearml-agent installs before it runs `python hat.py`.

It is the training's requirements file, not a guess: the SDK's own analysis sees hat.py, which imports the
training late. Two changes, both for the agent: the hat's own packages (clearml, pyyaml) are added when the file
lacks them, and in a PyTorch image (pytorch/pytorch, nvcr.io/nvidia/pytorch) torch, torchvision and torchaudio
are left out, because the image has them and a pip install would replace its CUDA build (clearml-agent users
report NGC torch being reinstalled).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, NamedTuple

_IMAGE_PACKAGES = ("torch", "torchvision", "torchaudio")
_PYTORCH_IMAGES = ("pytorch/pytorch", "nvcr.io/nvidia/pytorch")
_HAT_PACKAGES = ("clearml", "pyyaml")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class Packages(NamedTuple):
    lines: List[str]  # the requirement lines for the task
    left_out: List[str]  # image packages left out, to say so


def task_packages(requirements: Path, docker: str, keep_image_packages: bool = False) -> Packages:
    """The requirement lines for a task that runs in the docker image `docker`."""
    lines = [line.strip() for line in requirements.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    left_out: List[str] = []
    if is_pytorch_image(docker) and not keep_image_packages:
        left_out = [line for line in lines if package_name(line) in _IMAGE_PACKAGES]
        lines = [line for line in lines if line not in left_out]
    named = {package_name(line) for line in lines}
    lines += [name for name in _HAT_PACKAGES if name not in named]
    return Packages(lines, left_out)


def is_pytorch_image(docker: str) -> bool:
    return docker.startswith(_PYTORCH_IMAGES)


def package_name(line: str) -> str:
    """'torch' for 'torch==2.3.1', 'Torch>=2 ; python_version>"3.8"'; '' for options like '-e .' or URLs."""
    found = _NAME.match(line)
    if not found or line.startswith("-") or "://" in line:
        return ""
    return found.group(1).lower().replace("_", "-")
