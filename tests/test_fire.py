"""python-fire scripts under the hat: what tests/exact/fire_train.py receives under the hat (main's keyword
arguments, **kwargs included) is what a bare run with fire's own command line gives: at the defaults, with
overrides (a string that reads as a number, a tuple, a boolean), with YAML edits. The YAML shows main's keyword
defaults with its docstring's help and Literal choices; --check and --print_argv speak main's parameters."""
from __future__ import annotations

import pytest
import yaml

from tests.conftest import run_script
from tests.test_exact import HAT, TO_YAML, bare, print_argv, under_hat, write_yaml

pytest.importorskip("fire", reason="fire is the python-fire fixture's own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

SCRIPT = "fire_train.py"


def test_the_yaml_shows_mains_keyword_defaults_with_docstring_help_and_literal_choices(work, offline_env):
    text = write_yaml(work, SCRIPT, offline_env)
    assert yaml.safe_load(text) == {
        "model_name": "meta-llama/Llama-3.2-1B", "lr": 0.0001, "num_epochs": 3, "batch_size_training": 4,
        "use_peft": False, "peft_method": "lora", "run_name": "1e3", "lr_steps": [100, 200], "seed": None}
    assert text.startswith("# Training values for fire_train.py, read from its fire.Fire function by clearml-hat.")
    assert "# the peak learning rate\nlr: 0.0001\n" in text
    assert "# which adapters\n# choices: lora, llama_adapter\npeft_method: lora\n" in text
    done = run_script([TO_YAML, "--script", SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr


def test_defaults_resolve_as_a_bare_run(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    assert print_argv(work, SCRIPT, offline_env) == []
    got = under_hat(work, SCRIPT, [], offline_env)
    assert got == bare(work, SCRIPT, [], offline_env)
    assert got["lr_steps"] == ["tuple", "(100, 200)"] and got["run_name"] == ["str", "'1e3'"]


def test_overrides_yaml_edits_and_a_key_for_kwargs_give_what_fires_own_command_line_gives(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("num_epochs: 3\n", "num_epochs: 5\n")
                      + "gradient_accumulation_steps: 4\n")
    assert print_argv(work, SCRIPT, offline_env) == ["--num_epochs=5", "--gradient_accumulation_steps=4"]
    done = run_script([TO_YAML, "--script", SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gradient_accumulation_steps: not a parameter of main(); passed to its **kwargs unchecked" in done.stdout
    # One run for both (each run costs seconds): the YAML's edits, and overrides of other keys on top.
    overrides = ["lr=0.5", "run_name=2e3", "lr_steps=[10, 20]", "use_peft=true", "model_name=True", "seed=7"]
    argv = ["--model_name='True'", "--lr=0.5", "--num_epochs=5", "--use_peft=True", "--run_name='2e3'",
            "--lr_steps=[10, 20]", "--seed=7", "--gradient_accumulation_steps=4"]
    assert print_argv(work, SCRIPT, offline_env, *overrides) == argv
    got = under_hat(work, SCRIPT, overrides, offline_env)
    assert got == bare(work, SCRIPT, argv, offline_env)
    assert (got["run_name"], got["model_name"]) == (["str", "'2e3'"], ["str", "'True'"]), "strings stay strings"
    assert (got["lr"], got["lr_steps"], got["seed"]) == (["float", "0.5"], ["list", "[10, 20]"], ["int", "7"])
    assert (got["num_epochs"], got["gradient_accumulation_steps"]) == (["int", "5"], ["int", "4"])


def test_check_names_an_unknown_key_a_wrong_type_a_bad_choice_and_a_missing_value(work, offline_env):
    (work / "strict_train.py").write_text(
        "import fire\nfrom typing import Literal\n\n"
        "def main(data_dir, lr=0.1, optimizer: Literal['sgd', 'adam'] = 'sgd'):\n    print(data_dir, lr)\n\n"
        "if __name__ == '__main__':\n    fire.Fire(main)\n")
    write_yaml(work, "strict_train.py", offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("lr: 0.1", "lrr: 0.1").replace("optimizer: sgd", "optimizer: rmsprop"))
    done = run_script([TO_YAML, "--script", "strict_train.py", "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: data_dir: main() has no default for it; give a value",
        "config.yaml: lrr: main() has no such parameter; did you mean 'lr'?",
        "config.yaml: optimizer: 'rmsprop' is no choice of main()'s optimizer; choose one of sgd, adam"]
    write_yaml(work, SCRIPT, offline_env)
    failed = run_script([HAT, "--script", SCRIPT, "--print_argv", "num_epochs=many"], offline_env, cwd=work)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "hat.py: error: num_epochs: 'many' is a string where main()'s default is a number (3); give a number"]


def test_fire_over_a_class_is_refused_in_one_line(work, offline_env):
    (work / "class_train.py").write_text(
        "import fire\n\nclass Trainer:\n    def fit(self, lr=0.1):\n        print(lr)\n\n"
        "if __name__ == '__main__':\n    fire.Fire(Trainer)\n")
    done = run_script([TO_YAML, "--script", "class_train.py"], offline_env, cwd=work)
    assert done.returncode == 2
    assert done.stderr == ("argparse_to_yaml.py: error: class_train.py hands fire.Fire the class Trainer, not a "
                           "function; the hat supports fire.Fire(main) over one function (give the script a main(...) "
                           "with keyword defaults and Fire that)\n")


def test_a_script_that_imports_fire_but_parses_with_argparse_is_read_as_argparse(work, offline_env):
    (work / "argparse_train.py").write_text(
        "import argparse\nimport fire  # for a helper only\n"
        "parser = argparse.ArgumentParser()\nparser.add_argument('--lr', type=float, default=0.1)\n"
        "args = parser.parse_args()\nraise SystemExit('the training must not run during capture')\n")
    assert yaml.safe_load(write_yaml(work, "argparse_train.py", offline_env)) == {"lr": 0.1}
