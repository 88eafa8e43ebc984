"""Hugging Face scripts: HfArgumentParser (and subclasses such as TRL's TrlParser) over dataclasses and
transformers' TrainingArguments.

What HfArgumentParser makes of a field, and so what the hat must say exactly:
- an enum field (save_strategy: no/steps/epoch/best) gets a lambda type and its values as choices: the YAML's
  `save_strategy: no` is the text 'no', not YAML 1.1's False;
- a bool field gets type=string_to_bool, nargs='?', const=True, and for a True default a `--no_x` store_false twin.

The first tests build such parsers with argparse alone (they run without transformers); the end-to-end tests run
tests/scripts/hf_trainer.py, which records the configuration it resolved: a bare run with the native command line
and a run with the hat's argv must record the same.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import textwrap
from enum import Enum
from pathlib import Path
from typing import Dict, List

import pytest

from clearml_hat.config.argparser.argv import build_argv
from clearml_hat.config.argparser.capture import capture_parser
from clearml_hat.config.argparser.check import check_values
from clearml_hat.config.argparser.parser_values import text_keys
from clearml_hat.values.yaml_config import load_values
from tests.conftest import REPO, clean_env
from tests.missing_modules import missing_env

FIXTURE = REPO / "tests" / "scripts" / "hf_trainer.py"
needs_transformers = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                        reason="transformers is not installed")


def make_choice_type_function(choices):  # transformers.hf_argparser's
    str_to_choice = {str(choice): choice for choice in choices}
    return lambda arg: str_to_choice.get(arg, arg)


def string_to_bool(v):  # transformers.hf_argparser's
    if isinstance(v, bool):
        return v
    if v.lower() in ("yes", "true", "t", "y", "1"):
        return True
    elif v.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"Truthy value expected: got {v}")


class SchedulerType(str, Enum):  # transformers.SchedulerType, a str enum
    LINEAR = "linear"
    COSINE = "cosine"


def hf_shaped_parser() -> argparse.ArgumentParser:
    """The arguments HfArgumentParser adds for save_strategy, bf16 (default False) and remove_unused_columns
    (default True), as transformers 5 adds them; plus run_glue's `type=SchedulerType` with text choices."""
    parser = argparse.ArgumentParser(prog="train.py")
    choices = ["no", "steps", "epoch", "best"]
    parser.add_argument("--save_strategy", "--save-strategy", default="steps", choices=choices,
                        type=make_choice_type_function(choices))
    parser.add_argument("--bf16", type=string_to_bool, default=False, nargs="?", const=True)
    parser.add_argument("--remove_unused_columns", "--remove-unused-columns", type=string_to_bool, default=True,
                        nargs="?", const=True)
    parser.add_argument("--no_remove_unused_columns", "--no-remove-unused-columns", action="store_false",
                        dest="remove_unused_columns")
    parser.add_argument("--lr_scheduler_type", type=SchedulerType, default="linear", choices=["linear", "cosine"])
    return parser


def test_enum_options_take_their_strings_as_written(tmp_path):
    parser = hf_shaped_parser()
    assert {"save_strategy", "lr_scheduler_type"} <= text_keys(parser)
    config = tmp_path / "config.yaml"
    config.write_text("save_strategy: no\nbf16: true\nremove_unused_columns: no\nlr_scheduler_type: cosine\n")
    values = load_values(config, text_keys(parser))
    assert values == {"save_strategy": "no", "bf16": True, "remove_unused_columns": False,
                      "lr_scheduler_type": "cosine"}
    namespace = parser.parse_args(build_argv(parser, values))
    assert (namespace.save_strategy, namespace.bf16, namespace.remove_unused_columns) == ("no", True, False)
    assert namespace.lr_scheduler_type is SchedulerType.COSINE


@pytest.mark.parametrize("values", [{"bf16": False, "remove_unused_columns": True},
                                    {"bf16": True, "remove_unused_columns": False}])
def test_booleans_and_no_twins_are_exact(values):
    parser = hf_shaped_parser()
    namespace = vars(parser.parse_args(build_argv(parser, values)))
    assert {key: namespace[key] for key in values} == values


def test_a_bad_enum_value_is_one_problem_naming_the_choices():
    problems = check_values(hf_shaped_parser(), {"save_strategy": "sometimes"}).problems
    assert problems == ["save_strategy: 'sometimes' is not one of the choices no, steps, epoch, best"]


# End to end with transformers' real HfArgumentParser and TrainingArguments.

# Values that differ from the defaults, as the YAML says them, and as a user types them on a bare command line.
YAML_EDITS = {
    "save_strategy": "no", "eval_strategy": "epoch", "logging_strategy": "no", "remove_unused_columns": "false",
    "use_fast_tokenizer": "false", "bf16": "true", "use_cpu": "true", "lr_scheduler_type": "cosine",
    "learning_rate": "3e-4", "num_train_epochs": "2", "per_device_train_batch_size": "4", "optim": "sgd",
    "output_dir": "out/run1", "padding_side": "left", "lora_target_modules": "[q_proj, k_proj, v_proj]",
    "torch_dtype": "bfloat16", "streaming": "true", "lora_alpha": "16.5",
}
NATIVE_ARGV = [
    "--save_strategy", "no", "--eval_strategy", "epoch", "--logging_strategy", "no", "--remove_unused_columns",
    "false", "--no_use_fast_tokenizer", "--bf16", "--use_cpu", "true", "--lr_scheduler_type", "cosine",
    "--learning_rate", "3e-4", "--num_train_epochs", "2", "--per_device_train_batch_size", "4", "--optim", "sgd",
    "--output_dir", "out/run1", "--padding_side", "left", "--lora_target_modules", "q_proj", "k_proj", "v_proj",
    "--torch_dtype", "bfloat16", "--streaming", "--lora_alpha", "16.5",
]
# Where the record shows them (the section of hf_trainer.py's record, the field).
EDITED = {"save_strategy": "training", "eval_strategy": "training", "logging_strategy": "training",
          "remove_unused_columns": "training", "use_fast_tokenizer": "model", "bf16": "training",
          "use_cpu": "training", "lr_scheduler_type": "training", "learning_rate": "training",
          "num_train_epochs": "training", "per_device_train_batch_size": "training", "optim": "training",
          "output_dir": "training", "padding_side": "data", "lora_target_modules": "model", "torch_dtype": "model",
          "streaming": "data", "lora_alpha": "model"}


@pytest.fixture(params=["torch installed", "torch missing"])
def hf_env(request: pytest.FixtureRequest, tmp_path: Path) -> Dict[str, str]:
    """A user's environment, with torch or without. With torch, TrainingArguments sets up its device through
    accelerate (transformers[torch] brings it); without, transformers alone is enough."""
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    if request.param == "torch installed":
        for needed in ("torch", "accelerate"):
            if importlib.util.find_spec(needed) is None:
                pytest.skip(f"{needed} is not installed")
        return env
    return missing_env(env, "torch", "torchvision")


def tool(args: List[str], env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)


def recorded(argv: List[str], env: Dict[str, str], cwd: Path, name: str) -> dict:
    """What hf_trainer.py resolved from a bare `python hf_trainer.py ARGV`."""
    record = cwd / f"{name}.json"
    done = tool([str(FIXTURE), *argv], {**env, "HAT_RECORD": str(record)}, cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(record.read_text())


def edited_yaml(tmp_path: Path, env: Dict[str, str], edits: Dict[str, str]) -> Path:
    config = tmp_path / "hf.yaml"
    written = tool([str(REPO / "argparse_to_yaml.py"), "--script", str(FIXTURE), "-o", str(config)], env, tmp_path)
    assert written.returncode == 0, written.stderr
    text = config.read_text()
    for key, value in edits.items():
        text, count = re.subn(rf"(?m)^{key}: .*$", f"{key}: {value}", text)
        assert count == 1, key
    config.write_text(text)
    return config


@needs_transformers
def test_a_trl_parser_shaped_subclass_is_read_and_takes_enum_strings(tmp_path):
    """TRL's TrlParser: an HfArgumentParser subclass whose parse_args_and_config() reads an optional --config file
    and then calls parse_args_into_dataclasses()."""
    script = tmp_path / "sft.py"
    script.write_text(textwrap.dedent("""
        import sys
        from dataclasses import dataclass, field
        from transformers import HfArgumentParser, TrainingArguments

        class TrlParser(HfArgumentParser):
            def parse_args_and_config(self, args=None, return_remaining_strings=False):
                args = list(sys.argv[1:] if args is None else args)
                if "--config" in args:
                    raise NotImplementedError("a YAML file of values")
                return self.parse_args_into_dataclasses(args=args, return_remaining_strings=return_remaining_strings)

        @dataclass
        class ScriptArguments:
            dataset_name: str = field(default="trl-lib/Capybara")

        if __name__ == "__main__":
            parser = TrlParser((ScriptArguments, TrainingArguments))
            script_args, training_args = parser.parse_args_and_config()
    """))
    parser = capture_parser(script)
    assert type(parser).__name__ == "TrlParser"
    config = tmp_path / "sft.yaml"
    config.write_text("dataset_name: my/data\nsave_strategy: no\neval_strategy: steps\ngradient_checkpointing: true\n")
    values = load_values(config, text_keys(parser))
    namespace = parser.parse_args(build_argv(parser, values))
    assert (namespace.dataset_name, namespace.save_strategy, namespace.eval_strategy) == ("my/data", "no", "steps")
    assert namespace.gradient_checkpointing is True


@needs_transformers
def test_yaml_holds_every_training_argument_and_checks_ok(tmp_path, hf_env):
    config = edited_yaml(tmp_path, hf_env, YAML_EDITS)
    keys = re.findall(r"(?m)^(\w+):", config.read_text())
    assert len(keys) > 100 and {"save_strategy", "model_name_or_path", "padding_side", "learning_rate"} <= set(keys)
    checked = tool([str(REPO / "argparse_to_yaml.py"), "--script", str(FIXTURE), "--check", str(config)], hf_env,
                   tmp_path)
    assert (checked.returncode, checked.stdout.strip().splitlines()[-1]) == (0, "ok"), checked.stdout

    config.write_text(re.sub(r"(?m)^save_strategy: no$", "save_strategy: sometimes", config.read_text()))
    checked = tool([str(REPO / "argparse_to_yaml.py"), "--script", str(FIXTURE), "--check", str(config)], hf_env,
                   tmp_path)
    assert checked.returncode == 1
    assert checked.stdout.strip().splitlines() == [
        f"{config}: save_strategy: 'sometimes' is not one of the choices no, steps, epoch, best"]


@needs_transformers
def test_hat_argv_resolves_what_the_native_command_line_does(tmp_path, hf_env):
    config = edited_yaml(tmp_path, hf_env, YAML_EDITS)
    printed = tool([str(REPO / "hat.py"), "--script", str(FIXTURE), "--train_yaml", str(config), "--print_argv"],
                   hf_env, tmp_path)
    assert printed.returncode == 0, printed.stderr
    argv = json.loads(printed.stdout.strip().splitlines()[-1])
    under_hat = recorded(argv, hf_env, tmp_path, "hat")
    bare = recorded(NATIVE_ARGV, hf_env, tmp_path, "bare")
    assert under_hat["training"]["save_strategy"] == {"enum": "SaveStrategy", "value": "no"}
    assert (under_hat["training"]["remove_unused_columns"], under_hat["model"]["use_fast_tokenizer"]) == (False, False)
    differ = {key: (bare[section][key], under_hat[section][key]) for key, section in EDITED.items()
              if bare[section][key] != under_hat[section][key]}
    assert not differ, f"bare / under the hat: {differ}"


@needs_transformers
@pytest.mark.clearml
def test_offline_run_under_the_hat_resolves_the_native_configuration(tmp_path, hf_env):
    config = edited_yaml(tmp_path, hf_env, YAML_EDITS)
    record = tmp_path / "offline.json"
    done = tool([str(REPO / "hat.py"), "--script", str(FIXTURE), "--train_yaml", str(config), "--offline",
                 "save_strategy=epoch", "bf16=false"], {**hf_env, "HAT_RECORD": str(record)}, tmp_path)
    assert done.returncode == 0, done.stderr
    under_hat = json.loads(record.read_text())
    native = [*NATIVE_ARGV, "--save_strategy", "epoch", "--bf16", "false"]
    bare = recorded(native, hf_env, tmp_path, "bare")
    assert under_hat["training"]["save_strategy"] == {"enum": "SaveStrategy", "value": "epoch"}
    assert under_hat["training"]["bf16"] is False
    differ = {key: (bare[section][key], under_hat[section][key]) for key, section in EDITED.items()
              if bare[section][key] != under_hat[section][key]}
    assert not differ, f"bare / under the hat: {differ}"
