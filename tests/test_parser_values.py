"""default_values / describe_arguments: what parse_args([]) gives, as YAML, and what the writer shows."""
from __future__ import annotations

import argparse
import enum
from pathlib import Path

import pytest

from clearml_hat.config.argparser.parser_values import (
    default_values,
    describe_arguments,
    known_keys,
    text_keys,
    whole_numbers,
)
from clearml_hat.config.argparser.stand_ins import StandIn
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_values import same_value


def make(*arguments: tuple) -> argparse.ArgumentParser:
    """A parser from (args, kwargs) pairs."""
    parser = argparse.ArgumentParser(prog="train.py")
    for args, kwargs in arguments:
        parser.add_argument(*args, **kwargs)
    return parser


def docs_by_key(parser: argparse.ArgumentParser) -> dict:
    return {doc.key: doc for doc in describe_arguments(parser)}


def test_keys_are_dests_in_parser_order():
    parser = make((["--img-size"], {"type": int, "default": 640}), (["-lr"], {"type": float, "default": 0.01}),
                  (["data"], {"nargs": "?", "default": "coco"}))
    assert list(default_values(parser)) == ["img_size", "lr", "data"]


def test_help_and_version_are_skipped():
    parser = make((["--version"], {"action": "version", "version": "1"}))
    assert default_values(parser) == {}


def test_shared_dest_takes_first_actions_default_like_parse_args():
    parser = make((["--x"], {"action": "store_true", "default": None}),
                  (["--no-x"], {"dest": "x", "action": "store_false"}))
    assert parser.get_default("x") is True  # the trap: get_default disagrees with parse_args
    assert default_values(parser) == {"x": None}
    assert docs_by_key(parser)["x"].flags == ("--x", "--no-x")


def test_store_false_with_other_dest():
    parser = make((["--no_aux_loss"], {"dest": "aux_loss", "action": "store_false"}))
    assert default_values(parser) == {"aux_loss": True}


def test_set_defaults_applies():
    parser = make((["--lr"], {"type": float, "default": 0.1}))
    parser.set_defaults(lr=0.5, extra="x")
    assert default_values(parser) == {"lr": 0.5}


def test_string_default_is_converted_by_type():
    parser = make((["--epochs"], {"type": int, "default": "300"}))
    assert default_values(parser) == {"epochs": 300}


def test_float_default_for_int_type_is_kept():
    parser = make((["--steps"], {"type": int, "default": 1e4}))
    assert default_values(parser) == {"steps": 10000.0}


def test_suppressed_default_is_absent():
    parser = make((["--resume"], {"default": argparse.SUPPRESS}), (["--lr"], {"default": 0.1}))
    assert default_values(parser) == {"lr": 0.1}


def test_path_becomes_str_with_note():
    parser = make((["--out"], {"type": Path, "default": Path("runs/train")}))
    assert default_values(parser) == {"out": "runs/train"}
    assert "string" in docs_by_key(parser)["out"].note


def test_tuple_becomes_list_recursively():
    parser = make((["--sizes"], {"default": ((1, 2), (3, Path("a")))}))
    assert default_values(parser) == {"sizes": [[1, 2], [3, "a"]]}


def test_object_default_becomes_none_with_note():
    class Color(enum.Enum):
        RED = 1

    parser = make((["--color"], {"default": Color.RED}), (["--fn"], {"default": print}))
    assert default_values(parser) == {"color": None, "fn": None}
    assert "not a YAML value" in docs_by_key(parser)["color"].note


def test_stand_in_default_becomes_none_with_note():
    parser = make((["--device"], {"default": StandIn("torch", "torch.device('cuda')")}),
                  (["--gpus"], {"default": [0, StandIn("torch", "torch.cuda.device_count()")]}))
    assert default_values(parser) == {"device": None, "gpus": None}
    note = "could not be evaluated here: it comes from 'torch', missing on this machine"
    assert docs_by_key(parser)["device"].note == note


def test_choices_from_missing_module_are_unknown_with_note():
    parser = make((["--arch"], {"choices": StandIn("torchvision", "torchvision.models.list_models()"),
                                "default": "resnet18"}))
    doc = docs_by_key(parser)["arch"]
    assert doc.choices is None and doc.note == "its choices could not be evaluated here"


def test_required_option_is_none_and_parser_untouched():
    parser = make((["--data"], {"required": True, "default": "x"}), (["weights"], {}))
    assert default_values(parser) == {"data": None, "weights": None}
    docs = docs_by_key(parser)
    assert docs["data"].required and docs["weights"].required
    with pytest.raises(SystemExit):  # still required afterwards
        parser.parse_args([])


def test_required_mutually_exclusive_group_members_are_required():
    parser = make()
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--train", action="store_true")
    group.add_argument("--eval", action="store_true")
    assert default_values(parser) == {"train": None, "eval": None}


def test_count_append_and_star_positional_defaults():
    parser = make((["-v"], {"action": "count"}), (["--tag"], {"action": "append", "default": ("a",)}),
                  (["files"], {"nargs": "*"}))
    assert default_values(parser) == {"v": None, "tag": ["a"], "files": []}


def test_optional_positional_string_default_converted():
    parser = make((["size"], {"nargs": "?", "type": int, "default": "3"}))
    assert default_values(parser) == {"size": 3}


def test_broken_default_raises_hat_error():
    parser = make((["--epochs"], {"type": int, "default": "many"}))
    with pytest.raises(HatError, match="empty command line"):
        default_values(parser)


def test_filetype_default_is_not_opened(tmp_path):
    target = tmp_path / "log.txt"
    parser = make((["--log"], {"type": argparse.FileType("w"), "default": str(target)}))
    assert default_values(parser) == {"log": str(target)}
    assert not target.exists()


def test_help_is_expanded_with_yaml_value():
    parser = make((["--lr"], {"type": float, "default": 0.1, "help": "learning rate (default: %(default)s)"}),
                  (["--pct"], {"default": 5, "help": "50% of it"}))
    docs = docs_by_key(parser)
    assert docs["lr"].help == "learning rate (default: 0.1)"
    assert docs["pct"].help == "50% of it"


def test_argument_defaults_help_formatter_shows_yaml_value():
    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs"), help="output folder")
    assert docs_by_key(parser)["out"].help == "output folder (default: runs)"


def test_choices_are_listed():
    parser = make((["--opt"], {"choices": ["sgd", "adam"], "default": "sgd"}))
    assert docs_by_key(parser)["opt"].choices == ["sgd", "adam"]


def subcommand_parser(dest: str = argparse.SUPPRESS, required: bool = False) -> argparse.ArgumentParser:
    parser = make((["--seed"], {"type": int, "default": 1}))
    sub = parser.add_subparsers(dest=dest)
    sub.required = required
    train = sub.add_parser("train", aliases=["fit"])
    train.add_argument("--lr", type=float, default=0.1)
    train.add_argument("data")
    evaluate = sub.add_parser("eval")
    evaluate.add_argument("--split", default="val")
    evaluate.add_argument("--lr", type=float, default=0.5)
    return parser


def test_subcommand_key_is_command_when_no_dest():
    assert default_values(subcommand_parser()) == {"seed": 1, "command": None, "lr": 0.1, "data": None,
                                                  "split": "val"}


def test_subcommand_key_is_dest():
    assert "mode" in default_values(subcommand_parser(dest="mode"))


def test_subcommand_doc_lists_each_subcommands_keys():
    docs = docs_by_key(subcommand_parser(required=True))
    assert docs["command"].subcommands == {"train": ["lr", "data"], "eval": ["split", "lr"]}
    assert docs["command"].choices == ["train", "fit", "eval"]
    assert docs["command"].required and docs["command"].value is None
    assert docs["split"].subcommand == "eval"


def test_nested_subcommand_key():
    parser = make()
    db = parser.add_subparsers().add_parser("db")
    db.add_subparsers().add_parser("migrate").add_argument("--to", default="head")
    assert default_values(parser) == {"command": None, "subcommand": None, "to": "head"}
    assert docs_by_key(parser)["to"].subcommand == "db migrate"


def test_same_value_rules():
    assert same_value(10000, 10000.0)
    assert not same_value(True, 1)
    assert not same_value("1", 1)
    assert same_value(float("nan"), float("nan"))
    assert same_value([1, [2.0]], [1, [2]])


def test_known_keys_include_suppressed_and_subcommand_keys():
    parser = subcommand_parser()
    parser.add_argument("--resume", default=argparse.SUPPRESS)
    assert known_keys(parser) == ["seed", "command", "lr", "data", "split", "resume"]


def test_text_keys_are_options_that_take_strings():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mixed_precision", default="no", choices=["no", "fp16", "bf16"])
    parser.add_argument("--country", type=str)
    parser.add_argument("--tags", nargs="+", default=["a"])
    parser.add_argument("--precision", choices=["16", "32"], default=None)
    parser.add_argument("--lr", default=0.2)  # untyped with a number default: YAML typing stays
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--amp", action="store_true")
    assert text_keys(parser) == {"mixed_precision", "country", "tags", "precision"}


def test_whole_numbers_become_ints_for_int_options_only():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--sizes", type=int, nargs=2, default=[1, 1])
    parser.add_argument("--lr", type=float, default=0.1)
    values = whole_numbers(parser, {"batch_size": 1e1, "sizes": [2.0, 3.0], "lr": 1.0, "other": 2.0})
    assert values == {"batch_size": 10, "sizes": [2, 3], "lr": 1.0, "other": 2.0}
    assert type(values["batch_size"]) is int and type(values["lr"]) is float
    assert whole_numbers(parser, {"batch_size": 5.5}) == {"batch_size": 5.5}  # left for the check to refuse
