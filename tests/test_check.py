"""check_values: every problem in edited YAML values, one line each, before anything runs."""
from __future__ import annotations

import argparse

from clearml_hat.config.argparser.check import check_values
from clearml_hat.config.argparser.parser_values import default_values


def make(*arguments: tuple) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train.py")
    for args, kwargs in arguments:
        parser.add_argument(*args, **kwargs)
    return parser


def subcommands() -> argparse.ArgumentParser:
    parser = make((["--seed"], {"type": int, "default": 0}))
    sub = parser.add_subparsers()
    sub.required = True
    sub.add_parser("train").add_argument("--steps", type=int, default=5)
    sub.add_parser("eval").add_argument("--split", default="val")
    return parser


def test_defaults_have_no_problems():
    parser = make((["--lr"], {"type": float, "default": 0.1}), (["--dropout"], {"default": 0.2}))
    assert check_values(parser, default_values(parser))[:2] == ([], [])


def test_unknown_key_names_closest():
    parser = make((["--epochs"], {"type": int, "default": 3}))
    problems = check_values(parser, {"epoch": 4}).problems
    assert problems == ["epoch: unknown key; did you mean 'epochs'?"]


def test_unknown_key_without_close_match():
    problems = check_values(make(), {"zzz": 1}).problems
    assert problems == ["zzz: unknown key; remove it"]


def test_value_rejected_by_type():
    parser = make((["--epochs"], {"type": int, "default": 3}))
    problems = check_values(parser, {"epochs": "many"}).problems
    assert len(problems) == 1 and problems[0].startswith("epochs: 'many'") and "type int" in problems[0]


def test_invalid_choice():
    parser = make((["--opt"], {"choices": ["sgd", "adam"], "default": "sgd"}))
    problems = check_values(parser, {"opt": "lion"}).problems
    assert problems == ["opt: 'lion' is not one of the choices sgd, adam"]


def test_invalid_choice_in_list():
    parser = make((["--sets"], {"nargs": "+", "choices": ["a", "b"], "default": ["a"]}))
    problems = check_values(parser, {"sets": ["a", "c"]}).problems
    assert problems == ["sets: 'c' is not one of the choices a, b"]


def test_string_choices_are_a_substring_test_like_argparse():
    parser = make((["--mode"], {"choices": "abc", "default": "a"}))
    assert check_values(parser, {"mode": "bc"})[:2] == ([], [])
    problems = check_values(parser, {"mode": "ac"}).problems
    assert problems == ["mode: 'ac' is not one of the choices 'abc'"]


def test_missing_required_value():
    parser = make((["--data"], {"required": True}), (["weights"], {}))
    problems = check_values(parser, default_values(parser)).problems
    assert problems == ["data: a value is required (--data); set it in the YAML",
                        "weights: a value is required (positional); set it in the YAML"]


def test_missing_required_subcommand():
    problems = check_values(subcommands(), {"command": None}).problems
    assert problems == ["command: a subcommand is required; set it to one of train, eval"]


def test_unknown_subcommand():
    problems = check_values(subcommands(), {"command": "trian"}).problems
    assert problems == ["command: 'trian' is not a subcommand; use one of train, eval"]


def test_key_of_subcommand_not_chosen():
    problems = check_values(subcommands(), {"command": "train", "split": "test"}).problems
    assert problems == ["split: belongs to subcommand 'eval', which is not chosen; choose it or remove the key"]


def test_unchanged_keys_of_other_subcommands_are_fine():
    values = {**default_values(subcommands()), "command": "train", "steps": 9}
    assert check_values(subcommands(), values)[:2] == ([], [])


def test_inexpressible_value_is_a_problem():
    parser = make((["--amp"], {"action": "store_true"}), (["--n"], {"type": int, "default": 1}))
    problems = check_values(parser, {"amp": "yes", "n": "x"}).problems
    assert [problem.split(":")[0] for problem in problems] == ["amp", "n"]


def test_problem_found_only_by_building_argv():
    parser = make((["a"], {"nargs": "?"}), (["b"], {"nargs": "?", "default": "y"}))
    problems = check_values(parser, {"a": None, "b": "z"}).problems
    assert problems == ["a: positional arguments go by place, so it needs a value when b is given"]


def test_warning_for_non_string_value_without_type():
    parser = make((["--dropout"], {"default": 0.2}), (["--ids"], {"nargs": "+", "default": ["0"]}))
    problems, warnings = check_values(parser, {"dropout": 0.3, "ids": [1, 2]})
    assert problems == []
    assert warnings == [
        "dropout: the script's option has no type=, so 0.3 reaches it as the string '0.3'; add type= to the "
        "argument, or quote the value in the YAML",
        "ids: the script's option has no type=, so [1, 2] reaches it as the string ['1', '2']; add type= to the "
        "argument, or quote the value in the YAML",
    ]


def test_no_warning_for_unchanged_default_without_type():
    parser = make((["--dropout"], {"default": 0.2}))
    assert check_values(parser, {"dropout": 0.2})[:2] == ([], [])


def test_all_problems_in_one_list():
    parser = make((["--epochs"], {"type": int, "default": 3}), (["--opt"], {"choices": ["sgd"], "default": "sgd"}),
                  (["--data"], {"required": True}))
    problems = check_values(parser, {"epoch": 1, "epochs": "x", "opt": "adam"}).problems
    assert [problem.split(":")[0] for problem in problems] == ["epoch", "epochs", "opt", "data"]


def test_choices_from_missing_module_are_not_checked():
    parser = make((["--arch"], {"choices": [], "default": "resnet18"}))  # sorted(models.__dict__) without torchvision
    assert check_values(parser, {"arch": "vgg16"})[:2] == ([], [])
