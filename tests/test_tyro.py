"""tyro scripts under the hat: what tests/exact/tyro_train.py (cleanrl's shape), tyro_nested_train.py (torchtitan's
shape: nested dataclasses, a default instance) and tyro_function_train.py (tyro.cli over a function with a required
parameter) receive under the hat is what a bare run with tyro's own flags gives: at the defaults, with overrides
(nested keys dotted), with YAML edits. The YAML shows the fields nested with their help and choices; --check and
--print_argv speak the fields' names."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_script
from tests.test_exact import HAT, TO_YAML, bare, print_argv, pushed_checkout, under_hat, write_yaml

pytest.importorskip("tyro", reason="tyro is the tyro fixtures' own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

CLEANRL = "tyro_train.py"
NESTED = "tyro_nested_train.py"
FUNCTION = "tyro_function_train.py"


def value(got: dict, key: str) -> object:
    """A recorded value back as the Python value the script had (a Path or an Enum as its repr)."""
    kind, text = got[key]
    return text if kind in ("PosixPath", "Schedule") else ast.literal_eval(text)


def test_the_yaml_shows_the_fields_nested_with_their_help_and_choices(work, offline_env):
    text = write_yaml(work, NESTED, offline_env)
    shown = yaml.safe_load(text)
    assert shown["optimizer"] == {"name": "AdamW", "lr": 0.0008, "betas": [0.9, 0.95]}
    assert shown["training"] == {"steps": 20, "batch_size": 8, "compile": False, "schedule": "COSINE",
                                 "max_norm": 1.0}, "the default instance handed to tyro.cli wins"
    assert (shown["description"], shown["tags"]) == ("llama debug", ["llama"])
    assert "  # optimizer to use\n  # choices: AdamW, Adam, SGD\n  name: AdamW\n" in text
    assert "  # choices: COSINE, LINEAR\n  schedule: COSINE\n" in text
    assert "# folder to dump job outputs\ndump_folder: ./outputs\n" in text
    done = run_script([TO_YAML, "--script", NESTED, "--check", "config.yaml"], offline_env, cwd=work)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr


@pytest.mark.parametrize("script, key, expected", [
    (CLEANRL, "exp_name", ["str", "'tyro_train'"]),  # computed from the script's own file name
    (NESTED, "training.steps", ["int", "20"]),  # the default instance's, not the class's 10000
])
def test_defaults_resolve_as_a_bare_run(work, offline_env, script, key, expected):
    write_yaml(work, script, offline_env)
    assert print_argv(work, script, offline_env) == []
    got = under_hat(work, script, [], offline_env)
    assert got == bare(work, script, [], offline_env)
    assert got[key] == expected


def test_overrides_give_what_tyros_flags_give(work, offline_env):
    write_yaml(work, CLEANRL, offline_env)
    overrides = ["learning_rate=1", "anneal_lr=false", "track=true", "hidden_sizes=[128,32]", "target_kl=0.02",
                 "optimizer=sgd", "exp_name=no", "seed=-3", "capture_dir=-v"]
    argv = ["--exp-name", "no", "--seed=-3", "--track", "--learning-rate", "1.0", "--no-anneal-lr", "--optimizer",
            "sgd", "--hidden-sizes", "128", "32", "--target-kl", "0.02", "--capture-dir=-v"]
    assert print_argv(work, CLEANRL, offline_env, *overrides) == argv
    got = under_hat(work, CLEANRL, overrides, offline_env)
    assert got == bare(work, CLEANRL, argv, offline_env)
    assert (got["learning_rate"], got["hidden_sizes"], got["exp_name"]) == (
        ["float", "1.0"], ["tuple", "(128, 32)"], ["str", "'no'"]), "typed by the fields: a float, a tuple, a text"


def test_nested_overrides_are_dotted_as_tyros_flags(work, offline_env):
    write_yaml(work, NESTED, offline_env)
    overrides = ["optimizer.lr=0.5", "training.compile=true", "training.schedule=LINEAR", "tags=[]",
                 "training.batch_size=16"]
    argv = ["--tags", "--optimizer.lr", "0.5", "--training.batch-size", "16", "--training.compile",
            "--training.schedule", "LINEAR"]
    assert print_argv(work, NESTED, offline_env, *overrides) == argv
    got = under_hat(work, NESTED, overrides, offline_env)
    assert got == bare(work, NESTED, argv, offline_env)
    assert (value(got, "optimizer.lr"), value(got, "training.compile"), value(got, "tags")) == (0.5, True, [])
    assert value(got, "training.schedule") == "<Schedule.LINEAR: 'linear'>"
    # Back to the class default of a value the default instance changed: tyro needs it said.
    assert print_argv(work, NESTED, offline_env, "training.steps=10000") == ["--training.steps", "10000"]


def test_yaml_edits_give_what_tyros_flags_give(work, offline_env):
    write_yaml(work, NESTED, offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("  lr: 0.0008\n", "  lr: 0.3\n")
                      .replace("  compile: false\n", "  compile: true\n").replace("name: AdamW", "name: SGD"))
    argv = ["--optimizer.name", "SGD", "--optimizer.lr", "0.3", "--training.compile"]
    assert print_argv(work, NESTED, offline_env) == argv
    got = under_hat(work, NESTED, [], offline_env)
    assert got == bare(work, NESTED, argv, offline_env)
    assert (value(got, "optimizer.name"), value(got, "optimizer.lr")) == ("SGD", 0.3)


def test_a_function_with_a_required_parameter_gets_what_tyro_gives_it(work, offline_env):
    text = write_yaml(work, FUNCTION, offline_env)
    assert "# the training data\n# required: fill in\ndata: null\n" in text, "help from the function's docstring"
    assert yaml.safe_load(text)["optim"] == {"lr": 0.1, "momentum": 0.9}
    overrides = ["data=train.csv", "optim.lr=0.5", "verbose=true"]
    argv = ["--data", "train.csv", "--optim.lr", "0.5", "--verbose"]
    assert print_argv(work, FUNCTION, offline_env, *overrides) == argv
    got = under_hat(work, FUNCTION, overrides, offline_env)
    assert got == bare(work, FUNCTION, argv, offline_env)
    assert (got["data"], value(got, "optim.lr")) == (["PosixPath", "PosixPath('train.csv')"], 0.5)


def test_check_names_an_unknown_key_a_wrong_type_a_bad_choice_and_a_missing_value(work, offline_env):
    write_yaml(work, CLEANRL, offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("learning_rate:", "learning_rat:").replace("seed: 1\n", "seed: many\n")
                      .replace("optimizer: adam", "optimizer: rmsprop").replace("[64, 64]", "[64, 64, 64]")
                      .replace("track: false", "track: maybe"))
    done = run_script([TO_YAML, "--script", CLEANRL, "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: seed: tyro cannot read 'many' for --seed INT; give a value of that form",
        "config.yaml: track: 'maybe' is no boolean; give true or false (--track/--no-track)",
        "config.yaml: learning_rat: the tyro config has no such key; did you mean 'learning_rate'?",
        "config.yaml: optimizer: 'rmsprop' is no choice of --optimizer; choose one of adam, sgd",
        "config.yaml: hidden_sizes: tyro cannot read [64, 64, 64] for --hidden-sizes INT INT; give a value of that "
        "form"]
    write_yaml(work, FUNCTION, offline_env)
    done = run_script([TO_YAML, "--script", FUNCTION, "--check", "config.yaml"], offline_env, cwd=work)
    assert (done.returncode, done.stdout.splitlines()) == (1, [
        "config.yaml: data: the script has no default for it (tyro requires --data); give it a value"])
    failed = run_script([HAT, "--script", FUNCTION, "--offline"], offline_env, cwd=work)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "hat.py: error: data: the script has no default for it (tyro requires --data); give it a value"]


def test_a_missing_package_before_tyro_cli_is_named_in_one_line(tmp_path, offline_env):
    (tmp_path / "train.py").write_text("import tyro\nimport hat_test_missing_envs\n\nif __name__ == '__main__':\n"
                                       "    tyro.cli(dict)\n")
    done = run_script([TO_YAML, "--script", "train.py"], offline_env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("argparse_to_yaml.py: error: train.py imports 'hat_test_missing_envs', which is not "
                           "installed here; install it (pip install hat_test_missing_envs) so `python train.py "
                           "--help` works\n")


SWEEP = """\
objective: loss
goal: min
strategy: grid
parameters:
  optimizer.lr: [0.5, 0.25]
"""


def test_a_local_grid_sweep_over_a_nested_field_runs_each_value(tmp_path, work, clearml_server):
    write_yaml(work, NESTED, clearml_server.env)
    pushed_checkout(work, tmp_path)
    (work / "sweep.yaml").write_text(SWEEP)
    result = run_script([str(work / "hat.py"), "--script", NESTED, "--sweep", "sweep.yaml", "--local",
                         "--best_yaml", str(tmp_path / "best.yaml")], clearml_server.env, cwd=work, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = Path(result.stdout.split("consoles are in ")[1].split("/<task id>.log")[0])
    printed = sorted(line.split("loss: ")[1] for log in logs.glob("*.log")
                     for line in log.read_text().splitlines() if line.startswith("loss: "))
    assert printed == ["2.0000", "4.0000"], "lr 0.25 and 0.5 times batch size 8"
    best = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert best["optimizer"] == {"name": "AdamW", "lr": 0.25, "betas": [0.9, 0.95]}, "the winner in place, nested"
    assert "optimizer.lr" not in best and best["training"]["steps"] == 20


SUBCOMMANDS = """\
import dataclasses
from typing import Union

import tyro


@dataclasses.dataclass
class Adam:
    lr: float = 0.001


@dataclasses.dataclass
class Sgd:
    lr: float = 0.1


@dataclasses.dataclass
class Config:
    optimizer: Union[Adam, Sgd] = dataclasses.field(default_factory=Adam)


if __name__ == "__main__":
    tyro.cli(Config)
"""


def test_subcommands_are_refused_in_one_line_naming_the_field(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(SUBCOMMANDS)
    done = run_script([TO_YAML, "--script", "train.py"], offline_env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("argparse_to_yaml.py: error: tyro.cli(Config): optimizer has no single option of its own "
                           "on tyro's command line (a subcommand, dict, positional or renamed field), which the hat "
                           "does not support; give it a plain type (int, float, str, bool, Literal, Enum, Path, a "
                           "tuple or list)\n")


def test_capture_forgets_the_repos_own_modules_but_not_a_virtualenv_inside_the_repo(tmp_path, monkeypatch):
    from clearml_hat.config.tyro_capture import capture_cli

    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    (site / "hat_test_heavy").mkdir(parents=True)
    (site / "hat_test_heavy" / "__init__.py").write_text("")  # stands for torch: importing it twice breaks it
    (tmp_path / ".git").mkdir()
    (tmp_path / "hat_test_helpers.py").write_text("")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.py").write_text(
        "import dataclasses\n\nimport hat_test_heavy\nimport hat_test_helpers\nimport tyro\n\n\n"
        "@dataclasses.dataclass\nclass Args:\n    lr: float = 0.1\n\n\nif __name__ == '__main__':\n"
        "    tyro.cli(Args)\n")
    monkeypatch.syspath_prepend(str(site))
    call = capture_cli(tmp_path / "scripts" / "train.py")
    assert call.target.__name__ == "Args"
    assert "hat_test_heavy" in sys.modules, "a package of the repo's virtualenv stays imported"
    assert "hat_test_helpers" not in sys.modules, "the repo root's module (found there, as the run finds it) goes"
    del sys.modules["hat_test_heavy"]
