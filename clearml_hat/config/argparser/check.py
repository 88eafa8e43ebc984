"""Check edited YAML values against the script's parser before anything runs.

    problems, warnings = check_values(parser, {"lr": "fast", "epoch": 3})
    # problems: ["lr: 'fast' cannot be given on the command line (...)", "epoch: unknown key; did you mean 'epochs'?"]

A problem stops the run; a warning is something the script will see differently from the YAML.
"""
from __future__ import annotations

import argparse
from typing import Any, List

from clearml_hat.config.argparser.argv import build_argv, key_tokens
from clearml_hat.config.argparser.parser_keys import ParserKey, chosen_parsers, known_choices, parser_keys
from clearml_hat.config.argparser.parser_values import describe_arguments, known_keys
from clearml_hat.config.system import Checked
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import same_value, yaml_value


def check_values(parser: argparse.ArgumentParser, values: dict) -> Checked:
    """Every problem and warning of values meant for parser, one line each (building the argv is tried too)."""
    problems: List[str] = []
    warnings: List[str] = []
    known = known_keys(parser)
    for key in values:
        if key not in known:
            close = closest_key(key, known)
            problems.append(f"{key}: unknown key; {f'did you mean {close!r}?' if close else 'remove it'}")
    path, problem = chosen_parsers(parser, values)
    problems += [problem] if problem else []
    chosen_keys = set()
    for each in path:
        for key in parser_keys(each):
            chosen_keys.add(key.key)
            _check_key(each, key, values.get(key.key), problems, warnings)
    for doc in describe_arguments(parser):
        value = values.get(doc.key)
        if doc.subcommand and doc.key not in chosen_keys and value is not None and not same_value(value, doc.value):
            problems.append(f"{doc.key}: belongs to subcommand {doc.subcommand!r}, which is not chosen; "
                            f"choose it or remove the key")
    if problems:
        return Checked(problems, warnings)
    try:
        build_argv(parser, values)
    except HatError as err:
        return Checked([str(err)], warnings)
    return Checked(problems, warnings)


def _check_key(parser: argparse.ArgumentParser, key: ParserKey, value: Any, problems: List[str],
               warnings: List[str]) -> None:
    if value is None:
        if key.required:
            problems.append(f"{key.key}: a value is required ({', '.join(key.flags) or 'positional'}); set it in "
                            "the YAML")
        return
    if same_value(value, key.default):
        return  # left out of argv: the script gets its own default
    try:
        _, parsed, action = key_tokens(parser, key.key, list(key.actions), value, key.default)
    except HatError as err:
        problems.append(str(err))
        return
    items = parsed if isinstance(parsed, list) and action.nargs != 0 and action.nargs is not None else [parsed]
    bad = [item for item in items if not _in_choices(item, action)]
    if bad:
        problems.append(f"{key.key}: {bad[0]!r} is not one of the choices {_choices_text(action.choices)}")
    if action.nargs != 0 and action.type is None and not all(isinstance(i, str) for i in _flat(value)):
        warnings.append(f"{key.key}: the script's option has no type=, so {value!r} reaches it as the string "
                        f"{parsed!r}; add type= to the argument, or quote the value in the YAML")


def _in_choices(item: Any, action: argparse.Action) -> bool:
    """argparse's own test: `item in choices`, which for a string of choices is a substring test. Choices that
    could not be evaluated here pass."""
    choices = known_choices(action)
    if choices is None:
        return True
    if isinstance(action.choices, str):
        return isinstance(item, str) and item in action.choices
    return any(same_value(item, yaml_value(choice)) for choice in choices)


def _choices_text(choices: Any) -> str:
    return repr(choices) if isinstance(choices, str) else ", ".join(map(str, choices))


def _flat(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]
