"""Repo-shaped fixtures (tests/repos/) end to end, with torch installed and with torch hidden.

Each fixture is copied to a scratch folder and made a git repository, as a clone is. Then, as a user runs the
tools from the repo root (subprocesses, a private HOME, no terminal on stdin):
`argparse_to_yaml.py -o config.yaml` writes every option, `--check` says ok, and `hat.py --print_argv` with
overrides prints an argv that the script's own parser reads back as exactly the YAML's values.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple

import pytest

from clearml_hat.config.argparser.capture import capture_parser
from clearml_hat.config.argparser.parser_values import text_keys
from clearml_hat.values.yaml_config import load_values, parse_value
from clearml_hat.values.yaml_values import same_value, yaml_value
from tests.conftest import REPO, clean_env
from tests.git_repos import commit_and_push
from tests.missing_modules import hidden, missing_env

REPOS = Path(__file__).resolve().parent / "repos"


class Fixture(NamedTuple):
    repo: str
    script: str
    keys: List[str]  # a few of the YAML's keys, spelled as the parser's dests
    overrides: Dict[str, str]  # key -> override text, as typed on the command line
    argv_has: List[List[str]]  # runs of tokens the printed argv must contain


FIXTURES = [
    Fixture("yolov5", "classify/train.py", ["batch_size", "imgsz", "exist_ok", "label_smoothing", "local_rank"],
            {"batch_size": "16", "imgsz": "320", "exist_ok": "true", "optimizer": "SGD"},
            [["--batch-size", "16"], ["--imgsz", "320"], ["--exist-ok"], ["--optimizer", "SGD"]]),
    Fixture("detr", "main.py", ["aux_loss", "batch_size", "position_embedding", "coco_path"],
            {"aux_loss": "false", "batch_size": "4", "coco_path": "/data/coco"},
            [["--no_aux_loss"], ["--batch_size", "4"], ["--coco_path", "/data/coco"]]),
    Fixture("improved_diffusion", "scripts/image_train.py", ["data_dir", "use_fp16", "image_size", "noise_schedule"],
            {"use_fp16": "true", "image_size": "32", "ema_rate": "0.9999,0.99"},
            [["--image_size", "32"], ["--ema_rate", "0.9999,0.99"]]),
    Fixture("mae", "main_pretrain.py", ["mask_ratio", "norm_pix_loss", "pin_mem", "blr"],
            {"pin_mem": "false", "mask_ratio": "0.6"}, [["--no_pin_mem"], ["--mask_ratio", "0.6"]]),
    Fixture("lightning_two_stage", "train.py", ["model_name", "max_epochs", "hidden_dim", "learning_rate"],
            {"hidden_dim": "64"}, [["--hidden_dim", "64"]]),
    Fixture("mnist_torch", "main.py", ["batch_size", "no_accel", "dry_run", "save_model"],
            {"batch_size": "32", "save_model": "true"}, [["--batch-size", "32"], ["--save-model"]]),
]


@pytest.fixture
def user_env(tmp_path: Path, torch_mode: str) -> Dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    return missing_env(env, "torch", "torchvision") if torch_mode == "torch missing" else env


def clone(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    shutil.copytree(REPOS / name, repo)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return repo


def tool(args: List[str], repo: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def contains_run(argv: List[str], run: List[str]) -> bool:
    return any(argv[i:i + len(run)] == run for i in range(len(argv)))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.repo for f in FIXTURES])
def test_repo_yaml_check_and_argv(fixture: Fixture, tmp_path: Path, user_env: Dict[str, str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = clone(tmp_path, fixture.repo)
    written = tool([str(REPO / "argparse_to_yaml.py"), "--script", fixture.script, "-o", "config.yaml"], repo,
                   user_env)
    assert written.returncode == 0, written.stderr
    assert "Traceback" not in written.stderr, written.stderr
    checked = tool([str(REPO / "argparse_to_yaml.py"), "--script", fixture.script, "--check", "config.yaml"], repo,
                   user_env)
    assert (checked.returncode, checked.stdout.splitlines()[-1]) == (0, "ok"), checked.stdout + checked.stderr
    overrides = [f"{key}={text}" for key, text in fixture.overrides.items()]
    printed = tool([str(REPO / "hat.py"), "--script", fixture.script, "--train_yaml", "config.yaml", "--print_argv",
                    *overrides], repo, user_env)
    assert printed.returncode == 0, printed.stderr
    argv = json.loads(printed.stdout)
    for run in fixture.argv_has:
        assert contains_run(argv, run), (run, argv)

    # In this process, in the repo as the hat ran (yolov5's defaults are relative to the working directory); torch
    # is hidden here too when it is there. A value the argv leaves out is the script's own default: the same here.
    monkeypatch.chdir(repo)
    parser = capture_parser(repo / fixture.script)
    texts = text_keys(parser)
    values = load_values(repo / "config.yaml", texts)
    assert set(fixture.keys) <= set(values)
    values.update({key: parse_value(text, key in texts) for key, text in fixture.overrides.items()})
    namespace = vars(parser.parse_args(argv))
    wrong = {key: (value, namespace[key]) for key, value in values.items()
             if value is not None and not same_value(yaml_value(namespace[key]), value)}
    assert not wrong, f"the YAML says / the script's parser read: {wrong}"


def test_capture_leaves_no_traceback_at_exit_with_torch_installed(tmp_path: Path) -> None:
    """torch.ops and torch.classes answer every attribute; once, capture tripped on them and Python printed 118
    tracebacks ("module 'torch' has no attribute 'ops'") at exit."""
    pytest.importorskip("torch")
    script = tmp_path / "train.py"
    script.write_text("import argparse, torch\np = argparse.ArgumentParser()\n"
                      "p.add_argument('--lr', type=float, default=0.1)\np.parse_args()\n")
    home = tmp_path / "home"
    home.mkdir()
    done = tool([str(REPO / "argparse_to_yaml.py"), "--script", "train.py", "-o", "cfg.yaml"], tmp_path,
                clean_env(home))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (tmp_path / "cfg.yaml").read_text().endswith("lr: 0.1\n")


def test_script_that_stops_before_its_parser_gets_an_exact_argv_from_its_source(tmp_path: Path,
                                                                              user_env: Dict[str, str]) -> None:
    """pytorch-cifar's utils.py runs `stty size` at import, which fails without a terminal: no parser to capture.
    argparse_to_yaml says so; hat.py builds argv from main.py's add_argument lines, spelled as the script has them,
    and refuses a key whose type it cannot know without running the script."""
    repo = clone(tmp_path, "pytorch_cifar")
    written = tool([str(REPO / "argparse_to_yaml.py"), "--script", "main.py"], repo, user_env)
    assert written.returncode == 2
    assert written.stderr.splitlines()[-1].startswith("argparse_to_yaml.py: error: main.py:10 raised ValueError: "
                                                      "not enough values to unpack")
    (repo / "config.yaml").write_text("lr: 0.05\nresume: true\nbatch_size: 64\noptim: adam\naugment: false\n"
                                      "workers: 2\namp: null\n")
    printed = tool([str(REPO / "hat.py"), "--script", "main.py", "--print_argv"], repo, user_env)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == ["--lr", "0.05", "--resume", "--batch-size", "64", "--optim", "adam",
                                          "--no-augment", "--workers", "2"]
    assert "argv comes from its add_argument lines" in printed.stderr
    refused = tool([str(REPO / "hat.py"), "--script", "main.py", "--print_argv", "amp=true"], repo, user_env)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1].startswith(
        "hat.py: error: amp: main.py stops before its parser, and its add_argument on line 25 has type=str2bool")


@pytest.mark.clearml
def test_torch_training_runs_under_the_hat_offline(tmp_path: Path) -> None:
    """A real (tiny) torch training, run as __main__ under the hat with torch installed: the YAML's values reach
    it, the session records them, and the model it saves with torch.save is where the script put it. (ClearML's
    offline mode records no output models for torch.save; against a server it does, see the stand-in test.)"""
    torch = pytest.importorskip("torch")
    repo = clone(tmp_path, "mnist_torch")
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    assert tool([str(REPO / "argparse_to_yaml.py"), "--script", "main.py"], repo, env).returncode == 0
    run = tool([str(REPO / "hat.py"), "--script", "main.py", "epochs=1", "batch_size=32", "save_model=true"], repo,
               env)
    assert run.returncode == 0, run.stderr
    assert "finished 1 epochs, batch size 32, lr 1.0" in run.stdout
    assert "Traceback" not in run.stderr
    state = torch.load(repo / "mnist_cnn.pt")
    assert set(state) == {"conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias"}
    (session,) = [p for p in (Path(env["CLEARML_CACHE_DIR"]) / "offline").iterdir() if p.is_dir()]
    train_args = json.loads((session / "task.json").read_text())["hyperparams"]["train_args"]
    assert {name: p["value"] for name, p in train_args.items() if name in ("epochs", "batch_size", "save_model")} \
        == {"epochs": "1", "batch_size": "32", "save_model": "True"}


def _user_repo_with_the_hat(tmp_path: Path, name: str) -> Path:
    """The fixture with hat.py and clearml_hat/ copied in and its config.yaml written, committed and pushed to a
    local bare repository, as a user prepares a repo for clearml-agent."""
    repo = clone(tmp_path, name)
    shutil.copy(REPO / "hat.py", repo / "hat.py")
    shutil.copytree(REPO / "clearml_hat", repo / "clearml_hat", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "requirements.txt").write_text("clearml\npyyaml\ntorch\n")
    home = tmp_path / "yaml-home"
    home.mkdir()
    assert tool([str(REPO / "argparse_to_yaml.py"), "--script", "main.py"], repo, clean_env(home)).returncode == 0
    commit_and_push(repo, tmp_path, message="training with the hat")
    return repo


def _output_models(standin, task_id: str) -> List[str]:
    """The names of the task's output models, as the web UI lists them."""
    ids = [entry["model"] for entry in standin.task(task_id)["models"]["output"]]
    return [standin.call("models.get_by_id", {"model": model_id})["model"]["name"] for model_id in ids]


@pytest.mark.clearml
def test_torch_training_tracked_against_a_server_records_its_saved_model(tmp_path: Path, clearml_server) -> None:
    pytest.importorskip("torch")
    repo = _user_repo_with_the_hat(tmp_path, "mnist_torch")
    run = tool(["hat.py", "--script", "main.py", "epochs=1", "save_model=true"], repo, clearml_server.env)
    assert run.returncode == 0, run.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "completed"
    assert task["hyperparams"]["train_args"]["save_model"]["value"] == "True"
    assert _output_models(clearml_server.standin, task["id"]) == ["main - mnist_cnn"]
    (model,) = clearml_server.standin.call("models.get_all", {"task": [task["id"]]})["models"]
    assert model["uri"].endswith("mnist_cnn.pt") and model["framework"] == "PyTorch"


@pytest.mark.clearml
def test_agent_runs_the_torch_training_from_the_users_repo(tmp_path: Path, clearml_server, real_agent) -> None:
    pytest.importorskip("torch")
    repo = _user_repo_with_the_hat(tmp_path, "mnist_torch")
    enqueued = tool(["hat.py", "--script", "main.py", "--remote", "epochs=1", "batch_size=16", "save_model=true"],
                    repo, clearml_server.env)
    assert enqueued.returncode == 0, enqueued.stderr
    (task,) = clearml_server.standin.tasks()
    # The default image is a PyTorch one: torch stays out of the packages, the hat's own are added.
    assert task["script"]["requirements"]["pip"].splitlines() == ["clearml", "pyyaml"]
    assert "has torch: left out of the task's packages" in enqueued.stderr
    result = real_agent.execute(task["id"])
    assert result.returncode == 0, result.stdout
    task = clearml_server.standin.task(task["id"])
    assert task["status"] == "completed"
    log = "\n".join(event["msg"] for event in clearml_server.standin.events(task["id"], "log"))
    assert "finished 1 epochs, batch size 16, lr 1.0" in log
    assert _output_models(clearml_server.standin, task["id"]) == ["main - mnist_cnn"]


def test_a_package_missing_for_an_installed_one_is_stood_in_and_forgotten_afterwards(tmp_path: Path) -> None:
    """MAE imports torch.utils.tensorboard, which imports tensorboard: with torch installed and tensorboard not,
    the parser is still read, and no module built on the stand-in stays imported for the real run."""
    pytest.importorskip("torch")
    script = tmp_path / "main_pretrain.py"
    script.write_text("import argparse\nfrom torch.utils.tensorboard import SummaryWriter\n"
                      "p = argparse.ArgumentParser()\np.add_argument('--blr', type=float, default=1e-3)\n"
                      "p.parse_args()\n")
    with hidden("tensorboard"):
        assert capture_parser(script).get_default("blr") == 1e-3
        # Gone: the stand-in and every module built on it (its helper modules without stand-ins may stay).
        assert not [name for name in sys.modules if name.startswith("tensorboard")]
        assert {"torch.utils.tensorboard", "torch.utils.tensorboard.writer"}.isdisjoint(sys.modules)
        with pytest.raises(ModuleNotFoundError, match="tensorboard"):
            import torch.utils.tensorboard  # noqa: F401
