"""What the YAML holds for a parser: one value per key, and what each key means (for the YAML writer).

    default_values(parser)      -> {"lr": 0.01, "epochs": 300, ...}   what parse_args([]) gives, as YAML types
    describe_arguments(parser)  -> [KeyDoc(key="lr", help="learning rate", ...), ...]   for the YAML writer

One key per argument dest (parser_keys.ParserKey). A subcommand is picked by a key named after the subparsers'
dest (`command` when it has none); the options of every subcommand sit beside it in the same flat dict. Nested
subcommands work the same way one level down: their key is their dest, or `subcommand`, `subsubcommand`...
when they have none.
"""
from __future__ import annotations

import argparse
import copy
from typing import Any, Dict, List, cast

from clearml_hat.config.argparser.parser_keys import (
    ParserKey,
    all_parsers,
    argument_actions,
    parser_keys,
    subcommand_key,
    unique_subparsers,
)
from clearml_hat.config.system import KeyDoc
from clearml_hat.values.yaml_values import convert


def default_values(parser: argparse.ArgumentParser) -> dict:
    """What parse_args([]) gives, one key per dest in the parser's order, as YAML types (None when required)."""
    return {doc.key: doc.value for doc in describe_arguments(parser)}


def describe_arguments(parser: argparse.ArgumentParser) -> List[KeyDoc]:
    """One KeyDoc per key, subcommand options after their subcommand key; keys seen before are not repeated."""
    docs: Dict[str, KeyDoc] = {}
    _describe(parser, "", 0, docs)
    return list(docs.values())


def _describe(parser: argparse.ArgumentParser, subcommand: str, depth: int, docs: Dict[str, KeyDoc]) -> None:
    keys = {key.key: key for key in parser_keys(parser)}
    for action in argument_actions(parser):  # in the parser's order, subcommands where they were added
        if isinstance(action, argparse._SubParsersAction):
            _describe_subcommands(parser, action, subcommand, depth, docs)
        elif action.dest not in docs and keys[action.dest].has_default:  # a SUPPRESS default is no YAML value
            docs[action.dest] = _doc(parser, keys[action.dest], subcommand)


def _describe_subcommands(parser: argparse.ArgumentParser, action: argparse.Action, subcommand: str, depth: int,
                          docs: Dict[str, KeyDoc]) -> None:
    name = subcommand_key(action, depth)
    children = unique_subparsers(action)
    docs.setdefault(name, KeyDoc(
        key=name, value=None, help=_help(parser, action, None), choices=list(cast(Dict[str, Any], action.choices)),
        required=bool(action.required), subcommands={n: list(default_values(c)) for n, c in children.items()},
        subcommand=subcommand,
    ))
    for child_name, child in children.items():
        _describe(child, f"{subcommand} {child_name}".strip(), depth + 1, docs)


def _doc(parser: argparse.ArgumentParser, key: ParserKey, subcommand: str) -> KeyDoc:
    value, note = (None, "") if key.required else convert(key.raw_default)
    if key.actions[0].choices is not None and key.choices is None:
        note = "; ".join(filter(None, [note, "its choices could not be evaluated here"]))
    # Several actions share a dest (--x / --no-x): parse_args took the first one's default; the help of the
    # first that has one.
    help_text = next(filter(None, (_help(parser, action, value) for action in key.actions)), "")
    return KeyDoc(key=key.key, value=value, help=help_text, choices=key.choices, required=key.required,
                       note=note, flags=key.flags, subcommand=subcommand)


def known_keys(parser: argparse.ArgumentParser, depth: int = 0) -> List[str]:
    """Every key values may hold for parser: those of default_values, plus options whose default is SUPPRESS."""
    keys: List[str] = []
    for action in argument_actions(parser):  # in the parser's order, subcommands where they were added
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
    Or its type turns each of its text choices into text: HfArgumentParser's enum fields (`save_strategy: no`).
    An untyped option with a number default (`default=0.2`) is left to YAML typing (check warns about it).
    """
    return {key.key for each in all_parsers(parser) for key in parser_keys(each) if key.takes_text}


def whole_numbers(parser: argparse.ArgumentParser, values: dict) -> dict:
    """values with a whole float (10.0, 1e1) of a type=int option as the int the script receives (10).

    A value that is not whole (5.5) is left for the check, which refuses it.
    """
    keys = {key.key for each in all_parsers(parser) for key in parser_keys(each) if key.takes_whole_numbers}
    return {key: _whole(value) if key in keys else value for key, value in values.items()}


def _whole(value: Any) -> Any:
    if isinstance(value, list):
        return [_whole(item) for item in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


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
