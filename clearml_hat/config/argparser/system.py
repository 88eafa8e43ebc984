"""argparse as a config system (config/system.py): a captured parser behind the ConfigSystem interface."""
from __future__ import annotations

import argparse
from typing import Iterable, List, Optional, Set

from clearml_hat.config.argparser.argv import build_argv
from clearml_hat.config.argparser.check import check_values
from clearml_hat.config.argparser.parser_keys import all_parsers, parser_keys
from clearml_hat.config.argparser.parser_values import describe_arguments, known_keys, text_keys, whole_numbers
from clearml_hat.config.argparser.static_parser import StaticParser
from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError


class ArgparseSystem:
    """The script's ArgumentParser (captured, or a StaticParser read from its source)."""

    name = "argparse"
    nested = False  # a dotted key is a config file's value (values/config_files.py)

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser

    def describe(self) -> List[KeyDoc]:
        return describe_arguments(self.parser)

    def known_keys(self) -> List[str]:
        return known_keys(self.parser)

    def text_keys(self) -> Set[str]:
        return text_keys(self.parser)

    def typed(self, values: dict) -> dict:
        return whole_numbers(self.parser, values)

    def number_type(self, key: str) -> Optional[type]:
        """int or float when every value-taking action of the key converts with it; else None."""
        types = {action.type for each in all_parsers(self.parser) for found in parser_keys(each) if found.key == key
                 for action in found.actions if action.nargs != 0}
        number_type = types.pop() if len(types) == 1 else None
        return number_type if number_type in (int, float) else None

    def check(self, values: dict) -> Checked:
        problems, warnings = check_values(self.parser, values)
        if isinstance(self.parser, StaticParser):
            problems = self.parser.problems(values) + problems
        return Checked(problems, warnings)

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        problems = self.check(values).problems
        if problems:
            raise HatError("\n".join(problems))
        return build_argv(self.parser, values, frozenset(pinned))
