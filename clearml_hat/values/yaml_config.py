"""config.yaml: write it with comments from the parser, read it back, apply `key=value` overrides."""
from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence

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


def parse_value(text: str, as_text: bool = False) -> Any:
    """Type a value the way config.yaml would: `3` is an int, `1e-3` a float, `[64, 64]` a list, `x` a string,
    an empty text None. With as_text, plain scalars stay the text written (`no`, `1.10`); see load_values."""
    try:
        node = _compose(text)
    except yaml.YAMLError as error:
        raise HatError(f"{text!r} is not a complete YAML value ({_problem(error)}); complete it (a list is "
                       "written [32, 32]) or quote it") from None
    shape = _alias_problem(node)
    if shape:
        raise HatError(f"{text!r}: {shape[1]}; write the value out")
    if as_text and node is not None:
        _as_text(node)
    try:
        value = _construct(node)
    except _UNREADABLE as error:
        raise HatError(f"{text!r} cannot be read as a YAML value ({_unreadable(error)}); quote it") from None
    if _has_unprintable_integer(value):
        raise HatError(f"{text[:40]!r}...: {_LONG_INTEGER}")
    return value


def load_values(path: str | Path, text_keys: Iterable[str] = ()) -> dict:
    """Read config.yaml into a dict of training values.

    YAML 1.1 reads `no` and `off` as False and `1.10` as 1.1; argparse would have handed the script the text. So
    for text_keys (options that take strings, see parser_values.text_keys) a plain scalar, or each plain item of a
    list, is the text as written. Null stays None (the script's default) for every key.
    """
    path = Path(path)
    if path.is_dir():
        raise HatError(f"{path} is a folder, not a YAML file; give the file in it (e.g. {path / 'config.yaml'})")
    if not path.is_file():
        raise HatError(f"{path}: no such file; write one with `python -m clearml_hat yaml --script <your script> "
                       f"-o {shlex.quote(str(path))}`")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise HatError(f"{path}: line {line} is not UTF-8 text (byte {error.object[error.start]:#04x}); save the "
                       "file as UTF-8") from None
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as error:
        raise HatError(f"{path}: malformed YAML at {_position(error, text)}: {_problem(error)}; fix that line") \
            from None
    except yaml.reader.ReaderError as error:  # a character YAML refuses anywhere (controls, NUL): no mark
        line = text[: error.position].count("\n") + 1
        raise HatError(f"{path}: line {line}: {_problem(error)}; remove it, or write it as an escape in a "
                       "double-quoted string (\"\\x07\")") from None
    except yaml.YAMLError as error:
        raise HatError(f"{path}: malformed YAML: {_problem(error)}") from None
    if node is None:
        raise HatError(f"{path}: the file has no values; write them with `python -m clearml_hat yaml --script "
                       f"<your script> -o {shlex.quote(str(path))}`")
    if not isinstance(node, yaml.MappingNode):
        raise HatError(f"{path}: the top level is a {_KINDS.get(type(node), 'value')}, not a mapping; write one "
                       "`key: value` per line")
    if node.tag != "tag:yaml.org,2002:map":  # `!!set {a, b}` and other tags make it something else than values
        raise HatError(f"{path}: the top level is a {node.tag.replace('tag:yaml.org,2002:', '!!')}, not a "
                       "mapping of values; remove the tag and write one `key: value` per line")
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise HatError(f"{path}: line {key_node.start_mark.line + 1}: a key is a {_KINDS[type(key_node)]}; "
                           "write one `name: value` per line")
        shape = _alias_problem(value_node)
        if shape:
            raise HatError(f"{path}: line {shape[0].start_mark.line + 1}: {key_node.value}: {shape[1]}; write the "
                           "value out")
    duplicate = _first_duplicate(node)
    if duplicate:
        key, first, again = duplicate
        raise HatError(f"{path}: key {key!r} appears twice (lines {first} and {again}); keep one of them")
    texts = set(text_keys)
    for key_node, value_node in node.value:
        # Option names are text: `1:`, `null:` or `true:` is a (wrong) name, not a number, None or True.
        key_node.tag = "tag:yaml.org,2002:str"
        if key_node.value in texts:
            _as_text(value_node)
    try:
        values = _construct(node)
    except _UNREADABLE as error:
        raise HatError(f"{path}: {_unreadable_value(node, error)}; fix that value or quote it") from None
    for key_node, value_node in node.value:
        if _has_unprintable_integer(values.get(key_node.value)):
            raise HatError(f"{path}: line {value_node.start_mark.line + 1}: {key_node.value}: {_LONG_INTEGER}")
    return values


# Python (3.11 on) refuses to turn an integer of more than 4300 digits into text, which argv and every message
# need; YAML reads one from a hex, octal, binary or sexagesimal number without that check.
_LONG_INTEGER = "an integer too long for Python to write out (over 4300 digits); write a smaller number, or quote it"


def _has_unprintable_integer(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_unprintable_integer(item) for pair in value.items() for item in pair)
    if isinstance(value, (list, tuple, set)):
        return any(_has_unprintable_integer(item) for item in value)
    return False


_KINDS = {yaml.SequenceNode: "list", yaml.ScalarNode: "single value", yaml.MappingNode: "mapping"}

# What PyYAML's constructors let through on a well-formed but unreadable value: a ConstructorError (`=`, an
# unknown `!!tag`), or the error of the int()/float()/datetime()/base64 call behind an explicit tag (`!!int x`,
# `2024-13-45`, a 5000-digit number past Python's int limit).
_UNREADABLE = (yaml.YAMLError, ValueError, TypeError, AttributeError)


def _unreadable(error: Exception) -> str:
    if isinstance(error, yaml.YAMLError):
        return _problem(error)
    return str(error).split(";")[0] or type(error).__name__  # not Python's advice on sys.set_int_max_str_digits


def _unreadable_value(mapping: Any, error: Exception) -> str:
    """'line 3: epochs: ...': the first top-level value that cannot be constructed alone, for the message."""
    for key_node, value_node in mapping.value:
        try:
            _construct(value_node)
        except _UNREADABLE as own:
            return f"line {value_node.start_mark.line + 1}: {key_node.value}: {_unreadable(own)}"
    return f"line {mapping.start_mark.line + 1}: {_unreadable(error)}"


# Deeper than this, a value is no training value; PyYAML's composer recurses per level (a RecursionError at ~1000).
_DEEPEST = 100


class _TooDeep(yaml.MarkedYAMLError):
    """A value nested deeper than _DEEPEST, found from the parser's events before anything recursive runs."""


def _compose(text: str) -> Any:
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > _DEEPEST:
                mark: Any = event.start_mark
                raise _TooDeep(problem=f"the value nests more than {_DEEPEST} levels deep", problem_mark=mark)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _construct(node: Any) -> Any:
    if node is None:
        return None
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _as_text(node: Any) -> None:
    """Retag plain scalars (and the plain items of a list) as strings, nulls excepted."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for item in items:
        if isinstance(item, yaml.ScalarNode) and item.style is None and item.tag != "tag:yaml.org,2002:null":
            item.tag = "tag:yaml.org,2002:str"


_MOST_ITEMS = 100_000  # a config is a few hundred; aliases of aliases ("billion laughs") can mean billions


def _alias_problem(node: Any) -> Any:
    """(node, what is wrong) for a value that contains itself (`a: &r [*r]`) or that aliases expand past
    _MOST_ITEMS items; else None. Every later walk over such a value (comparing, printing it) would never end."""
    sizes: dict = {}  # id -> expanded item count; None while the node is being walked

    def size(each: Any) -> int:
        if not isinstance(each, (yaml.SequenceNode, yaml.MappingNode)):
            return 1
        if id(each) in sizes:
            if sizes[id(each)] is None:
                raise _Cycle(each)
            return sizes[id(each)]
        sizes[id(each)] = None
        children = each.value if isinstance(each, yaml.SequenceNode) else [i for pair in each.value for i in pair]
        sizes[id(each)] = 1 + sum(size(child) for child in children)
        return sizes[id(each)]

    try:
        if size(node) > _MOST_ITEMS:
            return node, f"the aliases expand to more than {_MOST_ITEMS} items"
    except _Cycle as cycle:
        return cycle.node, "the value contains itself (an alias inside its own anchor)"
    return None


class _Cycle(Exception):
    def __init__(self, node: Any) -> None:
        super().__init__()
        self.node = node


def _first_duplicate(node: Any) -> Any:
    """(key, first line, second line) of the first key that appears twice in a mapping, at any depth; or None."""
    children = [value for pair in node.value for value in pair] if isinstance(node, yaml.MappingNode) else \
        node.value if isinstance(node, yaml.SequenceNode) else []
    if isinstance(node, yaml.MappingNode):
        seen: Dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    return key_node.value, seen[key_node.value], line
                seen[key_node.value] = line
    for child in children:
        found = _first_duplicate(child)
        if found:
            return found
    return None


_NO_SPACE_AFTER_COLON = re.compile(r"\s*[A-Za-z_][\w.-]*:[^\s]")


def _position(error: yaml.MarkedYAMLError, text: str) -> str:
    """'line 8, column 1': where the user must fix the file.

    PyYAML reports some errors where it noticed them, after the line at fault: `epochs:20` (no space after the
    colon) is a plain scalar, found wrong only on a later line, which may be a comment. So such a line at or
    before the error is the place; otherwise the problem mark, moved back over blank and comment lines.
    """
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return "an unknown place"
    lines = text.splitlines()
    line, column = mark.line, mark.column
    for number, content in enumerate(lines[: line + 1]):
        if _NO_SPACE_AFTER_COLON.match(content):
            return f"line {number + 1}, column 1 (a `key: value` line needs a space after the colon)"
    while 0 < line and (line >= len(lines) or lines[line].strip().startswith("#") or not lines[line].strip()):
        line, column = line - 1, 0
    return f"line {line + 1}, column {column + 1}"


def _problem(error: yaml.YAMLError) -> str:
    return getattr(error, "problem", None) or str(error).splitlines()[0]


def apply_overrides(values: dict, overrides: Sequence[str], known_keys: Iterable[str],
                    text_keys: Iterable[str] = ()) -> dict:
    """Return values with each `key=value` override applied; the value is typed as it would be in config.yaml
    (load_values): `epochs=` is null, the script's default."""
    known = list(known_keys)
    texts = set(text_keys)
    result = dict(values)
    for override in overrides:
        key, equals, text = override.partition("=")
        key = key.strip()
        if not equals:
            raise HatError(f"override {override!r} has no '='; write it as key=value, e.g. epochs=5")
        if not key:
            raise HatError(f"override {override!r} has no key before '='; write it as key=value, e.g. epochs=5")
        if key not in known:
            raise HatError(f"override {override!r}: unknown key {key!r}{did_you_mean(key, known)}")
        try:
            result[key] = parse_value(text, as_text=key in texts)
        except HatError as error:
            raise HatError(f"override {override!r}: {error}") from None
    return result


def did_you_mean(key: str, known: Sequence[str]) -> str:
    """A ' (did you mean ...?)' tail naming the closest known key, or a list of valid keys."""
    close = closest_key(key, known)
    if close:
        return f" (did you mean {close!r}?)"
    return f"; valid keys: {', '.join(known)}" if known else ""


def closest_key(key: str, known: Sequence[str]) -> Optional[str]:
    """The known key a mistyped one most likely meant (epoch -> epochs), or None."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return close[0] if close else None


def render_yaml(docs: Sequence[Any], script: str, output: str, files: Optional[Dict[str, dict]] = None,
                source: str = "argparse parser") -> str:
    """config.yaml text: a header naming the source read, then one commented `key: value` per argument, in the
    parser's order; a key that names a config file (files: key -> {_file_: path, ...its values}) as a block of the
    file's values."""
    lines = [
        f"# Training values for {script}, read from its {source} by clearml-hat.",
        f"# Regenerate: python -m clearml_hat yaml --script {shlex.quote(script)} -o {shlex.quote(output)}",
        f"# Check edits: python -m clearml_hat yaml --script {shlex.quote(script)} --check {shlex.quote(output)}",
        "",
    ]
    for doc in docs:
        lines.extend(f"# {line}" for line in _comment_lines(doc))
        if files and doc.key in files:
            lines.append("# the values of that file; an edit reaches the script in a copy of it (_file_ is its path)")
            lines.append(f"{dump_scalar(doc.key)}:")
            lines.extend(f"  {line}" for line in _dump_block(files[doc.key]).splitlines())
        else:
            lines.append(f"{dump_scalar(doc.key)}: {dump_scalar(doc.value)}")
    return "\n".join(lines) + "\n"


CHOICE_KEY = "_choice_"  # in a nested YAML, a key that is both a value and a mapping (Hydra's config group)


def render_nested_yaml(docs: Sequence[Any], script: str, output: str, source: str) -> str:
    """config.yaml text for dotted keys (`optim.lr`), nested: `optim:` then `  lr: 0.1`, each key with its
    comments. A key that has dotted keys below it (Hydra's group `model` beside `model.width`) is written inside
    its mapping as `_choice_: small`."""
    tree: Dict[str, Any] = {}
    for doc in docs:
        *parents, name = doc.key.split(".")
        level = tree
        for parent in parents:
            if not isinstance(level.get(parent, {}), dict):
                level[parent] = {CHOICE_KEY: level[parent]}
            level = level.setdefault(parent, {})
        level[name] = doc if name not in level else {CHOICE_KEY: doc, **level[name]}
    lines = [
        f"# Training values for {script}, read from its {source} by clearml-hat.",
        f"# Regenerate: python -m clearml_hat yaml --script {shlex.quote(script)} -o {shlex.quote(output)}",
        f"# Check edits: python -m clearml_hat yaml --script {shlex.quote(script)} --check {shlex.quote(output)}",
        "",
    ]
    _nested_lines(tree, "", lines)
    return "\n".join(lines) + "\n"


def _nested_lines(tree: Dict[str, Any], indent: str, lines: list) -> None:
    for name, item in tree.items():
        if isinstance(item, dict):
            lines.append(f"{indent}{dump_scalar(name)}:")
            _nested_lines(item, indent + "  ", lines)
            continue
        lines.extend(f"{indent}# {line}" for line in _comment_lines(item))
        lines.append(f"{indent}{dump_scalar(name)}: {dump_scalar(item.value)}")


def unnest(values: dict, prefix: str = "") -> dict:
    """A nested YAML's values as dotted keys: {"optim": {"lr": 0.1}} -> {"optim.lr": 0.1}; `_choice_` is the
    value of its mapping's own key. An empty mapping is a value itself."""
    flat: Dict[str, Any] = {}
    for name, value in values.items():
        key = f"{prefix}{name}"
        if name == CHOICE_KEY and prefix:
            flat[prefix[:-1]] = value
        elif isinstance(value, dict) and value:
            flat.update(unnest(value, f"{key}."))
        else:
            flat[key] = value
    return flat


class _BlockDumper(_Dumper):
    """Mappings in block style, one key a line; lists inline (`betas: [0.9, 0.99]`)."""


_BlockDumper.add_representer(list, lambda dumper, items: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", items, flow_style=True))


def _dump_block(mapping: dict) -> str:
    return yaml.dump(mapping, Dumper=_BlockDumper, default_flow_style=False, width=10**6, allow_unicode=True,
                     sort_keys=False)


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
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10**6, allow_unicode=allow_unicode,
                     sort_keys=False)  # a dict default keeps the order the script wrote
    if text.endswith("\n...\n"):  # the document end marker PyYAML adds after a lone scalar
        text = text[: -len("...\n")]
    return text.strip()
