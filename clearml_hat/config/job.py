"""A training job: the script, its config system, the training values and the command line they turn into.

    job = job_from_yaml("train.py", "config.yaml", ["lr=0.1"])
    job.argv        # ["--lr", "0.1"]: only what differs from the script's defaults here (job.defaults), or is pinned

Values are flat: the config system's keys, and the dotted keys of config files named by one of them
(values/config_files.py). Everything here is plain Python and runs before any ClearML task exists, so bad input
never leaves a task behind.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

from clearml_hat.config.argparser.capture import ParserNotReached
from clearml_hat.config.argparser.static_parser import read_parser
from clearml_hat.config.argparser.system import ArgparseSystem
from clearml_hat.config.system import Checked, ConfigSystem, defaults_of, given_values
from clearml_hat.config.systems import capture_config_system
from clearml_hat.errors import HatError
from clearml_hat.local.training import main_takes_argv, run_training
from clearml_hat.values import config_files
from clearml_hat.values.yaml_config import apply_overrides, closest_key, load_values, unnest
from clearml_hat.values.yaml_values import same_value


class Command(NamedTuple):
    argv: List[str]
    copies: Dict[str, dict]  # edited copies of config files the argv names: path -> contents (config_files.written)


@dataclass
class Job:
    script: Path
    system: ConfigSystem
    values: dict
    defaults: dict  # the script's defaults where the run was started: a value equal to its default is not passed
    pinned: Tuple[str, ...]  # keys passed whatever their value
    args_file: Optional[str]  # the YAML/JSON file the script gets as its only argument (HfArgumentParser scripts)
    command: Command
    calls_main: bool  # main(argv) is called, else the script runs as __main__ (local/training.py)
    warnings: List[str] = field(default_factory=list)  # what the script will see differently, how it was read

    @property
    def argv(self) -> List[str]:
        return self.command.argv

    def command_for(self, values: dict) -> Command:
        """The command line for values ClearML handed back (edited in the web UI on a remote run)."""
        values = self.system.typed(values)
        if values == self.values:
            return self.command
        return make_command(self.system, values, self.defaults, self.pinned, self.args_file)[0]

    def train(self, argv: Sequence[str]) -> Any:
        return run_training(self.script, argv, self.calls_main)


def job_from_yaml(script: str, yaml_path: str, overrides: Sequence[str] = (), pinned: Sequence[str] = (),
                  as_args_file: bool = False) -> Job:
    """Read the script's options, load the YAML and overrides typed by them, check the values and build argv
    (or, as_args_file, hand the script the YAML itself); HatError if any of it fails."""
    script_path = Path(script)
    system, warnings = read_config_system(script_path)
    values = load_job_values(system, yaml_path, overrides)
    return _job(script_path, system, values, None, pinned, yaml_path if as_args_file else None, warnings)


def load_job_values(system: ConfigSystem, yaml_path: str | Path, overrides: Sequence[str] = ()) -> dict:
    """The YAML's values with the `key=value` overrides applied, typed by the config system's keys, config files
    flattened in."""
    texts = system.text_keys()
    if system.nested:
        # Hydra's keys are dotted paths of one config: the YAML's nesting is theirs, and a value that names a
        # YAML file is a plain value, not a config file to open. Every key of every option is looked up only for
        # an override of a key the defaults lack (it composes each option).
        values = unnest(load_values(yaml_path, texts))
        named = [override.partition("=")[0].strip() for override in overrides]
        keys = [doc.key for doc in system.describe()]
        keys = keys if all(key in keys for key in named) else system.known_keys()
        return system.typed(_apply_nested_overrides(values, overrides, keys, texts))
    keys = system.known_keys()
    values = config_files.expand(load_values(yaml_path, texts), keys)
    # The system's own keys first: a new config file (`config=other.yaml`) brings its values, which the dotted
    # overrides then change.
    own = [override for override in overrides if "." not in override.partition("=")[0]]
    if own:
        values = apply_overrides(values, own, keys, texts)
        replaced = [override.partition("=")[0].strip() for override in own]
        values = config_files.expand(values, keys, replaced)
    dotted = [override for override in overrides if override not in own]
    if dotted:
        values = apply_overrides(values, dotted, known_value_keys(system, values), texts)
    return system.typed(values)


def _apply_nested_overrides(values: dict, overrides: Sequence[str], keys: List[str], texts: Set[str]) -> dict:
    """Overrides of a system with dotted keys: a new group choice (`model=large`) first, dropping the values of the
    option it replaces, so it brings its own; then the dotted values, which change those."""
    own = [override for override in overrides if "." not in override.partition("=")[0]]
    values = apply_overrides(values, own, keys, texts)
    replaced = [override.partition("=")[0].strip() for override in own]
    values = {key: value for key, value in values.items() if not any(key.startswith(f"{name}.") for name in replaced)}
    return apply_overrides(values, [override for override in overrides if override not in own], keys, texts)


def known_value_keys(system: ConfigSystem, values: dict) -> List[str]:
    """The config system's keys and the dotted keys of the config files in values (those of the file itself,
    and those values hold)."""
    keys = system.known_keys()
    dotted = [key for key in values if "." in key and key not in keys]
    for key in _file_keys(system, values):
        dotted += [name for name in config_files.flatten(key, config_files.read_config_file(values[key]) or {})
                   if name not in dotted]
    return keys + dotted


def job_from_values(script: str | Path, values: dict, defaults: Optional[dict], pinned: Sequence[str],
                    args_file: Optional[str] = None) -> Job:
    """The job for values that are already typed (the task's, under the agent), with the defaults of the machine
    the run was started on (None: this machine's)."""
    script_path = Path(script)
    system, warnings = read_config_system(script_path)
    return _job(script_path, system, values, defaults, pinned, args_file, warnings)


def _job(script: Path, system: ConfigSystem, values: dict, defaults: Optional[dict], pinned: Sequence[str],
         args_file: Optional[str], warnings: List[str]) -> Job:
    known = system.known_keys() if pinned else []
    for key in pinned:
        if key not in known:
            close = closest_key(key, known)
            fix = f"did you mean {close!r}?" if close else "name a training value"
            raise HatError(f"--pin {key}: unknown key; {fix}")
    values = system.typed(values)
    defaults = defaults_of(system) if defaults is None else defaults
    command, value_warnings = make_command(system, values, defaults, pinned, args_file)
    calls_main = main_takes_argv(script.read_text(encoding="utf-8"))
    return Job(script, system, values, defaults, tuple(pinned), args_file, command, calls_main,
               warnings + value_warnings)


def read_config_system(script: Path) -> Tuple[ConfigSystem, List[str]]:
    """The script's config system; when the script stops before its parser, the parser its add_argument lines say
    (and a warning saying so)."""
    try:
        return capture_config_system(script), []
    except ParserNotReached as error:
        parser = read_parser(script)
        if parser is None:
            raise HatError(f"{error}; its subcommands cannot be read without running it") from None
        return ArgparseSystem(parser), [f"{error}; argv comes from its add_argument lines, read without running it"]


def check_job_values(system: ConfigSystem, values: dict, defaults: Optional[dict] = None) -> Checked:
    """Every problem and warning of values, the config system's and its config files', one line each."""
    problems, warnings = system.check(_own_values(system, values))
    return Checked(problems + config_files.problems(values, _file_paths(system, values, defaults)), warnings)


def make_command(system: ConfigSystem, values: dict, defaults: dict, pinned: Sequence[str] = (),
                 args_file: Optional[str] = None) -> Tuple[Command, List[str]]:
    """(command, warnings) for values: checked first, every problem one line of the HatError. Keys left at their
    default are not passed; a config file with edits is passed as its edited copy. With args_file, the script's
    only argument is that file, or its edited copy."""
    problems, warnings = check_job_values(system, values, defaults)
    if problems:
        raise HatError("\n".join(problems))
    if args_file:
        return _args_file_command(system, values, args_file), warnings
    given = given_values(_own_values(system, values), defaults, pinned)
    copies = {}
    for key, path in _file_paths(system, values, defaults).items():
        contents = config_files.edited_contents(values, key, path)
        if contents is not None:
            given[key] = config_files.copy_path(path)
            copies[given[key]] = contents
    return Command(system.command_line(given, pinned), copies), warnings


def _own_values(system: ConfigSystem, values: dict) -> dict:
    """The config system's own values: values without the dotted keys of its config files."""
    files = _file_keys(system, values)
    return {key: value for key, value in values.items() if not any(key.startswith(f"{name}.") for name in files)}


def _args_file_command(system: ConfigSystem, values: dict, path: str) -> Command:
    """`python train.py config.yaml` (HfArgumentParser's parse_yaml_file / parse_json_file): the file itself when
    values are the file's, else a copy of it with the edited keys changed (a None value removes a key)."""
    try:
        own = system.typed(load_values(path, system.text_keys()))
    except HatError as error:
        raise HatError(f"{error} (the file the script gets as its only argument, --as_args_file)") from None
    edits = {key: value for key, value in values.items()
             if not (key in own and same_value(value, own[key])) and not (key not in own and value is None)}
    if not edits:
        return Command([path], {})
    contents = config_files.read_config_file(path) or {}
    for key, value in edits.items():
        if value is None:
            contents.pop(key, None)
        else:
            contents[key] = value
    copy = config_files.copy_path(path)
    return Command([copy], {copy: contents})


def _file_paths(system: ConfigSystem, values: dict, defaults: Optional[dict]) -> Dict[str, str]:
    """The config file of each file key, as found here: a default path computed on another machine (yolov5's
    `ROOT / "data/hyps/..."`) is this machine's default instead."""
    paths = {}
    for key in _file_keys(system, values):
        path = values[key]
        if not os.path.isfile(path) and defaults is not None and same_value(path, defaults.get(key)):
            local = defaults_of(system).get(key)
            path = local if isinstance(local, str) else path
        paths[key] = path
    return paths


def _file_keys(system: ConfigSystem, values: dict) -> List[str]:
    """The keys of values that name a config file; none for a system whose own keys are dotted (Hydra)."""
    return [] if system.nested else config_files.file_keys(values)
