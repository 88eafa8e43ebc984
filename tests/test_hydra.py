"""Hydra scripts under the hat: what tests/exact/hydra_train.py resolves under the hat (its config, resolved by
OmegaConf, and the model option Hydra chose) is what a bare run with the same Hydra overrides resolves: at the
defaults, with overrides (a nested key, a config-group choice), with YAML edits. The YAML shows the composed
config nested, with the group choice and the interpolations; --check and --print_argv speak Hydra's keys."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import clean_env, run_script
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

pytest.importorskip("hydra", reason="hydra-core is the Hydra fixture's own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

SCRIPT = "hydra_train.py"


def resolved(got: dict, key: str) -> object:
    """A recorded top-level value back as the Python value the script had."""
    return ast.literal_eval(got[key][1])


def test_the_yaml_shows_the_composed_config_nested_with_its_group_choice_and_interpolations(work, offline_env):
    text = write_yaml(work, SCRIPT, offline_env)
    shown = yaml.safe_load(text)
    assert shown["model"] == {"_choice_": "small", "name": "small", "width": 64, "depth": 2, "dropout": 0.1}
    assert shown["optim"] == {"lr": 0.1, "momentum": 0.9, "betas": [0.9, 0.99]}
    assert shown["scheduler"] == {"name": "cosine", "warmup_steps": 20} and shown["run_name"] == "small-lr0.1"
    assert "  # choices: large, small\n  _choice_: small\n" in text
    assert "# choices: csv, remote, tensorboard\nlogger: null\n" in text, "a group with no option chosen is a key too"
    assert "local" not in shown, "an optional group with no options here is no key"
    assert "  # ${epochs}: Hydra's interpolation, kept while this value is unchanged\n  warmup_steps: 20\n" in text
    done = run_script([TO_YAML, "--script", SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr


def test_defaults_resolve_as_a_bare_run(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    assert print_argv(work, SCRIPT, offline_env) == []
    got = under_hat(work, SCRIPT, [], offline_env)
    assert got == bare(work, SCRIPT, [], offline_env)
    assert got["model_choice"] == ["str", "'small'"] and resolved(got, "scheduler")["warmup_steps"] == 20


def test_a_nested_key_and_a_group_choice_give_what_hydras_overrides_give(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    overrides = ["optim.lr=0.5", "model=large"]
    assert print_argv(work, SCRIPT, offline_env, *overrides) == ["model=large", "optim.lr=0.5"]
    got = under_hat(work, SCRIPT, overrides, offline_env)
    assert got == bare(work, SCRIPT, ["model=large", "optim.lr=0.5"], offline_env)
    assert resolved(got, "model") == {"name": "large", "width": 256, "depth": 8, "dropout": 0.1, "heads": 8}
    assert resolved(got, "run_name") == "large-lr0.5", "the interpolation follows the new values"
    got = under_hat(work, SCRIPT, ["logger=csv", "logger.prefix=exp"], offline_env)
    assert got == bare(work, SCRIPT, ["logger=csv", "logger.prefix=exp"], offline_env)
    assert resolved(got, "logger") == {"save_dir": "logs", "prefix": "exp"}
    # A value of the new option, changed in the same command.
    got = under_hat(work, SCRIPT, ["model=large", "model.heads=4"], offline_env)
    assert got == bare(work, SCRIPT, ["model=large", "model.heads=4"], offline_env)
    assert resolved(got, "model")["heads"] == 4


def test_yaml_edits_give_what_hydras_overrides_give(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    config = work / "config.yaml"
    text = config.read_text()
    config.write_text(text.replace("  lr: 0.1\n", "  lr: 0.3\n").replace("epochs: 20\n", "epochs: 30\n"))
    assert print_argv(work, SCRIPT, offline_env) == ["optim.lr=0.3", "epochs=30"]
    got = under_hat(work, SCRIPT, [], offline_env)
    assert got == bare(work, SCRIPT, ["optim.lr=0.3", "epochs=30"], offline_env)
    assert resolved(got, "scheduler")["warmup_steps"] == 30, "an unchanged interpolation stays one"
    config.write_text(text.replace("_choice_: small", "_choice_: large").replace("  width: 64\n", "  width: 128\n"))
    got = under_hat(work, SCRIPT, [], offline_env)
    assert got == bare(work, SCRIPT, ["model=large", "model.width=128"], offline_env)
    assert resolved(got, "model") == {"name": "large", "width": 128, "depth": 8, "dropout": 0.1, "heads": 8}


def test_check_names_an_unknown_key_a_wrong_type_and_a_bad_group_choice(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("  lr: 0.1\n", "  lrr: 0.1\n").replace("seed: 0\n", "seed: many\n"))
    done = run_script([TO_YAML, "--script", SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: optim.lrr: the Hydra config has no such key; did you mean 'optim.lr'?",
        "config.yaml: seed: 'many' is a string where the Hydra config has a number (0); give a number"]
    write_yaml(work, SCRIPT, offline_env)
    for override, line in [
        ("model=huge", "model: 'huge' is no option of the config group model; choose one of large, small"),
        ("model.heads=4", "model.heads: the Hydra config has no such key; it comes with model=large; choose that "
                          "or remove model.heads"),
        ("logger=remote", "logger=remote: Hydra cannot compose the config (In 'logger/remote': Could not find "
                          "'hydra/sweeper/optuna'); install what the option needs, or choose another"),
    ]:
        failed = run_script([HAT, "--script", SCRIPT, "--print_argv", override], offline_env, cwd=work)
        assert failed.returncode == 2
        assert failed.stderr.strip().splitlines() == [f"hat.py: error: {line}"]


def test_values_edited_in_a_clone_of_a_local_run_reach_the_agents_run(tmp_path, work, clearml_server, real_agent):
    write_yaml(work, SCRIPT, clearml_server.env)
    pushed_checkout(work, tmp_path)
    record = tmp_path / "run.json"
    done = run_script([str(work / "hat.py"), "--script", SCRIPT, "optim.lr=0.5"],
                      {**clearml_server.env, "RECORD": str(record)}, cwd=work)
    assert done.returncode == 0, done.stderr
    assert recorded(record) == bare(work, SCRIPT, ["optim.lr=0.5"], clearml_server.env)
    (first,) = clearml_server.standin.tasks()
    shown = {name: p["value"] for name, p in first["hyperparams"]["train_args"].items()}
    assert (shown["model"], shown["model.width"], shown["optim.lr"]) == ("small", "64", "0.5")

    # The SDK's Hydra binding would have kept optim.lr=0.5 from the local run and put it after the hat's 0.7.
    edit = run_script(["-c", CLONE_AND_EDIT.replace(
        '{"train_args/config.optim.lr": 0.5}',
        '{"train_args/optim.lr": 0.7, "train_args/model": "large", "train_args/model.width": 128}'), first["id"]],
        clearml_server.env)
    assert edit.returncode == 0, edit.stderr
    clone_id = edit.stdout.strip().splitlines()[-1]
    real_agent.env["RECORD"] = str(record)
    with real_agent.daemon("compute") as daemon:
        clone = daemon.wait_for(clone_id)
    assert clone["status"] == "completed", daemon.log()
    got = recorded(record)
    assert got == bare(work, SCRIPT, ["model=large", "model.width=128", "optim.lr=0.7"], clearml_server.env)
    assert resolved(got, "model") == {"name": "large", "width": 128, "depth": 8, "dropout": 0.1, "heads": 8}


NESTED_SWEEP = """\
objective: val_acc
goal: max
strategy: grid
parameters:
  optim.lr: [0.2, 0.5]
  model: [small, large]
"""


def test_a_local_grid_sweep_over_a_nested_key_and_a_group_runs_each_combination(tmp_path, work, clearml_server):
    write_yaml(work, SCRIPT, clearml_server.env)
    pushed_checkout(work, tmp_path)
    (work / "sweep.yaml").write_text(NESTED_SWEEP)
    result = run_script([str(work / "hat.py"), "--script", SCRIPT, "--sweep", "sweep.yaml", "--local",
                         "--best_yaml", str(tmp_path / "best.yaml")], clearml_server.env, cwd=work, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = Path(result.stdout.split("consoles are in ")[1].split("/<task id>.log")[0])
    printed = sorted(line for log in logs.glob("*.log") for line in log.read_text().splitlines()
                     if " for 20 epochs, width " in line)
    assert [line[line.index("small-") if "small-" in line else line.index("large-"):] for line in printed] == [
        "large-lr0.2: lr 0.2 for 20 epochs, width 256", "large-lr0.5: lr 0.5 for 20 epochs, width 256",
        "small-lr0.2: lr 0.2 for 20 epochs, width 64", "small-lr0.5: lr 0.5 for 20 epochs, width 64"]
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert (best["optim"]["lr"], best["model"]) == (0.5, "large"), "the winner in place; large brings its values"
    assert "optim.lr" not in best and best["optim"]["momentum"] == 0.9


def test_torchrun_ranks_each_get_the_hydra_overrides(work, offline_env):
    pytest.importorskip("torch")
    write_yaml(work, SCRIPT, offline_env)
    done = run_script([HAT, "--script", SCRIPT, "--nproc_per_node", "2", "optim.lr=0.5", "model=large"],
                      offline_env, cwd=work, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for rank in (0, 1):
        assert f"[rank{rank}]:large-lr0.5: lr 0.5 for 20 epochs, width 256" in done.stdout.splitlines(), done.stdout


def test_init_writes_the_nested_config_and_run_again_keeps_the_edited_values(work):
    from tests.test_init import init

    repo = work.parent / "repo"
    work.rename(repo)
    assert init(repo, "--script", SCRIPT).returncode == 0
    config = repo / "config.yaml"
    assert yaml.safe_load(config.read_text())["optim"] == {"lr": 0.1, "momentum": 0.9, "betas": [0.9, 0.99]}
    config.write_text(config.read_text().replace("  lr: 0.1\n", "  lr: 0.3\n").replace("_choice_: small",
                                                                                        "_choice_: large"))
    again = init(repo, "--script", SCRIPT)
    assert again.returncode == 0, again.stderr
    shown = yaml.safe_load(config.read_text())
    assert (shown["optim"]["lr"], shown["model"]["_choice_"], shown["epochs"]) == (0.3, "large", 20)
    env = {**clean_env(repo.parent / "home"), "PYTHONPATH": ""}
    argv = run_script([str(repo / "hat.py"), "--print_argv"], env, cwd=repo)
    assert json.loads(argv.stdout) == ["model=large", "optim.lr=0.3"], argv.stdout + argv.stderr
