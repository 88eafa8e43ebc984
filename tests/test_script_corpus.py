"""End to end over a corpus of realistic training scripts (tests/scripts/): YAML -> argv -> the script's parser.

For each script, as a user runs the tools (subprocesses from the repo root, a private HOME):

1. `argparse_to_yaml.py --script S -o Y` writes the YAML, and `argparse_to_yaml.py --script S --check Y` says ok
   (required values are filled in first, as a user must).
2. `hat.py --train_yaml Y --script S --print_argv [key=value ...]` prints the argv; parsed with the script's
   captured parser here it gives back every value of the YAML (with the overrides applied). A key left null comes
   back as the value the parser gives when the option is not on the command line.
3. The training body of the script never ran (each stub writes $HAT_CORPUS_MARKER, then raises).

Each script goes through twice: with torch installed (skipped where it is not) and with torch hidden.

Two things the missing modules take away are undone before parsing here, because they only exist on this
machine: choices built from a missing module (torchvision.models) are empty, and a type from a missing module
(transformers.SchedulerType, where transformers is missing) returns stand-ins. On the machine that trains, the
real ones are there.

No clearml needed: these tests also run under the oldest supported Python.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set

import pytest

from clearml_hat.config.argparser.argv import received
from clearml_hat.config.argparser.capture import capture_parser
from clearml_hat.config.argparser.parser_keys import known_choices
from clearml_hat.config.argparser.parser_values import text_keys
from clearml_hat.config.argparser.stand_ins import is_stand_in
from clearml_hat.values.yaml_config import load_values
from tests.conftest import clean_env
from tests.missing_modules import missing_env

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "scripts"
MARKER_ENV = "HAT_CORPUS_MARKER"


class Run(NamedTuple):
    """One hat.py run: overrides given as key=value, and the argv of the required values alone (from which
    argparse gives the defaults that null keys must come back as)."""

    overrides: Dict[str, Any]
    baseline_argv: Sequence[str] = ()
    func: Optional[str] = None  # the set_defaults(func=...) the chosen subcommand must give


class Case(NamedTuple):
    script: str
    required: Dict[str, Any]  # filled into the fresh YAML before it is checked: the user must set these
    runs: List[Run]
    marks: Sequence[Any] = ()
    id: str = ""  # the test id; the script's name by default


CASES = [
    Case("yolov5_train.py", {}, [
        Run({}),
        Run({"epochs": 3, "label_smoothing": 0.1, "rect": True, "freeze": [0, 1, 2], "optimizer": "AdamW",
             "resume": "runs/train/exp/weights/last.pt", "evolve": 100, "cache": "disk", "weights": "yolov5m.pt",
             "upload_dataset": "val", "batch_size": -1, "entity": "team"}),
        Run({"resume": True, "evolve": 300, "cache": "ram", "upload_dataset": True, "imgsz": 320, "sync_bn": True}),
    ]),
    Case("yolov5_detect.py", {}, [
        Run({}),
        Run({"weights": ["yolov5s.pt", "yolov5m.pt"], "imgsz": [640, 480], "conf_thres": 0.5, "classes": [0, 2],
             "nosave": True, "hide_labels": True, "source": "0"}),
    ]),
    Case("detr_main.py", {}, [
        Run({}),
        Run({"lr": 0.0002, "epochs": 50, "aux_loss": False, "lr_drop_epochs": [30, 40], "position_embedding": "learned",
             "lr_backbone_names": ["backbone.0", "backbone.1"], "set_cost_class": 2.0, "coco_path": "/data/coco",
             "frozen_weights": "detr-r50.pth", "masks": True, "lr_backbone": 0.0}),
    ]),
    Case("timm_train.py", {}, [
        Run({}),
        Run({"data": "/datasets/imagenet", "batch_size": 64, "lr": 0.05, "input_size": [3, 160, 160],
             "mean": [0.5, 0.5, 0.5], "amp": True, "no_prefetcher": True, "decay_milestones": [30, 60],
             "min_lr": 1e-06, "scale": [0.5, 1.0], "model_ema": True, "opt": "adamw", "opt_betas": [0.9, 0.999],
             "sched": "step", "drop_path": 0.1, "aa": "rand-m9-mstd0.5"}),
    ]),
    Case("imagenet_main.py", {}, [
        Run({}),
        Run({"data": "/datasets/imagenet", "arch": "resnet50", "workers": 8, "lr": 0.01, "weight_decay": 5e-05,
             "gpu": 0, "pretrained": True, "seed": 42, "world_size": 1, "evaluate": True}),
    ]),
    Case("mnist_main.py", {}, [
        Run({}),
        Run({"epochs": 1, "lr": 0.5, "no_cuda": True, "dry_run": True, "save_model": True, "batch_size": 32,
             "gamma": 0.9}),
    ]),
    Case("run_glue_no_trainer.py", {"model_name_or_path": "bert-base-cased"}, [
        Run({}, ["--model_name_or_path", "x"]),
        Run({"task_name": "mrpc", "learning_rate": 2e-05, "max_train_steps": 1000, "trust_remote_code": True,
             "lr_scheduler_type": "cosine", "seed": 42, "with_tracking": True, "output_dir": "out/mrpc",
             "num_warmup_steps": 100}, ["--model_name_or_path", "x"]),
    ]),
    # DINO: bool_flag types that raise NameError on any text they do not know (their module lacks argparse).
    Case("dino_main.py", {}, [
        Run({}),
        Run({"use_fp16": False, "norm_last_layer": False, "use_bn_in_head": True, "arch": "vit_base",
             "global_crops_scale": [0.32, 1.0], "local_crops_scale": [0.05, 0.32], "lr": 0.00075, "epochs": 300,
             "optimizer": "sgd", "data_path": "/datasets/imagenet/train"}),
    ]),
    # transformers' HfArgumentParser over dataclasses and the real TrainingArguments: enum fields, booleans with
    # --no_x twins, list fields (tests/test_hf_scripts.py runs it for real).
    Case("hf_trainer.py", {}, [
        Run({}),
        Run({"save_strategy": "no", "eval_strategy": "epoch", "remove_unused_columns": False, "bf16": True,
             "use_fast_tokenizer": False, "lr_scheduler_type": "cosine", "learning_rate": 0.0003,
             "num_train_epochs": 2.0, "padding_side": "left", "lora_target_modules": ["q_proj", "k_proj"],
             "output_dir": "out/run1", "optim": "sgd"}),
    ], marks=[pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                 reason="transformers is not installed")]),
    Case("fairseq_like.py", {}, [
        Run({}),
        Run({"command": "train", "data": "data-bin/iwslt14", "lr": [0.0005, 0.0001], "max_tokens": 4096,
             "optimizer": "nag", "fp16": True, "seed": 7, "log_format": "json"}, ["train", "x"], func="train_main"),
        Run({"command": "validate", "data": "data-bin/wmt", "beam": 10, "scoring": "sacrebleu", "batch_size": 32,
             "seed": 5}, ["validate", "x"], func="eval_main"),
    ]),
    Case("convnext_str2bool.py", {}, [
        Run({}),
        Run({"model_ema": True, "use_amp": True, "auto_resume": False, "shuffle": False, "sync_bn": True,
             "lr": 0.001, "opt_betas": [0.9, 0.999], "data_set": "CIFAR", "input_size": 32, "drop_path": 0.1,
             "imagenet_default_mean_and_std": False}),
    ]),
    Case("torch_distributed_launch.py", {"training_script": "train.py"}, [
        Run({}, ["train.py"]),
        Run({"nproc_per_node": 8, "use_env": True, "module": True, "master_port": 29501, "master_addr": "10.0.0.1",
             "training_script_args": ["--lr", "0.1", "--epochs", "3", "data/"]}, ["train.py"]),
    ]),
    Case("modern_flags.py", {}, [
        Run({}),
        Run({"compile": False, "wandb_log": True, "flash": False, "verbose": 2, "tag": ["baseline", "v2"],
             "exclude": ["shard-0003"], "modes": ["eval"], "extra_files": ["a.txt", "b.txt"], "betas": [0.9, 0.99],
             "dtype": "float16", "learning_rate": 0.0003, "init_from": "gpt2"}),
        Run({"flash": True, "modes": ["bench", "eval"], "verbose": 1}),
    ], marks=[pytest.mark.skipif(sys.version_info < (3, 9), reason="argparse.BooleanOptionalAction is new in 3.9")]),
    Case("finetune_defaults.py", {}, [
        Run({}),
        Run({"lr": 0.0001, "min_lr": -1e-06, "grad_clip": 1.0, "early_stop": 10, "scheduler": "onecycle",
             "mean": [0.5, 0.5, 0.5], "bf16": True, "epochs": 5}),
    ]),
    Case("mmdet_train.py", {"config": "configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py"}, [
        Run({}, ["c.py"]),
        Run({"gpus": 2, "seed": 0, "deterministic": True, "launcher": "pytorch", "work_dir": "work_dirs/frcnn",
             "cfg_options": ["optimizer.lr=0.01", "runner.max_epochs=12"]}, ["c.py"]),
        Run({"gpu_ids": [0, 1], "auto_scale_lr": True}, ["c.py"]),
    ]),
]

# Cases that once broke the hat, each the smallest script shape that did.
REGRESSION_CASES = [
    # A default was written out next to a given member of its mutually exclusive group: argparse refused the argv.
    Case("finetune_defaults.py", {}, [Run({"resume": "ckpt.pt"})], id="mutex-group-member-given"),
    # A dict for type=json.loads was only tried as str(dict), never as JSON text.
    Case("finetune_defaults.py", {}, [Run({"loss_weights": {"cls": 2.0, "box": 5.0, "obj": 1.0}})],
         id="json-loads-dict"),
]


def _params(cases: List[Case]) -> List[Any]:
    return [pytest.param(case, id=case.id or case.script[: -len(".py")], marks=case.marks) for case in cases]


@pytest.fixture
def corpus_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch_mode: str) -> Dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    if torch_mode == "torch missing":
        env = missing_env(env, "torch", "torchvision")
    env[MARKER_ENV] = str(tmp_path / "training-ran")
    monkeypatch.setenv(MARKER_ENV, env[MARKER_ENV])  # for the in-process capture below
    return env


def _run(args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    """Run one of the tools; the training must not have run (checked first), and the tool must succeed."""
    done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    marker = Path(env[MARKER_ENV])
    assert not marker.exists(), f"{args} ran the training: {marker.read_text()!r}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, f"{args} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def _override(key: str, value: Any) -> str:
    return f"{key}={json.dumps(value)}"  # JSON is YAML flow syntax: typed the same way by hat.py


def _fill_in(yaml_path: Path, values: Dict[str, Any]) -> None:
    """Set required keys in the YAML text, as a user edits the file."""
    text = yaml_path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^{re.escape(key)}: null$", f"{key}: {json.dumps(value)}", text)
        assert count == 1, f"{key}: null not found in {yaml_path}"
    yaml_path.write_text(text, encoding="utf-8")


def _parser_for_this_machine(script: Path) -> argparse.ArgumentParser:
    """The captured parser, minus choices and types that only the missing modules could have given."""
    parser = capture_parser(script)
    for each in _all_parsers(parser):
        for action in each._actions:
            if action.choices is not None and not isinstance(action, argparse._SubParsersAction) \
                    and known_choices(action) is None:
                action.choices = None
            if is_stand_in(action.type):
                action.type = None
    return parser


def _all_parsers(parser: argparse.ArgumentParser) -> List[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += _all_parsers(child)
    return found


def _dests(parser: argparse.ArgumentParser) -> Set[str]:
    return {a.dest for a in parser._actions if not isinstance(a, argparse._SubParsersAction)}


def _same(got: Any, want: Any) -> bool:
    """YAML equality, strict on bool: 1 == 1.0, but True != 1 and '1' != 1."""
    if isinstance(got, bool) or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if isinstance(got, (int, float)) and isinstance(want, (int, float)):
        return got == want
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(_same(a, b) for a, b in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(_same(got[k], want[k]) for k in got)
    return type(got) is type(want) and got == want


def _same_default(got: Any, want: Any) -> bool:
    """The very default object (a Path, a stand-in), or an equal one (a string default parsed by its type)."""
    if is_stand_in(got) or is_stand_in(want):
        return is_stand_in(got) and is_stand_in(want) and repr(got) == repr(want)
    return got is want or got == want


def _assert_round_trip(parser: argparse.ArgumentParser, argv: List[str], values: dict, run: Run) -> None:
    namespace = parser.parse_args(argv)
    baseline = vars(parser.parse_args(list(run.baseline_argv)))
    # Keys of subcommands that were not chosen are absent from the namespace; so is `command` (dest=SUPPRESS).
    chosen = set(vars(namespace))
    subcommand_keys = {k for p in _all_parsers(parser)[1:] for k in _dests(p)} - _dests(parser)
    problems = []
    for key, want in values.items():
        if key not in chosen:
            if key != "command" and key not in subcommand_keys:
                problems.append(f"{key}: missing from the namespace")
            continue
        got = getattr(namespace, key)
        if want is None:
            if not _same_default(got, baseline[key]):
                problems.append(f"{key}: null in the YAML, but the parser gave {got!r}, not its default "
                                f"{baseline[key]!r}")
        elif key not in run.overrides and _same_default(got, baseline[key]):
            # The default the YAML was written with is not passed, so the script's own default applies, which may
            # differ from the YAML's where it depends on the machine (TrainingArguments' optim does on torch).
            continue
        elif not _same(received(got), want):  # a str enum (type=SchedulerType) as its text
            problems.append(f"{key}: the YAML says {want!r}, the parser gave {got!r}")
    if run.func is not None:
        func = getattr(namespace, "func", None)
        problems += [] if getattr(func, "__name__", None) == run.func else [f"func: {func!r}, not {run.func}"]
    assert not problems, f"argv {argv}:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", _params(CASES) + _params(REGRESSION_CASES))
def test_script_round_trip(case: Case, tmp_path: Path, corpus_env: Dict[str, str]) -> None:
    script = SCRIPTS / case.script
    yaml_path = tmp_path / f"{script.stem}.yaml"
    marker = Path(corpus_env[MARKER_ENV])

    _run(["argparse_to_yaml.py", "--script", str(script), "-o", str(yaml_path)], corpus_env)
    if case.required:
        _fill_in(yaml_path, case.required)
    checked = _run(["argparse_to_yaml.py", "--script", str(script), "--check", str(yaml_path)], corpus_env)
    assert checked.stdout.strip().splitlines()[-1] == "ok", checked.stdout

    parser = _parser_for_this_machine(script)
    assert not marker.exists(), f"capturing the parser ran the training of {case.script}"
    fresh = load_values(yaml_path, text_keys(parser))
    for run in case.runs:
        overrides = [_override(key, value) for key, value in run.overrides.items()]
        printed = _run(["hat.py", "--train_yaml", str(yaml_path), "--script", str(script), "--print_argv",
                        *overrides], corpus_env)
        argv = json.loads(printed.stdout.strip().splitlines()[-1])
        values = dict(fresh, **run.overrides)
        _assert_round_trip(parser, argv, values, run)


def test_parser_handed_to_missing_deepspeed_is_refused_in_one_line(tmp_path: Path, corpus_env: Dict[str, str]):
    """`parser = deepspeed.add_config_arguments(parser)` with deepspeed missing: the options deepspeed adds are
    unknown, so no YAML is written and no argv is made (once, the training body even ran during capture)."""
    script = SCRIPTS / "deepspeed_cifar.py"
    yaml_path = tmp_path / "ds.yaml"
    for args in (["argparse_to_yaml.py", "--script", str(script), "-o", str(yaml_path)],
                 ["hat.py", "--script", str(script), "--train_yaml", str(yaml_path), "--print_argv"]):
        done = subprocess.run([sys.executable, *args], cwd=REPO, env=corpus_env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "hands the parser to deepspeed.add_config_arguments()" in lines[0], lines
        assert "install 'deepspeed'" in lines[0]
        assert not yaml_path.exists()
        assert not Path(corpus_env[MARKER_ENV]).exists()
