"""jsonargparse scripts under the hat: what tests/exact/jsonargparse_train.py (CLI over a function with a dataclass
parameter) and tests/exact/jsonargparse_config_train.py (an ArgumentParser with --config) receive under the hat is
what a bare run with jsonargparse's own command line gives them: at the defaults, with overrides (a nested key, a
Literal, a bool, a list), with YAML edits, with a config file. The YAML shows the parser's keys nested with their
help and choices; --check and --print_argv speak jsonargparse's keys."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from clearml_hat.config.systems import capture_config_system
from clearml_hat.errors import HatError
from tests.conftest import run_script
from tests.test_exact import HAT, TO_YAML, bare, print_argv, pushed_checkout, under_hat, write_yaml

pytest.importorskip("jsonargparse", reason="jsonargparse is the fixtures' own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

CLI_SCRIPT = "jsonargparse_train.py"
CONFIG_SCRIPT = "jsonargparse_config_train.py"
SUB_SCRIPT = "jsonargparse_sub_train.py"


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


def test_a_subcommand_is_a_key_and_only_its_own_keys_are_passed_after_it(work, offline_env):
    shown = yaml.safe_load(write_yaml(work, SUB_SCRIPT, offline_env))
    assert (shown["subcommand"], shown["fit"]["optim"], shown["evaluate"]) == (
        None, {"lr": 0.1, "momentum": 0.9}, {"checkpoint": "last.ckpt", "batch_size": 64, "config": None})
    overrides = ["subcommand=fit", "fit.data=/data", "fit.optim.lr=0.5"]
    assert print_argv(work, SUB_SCRIPT, offline_env, *overrides) == ["fit", "/data", "--optim.lr", "0.5"]
    got = under_hat(work, SUB_SCRIPT, overrides, offline_env)
    assert got == bare(work, SUB_SCRIPT, ["fit", "/data", "--optim.lr", "0.5"], offline_env)
    assert got["optim"] == ["dict", "{'lr': 0.5, 'momentum': 0.9}"]
    failed = run_script([HAT, "--script", SUB_SCRIPT, "--print_argv", "subcommand=evaluate", "fit.epochs=3",
                         "evaluate.batch_size=many"], offline_env, cwd=work)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "hat.py: error: fit.epochs: a key of the subcommand fit, which is not the one chosen (evaluate); set "
        "subcommand=fit or leave fit.epochs at its default",
        "hat.py: error: evaluate.batch_size: 'many' is not of type int, which the script gives evaluate.batch_size; "
        "give a value of that type"]
    failed = run_script([HAT, "--script", SUB_SCRIPT, "--print_argv"], offline_env, cwd=work)
    assert failed.stderr.strip() == ("hat.py: error: subcommand: the script requires a subcommand and none is "
                                     "given; set subcommand to one of fit, evaluate")


WRAPPER = """\
from jsonargparse import CLI as _CLI


def CLI(function):  # a project's own wrapper, as litgpt.utils.CLI
    return _CLI(function)
"""

WRAPPED_SCRIPT = """\
from pathlib import Path

from cli_utils import CLI


def setup(out_dir: Path = Path("out/run"), data: dict = {"class_path": "Alpaca"}, steps: int = 10):
    raise SystemExit("the training must not run while the hat reads the parser")


if __name__ == "__main__":
    CLI(setup)
"""


def test_a_wrapper_of_cli_is_captured_and_paths_and_mappings_are_yaml_values(tmp_path):
    (tmp_path / "cli_utils.py").write_text(WRAPPER)
    (tmp_path / "train.py").write_text(WRAPPED_SCRIPT)
    system = capture_config_system(tmp_path / "train.py")
    assert {doc.key: doc.value for doc in system.describe()} == {
        "out_dir": "out/run", "data": {"class_path": "Alpaca"}, "steps": 10, "config": None}
    # The nested YAML splits a mapping into dotted keys; they are folded back into the option's value.
    values = system.typed({"data.class_path": "Other", "data.init_args.size": 3, "steps": 20.0, "out_dir": "o"})
    assert values == {"data": {"class_path": "Other", "init_args": {"size": 3}}, "steps": 20, "out_dir": "o"}
    assert system.command_line(values) == ["--out_dir", "o", "--data", '{"class_path": "Other", "init_args": '
                                           '{"size": 3}}', "--steps", "20"]


LIGHTNING_SCRIPT = """\
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.demos.boring_classes import BoringDataModule, BoringModel

if __name__ == "__main__":
    LightningCLI(BoringModel, BoringDataModule)
"""


def test_a_lightningcli_script_without_lightning_here_names_it_in_one_line(tmp_path):
    if importlib.util.find_spec("lightning") is not None:
        pytest.skip("lightning is installed here: its LightningCLI would parse")
    (tmp_path / "main.py").write_text(LIGHTNING_SCRIPT)
    with pytest.raises(HatError) as raised:
        capture_config_system(tmp_path / "main.py")
    assert str(raised.value).endswith("(missing here, stood in for: lightning); install lightning here")
    assert type(raised.value) is HatError, "no fallback to reading add_argument lines: there are none"


SWEEP = """\
objective: val_acc
goal: max
strategy: grid
parameters:
  optim.lr: [0.2, 0.5]
"""


def test_a_local_grid_sweep_over_a_nested_key_runs_each_value(tmp_path, work, clearml_server):
    """Each trial runs `python hat.py` as under an agent (the task id in its environment), where ClearML's
    jsonargparse binding would hand the script the task's (missing) `Args` section instead of the command line:
    the trials would see lr None. The hat takes the binding off."""
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
