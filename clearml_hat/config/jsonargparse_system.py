"""jsonargparse as a config system (config/system.py): the parser a script's `CLI(main)` or its own jsonargparse
ArgumentParser builds, captured at its parse_args (jsonargparse_capture.py), behind the ConfigSystem interface.

    system = JsonargparseSystem(capture_parser("train.py"), Path("train.py"))
    system.command_line({"optim.lr": 0.5, "amp": True, "tags": ["a", "b"]})
    # ["--optim.lr", "0.5", "--amp", "true", "--tags", '["a", "b"]']

Keys are the parser's own dests, dotted where jsonargparse nests them (a dataclass parameter `optim` gives
`optim.lr`), so the YAML shows them nested. Defaults, help texts and choices (a Literal's values) are the parser's.
The command line is jsonargparse's (`--optim.lr 0.5`; lists and mappings as JSON, which it reads as YAML), proven
by parsing it back with the parser itself. A `--config` option (ActionConfigFile) is a key too, passed first: the
file's values apply to every key left at its default, as on the script's own command line. Subcommands (CLI over
several functions, LightningCLI's `fit`, litgpt's `finetune_lora`) are one key, `subcommand`, and each
subcommand's keys sit under its name (`fit.trainer.max_epochs`); only the chosen one's are passed, after it
(`fit --trainer.max_epochs 3`). One level of subcommands is read.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import typing
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError
from clearml_hat.local.repo import repo_root
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import same_value

# jsonargparse actions that are no value of the training: help, --print_config, and `--optim CONFIG` (a file of
# one group's values; its keys are the group's dotted ones).
_NO_VALUE = ("_HelpAction", "_ActionPrintConfig", "_ActionConfigLoad", "_VersionAction", "_ActionHelpClassPath")
_PLAIN = (bool, int, float, str, type(None))
# What the parser says of a value left out (a required key, the subcommand): check names those itself.
_NOT_GIVEN = ("the following arguments are required", "is required but not included", "expected \"")


class JsonargparseSystem:
    """The script's jsonargparse parser, captured where it was about to parse."""

    name = "jsonargparse"
    nested = True  # `optim.lr` is the path of lr in jsonargparse's own nested config

    def __init__(self, parser: Any, script: Path) -> None:
        """parser: a jsonargparse.ArgumentParser (jsonargparse is the script's dependency, so it is not typed)."""
        self.parser = parser
        self.script = script
        self.actions: Dict[str, argparse.Action] = {}  # key -> action; a subcommand's keys are under its name
        self.sub_of: Dict[str, str] = {}  # key -> its subcommand ("" for the main parser's keys)
        self.subcommand_key: Optional[str] = None  # "subcommand" when the parser has subcommands
        self.subcommands: Dict[str, Any] = {}  # subcommand -> its parser
        self._subcommand_required = False
        self._read(parser, "")
        self.config_keys = [key for key, action in self.actions.items() if type(action).__name__ == "ActionConfigFile"]
        self.defaults = {sub: each.get_defaults() for sub, each in [("", parser), *self.subcommands.items()]}

    def _read(self, parser: Any, sub: str) -> None:
        parser.exit_on_error = False  # a bad value raises ArgumentError, which check turns into one line
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                if sub:
                    raise HatError(f"{self.script}: its subcommand {sub} has subcommands of its own, which the hat "
                                   "does not support; give the script one level of subcommands")
                self.subcommand_key, self.subcommands = action.dest, dict(action.choices or {})
                self._subcommand_required = bool(action.required)
                for name, each in self.subcommands.items():
                    self._read(each, name)
            elif type(action).__name__ not in _NO_VALUE:
                key = f"{sub}.{action.dest}" if sub else action.dest
                self.actions[key], self.sub_of[key] = action, sub

    def describe(self) -> List[KeyDoc]:
        docs = [self._doc(key, action) for key, action in self.actions.items() if key not in self.config_keys]
        if self.subcommand_key:
            docs.insert(len([key for key in self.actions if not self.sub_of[key] and key not in self.config_keys]),
                        KeyDoc(self.subcommand_key, None, help="the subcommand to run: only its keys are passed",
                               choices=list(self.subcommands), required=self._subcommand_required))
        return docs + [KeyDoc(key, None, help=f"{self.actions[key].help} (jsonargparse reads it before the other "
                                              "keys)", flags=tuple(self.actions[key].option_strings))
                       for key in self.config_keys]

    def _default(self, key: str) -> Any:
        return _plain_value(self.defaults[self.sub_of[key]].get(self.actions[key].dest))

    def _doc(self, key: str, action: argparse.Action) -> KeyDoc:
        default = self._default(key)
        value, note = (default, "") if _plain(default) else (None, f"{default!r}: no YAML value; the script's "
                                                                    "default is kept while this is unset")
        return KeyDoc(key, value, help=action.help or "", choices=self._choices(key), required=action.required,
                      note=note, flags=tuple(action.option_strings))

    def known_keys(self) -> List[str]:
        return list(self.actions) + ([self.subcommand_key] if self.subcommand_key else [])

    def text_keys(self) -> Set[str]:
        return {key for key in self.actions if _bare(self._hint(key)) is str
                or all(isinstance(choice, str) for choice in self._choices(key) or [0])} | \
            ({self.subcommand_key} if self.subcommand_key else set())

    def typed(self, values: dict) -> dict:
        """Mappings the nested YAML split into dotted keys folded back (a Dict option, litgpt's `data:` with
        class_path and init_args); 10.0 for an int key is 10, and 1 for a float key is 1.0, as jsonargparse
        converts them."""
        typed: Dict[str, Any] = {}
        for key, value in values.items():
            owner = next((known for known in self.actions if key.startswith(f"{known}.")), None)
            if key not in self.actions and owner is not None and isinstance(typed.get(owner, {}), dict):
                *path, name = key[len(owner) + 1:].split(".")
                mapping = typed.setdefault(owner, {})
                for part in path:
                    mapping = mapping.setdefault(part, {})
                mapping[name] = value
                continue
            number = self.number_type(key)
            if number is int and isinstance(value, float) and value.is_integer():
                value = int(value)
            elif number is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            typed[key] = value
        return typed

    def number_type(self, key: str) -> Optional[type]:
        hint = _bare(self._hint(key))
        return hint if hint in (int, float) else None

    def check(self, values: dict) -> Checked:
        given = {key: value for key, value in values.items() if value is not None}
        chosen = given.get(self.subcommand_key) if self.subcommand_key else None
        problems = self._subcommand_problems(chosen)
        for key, value in given.items():
            if key == self.subcommand_key:
                continue
            if key not in self.actions:
                close = closest_key(key, self.known_keys())
                fix = f"did you mean {close!r}?" if close else "remove it"
                problems.append(f"{key}: the script's jsonargparse parser has no such key; {fix}")
                continue
            sub = self.sub_of[key]
            if sub and sub != chosen and same_value(value, self._default(key)):
                continue  # another subcommand's key at its default: not passed
            if sub and sub != chosen:
                problems.append(f"{key}: a key of the subcommand {sub}, which is not the one chosen ({chosen}); set "
                                f"{self.subcommand_key}={sub} or leave {key} at its default")
                continue
            said = self._rejection(self._argv({key: value, **({self.subcommand_key: sub} if sub else {})}))
            if said is not None:
                problems.append(self._value_problem(key, value, said))
        problems += [f"{key}: the script requires a value and none is given; set {key} in the YAML or as "
                     f"{key}=VALUE" for key, action in self.actions.items()
                     if action.required and key not in given and self.sub_of[key] in ("", chosen)]
        warnings = [f"{key}: the values of {given[key]} apply to every key left at its default here (jsonargparse "
                    "reads the file before the other options)" for key in self.config_keys
                    if key in given and not any(problem.startswith(f"{key}: ") for problem in problems)]
        return Checked(problems, warnings)

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """jsonargparse's own command line for the values given; parsed back with the script's parser to prove
        it gets exactly those."""
        given = {key: value for key, value in values.items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        argv = self._argv(given)
        back = self._parse(argv)
        for key, value in given.items():
            got = back.get(key)
            if key not in self.config_keys and not same_value(_plain_value(got), value):
                raise HatError(f"{key}: jsonargparse reads {value_text(value)!r} as {got!r}, not {value!r}; write "
                               "the value as the script's option takes it")
        return argv

    def _argv(self, given: dict) -> List[str]:
        """The main parser's values, then the subcommand and its values (`fit --trainer.max_epochs 3`)."""
        chosen = given.get(self.subcommand_key) if self.subcommand_key else None
        return self._parser_argv(given, "") + ([str(chosen)] + self._parser_argv(given, str(chosen)) if chosen else [])

    def _parser_argv(self, given: dict, sub: str) -> List[str]:
        """One parser's part: config files first (later options win over them), then positionals and options in
        the parser's order."""
        keys = [key for key in self.actions if self.sub_of[key] == sub and key in given]
        order = [key for key in keys if key in self.config_keys] + [key for key in keys if key not in self.config_keys]
        positionals = [value_text(given[key]) for key in order if not self.actions[key].option_strings]
        options = [text for key in order if self.actions[key].option_strings
                   for text in (self.actions[key].option_strings[-1 if key in self.config_keys else 0],
                                value_text(given[key]))]
        return positionals + options

    def _subcommand_problems(self, chosen: Any) -> List[str]:
        if not self.subcommand_key:
            return []
        names = ", ".join(self.subcommands)
        if chosen is None and self._subcommand_required:
            return [f"{self.subcommand_key}: the script requires a subcommand and none is given; set "
                    f"{self.subcommand_key} to one of {names}"]
        if chosen is not None and chosen not in self.subcommands:
            return [f"{self.subcommand_key}: {chosen!r} is no subcommand of the script; choose one of {names}"]
        return []

    def _rejection(self, argv: List[str]) -> Optional[str]:
        """What the parser says against argv, or None; a required key left out is not this argv's problem."""
        try:
            self._parse(argv)
        except argparse.ArgumentError as error:
            said = str(error)
            return None if any(marker in said for marker in _NOT_GIVEN) else said
        return None

    def _parse(self, argv: List[str]) -> Any:
        """The parser's namespace for argv, parsed where the script's own modules import as in its run (a
        class_path such as litgpt's `litgpt.data.Alpaca` is imported while parsing)."""
        folders = [str(self.script.resolve().parent), str(repo_root(self.script))]
        path = sys.path
        sys.path = folders + [entry for entry in path if entry not in folders]
        try:
            return self.parser.parse_args(argv)
        finally:
            sys.path = path

    def _value_problem(self, key: str, value: Any, said: str) -> str:
        missing = re.search(r"No module named '([^']+)'", said)
        if missing:  # a class_path's module imports a package this machine lacks (litgpt's data: lightning)
            return (f"{key}: jsonargparse cannot check {value!r} here, it needs the missing module "
                    f"{missing.group(1)!r}; install it where the hat runs")
        choices = self._choices(key)
        if choices is not None:
            return f"{key}: {value!r} is no choice of {key}; choose one of {', '.join(map(str, choices))}"
        if key in self.config_keys:
            return f"{key}: jsonargparse cannot read {value!r} ({said.splitlines()[0]}); give a YAML file's path"
        expected = _hint_text(self._hint(key))
        return f"{key}: {value!r} is not of type {expected}, which the script gives {key}; give a value of that type"

    def _hint(self, key: str) -> Any:
        action = self.actions.get(key)  # None for an unknown key: check names it
        return getattr(action, "_typehint", None) or getattr(action, "type", None)

    def _choices(self, key: str) -> Optional[list]:
        choices = self.actions[key].choices if key in self.actions else None
        if choices is not None:
            return list(choices)
        hint = _bare(self._hint(key))
        return list(typing.get_args(hint)) if typing.get_origin(hint) is typing.Literal else None


def _bare(hint: Any) -> Any:
    """Optional[X] -> X: the type a given value must have (None is 'not passed' here)."""
    if typing.get_origin(hint) is typing.Union:
        rest = [each for each in typing.get_args(hint) if each is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def _hint_text(hint: Any) -> str:
    bare = _bare(hint)
    text = bare.__name__ if isinstance(bare, type) else str(bare).replace("typing.", "")
    return f"{text} or null" if bare is not hint else text


def _plain(value: Any) -> bool:
    """True for a value YAML writes as it is: scalars, and lists and mappings of them."""
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(name, str) and _plain(item) for name, item in value.items())
    return isinstance(value, _PLAIN)


def _plain_value(value: Any) -> Any:
    """A parsed value as YAML has it: a nested Namespace as a mapping, a tuple as a list, a path as its text
    (jsonargparse reads the text back into the path type: litgpt's `checkpoint_dir: Path`)."""
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return list(value) if isinstance(value, tuple) else value


def value_text(value: Any) -> str:
    """A value as jsonargparse's command line takes it: strings as written, the rest as JSON (jsonargparse reads
    values as YAML, of which JSON is part)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if value != value else (".inf" if value > 0 else "-.inf")
    return json.dumps(value)
