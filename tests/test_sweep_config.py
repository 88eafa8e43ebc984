"""sweep.yaml read and checked against a parser, and best.yaml written from a training YAML: no ClearML."""
from __future__ import annotations

import argparse
import importlib.util
import textwrap

import pytest
import yaml

from clearml_hat.config.argparser.system import ArgparseSystem
from clearml_hat.config.system import defaults_of
from clearml_hat.errors import HatError
from clearml_hat.values import config_files
from clearml_hat.values.best_yaml import best_yaml_text, default_path, write_best_yaml
from clearml_hat.values.sweep_config import read_sweep


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "momentum"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--img_size", type=int, nargs=2, default=[16, 16])
    p.add_argument("--precision", default="no")
    return p


BASE = {"lr": 0.1, "batch_size": 8, "optimizer": "sgd", "epochs": 20, "img_size": [16, 16], "precision": "no"}
ISSUE_SWEEP = """\
objective: val_acc            # a metric name
goal: max                     # max | min
strategy: random
max_trials: 12
parallel: 3
parameters:
  lr: {min: 0.001, max: 0.3, log: true}
  batch_size: [4, 8, 16]
  optimizer: [sgd, momentum]
  epochs: {min: 5, max: 20, step: 5}
"""


def read(tmp_path, text: str):
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(text))
    return read_sweep(path, ArgparseSystem(parser()), BASE)


def problems(tmp_path, text: str) -> list:
    with pytest.raises(HatError) as error:
        read(tmp_path, text)
    return [line.split("sweep.yaml: ", 1)[1] for line in str(error.value).splitlines()]


def test_the_issue_sweep_reads_as_written(tmp_path):
    sweep = read(tmp_path, ISSUE_SWEEP)
    assert (sweep.objective, sweep.goal, sweep.strategy, sweep.max_trials, sweep.parallel) == (
        "val_acc", "max", "random", 12, 3)
    lr, batch, optimizer, epochs = sweep.parameters
    assert (lr.values, lr.low, lr.high, lr.log) == (None, 0.001, 0.3, True)
    assert batch.values == [4, 8, 16] and optimizer.values == ["sgd", "momentum"]
    assert epochs.values == [5, 10, 15, 20] and all(type(v) is int for v in epochs.values)
    assert sweep.objective_metric == ("Summary", "val_acc") and sweep.trials == 12


def test_a_title_series_objective_and_a_grid_smaller_than_max_trials(tmp_path):
    sweep = read(tmp_path, """\
        objective: loss/val
        goal: min
        strategy: grid
        parameters:
          lr: {min: 0.1, max: 0.3, step: 0.1}
          img_size: [[8, 8], [16, 16]]
        """)
    assert sweep.objective_metric == ("loss", "val")
    assert sweep.parameters[0].values == [0.1, 0.2, 0.3]  # not 0.30000000000000004
    assert sweep.trials == 6 and sweep.parallel == 1


def test_an_int_range_without_a_step_has_step_one_and_whole_floats_are_ints(tmp_path):
    sweep = read(tmp_path, "objective: acc\ngoal: max\nparameters:\n  epochs: {min: 1, max: 3}\n  batch_size: [4.0]\n")
    assert sweep.parameters[0].values == [1, 2, 3] and sweep.parameters[1].values == [4]
    assert type(sweep.parameters[1].values[0]) is int


@pytest.mark.parametrize("text, expected", [
    ("objective: a\ngoal: max\nparameters: {lr: [0.1]}\nearly_stop: 3\n", "unknown key 'early_stop'"),
    ("goal: max\nparameters: {lr: [0.1]}\n", "objective is missing; add it"),
    ("objective: a\ngoal: up\nparameters: {lr: [0.1]}\n", "goal: 'up' is not max or min"),
    ("objective: a\ngoal: max\nstrategy: bayes\nparameters: {lr: [0.1]}\n", "strategy: 'bayes' is not one of"),
    ("objective: a\ngoal: max\nparallel: 0\nparameters: {lr: [0.1]}\n", "parallel: 0 is not a whole number"),
    ("objective: a\ngoal: max\nparameters: {lrate: [0.1]}\n", "'lrate' is not a training key of the script"),
    ("objective: a\ngoal: max\nparameters: {lr: []}\n", "parameters.lr: the list is empty"),
    ("objective: a\ngoal: max\nparameters: {lr: 0.1}\n", "parameters.lr: give a list of values"),
    ("objective: a\ngoal: max\nparameters: {lr: {min: 0.1, max: 1, steps: 2}}\n", "unknown range key 'steps'"),
    ("objective: a\ngoal: max\nparameters: {lr: {min: 1, max: 0.1}}\n", "min 1 is not below max 0.1"),
    ("objective: a\ngoal: max\nparameters: {lr: {min: 0, max: 1, log: true}}\n", "a log range is continuous"),
    ("objective: a\ngoal: max\nparameters: {epochs: {min: 1, max: 9, log: true}}\n", "on a float option"),
    ("objective: a\ngoal: max\nparameters: {optimizer: {min: 1, max: 2}}\n", "is not an int or float option"),
    ("objective: a\ngoal: max\nparameters: {precision: [no, fp16]}\n", "False is read by YAML as a bool"),
    ("objective: a\ngoal: max\nparameters: {img_size: [[8, 8], [8]]}\n", "img_size: [8] cannot be given"),
    ("objective: a\ngoal: max\nparameters: {epochs: {min: 5, max: 20, step: 2.5}}\n", "step 2.5 is not a whole"),
    ("objective: a\ngoal: max\nparameters: {batch_size: {min: 0.5, max: 8}}\n", "min 0.5 is not a whole number"),
    ("objective: a\ngoal: max\nparameters: {optimizer: [sgd, adam]}\n", "'adam' is not one of the choices"),
    ("objective: a\ngoal: max\nstrategy: grid\nparameters: {lr: {min: 0.1, max: 1}}\n", "a grid needs a list"),
    ("objective: a\ngoal: max\nstrategy: optuna\nparameters: {lr: [0.1]}\n", "`pip install optuna`"),
])  # fmt: skip
def test_each_problem_is_one_line_naming_it(tmp_path, text, expected):
    if "optuna" in text and importlib.util.find_spec("optuna"):
        pytest.skip("optuna is installed: the strategy is valid")
    lines = problems(tmp_path, text)
    assert len(lines) == 1 and expected in lines[0], lines


def test_all_problems_come_in_one_report(tmp_path):
    lines = problems(tmp_path, "goal: sideways\nextra: 1\nparameters:\n  lr: [fast]\n  epoch: [1]\n")
    assert len(lines) == 5, lines


def test_a_missing_or_empty_sweep_file_is_one_line(tmp_path):
    with pytest.raises(HatError, match="no such file"):
        read_sweep(tmp_path / "nope.yaml", ArgparseSystem(parser()), BASE)
    with pytest.raises(HatError, match="the file is empty"):
        read(tmp_path, "\n")


TRAIN_YAML = """\
# header comment
# learning rate
lr: 0.1   # try 0.01 too
batch_size: 8
img_size:
  - 16
  - 16
# update rule
optimizer: sgd
epochs: 20
"""


def test_best_yaml_keeps_every_comment_and_changes_only_the_values(tmp_path):
    text = best_yaml_text(TRAIN_YAML, {"lr": 0.02, "img_size": [8, 8], "optimizer": "momentum"})
    assert text == TRAIN_YAML.replace("lr: 0.1   #", "lr: 0.02   #").replace(
        "img_size:\n  - 16\n  - 16\n", "img_size: [8, 8]\n").replace("optimizer: sgd", "optimizer: momentum")


def test_best_yaml_adds_a_key_the_file_lacks_and_reads_back(tmp_path):
    source = tmp_path / "config.yaml"
    source.write_text(TRAIN_YAML)
    out = write_best_yaml(source, {"lr": 1e-05, "seed": 3, "optimizer": "no"}, default_path(source))
    assert out == tmp_path / "config.best.yaml"
    values = yaml.safe_load(out.read_text())
    assert values["seed"] == 3 and values["optimizer"] == "no" and float(values["lr"]) == 1e-05
    assert "# set by the sweep (the file had no such key)" in out.read_text()


def test_a_config_files_dotted_key_is_swept_and_checked_against_the_file(tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text("optim: {lr: 0.1, name: sgd}\nepochs: 3\n")
    with_config = parser()
    with_config.add_argument("--config", default=str(exp))
    system = ArgparseSystem(with_config)
    base = config_files.expand(defaults_of(system), system.known_keys())
    assert (base["config.optim.lr"], base["config.epochs"]) == (0.1, 3)
    path = tmp_path / "sweep.yaml"
    path.write_text("objective: loss\ngoal: min\nparameters: {config.optim.lr: [0.01, 0.1], config.epochs: [1, 2]}\n")
    sweep = read_sweep(path, system, base)
    assert [(p.key, p.values) for p in sweep.parameters] == [("config.optim.lr", [0.01, 0.1]),
                                                             ("config.epochs", [1, 2])]
    path.write_text("objective: loss\ngoal: min\nparameters: {config.optim.lr: [fast], config.optim.lrr: [1]}\n")
    with pytest.raises(HatError) as error:
        read_sweep(path, system, base)
    assert [line.split("sweep.yaml: ", 1)[1] for line in str(error.value).splitlines()] == [
        f"parameters.config.optim.lr: config.optim.lr: 'fast' is a string where {exp} has a number (0.1); give a "
        "number",
        "parameters.config.optim.lrr: 'config.optim.lrr' is not a training key of the script (did you mean "
        "'config.optim.lr'?)"]
