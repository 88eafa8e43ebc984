"""The training YAML with a sweep's winning values: every comment and line kept, only the changed values rewritten.

    write_best_yaml("config.yaml", {"lr": 0.02, "epochs": 15}, "config.best.yaml")
    # `python hat.py --train_yaml config.best.yaml` then trains with exactly those values.

A top-level `key: value` line gets the new value in flow style (`img_size: [8, 8]`) and keeps its trailing
comment; a value written over several lines (a block list) becomes that one line. A key the file does not have
(it came from an override, the script's default otherwise) is added at the end. The text written is read back
and must give the values, or nothing is written.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import dump_scalar, load_values
from clearml_hat.values.yaml_values import same_value

_TOP_LEVEL_KEY = re.compile(r"^(?P<key>[^\s#:'\"-][^:#]*?|'[^']*'|\"[^\"]*\")\s*:(?=\s|$)")
# A comment after a value: ` # ...` outside quotes (good enough for the scalars and flow lists a config holds).
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def default_path(train_yaml: str | Path) -> Path:
    """`<name>.best.yaml` beside the training YAML."""
    path = Path(train_yaml)
    return path.with_name(f"{path.stem}.best{path.suffix or '.yaml'}")


def best_yaml_text(text: str, values: Dict[str, Any]) -> str:
    """text with each key of values set to its value."""
    lines = text.splitlines()
    out: List[str] = []
    done = set()
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _TOP_LEVEL_KEY.match(line)
        key = match and match["key"].strip("'\"")
        index += 1
        if not match or key not in values:
            out.append(line)
            continue
        # The old value's own lines (a block list or mapping): indented, or `- ` items, up to a blank line.
        while index < len(lines) and lines[index].strip() and lines[index][:1] in (" ", "\t", "-"):
            index += 1
        comment = _TRAILING_COMMENT.search(line[match.end():])
        out.append(f"{match['key']}: {dump_scalar(values[key])}{comment.group() if comment else ''}")
        done.add(key)
    missing = [key for key in values if key not in done]
    if missing:
        out.append("# set by the sweep (the file had no such key)")
        out.extend(f"{dump_scalar(key)}: {dump_scalar(values[key])}" for key in missing)
    return "\n".join(out) + "\n"


def write_best_yaml(train_yaml: str | Path, values: Dict[str, Any], out: str | Path) -> Path:
    """Write the training YAML with values set to `out`; HatError if the result would not read back as values."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(best_yaml_text(Path(train_yaml).read_text(encoding="utf-8"), values), encoding="utf-8")
    read_back = load_values(out, [key for key, value in values.items() if isinstance(value, str)])
    wrong = [key for key, value in values.items() if not same_value(read_back.get(key), value)]
    if wrong:
        out.unlink()
        raise HatError(f"{out}: the winning values of {', '.join(wrong)} do not read back from YAML as they are; "
                       f"set them by hand: {values}")
    return out
