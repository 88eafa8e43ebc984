"""Get the click command out of a click or typer training script without running its training.

    uses_click(Path("train.py"))  -> True for a script that imports click or typer and has no argparse parser
    captured = capture_command("train.py")   # .command: the click Command `python train.py` invokes

The script runs as `python train.py` would run it (as `__main__`, with an empty command line), except that the
first `make_context` of a click Command raises instead of parsing: every way into a click command (`main()`,
`cli.main(args)`, `typer.run(main)`, a `typer.Typer()` app) builds its context there before it calls the training,
so the command comes back and the training never runs. typer (0.20+) carries its own copy of click
(`typer._click`); both are patched, each only when the script imports it. Imports this machine lacks get the
argparse capture's inert stand-ins, and everything the run changes is put back (script_run.py).
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import types
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, NoReturn, Set, Tuple

from clearml_hat.config.argparser.stand_ins import submodules_on_access
from clearml_hat.config.script_run import replaced, running_as_main, script_line
from clearml_hat.errors import HatError

# The core module of each click a script may import: click itself, and typer's own copy of it.
_CORES = {"click": ("click.core",), "typer": ("typer._click.core", "click.core")}
# A script whose code names an argparse parser is the argparse backend's (click may only print there); names in
# comments and docstrings do not count.
_ARGPARSE_MARKERS = ("ArgumentParser", "parse_args", "parse_known_args")


# The names a script that makes a click command uses: `@click.command()`, `@cli.group()`, `typer.Typer()`,
# `typer.run(main)`, `click.Command(...)`.
_COMMAND_MARKERS = {"command", "group", "Command", "Group", "Typer", "run"}


class CapturedCommand(NamedTuple):
    command: Any  # the click Command (a typer app's TyperCommand)
    settings: Dict[str, Any]  # what the script handed make_context besides the argv: `main(auto_envvar_prefix=...)`


class _CommandReached(BaseException):
    """Carries the command out of the script; a BaseException, so the script's `except Exception:` lets it pass."""

    def __init__(self, captured: CapturedCommand) -> None:
        super().__init__()
        self.captured = captured


def uses_click(script: Path) -> bool:
    """True when the script imports click or typer and names no argparse parser (False when it cannot be read:
    the argparse capture names that problem)."""
    try:
        source = script.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False
    return bool(_imported(tree)) and not any(marker in name for name in _names(tree) for marker in _ARGPARSE_MARKERS)


def _names(tree: ast.Module) -> Set[str]:
    """Every name and attribute the code uses (comments and docstrings left out)."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | \
        {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def _imported(tree: ast.Module) -> List[str]:
    """Which of click and typer the script imports, in _CORES order."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return [name for name in _CORES if name in found]


def capture_command(script: str | os.PathLike) -> CapturedCommand:
    """The click Command `python script` invokes (a typer app's too); HatError when the script fails before it or
    never invokes one."""
    path, shown = os.path.abspath(script), os.fspath(script)
    try:
        source = Path(path).read_text(encoding="utf-8")
        code = compile(source, path, "exec", dont_inherit=True)
    except OSError as error:
        raise HatError(f"cannot read training script {shown}: {error.strerror}; give the path of a readable .py "
                       "file") from None
    except SyntaxError as error:
        raise HatError(f"{shown}:{error.lineno}:{error.offset}: syntax error in the training script: {error.msg}; "
                       f"fix it so `python {shown}` starts") from None
    tree = ast.parse(source)
    imported = _imported(tree)
    # A script with no command may train at module level, so it is not run at all.
    if not _names(tree) & _COMMAND_MARKERS:
        raise HatError(f"{shown} imports {' and '.join(imported)} but makes no command (@click.command, typer.Typer, "
                       "typer.run), so there are no options to read; give its options to a click command")
    for name in imported:
        if importlib.util.find_spec(name) is None:
            raise HatError(f"{shown} parses its options with {name}, which is not installed here; pip install {name}")
    return _run_until_command(code, path, shown, imported)


def _run_until_command(code: types.CodeType, path: str, shown: str, imported: List[str]) -> CapturedCommand:
    with running_as_main(path, stand_ins=True) as run, submodules_on_access(run.finder), \
            replaced(_make_context_stops(imported)):
        try:
            exec(code, run.module.__dict__)
            problem = (f"{shown} ran to the end without invoking a click command; make `python {shown}` call its "
                       "command (`if __name__ == \"__main__\": main()`)")
        except _CommandReached as found:
            return found.captured
        except SystemExit as stop:
            problem = (f"{script_line(stop, path, shown)} called sys.exit({stop.code!r}) before invoking its click "
                       f"command; `python {shown}` with no arguments must reach it")
        except Exception as error:  # the script's own failure, reported with its line
            problem = (f"{script_line(error, path, shown)} raised {type(error).__name__}: {error} before invoking "
                       f"its click command; fix that line so `python {shown} --help` works")
    raise HatError(" ".join(problem.split()))


def _make_context_stops(imported: List[str]) -> List[Tuple[Any, str, Any]]:
    """The first make_context of a click Command (of each click the script imports) raises _CommandReached."""
    def reach(command: Any, info_name: Any = None, args: Any = None, parent: Any = None, **settings: Any) -> NoReturn:
        raise _CommandReached(CapturedCommand(command, settings))

    stops: List[Tuple[Any, str, Any]] = []
    for name in dict.fromkeys(core for top in imported for core in _CORES[top]):
        try:
            command_class: Any = importlib.import_module(name).Command
        except ImportError:  # a typer without its own click copy uses click's
            continue
        if command_class not in [owner for owner, _, _ in stops]:
            stops.append((command_class, "make_context", reach))
    return stops
