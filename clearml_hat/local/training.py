"""Run the user's training script with an argv list, in this process, the way it expects to be run."""
from __future__ import annotations

import ast
import importlib.util
import runpy
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from clearml_hat.errors import HatError
from clearml_hat.local.repo import repo_root


def run_training(script: Path, argv: Sequence[str], calls_main: bool) -> Any:
    """Call `main(argv)` when calls_main (main_takes_argv of the script, read before any ClearML task started),
    else run the script as `__main__`.

    Returns what main() returned (None for a `__main__` run). Exceptions and SystemExit are the training's own
    and pass through unchanged, except a successful sys.exit (0 or None): click ends every command that way
    (its standalone mode), absl's `app.run` always ends with `sys.exit(main(argv))`; the run goes on to report
    the sweep objective and close the task.
    """
    try:
        with _script_folder_first_on_path(script):
            if calls_main:
                return _import_script(script).main(list(argv))
            with _sys_argv([str(script), *argv]):
                runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise
    return None


def main_takes_argv(source: str) -> bool:
    """True for the `def main(args=None): ... parse_args(args)` form: main hands its first parameter to a parser.

    A main that takes something else (a parsed namespace, a config) is left alone and the script runs as __main__.
    Read it before the ClearML task starts: ClearML's requirements detection then parses the repo's files in a
    thread, and Python 3.11's `ast.parse` in two threads at once can fail in either (local/python_literal.py).
    """
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "main" and node.args.args:
            first = node.args.args[0].arg
            return any(_passes_to_parse_call(call, first) for call in ast.walk(node) if isinstance(call, ast.Call))
    return False


def _passes_to_parse_call(call: ast.Call, name: str) -> bool:
    callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    return "parse" in callee and any(isinstance(arg, ast.Name) and arg.id == name for arg in arguments)


def _import_script(script: Path) -> Any:
    """Import the script as a module named after its file, so its `if __name__ == '__main__'` block stays idle."""
    spec = importlib.util.spec_from_file_location(script.stem, script)
    if spec is None or spec.loader is None:  # not a .py file Python can load
        raise HatError(f"{script}: Python cannot import it as a module; give a .py training script")
    module = importlib.util.module_from_spec(spec)
    sys.modules[script.stem] = module  # pickling and multiprocessing look the module up by name
    spec.loader.exec_module(module)
    return module


@contextmanager
def _script_folder_first_on_path(script: Path) -> Iterator[None]:
    """`python train.py` puts the script's folder first on sys.path; its local imports rely on that. The repo
    root goes last, as clearml-agent's PYTHONPATH has it, for a script in a sub-folder importing the repo's
    own packages (improved-diffusion's scripts/image_train.py)."""
    folder, root = str(script.resolve().parent), str(repo_root(script))
    added = [folder] + ([root] if root != folder and root not in sys.path else [])
    sys.path.insert(0, folder)
    sys.path.extend(added[1:])
    try:
        yield
    finally:
        for entry in added:
            if entry in sys.path:
                sys.path.remove(entry)


@contextmanager
def _sys_argv(argv: Sequence[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved
