"""Which config system a training script parses its options with, and how each is captured (config/system.py is
the interface they share).

    capture_config_system("train.py")   # ArgparseSystem, HydraSystem, TyroSystem, ClickSystem, FireSystem, ...

The system is told from the script's source, never by running it (a script may train at module level), in this
order: Hydra (`@hydra.main`), tyro (`tyro.cli`), click or typer, python-fire (`fire.Fire`), absl (`app.run`),
else argparse, whose captured parser may turn out to be jsonargparse's.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

from clearml_hat.config.argparser.capture import capture_parser
from clearml_hat.config.argparser.system import ArgparseSystem
from clearml_hat.config.click_capture import uses_click
from clearml_hat.config.detect import hydra_main
from clearml_hat.config.entry_capture import imported_and_called
from clearml_hat.config.jsonargparse_capture import is_jsonargparse
from clearml_hat.config.system import ConfigSystem
from clearml_hat.config.tyro_capture import uses_tyro
from clearml_hat.errors import HatError

# Where each config system but argparse is captured: its module is imported only for its own scripts, as the
# system is the script's dependency (hydra-core, tyro, click, fire, absl-py), not the hat's.
_CAPTURES = {"hydra": "hydra_system.capture_hydra", "tyro": "tyro_system.capture_tyro",
             "click": "click_system.capture_click", "fire": "fire_system.capture_fire",
             "absl": "absl_system.capture_absl"}
# What pip installs each system as (click capture names click or typer itself, whichever the script imports).
_PACKAGES = {"hydra": "hydra-core", "tyro": "tyro", "fire": "fire", "absl": "absl-py"}


def capture_config_system(script: str | Path) -> ConfigSystem:
    """The script's config system (script_system below): Hydra's composed config, read from the source; for the
    others what the script hands its system, read by running it up to that call (the training never runs); HatError
    when it stops before."""
    system = script_system(Path(script))
    if system in _CAPTURES:
        module, function = _CAPTURES[system].split(".")
        capture = getattr(importlib.import_module(f"clearml_hat.config.{module}"), function)
        try:
            return capture(Path(script))
        except ModuleNotFoundError as error:  # the system itself: the script's own imports are reported by capture
            if system not in _PACKAGES or (error.name or "").partition(".")[0] != system:
                raise
            raise HatError(f"{script} parses its options with {system}, which is not installed here; pip install "
                           f"{_PACKAGES[system]}") from None
    parser = capture_parser(script)
    if is_jsonargparse(parser):
        from clearml_hat.config.jsonargparse_system import JsonargparseSystem

        return JsonargparseSystem(parser, Path(script))
    return ArgparseSystem(parser)


def script_system(script: Path) -> str:
    """The config system the script parses its options with: "hydra", "tyro", "click" (typer's too), "fire",
    "absl", else "argparse" (jsonargparse included: its parser is one, told apart once captured). "argparse" also
    when the source cannot be read: the argparse capture names that problem. HatError for a `@hydra.main` whose
    arguments cannot be read."""
    try:
        source = script.read_text(encoding="utf-8")
        ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return "argparse"
    if hydra_main(source, str(script)) is not None:
        return "hydra"
    if uses_tyro(source):
        return "tyro"
    if uses_click(script):
        return "click"
    imported, called = imported_and_called(script)
    if "fire" in imported and "Fire" in called:
        return "fire"
    # Not `from absl import logging` alone, nor flags never parsed: such a script may parse with argparse.
    if imported & {"absl.flags", "absl.app"} and called & {"run", "FLAGS"}:
        return "absl"
    return "argparse"
