"""Training values that name a YAML or JSON config file (`--config configs/exp.yaml`): the file's own values
become training values too, dotted under the option's key, and the run gets a copy of the file with the edits.

mmdetection, detectron2, dinov2 and TRL scripts take their real hyperparameters from such a file. In config.yaml
the file's values sit under the option's key, beside the file's path:

    config:
      _file_: configs/exp.yaml
      optim: {lr: 0.1, momentum: 0.9}

Everywhere else (overrides, train_args in the web UI, sweeps) they are flat, dotted keys: `config.optim.lr=0.5`.
A value equal to the file's is not an edit. When there is an edit, the script gets the path of a copy written
beside the file (so the file's relative includes still resolve), the user's file is never changed, and the copy is
written where the run happens (on the agent, by the agent) and removed after it.
"""
from __future__ import annotations

import contextlib
import difflib
import json
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence

import yaml

from clearml_hat.values.yaml_values import same_value

FILE_KEY = "_file_"
SUFFIXES = (".yaml", ".yml", ".json")


def read_config_file(path: Any) -> Optional[dict]:
    """The mapping a YAML or JSON file holds, as the script's yaml.safe_load / json.load reads it; None when path
    names no such file (another suffix, missing, not a mapping, unreadable)."""
    if not isinstance(path, str) or not path.lower().endswith(SUFFIXES) or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file) if path.lower().endswith(".json") else yaml.safe_load(file)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) and data else None


def flatten(prefix: str, mapping: dict) -> dict:
    """{"optim": {"lr": 0.1}} under "config" -> {"config.optim.lr": 0.1}; an empty mapping is a value itself."""
    flat: Dict[str, Any] = {}
    for name, value in mapping.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict) and value:
            flat.update(flatten(key, value))
        else:
            flat[key] = value
    return flat


def file_keys(values: dict) -> List[str]:
    """The keys whose value is a config file's path, in values' order: those with dotted keys below them."""
    dotted = {key.rpartition(".")[0] for key in values if "." in key}
    return [key for key in values if isinstance(values[key], str) and
            any(parent == key or parent.startswith(key + ".") for parent in dotted)]


def expand(values: dict, keys: Sequence[str], replaced: Sequence[str] = ()) -> dict:
    """values with each config file flattened in: the YAML's `{_file_: path, ...}` mapping, or a plain path of
    one of keys that names a YAML/JSON file. The dotted keys of `replaced` keys (given a new path) are dropped."""
    values = {key: value for key, value in values.items() if not any(key.startswith(name + ".") for name in replaced)}
    result: Dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and FILE_KEY in value:
            result[key] = value[FILE_KEY]
            result.update(flatten(key, {name: item for name, item in value.items() if name != FILE_KEY}))
            continue
        result[key] = value
        in_file = read_config_file(value) if key in keys else None
        if in_file and not any(name.startswith(key + ".") for name in values):
            result.update(flatten(key, in_file))
    return result


def nested(values: dict, key: str) -> dict:
    """The YAML form of a file key: {_file_: path, optim: {lr: 0.1}}."""
    contents: Dict[str, Any] = {FILE_KEY: values[key]}
    for dotted, value in values.items():
        if dotted.startswith(key + "."):
            *parents, name = dotted[len(key) + 1:].split(".")
            level = contents
            for parent in parents:
                level = level.setdefault(parent, {})
            level[name] = value
    return contents


def problems(values: dict, path_of: Dict[str, str]) -> List[str]:
    """One line per dotted key that the file does not have, or whose value is of another kind than the file's."""
    found = []
    for key, path in path_of.items():
        own = read_config_file(path)
        if own is None:
            found.append(f"{key}: {path} is no YAML or JSON file holding a mapping here; give the path of one (or "
                         f"remove the values under {key})")
            continue
        in_file = flatten(key, own)
        for dotted in (name for name in values if name.startswith(key + ".")):
            if dotted not in in_file:
                close = difflib.get_close_matches(dotted, list(in_file), n=1, cutoff=0.6)
                fix = f"did you mean {close[0]!r}?" if close else "remove it"
                found.append(f"{dotted}: {path} has no such key; {fix}")
            elif not same_kind(values[dotted], in_file[dotted]):
                found.append(f"{dotted}: {values[dotted]!r} is a {kind(values[dotted])} where {path} has a "
                             f"{kind(in_file[dotted])} ({in_file[dotted]!r}); give a {kind(in_file[dotted])}")
    return found


def edited_contents(values: dict, key: str, path: str) -> Optional[dict]:
    """The file's mapping with the edits under key applied, or None when no value differs from the file's."""
    own = read_config_file(path) or {}
    in_file = flatten(key, own)
    edits = {name: value for name, value in values.items()
             if name.startswith(key + ".") and not same_value(value, in_file.get(name))}
    if not edits:
        return None
    for dotted, value in edits.items():
        *parents, name = dotted[len(key) + 1:].split(".")
        level = own
        for parent in parents:
            level = level[_own_key(level, parent)]
        level[_own_key(level, name)] = value
    return own


def _own_key(mapping: dict, name: str) -> Any:
    """The mapping's key that a dotted name spells: yolov5's class names are keyed 0, 1, ... ('data.names.0')."""
    return next((key for key in mapping if str(key) == name), name)


def copy_path(path: str) -> str:
    """Where the edited copy of path goes: beside it, named for this process (`exp.yaml` -> `exp.hat-123.yaml`)."""
    base, suffix = os.path.splitext(path)
    return f"{base}.hat-{os.getpid()}{suffix}"


@contextlib.contextmanager
def written(copies: Dict[str, dict]) -> Iterator[None]:
    """Write each copy (path -> mapping) for the training, and remove them afterwards."""
    try:
        for path, contents in copies.items():
            with open(path, "w", encoding="utf-8") as file:
                if path.lower().endswith(".json"):
                    json.dump(contents, file, indent=2)
                else:
                    yaml.safe_dump(contents, file, sort_keys=False, allow_unicode=True)
        yield
    finally:
        for path in copies:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def kind(value: Any) -> str:
    """What kind of value a config file holds, for messages: boolean, number, string, list or mapping."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    kinds: Dict[type, str] = {str: "string", list: "list", dict: "mapping"}
    return kinds.get(type(value), type(value).__name__)


def same_kind(value: Any, file_value: Any) -> bool:
    """True when value may stand where the file has file_value (None goes anywhere)."""
    return value is None or file_value is None or kind(value) == kind(file_value)

