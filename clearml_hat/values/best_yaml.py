"""The training YAML with a sweep's winning values: every comment and line kept, only the changed values rewritten.

    write_best_yaml("config.yaml", {"lr": 0.02, "epochs": 15}, "config.best.yaml")
    # `python hat.py --train_yaml config.best.yaml` then trains with exactly those values.

A `key: value` line gets the new value in flow style (`img_size: [8, 8]`) and keeps its trailing comment (a
dotted key is the line at its place in the nested YAML: `optim.lr` is `lr:` under `optim:`); a value written
over several lines (a block list) becomes that one line. A key the file does not have (it came from an override,
the script's default otherwise) is added at the end. The text written is read back and must give the values, or
nothing is written.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import dump_scalar, load_values, unnest
from clearml_hat.values.yaml_values import same_value

# `key:` at any indent; its dotted key is the path of the mappings above it (`optim:` then `  lr:` is optim.lr).
_KEY_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[^\s#:'\"-][^:#]*?|'[^']*'|\"[^\"]*\")\s*:(?=\s|$)")
# A comment after a value: ` # ...` outside quotes (good enough for the scalars and flow lists a config holds).
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def default_path(train_yaml: str | Path) -> Path:
    """`<name>.best.yaml` beside the training YAML."""
    path = Path(train_yaml)
    return path.with_name(f"{path.stem}.best{path.suffix or '.yaml'}")


def best_yaml_text(text: str, values: Dict[str, Any]) -> str:
    """text with each key of values set to its value; a dotted key (`optim.lr`) where the nested YAML has it, a
    group choice (Hydra's `model`, written `_choice_` in its mapping) as the whole mapping: the new option brings
    its own values."""
    lines = text.splitlines()
    out: List[str] = []
    done = set()
    parents: List[Tuple[int, str]] = []  # (indent, name) of the mappings the current line is in
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _KEY_LINE.match(line)
        index += 1
        if not match:
            out.append(line)
            continue
        indent = len(match["indent"])
        parents = [(level, name) for level, name in parents if level < indent]
        key = ".".join([name for _, name in parents] + [match["key"].strip("'\"")])
        if key not in values:
            parents.append((indent, match["key"].strip("'\"")))
            out.append(line)
            continue
        # The old value's own lines (a block list or mapping): indented deeper, or `- ` items, up to a blank line.
        while index < len(lines) and lines[index].strip() and (
                _indent(lines[index]) > indent or lines[index][indent:indent + 1] == "-"):
            index += 1
        comment = _TRAILING_COMMENT.search(line[match.end():])
        out.append(f"{match['indent']}{match['key']}: {dump_scalar(values[key])}{comment.group() if comment else ''}")
        done.add(key)
    missing = [key for key in values if key not in done]
    if missing:
        out.append("# set by the sweep (the file had no such key)")
        out.extend(f"{dump_scalar(key)}: {dump_scalar(values[key])}" for key in missing)
    return "\n".join(out) + "\n"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def write_best_yaml(train_yaml: str | Path, values: Dict[str, Any], out: str | Path) -> Path:
    """Write the training YAML with values set to `out`; HatError if the result would not read back as values."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(best_yaml_text(Path(train_yaml).read_text(encoding="utf-8"), values), encoding="utf-8")
    read_back = unnest(load_values(out, [key for key, value in values.items() if isinstance(value, str)]))
    wrong = [key for key, value in values.items() if not same_value(read_back.get(key), value)]
    if wrong:
        out.unlink()
        raise HatError(f"{out}: the winning values of {', '.join(wrong)} do not read back from YAML as they are; "
                       f"set them by hand: {values}")
    return out
