"""Run a training script as `python train.py` would, up to the call that hands control to its config system
(`fire.Fire(main)`, absl's `app.run(main)`), and stop there: the training never runs.

    import fire
    called = run_until_call(Path("train.py"), [(fire, "Fire"), (fire.core, "Fire")], "fire.Fire")
    called.args[0]      # the function the script gave fire.Fire

Used by the tyro, python-fire and absl backends (tyro_capture.py, fire_system.py, absl_system.py); argparse and
click stop at their own calls with stand-ins for missing packages (argparser/capture.py, click_capture.py). The
script runs in script_run.py, which puts back everything the run changed, the patched attributes too.
"""
from __future__ import annotations

import ast
import types
from pathlib import Path
from typing import Any, Dict, NamedTuple, Sequence, Set, Tuple

from clearml_hat.config.argparser.missing_packages import install_command
from clearml_hat.config.script_run import replaced, running_as_main, script_line
from clearml_hat.errors import HatError


class Called(NamedTuple):
    """The intercepted call's arguments, and the script's `__main__` module that made it."""

    args: tuple
    kwargs: Dict[str, Any]
    module: types.ModuleType


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

    with running_as_main(str(path)) as run, replaced([(owner, name, reach) for owner, name in targets]):
        try:
            exec(code, run.module.__dict__)
        except _Reached as reached:
            return Called(reached.call_args, reached.call_kwargs, run.module)
        except ModuleNotFoundError as error:
            name = (error.name or "?").partition(".")[0]
            raise HatError(f"{script} imports {name!r}, which is not installed here; install it "
                           f"({install_command(name)}) so `python {script} --help` works") from None
        except SystemExit as stop:
            raise HatError(f"{script} called sys.exit({stop.code!r}) before {call}(); `python {script}` with no "
                           f"arguments must reach {call}()") from None
        except Exception as error:  # the script's own failure: a bad line
            said = " ".join(str(error).split())
            raise HatError(f"{script_line(error, str(path), str(script))} raised {type(error).__name__}: {said} "
                           f"before {call}(); fix that so `python {script} --help` works") from None
    raise HatError(f"{script} ran to its end without calling {call}(); call it from `if __name__ == "
                   "'__main__':` so the hat can read the options")
