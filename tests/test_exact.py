"""Exact where the script runs: what a script resolves under the hat is what a bare run with the native command
line resolves (types, Path objects and computed defaults included): at its defaults, with overrides, with YAML
edits, with a config file's values edited (`config.optim.lr=0.5`) and with timm's pre-parser choosing a config
file. The fixtures in tests/exact/ record what they resolved; each case compares a bare run with the hat's."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from tests.conftest import REPO, run_script
from tests.git_repos import commit_and_push

pytestmark = pytest.mark.clearml  # every case runs hat.py

EXACT = Path(__file__).parent / "exact"
HAT = str(REPO / "hat.py")
TO_YAML = str(REPO / "argparse_to_yaml.py")
CONFIGS = sorted(p.name for p in (EXACT / "configs").iterdir())


def recorded(path: Path) -> Dict[str, List[str]]:
    return json.loads(path.read_text(encoding="utf-8"))


def bare(work: Path, script: str, args: List[str], env: Dict[str, str]) -> Dict[str, List[str]]:
    record = work / "bare.json"
    done = subprocess.run([sys.executable, script, *args], cwd=work, env={**env, "RECORD": str(record)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return recorded(record)


def under_hat(work: Path, script: str, args: List[str], env: Dict[str, str]) -> Dict[str, List[str]]:
    record = work / "hat.json"
    done = run_script([HAT, "--script", script, "--train_yaml", "config.yaml", "--offline", *args],
                      {**env, "RECORD": str(record)}, cwd=work)
    assert done.returncode == 0, done.stderr
    return recorded(record)


def write_yaml(work: Path, script: str, env: Dict[str, str], *args: str) -> str:
    done = run_script([TO_YAML, "--script", script, "-o", "config.yaml", *args], env, cwd=work)
    assert done.returncode == 0, done.stderr
    return (work / "config.yaml").read_text(encoding="utf-8")


def print_argv(work: Path, script: str, env: Dict[str, str], *args: str) -> List[str]:
    done = run_script([HAT, "--script", script, "--train_yaml", "config.yaml", "--print_argv", *args], env, cwd=work)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- the script's own defaults ---------------------------------------------------------------------------------

def test_defaults_resolve_as_a_bare_run_types_and_paths_included(work, offline_env):
    write_yaml(work, "defaults_train.py", offline_env)
    assert print_argv(work, "defaults_train.py", offline_env) == []
    got = under_hat(work, "defaults_train.py", [], offline_env)
    assert got == bare(work, "defaults_train.py", [], offline_env)
    assert got["epochs"] == ["int", "20"] and got["warmup_epochs"] == ["int", "5"]
    assert got["data"][0] == "PosixPath" and got["global_crops_scale"] == ["tuple", "(0.4, 1.0)"]


def test_overrides_and_yaml_edits_give_what_the_native_command_line_gives(work, offline_env):
    write_yaml(work, "defaults_train.py", offline_env)
    native = ["--lr", "0.002", "--workers", "3", "--global_crops_scale", "0.3", "1.0", "--data", "elsewhere"]
    overrides = ["lr=0.002", "workers=3", "global_crops_scale=[0.3, 1.0]", "data=elsewhere"]
    assert under_hat(work, "defaults_train.py", overrides, offline_env) == bare(work, "defaults_train.py", native,
                                                                                 offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("epochs: 20\n", "epochs: 30\n"))
    assert under_hat(work, "defaults_train.py", [], offline_env) == bare(work, "defaults_train.py",
                                                                         ["--epochs", "30"], offline_env)


def test_a_machine_dependent_default_is_this_machines_and_a_pinned_one_is_passed(work, offline_env):
    laptop = {**offline_env, "FAKE_CPUS": "2"}
    text = write_yaml(work, "defaults_train.py", laptop)
    assert "device: cpu\n" in text and "workers: 2\n" in text
    assert print_argv(work, "defaults_train.py", laptop) == []
    assert print_argv(work, "defaults_train.py", laptop, "--pin", "device,workers") == [
        "--device", "cpu", "--workers", "2"]
    failed = run_script([HAT, "--script", "defaults_train.py", "--print_argv", "--pin", "devices"], laptop, cwd=work)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == ["hat.py: error: --pin devices: unknown key; did you mean 'device'?"]


# --- a config file named by an option ---------------------------------------------------------------------------

def test_a_config_files_values_are_shown_nested_and_an_edit_reaches_the_script_in_a_copy(work, offline_env):
    text = write_yaml(work, "config_train.py", offline_env)
    shown = yaml.safe_load(text)["config"]
    assert shown["_file_"] == "configs/exp.yaml"
    assert shown["optim"] == {"lr": 0.1, "momentum": 0.9, "betas": [0.9, 0.99]} and shown["warmup"] == "1e-3"
    assert print_argv(work, "config_train.py", offline_env) == []
    assert under_hat(work, "config_train.py", [], offline_env) == bare(work, "config_train.py", [], offline_env)

    original = (work / "configs/exp.yaml").read_text()
    got = under_hat(work, "config_train.py", ["config.optim.lr=0.5", "seed=3"], offline_env)
    expected = yaml.safe_load(original)
    expected["optim"]["lr"] = 0.5
    assert got["cfg"] == ["dict", repr(expected)] and got["seed"] == ["int", "3"]
    assert got["config_file_name"] == ["bool", "True"], "the copy is named after the file, beside it"
    assert (work / "configs/exp.yaml").read_text() == original
    assert sorted(p.name for p in (work / "configs").iterdir()) == CONFIGS, "the copy was left"


def test_a_config_file_edit_in_the_yaml_is_checked_and_a_wrong_key_is_named(work, offline_env):
    write_yaml(work, "config_train.py", offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("    lr: 0.1\n", "    lr: 0.3\n"))
    done = run_script([TO_YAML, "--script", "config_train.py", "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
    assert yaml.safe_load(under_hat(work, "config_train.py", [], offline_env)["cfg"][1].replace("'", '"')
                          )["optim"]["lr"] == 0.3
    config.write_text(config.read_text().replace("    lr: 0.3\n", "    lrr: 0.3\n"))
    done = run_script([TO_YAML, "--script", "config_train.py", "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert "config.optim.lrr: configs/exp.yaml has no such key; did you mean 'config.optim.lr'?" in done.stdout
    bad = run_script([HAT, "--script", "config_train.py", "--print_argv", "config.optim.lr=fast"], offline_env,
                     cwd=work)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "hat.py: error: config.optim.lrr: configs/exp.yaml has no such key; did you mean 'config.optim.lr'?",
        "hat.py: error: config.optim.lr: 'fast' is a string where configs/exp.yaml has a number (0.1); give a number"]


def test_another_config_file_chosen_by_override_brings_its_own_values(work, offline_env):
    write_yaml(work, "config_train.py", offline_env)
    (work / "configs/small.yaml").write_text("model: tiny\noptim: {lr: 0.01}\nepochs: 1\n")
    got = under_hat(work, "config_train.py", ["config=configs/small.yaml", "config.epochs=2"], offline_env)
    assert got["cfg"] == ["dict", repr({"model": "tiny", "optim": {"lr": 0.01}, "epochs": 2})]


# --- timm's pre-parser ------------------------------------------------------------------------------------------

def test_timm_pre_parser_file_sets_defaults_and_explicit_edits_apply_on_top(work, offline_env):
    text = write_yaml(work, "preparser_train.py", offline_env)
    assert "config: ''\n" in text and "model: resnet50\n" in text
    assert under_hat(work, "preparser_train.py", [], offline_env) == bare(work, "preparser_train.py", [],
                                                                          offline_env)
    chosen = under_hat(work, "preparser_train.py", ["config=configs/vit.yaml"], offline_env)
    assert chosen == bare(work, "preparser_train.py", ["--config", "configs/vit.yaml"], offline_env)
    assert chosen["model"] == ["str", "'vit_small'"], "the YAML's untouched model: resnet50 overrode the file"
    edited = under_hat(work, "preparser_train.py", ["config=configs/vit.yaml", "epochs=5", "smoothing=0.3"],
                       offline_env)
    assert edited == bare(work, "preparser_train.py", ["-c", "configs/vit.yaml", "--epochs", "5", "--smoothing",
                                                       "0.3"], offline_env)


# --- on clearml-agent, against the stand-in ---------------------------------------------------------------------

CLONE_AND_EDIT = """
import sys
from clearml import Task
clone = Task.clone(source_task=sys.argv[1], name="edited")
clone.update_parameters({"train_args/config.optim.lr": 0.5})
Task.enqueue(clone, queue_name="compute")
print(clone.id)
"""


def pushed_checkout(work: Path, tmp_path: Path) -> None:
    """The fixtures with the hat in them, committed and pushed, as `clearml-hat init` leaves a user's repo."""
    shutil.copy(REPO / "hat.py", work / "hat.py")
    shutil.copytree(REPO / "clearml_hat", work / "clearml_hat", ignore=shutil.ignore_patterns("__pycache__"))
    commit_and_push(work, tmp_path)


def test_the_agent_computes_a_machine_dependent_default_itself(tmp_path, work, clearml_server, real_agent):
    laptop = {**clearml_server.env, "FAKE_CPUS": "2"}
    write_yaml(work, "defaults_train.py", laptop)
    pushed_checkout(work, tmp_path)
    record = tmp_path / "agent.json"
    real_agent.env.update(FAKE_GPU="1", FAKE_CPUS="16", RECORD=str(record))
    with real_agent.daemon("compute") as daemon:
        done = run_script([str(work / "hat.py"), "--script", "defaults_train.py", "--remote", "--queue", "compute",
                           "lr=0.002"], laptop,
                          cwd=work)
        assert done.returncode == 0, done.stderr
        (task,) = clearml_server.standin.tasks()
        task = daemon.wait_for(task["id"])
    assert task["status"] == "completed", daemon.log()
    got = recorded(record)
    assert (got["device"], got["workers"], got["lr"]) == (["str", "'cuda'"], ["int", "16"], ["float", "0.002"])
    assert str(real_agent.clone_root) in got["data"][1], "the data folder is not below the agent's checkout"
    shown = {name: p["value"] for name, p in task["hyperparams"]["train_args"].items()}
    assert (shown["device"], shown["workers"]) == ("cpu", "2"), "train_args shows the values of the YAML"

    pinned = run_script([str(work / "hat.py"), "--script", "defaults_train.py", "--remote", "--pin", "device"],
                        laptop, cwd=work)
    assert pinned.returncode == 0, pinned.stderr
    (second,) = [each for each in clearml_server.standin.tasks() if each["id"] != task["id"]]
    assert real_agent.execute(second["id"]).returncode == 0
    assert (recorded(record)["device"], recorded(record)["workers"]) == (["str", "'cpu'"], ["int", "16"])


def test_a_config_file_value_edited_in_a_clone_reaches_the_agents_run(tmp_path, work, clearml_server, real_agent):
    write_yaml(work, "config_train.py", clearml_server.env)
    pushed_checkout(work, tmp_path)
    record = tmp_path / "agent.json"
    real_agent.env["RECORD"] = str(record)
    done = run_script([str(work / "hat.py"), "--script", "config_train.py", "--remote"], clearml_server.env,
                      cwd=work)
    assert done.returncode == 0, done.stderr
    (first,) = clearml_server.standin.tasks()
    assert first["hyperparams"]["train_args"]["config.optim.lr"]["value"] == "0.1"
    assert real_agent.execute(first["id"]).returncode == 0
    assert yaml.safe_load(recorded(record)["cfg"][1].replace("'", '"'))["optim"]["lr"] == 0.1

    edit = run_script(["-c", CLONE_AND_EDIT, first["id"]], clearml_server.env)
    assert edit.returncode == 0, edit.stderr
    clone_id = edit.stdout.strip().splitlines()[-1]
    with real_agent.daemon("compute") as daemon:
        clone = daemon.wait_for(clone_id)
    assert clone["status"] == "completed", daemon.log()
    cfg = yaml.safe_load(recorded(record)["cfg"][1].replace("'", '"'))
    assert cfg["optim"] == {"lr": 0.5, "momentum": 0.9, "betas": [0.9, 0.99]} and cfg["warmup"] == "1e-3"
    checkout = real_agent.clone_root / "remote.git" / "configs"
    assert sorted(p.name for p in checkout.iterdir()) == CONFIGS, "the agent left its copy"


# --- a YAML file as the script's only argument (Hugging Face scripts) -------------------------------------------

def test_a_recipe_file_as_the_only_argument_reaches_the_script_as_the_file_or_its_edited_copy(work, offline_env):
    pytest.importorskip("transformers")
    shutil.copy(work / "configs/recipe.yaml", work / "config.yaml")
    args = ["--as_args_file"]
    assert print_argv(work, "hf_args_file_train.py", offline_env, *args) == ["config.yaml"]
    assert under_hat(work, "hf_args_file_train.py", args, offline_env) == bare(work, "hf_args_file_train.py",
                                                                                ["config.yaml"], offline_env)
    edited = yaml.safe_load((work / "config.yaml").read_text())
    edited.update(num_epochs=5, warmup_steps=10)
    (work / "edited.yaml").write_text(yaml.safe_dump(edited))
    got = under_hat(work, "hf_args_file_train.py", [*args, "num_epochs=5", "warmup_steps=10"], offline_env)
    assert got == bare(work, "hf_args_file_train.py", ["edited.yaml"], offline_env)
    assert got["learning_rate"] == ["str", "'1e-4'"], "an untouched value is the file's, as the script reads it"
    assert sorted(p.name for p in work.glob("config*.yaml")) == ["config.yaml"], "the copy was left"


def test_torchrun_ranks_get_the_edited_copy_of_a_config_file(work, offline_env):
    pytest.importorskip("torch")
    write_yaml(work, "config_train.py", offline_env)
    got = under_hat(work, "config_train.py", ["--nproc_per_node", "2", "config.optim.lr=0.5"], offline_env)
    assert yaml.safe_load(got["cfg"][1].replace("'", '"'))["optim"]["lr"] == 0.5
    assert sorted(p.name for p in (work / "configs").iterdir()) == CONFIGS, "the copy was left"
