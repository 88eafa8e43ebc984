"""A missing package before the parser: capture goes on where the package is only about training, and where the
parser needs it the error names it in one line with the install command (never "fix that line").

A laptop without torch or transformers: they are hidden even where installed (tests/missing_modules.py).
"""
from __future__ import annotations

import importlib.metadata
import textwrap
from pathlib import Path

import pytest

from clearml_hat.config.argparser.capture import ParserNotReached, capture, capture_parser
from clearml_hat.config.argparser.missing_packages import install_command, names_read, stand_in_distribution
from clearml_hat.errors import HatError
from tests.conftest import REPO, clean_env, run_script
from tests.missing_modules import hidden, missing_env

HF_SCRIPT = """
    from dataclasses import dataclass, field
    from transformers import HfArgumentParser, TrainingArguments

    @dataclass
    class ModelArguments:
        model_name_or_path: str = field(default="gpt2")

    def main():
        parser = HfArgumentParser((ModelArguments, TrainingArguments))
        model_args, training_args = parser.parse_args_into_dataclasses()

    if __name__ == "__main__":
        main()
"""


def write(folder: Path, source: str, name: str = "train.py") -> str:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_version_of_a_missing_submodule_is_read_like_the_modules(tmp_path):
    script = write(tmp_path, """
        import argparse
        import torch
        print(torch.version.__version__, torch.version.cuda)
        parser = argparse.ArgumentParser()
        parser.add_argument('--lr', type=float, default=0.1)
        parser.parse_args()
    """)
    with hidden("torch"):
        assert capture(script).missing_modules == ("torch",)


def test_hf_argument_parser_without_transformers_names_the_package(tmp_path):
    script = write(tmp_path, HF_SCRIPT)
    with hidden("transformers"), pytest.raises(HatError) as raised:
        capture_parser(script)
    assert not isinstance(raised.value, ParserNotReached)  # no fall back to reading add_argument lines
    message = str(raised.value)
    assert message == ("train.py:11 needs transformers, which is missing here, to reach its parser (the line raised "
                       "ValueError: not enough values to unpack (expected 2, got 0)); install it: pip install "
                       "transformers").replace("train.py", script)
    assert "\n" not in message and "fix that line" not in message


def test_a_line_that_fails_on_a_stand_in_in_a_local_module_names_that_line_and_the_pip_name(tmp_path):
    write(tmp_path, """
        import json
        import cv2
        def version():
            return json.dumps(cv2.getBuildInformation())
    """, "helpers.py")
    script = write(tmp_path, """
        import argparse
        import helpers
        BUILD = helpers.version()
        argparse.ArgumentParser().parse_args()
    """)
    with hidden("cv2"), pytest.raises(HatError, match=r"helpers\.py:5 needs cv2, which is missing here, .*"
                                                       r"TypeError: Object of type StandIn is not JSON serializable"
                                                       r".*install it: pip install opencv-python$"):
        capture_parser(script)


def test_a_stand_in_line_behind_a_lazy_modules_own_error_is_found(tmp_path):
    """TRL's and transformers' lazy modules raise their own error from the one of the module they import."""
    write(tmp_path, """
        from transformers import TrainingArguments
        class BaseConfig(TrainingArguments):
            pass
        FIELDS = BaseConfig._VALID_DICT_FIELDS + ["chat_template"]
    """, "config.py")
    script = write(tmp_path, """
        import argparse, importlib
        def lazy(name):
            try:
                return importlib.import_module(name)
            except Exception as error:
                raise RuntimeError(f"Failed to import {name}") from error
        config = lazy("config")
        argparse.ArgumentParser().parse_args()
    """)
    with hidden("transformers"), pytest.raises(HatError, match=r"config\.py:5 needs transformers, .*RuntimeError: "
                                                               r"Failed to import config.*pip install transformers"):
        capture_parser(script)


def test_a_name_an_installed_package_lacks_asks_for_the_version_the_script_was_written_for(tmp_path):
    script = write(tmp_path, """
        import argparse, json
        from json import send_example_telemetry
        json.dumps(send_example_telemetry)
        argparse.ArgumentParser().parse_args()
    """)
    with pytest.raises(HatError, match=r"train\.py:4 needs json\.send_example_telemetry, which the installed json "
                                       r"does not have, .*install the json version the script was written for$"):
        capture_parser(script)


def test_a_failure_without_a_stand_in_on_its_line_is_still_the_scripts(tmp_path):
    script = write(tmp_path, """
        import argparse
        import torch
        config = {}
        lr = config['lr']
        argparse.ArgumentParser().parse_args()
    """)
    with hidden("torch"), pytest.raises(ParserNotReached, match=r"train\.py:5 raised KeyError.*fix that line"):
        capture_parser(script)


def test_a_version_check_of_a_missing_package_passes_like_its_version(tmp_path):
    """run_glue's `require_version("datasets>=2.14.0")`: transformers reads the package metadata, not the module."""
    script = write(tmp_path, """
        import argparse
        import importlib.metadata
        import hat_missing_datasets
        from packaging.version import Version
        assert Version(importlib.metadata.version("hat-missing-datasets")) >= Version("2.14.0")
        parser = argparse.ArgumentParser()
        parser.add_argument('--found', default=importlib.metadata.version("hat_missing_datasets"))
        parser.parse_args()
    """)
    assert capture_parser(script).get_default("found") == "999.0.0"
    with pytest.raises(importlib.metadata.PackageNotFoundError):  # after capture: missing, as it is
        importlib.metadata.version("hat-missing-datasets")


def test_only_named_lookups_of_stood_in_packages_are_answered():
    assert [d.version for d in stand_in_distribution("scikit_learn", ["sklearn.metrics"])] == ["999.0.0"]
    assert [d.metadata["Name"] for d in stand_in_distribution("Torch", ["torch.nn"])] == ["Torch"]
    assert stand_in_distribution("numpy", ["torch"]) == []
    assert stand_in_distribution(None, ["torch"]) == []  # listing every distribution lists no stand-in


def test_install_command_uses_the_package_name():
    assert install_command("sklearn.metrics") == "pip install scikit-learn"
    assert install_command("transformers") == "pip install transformers"


def test_names_read_by_a_statement_spanning_lines(tmp_path):
    path = write(tmp_path, """
        if ready:
            model_args, data_args = \\
                parser.parse_args_into_dataclasses(return_remaining_strings=flag)
        for item in items:
            pass
    """)
    assert names_read(path, 4) == ["parser", "flag"]
    assert names_read(path, 5) == ["items"]  # a header: not the statements inside


@pytest.mark.parametrize("tool", ["argparse_to_yaml.py", "hat.py"])
def test_missing_transformers_is_one_line_from_the_tools(tmp_path, tool):
    script = write(tmp_path, HF_SCRIPT)
    home = tmp_path / "home"
    home.mkdir()
    env = missing_env(clean_env(home), "transformers")
    (tmp_path / "config.yaml").write_text("model_name_or_path: gpt2\n")
    args = ["-o", str(tmp_path / "new.yaml")] if tool == "argparse_to_yaml.py" else \
        ["--train_yaml", str(tmp_path / "config.yaml"), "--print_argv"]
    done = run_script([str(REPO / tool), "--script", script, *args], env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"{tool}: error: {script}:11 needs transformers, which is missing here, to reach its parser (the line raised "
        "ValueError: not enough values to unpack (expected 2, got 0)); install it: pip install transformers"]
