"""Read an argparse parser: the YAML values it implies, and what each key means.

    default_values(parser)      -> {"lr": 0.01, "epochs": 300, ...}   what parse_args([]) gives, as YAML types
    describe_arguments(parser)  -> [ArgumentDoc(key="lr", help="learning rate", ...), ...]   for the YAML writer

One key per argument dest. A subcommand is picked by a key named after the subparsers' dest (`command` when it
has none); the options of every subcommand sit beside it in the same flat dict. Nested subcommands work the same
way one level down: their key is their dest, or `subcommand`, `subsubcommand`... when they have none.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
from enum import Enum
from pathlib import PurePath
from typing import Any, Dict, List, NoReturn, Optional, Tuple

from clearml_hat.errors import HatError
from clearml_hat.stand_ins import is_stand_in, stand_in_origin


@dataclasses.dataclass(frozen=True)
class ArgumentDoc:
    """One YAML key as the writer shows it."""

    key: str
    value: Any  # the default as a YAML value (None when required, unknown or not representable)
    help: str = ""  # help text with %(default)s and friends expanded
    choices: Optional[list] = None
    required: bool = False
    note: str = ""  # why the value is not the script's default as written ("" when it is)
    flags: Tuple[str, ...] = ()  # option strings; () for positionals and subcommand keys
    subcommand: str = ""  # the subcommand the key belongs to ("train", or "db migrate" when nested)
    subcommands: Dict[str, List[str]] = dataclasses.field(default_factory=dict)  # on a subcommand key: name -> its keys


def default_values(parser: argparse.ArgumentParser) -> dict:
    """What parse_args([]) gives, one key per dest in the parser's order, as YAML types (None when required)."""
    return {doc.key: doc.value for doc in describe_arguments(parser)}


def describe_arguments(parser: argparse.ArgumentParser) -> List[ArgumentDoc]:
    """One ArgumentDoc per key, subcommand options after their subcommand key; keys seen before are not repeated."""
    docs: Dict[str, ArgumentDoc] = {}
    _describe(parser, "", 0, docs)
    return list(docs.values())


def _describe(parser: argparse.ArgumentParser, subcommand: str, depth: int, docs: Dict[str, ArgumentDoc]) -> None:
    defaults = parse_defaults(parser)
    required = required_keys(parser)
    for action in argument_actions(parser):
        if isinstance(action, argparse._SubParsersAction):
            key = subcommand_key(action, depth)
            children = unique_subparsers(action)
            docs.setdefault(key, ArgumentDoc(
                key=key, value=None, help=_help(parser, action, None), choices=list(action.choices),
                required=bool(action.required),
                subcommands={name: list(default_values(child)) for name, child in children.items()},
                subcommand=subcommand,
            ))
            for name, child in children.items():
                _describe(child, f"{subcommand} {name}".strip(), depth + 1, docs)
        elif action.dest in docs:
            # Several actions share this dest (--x / --no-x): parse_args took the first one's default.
            first = docs[action.dest]
            docs[action.dest] = dataclasses.replace(first, flags=first.flags + tuple(action.option_strings),
                                                    help=first.help or _help(parser, action, first.value))
        elif action.dest in defaults:  # absent when the default is SUPPRESS
            value, note = convert(defaults[action.dest])
            if action.dest in required:
                value, note = None, ""
            if action.choices is not None and known_choices(action) is None:
                note = "; ".join(filter(None, [note, "its choices could not be evaluated here"]))
            docs[action.dest] = ArgumentDoc(
                key=action.dest, value=value, help=_help(parser, action, value), choices=known_choices(action),
                required=action.dest in required, note=note, flags=tuple(action.option_strings),
                subcommand=subcommand,
            )


def known_keys(parser: argparse.ArgumentParser, depth: int = 0) -> List[str]:
    """Every key values may hold for parser: those of default_values, plus options whose default is SUPPRESS."""
    keys: List[str] = []
    for action in argument_actions(parser):
        if isinstance(action, argparse._SubParsersAction):
            keys.append(subcommand_key(action, depth))
            for child in unique_subparsers(action).values():
                keys += known_keys(child, depth + 1)
        else:
            keys.append(action.dest)
    return list(dict.fromkeys(keys))


def text_keys(parser: argparse.ArgumentParser) -> set:
    """Keys whose options take text: argparse hands the script the characters typed, so the YAML must too.

    Every value-taking action of the key has no type= or type=str, and its default is text (or None, or a list
    of text) or its choices are all text: accelerate's `mixed_precision` choices no/fp16/bf16, a `--country NO`.
    An untyped option with a number default (`default=0.2`) is left to YAML typing (check warns about it).
    """
    keys = set()
    for each in all_parsers(parser):
        defaults = parse_defaults(each)
        keys.update(key for key, actions in _by_dest(each).items() if _takes_text(actions, defaults.get(key)))
    return keys


def _takes_text(actions: List[argparse.Action], default: Any) -> bool:
    takers = [a for a in actions if a.nargs != 0]
    if not takers or any(a.type not in (None, str) for a in takers):
        return False
    choices = [choice for a in takers for choice in known_choices(a) or []]
    return _is_text(default) or (bool(choices) and all(isinstance(choice, str) for choice in choices))


def whole_numbers(parser: argparse.ArgumentParser, values: dict) -> dict:
    """values with a whole float (10.0, 1e1) of a type=int option as the int the script receives (10).

    A value that is not whole (5.5) is left for the check, which refuses it.
    """
    keys = {key for each in all_parsers(parser) for key, actions in _by_dest(each).items()
            if all(a.type is int for a in actions if a.nargs != 0) and any(a.nargs != 0 for a in actions)}
    return {key: _whole(value) if key in keys else value for key, value in values.items()}


def _whole(value: Any) -> Any:
    if isinstance(value, list):
        return [_whole(item) for item in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str)
                                                                                       for v in value))


def _by_dest(parser: argparse.ArgumentParser) -> Dict[str, List[argparse.Action]]:
    groups: Dict[str, List[argparse.Action]] = {}
    for action in argument_actions(parser):
        if not isinstance(action, argparse._SubParsersAction):
            groups.setdefault(action.dest, []).append(action)
    return groups


def all_parsers(parser: argparse.ArgumentParser) -> List[argparse.ArgumentParser]:
    """The parser and the parsers of all its subcommands, nested ones too."""
    found = [parser]
    for action in argument_actions(parser):
        if isinstance(action, argparse._SubParsersAction):
            for child in unique_subparsers(action).values():
                found += all_parsers(child)
    return found


def _help(parser: argparse.ArgumentParser, action: argparse.Action, value: Any) -> str:
    """The help text as --help shows it, except that %(default)s shows the YAML value."""
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    shown = copy.copy(action)
    shown.default = value
    try:
        return " ".join(parser._get_formatter()._expand_help(shown).split())
    except (ValueError, KeyError, TypeError):  # a stray '%' in the help: --help would fail on it too
        return " ".join(action.help.split())


# ---- reading a parser -------------------------------------------------------------------------------------------

def argument_actions(parser: argparse.ArgumentParser) -> List[argparse.Action]:
    """The parser's actions that carry a value (no --help, no --version), in the parser's order."""
    return [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]


def subcommand_key(action: argparse.Action, depth: int) -> str:
    """The YAML key that picks a subcommand: the subparsers' dest, else command / subcommand / subsubcommand..."""
    if action.dest != argparse.SUPPRESS:
        return action.dest
    return "sub" * depth + "command"


def unique_subparsers(action: argparse.Action) -> Dict[str, argparse.ArgumentParser]:
    """Subcommand name -> parser, aliases left out (they share the parser of the name given first)."""
    names: Dict[str, argparse.ArgumentParser] = {}
    for name, child in action.choices.items():
        if all(child is not seen for seen in names.values()):
            names[name] = child
    return names


def chosen_parsers(parser: argparse.ArgumentParser, values: dict) -> Tuple[List[argparse.ArgumentParser], str]:
    """(the parsers values pick, outermost first; "" or the problem that ended the walk early).

    The problem is a required subcommand left empty, or a name that is no subcommand.
    """
    path = [parser]
    while True:
        action = next((a for a in path[-1]._actions if isinstance(a, argparse._SubParsersAction)), None)
        if action is None:
            return path, ""
        key = subcommand_key(action, len(path) - 1)
        name = values.get(key)
        names = ", ".join(map(str, action.choices))
        if name is None:
            return path, f"{key}: a subcommand is required; set it to one of {names}" if action.required else ""
        if name not in action.choices:
            return path, f"{key}: {name!r} is not a subcommand; use one of {names}"
        path.append(action.choices[name])


def known_choices(action: argparse.Action) -> Optional[list]:
    """The action's choices; None when it has none or they came from a module missing here (a stand-in, or an
    empty list built from one: no real script offers no choice at all)."""
    if action.choices is None or is_stand_in(action.choices):
        return None
    return list(action.choices) or None  # a stand-in iterates as empty


def required_keys(parser: argparse.ArgumentParser) -> set:
    """Dests that parse_args([]) would complain about: required arguments and members of required groups.

    argparse marks a positional with nargs='*' (or REMAINDER) required, but it matches an empty command line.
    """
    keys = {a.dest for a in argument_actions(parser)
            if a.required and (a.option_strings or a.nargs not in (argparse.ZERO_OR_MORE, argparse.REMAINDER))}
    for group in parser._mutually_exclusive_groups:
        if group.required:
            keys.update(a.dest for a in group._group_actions)
    return keys


def parse_defaults(parser: argparse.ArgumentParser) -> dict:
    """The namespace parse_args([]) gives (raw objects), without failing on required arguments.

    It parses a shallow copy whose actions are copies marked not required, so the script's parser is never
    touched. FileType options keep their default as a string: converting it would open (or truncate) the file.
    """
    clone = copy.copy(parser)
    clone._actions = [_relaxed(action) for action in parser._actions]
    clone._mutually_exclusive_groups = []

    def fail(message: str) -> NoReturn:
        raise HatError(f"{parser.prog}: the script fails with an empty command line ({message}); fix that default")

    clone.error = fail
    try:
        namespace, _ = clone.parse_known_args([])
    except argparse.ArgumentError as err:  # parsers made with exit_on_error=False
        fail(str(err))
    return vars(namespace)


def _relaxed(action: argparse.Action) -> argparse.Action:
    relaxed = copy.copy(action)
    relaxed.required = False
    if isinstance(action.type, argparse.FileType):
        relaxed.type = None
    return relaxed


# ---- YAML values --------------------------------------------------------------------------------------------------

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
    if isinstance(value, PurePath):
        return str(value), f"the path {str(value)!r} is written as a string"
    if isinstance(value, (list, tuple)):
        pairs = [convert(item) for item in value]
        return [item for item, _ in pairs], next((note for _, note in pairs if note), "")
    if isinstance(value, dict):
        pairs = {key: convert(item) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, next((n for _, n in pairs.values() if n), "")
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
