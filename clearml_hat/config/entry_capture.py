"""Run a training script as `python train.py` would, up to the call that hands control to its config system
(`fire.Fire(main)`, absl's `app.run(main)`), and stop there: the training never runs.

    import fire
    called = run_until_call(Path("train.py"), [(fire, "Fire"), (fire.core, "Fire")], "fire.Fire")
    called.args[0]      # the function the script gave fire.Fire

Used by the python-fire and absl backends (fire_system.py, absl_system.py); argparse has its own, richer capture
(argparser/capture.py: stand-ins for missing packages, pre-parsers). Everything the run changes is put back: the
patched attributes, sys.argv, sys.path, sys.modules['__main__'], the working directory, os.environ; the script's own
modules (those below its repo root) leave sys.modules so the real run imports them afresh.
"""
from __future__ import annotations

import ast
import contextlib
import os
import sys
import types
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Sequence, Set, Tuple

from clearml_hat.errors import HatError
from clearml_hat.local.repo import repo_root


class Called(NamedTuple):
    """The intercepted call's arguments."""

    args: tuple
    kwargs: Dict[str, Any]


class _Reached(BaseException):
    """Carries the call out of the script; a BaseException, so the script's `except Exception:` lets it pass."""

    def __init__(self, args: tuple, kwargs: Dict[str, Any]) -> None:
        super().__init__()
        self.call_args, self.call_kwargs = args, kwargs


def imported_and_called(script: Path) -> Tuple[Set[str], Set[str]]:
    """Every absolute module name the script imports (`absl.flags` for `from absl import flags`) and the last name
    of everything it calls (`Fire` for `fire.Fire(main)`), read from its source; empty when it cannot be read
    (capture then names the problem). Both matter: a script that imports fire but never calls Fire would run to
    its end, training included, if it were captured as a fire script."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return set(), set()
    imported: Set[str] = set()
    called: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call):
            function = node.func
            called.add(function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", ""))
    return imported, called


def run_until_call(script: Path, targets: Sequence[Tuple[Any, str]], call: str) -> Called:
    """Run script as __main__ with an empty command line until it calls one of targets (object, attribute name);
    HatError naming the line when it fails or ends before."""
    path = script.resolve()
    try:
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except OSError:
        raise HatError(f"training script not found or unreadable: {script}; give the path of a readable .py "
                       "file") from None
    except SyntaxError as error:
        raise HatError(f"{script}:{error.lineno}: syntax error in the training script: {error.msg}; fix it so "
                       f"`python {script}` starts") from None

    def reach(*args: Any, **kwargs: Any) -> None:
        raise _Reached(args, kwargs)

    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    with _restored(path, targets, reach):
        sys.modules["__main__"] = module
        try:
            exec(code, module.__dict__)
        except _Reached as reached:
            return Called(reached.call_args, reached.call_kwargs)
        except SystemExit as stop:
            raise HatError(f"{script} called sys.exit({stop.code!r}) before {call}(); `python {script}` with no "
                           f"arguments must reach {call}()") from None
        except Exception as error:  # the script's own failure: a missing package, a bad line
            said = " ".join(str(error).split())
            raise HatError(f"{script}{_line(error, path)} raised {type(error).__name__}: {said} before {call}(); "
                           f"fix that so `python {script} --help` works (install what it imports)") from None
    raise HatError(f"{script} ran to its end without calling {call}(); call it from `if __name__ == "
                   "'__main__':` so the hat can read the options")


def _line(error: BaseException, path: Path) -> str:
    """':12' for the script's last line in the traceback, else ''."""
    traceback, line = error.__traceback__, ""
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == str(path):
            line = f":{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return line


@contextlib.contextmanager
def _restored(path: Path, targets: Sequence[Tuple[Any, str]], reach: Any) -> Iterator[None]:
    originals: List[Tuple[Any, str, Any]] = [(owner, name, getattr(owner, name)) for owner, name in targets]
    modules_before = set(sys.modules)
    main, argv, sys_path, cwd, environ = sys.modules.get("__main__"), sys.argv, sys.path, os.getcwd(), dict(os.environ)
    root = repo_root(path)
    for owner, name, _ in originals:
        setattr(owner, name, reach)
    sys.argv = [str(path)]
    # What `python train.py` puts first; the repo root last, as clearml-agent's PYTHONPATH has it.
    sys.path = [str(path.parent)] + sys.path + ([str(root)] if root != path.parent else [])
    try:
        # The script's prints go to stderr: the hat's stdout (e.g. --print_argv) stays clean.
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        for name in set(sys.modules) - modules_before:
            if _below(sys.modules.get(name), root):
                del sys.modules[name]
        if main is not None:
            sys.modules["__main__"] = main
        sys.argv, sys.path = argv, sys_path
        os.chdir(cwd)
        # Only what the script changed: on the agent, ClearML's threads read the environment meanwhile.
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        for name, value in environ.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


def _below(module: Any, root: Path) -> bool:
    """True for a module of the script's repo (not one installed in a virtual environment inside it)."""
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and in_repo(file, root)


def in_repo(file: str, root: Path) -> bool:
    """True when file lies below root and outside an installed packages folder (a `.venv` kept in the repo)."""
    path = os.path.realpath(file)
    return path.startswith(f"{root}{os.sep}") and not _INSTALLED & set(Path(path).parts)


_INSTALLED = {"site-packages", "dist-packages"}
