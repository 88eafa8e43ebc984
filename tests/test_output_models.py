"""Output models are files that exist after the run: a timm-shaped training that saves `tmp.pth.tar` and renames
it, under hat.py against the stand-in, through ClearML's real PyTorch binding."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import REPO, run_script


def local_path(url: str) -> Path:
    assert url.startswith("file://"), url
    return Path(unquote(urlparse(url).path))


@pytest.mark.clearml
def test_a_checkpoint_saved_under_a_temporary_name_is_recorded_under_the_names_it_keeps(tmp_path, clearml_server):
    pytest.importorskip("torch")
    output = tmp_path / "output"
    (tmp_path / "c.yaml").write_text(f"output: {output}\nepochs: 3\n")
    result = run_script(["hat.py", "--script", str(REPO / "tests/scripts/timm_checkpoints.py"), "--train_yaml",
                         str(tmp_path / "c.yaml")], clearml_server.env)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    models = {slot["model"]: clearml_server.standin.model(slot["model"]) for slot in task["models"]["output"]}
    files = sorted(local_path(model["uri"]).name for model in models.values())
    assert all(local_path(model["uri"]).is_file() for model in models.values())
    # epoch 2 is last, epoch 1 best: every name the training keeps, and no temporary one
    assert files == ["checkpoint-0.pth.tar", "checkpoint-1.pth.tar", "checkpoint-2.pth.tar", "last.pth.tar",
                     "model_best.pth.tar"]


@pytest.mark.clearml
def test_a_trainers_saved_model_is_an_output_model(tmp_path, clearml_server):
    pytest.importorskip("transformers", minversion="4.40")
    pytest.importorskip("accelerate")
    output = tmp_path / "out"
    (tmp_path / "c.yaml").write_text(f"output_dir: {output}\nreport_to: none\nmax_steps: 2\n")
    result = run_script(["hat.py", "--script", str(REPO / "tests/scripts/hf_trainer_report_to.py"), "--train_yaml",
                         str(tmp_path / "c.yaml")], clearml_server.env, timeout=300)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    uris = [clearml_server.standin.model(slot["model"])["uri"] for slot in task["models"]["output"]]
    assert local_path(next(uri for uri in uris if uri.endswith(".safetensors"))) == output / "model.safetensors"
    assert all(local_path(uri).is_file() for uri in uris)
