"""Find a tyro script's `tyro.cli(...)` call and what it was handed, without running the training.

    uses_tyro(source)               -> True for a script that calls tyro.cli (read from its source, not run)
    call = capture_cli("train.py")  # call.target is cleanrl's `Args` class, call.options {"default": ...}

The script runs as `python train.py` runs it (as `__main__`, empty command line) until it calls `tyro.cli`, which
raises instead of parsing: the class or function and the call's keywords come back, and the code after it (the
training) never runs. tyro is the script's own dependency, imported only here, only for a script that uses it.
Everything the run changes is put back: `tyro.cli`, sys.argv, sys.path, `__main__`, the working directory; the
modules imported from the script's repo leave sys.modules, so the real run imports them afresh.
"""
from __future__ import annotations

import ast
import contextlib
import os
import sys
import types
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, NamedTuple, NoReturn

from clearml_hat.config.argparser.missing_packages import install_command
from clearml_hat.errors import HatError
from clearml_hat.local.repo import repo_root

_HAT_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CliCall(NamedTuple):
    """What the script handed `tyro.cli`: a dataclass or function, and the keywords (default=, config=, ...)."""

    target: Callable[..., Any]
    options: Dict[str, Any]
    module: types.ModuleType  # the script's `__main__`: tyro reads help from the source of the target's module


class _CliReached(BaseException):
    """Carries the call out of the script. A BaseException, so the script's `except Exception:` lets it pass."""

    def __init__(self, call: CliCall) -> None:
        super().__init__()
        self.call = call


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
    shown = str(script)
    path = os.path.abspath(script)
    code = compile(Path(path).read_text(encoding="utf-8"), path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__file__ = path
    with _cli_intercepted(path, module):
        try:
            exec(code, module.__dict__)
        except _CliReached as reached:
            return reached.call
        except ModuleNotFoundError as error:
            name = (error.name or "?").partition(".")[0]
            raise HatError(f"{shown} imports {name!r}, which is not installed here; install it "
                           f"({install_command(name)}) so `python {shown} --help` works") from None
        except SystemExit as stop:
            raise HatError(f"{shown} called sys.exit({stop.code!r}) before tyro.cli; `python {shown}` with no "
                           "arguments must reach tyro.cli") from None
        except Exception as error:  # the script's own failure
            raise HatError(f"{shown} raised {type(error).__name__}: {' '.join(str(error).split())} before "
                           f"tyro.cli; fix it so `python {shown} --help` works") from None
    raise HatError(f"{shown} ran to the end without calling tyro.cli; make `python {shown}` call tyro.cli(...) "
                   "under `if __name__ == \"__main__\":`")


@contextlib.contextmanager
def _cli_intercepted(path: str, module: types.ModuleType) -> Iterator[None]:
    import tyro

    def reach(target: Callable[..., Any], **options: Any) -> NoReturn:
        options.pop("args", None)  # the hat gives the command line itself
        raise _CliReached(CliCall(target, options, module))

    original = tyro.cli
    folder, root = os.path.dirname(path), str(repo_root(Path(path)))
    modules = set(sys.modules)
    argv, sys_path, cwd = sys.argv, sys.path, os.getcwd()
    tyro.cli = reach  # type: ignore[assignment]
    # What `python train.py` puts first; the repo root last, as the training run and clearml-agent have it.
    sys.argv, sys.path = [path], [folder] + sys.path + ([root] if root != folder else [])
    try:
        # The script's prints go to stderr: the hat's stdout (e.g. --print_argv) stays clean.
        with as_main(module), contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        tyro.cli = original
        for name in set(sys.modules) - modules:
            if _local(sys.modules[name], root):
                del sys.modules[name]
        sys.argv, sys.path = argv, sys_path
        os.chdir(cwd)


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


def _local(module: Any, root: str) -> bool:
    """True for the repo's own modules: not a virtualenv inside the repo (a torch imported again breaks), not the
    hat's own package (`clearml-hat init` puts it into the repo)."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return False
    path = os.path.abspath(file)
    parts = path.split(os.sep)
    return (path.startswith(root + os.sep) and not path.startswith(_HAT_PACKAGE + os.sep)
            and "site-packages" not in parts and "dist-packages" not in parts)
