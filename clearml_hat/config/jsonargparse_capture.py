"""Where capture stops a jsonargparse script: at its parser's parse_args, as it stops an argparse script.

    with parse_stopped(names_used, reach):   # names_used: the script's names ({"jsonargparse", "CLI", ...})
        exec(code, module.__dict__)           # `CLI(main)` builds its parser, then reach(parser) raises

jsonargparse's ArgumentParser subclasses argparse's but defines its own parse_args, so the argparse patch in
argparser/capture.py never sees it; `CLI(main)` and LightningCLI build the parser inside jsonargparse and call
that parse_args. jsonargparse is the script's own dependency: it is imported only for a script that names it.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any, Callable, Iterator

# A script naming one of these parses with jsonargparse: its module, its entry calls, and wrappers named after
# them (LightningCLI is built on it; litgpt's scripts call `litgpt.utils.CLI`, which calls jsonargparse's).
_NAMES = {"CLI", "auto_cli", "LightningCLI"}


def uses_jsonargparse(names: set) -> bool:
    """True when the script's names (imports included) say it parses with jsonargparse."""
    return bool(names & _NAMES) or any("jsonargparse" in name for name in names)


def is_jsonargparse(parser: argparse.ArgumentParser) -> bool:
    """True for a parser of jsonargparse (read through sys.modules: an argparse script never imports it)."""
    module = sys.modules.get("jsonargparse")
    return module is not None and isinstance(parser, module.ArgumentParser)


@contextlib.contextmanager
def parse_stopped(names: set, reach: Callable[..., Any]) -> Iterator[None]:
    """jsonargparse's parse_args calls reach instead of parsing, while the block runs; nothing for other scripts
    (and nothing when jsonargparse is missing here: the script's own import then names it)."""
    if not uses_jsonargparse(names):
        yield
        return
    try:
        import jsonargparse
    except ImportError:
        yield
        return
    original = jsonargparse.ArgumentParser.__dict__["parse_args"]
    jsonargparse.ArgumentParser.parse_args = reach  # type: ignore[method-assign]
    try:
        yield
    finally:
        jsonargparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
