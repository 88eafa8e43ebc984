"""Get the argparse parser out of a training script without running its training.

The script runs as `python train.py` would run it (as `__main__`, with an empty command line), except that the
first parse call on an ArgumentParser raises `_ParserReached` instead of parsing: the parser built so far comes
back and the training code after it never runs. Imports this machine lacks get inert stand-ins (see stand_ins.py).
One exception: a pre-parser (timm's `config_parser.parse_known_args()`, add_help=False) really parses when the
running code visibly parses again after it; capture then stops at that later parse.

    parser = capture_parser("train.py")
    captured = capture("train.py")   # captured.parser, captured.missing_modules == ('cv2', 'torch')

HatError when there is no parser to read: script not found, syntax error, no argparse at all; its subclass
ParserNotReached when the script ran but stopped before parsing (callers may fall back to `--key value` argv).

Everything capture changes is put back afterwards, even when the script fails: the argparse methods, sys.argv,
sys.path, sys.meta_path, sys.modules['__main__'], the working directory, os.environ, warning filters.
Modules imported from the script's folder and all stand-in modules leave sys.modules, so a later real run
imports them afresh (and fails loudly on a module that is truly missing); installed modules stay imported.
"""
from __future__ import annotations

import argparse
import contextlib
import dis
import os
import sys
import types
import warnings

from clearml_hat.errors import HatError
from clearml_hat.stand_ins import StandInFinder, StandInModule

_PARSE_METHODS = ("parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args")
# A script whose code names none of these has no argparse parser. Substrings, so that subclasses and wrappers
# count too: HfArgumentParser, parse_args_into_dataclasses, configargparse.ArgParser.
_PARSER_MARKERS = ("ArgumentParser", "ArgParser", "parse_args", "parse_known_args", "intermixed_args")


class Captured:
    """What capture found: the script's parser and the missing modules its own code imported."""

    def __init__(self, parser: argparse.ArgumentParser, missing_modules: tuple[str, ...]) -> None:
        self.parser = parser
        # Sorted, submodules of a missing module left out: ('cv2', 'torch', 'utils.general') for imports of cv2,
        # torch, torch.nn and utils.general (when utils itself exists beside the script).
        self.missing_modules = missing_modules


class ParserNotReached(HatError):
    """The script ran but stopped before any parse call (an exception, sys.exit, or its end): no parser to read."""


class _ParserReached(BaseException):
    """Carries the parser out of the script. A BaseException, so the script's `except Exception:` lets it pass."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__()
        self.parser = parser


def capture_parser(script: str | os.PathLike) -> argparse.ArgumentParser:
    """The ArgumentParser that `python script` parses its command line with; raises HatError when there is none."""
    return capture(script).parser


def capture(script: str | os.PathLike) -> Captured:
    """Run script up to its first real parse call and return that parser plus the missing modules it imported."""
    path = os.path.abspath(script)
    shown = os.fspath(script)
    try:
        with open(path, "rb") as file:
            source = file.read()
    except FileNotFoundError:
        raise HatError(f"training script not found: {shown} (looked at {path}); check the path") from None
    except OSError as error:
        raise HatError(f"cannot read training script {shown}: {error.strerror}; give the path of a readable .py "
                       "file") from None
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        where = f"{shown}:{error.lineno}:{error.offset}"
        raise HatError(f"{where}: syntax error in the training script: {error.msg}; fix it so `python {shown}` "
                       "starts") from None
    # A script with no parser may train at module level, so it is not run at all.
    if not any(marker in name for name in _names_used(code) for marker in _PARSER_MARKERS):
        raise HatError(f"{shown} never uses argparse.ArgumentParser or parse_args(), so there is no parser to "
                       "read; give the script an ArgumentParser and call parse_args() on it")
    return _run_until_parse(code, path, shown)


def _names_used(code: types.CodeType) -> set[str]:
    """Every global and attribute name the code and its nested functions and classes use (comments excluded)."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names


def _run_until_parse(code: types.CodeType, path: str, shown: str) -> Captured:
    folder = os.path.dirname(path)
    finder = StandInFinder(folder)
    pre_parses: list[int] = []  # script lines of pre-parser parse_known_args calls that were let through
    reached: list[argparse.ArgumentParser] = []
    original_parse_known_args = argparse.ArgumentParser.parse_known_args

    def reach(parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        reached.append(parser)  # kept even if a bare `except:` in the script swallows the exception
        raise _ParserReached(parser)

    def parse_known_args(parser: argparse.ArgumentParser, args: object = None, namespace: object = None) -> object:
        # timm's train.py first runs `config_parser.parse_known_args()` (add_help=False, only --config) and then
        # `parser.parse_args(remaining)`. Let such a pre-parse really parse the (empty) command line when the
        # running script code visibly parses again later; otherwise this is the script's one parse.
        if not parser.add_help:
            line = _line_of_later_parse(sys._getframe(1), code)
            if line is not None:
                pre_parses.append(line)
                return original_parse_known_args(parser, args, namespace)
        reach(parser)

    # `if len(sys.argv) == 1: parser.print_help(); sys.exit(1)` comes before the parse in some scripts, and the
    # parser is complete by then.
    patches = {name: reach for name in _PARSE_METHODS + ("print_help", "print_usage")}
    patches["parse_known_args"] = parse_known_args
    module = types.ModuleType("__main__")
    module.__file__ = path
    with _restored_state(finder, patches):
        sys.modules["__main__"] = module
        sys.argv = [path]
        sys.path = [folder] + sys.path  # what `python train.py` puts first
        sys.meta_path.append(finder)
        try:
            exec(code, module.__dict__)
            which = (f"only the add_help=False pre-parser at line {pre_parses[0]} parsed, the later parse never ran"
                     if pre_parses else "no parse_args() or parse_known_args() call ran")
            problem = (f"{shown} ran to the end without parsing its arguments ({which}); make `python {shown}` "
                       "call parse_args() on its parser")
        except _ParserReached as found:
            return Captured(found.parser, _top_level(finder.modules))
        except SystemExit as stop:
            problem = (f"{_script_line(stop, path, shown)} called sys.exit({stop.code!r}) before parsing its "
                       f"arguments{_stand_in_note(finder)}; `python {shown}` with no arguments must reach parse_args()")
        except Exception as error:  # the script's own failure, reported with its line
            message = " ".join(str(error).split())
            problem = (f"{_script_line(error, path, shown)} raised {type(error).__name__}: {message} before parsing "
                       f"its arguments{_stand_in_note(finder)}; fix that line so `python {shown} --help` works")
    if reached:  # a bare `except:` in the script swallowed _ParserReached, but the parser was reached
        return Captured(reached[0], _top_level(finder.modules))
    raise ParserNotReached(problem)


def _line_of_later_parse(frame: types.FrameType | None, script_code: types.CodeType) -> int | None:
    """The script line of the current call when script code still running names a parse method after it.

    Walks the calling frames out to the script's module level; a frame counts when a parse method name appears in
    its code after the instruction being run. Returns None when no later parse is visible.
    """
    line = None
    while frame is not None:
        if frame.f_code.co_filename == script_code.co_filename and line is None:
            line = frame.f_lineno
        later = (ins for ins in dis.get_instructions(frame.f_code) if ins.offset > frame.f_lasti)
        if any(ins.argval in _PARSE_METHODS for ins in later):
            return line if line is not None else frame.f_lineno
        if frame.f_code is script_code:
            return None
        frame = frame.f_back
    return None


@contextlib.contextmanager
def _restored_state(finder: StandInFinder, patches: dict):
    """Patch the argparse parse methods; on the way out put back everything a script run may change."""
    originals = {name: argparse.ArgumentParser.__dict__[name] for name in patches}
    modules_before = set(sys.modules)
    main, argv, path, meta_path, cwd = sys.modules.get("__main__"), sys.argv, sys.path, sys.meta_path, os.getcwd()
    environ = dict(os.environ)
    # logging and multiprocessing keep process-wide settings that a real run of the script sets again: a
    # `logging.basicConfig()` kept from capture would make the real run's call a no-op, and a second
    # `set_start_method('spawn')` raises. Read through sys.modules so capture does not import them itself.
    logging = sys.modules.get("logging")
    root_handlers = logging.root.handlers[:] if logging else []
    multiprocessing = sys.modules.get("multiprocessing")
    start_method = multiprocessing.get_start_method(allow_none=True) if multiprocessing else None
    for name, method in patches.items():
        setattr(argparse.ArgumentParser, name, method)
    try:
        # The script's prints go to stderr: the hat's stdout (e.g. --print_argv) stays clean.
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for name, method in originals.items():
            setattr(argparse.ArgumentParser, name, method)
        sys.meta_path = meta_path
        if finder in meta_path:
            meta_path.remove(finder)
        for name in set(sys.modules) - modules_before:
            module = sys.modules[name]
            if _holds_stand_ins(module, finder):
                del sys.modules[name]
                # An import also set the module as an attribute of its package (`sklearn.missing_sub`).
                package, _, attribute = name.rpartition(".")
                if getattr(sys.modules.get(package), attribute, None) is module:
                    delattr(sys.modules[package], attribute)
        if main is not None:
            sys.modules["__main__"] = main
        sys.argv, sys.path = argv, path
        os.chdir(cwd)
        _restore_environ(environ)
        if "logging" in sys.modules:
            sys.modules["logging"].root.handlers[:] = root_handlers
        multiprocessing = sys.modules.get("multiprocessing")
        if multiprocessing and multiprocessing.get_start_method(allow_none=True) != start_method:
            multiprocessing.set_start_method(start_method, force=True)


def _holds_stand_ins(module: types.ModuleType, finder: StandInFinder) -> bool:
    """True for stand-in modules and the script's own modules (the only code that was handed stand-ins)."""
    if isinstance(module, StandInModule):
        return True
    locations = [getattr(module, "__file__", None), *getattr(module, "__path__", ())]
    return any(location and finder.is_local(location) for location in locations)


def _restore_environ(saved: dict[str, str]) -> None:
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _top_level(modules: list[str]) -> tuple[str, ...]:
    """The missing modules without those inside another missing one: ['torch', 'torch.nn'] -> ('torch',)."""
    missing = set(modules)
    return tuple(sorted(name for name in missing if name.rpartition(".")[0] not in missing))


def _script_line(error: BaseException, path: str, shown: str) -> str:
    """'train.py:12', the deepest line of the script in the error's traceback."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f"{shown}:{line}" if line is not None else shown


def _stand_in_note(finder: StandInFinder) -> str:
    modules = _top_level(finder.modules)
    return f" (missing here, stood in for: {', '.join(modules)})" if modules else ""
