"""The seam between the hat and a training script's config system (argparse today; see config/argparser/).

A config system reads the script's options into keys (KeyDoc: name, default, help, choices), types and checks
values for them, and turns values into the command line the script parses, proven by parsing it back with the
system's own machinery. The rest of the hat (job.py, the YAML writer, sweeps) only talks to this interface, so a
new config system is one new module that implements it.

Which values reach the script is decided here, for every system alike: a value equal to the script's default
where the run was started (`defaults`) is left out, so the script computes its own default where it runs (a GPU
check, the CPU count, a path below its checkout); a pinned key is passed whatever its value.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Protocol, Set

from clearml_hat.values.yaml_values import same_value


@dataclasses.dataclass(frozen=True)
class KeyDoc:
    """One YAML key as the YAML writer shows it."""

    key: str
    value: Any  # the default as a YAML value (None when required, unknown or not representable)
    help: str = ""  # help text with %(default)s and friends expanded
    choices: Optional[list] = None
    required: bool = False
    note: str = ""  # why the value is not the script's default as written ("" when it is)
    flags: tuple = ()  # option strings; () for positionals and subcommand keys
    subcommand: str = ""  # the subcommand the key belongs to ("train", or "db migrate" when nested)
    subcommands: Dict[str, List[str]] = dataclasses.field(default_factory=dict)  # on a subcommand key: name -> keys


class Checked(NamedTuple):
    problems: List[str]  # one line each; any stops the run
    warnings: List[str]  # what the script will see differently from the YAML


class ConfigSystem(Protocol):
    """What the hat needs of a script's config system."""

    name: str  # "argparse"
    nested: bool  # keys are dotted paths of one config (Hydra's `optim.lr`), shown nested in the YAML

    def describe(self) -> List[KeyDoc]:
        """Every key with its default, in the script's order."""

    def known_keys(self) -> List[str]:
        """Every key values may hold (also keys without a YAML default)."""

    def text_keys(self) -> Set[str]:
        """Keys whose values the script receives as the text written (`no` stays 'no', `1.10` stays '1.10')."""

    def typed(self, values: dict) -> dict:
        """values as the script receives them where YAML typing differs (10.0 for an int option is 10)."""

    def number_type(self, key: str) -> Optional[type]:
        """int or float when the key takes numbers of that type; else None (for sweep ranges)."""

    def check(self, values: dict) -> Checked:
        """Every problem and warning of values, one line each."""

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """The command line that gives the script values (None values and values at the default left out, pinned
        keys written out), parsed back before it is returned; HatError naming the key when it cannot be said."""


def defaults_of(system: ConfigSystem) -> dict:
    """The script's defaults on this machine, one per key, as YAML values."""
    return {doc.key: doc.value for doc in system.describe()}


def given_values(values: dict, defaults: dict, pinned: Iterable[str] = ()) -> dict:
    """values with every key left at its default (as `defaults` has it) set to None: not passed to the script."""
    pinned = set(pinned)
    return {key: None if key not in pinned and key in defaults and same_value(value, defaults[key]) else value
            for key, value in values.items()}
