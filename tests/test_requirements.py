"""task_packages: the training's requirements for the agent, less what a PyTorch image has, plus the hat's own."""
from __future__ import annotations

import pytest

from clearml_hat.clearml.requirements import package_name, task_packages

REQUIREMENTS = """# training
torch==2.3.1
torchvision>=0.18 ; python_version >= "3.8"
TorchAudio
numpy<2
-e .
timm
"""


@pytest.mark.parametrize("image", ["pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime", "nvcr.io/nvidia/pytorch:24.01-py3"])
def test_a_pytorch_image_keeps_its_own_torch(tmp_path, image):
    path = tmp_path / "requirements.txt"
    path.write_text(REQUIREMENTS)
    packages = task_packages(path, image)
    assert packages.lines == ["numpy<2", "-e .", "timm", "clearml", "pyyaml"]
    assert packages.left_out == ["torch==2.3.1", 'torchvision>=0.18 ; python_version >= "3.8"', "TorchAudio"]


def test_other_images_and_keep_image_packages_keep_torch(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text(REQUIREMENTS + "clearml>=1.14\nPyYAML\n")
    for packages in (task_packages(path, "python:3.11"),
                     task_packages(path, "pytorch/pytorch:latest", keep_image_packages=True)):
        assert packages.left_out == []
        assert packages.lines[:3] == ["torch==2.3.1", 'torchvision>=0.18 ; python_version >= "3.8"', "TorchAudio"]
        assert packages.lines[-2:] == ["clearml>=1.14", "PyYAML"]  # present already: not added again


@pytest.mark.parametrize("line, name", [("torch==2.3.1", "torch"), ("Torch_Audio>=2", "torch-audio"),
                                        ("-r other.txt", ""), ("git+https://x/y.git", "")])
def test_package_name(line, name):
    assert package_name(line) == name
