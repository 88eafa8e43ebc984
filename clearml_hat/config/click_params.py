"""One click parameter's values: as YAML (what the YAML shows and the task keeps), as command-line text (what
the parser gets), and what kind of value it takes; for click's own parameters and typer's (typer 0.20+ keeps the
function's annotation instead of a click type).

    yaml_value((0.9, 0.999))      -> [0.9, 0.999]     (an Enum is its value, a Path its text)
    scalar_type(param)            -> int for `--epochs` (type=int), typer's `List[int]`, a count option
    raw_value(param, [8, 8])      -> ('8', '8')       what click's parser hands a nargs=2 option
"""
from __future__ import annotations

import enum
import os
import typing
from typing import Any, List, Optional

_NUMBER_TYPES = {"IntParamType": int, "IntRange": int, "FloatParamType": float, "FloatRange": float,
                 "BoolParamType": bool}


def is_bool_flag(param: Any) -> bool:
    """`--fp16`, `--shuffle/--no-shuffle` (typer's options have no is_bool_flag: their flags are all bool)."""
    return is_option(param) and param.is_flag and not getattr(param, "count", False) and \
        getattr(param, "is_bool_flag", True)


def flag_value(param: Any) -> Any:
    """What a flag gives when present: True, or a feature switch's own value (`flag_value='upper'`)."""
    return True if is_bool_flag(param) else param.flag_value


def is_option(param: Any) -> bool:
    return param.param_type_name == "option"


def shown(param: Any) -> str:
    return "/".join(param.opts + param.secondary_opts) if is_option(param) else f"the positional {param.name}"


def choices_of(param: Any) -> Optional[list]:
    """A Choice's options (a typer Enum's values), as YAML values."""
    descriptor = getattr(param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) if descriptor is not None else \
        getattr(getattr(param, "type", None), "choices", None)
    return [yaml_value(choice) for choice in choices] if choices else None


def scalar_type(param: Any) -> Optional[type]:
    """int, float, bool or str for one value of the parameter (an item of a list); None when unknown."""
    if is_bool_flag(param):
        return bool
    if is_option(param) and param.is_flag and not getattr(param, "count", False):
        return str
    if is_option(param) and getattr(param, "count", False):
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


def typed_value(value: Any, kind: Optional[type]) -> Any:
    """10 for an int option given 10.0, 1.0 for a float option given 1; lists item by item."""
    if isinstance(value, list):
        return [typed_value(item, kind) for item in value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if kind is float:
        return float(value)
    return int(value) if kind is int and float(value).is_integer() else value


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def texts_of(param: Any, value: Any) -> List[str]:
    return [text_of(item) for item in value] if isinstance(value, list) else [text_of(value)]


def raw_value(param: Any, value: Any) -> Any:
    """The value as click's parser hands it to the parameter: text, a tuple of texts for nargs and multiple."""
    def one(item: Any) -> Any:
        return tuple(texts_of(param, item)) if param.nargs != 1 else text_of(item)

    if is_option(param) and param.is_flag:
        return value
    if param.multiple:
        return tuple(one(item) for item in value)
    return tuple(texts_of(param, value)) if param.nargs != 1 else text_of(value)
