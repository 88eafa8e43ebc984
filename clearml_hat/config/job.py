"""A training job: the script, its captured parser, the training values and the argv they turn into.

Everything here is plain Python and runs before any ClearML task exists, so bad input never leaves a task behind.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Sequence, Tuple

from clearml_hat.config.argparser.capture import ParserNotReached, capture_parser
from clearml_hat.config.argparser.check import check_values
from clearml_hat.config.argparser.parser_values import known_keys, text_keys, whole_numbers
from clearml_hat.config.argparser.static_parser import StaticParser, read_parser
from clearml_hat.errors import HatError
from clearml_hat.local.training import run_training
from clearml_hat.values.yaml_config import apply_overrides, load_values


@dataclass
class Job:
    script: Path
    parser: argparse.ArgumentParser  # the captured parser, or a StaticParser when the script stops before it
    values: dict
    argv: List[str]
    warnings: List[str]  # what the script will see differently from the YAML, and how its parser was read

    def argv_for(self, values: dict) -> List[str]:
        """argv for values ClearML handed back (edited in the web UI on a remote run)."""
        values = whole_numbers(self.parser, values)
        return self.argv if values == self.values else make_argv(self.parser, values)[0]

    def train(self, argv: Sequence[str]) -> Any:
        return run_training(self.script, argv)


def job_from_yaml(script: str, yaml_path: str, overrides: Sequence[str] = ()) -> Job:
    """Read the parser, load the YAML and overrides typed by it, check the values and build argv; HatError if any
    of it fails."""
    script_path = Path(script)
    parser, warnings = read_script_parser(script_path)
    texts = text_keys(parser)
    values = load_values(yaml_path, texts)
    if overrides:
        values = apply_overrides(values, overrides, known_keys(parser), texts)
    return _job(script_path, parser, values, warnings)


def job_from_values(script: str | Path, values: dict) -> Job:
    """The job for values that are already typed (the task's, under the agent)."""
    script_path = Path(script)
    parser, warnings = read_script_parser(script_path)
    return _job(script_path, parser, values, warnings)


def _job(script: Path, parser: argparse.ArgumentParser, values: dict, warnings: List[str]) -> Job:
    values = whole_numbers(parser, values)
    argv, value_warnings = make_argv(parser, values)
    return Job(script, parser, values, argv, warnings + value_warnings)


def read_script_parser(script: Path) -> Tuple[argparse.ArgumentParser, List[str]]:
    """The script's parser; when the script stops before it, the parser its add_argument lines say (and a warning
    saying so)."""
    try:
        return capture_parser(script), []
    except ParserNotReached as error:
        parser = read_parser(script)
        if parser is None:
            raise HatError(f"{error}; its subcommands cannot be read without running it") from None
        return parser, [f"{error}; argv comes from its add_argument lines, read without running it"]


def make_argv(parser: argparse.ArgumentParser, values: dict) -> Tuple[List[str], List[str]]:
    """(argv, warnings) from values, checked against the parser first; every problem is one line of the HatError."""
    checked = check_values(parser, values)
    problems = (parser.problems(values) if isinstance(parser, StaticParser) else []) + checked.problems
    if problems or checked.argv is None:
        raise HatError("\n".join(problems))
    return checked.argv, checked.warnings
