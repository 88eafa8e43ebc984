"""A parser read from a script's source without running it: the fallback when the script stops before its parse.

pytorch-cifar's utils.py runs `stty size` at import and fails without a terminal, so capture never reaches the
parser. The script's own `add_argument(...)` calls, read with `ast`, still say how each option is spelled and what
it stores. Where a call is made of literals (strings, numbers, type=int/float/str, an argparse action by name), the
same call on a fresh parser reads an argv exactly as the script's parser would, so argv is built and checked with
it like with a captured parser. A call with anything else in it (a custom type or action, a computed nargs) makes
its key unreadable: a value for that key is refused, naming the key. A computed default of an option that takes
a value is left out (the key is then always written out when it has a value), and so are computed choices (the
script itself still checks them). A flag with a computed default is unreadable: left out at its default, it
would get the script's real one (so would counters and append lists, which build on it). Literal
`set_defaults(key=value)` calls are applied in source order; one with computed keywords (timm's
`set_defaults(**cfg)`) could change any default, so then every key is unreadable.

    parser = read_parser(Path("main.py"))
    parser.problems({"lr": 0.1, "workers": 4})   # ["workers: ..."] when its add_argument could not be read
"""
from __future__ import annotations

import argparse
import ast
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

_TYPES = {"int": int, "float": float, "str": str}
_ACTIONS = {"store", "store_true", "store_false", "store_const", "append", "append_const", "count", "extend"}
_LITERAL = ("nargs", "const", "dest", "required")  # must be literals, or the key is unreadable
_DROPPABLE = ("default", "choices", "help", "metavar")  # left out when computed: argv stays exact without them


class _Unreadable(Exception):
    """One add_argument call is not made of literals."""


class StaticParser(argparse.ArgumentParser):
    """An ArgumentParser rebuilt from literal add_argument calls, with the keys whose calls were not literal."""

    def __init__(self, script: Path) -> None:
        super().__init__(prog=script.name, add_help=False)
        self.script = script
        self.unreadable: Dict[str, str] = {}  # key -> why its add_argument could not be read
        self.unreadable_from_line: Optional[int] = None  # a computed set_defaults: every key from here on

    def problems(self, values: dict) -> List[str]:
        """One line per key with a value whose option could not be read from the source."""
        return [f"{key}: {self.script.name} stops before its parser, and {reason}, so the hat cannot say it "
                f"exactly on the command line; fix what stops the script (see the warning above) or leave {key} "
                f"empty" for key, reason in self.unreadable.items() if values.get(key) is not None]


def read_parser(script: Path) -> Optional[StaticParser]:
    """The script's options as far as its source says them; None when it has subcommands (not read here)."""
    tree = ast.parse(script.read_text(encoding="utf-8"), str(script))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)]
    if any(call.func.attr == "add_subparsers" for call in calls):  # type: ignore[attr-defined]
        return None
    parser = StaticParser(script)
    for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
        if call.func.attr == "add_argument":  # type: ignore[attr-defined]
            _add(parser, call)
        elif call.func.attr == "set_defaults":  # type: ignore[attr-defined]
            _set_defaults(parser, call)
    return parser


def _set_defaults(parser: StaticParser, call: ast.Call) -> None:
    try:
        defaults = {keyword.arg: _literal(keyword.value, "") for keyword in call.keywords if keyword.arg}
        if call.args or any(keyword.arg is None for keyword in call.keywords):
            raise _Unreadable("")
    except _Unreadable:
        reason = f"set_defaults on line {call.lineno} may change any default"
        parser.unreadable.update({action.dest: reason for action in parser._actions})
        parser.unreadable_from_line = call.lineno
        return
    parser.set_defaults(**defaults)


def _add(parser: StaticParser, call: ast.Call) -> None:
    try:
        flags = [_literal(arg, "an option name") for arg in call.args]
    except _Unreadable:
        return  # no key can be named: a value for it is an unknown key
    key = _dest(flags, call)
    if parser.unreadable_from_line is not None:
        parser.unreadable[key] = f"set_defaults on line {parser.unreadable_from_line} may change any default"
        _placeholder(parser, flags, key)
        return
    try:
        keywords = _keywords(call)
        if "default" not in keywords and _builds_on_default(keywords) and _has_keyword(call, "default"):
            raise _Unreadable("a computed default= of a flag, counter or append option")
        parser.add_argument(*flags, **keywords)
    except _Unreadable as reason:
        parser.unreadable[key] = f"its add_argument on line {call.lineno} has {reason}"
        _placeholder(parser, flags, key)
    except (argparse.ArgumentError, ValueError, TypeError) as error:
        parser.unreadable[key] = f"its add_argument on line {call.lineno} cannot be repeated here ({error})"


def _placeholder(parser: StaticParser, flags: List[Any], key: str) -> None:
    """A plain option in place of one that could not be read, so the key is known (a value for it is refused by
    problems(); null leaves it out, and the script's own default applies)."""
    try:
        parser.add_argument(*flags, dest=key, default=None, help=argparse.SUPPRESS)
    except (argparse.ArgumentError, ValueError, TypeError):
        pass  # the same option strings were added before: the key is known already


def _builds_on_default(keywords: Dict[str, Any]) -> bool:
    """An option whose parsed value depends on its default: a flag (left out of argv at its default), a counter,
    an append list."""
    return keywords.get("action", "store") != "store" or keywords.get("nargs") == 0


def _has_keyword(call: ast.Call, name: str) -> bool:
    return any(keyword.arg == name for keyword in call.keywords)


def _keywords(call: ast.Call) -> Dict[str, Any]:
    keywords: Dict[str, Any] = {}
    for keyword in call.keywords:
        name, node = keyword.arg, keyword.value
        if name is None:
            raise _Unreadable("**keywords")
        if name == "type":
            keywords["type"] = _type(node)
        elif name == "action":
            keywords["action"] = _action(node)
        elif name in _LITERAL:
            keywords[name] = _literal(node, f"a computed {name}=")
        elif name in _DROPPABLE:
            try:
                keywords[name] = _literal(node, name)
            except _Unreadable:
                pass
        else:
            raise _Unreadable(f"{name}= (or **kwargs)")
    return keywords


def _type(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return _TYPES[node.id]
    raise _Unreadable(f"type={_dotted(node)}, a function of its own")


def _dotted(node: ast.expr) -> str:
    """`str2bool`, `utils.str2bool`: the name as the script wrote it (ast.unparse exists from Python 3.9 on)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "..."


def _action(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and node.value in _ACTIONS:
        return node.value
    # argparse.BooleanOptionalAction, by name (Python 3.9+)
    if isinstance(node, ast.Attribute) and node.attr == "BooleanOptionalAction" and \
            hasattr(argparse, "BooleanOptionalAction"):
        return argparse.BooleanOptionalAction
    raise _Unreadable("an action of its own")


def _literal(node: ast.expr, what: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise _Unreadable(what) from None


def _dest(flags: List[Any], call: ast.Call) -> str:
    """The key an add_argument call stores into, as argparse names it."""
    for keyword in call.keywords:
        if keyword.arg == "dest" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    names: Tuple[str, ...] = tuple(str(flag) for flag in flags)
    long = [name for name in names if name.startswith("--")]
    chosen = (long or list(names) or [""])[0]
    return chosen.lstrip("-").replace("-", "_")
