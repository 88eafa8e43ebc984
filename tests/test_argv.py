"""build_argv: YAML values back to an argv that the script's own parser reads as those values."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clearml_hat.config.argparser.argv import build_argv
from clearml_hat.config.argparser.check import check_values
from clearml_hat.config.argparser.parser_values import default_values, describe_arguments
from clearml_hat.config.argparser.stand_ins import StandIn
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_values import same_value, yaml_value

needs_boolean_optional = pytest.mark.skipif(sys.version_info < (3, 9), reason="BooleanOptionalAction is 3.9+")


def make(*arguments: tuple, **parser_kwargs) -> argparse.ArgumentParser:
    """A parser from (args, kwargs) pairs."""
    parser = argparse.ArgumentParser(prog="train.py", **parser_kwargs)
    for args, kwargs in arguments:
        parser.add_argument(*args, **kwargs)
    return parser


def parsed(parser: argparse.ArgumentParser, argv: list) -> dict:
    return {key: yaml_value(value) for key, value in vars(parser.parse_args(argv)).items()}


def assert_round_trip(parser: argparse.ArgumentParser, changes: dict) -> list:
    """default_values + changes -> build_argv -> parse_args gives the values back; returns the argv.

    None means "the script's default", so a key set to None must come back as its default.
    """
    defaults = default_values(parser)
    values = {**defaults, **changes}
    argv = build_argv(parser, values)
    got = parsed(parser, argv)
    for key, value in values.items():
        want = defaults.get(key) if value is None else value
        if key in got:
            assert same_value(got[key], want), (key, got[key], want, argv)
    return argv


def str2bool(text: str) -> bool:
    if text.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if text.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError("Boolean value expected.")


# ---- one case each ------------------------------------------------------------------------------------------------

def test_defaults_are_left_out_so_the_script_gets_its_own_default_object():
    parser = make((["--lr"], {"type": float, "default": 20}), (["--out"], {"type": Path, "default": Path("runs")}))
    assert build_argv(parser, default_values(parser)) == []
    assert build_argv(parser, {"lr": 20.0, "out": "runs"}) == []  # 20.0 is 20 to YAML; the script gets int 20


def test_pinned_defaults_are_written_out_so_the_yaml_wins_on_another_machine():
    parser = make((["--lr"], {"type": float, "default": 0.1}), (["--name"], {"default": "exp"}))
    assert build_argv(parser, default_values(parser), frozenset({"lr", "name"})) == ["--lr", "0.1", "--name", "exp"]
    assert build_argv(parser, default_values(parser), frozenset({"name"})) == ["--name", "exp"]


def test_pinned_defaults_that_text_would_change_are_left_out():
    parser = make(
        (["--ratio"], {"default": 0.2}),  # no type=: '0.2' would arrive as a string
        (["--weights"], {"nargs": "+", "default": "yolov5s.pt"}),  # given, it would arrive as a list
        (["--amp"], {"action": "store_true"}),
        (["-v"], {"action": "count", "default": 0}),
        (["--tag"], {"action": "append", "default": ["a"]}),
    )
    assert build_argv(parser, default_values(parser), frozenset(default_values(parser))) == []


def test_none_is_left_out():
    parser = make((["--lr"], {"type": float, "default": 0.1}))
    assert build_argv(parser, {"lr": None}) == []


def test_store():
    assert assert_round_trip(make((["--lr"], {"type": float, "default": 0.1})), {"lr": 0.02}) == ["--lr", "0.02"]


def test_store_true():
    parser = make((["--amp"], {"action": "store_true"}))
    assert assert_round_trip(parser, {"amp": True}) == ["--amp"]


def test_store_false():
    parser = make((["--no-cuda"], {"dest": "cuda", "action": "store_false"}))
    assert assert_round_trip(parser, {"cuda": False}) == ["--no-cuda"]


def test_store_true_cannot_be_unset():
    parser = make((["--amp"], {"action": "store_true", "default": True}))
    with pytest.raises(HatError, match="amp"):
        build_argv(parser, {"amp": False})


@needs_boolean_optional
def test_boolean_optional_action():
    parser = make((["--pin-mem"], {"action": argparse.BooleanOptionalAction, "default": True}))
    assert assert_round_trip(parser, {"pin_mem": False}) == ["--no-pin-mem"]
    parser = make((["--pin-mem"], {"action": argparse.BooleanOptionalAction, "default": False}))
    assert assert_round_trip(parser, {"pin_mem": True}) == ["--pin-mem"]


def test_store_const():
    parser = make((["--fast"], {"dest": "mode", "action": "store_const", "const": "fast", "default": "slow"}))
    assert assert_round_trip(parser, {"mode": "fast"}) == ["--fast"]
    with pytest.raises(HatError, match="mode"):
        build_argv(parser, {"mode": "medium"})


def test_append_adds_to_copy_of_default():
    parser = make((["--tag"], {"action": "append", "default": ["base"]}))
    assert assert_round_trip(parser, {"tag": ["base", "a", "b"]}) == ["--tag", "a", "--tag", "b"]
    with pytest.raises(HatError, match="tag"):
        build_argv(parser, {"tag": ["a"]})


def test_append_with_nargs():
    parser = make((["--pair"], {"action": "append", "nargs": 2, "type": int}))
    assert assert_round_trip(parser, {"pair": [[1, 2], [3, 4]]}) == ["--pair", "1", "2", "--pair", "3", "4"]


def test_append_const_shared_dest():
    parser = make((["--str"], {"dest": "types", "action": "append_const", "const": "str"}),
                  (["--int"], {"dest": "types", "action": "append_const", "const": "int"}))
    assert assert_round_trip(parser, {"types": ["int", "str", "int"]}) == ["--int", "--str", "--int"]


def test_extend():
    parser = make((["--ids"], {"action": "extend", "nargs": "+", "type": int}))
    assert_round_trip(parser, {"ids": [1, 2, 3]})


def test_count():
    parser = make((["-v", "--verbose"], {"action": "count", "default": 0}))
    assert assert_round_trip(parser, {"verbose": 2}) == ["--verbose", "--verbose"]


def test_count_below_default_is_inexpressible():
    parser = make((["-v"], {"action": "count", "default": 2}))
    with pytest.raises(HatError, match="counts up from 2"):
        build_argv(parser, {"v": 1})


def test_count_zero_with_none_default_is_inexpressible():
    parser = make((["-v"], {"action": "count"}))
    with pytest.raises(HatError, match="counts up from None"):
        build_argv(parser, {"v": 0})


def test_list_items_with_equals_sign_still_open_ended():
    parser = make((["--cfg-options"], {"nargs": "+", "default": None}), (["script"], {"nargs": argparse.REMAINDER}))
    with pytest.raises(HatError, match="cfg_options: its values would swallow 'train.py'"):
        build_argv(parser, {"cfg_options": ["a=1"], "script": ["train.py"]})


def test_nargs_optional_const_is_bare_flag():
    parser = make((["--resume"], {"nargs": "?", "const": True, "default": False, "type": str2bool}))
    assert assert_round_trip(parser, {"resume": True}) == ["--resume"]


def test_nargs_optional_value_uses_equals_form():
    parser = make((["--resume"], {"nargs": "?", "const": "last.pt", "default": ""}))
    assert assert_round_trip(parser, {"resume": "run3.pt"}) == ["--resume=run3.pt"]


def test_nargs_star_empty_is_bare_flag():
    parser = make((["--classes"], {"nargs": "*", "type": int, "default": [0]}))
    assert assert_round_trip(parser, {"classes": []}) == ["--classes"]


def test_nargs_plus_with_scalar_default():
    parser = make((["--weights"], {"nargs": "+", "default": "yolov5s.pt"}))
    assert assert_round_trip(parser, {"weights": ["a.pt", "b.pt"]}) == ["--weights", "a.pt", "b.pt"]
    assert build_argv(parser, {"weights": "c.pt"}) == ["--weights", "c.pt"]


def test_nargs_plus_empty_is_inexpressible():
    parser = make((["--weights"], {"nargs": "+", "default": ["a"]}))
    with pytest.raises(HatError, match="at least one"):
        build_argv(parser, {"weights": []})


def test_nargs_n():
    parser = make((["--input-size"], {"nargs": 3, "type": int}))
    assert assert_round_trip(parser, {"input_size": [3, 224, 224]}) == ["--input-size", "3", "224", "224"]
    with pytest.raises(HatError, match="exactly 3"):
        build_argv(parser, {"input_size": [3, 224]})


def test_remainder_option_comes_last():
    parser = make((["source"], {}), (["--opts"], {"nargs": argparse.REMAINDER, "default": []}),
                  (["--lr"], {"type": float, "default": 0.1}))
    argv = assert_round_trip(parser, {"source": "x", "opts": ["MODEL.X", "-1", "--y"], "lr": 0.2})
    assert argv[-4:] == ["--opts", "MODEL.X", "-1", "--y"]


def test_remainder_positional_comes_last():
    parser = make((["script"], {}), (["args"], {"nargs": argparse.REMAINDER}), (["--n"], {"type": int, "default": 1}))
    argv = assert_round_trip(parser, {"script": "a.py", "args": ["--x", "1"], "n": 2})
    assert argv == ["--n", "2", "a.py", "--x", "1"]


def test_positionals_in_order():
    parser = make((["src"], {}), (["dst"], {}), (["--n"], {"type": int, "default": 1}))
    assert assert_round_trip(parser, {"src": "a", "dst": "b"}) == ["a", "b"]
    assert assert_round_trip(parser, {"src": "a", "dst": "b", "n": 2}) == ["a", "b", "--n", "2"]


def test_optional_positional_none_left_out():
    parser = make((["data"], {"nargs": "?"}))
    assert build_argv(parser, {"data": None}) == []


def test_default_positional_before_given_one_is_written():
    parser = make((["a"], {"nargs": "?", "default": "x"}), (["b"], {"nargs": "?", "default": "y"}))
    assert assert_round_trip(parser, {"b": "z"}) == ["x", "z"]


def test_star_positional_and_nargs_star_option():
    parser = make((["files"], {"nargs": "*"}), (["--ids"], {"nargs": "*", "type": int, "default": []}))
    assert_round_trip(parser, {"files": ["a", "b"], "ids": [1, 2]})


def test_dest_differs_from_option_string():
    parser = make((["--img-size", "--img"], {"dest": "img_size", "type": int, "default": 640}))
    assert assert_round_trip(parser, {"img_size": 320}) == ["--img-size", "320"]


def test_shared_dest_store_true_and_store_false():
    parser = make((["--x"], {"action": "store_true", "default": None}),
                  (["--no-x"], {"dest": "x", "action": "store_false"}))
    assert assert_round_trip(parser, {"x": True}) == ["--x"]
    assert assert_round_trip(parser, {"x": False}) == ["--no-x"]


def test_short_only_option():
    parser = make((["-b"], {"type": int, "default": 8}))
    assert assert_round_trip(parser, {"b": 16}) == ["-b", "16"]


def test_single_dash_long_option():
    parser = make((["-lr"], {"type": float, "default": 0.1}))
    assert assert_round_trip(parser, {"lr": 0.5}) == ["-lr", "0.5"]


def test_prefers_long_option_and_never_a_prefix():
    parser = make((["-l", "--lr"], {"type": float, "default": 0.1}), (["--lr_scheduler"], {"default": "cos"}))
    assert assert_round_trip(parser, {"lr": 0.5, "lr_scheduler": "step"}) == ["--lr", "0.5", "--lr_scheduler", "step"]


def test_str2bool_type():
    parser = make((["--pretrained"], {"type": str2bool, "default": True}))
    assert assert_round_trip(parser, {"pretrained": False}) == ["--pretrained", "False"]


def test_type_bool_false_is_empty_string():
    parser = make((["--flag"], {"type": bool, "default": True}))
    assert assert_round_trip(parser, {"flag": False}) == ["--flag="]


def test_integral_float_for_int_type():
    parser = make((["--steps"], {"type": int, "default": 1e4}))
    assert assert_round_trip(parser, {"steps": 20000.0}) == ["--steps", "20000"]


def test_type_rejecting_value_is_reported():
    parser = make((["--epochs"], {"type": int, "default": 3}))
    with pytest.raises(HatError, match="epochs: 'many'.*type int"):
        build_argv(parser, {"epochs": "many"})


def test_negative_value_uses_equals_form():
    parser = make((["--shift"], {"type": float, "default": 0.0}), (["--name"], {"default": "x"}))
    assert assert_round_trip(parser, {"shift": -0.5, "name": "-odd"}) == ["--shift=-0.5", "--name=-odd"]


def test_negative_list_items_without_negative_like_options():
    parser = make((["--mean"], {"nargs": 3, "type": float}))
    assert_round_trip(parser, {"mean": [-0.5, 0.1, -2.0]})


def test_negative_list_items_with_negative_like_option_is_inexpressible():
    parser = make((["--mean"], {"nargs": 2, "type": float}), (["-1"], {"dest": "one", "action": "store_true"}))
    with pytest.raises(HatError, match="mean.*starting with '-'"):
        build_argv(parser, {"mean": [-0.5, 1.0]})


def test_list_item_starting_with_dash_is_inexpressible():
    parser = make((["--names"], {"nargs": "+", "default": ["a"]}))
    with pytest.raises(HatError, match="names"):
        build_argv(parser, {"names": ["-x"]})


def test_path_type():
    parser = make((["--out"], {"type": Path, "default": Path("runs")}))
    assert build_argv(parser, default_values(parser)) == []
    assert build_argv(parser, default_values(parser), frozenset({"out"})) == ["--out", "runs"]
    assert assert_round_trip(parser, {"out": "elsewhere"}) == ["--out", "elsewhere"]


def test_option_without_type_gets_text():
    parser = make((["--dropout"], {"default": 0.2}))
    assert build_argv(parser, {"dropout": 0.3}) == ["--dropout", "0.3"]


def test_choices_violation_is_caught_by_self_check():
    parser = make((["--opt"], {"choices": ["sgd", "adam"], "default": "sgd"}))
    with pytest.raises(HatError, match="invalid choice"):
        build_argv(parser, {"opt": "lion"})


def test_missing_required_is_caught_by_self_check():
    parser = make((["--data"], {"required": True}))
    with pytest.raises(HatError, match="required"):
        build_argv(parser, default_values(parser))


def fairseq_like() -> argparse.ArgumentParser:
    parser = make((["--seed"], {"type": int, "default": 1}), (["--tags"], {"nargs": "*", "default": []}))
    sub = parser.add_subparsers()
    train = sub.add_parser("train", aliases=["fit"])
    train.add_argument("data")
    train.add_argument("--lr", type=float, default=0.1)
    generate = sub.add_parser("generate")
    generate.add_argument("--beam", type=int, default=5)
    generate.add_argument("--seed", type=int, default=7)  # also in the main parser: the subcommand's wins
    return parser


def test_subcommand_name_then_its_options():
    argv = assert_round_trip(fairseq_like(), {"command": "train", "data": "d", "lr": 0.5, "seed": 3})
    assert argv == ["--seed", "3", "train", "d", "--lr", "0.5"]


def test_subcommand_options_of_other_subcommands_ignored():
    assert build_argv(fairseq_like(), {"command": "generate", "lr": 0.9, "beam": 2}) == ["generate", "--beam", "2"]


def test_subcommand_shared_dest_goes_to_subcommand():
    argv = assert_round_trip(fairseq_like(), {"command": "generate", "seed": 9})
    assert argv == ["generate", "--seed", "9"]


def test_unknown_subcommand_is_reported():
    with pytest.raises(HatError, match="command: 'trian' is not a subcommand"):
        build_argv(fairseq_like(), {"command": "trian"})


def test_list_option_before_subcommand_is_inexpressible():
    with pytest.raises(HatError, match="variable number"):
        build_argv(fairseq_like(), {"command": "generate", "tags": ["a"]})


def test_subcommand_with_dest_and_nested():
    parser = make()
    db = parser.add_subparsers(dest="tool").add_parser("db")
    migrate = db.add_subparsers(dest="action").add_parser("migrate")
    migrate.add_argument("--to", default="head")
    assert assert_round_trip(parser, {"tool": "db", "action": "migrate", "to": "v2"}) == ["db", "migrate", "--to", "v2"]


def test_self_check_catches_what_argparse_reads_differently():
    parser = make((["--level"], {"type": lambda text: int(text) % 3, "default": 0}))
    with pytest.raises(HatError, match="level"):
        build_argv(parser, {"level": 5})


def test_custom_action_skips_self_check():
    calls = []

    class Record(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            calls.append(values)
            setattr(namespace, self.dest, values)

    parser = make((["--x"], {"action": Record, "default": "a"}))
    assert build_argv(parser, {"x": "b"}) == ["--x", "b"]
    assert calls == []


def test_filetype_skips_self_check_and_opens_nothing(tmp_path):
    target = tmp_path / "out.txt"
    parser = make((["--out"], {"type": argparse.FileType("w"), "default": "-"}))
    assert build_argv(parser, {"out": str(target)}) == ["--out", str(target)]
    assert not target.exists()


def test_type_from_missing_module_passes_text_unchecked():
    parser = make((["--size"], {"type": StandIn("mmcv", "mmcv.parse_size"), "default": "1x1"}))
    assert build_argv(parser, {"size": "2x2"}) == ["--size", "2x2"]


def test_list_for_single_value_without_type_is_inexpressible():
    parser = make((["--gpus"], {"default": "0"}))
    with pytest.raises(HatError, match="gpus: .*without type="):
        build_argv(parser, {"gpus": [0, 1]})


def test_list_for_single_value_with_splitting_type():
    parser = make((["--gpus"], {"type": lambda text: [int(x) for x in text.split(",")], "default": [0]}))
    assert assert_round_trip(parser, {"gpus": [0, 1]}) == ["--gpus", "0,1"]


# ---- corpus: parsers modelled on well-known public training scripts -----------------------------------------------

def yolov5_parse_opt() -> argparse.ArgumentParser:
    root = Path("/src/yolov5")
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=str, default=root / "yolov5s.pt", help="initial weights path")
    parser.add_argument("--cfg", type=str, default="", help="model.yaml path")
    parser.add_argument("--data", type=str, default=root / "data/coco128.yaml", help="dataset.yaml path")
    parser.add_argument("--hyp", type=str, default=root / "data/hyps/hyp.scratch-low.yaml")
    parser.add_argument("--epochs", type=int, default=100, help="total training epochs")
    parser.add_argument("--batch-size", type=int, default=16, help="total batch size for all GPUs, -1 for autobatch")
    parser.add_argument("--imgsz", "--img", "--img-size", type=int, default=640, help="train, val image size")
    parser.add_argument("--rect", action="store_true", help="rectangular training")
    parser.add_argument("--resume", nargs="?", const=True, default=False, help="resume most recent training")
    parser.add_argument("--nosave", action="store_true", help="only save final checkpoint")
    parser.add_argument("--evolve", type=int, nargs="?", const=300, help="evolve hyperparameters for x generations")
    parser.add_argument("--cache", type=str, nargs="?", const="ram", help="image --cache ram/disk")
    parser.add_argument("--device", default="", help="cuda device, i.e. 0 or 0,1,2,3 or cpu")
    parser.add_argument("--multi-scale", action="store_true", help="vary img-size +/- 50%%")
    parser.add_argument("--optimizer", type=str, choices=["SGD", "Adam", "AdamW"], default="SGD", help="optimizer")
    parser.add_argument("--workers", type=int, default=8, help="max dataloader workers (per RANK in DDP mode)")
    parser.add_argument("--project", default=root / "runs/train", help="save to project/name")
    parser.add_argument("--name", default="exp", help="save to project/name")
    parser.add_argument("--label-smoothing", type=float, default=0.0, help="Label smoothing epsilon")
    parser.add_argument("--freeze", nargs="+", type=int, default=[0], help="Freeze layers: backbone=10, first3=0 1 2")
    parser.add_argument("--save-period", type=int, default=-1, help="Save checkpoint every x epochs (disabled if < 1)")
    parser.add_argument("--local_rank", type=int, default=-1, help="Automatic DDP Multi-GPU argument, do not modify")
    parser.add_argument("--entity", default=None, help="Entity")
    parser.add_argument("--upload_dataset", nargs="?", const=True, default=False, help='Upload data, "val" option')
    parser.add_argument("--bbox_interval", type=int, default=-1, help="Set bounding-box image logging interval")
    return parser


def detr_get_args_parser() -> argparse.ArgumentParser:
    base = argparse.ArgumentParser("Set transformer detector", add_help=False)
    base.add_argument("--lr", default=1e-4, type=float)
    base.add_argument("--lr_backbone", default=1e-5, type=float)
    base.add_argument("--batch_size", default=2, type=int)
    base.add_argument("--epochs", default=300, type=int)
    base.add_argument("--clip_max_norm", default=0.1, type=float, help="gradient clipping max norm")
    base.add_argument("--frozen_weights", type=str, default=None)
    base.add_argument("--backbone", default="resnet50", type=str)
    base.add_argument("--dilation", action="store_true")
    base.add_argument("--position_embedding", default="sine", type=str, choices=("sine", "learned"))
    base.add_argument("--no_aux_loss", dest="aux_loss", action="store_false")
    base.add_argument("--set_cost_class", default=1, type=float)
    base.add_argument("--eos_coef", default=0.1, type=float)
    base.add_argument("--dataset_file", default="coco")
    base.add_argument("--coco_path", type=str)
    base.add_argument("--output_dir", default="")
    base.add_argument("--device", default="cuda")
    base.add_argument("--seed", default=42, type=int)
    base.add_argument("--start_epoch", default=0, type=int, metavar="N")
    base.add_argument("--eval", action="store_true")
    base.add_argument("--dist_url", default="env://")
    return argparse.ArgumentParser("DETR training and evaluation script", parents=[base])


class ParseKwargs(argparse.Action):
    """timm's --opt-kwargs key=value action."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, dict(value.split("=", 1) for value in values))


def timm_train() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="PyTorch ImageNet Training")
    parser.add_argument("data", nargs="?", metavar="DIR", const=None, help="path to dataset (deprecated)")
    group = parser.add_argument_group("Dataset parameters")
    group.add_argument("--data-dir", metavar="DIR")
    group.add_argument("--model", default="resnet50", type=str, metavar="MODEL")
    group.add_argument("--pretrained", action="store_true", default=False)
    group.add_argument("--num-classes", type=int, default=None)
    group.add_argument("--input-size", default=None, nargs=3, type=int)
    group.add_argument("--mean", type=float, nargs="+", default=None, metavar="MEAN")
    group.add_argument("-b", "--batch-size", type=int, default=128, metavar="N")
    group.add_argument("-vb", "--validation-batch-size", type=int, default=None)
    scripting = group.add_mutually_exclusive_group()
    scripting.add_argument("--torchscript", dest="torchscript", action="store_true")
    scripting.add_argument("--torchcompile", nargs="?", type=str, default=None, const="inductor")
    group.add_argument("--opt", default="sgd", type=str)
    group.add_argument("--opt-betas", default=None, type=float, nargs="+")
    group.add_argument("--opt-kwargs", nargs="*", default={}, action=ParseKwargs)
    group.add_argument("--lr", type=float, default=None)
    group.add_argument("--decay-milestones", default=[90, 180, 270], type=int, nargs="+")
    group.add_argument("--scale", type=float, nargs="+", default=[0.08, 1.0])
    group.add_argument("--ratio", type=float, nargs="+", default=[3.0 / 4.0, 4.0 / 3.0])
    group.add_argument("--aug-repeats", type=float, default=0)
    group.add_argument("--reprob", type=float, default=0.0)
    group.add_argument("-j", "--workers", type=int, default=4)
    group.add_argument("--amp", action="store_true", default=False)
    group.add_argument("--no-prefetcher", action="store_true", default=False)
    group.add_argument("--local_rank", default=0, type=int)
    return parser


def string_to_bool(v):
    """transformers.hf_argparser.string_to_bool"""
    if isinstance(v, bool):
        return v
    if v.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if v.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"Truthy value expected: got {v} but expected one of yes/no, true/false...")


def hf_run_glue() -> argparse.ArgumentParser:
    """What HfArgumentParser builds from ModelArguments / DataTrainingArguments / TrainingArguments."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name_or_path", type=str, required=True)
    parser.add_argument("--config_name", type=str, default=None)
    parser.add_argument("--use_fast_tokenizer", type=string_to_bool, nargs="?", const=True, default=True)
    parser.add_argument("--no_use_fast_tokenizer", action="store_false", dest="use_fast_tokenizer")
    parser.add_argument("--task_name", type=str, default=None)
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--overwrite_cache", type=string_to_bool, nargs="?", const=True, default=False)
    parser.add_argument("--max_train_samples", type=int, default=None)
    parser.add_argument("--output_dir", type=str, required=True)
    parser.add_argument("--do_train", type=string_to_bool, nargs="?", const=True, default=False)
    parser.add_argument("--learning_rate", type=float, default=5e-05)
    parser.add_argument("--num_train_epochs", type=float, default=3.0)
    parser.add_argument("--lr_scheduler_type", type=str, default="linear",
                        choices=["linear", "cosine", "constant"])
    parser.add_argument("--report_to", type=str, nargs="+", default=None)
    parser.add_argument("--seed", type=int, default=42)
    return parser


def imagenet_main() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="PyTorch ImageNet Training")
    parser.add_argument("data", metavar="DIR", nargs="?", default="imagenet", help="path to dataset")
    parser.add_argument("-a", "--arch", metavar="ARCH", default="resnet18", choices=["alexnet", "resnet18", "vgg16"])
    parser.add_argument("-j", "--workers", default=4, type=int, metavar="N")
    parser.add_argument("--epochs", default=90, type=int, metavar="N")
    parser.add_argument("-b", "--batch-size", default=256, type=int, metavar="N")
    parser.add_argument("--lr", "--learning-rate", default=0.1, type=float, metavar="LR", dest="lr")
    parser.add_argument("--wd", "--weight-decay", default=1e-4, type=float, metavar="W", dest="weight_decay")
    parser.add_argument("-p", "--print-freq", default=10, type=int, metavar="N")
    parser.add_argument("--resume", default="", type=str, metavar="PATH")
    parser.add_argument("-e", "--evaluate", dest="evaluate", action="store_true")
    parser.add_argument("--world-size", default=-1, type=int)
    parser.add_argument("--dist-url", default="tcp://224.66.41.62:23456", type=str)
    parser.add_argument("--seed", default=None, type=int)
    parser.add_argument("--multiprocessing-distributed", action="store_true")
    return parser


def mnist_main() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N")
    parser.add_argument("--epochs", type=int, default=14, metavar="N")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M")
    parser.add_argument("--no-cuda", action="store_true", default=False)
    parser.add_argument("--dry-run", action="store_true", default=False)
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N")
    parser.add_argument("--save-model", action="store_true", default=False)
    return parser


def hf_cli_like() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("cli")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("--train_data", type=str, required=True)
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--fp16", action="store_true")
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, default=8888)
    return parser


CORPUS = {
    "yolov5": (yolov5_parse_opt, {"epochs": 300, "imgsz": 1280, "resume": "runs/exp3/last.pt", "evolve": 300,
                                  "cache": "disk", "optimizer": "AdamW", "freeze": [0, 1, 2], "weights": "x.pt",
                                  "save_period": 5, "upload_dataset": "val", "entity": "me"}),
    "detr": (detr_get_args_parser, {"lr": 2e-4, "aux_loss": False, "coco_path": "/data/coco", "dilation": True,
                                    "position_embedding": "learned", "frozen_weights": "w.pth", "epochs": 500}),
    "timm": (timm_train, {"data_dir": "/imagenet", "input_size": [3, 288, 288], "mean": [0.5, 0.5, 0.5],
                          "batch_size": 64, "torchcompile": "inductor", "opt_betas": [0.9, 0.999],
                          "decay_milestones": [30, 60], "scale": [0.5, 1.0], "amp": True, "lr": 0.4}),
    "hf_run_glue": (hf_run_glue, {"model_name_or_path": "bert-base-cased", "output_dir": "/tmp/out",
                                  "use_fast_tokenizer": False, "do_train": True, "task_name": "mrpc",
                                  "num_train_epochs": 5, "report_to": ["clearml"], "lr_scheduler_type": "cosine"}),
    "imagenet": (imagenet_main, {"data": "/imagenet", "arch": "vgg16", "lr": 0.01, "weight_decay": 5e-4,
                                 "evaluate": True, "seed": 0, "world_size": 2}),
    "mnist": (mnist_main, {"epochs": 1, "lr": 0.5, "no_cuda": True, "dry_run": True}),
    "fairseq_like": (fairseq_like, {"command": "train", "data": "data-bin/wmt", "lr": 5e-4, "tags": ["a", "b"]}),
    "hf_cli_like": (hf_cli_like, {"command": "train", "train_data": "t.csv", "fp16": True, "verbose": 1}),
}
REQUIRED_FILLED = {"hf_run_glue": {"model_name_or_path": "bert", "output_dir": "out"},
                   "fairseq_like": {}, "hf_cli_like": {"command": "serve"}}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_defaults_round_trip(name):
    make_parser, _ = CORPUS[name]
    assert_round_trip(make_parser(), REQUIRED_FILLED.get(name, {}))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_describes_every_key(name):
    parser = CORPUS[name][0]()
    docs = describe_arguments(parser)
    assert [doc.key for doc in docs] == list(default_values(parser))
    assert not any("%(" in doc.help for doc in docs)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_edits_round_trip(name):
    make_parser, edits = CORPUS[name]
    if name == "fairseq_like":  # a list option before the subcommand name cannot be written: leave tags alone
        edits = {key: value for key, value in edits.items() if key != "tags"}
    assert_round_trip(make_parser(), edits)


# ---- property: random parsers with random valid values round-trip ------------------------------------------------

WORDS = st.text(alphabet="abcxyz019_./ -", max_size=6)
ITEMS = st.text(alphabet="abcxyz019_./", min_size=1, max_size=5)  # list items never start with '-'
INTS = st.integers(-1000, 1000)
FLOATS = st.floats(-1e6, 1e6, allow_nan=False)


def _store(draw, name):
    kind = draw(st.sampled_from(["int", "float", "str", "notype"]))
    values = {"int": INTS, "float": FLOATS, "str": WORDS, "notype": WORDS}[kind]
    kwargs = {"type": {"int": int, "float": float, "str": str, "notype": None}[kind], "default": draw(values)}
    return [([f"--{name}"], kwargs)], draw(st.none() | values)


def _flag(draw, name):
    action = draw(st.sampled_from(["store_true", "store_false"]))
    return [([f"--{name}"], {"action": action})], draw(st.booleans())


def _boolean_optional(draw, name):
    if sys.version_info < (3, 9):
        return _flag(draw, name)
    default = draw(st.booleans())
    return [([f"--{name}"], {"action": argparse.BooleanOptionalAction, "default": default})], draw(st.booleans())


def _shared_flags(draw, name):
    return ([([f"--{name}"], {"action": "store_true", "default": None}),
             ([f"--no-{name}"], {"dest": name, "action": "store_false"})], draw(st.sampled_from([None, True, False])))


def _store_const(draw, name):
    return ([([f"--{name}"], {"action": "store_const", "const": "on", "default": "off"})],
            draw(st.sampled_from(["on", "off"])))


def _append(draw, name):
    value = draw(st.none() | st.lists(INTS, min_size=1, max_size=3))
    return [([f"--{name}"], {"action": "append", "type": int})], value


def _append_const(draw, name):
    value = draw(st.lists(st.sampled_from(["a", "b"]), max_size=3))
    return ([([f"--{name}-a"], {"dest": name, "action": "append_const", "const": "a", "default": []}),
             ([f"--{name}-b"], {"dest": name, "action": "append_const", "const": "b"})], value)


def _count(draw, name):
    short = "-" + "ABCDEFGHIJKLMNOP"[int(name[3:])]
    return [([short, f"--{name}"], {"action": "count", "default": 0})], draw(st.integers(0, 3))


def _optional_const(draw, name):
    kwargs = {"nargs": "?", "type": int, "const": 7, "default": draw(INTS)}
    return [([f"--{name}"], kwargs)], draw(INTS | st.just(7))


def _lists(draw, name):
    nargs = draw(st.sampled_from(["*", "+", 2]))
    size = {"*": (0, 3), "+": (1, 3), 2: (2, 2)}[nargs]
    value = draw(st.lists(FLOATS, min_size=size[0], max_size=size[1]))
    return [([f"--{name}"], {"nargs": nargs, "type": float, "default": None})], value


def _extend(draw, name):
    default = draw(st.lists(INTS, max_size=2))
    value = default + draw(st.lists(INTS, max_size=3))
    return [([f"--{name}"], {"action": "extend", "nargs": "+", "type": int, "default": default})], value


def _str2bool(draw, name):
    kind = draw(st.sampled_from([str2bool, bool]))
    return [([f"--{name}"], {"type": kind, "default": draw(st.booleans())})], draw(st.booleans())


def _int_with_float_default(draw, name):
    return [([f"-{name}"], {"type": int, "default": 1e4})], float(draw(INTS))


def _choices(draw, name):
    return ([([f"--{name}"], {"choices": ["sgd", "adam"], "default": "sgd"})],
            draw(st.sampled_from(["sgd", "adam"])))


FEATURES = [_store, _flag, _boolean_optional, _shared_flags, _store_const, _append, _append_const, _count,
            _optional_const, _lists, _extend, _str2bool, _int_with_float_default, _choices]


def round_trip_where_possible(parser: argparse.ArgumentParser, values: dict) -> None:
    try:
        assert_round_trip(parser, values)
    except HatError as err:
        # Two things argv cannot say, each refused with its key named and pinned by a test of its own: a list
        # option before a positional, forced by a REMAINDER positional; a value of exactly '--' before Python 3.13
        # (argparse drops it). WORDS can draw '--', so without this the test failed on a valid draw.
        assume("swallow" not in str(err) and "drops a '--' value" not in str(err))
        raise


@st.composite
def parsers_with_values(draw):
    parser = argparse.ArgumentParser(prog="random.py")
    values = {}
    for index, feature in enumerate(draw(st.lists(st.sampled_from(FEATURES), min_size=1, max_size=8))):
        name = f"opt{index}"
        arguments, value = feature(draw, name)
        for args, kwargs in arguments:
            parser.add_argument(*args, **kwargs)
        values[name] = value
    positionals = draw(st.sampled_from([[], [None], [None, None], [None, "?"], [None, "*"], ["*"], ["?"],
                                        [None, argparse.REMAINDER]]))
    for index, nargs in enumerate(positionals):
        name = f"pos{index}"
        parser.add_argument(name, nargs=nargs)
        many = nargs in ("*", argparse.REMAINDER)
        values[name] = draw(st.lists(ITEMS, max_size=3)) if many else draw(ITEMS)
    return parser, values


@settings(max_examples=int(os.environ.get("ROUND_TRIP_EXAMPLES", 250)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(parsers_with_values())
def test_property_values_round_trip(case):
    parser, values = case
    round_trip_where_possible(parser, values)


@settings(max_examples=100, deadline=None)
@given(parsers_with_values())
def test_property_defaults_round_trip(case):
    parser, values = case
    positionals = {key: value for key, value in values.items() if key.startswith("pos")}  # required ones
    assert_round_trip(parser, positionals)


@settings(max_examples=100, deadline=None)
@given(parsers_with_values(), st.sampled_from(["train", "eval"]))
def test_property_subcommand_round_trip(case, name):
    sub_parser, sub_values = case
    parser = argparse.ArgumentParser(prog="main.py")
    parser.add_argument("--seed", type=int, default=0)
    subparsers = parser.add_subparsers()
    subparsers.add_parser("eval").add_argument("--split", default="val")
    subparsers.choices["train"] = sub_parser  # the random parser as a subcommand
    values = {"seed": 3, "command": name, **(sub_values if name == "train" else {"split": "test"})}
    round_trip_where_possible(parser, values)


@settings(max_examples=100, deadline=None)
@given(parsers_with_values())
def test_property_valid_values_pass_check(case):
    parser, values = case
    problems = check_values(parser, {**default_values(parser), **values}).problems
    assume(not any("swallow" in problem for problem in problems))
    assert problems == []


def test_default_of_a_mutually_exclusive_option_is_not_written_next_to_a_given_one():
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--resume", default=None)
    group.add_argument("--init-weights", default="imagenet")
    assert build_argv(parser, {"resume": "ckpt.pt", "init_weights": "imagenet"}) == ["--resume", "ckpt.pt"]


def test_dict_for_json_loads_goes_as_json_text():
    parser = make((["--loss-weights"], {"type": json.loads, "default": {"cls": 1.0}}))
    argv = assert_round_trip(parser, {"loss_weights": {"cls": 2.0, "box": 5.0}})
    assert argv == ["--loss-weights", '{"cls": 2.0, "box": 5.0}']


def test_default_of_an_option_whose_choices_are_unknown_here_is_left_out():
    parser = make((["--arch"], {"default": "resnet18", "choices": []}),  # torchvision.models missing here
                  (["--epochs"], {"type": int, "default": 90}))
    assert build_argv(parser, default_values(parser), frozenset({"arch", "epochs"})) == ["--epochs", "90"]


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="argparse keeps a '--' value from Python 3.13 on")
def test_double_dash_value_is_left_out_at_its_default_and_refused_when_edited():
    parser = make((["--sep"], {"default": "--"}), (["--name"], {"default": "a"}))
    assert build_argv(parser, default_values(parser), frozenset({"sep", "name"})) == ["--name", "a"]
    with pytest.raises(HatError, match=r"name: .*drops a '--' value"):
        build_argv(parser, {"sep": "--", "name": "--"})
