"""A script's own type functions: whatever they raise on a text means "not accepted", never a crash of the hat.

argparse turns only ValueError, TypeError and ArgumentTypeError into its usage error. The hat tries texts nobody
typed ('yes' for True), and DINO's utils.bool_flag raises argparse.ArgumentTypeError from a module that never
imports argparse: a NameError for every text it does not know (tests/scripts/dino_main.py, dino_utils.py).
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from clearml_hat.config.argparser.argv import build_argv, parse_strictly
from clearml_hat.config.argparser.check import check_values
from clearml_hat.config.argparser.parser_keys import converted, parse_defaults
from clearml_hat.errors import HatError
from tests.conftest import REPO, clean_env, run_script

DINO = REPO / "tests" / "scripts" / "dino_main.py"


def bool_flag(s):
    """DINO's, in a module without `import argparse`: the NameError is the point."""
    if s.lower() in {"off", "false", "0"}:
        return False
    elif s.lower() in {"on", "true", "1"}:
        return True
    raise argparse_not_imported.ArgumentTypeError("invalid value for a boolean flag")  # noqa: F821


def dino_like() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main_dino.py")
    parser.add_argument("--use_fp16", type=bool_flag, default=True)
    parser.add_argument("--norm_last_layer", default=True, type=bool_flag)
    parser.add_argument("--epochs", default=100, type=int)
    return parser


def test_converted_counts_any_exception_as_refused():
    action = dino_like()._option_string_actions["--use_fp16"]
    assert converted(dino_like(), action, "off") == (True, False)
    assert converted(dino_like(), action, "yes") == (False, None)  # NameError inside bool_flag


def test_argv_for_a_type_that_raises_name_error_on_probes():
    parser = dino_like()
    argv = build_argv(parser, {"use_fp16": False, "norm_last_layer": True, "epochs": 300})
    assert vars(parser.parse_args(argv)) == {"use_fp16": False, "norm_last_layer": True, "epochs": 300}


def test_a_text_the_type_function_fails_on_is_one_problem():
    problems = check_values(dino_like(), {"use_fp16": "maybe"}).problems
    assert problems == ["use_fp16: 'maybe' cannot be given on the command line (the option's type bool_flag does "
                        "not accept it); change it, or leave it empty for the script's default"]


def test_a_text_default_the_type_function_fails_on_is_a_hat_error():
    parser = argparse.ArgumentParser(prog="main_dino.py")
    parser.add_argument("--use_fp16", type=bool_flag, default="maybe")
    with pytest.raises(HatError, match=r"fails with an empty command line \(NameError: .*argparse_not_imported"):
        parse_defaults(parser)


def test_parse_strictly_turns_a_failing_type_function_into_a_hat_error():
    with pytest.raises(HatError, match=r"the script's parser fails on \['--use_fp16', 'yes'\] \(NameError"):
        parse_strictly(dino_like(), ["--use_fp16", "yes"])


@pytest.fixture
def env(tmp_path: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(home)


def test_dino_yaml_check_and_print_argv_end_to_end(tmp_path: Path, env: dict):
    """`python main_dino.py` parses fine; so must the hat, with every value it is given (once it exited 1 with a
    NameError traceback)."""
    config = tmp_path / "dino.yaml"
    written = run_script(["argparse_to_yaml.py", "--script", str(DINO), "-o", str(config)], env)
    assert written.returncode == 0, written.stderr
    text = config.read_text()
    assert re.search(r"(?m)^use_fp16: true$", text) and re.search(r"(?m)^global_crops_scale: \[0\.4, 1\.0\]$", text)
    text = re.sub(r"(?m)^use_fp16: true$", "use_fp16: false", text)
    config.write_text(re.sub(r"(?m)^norm_last_layer: true$", "norm_last_layer: off", text))

    checked = run_script(["argparse_to_yaml.py", "--script", str(DINO), "--check", str(config)], env)
    assert (checked.returncode, checked.stdout.splitlines()[-1]) == (0, "ok"), checked.stdout + checked.stderr

    printed = run_script(["hat.py", "--script", str(DINO), "--train_yaml", str(config), "--print_argv",
                          "use_bn_in_head=true", "epochs=300"], env)
    assert printed.returncode == 0 and "Traceback" not in printed.stderr, printed.stderr
    argv = json.loads(printed.stdout.strip().splitlines()[-1])
    for option, text in [("--use_fp16", "False"), ("--norm_last_layer", "False"), ("--use_bn_in_head", "True"),
                         ("--epochs", "300")]:
        assert argv[argv.index(option) + 1] == text, argv

    bad = run_script(["hat.py", "--script", str(DINO), "--train_yaml", str(config), "--print_argv",
                      "use_fp16=maybe"], env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert bad.stderr.strip().splitlines() == [
        "hat.py: error: use_fp16: 'maybe' cannot be given on the command line (the option's type bool_flag does not "
        "accept it); change it, or leave it empty for the script's default"]
