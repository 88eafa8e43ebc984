"""Find a tyro script's `tyro.cli(...)` call and what it was handed, without running the training.

    uses_tyro(source)               -> True for a script that calls tyro.cli (read from its source, not run)
    call = capture_cli("train.py")  # call.target is cleanrl's `Args` class, call.options {"default": ...}

The script runs as `python train.py` runs it (as `__main__`, empty command line) until it calls `tyro.cli`, which
raises instead of parsing: the class or function and the call's keywords come back, and the code after it (the
training) never runs (entry_capture.py). tyro is the script's own dependency, imported only here, only for a script
that uses it.
"""
from __future__ import annotations

import ast
import contextlib
import sys
import types
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, NamedTuple

from clearml_hat.config.entry_capture import run_until_call


class CliCall(NamedTuple):
    """What the script handed `tyro.cli`: a dataclass or function, and the keywords (default=, config=, ...)."""

    target: Callable[..., Any]
    options: Dict[str, Any]
    module: types.ModuleType  # the script's `__main__`: tyro reads help from the source of the target's module


def uses_tyro(source: str) -> bool:
    """True when the script calls `tyro.cli` (also as `import tyro as t; t.cli(...)` or `from tyro import cli`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    names = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names if alias.name == "tyro"}
    return any(isinstance(node, ast.Attribute) and node.attr == "cli" and isinstance(node.value, ast.Name) and
               node.value.id in names or isinstance(node, ast.ImportFrom) and node.module == "tyro" and
               any(alias.name == "cli" for alias in node.names) for node in ast.walk(tree))


def capture_cli(script: Path) -> CliCall:
    """Run script up to its tyro.cli call and return what it handed the call; HatError when it never gets there."""
    import tyro

    called = run_until_call(script, [(tyro, "cli")], "tyro.cli")
    # The hat gives the command line itself (args=).
    options = {name: value for name, value in called.kwargs.items() if name not in ("f", "args")}
    return CliCall(called.args[0] if called.args else called.kwargs["f"], options, called.module)


@contextlib.contextmanager
def as_main(module: types.ModuleType) -> Iterator[None]:
    """The script's module as `__main__` for a while: tyro reads a class's help from the source of its module."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
