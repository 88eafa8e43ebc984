"""Run a training script as `python train.py` runs it, up to the call that hands its options to its config system,
and put back everything the run changed. Every capture (argparse, click, tyro, fire, absl) runs the script here.

    with running_as_main(path, stand_ins=True) as run, replaced([(argparse.ArgumentParser, "parse_args", reach)]):
        exec(code, run.module.__dict__)   # reach() raises out of the script at its parse: the training never runs
    run.finder.modules                    # the imports this machine lacks that got stand-ins (stand_ins.py)

While it runs: the script is `__main__` with an empty command line, its folder first on sys.path and the repo root
last (as clearml-agent's PYTHONPATH has it), its prints go to stderr (the hat's stdout, e.g. --print_argv, stays
clean). Put back afterwards, even when the script fails: sys.argv, sys.path, sys.meta_path (an importer that a
package added meanwhile stays: six.moves has one), `__main__`, the working directory, os.environ, warning filters,
logging's root handlers and multiprocessing's start method (a real run sets them again: a kept
`logging.basicConfig()` would make its call a no-op, a second `set_start_method` raises). The repo's own modules
and all stand-in modules leave sys.modules, so the real run imports them afresh (and fails loudly on a module that
is truly missing); installed modules stay imported.
"""
from __future__ import annotations

import contextlib
import os
import sys
import types
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, Sequence, Tuple, cast

from clearml_hat.config.argparser.missing_packages import StandInMetadata
from clearml_hat.config.argparser.stand_ins import StandIn, StandInBase, StandInFinder, StandInModule
from clearml_hat.local.repo import repo_root

_ABSENT = object()


class ScriptRun(NamedTuple):
    module: types.ModuleType  # the script's `__main__` (tyro reads a class's help from its module's source)
    finder: StandInFinder  # the script's own code, and the stand-ins it got (none unless stand_ins)


@contextlib.contextmanager
def running_as_main(path: str, stand_ins: bool = False, everywhere: frozenset = frozenset()) -> Iterator[ScriptRun]:
    """The script's run as `__main__` for the block (path: absolute); with stand_ins, imports the repo's code makes
    of missing modules get inert stand-ins (everywhere: these modules for every importer, see capture.py)."""
    folder, root = os.path.dirname(path), str(repo_root(Path(path)))
    finder = StandInFinder(root, everywhere)
    metadata = StandInMetadata(finder)
    module = types.ModuleType("__main__")
    module.__file__ = path
    modules_before = set(sys.modules)
    main, argv, sys_path, meta_path, cwd = sys.modules.get("__main__"), sys.argv, sys.path, sys.meta_path, os.getcwd()
    environ = dict(os.environ)
    # Read through sys.modules so that capture does not import them itself.
    logging = sys.modules.get("logging")
    root_handlers = logging.root.handlers[:] if logging else []
    multiprocessing = sys.modules.get("multiprocessing")
    start_method = multiprocessing.get_start_method(allow_none=True) if multiprocessing else None
    sys.modules["__main__"] = module
    sys.argv = [path]
    sys.path = [folder] + sys.path + ([root] if root != folder else [])
    if stand_ins:
        # In place: a package imported meanwhile may add its own importer (six.moves), which must stay.
        sys.meta_path += [finder, metadata]
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            yield ScriptRun(module, finder)
    finally:
        sys.meta_path = meta_path
        meta_path[:] = [entry for entry in meta_path if entry is not finder and entry is not metadata]
        _forget(set(sys.modules) - modules_before, finder)
        if main is not None:
            sys.modules["__main__"] = main
        sys.argv, sys.path = argv, sys_path
        os.chdir(cwd)
        _restore_environ(environ)
        if "logging" in sys.modules:
            sys.modules["logging"].root.handlers[:] = root_handlers
        multiprocessing = sys.modules.get("multiprocessing")
        if multiprocessing and multiprocessing.get_start_method(allow_none=True) != start_method:
            multiprocessing.set_start_method(start_method, force=True)


@contextlib.contextmanager
def replaced(replacements: Sequence[Tuple[Any, str, Any]]) -> Iterator[None]:
    """Each (owner, name, value) set for the block; the owner's own attribute put back (or removed again when it
    only inherited one)."""
    saved = [(owner, name, vars(owner).get(name, _ABSENT)) for owner, name, _ in replacements]
    for owner, name, value in replacements:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def script_line(error: BaseException, path: str, shown: str) -> str:
    """'train.py:12', the deepest line of the script in the error's traceback (shown alone when there is none)."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f"{shown}:{line}" if line is not None else shown


def _forget(new: set[str], finder: StandInFinder) -> None:
    for name in _modules_to_forget(new, finder):
        module = sys.modules.pop(name)
        # An import also set the module as an attribute of its package (`sklearn.missing_sub`).
        package, _, attribute = name.rpartition(".")
        if getattr(sys.modules.get(package), attribute, None) is module:
            delattr(sys.modules[package], attribute)


def _modules_to_forget(new: set[str], finder: StandInFinder) -> set[str]:
    """The modules imported during the run that hold stand-ins, so that a later real run imports them afresh.

    Stand-in modules and the repo's own modules; with modules stood in for every importer, also installed
    modules that hold a stand-in or something of a module forgotten (torch.utils.tensorboard, imported with a
    stand-in tensorboard, must not stay imported: a real run must get tensorboard's real ImportError).
    """
    forgotten = {name for name in new if sys.modules.get(name) is not None and _holds_stand_ins(sys.modules[name],
                                                                                                   finder)}
    while finder.everywhere:
        more = {name for name in new - forgotten if _refers_to(sys.modules.get(name), forgotten)}
        if not more:
            break
        forgotten |= more
    return forgotten


def _refers_to(module: object, forgotten: set[str]) -> bool:
    attributes = getattr(module, "__dict__", None)
    if not isinstance(attributes, dict):
        return False
    for value in list(attributes.values()):
        if isinstance(value, (StandIn, StandInModule, StandInBase)) or (
                isinstance(value, type) and issubclass(value, StandInBase)):
            return True
        if getattr(value, "__module__", None) in forgotten or (
                isinstance(value, types.ModuleType) and value.__name__ in forgotten):
            return True
    return False


def _holds_stand_ins(module: types.ModuleType, finder: StandInFinder) -> bool:
    """True for stand-in modules and the script's own modules (the only code that was handed stand-ins)."""
    if isinstance(module, StandInModule):
        return True
    return any(finder.is_local(location) for location in _locations(module))


def _locations(module: types.ModuleType) -> list[str]:
    """The module's __file__ and __path__ entries, read from its own namespace: a module's attributes can be
    anything (torch.ops and torch.classes answer every name, and their __path__ is no list)."""
    attributes = getattr(module, "__dict__", None)
    if not isinstance(attributes, dict):  # sys.modules may hold any object
        return []
    file, path = attributes.get("__file__"), attributes.get("__path__")
    entries = [file]
    if isinstance(path, (list, tuple)) or type(path).__name__ == "_NamespacePath":
        entries += list(cast(Iterable[Any], path))
    # Only absolute paths: torch.classes says its __file__ is '_classes.py'.
    return [entry for entry in entries if isinstance(entry, str) and os.path.isabs(entry)]


def _restore_environ(saved: dict[str, str]) -> None:
    """Only what the script changed: on the agent, ClearML's threads read the environment meanwhile."""
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
