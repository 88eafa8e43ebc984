"""config.yaml: write it with comments from the parser, read it back, apply `key=value` overrides."""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from clearml_hat.errors import HatError


class _Loader(yaml.SafeLoader):
    """PyYAML reads `1e-3` as a string (YAML 1.1 wants a dot); ML configs are full of such numbers."""


class _Dumper(yaml.SafeDumper):
    """Quotes strings such as '1e-3' that _Loader would read back as floats."""


_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
for _resolver in (_Loader, _Dumper):
    _resolver.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def parse_value(text: str) -> Any:
    """Type a value the way config.yaml would: `3` is an int, `1e-3` a float, `[64, 64]` a list, `x` a string."""
    return yaml.load(text, Loader=_Loader) if text.strip() else ""


def load_values(path: str | Path) -> dict:
    """Read config.yaml into a dict of training values."""
    path = Path(path)
    if not path.is_file():
        raise HatError(f"{path}: no such file; write one with `python argparse_to_yaml.py -o {path}`")
    try:
        values = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise HatError(f"{path}: malformed YAML at {where}: {error.problem}; fix that line") from None
    except yaml.YAMLError as error:
        raise HatError(f"{path}: malformed YAML: {error}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise HatError(
            f"{path}: the top level is a {type(values).__name__}, not a mapping; write one `key: value` per line"
        )
    return values


def apply_overrides(values: dict, overrides: Sequence[str], known_keys: Iterable[str]) -> dict:
    """Return values with each `key=value` override applied; the value is typed by YAML rules."""
    known = list(known_keys)
    result = dict(values)
    for override in overrides:
        key, equals, text = override.partition("=")
        key = key.strip()
        if not equals or not key:
            raise HatError(f"override {override!r} has no '='; write it as key=value, e.g. epochs=5")
        if key not in known:
            raise HatError(f"override {override!r}: unknown key {key!r}{did_you_mean(key, known)}")
        result[key] = parse_value(text)
    return result


def did_you_mean(key: str, known: Sequence[str]) -> str:
    """A ' (did you mean ...?)' tail naming the closest known key, or a list of valid keys."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; valid keys: {', '.join(known)}" if known else ""


def render_yaml(docs: Sequence[Any], script: str, output: str) -> str:
    """config.yaml text: a header, then one commented `key: value` per argument, in the parser's order."""
    lines = [
        f"# Training values for {script}, read from its argparse parser by argparse_to_yaml.py.",
        f"# Regenerate: python argparse_to_yaml.py --script {script} -o {output}",
        f"# Check edits: python argparse_to_yaml.py --script {script} --check {output}",
        "",
    ]
    for doc in docs:
        lines.extend(f"# {line}" for line in _comment_lines(doc))
        lines.append(f"{dump_scalar(doc.key)}: {dump_scalar(doc.value)}")
    return "\n".join(lines) + "\n"


def _comment_lines(doc: Any) -> list:
    lines = [line for line in (doc.help or "").splitlines() if line.strip()]
    if doc.choices:
        lines.append("choices: " + ", ".join(str(choice) for choice in doc.choices))
    if doc.required:
        lines.append("required: fill in")
    if doc.note:
        lines.append(doc.note)
    for command, keys in (getattr(doc, "subcommands", None) or {}).items():
        lines.append(f"with {doc.key}: {command}, also set: {', '.join(keys) if keys else '(no options)'}")
    return lines


def dump_scalar(value: Any) -> str:
    """One value as inline YAML: lists and dicts in flow style, so each key stays on one line."""
    text = _dump_inline(value, allow_unicode=True)
    if parse_value(text) != value:  # PyYAML emits some unicode line breaks raw; escaping them reads back right
        text = _dump_inline(value, allow_unicode=False)
    return text


def _dump_inline(value: Any, allow_unicode: bool) -> str:
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10**6, allow_unicode=allow_unicode)
    if text.endswith("\n...\n"):  # the document end marker PyYAML adds after a lone scalar
        text = text[: -len("...\n")]
    return text.strip()
