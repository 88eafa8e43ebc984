"""jsonargparse scripts under the hat: what tests/exact/jsonargparse_train.py (CLI over a function with a dataclass
parameter) and tests/exact/jsonargparse_config_train.py (an ArgumentParser with --config) receive under the hat is
what a bare run with jsonargparse's own command line gives them: at the defaults, with overrides (a nested key, a
Literal, a bool, a list), with YAML edits, with a config file. The YAML shows the parser's keys nested with their
help and choices; --check and --print_argv speak jsonargparse's keys."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import run_script
from tests.test_exact import (
    CLONE_AND_EDIT,
    HAT,
    TO_YAML,
    bare,
    print_argv,
    pushed_checkout,
    recorded,
    under_hat,
    write_yaml,
)

pytest.importorskip("jsonargparse", reason="jsonargparse is the fixtures' own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

CLI_SCRIPT = "jsonargparse_train.py"
CONFIG_SCRIPT = "jsonargparse_config_train.py"


def test_the_yaml_shows_the_parsers_keys_nested_with_help_and_choices_and_its_defaults_run_as_bare(work, offline_env):
    text = write_yaml(work, CLI_SCRIPT, offline_env)
    shown = yaml.safe_load(text)
    assert shown == {"optim": {"lr": 0.1, "momentum": 0.9, "betas": [0.9, 0.99]}, "epochs": 20, "model": "small",
                     "amp": False, "tags": ["baseline"], "seed": None, "run_name": "run", "config": None}
    assert "optim:\n  # learning rate\n  lr: 0.1\n" in text, "help comes from the dataclass's docstring"
    assert "# model size\n# choices: small, large\nmodel: small\n" in text, "a Literal's values are its choices"
    done = run_script([TO_YAML, "--script", CLI_SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr
    # At the defaults nothing is passed, and the script resolves what a bare run does.
    assert print_argv(work, CLI_SCRIPT, offline_env) == []
    got = under_hat(work, CLI_SCRIPT, [], offline_env)
    assert got == bare(work, CLI_SCRIPT, [], offline_env)
    assert got["tags"] == ["list", "['baseline']"] and got["seed"] == ["NoneType", "None"]


def test_overrides_give_what_jsonargparses_command_line_gives(work, offline_env):
    write_yaml(work, CLI_SCRIPT, offline_env)
    overrides = ["optim.lr=0.5", "model=large", "amp=true", "tags=[a, '10']", "seed=3", "run_name=no"]
    native = ["--optim.lr", "0.5", "--model", "large", "--amp", "true", "--tags", '["a", "10"]', "--seed", "3",
              "--run_name", "no"]
    assert print_argv(work, CLI_SCRIPT, offline_env, *overrides) == native
    got = under_hat(work, CLI_SCRIPT, overrides, offline_env)
    assert got == bare(work, CLI_SCRIPT, native, offline_env)
    assert got["optim"] == ["dict", "{'lr': 0.5, 'momentum': 0.9, 'betas': [0.9, 0.99]}"]
    assert (got["tags"], got["run_name"], got["amp"]) == (["list", "['a', '10']"], ["str", "'no'"], ["bool", "True"])


def test_yaml_edits_give_what_jsonargparses_command_line_gives(work, offline_env):
    config = work / "config.yaml"
    text = write_yaml(work, CLI_SCRIPT, offline_env)
    config.write_text(text.replace("  betas: [0.9, 0.99]\n", "  betas: [0.8, 0.9]\n").replace("epochs: 20\n",
                                                                                               "epochs: 30.0\n"))
    assert print_argv(work, CLI_SCRIPT, offline_env) == ["--optim.betas", "[0.8, 0.9]", "--epochs", "30"]
    got = under_hat(work, CLI_SCRIPT, [], offline_env)
    assert got == bare(work, CLI_SCRIPT, ["--optim.betas", "[0.8, 0.9]", "--epochs", "30"], offline_env)
    assert got["epochs"] == ["int", "30"], "30.0 in the YAML is the int the script takes"


def test_check_names_an_unknown_key_a_wrong_type_a_bad_choice_and_a_missing_value(work, offline_env):
    config = work / "config.yaml"
    text = write_yaml(work, CLI_SCRIPT, offline_env)
    config.write_text(text.replace("  lr: 0.1\n", "  lrr: 0.1\n").replace("epochs: 20\n", "epochs: fast\n")
                      .replace("model: small\n", "model: huge\n").replace("seed: null\n", "seed: many\n"))
    done = run_script([TO_YAML, "--script", CLI_SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: optim.lrr: the script's jsonargparse parser has no such key; did you mean 'optim.lr'?",
        "config.yaml: epochs: 'fast' is not of type int, which the script gives epochs; give a value of that type",
        "config.yaml: model: 'huge' is no choice of model; choose one of small, large",
        "config.yaml: seed: 'many' is not of type int or null, which the script gives seed; give a value of that "
        "type"]
    text = write_yaml(work, CONFIG_SCRIPT, offline_env)
    config.write_text(text.replace("scheduler: cosine\n", "scheduler: linear\n").replace("config: null\n",
                                                                                          "config: missing.yaml\n"))
    done = run_script([TO_YAML, "--script", CONFIG_SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: scheduler: 'linear' is no choice of scheduler; choose one of cosine, step",
        "config.yaml: config: jsonargparse cannot read 'missing.yaml' (Parser key \"config\": File does not exist: "
        f"'{work / 'missing.yaml'}'); give a YAML file's path",
        "config.yaml: data: the script requires a value and none is given; set data in the YAML or as data=VALUE"]


def test_a_config_file_is_read_first_and_the_yamls_edits_win_as_on_the_command_line(work, offline_env):
    config = work / "config.yaml"
    text = write_yaml(work, CONFIG_SCRIPT, offline_env)
    config.write_text(text.replace("data: null\n", "data: /data\n").replace("  lr: 0.1\n", "  lr: 0.5\n"))
    assert print_argv(work, CONFIG_SCRIPT, offline_env) == ["--data", "/data", "--optim.lr", "0.5"]
    got = under_hat(work, CONFIG_SCRIPT, [], offline_env)
    assert got == bare(work, CONFIG_SCRIPT, ["--data", "/data", "--optim.lr", "0.5"], offline_env)
    native = ["--config", "jsonargparse_conf/fast.yaml", "--data", "/data", "--optim.lr", "0.5"]
    got = under_hat(work, CONFIG_SCRIPT, ["config=jsonargparse_conf/fast.yaml"], offline_env)
    assert got == bare(work, CONFIG_SCRIPT, native, offline_env)
    assert (got["epochs"], got["optim.lr"]) == (["int", "3"], ["float", "0.5"]), "the file's epochs, the YAML's lr"


def test_values_edited_in_a_clone_of_a_local_run_reach_the_agents_run(tmp_path, work, clearml_server, real_agent):
    """Under the agent ClearML's jsonargparse binding would hand the script the task's (missing) `Args` section
    instead of the command line; the hat takes it off."""
    write_yaml(work, CLI_SCRIPT, clearml_server.env)
    pushed_checkout(work, tmp_path)
    record = tmp_path / "run.json"
    done = run_script([str(work / "hat.py"), "--script", CLI_SCRIPT, "optim.lr=0.5"],
                      {**clearml_server.env, "RECORD": str(record)}, cwd=work)
    assert done.returncode == 0, done.stderr
    assert recorded(record) == bare(work, CLI_SCRIPT, ["--optim.lr", "0.5"], clearml_server.env)
    (first,) = clearml_server.standin.tasks()
    assert "Args" not in first["hyperparams"], "ClearML's binding records nothing beside train_args"
    shown = {name: p["value"] for name, p in first["hyperparams"]["train_args"].items()}
    assert (shown["optim.lr"], shown["optim.momentum"], shown["model"]) == ("0.5", "0.9", "small")

    edit = run_script(["-c", CLONE_AND_EDIT.replace(
        '{"train_args/config.optim.lr": 0.5}', '{"train_args/optim.lr": 0.7, "train_args/model": "large"}'),
        first["id"]], clearml_server.env)
    assert edit.returncode == 0, edit.stderr
    clone_id = edit.stdout.strip().splitlines()[-1]
    real_agent.env["RECORD"] = str(record)
    with real_agent.daemon("compute") as daemon:
        clone = daemon.wait_for(clone_id)
    assert clone["status"] == "completed", daemon.log()
    got = recorded(record)
    assert got == bare(work, CLI_SCRIPT, ["--optim.lr", "0.7", "--model", "large"], clearml_server.env)
    assert got["optim"] == ["dict", "{'lr': 0.7, 'momentum': 0.9, 'betas': [0.9, 0.99]}"]


def test_two_torchrun_ranks_attached_to_the_task_parse_the_hats_command_line(work, clearml_server):
    pytest.importorskip("torch")
    write_yaml(work, CLI_SCRIPT, clearml_server.env)
    record = work / "ranks.json"  # both ranks write the same record: each must have parsed the same values
    done = run_script([HAT, "--script", CLI_SCRIPT, "--nproc_per_node", "2", "optim.lr=0.5", "model=large"],
                      {**clearml_server.env, "RECORD": str(record)}, cwd=work, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert recorded(record) == bare(work, CLI_SCRIPT, ["--optim.lr", "0.5", "--model", "large"], clearml_server.env)
    (task,) = clearml_server.standin.tasks()
    assert "Args" not in task["hyperparams"], "ClearML's binding records nothing beside train_args"


SWEEP = """\
objective: val_acc
goal: max
strategy: grid
parameters:
  optim.lr: [0.2, 0.5]
"""


def test_a_local_grid_sweep_over_a_nested_key_runs_each_value(tmp_path, work, clearml_server):
    write_yaml(work, CLI_SCRIPT, clearml_server.env)
    pushed_checkout(work, tmp_path)
    (work / "sweep.yaml").write_text(SWEEP)
    result = run_script([str(work / "hat.py"), "--script", CLI_SCRIPT, "--sweep", "sweep.yaml", "--local",
                         "--best_yaml", str(tmp_path / "best.yaml")], clearml_server.env, cwd=work, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = Path(result.stdout.split("consoles are in ")[1].split("/<task id>.log")[0])
    printed = sorted(line[line.index("run: "):] for log in logs.glob("*.log") for line in log.read_text().splitlines()
                     if "run: lr " in line)
    assert printed == ["run: lr 0.2 for 20 epochs, model small", "run: lr 0.5 for 20 epochs, model small"]
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert best["optim"]["lr"] == 0.5 and best["optim"]["momentum"] == 0.9 and "optim.lr" not in best
