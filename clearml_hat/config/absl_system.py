"""absl flags as a config system (config/system.py): the flags a script's own modules define (`flags.DEFINE_integer`
and friends) before `app.run(main)`, read by running the script up to that call (entry_capture.py).

    system = capture_absl(Path("train.py"))     # flags.DEFINE_float("lr", 0.1, ...); app.run(main)
    system.command_line({"lr": 0.5, "shuffle": False, "layers": ["a", "b"]})
    # ["--lr=0.5", "--noshuffle", "--layers=a,b"]

Keys are the flag names; absl's own flags (--logtostderr, --verbosity) and those of installed packages are not
keys. Help texts and enum choices become comments. Booleans are written `--flag` / `--noflag`, lists `a,b`,
multi flags once per item. The command line is proven by parsing it with a copy of the script's flags, validators
included. ml_collections' config_flags (`--config=path.py:arg`) are refused. absl-py is the script's dependency,
so it is imported only here, only for a script that uses it.
"""
from __future__ import annotations

import copy
import enum
import os
from pathlib import Path
from typing import Any, Iterable, List, Optional, Set

from clearml_hat.config.entry_capture import run_until_call
from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError
from clearml_hat.local.repo import repo_root
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import same_value

_REQUIRED = "must have a value other than None"  # the message of absl's mark_flag_as_required validator


def capture_absl(script: Path) -> AbslSystem:
    """The flags `python script` defines before app.run; they leave absl's FLAGS again, so the training's own run
    defines them afresh."""
    from absl import app, flags

    # A script may also parse by itself (`FLAGS(sys.argv)`, then train): capture stops at that parse too.
    run_until_call(script, [(app, "run"), (flags.FlagValues, "__call__")], "absl.app.run")
    names = _script_flags(flags.FLAGS, script)
    parser = copy.deepcopy(flags.FLAGS)
    for name in names:
        delattr(flags.FLAGS, name)
    for name in names:
        if type(parser[name]).__module__.startswith("ml_collections"):
            raise HatError(f"{script}: --{name} is an ml_collections config flag (config_flags.DEFINE_config_*), "
                           "which the hat does not support; give the script plain absl flags for the values to edit")
    return AbslSystem(parser, names)


def _script_flags(flag_values: Any, script: Path) -> List[str]:
    """The names of the flags defined by the script or by modules of its repo, in definition order."""
    import sys

    root = repo_root(script)
    names: List[str] = []
    for module, defined in flag_values.flags_by_module_dict().items():
        file = getattr(sys.modules.get(module), "__file__", None) or module  # the script's own: its argv[0]
        if _in_repo(file, root):
            names += [flag.name for flag in defined if flag.name not in names]
    order = list(flag_values)  # FlagValues iterates in definition order
    return sorted(names, key=order.index)


class AbslSystem:
    """The script's absl flags, parsed with a copy of them."""

    name = "absl"
    nested = False

    def __init__(self, flag_values: Any, names: List[str]) -> None:
        self.flag_values = flag_values
        self.names = names
        self.flags = {name: flag_values[name] for name in names}

    def describe(self) -> List[KeyDoc]:
        docs = []
        for name, flag in self.flags.items():
            required = flag.default is None and any(_REQUIRED in getattr(check, "message", "")
                                                    for check in flag.validators)
            # absl puts `<sgd|adam>: ` before an enum's help; the choices are their own comment here.
            shown = (flag.help or "").split(">: ", 1)[-1] if _choices(flag) else flag.help or ""
            docs.append(KeyDoc(name, _yaml_value(flag.default), help=" ".join(shown.split()),
                               choices=_choices(flag), required=required, flags=(f"--{name}",)))
        return docs

    def known_keys(self) -> List[str]:
        return list(self.names)

    def text_keys(self) -> Set[str]:
        # absl gets strings and enums as the text written (`no` stays 'no').
        return {name for name, flag in self.flags.items() if flag.flag_type() in ("string", "enum", "enum_class")}

    def typed(self, values: dict) -> dict:
        """Values as absl parses them: 10.0 for an integer flag is 10, list items are strings."""
        typed = dict(values)
        for key, value in values.items():
            if key in self.flags and value is not None:
                try:
                    typed[key] = self._parsed_one(key, value)
                except HatError:
                    pass  # check names the value absl cannot read
        return typed

    def number_type(self, key: str) -> Optional[type]:
        return {"int": int, "float": float}.get(self.flags[key].flag_type()) if key in self.flags else None

    def check(self, values: dict) -> Checked:
        problems = []
        for key, value in values.items():
            flag = self.flags.get(key)
            choices = _choices(flag) if flag is not None else None
            if flag is None:
                close = closest_key(key, self.names)
                problems.append(f"{key}: the script defines no such absl flag; "
                                f"{f'did you mean {close!r}?' if close else 'remove it'}")
            elif value is None:
                if any(_REQUIRED in getattr(check, "message", "") for check in flag.validators):
                    problems.append(f"{key}: --{key} is a required flag and has no value; give one")
            elif choices and str(value) not in choices and not isinstance(value, bool):
                problems.append(f"{key}: {value!r} is no choice of --{key}; choose one of {', '.join(choices)}")
            else:
                try:
                    self._parsed_one(key, value)
                except HatError as error:
                    problems.append(str(error))
        return Checked(problems, [])

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """absl's own form for each value given, proven by parsing it with a copy of the script's flags."""
        given = {key: value for key, value in values.items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        argv = [arg for key, value in given.items() for arg in _args(key, value, self.flags[key])]
        parsed = copy.deepcopy(self.flag_values)
        try:
            parsed(["train.py", *argv])
        except Exception as error:  # absl's flags.Error, and what a script's own validator raises
            raise HatError(f"absl refuses {' '.join(argv)}: {error}; fix the value it names") from None
        for key, value in given.items():
            if not same_value(_yaml_value(parsed[key].value), self._parsed_one(key, value)):
                raise HatError(f"{key}: absl reads {' '.join(_args(key, value, self.flags[key]))} as "
                               f"{parsed[key].value!r}, not {value!r}; write the value as absl's own text")
        return argv

    def _parsed_one(self, key: str, value: Any) -> Any:
        """value as the flag parses it (as a YAML value); HatError naming the flag when absl cannot read it."""
        from absl import flags

        flag = copy.deepcopy(self.flags[key])
        if flag.flag_type() == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)  # YAML's 1e4 for an integer flag: absl refuses '10000.0'
        try:
            if flag.flag_type().startswith("multi"):
                flag.parse([_text(item) for item in (value if isinstance(value, list) else [value])])
            else:
                flag.parse(_text(value))
        except (flags.Error, ValueError, TypeError) as error:
            said = str(error).split(": ", 1)[-1]  # absl's message starts with the flag and value again
            raise HatError(f"{key}: --{key} cannot take {value!r} ({said}); give a value of type "
                           f"{flag.flag_type()}") from None
        if flag.flag_type() in ("int", "float") and isinstance(value, bool):
            raise HatError(f"{key}: --{key} cannot take {value!r}; give a value of type {flag.flag_type()}")
        parsed = _yaml_value(flag.value)
        if isinstance(value, list) and len(parsed) != len(value):
            raise HatError(f"{key}: absl splits {_text(value)!r} into {parsed!r}; an item cannot hold a comma")
        return parsed


def _args(key: str, value: Any, flag: Any) -> List[str]:
    if flag.boolean:
        return [f"--{key}" if value else f"--no{key}"]
    if flag.flag_type().startswith("multi"):
        return [f"--{key}={_text(item)}" for item in (value if isinstance(value, list) else [value])]
    return [f"--{key}={_text(value)}"]


def _text(value: Any) -> str:
    """A value as absl's parsers read it: lists comma-joined, floats in full, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return repr(value) if isinstance(value, float) else str(value)


def _yaml_value(value: Any) -> Any:
    """A flag's value as YAML holds it: an enum member by name, anything else as it is."""
    if isinstance(value, enum.Enum):
        return value.name
    return list(value) if isinstance(value, tuple) else value


def _choices(flag: Any) -> Optional[List[str]]:
    values = getattr(flag.parser, "enum_values", None) or getattr(flag.parser, "member_names", None)
    return list(values) if values else None


def _in_repo(file: str, root: Path) -> bool:
    """True when file lies below root and outside an installed packages folder (a `.venv` kept in the repo)."""
    path = os.path.realpath(file)
    return path.startswith(f"{root}{os.sep}") and not {"site-packages", "dist-packages"} & set(Path(path).parts)
