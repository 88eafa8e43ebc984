"""A training job: the script, its captured parser, the training values and the argv they turn into.

Everything here is plain Python and runs before any ClearML task exists, so bad input never leaves a task behind.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

from clearml_hat.argv import build_argv, fallback_argv
from clearml_hat.capture import ParserNotReached, capture_parser
from clearml_hat.check import check_values
from clearml_hat.errors import HatError
from clearml_hat.parser_values import known_keys
from clearml_hat.training import run_training
from clearml_hat.yaml_config import apply_overrides


@dataclass
class Job:
    script: Path
    parser: Optional[argparse.ArgumentParser]  # None when the script could not be run up to its parser
    values: dict
    argv: List[str]

    def argv_for(self, values: dict) -> List[str]:
        """argv for values ClearML handed back (edited in the web UI on a remote run)."""
        return self.argv if values == self.values else make_argv(self.parser, values)

    def train(self, argv: Sequence[str]) -> Any:
        return run_training(self.script, argv)


def prepare_job(script: str, values: dict, overrides: Sequence[str] = ()) -> Job:
    """Capture the parser, apply overrides, check the values and build argv; HatError if any of it fails."""
    script_path = Path(script)
    parser = capture_or_fallback(script_path)
    if overrides:
        values = apply_overrides(values, overrides, known_keys(parser) if parser else values.keys())
    return Job(script_path, parser, values, make_argv(parser, values))


def capture_or_fallback(script: Path) -> Optional[argparse.ArgumentParser]:
    try:
        return capture_parser(script)
    except ParserNotReached as error:
        print(f"hat: warning: {error}; building argv as --key value without the parser", file=sys.stderr)
        return None


def make_argv(parser: Optional[argparse.ArgumentParser], values: dict) -> List[str]:
    """argv from values, checked against the parser first; every problem is one line of the HatError."""
    if parser is None:
        return fallback_argv(values)
    problems, warnings = check_values(parser, values)
    for warning in warnings:
        print(f"hat: warning: {warning}", file=sys.stderr)
    if problems:
        raise HatError("\n".join(problems))
    return build_argv(parser, values)
