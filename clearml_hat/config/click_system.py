"""click and typer as a config system (config/system.py): the parameters of the click Command a script invokes
(a typer app or `typer.run(main)` is one too), read from `command.params` after capture (config/click_capture.py).

    system = ClickSystem(Path("train.py"), capture_command("train.py"))   # capture: config/click_capture.py
    system.command_line({"learning_rate": 0.5, "shuffle": False, "layers": [8, 8]})
    # ["--learning-rate=0.5", "--no-shuffle", "--layer", "8", "--layer", "8"]

Keys are the parameter names click gives the function (`--learning-rate` is `learning_rate`, `--layer` with the
name `layers` is `layers`, a positional `data_dir` is `data_dir`). Defaults are what click itself resolves for an
empty command line here (envvars and callable defaults included). The command line is proven by parsing it back
with the command's own `make_context`: each value the script gets must be the one asked for.
"""
from __future__ import annotations

import enum
import importlib
import os
import typing
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

from clearml_hat.clearml import sdk_private
from clearml_hat.config.click_capture import CapturedCommand
from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import same_value

_NUMBER_TYPES = {"IntParamType": int, "IntRange": int, "FloatParamType": float, "FloatRange": float,
                 "BoolParamType": bool}


class ClickSystem:
    """The parameters of one click Command (not a group: its subcommands are refused in one line)."""

    name = "click"
    nested = False

    def __init__(self, script: Path, captured: CapturedCommand) -> None:
        command = captured.command
        if hasattr(command, "commands"):
            names = ", ".join(sorted(command.commands)) or "none yet"
            raise HatError(f"{script} runs a click group with subcommands ({names}); the hat runs one click command: "
                           "give --script a script whose __main__ invokes that command itself")
        sdk_private.without_click_binding()  # before the first parse: ClearML's would undo the values under an agent
        self.command = command
        self.settings = captured.settings  # `main(auto_envvar_prefix="TRAIN")`: envvars count for the defaults
        self.prog = script.name
        # The errors of typer's own copy of click (typer._click) or click's: the ones the command raises.
        self.errors = importlib.import_module(f"{_click_package(command)}.exceptions")
        self.params: Dict[str, Any] = {}
        self.switches: Dict[str, List[Any]] = {}  # feature switches: flags that write their flag_value to one name
        for param in command.params:
            if param.expose_value and param.name:
                self.params.setdefault(param.name, param)
                if _is_option(param) and param.is_flag and _scalar_type(param) is str:
                    self.switches.setdefault(param.name, []).append(param)
        self.empty = self._context([])  # what click resolves for an empty command line
        self.defaults = {key: yaml_value(self.empty.params.get(key)) for key in self.params}

    def describe(self) -> List[KeyDoc]:
        return [KeyDoc(key, self.defaults[key], help=" ".join((getattr(param, "help", None) or "").split()),
                       choices=self._switch_values(key) or _choices(param),
                       required=bool(param.required) and self.defaults[key] is None,
                       flags=tuple(param.opts + param.secondary_opts) if _is_option(param) else ())
                for key, param in self.params.items()]

    def known_keys(self) -> List[str]:
        return list(self.params)

    def text_keys(self) -> Set[str]:
        """Every key whose values are text: a choice `no` or a name `1.10` stays that text (a mixed tuple is typed
        item by item, as YAML reads it)."""
        return {key for key, param in self.params.items() if _scalar_type(param) is str}

    def typed(self, values: dict) -> dict:
        return {key: _typed(value, _scalar_type(self.params[key])) if key in self.params else value
                for key, value in values.items()}

    def number_type(self, key: str) -> Optional[type]:
        param = self.params.get(key)
        if param is None or param.multiple or param.nargs != 1:
            return None
        kind = _scalar_type(param)
        return kind if kind in (int, float) else None

    def check(self, values: dict) -> Checked:
        problems = []
        for key, value in values.items():
            if key not in self.params:
                close = closest_key(key, list(self.params))
                fix = f"did you mean {close!r}?" if close else "remove it"
                problems.append(f"{key}: the click command has no such parameter; {fix}")
            elif value is None:  # not passed: fine unless click has no value of its own either (an envvar)
                if self.params[key].required and self.defaults[key] is None:
                    problems.append(f"{key}: the script requires a value ({_shown(self.params[key])}); give one")
            else:
                problems += self._value_problems(key, value)
        for key, param in self.params.items():
            if key not in values and param.required and self.defaults[key] is None:
                problems.append(f"{key}: the script requires a value ({_shown(param)}); give one")
        return Checked(problems, [])

    def _value_problems(self, key: str, value: Any) -> List[str]:
        """What click itself says of the value, as the command line would hand it over."""
        param = self.params[key]
        if _is_bool_flag(param) and not isinstance(value, bool):
            return [f"{key}: {value!r} is not true or false ({_shown(param)} is a flag); give true or false"]
        switched = self._switch_values(key)
        if switched and not any(same_value(value, option) for option in switched + [self.defaults[key]]):
            flags = ", ".join(opt for switch in self.switches[key] for opt in switch.opts)
            return [f"{key}: {value!r} is no flag's value ({flags}); choose one of {', '.join(map(str, switched))}"]
        if (param.multiple or param.nargs != 1) and not isinstance(value, list):
            return [f"{key}: {value!r} is one value where {_shown(param)} takes a list; give a list"]
        try:
            param.process_value(self.empty, _raw(param, value))
        except self.errors.UsageError as error:
            fix = f"choose one of {', '.join(map(str, _choices(param) or []))}" if _choices(param) else \
                "give a value of that type"
            return [f"{key}: {' '.join(error.message.split()).rstrip('.')} ({_shown(param)}); {fix}"]
        return []

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """Options in the script's order, then the positionals; parsed back to prove the script gets values."""
        given = {key: value for key, value in values.items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        options: List[str] = []
        for key, param in self.params.items():
            if key in given and _is_option(param):
                options += self._option_tokens(key, param, given[key])
        argv = options + self._positional_tokens(given)
        back = self._context(argv).params
        for key, value in given.items():
            # What click makes of this value alone (a custom type's own conversion included) must be what it
            # makes of it within the whole command line.
            param = self.params[key]
            wanted = yaml_value(param.process_value(self.empty, _raw(param, _typed(value, _scalar_type(param)))))
            got = yaml_value(back.get(key))
            if not same_value(got, wanted):
                raise HatError(f"{key}: click reads {' '.join(argv)!r} as {key}={got!r}, not {wanted!r}; write the "
                               "value as the option takes it")
        return argv

    def _option_tokens(self, key: str, param: Any, value: Any) -> List[str]:
        flag = next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])
        if getattr(param, "count", False):
            return [flag] * int(value)
        if param.is_flag:
            for switch in self.switches.get(key, [param]):
                if same_value(value, yaml_value(_flag_value(switch))):
                    return [next((opt for opt in switch.opts if opt.startswith("--")), switch.opts[0])]
            if param.secondary_opts:
                return [param.secondary_opts[0]]
            if same_value(value, self.defaults[key]):
                return []
            raise HatError(f"{key}: {value!r} cannot be said on the command line ({flag} has no off switch); leave "
                           "it at its default")
        if param.multiple:
            if not value and self.defaults[key]:
                raise HatError(f"{key}: an empty list cannot be said on the command line (click gives the default "
                               f"{self.defaults[key]!r} when {flag} is not given); give at least one value")
            return [token for item in value for token in [flag, *_tokens(param, item)]]
        if param.nargs == 1 and flag.startswith("--"):
            return [f"{flag}={_token(value)}"]  # `--lr=-0.5`: a value that starts with a dash stays a value
        return [flag, *_tokens(param, value)]

    def _switch_values(self, key: str) -> List[Any]:
        """The values the feature switches of key give (`--upper`/`--lower` writing 'upper'/'lower' to `case`)."""
        return [yaml_value(_flag_value(switch)) for switch in self.switches.get(key, [])]

    def _positional_tokens(self, given: dict) -> List[str]:
        """Positionals up to the last one given; one before it that is not given is written at its default."""
        arguments = [key for key, param in self.params.items() if not _is_option(param)]
        last = max((index for index, key in enumerate(arguments) if key in given), default=-1)
        tokens: List[str] = []
        for key in arguments[:last + 1]:
            value = given.get(key, self.defaults[key])
            if value is None:
                raise HatError(f"{key}: the positional has no value, so the ones after it cannot be given; give it")
            tokens += _tokens(self.params[key], value)
        return (["--"] if any(token.startswith("-") for token in tokens) else []) + tokens

    def _context(self, argv: List[str]) -> Any:
        """The command's own parse of argv (resilient: no prompts, no help exits); its `params` are the values."""
        return self.command.make_context(self.prog, list(argv), **{**self.settings, "resilient_parsing": True})


def _click_package(command: Any) -> str:
    """'click', or 'typer._click' for typer's own copy of click."""
    for base in type(command).__mro__:
        if base.__name__ == "Command" and base.__module__.endswith(".core"):
            return base.__module__.rpartition(".")[0]
    return "click"


def _is_bool_flag(param: Any) -> bool:
    """`--fp16`, `--shuffle/--no-shuffle` (typer's options have no is_bool_flag: their flags are all bool)."""
    return _is_option(param) and param.is_flag and not getattr(param, "count", False) and \
        getattr(param, "is_bool_flag", True)


def _flag_value(param: Any) -> Any:
    """What a flag gives when present: True, or a feature switch's own value (`flag_value='upper'`)."""
    return True if _is_bool_flag(param) else param.flag_value


def _is_option(param: Any) -> bool:
    return param.param_type_name == "option"


def _shown(param: Any) -> str:
    return "/".join(param.opts + param.secondary_opts) if _is_option(param) else f"the positional {param.name}"


def _choices(param: Any) -> Optional[list]:
    """A Choice's options (a typer Enum's values), as YAML values."""
    descriptor = getattr(param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) if descriptor is not None else \
        getattr(getattr(param, "type", None), "choices", None)
    return [yaml_value(choice) for choice in choices] if choices else None


def _scalar_type(param: Any) -> Optional[type]:
    """int, float, bool or str for one value of the parameter (an item of a list); None when unknown."""
    if _is_bool_flag(param):
        return bool
    if _is_option(param) and param.is_flag and not getattr(param, "count", False):
        return str
    if _is_option(param) and getattr(param, "count", False):
        return int
    descriptor = getattr(param, "type_descriptor", None)  # typer 0.20+: the function's annotation
    if descriptor is not None:
        return _annotation_type(descriptor.annotation)
    name = type(getattr(param, "type", None)).__name__
    return _NUMBER_TYPES.get(name, str) if name != "Tuple" else None


def _annotation_type(annotation: Any) -> Optional[type]:
    """The type of one value of a typer annotation: int for Optional[int] and List[int], str for Literal['a', 'b'];
    None when they differ (Tuple[int, str])."""
    arguments = [argument for argument in typing.get_args(annotation) if argument is not type(None)]
    if repr(typing.get_origin(annotation)).endswith(".Literal"):  # typing's or typing_extensions'
        kinds = {type(argument) for argument in arguments}
        return kinds.pop() if len(kinds) == 1 else None
    if typing.get_origin(annotation) is not None:
        return _annotation_type(arguments[0]) if len(set(arguments)) == 1 else None
    if annotation in (int, float, bool):
        return annotation
    return str if isinstance(annotation, type) else None


def yaml_value(value: Any) -> Any:
    """A value click handed the script as a YAML value: an Enum as its value, a Path as text, a tuple a list."""
    if isinstance(value, enum.Enum):  # before str: typer's choices are `class Optimizer(str, Enum)`
        return yaml_value(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (tuple, list)):
        return [yaml_value(item) for item in value]
    return str(value)


def _typed(value: Any, kind: Optional[type]) -> Any:
    """10 for an int option given 10.0, 1.0 for a float option given 1; lists item by item."""
    if isinstance(value, list):
        return [_typed(item, kind) for item in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if kind is float:
        return float(value)
    return int(value) if kind is int and float(value).is_integer() else value


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _tokens(param: Any, value: Any) -> List[str]:
    return [_token(item) for item in value] if isinstance(value, list) else [_token(value)]


def _raw(param: Any, value: Any) -> Any:
    """The value as click's parser hands it to the parameter: text, a tuple of texts for nargs and multiple."""
    def one(item: Any) -> Any:
        return tuple(_tokens(param, item)) if param.nargs != 1 else _token(item)

    if _is_option(param) and param.is_flag:
        return value
    if param.multiple:
        return tuple(one(item) for item in value)
    return tuple(_tokens(param, value)) if param.nargs != 1 else _token(value)
