"""sweep.yaml: what a sweep searches, read and checked against the training script's parser before any task exists.

    sweep = read_sweep("sweep.yaml", job)   # HatError: every problem of the file, one line each

    objective: val_acc            # "title/series", a printed metric name, or a key of main()'s returned dict
    goal: max                     # max | min
    strategy: random              # grid | random | optuna (default random)
    max_trials: 12                # default 10; a grid runs at most its size
    parallel: 3                   # trials running at once (default 1)
    parameters:
      lr: {min: 0.001, max: 0.3, log: true}   # continuous, sampled on a log scale
      batch_size: [4, 8, 16]                  # a list of values, each typed as in the training YAML
      optimizer: [sgd, momentum]
      epochs: {min: 5, max: 20, step: 5}      # 5, 10, 15, 20

A range is `min` and `max` with an optional `step` (values min, min + step, ... up to max) or `log: true`; on an
int option a range without a step has step 1. Only an int or float option takes a range. A grid needs every
parameter to be a list or a stepped range. Each list value, each end of a range and its step must be a value the
script's parser accepts for that key (type, choices, nargs), with the training's other values as they are.
"""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, List, Optional, Tuple

from clearml_hat.config.job import check_job_values, known_value_keys
from clearml_hat.config.system import ConfigSystem
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import did_you_mean, load_values

KEYS = ("objective", "goal", "strategy", "max_trials", "parallel", "parameters")
RANGE_KEYS = ("min", "max", "step", "log")
GOALS = ("max", "min")
STRATEGIES = ("grid", "random", "optuna")
DEFAULTS = {"strategy": "random", "max_trials": 10, "parallel": 1}
# A single value of main()'s returned dict is stored by ClearML as a scalar of this title (Logger.report_single_value).
SINGLE_VALUE_TITLE = "Summary"


@dataclass
class Parameter:
    """One swept training key: a list of values, or a continuous range (`values` None) from low to high."""

    key: str
    values: Optional[List[Any]] = None
    low: float = 0.0
    high: float = 0.0
    log: bool = False


@dataclass
class Sweep:
    objective: str
    goal: str
    strategy: str
    max_trials: int
    parallel: int
    parameters: List[Parameter]

    @property
    def objective_metric(self) -> Tuple[str, str]:
        """The (title, series) the optimizer ranks by. A plain name is the single value of that name: main()'s
        dict key, or the final printed value, which the trial reports under the name (see --objective)."""
        title, slash, series = self.objective.partition("/")
        return (title, series) if slash else (SINGLE_VALUE_TITLE, self.objective)

    @property
    def trials(self) -> int:
        """How many trainings the sweep runs: max_trials, or fewer when the space has fewer combinations."""
        if any(p.values is None for p in self.parameters):
            return self.max_trials
        return min(self.max_trials, math.prod(len(p.values or []) for p in self.parameters))


def read_sweep(path: str | Path, system: ConfigSystem, base_values: dict) -> Sweep:
    """The sweep in path, checked against the training's config system and its base values; HatError lists every
    problem."""
    path = Path(path)
    if not path.is_file():
        raise HatError(f"{path}: no such file; write a sweep.yaml (see the README's Sweeps section)")
    if not path.read_text(encoding="utf-8").strip():
        raise HatError(f"{path}: the file is empty; give objective, goal and parameters (see the README's Sweeps)")
    raw = load_values(path)
    problems: List[str] = []
    for key in raw:
        if key not in KEYS:
            problems.append(f"unknown key {key!r}{did_you_mean(str(key), KEYS)}; a sweep.yaml has only "
                            f"{', '.join(KEYS)}")
    for key in ("objective", "goal", "parameters"):
        if raw.get(key) is None:
            problems.append(f"{key} is missing; add it")
    settings = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    # Any: each is checked below, and the Sweep is only made when no problem was found.
    objective: Any = settings.get("objective")
    goal: Any = settings.get("goal")
    strategy: Any = settings["strategy"]
    if objective is not None and (not isinstance(objective, str) or not objective.strip("/ ")):
        problems.append(f"objective: {objective!r} is not a metric name; give one like val_acc or loss/val")
    if goal is not None and goal not in GOALS:
        problems.append(f"goal: {goal!r} is not max or min")
    if strategy not in STRATEGIES:
        problems.append(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    elif strategy == "optuna" and importlib.util.find_spec("optuna") is None:
        problems.append("strategy: optuna needs the optuna package: `pip install optuna`, or use random or grid")
    for key in ("max_trials", "parallel"):
        if not _is_int(settings[key]) or settings[key] < 1:
            problems.append(f"{key}: {settings[key]!r} is not a whole number of at least 1")
    parameters = _parameters(raw.get("parameters"), strategy, system, base_values, problems)
    if problems:
        raise HatError("\n".join(f"{path}: {problem}" for problem in dict.fromkeys(problems)))
    return Sweep(objective, goal, strategy, settings["max_trials"], settings["parallel"], parameters)


def _parameters(raw: Any, strategy: str, system: ConfigSystem, base_values: dict,
                problems: List[str]) -> List[Parameter]:
    if raw is None:
        return []
    if not isinstance(raw, dict) or not raw:
        problems.append("parameters: give a mapping of training keys to a list or a range, e.g. lr: [0.01, 0.1]")
        return []
    known = known_value_keys(system, base_values)
    texts = system.text_keys()
    found = []
    for key, spec in raw.items():
        where = f"parameters.{key}"
        if key not in known:
            problems.append(f"{where}: {key!r} is not a training key of the script{did_you_mean(str(key), known)}")
            continue
        if isinstance(spec, list):
            parameter = _listed(where, key, spec, key in texts, problems)
        elif isinstance(spec, dict):
            parameter = _ranged(where, key, spec, strategy, system.number_type(key), problems)
        else:
            problems.append(f"{where}: give a list of values ([4, 8]) or a range ({{min: 1, max: 9}}), not {spec!r}")
            continue
        if parameter is not None:
            _check_values(where, parameter, system, base_values, problems)
            found.append(parameter)
    return found


def _listed(where: str, key: str, spec: list, takes_text: bool, problems: List[str]) -> Optional[Parameter]:
    if not spec:
        problems.append(f"{where}: the list is empty; give at least one value")
        return None
    for item in spec:
        if takes_text and item is not None and not isinstance(item, str):
            # YAML reads `no` as False and `1.10` as 1.1; argparse would have handed the script the text.
            problems.append(f"{where}: {item!r} is read by YAML as a {type(item).__name__}, but {key} takes text; "
                            f"quote it ('{item}')")
    return Parameter(key, values=list(spec))


def _ranged(where: str, key: str, spec: dict, strategy: str, number_type: Optional[type],
            problems: List[str]) -> Optional[Parameter]:
    before = len(problems)
    for name in spec:
        if name not in RANGE_KEYS:
            problems.append(f"{where}: unknown range key {name!r}; a range has only {', '.join(RANGE_KEYS)}")
    # Any: each is checked below before it is used as a number.
    low: Any = spec.get("min")
    high: Any = spec.get("max")
    step: Any = spec.get("step")
    log: Any = spec.get("log", False)
    for name, value in (("min", low), ("max", high), ("step", step)):
        if (value is not None or name != "step") and not _is_number(value):
            problems.append(f"{where}: {name} {value!r} is not a number")
    if not isinstance(log, bool):
        problems.append(f"{where}: log {log!r} is not true or false")
    if number_type is None:
        problems.append(f"{where}: {key} is not an int or float option (type=int or type=float), so it takes no "
                        "range; give a list of values")
    if len(problems) > before:
        return None
    if low >= high:
        problems.append(f"{where}: min {low} is not below max {high}")
    if step is not None and step <= 0:
        problems.append(f"{where}: step {step} is not above 0")
    if log and (step is not None or low <= 0 or number_type is int):
        problems.append(f"{where}: a log range is continuous, from a min above 0, on a float option; give a list "
                        "for fixed values")
    if number_type is int:
        for name, value in (("min", low), ("max", high), ("step", step)):
            if value is not None and not float(value).is_integer():
                problems.append(f"{where}: {name} {value} is not a whole number, and {key} is an int option")
        step = 1 if step is None else step
    if strategy == "grid" and step is None:
        problems.append(f"{where}: a grid needs a list or a stepped range ({{min: {low}, max: {high}, step: ...}})")
    if len(problems) > before or number_type is None:
        return None
    if step is None:
        return Parameter(key, low=float(low), high=float(high), log=log)
    return Parameter(key, values=_steps(low, high, step, number_type))


def _steps(low: float, high: float, step: float, number_type: type) -> List[Any]:
    """min, min + step, ... up to max, each rounded to the digits the YAML gave (0.1 + 0.2 is 0.3, not 0.30...04)."""
    count = int(math.floor((high - low) / step + 1e-9)) + 1
    if number_type is int:
        return [int(low + i * step) for i in range(count)]
    digits = max(-int(Decimal(str(x)).as_tuple().exponent) for x in (low, step))
    return [round(low + i * step, max(digits, 0)) for i in range(count)]


def _check_values(where: str, parameter: Parameter, system: ConfigSystem, base_values: dict,
                       problems: List[str]) -> None:
    """Each value the sweep can give (every list value, a range's ends) must pass the config system as the YAML
    would."""
    candidates = parameter.values if parameter.values is not None else [parameter.low, parameter.high]
    typed = []
    for value in candidates:
        value = system.typed({parameter.key: value})[parameter.key]
        found = check_job_values(system, {**base_values, parameter.key: value}).problems
        problems.extend(f"{where}: {problem}" for problem in found)
        typed.append(value)
    if parameter.values is not None:
        parameter.values = typed


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

