"""Check edited YAML values against the script's parser before anything runs.

    problems, warnings = check_values(parser, {"lr": "fast", "epoch": 3})
    # problems: ["lr: 'fast' cannot be given on the command line (...)", "epoch: unknown key; did you mean 'epochs'?"]

A problem stops the run; a warning is something the script will see differently from the YAML.
"""
from __future__ import annotations

import argparse
import difflib
from typing import Any, Dict, List, Tuple

from clearml_hat.argv import build_argv, key_tokens
from clearml_hat.errors import HatError
from clearml_hat.parser_values import (
    argument_actions,
    chosen_parsers,
    describe_arguments,
    known_choices,
    known_keys,
    parse_defaults,
    required_keys,
    same_value,
    yaml_value,
)


def check_values(parser: argparse.ArgumentParser, values: dict) -> Tuple[List[str], List[str]]:
    """(problems, warnings), one line each, for values meant for parser."""
    problems: List[str] = []
    warnings: List[str] = []
    known = known_keys(parser)
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it"
            problems.append(f"{key}: unknown key; {hint}")
    path, problem = chosen_parsers(parser, values)
    problems += [problem] if problem else []
    chosen_keys = set()
    for each in path:
        chosen_keys.update(_check_parser(each, values, problems, warnings))
    for doc in describe_arguments(parser):
        value = values.get(doc.key)
        if doc.subcommand and doc.key not in chosen_keys and value is not None and not same_value(value, doc.value):
            problems.append(f"{doc.key}: belongs to subcommand {doc.subcommand!r}, which is not chosen; "
                            f"choose it or remove the key")
    if not problems:
        try:
            build_argv(parser, values)
        except HatError as err:
            problems.append(str(err))
    return problems, warnings


def _check_parser(parser: argparse.ArgumentParser, values: dict, problems: List[str],
                  warnings: List[str]) -> List[str]:
    """Check the keys of one chosen parser; returns them."""
    defaults = {key: yaml_value(value) for key, value in parse_defaults(parser).items()}
    required = required_keys(parser)
    groups: Dict[str, List[argparse.Action]] = {}
    for action in argument_actions(parser):
        if not isinstance(action, argparse._SubParsersAction):
            groups.setdefault(action.dest, []).append(action)
    for key, actions in groups.items():
        value = values.get(key)
        if value is None:
            if key in required:
                flags = ", ".join(s for a in actions for s in a.option_strings) or "positional"
                problems.append(f"{key}: a value is required ({flags}); set it in the YAML")
            continue
        default = None if key in required else defaults.get(key)
        if same_value(value, default):
            continue  # left out of argv: the script gets its own default
        try:
            _, parsed, action = key_tokens(parser, key, actions, value, default)
        except HatError as err:
            problems.append(str(err))
            continue
        items = parsed if isinstance(parsed, list) and action.nargs != 0 and action.nargs is not None else [parsed]
        bad = [item for item in items if not _in_choices(item, action)]
        if bad:
            problems.append(f"{key}: {bad[0]!r} is not one of the choices {_choices_text(action.choices)}")
        if action.nargs != 0 and action.type is None and not all(isinstance(i, str) for i in _flat(value)):
            warnings.append(f"{key}: the script's option has no type=, so {value!r} reaches it as the string "
                            f"{parsed!r}; add type= to the argument, or quote the value in the YAML")
    return list(groups)


def _in_choices(item: Any, action: argparse.Action) -> bool:
    """argparse's own test: `item in choices`, which for a string of choices is a substring test. Choices that
    could not be evaluated here pass."""
    if known_choices(action) is None:
        return True
    if isinstance(action.choices, str):
        return isinstance(item, str) and item in action.choices
    return any(same_value(item, yaml_value(choice)) for choice in action.choices)


def _choices_text(choices: Any) -> str:
    return repr(choices) if isinstance(choices, str) else ", ".join(map(str, choices))


def _flat(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]
