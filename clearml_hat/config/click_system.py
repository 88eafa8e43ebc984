"""click and typer as a config system (config/system.py): the parameters of the click Command a script invokes
(a typer app or `typer.run(main)` is one too), read from `command.params` after capture (config/click_capture.py);
for a group, its own parameters, a `command` key that picks the subcommand, and each subcommand's parameters.

    system = ClickSystem(Path("train.py"), capture_command("train.py"))   # capture: config/click_capture.py
    system.command_line({"learning_rate": 0.5, "shuffle": False, "layers": [8, 8]})
    # ["--learning-rate=0.5", "--no-shuffle", "--layer", "8", "--layer", "8"]

Keys are the parameter names click gives the function (`--learning-rate` is `learning_rate`, `--layer` with the
name `layers` is `layers`, a positional `data_dir` is `data_dir`). Defaults are what click itself resolves for an
empty command line here (envvars and callable defaults included). The command line is proven by parsing it back
with the command's own `make_context`: each value the script gets must be the one asked for.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Set

from clearml_hat.clearml import sdk_private
from clearml_hat.config.click_capture import CapturedCommand, capture_command
from clearml_hat.config.click_params import (
    choices_of,
    flag_value,
    is_bool_flag,
    is_option,
    raw_value,
    scalar_type,
    shown,
    text_of,
    texts_of,
    typed_value,
    yaml_value,
)
from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import same_value

COMMAND_KEY = "command"  # the key that picks a group's subcommand, as the argparse backend names it


class _Level(NamedTuple):
    """One command's parameters: the script's command, or a group and each of its subcommands."""

    command: Any
    params: Dict[str, Any]  # key -> click Parameter, in the command's order
    switches: Dict[str, List[Any]]  # feature switches: the flags that write their flag_value to one key
    empty: Any  # the command's context for an empty command line: its params are the defaults


def capture_click(script: Path) -> ClickSystem:
    """The click command the script invokes, read by running it up to that call (the training never runs)."""
    return ClickSystem(script, capture_command(script))

class ClickSystem:
    """The parameters of the click command a script invokes; of a group, its own and each subcommand's, with the
    subcommand picked by the `command` key (as for argparse subcommands). A group of groups is refused."""

    name = "click"
    nested = False

    def __init__(self, script: Path, captured: CapturedCommand) -> None:
        sdk_private.without_config_bindings()  # before the first parse: ClearML's would undo the values
        self.prog = script.name
        self.settings = captured.settings  # `main(auto_envvar_prefix="TRAIN")`: envvars count for the defaults
        # The errors of typer's own copy of click (typer._click) or click's: the ones the command raises.
        self.errors = importlib.import_module(f"{_click_package(captured.command)}.exceptions")
        self.top = _level(captured.command, self._context(captured.command, []))
        self.subs = _subcommands(script, captured.command, self.top.empty)
        # `invoke_without_command=True`: the group runs alone too, so no subcommand is needed.
        self.command_required = not getattr(captured.command, "invoke_without_command", False)
        if self.subs and COMMAND_KEY in self.top.params:
            raise HatError(f"{script}: the group has an option named {COMMAND_KEY!r}, the key that picks its "
                           "subcommand here; rename the option")
        self.params: Dict[str, Any] = {}
        self.defaults: Dict[str, Any] = {}
        for level in [self.top, *self.subs.values()]:
            for key, param in level.params.items():
                self.params.setdefault(key, param)
                self.defaults.setdefault(key, yaml_value(level.empty.params.get(key)))
        self.notes = self._shared_defaults()

    def _shared_defaults(self) -> Dict[str, str]:
        """A key of several subcommands with different defaults is null, so each gets its own default; the notes
        that say so."""
        notes = {}
        for key in self.params:
            own = {name: yaml_value(sub.empty.params.get(key)) for name, sub in self.subs.items() if key in sub.params}
            if any(not same_value(value, next(iter(own.values()))) for value in own.values()):
                self.defaults[key] = None
                notes[key] = "null: each subcommand's own default (" + ", ".join(
                    f"{name}: {value}" for name, value in own.items()) + ")"
        return notes

    def describe(self) -> List[KeyDoc]:
        docs = [self._doc(self.top, key) for key in self.top.params]
        if self.subs:
            docs.append(KeyDoc(COMMAND_KEY, None, help="the subcommand to run", choices=list(self.subs),
                               required=self.command_required,
                               subcommands={name: list(sub.params) for name, sub in self.subs.items()}))
        seen = set(self.top.params)
        for name, sub in self.subs.items():
            docs += [self._doc(sub, key, name) for key in sub.params if key not in seen]
            seen |= set(sub.params)
        return docs

    def _doc(self, level: _Level, key: str, subcommand: str = "") -> KeyDoc:
        param = level.params[key]
        return KeyDoc(key, self.defaults[key], help=" ".join((getattr(param, "help", None) or "").split()),
                      choices=_switch_values(level, key) or choices_of(param),
                      required=bool(param.required) and self.defaults[key] is None,
                      flags=tuple(param.opts + param.secondary_opts) if is_option(param) else (),
                      subcommand=subcommand, note=self.notes.get(key, ""))

    def known_keys(self) -> List[str]:
        return list(self.params) + ([COMMAND_KEY] if self.subs else [])

    def text_keys(self) -> Set[str]:
        """Every key whose values are text: a choice `no` or a name `1.10` stays that text (a mixed tuple is typed
        item by item, as YAML reads it)."""
        texts = {key for key, param in self.params.items() if scalar_type(param) is str}
        return texts | ({COMMAND_KEY} if self.subs else set())

    def typed(self, values: dict) -> dict:
        return {key: typed_value(value, scalar_type(self.params[key])) if key in self.params else value
                for key, value in values.items()}

    def number_type(self, key: str) -> Optional[type]:
        param = self.params.get(key)
        if param is None or param.multiple or param.nargs != 1:
            return None
        kind = scalar_type(param)
        return kind if kind in (int, float) else None

    def check(self, values: dict) -> Checked:
        problems = [self._unknown(key) for key in values if key not in self.known_keys()]
        levels = [self.top]
        chosen = values.get(COMMAND_KEY)
        if self.subs and (chosen is not None or self.command_required):
            if chosen is None or str(chosen) not in self.subs:
                names = ", ".join(self.subs)
                problems.append(f"{COMMAND_KEY}: a subcommand is required; set it to one of {names}" if chosen is None
                                else f"{COMMAND_KEY}: {chosen!r} is not a subcommand; use one of {names}")
                return Checked(problems, [])
            levels.append(self.subs[str(chosen)])
        problems += self._not_chosen(values, levels)
        for level in levels:
            for key, param in level.params.items():
                value = values.get(key)
                if value is not None:
                    problems += _value_problems(self.errors, level, key, value, self.defaults[key])
                elif param.required and self.defaults[key] is None:  # click has no value of its own (an envvar)
                    problems.append(f"{key}: the script requires a value ({shown(param)}); give one")
        return Checked(problems, [])

    def _unknown(self, key: str) -> str:
        close = closest_key(key, self.known_keys())
        fix = f"did you mean {close!r}?" if close else "remove it"
        return f"{key}: the click command has no such parameter; {fix}"

    def _not_chosen(self, values: dict, levels: List[_Level]) -> List[str]:
        """Values changed for the options of a subcommand that is not chosen: they would not reach the script."""
        own = {key for level in levels for key in level.params}
        problems = []
        for key in self.params:
            if key in own or values.get(key) is None or same_value(values[key], self.defaults[key]):
                continue
            name = next(name for name, sub in self.subs.items() if key in sub.params)
            problems.append(f"{key}: belongs to subcommand {name!r}, which is not chosen; set {COMMAND_KEY}: {name} "
                            f"or leave {key} at its default")
        return problems

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """The group's part, the subcommand's name and its part, each options in the command's order, then the
        positionals; parsed back to prove the script gets values."""
        given = {key: value for key, value in values.items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        argv = self._tokens(self.top, given)
        levels = [self.top]
        if COMMAND_KEY in given:
            name = str(given[COMMAND_KEY])
            levels.append(self.subs[name])
            argv += [name, *self._tokens(self.subs[name], given)]
        self._prove(argv, given, levels)
        return argv

    def _tokens(self, level: _Level, given: dict) -> List[str]:
        options = [token for key, param in level.params.items() if key in given and is_option(param)
                   for token in _option_tokens(level, key, given[key], self.defaults[key])]
        return options + _positional_tokens(level, given, self.defaults)

    def _prove(self, argv: List[str], given: dict, levels: List[_Level]) -> None:
        """Parse argv as the script will: each value must be what click makes of the value alone (a custom
        type's own conversion included)."""
        context = self._context(self.top.command, argv)
        parsed = [context.params]
        if len(levels) > 1:
            rest = list(getattr(context, "_protected_args", None) or []) + list(context.args)
            name, sub, rest = self.top.command.resolve_command(context, rest)
            if name != given[COMMAND_KEY]:
                raise HatError(f"{COMMAND_KEY}: click reads {' '.join(argv)!r} as the subcommand {name!r}, not "
                               f"{given[COMMAND_KEY]!r}; check the group's options")
            parsed.append(sub.make_context(name, rest, parent=context, resilient_parsing=True).params)
        for level, back in zip(levels, parsed):
            for key, param in level.params.items():
                if key not in given:
                    continue
                wanted = yaml_value(param.process_value(level.empty, raw_value(param, typed_value(given[key],
                                                                                         scalar_type(param)))))
                got = yaml_value(back.get(key))
                if not same_value(got, wanted):
                    raise HatError(f"{key}: click reads {' '.join(argv)!r} as {key}={got!r}, not {wanted!r}; write "
                                   "the value as the option takes it")

    def _context(self, command: Any, argv: List[str]) -> Any:
        """The command's own parse of argv (resilient: no prompts, no help exits); its `params` are the values."""
        return command.make_context(self.prog, list(argv), **{**self.settings, "resilient_parsing": True})


def _subcommands(script: Path, group: Any, parent: Any) -> Dict[str, _Level]:
    """Each subcommand of a group, by name (none for a command); HatError for a group of groups or a chain."""
    subs = {}
    for name, sub in sorted(getattr(group, "commands", {}).items()):
        if hasattr(sub, "commands") or getattr(group, "chain", False):
            raise HatError(f"{script}: {name} is a group of its own (or the group chains its commands); the hat "
                           "runs a command or a group of commands: give --script a script that invokes one")
        subs[name] = _level(sub, sub.make_context(name, [], parent=parent, resilient_parsing=True))
    return subs


def _level(command: Any, empty: Any) -> _Level:
    params: Dict[str, Any] = {}
    switches: Dict[str, List[Any]] = {}
    for param in command.params:
        if param.expose_value and param.name:
            params.setdefault(param.name, param)
            if is_option(param) and param.is_flag and scalar_type(param) is str:
                switches.setdefault(param.name, []).append(param)
    return _Level(command, params, switches, empty)


def _value_problems(errors: Any, level: _Level, key: str, value: Any, default: Any) -> List[str]:
    """What click itself says of the value, as the command line would hand it over."""
    param = level.params[key]
    if is_bool_flag(param) and not isinstance(value, bool):
        return [f"{key}: {value!r} is not true or false ({shown(param)} is a flag); give true or false"]
    switched = _switch_values(level, key)
    if switched and not any(same_value(value, option) for option in switched + [default]):
        flags = ", ".join(opt for switch in level.switches[key] for opt in switch.opts)
        return [f"{key}: {value!r} is no flag's value ({flags}); choose one of {', '.join(map(str, switched))}"]
    if (param.multiple or param.nargs != 1) and not isinstance(value, list):
        return [f"{key}: {value!r} is one value where {shown(param)} takes a list; give a list"]
    try:
        param.process_value(level.empty, raw_value(param, value))
    except errors.UsageError as error:
        fix = f"choose one of {', '.join(map(str, choices_of(param) or []))}" if choices_of(param) else \
            "give a value of that type"
        return [f"{key}: {' '.join(error.message.split()).rstrip('.')} ({shown(param)}); {fix}"]
    return []


def _option_tokens(level: _Level, key: str, value: Any, default: Any) -> List[str]:
    param = level.params[key]
    flag = _long(param)
    if getattr(param, "count", False):
        return [flag] * int(value)
    if param.is_flag:
        for switch in level.switches.get(key, [param]):
            if same_value(value, yaml_value(flag_value(switch))):
                return [_long(switch)]
        if param.secondary_opts:
            return [param.secondary_opts[0]]
        if same_value(value, default):
            return []
        raise HatError(f"{key}: {value!r} cannot be said on the command line ({flag} has no off switch); leave "
                       "it at its default")
    if param.multiple:
        if not value and default:
            raise HatError(f"{key}: an empty list cannot be said on the command line (click gives the default "
                           f"{default!r} when {flag} is not given); give at least one value")
        return [token for item in value for token in [flag, *texts_of(param, item)]]
    if param.nargs == 1 and flag.startswith("--"):
        return [f"{flag}={text_of(value)}"]  # `--lr=-0.5`: a value that starts with a dash stays a value
    return [flag, *texts_of(param, value)]


def _long(param: Any) -> str:
    return next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])


def _switch_values(level: _Level, key: str) -> List[Any]:
    """The values the feature switches of key give (`--upper`/`--lower` writing 'upper'/'lower' to `case`)."""
    return [yaml_value(flag_value(switch)) for switch in level.switches.get(key, [])]


def _positional_tokens(level: _Level, given: dict, defaults: dict) -> List[str]:
    """Positionals up to the last one given; one before it that is not given is written at its default."""
    arguments = [key for key, param in level.params.items() if not is_option(param)]
    last = max((index for index, key in enumerate(arguments) if key in given), default=-1)
    tokens: List[str] = []
    for key in arguments[:last + 1]:
        value = given.get(key, defaults[key])
        if value is None:
            raise HatError(f"{key}: the positional has no value, so the ones after it cannot be given; give it")
        tokens += texts_of(level.params[key], value)
    return (["--"] if any(token.startswith("-") for token in tokens) else []) + tokens


def _click_package(command: Any) -> str:
    """'click', or 'typer._click' for typer's own copy of click."""
    for base in type(command).__mro__:
        if base.__name__ == "Command" and base.__module__.endswith(".core"):
            return base.__module__.rpartition(".")[0]
    return "click"
