"""tyro as a config system (config/system.py): the fields of the dataclass (or the parameters of the function) a
script hands `tyro.cli`, read without running the training (config/tyro_capture.py).

    system = TyroSystem(capture_cli(Path("ppo.py")))
    system.command_line({"learning_rate": 0.001, "anneal_lr": False})   # ["--learning-rate", "0.001", "--no-anneal-lr"]

Keys are the field names, nested dataclasses dotted (`optimizer.lr`, which tyro spells `--optimizer.lr`); the
defaults are the fields' (a `default=` instance handed to tyro.cli wins, as in tyro), help and choices come from
tyro's own parser. A value is checked by tyro parsing it for a field of the same type, and the command line is
proven by tyro parsing it back. Not supported: subcommands (a Union of dataclasses), positional fields, dict
fields, and configs that are not dataclasses (attrs, pydantic, TypedDict).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import enum
import functools
import inspect
import io
import os
import re
import warnings
from pathlib import Path, PurePath
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Set, Union

from typing_extensions import Annotated, Literal, get_args, get_origin, get_type_hints  # tyro's own dependency

from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.config.tyro_capture import CliCall, as_main, capture_cli
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import convert, same_value

_REQUIRED = object()  # a field or parameter without a default


class Leaf(NamedTuple):
    """One field of the config (or of a nested dataclass in it)."""

    key: str  # dotted path of field names: `optimizer.lr`
    hint: Any  # the field's type, Annotated[...] taken off
    default: Any  # the Python default; _REQUIRED when there is none


def capture_tyro(script: Path) -> TyroSystem:
    """What the script hands tyro.cli, read by running it up to that call (the training never runs)."""
    return TyroSystem(capture_cli(script))

class TyroSystem:
    """The config a script's `tyro.cli(...)` call builds."""

    name = "tyro"
    nested = True

    def __init__(self, call: CliCall) -> None:
        self.call = call
        default = call.options.get("default")
        with as_main(call.module):  # the type hints of a script with `from __future__ import annotations` are text
            self.leaves = {leaf.key: leaf for leaf in _leaves(call.target, default, "")}
        self.actions = self._actions()
        unread = [key for key in self.leaves if key not in self.actions]
        if unread:
            raise HatError(f"tyro.cli({_name(call.target)}): {unread[0]} has no single option of its own on tyro's "
                           "command line (a subcommand, dict, positional or renamed field), which the hat does not "
                           "support; give it a plain type (int, float, str, bool, Literal, Enum, Path, a tuple or "
                           "list)")

    def _actions(self) -> Dict[str, argparse.Action]:
        """tyro's own argparse actions, by key: the flags, help and choices tyro shows in `--help`."""
        import tyro

        options = {name: value for name, value in self.call.options.items()
                   if name in inspect.signature(tyro.extras.get_parser).parameters}
        with warnings.catch_warnings(), as_main(self.call.module):
            warnings.simplefilter("ignore")  # get_parser is deprecated, yet it is tyro's one way to show its flags
            parser = tyro.extras.get_parser(self.call.target, **options)
        return {action.dest.replace("-", "_"): action for action in parser._actions if action.option_strings
                and type(action).__name__ != "_HelpAction"}  # tyro vendors argparse: no isinstance

    def describe(self) -> List[KeyDoc]:
        docs = []
        for key, leaf in self.leaves.items():
            action = self.actions[key]
            value, note = (None, "") if leaf.default is _REQUIRED else _yaml(leaf.default)
            help_text = re.sub(r"\s*\((default: .*|required)\)$", "", action.help or "", flags=re.DOTALL)
            docs.append(KeyDoc(key, value, help=help_text, choices=list(action.choices) if action.choices else None,
                               required=leaf.default is _REQUIRED, note=note, flags=tuple(action.option_strings)))
        return docs

    def known_keys(self) -> List[str]:
        return list(self.leaves)

    def text_keys(self) -> Set[str]:
        return {key for key, leaf in self.leaves.items() if _is_text(leaf.hint)}

    def typed(self, values: dict) -> dict:
        """A float field's value as a float (tyro makes `--lr 1` 1.0), an int field's 10.0 as 10."""
        typed = dict(values)
        for key, value in values.items():
            number = self.number_type(key) if key in self.leaves else None
            if number is float and isinstance(value, int) and not isinstance(value, bool):
                typed[key] = float(value)
            elif number is int and isinstance(value, float) and value.is_integer():
                typed[key] = int(value)
        return typed

    def number_type(self, key: str) -> Optional[type]:
        hint = _optional_of(self.leaves[key].hint)
        return hint if hint in (int, float) else None

    def check(self, values: dict) -> Checked:
        problems = []
        for key, value in values.items():
            if key not in self.leaves:
                close = closest_key(key, list(self.leaves))
                problems.append(f"{key}: the tyro config has no such key; "
                                f"{f'did you mean {close!r}?' if close else 'remove it'}")
            elif value is not None:
                problems += self._value_problems(key, value)
        missing = [key for key, leaf in self.leaves.items() if leaf.default is _REQUIRED and values.get(key) is None]
        problems += [f"{key}: the script has no default for it (tyro requires {self.actions[key].option_strings[0]})"
                     "; give it a value" for key in missing]
        return Checked(problems, [])

    def _value_problems(self, key: str, value: Any) -> List[str]:
        """What tyro says of value for a field of this key's type: parsed alone, in a one-field dataclass."""
        import tyro

        action = self.actions[key]
        one = dataclasses.make_dataclass("Value", [("value", self.leaves[key].hint)])
        try:
            with _quiet():
                tyro.cli(one, args=_words("--value", value))
            return []
        except SystemExit:
            if action.nargs == 0:
                return [f"{key}: {value!r} is no boolean; give true or false ({'/'.join(action.option_strings)})"]
            if action.choices:
                return [f"{key}: {value!r} is no choice of {action.option_strings[0]}; choose one of "
                        f"{', '.join(map(str, action.choices))}"]
            return [f"{key}: tyro cannot read {value!r} for {action.option_strings[0]} {_metavar(action)}; give a "
                    "value of that form"]

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """tyro's flags for the values given, in the config's order; parsed back by tyro to prove them."""
        given = {key: value for key, value in self.typed(values).items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        argv: List[str] = []
        for key in self.leaves:
            if key in given:
                argv += self._flags(key, given[key])
        back = self.parse(argv)
        for key, value in given.items():
            got = _yaml(back[key])[0]
            if not same_value(got, value):
                raise HatError(f"{key}: tyro reads {' '.join(self._flags(key, value))} as {got!r}, not {value!r}; "
                               "write the value as tyro's --help shows it")
        return argv

    def parse(self, argv: List[str]) -> Dict[str, Any]:
        """What the script gets from tyro for argv: each key's value (the training never runs)."""
        import tyro

        options = {name: value for name, value in self.call.options.items() if name != "args"}
        target = self.call.target
        function = not isinstance(target, type)
        try:
            with _quiet(), as_main(self.call.module):
                result = tyro.cli(_returning_arguments(target) if function else target, args=argv, **options)
        except SystemExit:
            script = os.path.relpath(str(self.call.module.__file__))
            raise HatError(f"tyro rejects the command line {' '.join(argv)}; run `python {script} "
                           f"{' '.join(argv)}` to see why") from None
        return {key: _at(result, key, function) for key in self.leaves}

    def _flags(self, key: str, value: Any) -> List[str]:
        action = self.actions[key]
        if action.nargs == 0:  # tyro's `--flag/--no-flag` pair
            negative = [flag for flag in action.option_strings if re.search(r"(^--|\.)no-", flag)]
            positive = [flag for flag in action.option_strings if flag not in negative]
            flags = positive if value else negative
            if not flags:
                raise HatError(f"{key}: tyro has no flag for {value!r} (only {' '.join(action.option_strings)}); "
                               "leave it at its default")
            return flags[:1]
        return _words(action.option_strings[0], value)


def _leaves(target: Any, default: Any, prefix: str) -> List[Leaf]:
    """The leaf fields of a dataclass (or a function's parameters), nested dataclasses walked, with the defaults
    of `default` (an instance) where given, else the fields' own."""
    if dataclasses.is_dataclass(target):
        hints = get_type_hints(target, include_extras=True)
        own = [(field.name, hints.get(field.name, Any), _field_default(field))
               for field in dataclasses.fields(target) if field.init]
    elif inspect.isfunction(target) or inspect.ismethod(target):
        hints = get_type_hints(target, include_extras=True)
        own = [(name, hints.get(name, Any), _REQUIRED if parameter.default is inspect.Parameter.empty
                else parameter.default) for name, parameter in inspect.signature(target).parameters.items()]
    else:
        raise HatError(f"tyro.cli({_name(target)}): the hat reads dataclasses and functions only (not attrs, "
                       "pydantic, TypedDict, NamedTuple or a plain type); hand tyro.cli a dataclass")
    leaves = []
    for name, hint, value in own:
        if default is not None and hasattr(default, name):
            value = getattr(default, name)
        hint = _bare(hint)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            leaves += _leaves(hint, None if value is _REQUIRED else value, f"{prefix}{name}.")
        else:
            leaves.append(Leaf(f"{prefix}{name}", hint, value))
    return leaves


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return _REQUIRED


def _bare(hint: Any) -> Any:
    """The type without Annotated[...] (tyro.conf markers, tyro.conf.arg)."""
    while get_origin(hint) is Annotated:
        hint = get_args(hint)[0]
    return hint


def _optional_of(hint: Any) -> Any:
    """T for Optional[T], else hint."""
    if get_origin(hint) is Union:
        rest = [arg for arg in get_args(hint) if arg is not type(None)]
        return _bare(rest[0]) if len(rest) == 1 else hint
    return hint


def _is_text(hint: Any) -> bool:
    """Values the script gets as the text written: str, Path, Enum names, Literal strings (`no` stays 'no')."""
    hint = _optional_of(hint)
    if get_origin(hint) is Literal:
        return all(isinstance(choice, str) for choice in get_args(hint))
    return isinstance(hint, type) and issubclass(hint, (str, PurePath, enum.Enum))


def _yaml(value: Any) -> tuple:
    """(value as YAML, note): an Enum as its name, which tyro takes on its command line."""
    if isinstance(value, enum.Enum):
        return value.name, ""
    if isinstance(value, (list, tuple)) and any(isinstance(item, enum.Enum) for item in value):
        return [_yaml(item)[0] for item in value], ""
    return convert(value)


def _words(flag: str, value: Any) -> List[str]:
    """`--flag value` (`--flag=-v` for a value that starts with a dash, else it reads as an option)."""
    texts = _texts(value)
    return [f"{flag}={texts[0]}"] if len(texts) == 1 and texts[0].startswith("-") else [flag, *texts]


def _texts(value: Any) -> List[str]:
    """value as tyro's command-line words: True/False/None as tyro writes them, a list one word per item."""
    if isinstance(value, (list, tuple)):
        return [word for item in value for word in _texts(item)]
    return [str(value)]


def _metavar(action: argparse.Action) -> str:
    metavar = action.metavar
    return " ".join(metavar) if isinstance(metavar, tuple) else str(metavar or "")


def _name(target: Any) -> str:
    return getattr(target, "__qualname__", repr(target))


def _at(result: Any, key: str, function: bool) -> Any:
    """The value of a dotted key in what tyro returned (a dataclass, or a function's arguments)."""
    first, *rest = key.split(".")
    value = result[first] if function else getattr(result, first)
    for name in rest:
        value = getattr(value, name)
    return value


def _returning_arguments(function: Callable[..., Any]) -> Callable[..., Dict[str, Any]]:
    """A stand-in for the script's function with its signature (tyro reads that), which returns the arguments tyro
    calls it with instead of training."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def arguments(*args: Any, **kwargs: Any) -> Dict[str, Any]:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    return arguments


@contextlib.contextmanager
def _quiet() -> Any:
    """tyro prints its usage and error to the terminal before it exits: the hat says the problem itself."""
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        yield
