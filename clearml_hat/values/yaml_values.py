"""YAML types of Python values: what a default becomes in config.yaml, and when two values are the same.

    convert(Path("runs"))   -> ("runs", "the path 'runs' is written as a string")
    same_value(10000, 10000.0) is True; same_value(True, 1) is False
"""
from __future__ import annotations

from enum import Enum
from pathlib import PurePath
from typing import Any, Tuple

from clearml_hat.config.argparser.stand_ins import is_stand_in, stand_in_origin


def convert(value: Any) -> Tuple[Any, str]:
    """value as a YAML type, and a note when that changed what it means.

    Objects YAML cannot hold become None, not str(obj): None leaves the option out of argv, so the script gets
    its real default object back, whereas a string would reach it as a different value.
    """
    if is_stand_in(value):
        return None, f"could not be evaluated here: it comes from {stand_in_origin(value)!r}, missing on this machine"
    if value is None or isinstance(value, (bool, str)) and not isinstance(value, Enum):
        return value, ""
    if isinstance(value, (int, float)) and not isinstance(value, Enum):  # numpy.float64 is a float subclass
        return (int(value) if isinstance(value, int) else float(value)), ""
    if isinstance(value, Enum) and isinstance(value, str) and isinstance(value.value, str):
        # A str enum (transformers' SchedulerType.LINEAR): its text is what the script's type turns back into it.
        return value.value, f"{value!r} is written as its value"
    if isinstance(value, PurePath):
        return str(value), f"the path {str(value)!r} is written as a string"
    if isinstance(value, (list, tuple)):
        pairs = [convert(item) for item in value]
        return [item for item, _ in pairs], next((note for _, note in pairs if note), "")
    if isinstance(value, dict):
        converted = {key: convert(item) for key, item in value.items()}
        return {key: item for key, (item, _) in converted.items()}, next((n for _, n in converted.values() if n), "")
    return None, f"{value!r} is not a YAML value; left empty so the script's own default applies"


def yaml_value(value: Any) -> Any:
    """value as a YAML type (see convert)."""
    return convert(value)[0]


def same_value(a: Any, b: Any) -> bool:
    """YAML equality: 10000 == 10000.0 and nan == nan, but True != 1 and '1' != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (a != a and b != b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
