"""Get the argparse parser out of a training script without running its training.

The script runs as `python train.py` would run it (as `__main__`, with an empty command line), except that the
first parse call on an ArgumentParser raises `_ParserReached` instead of parsing: the parser built so far comes
back and the training code after it never runs. Imports this machine lacks get inert stand-ins (see stand_ins.py)
in every module of the script's repo, and the script's own asserts are skipped. One exception to the first
parse: a first-stage `parse_known_args()` (timm's config pre-parser, Lightning-style scripts that add options
depending on a first value) really parses when the running code visibly parses again after it; capture then
stops at that later parse, so the parser of the default path is read.

    parser = capture_parser("train.py")
    captured = capture("train.py")   # captured.parser, captured.missing_modules == ('cv2', 'torch')

HatError when there is no parser to read: script not found, syntax error, no argparse at all; its subclass
ParserNotReached when the script ran but stopped before parsing (callers may fall back to `--key value` argv).

The script runs in config/script_run.py, which puts back everything the run changed (the argparse methods too)
and makes the real run import the repo's modules afresh.
"""
from __future__ import annotations

import argparse
import dis
import linecache
import os
import sys
import types
from typing import Any, Callable, Dict, NoReturn

from clearml_hat.config.argparser.missing_packages import (
    install_command,
    missing_module,
    needs_package,
    stand_in_on_failing_line,
)
from clearml_hat.config.argparser.stand_ins import (
    StandInFinder,
    parser_handoffs,
    submodules_on_access,
)
from clearml_hat.config.detect import SUPPORTED, other_system
from clearml_hat.config.jsonargparse_capture import parse_stopped, uses_jsonargparse
from clearml_hat.config.script_run import replaced, running_as_main, script_line
from clearml_hat.errors import HatError

_PARSE_METHODS = ("parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args")
# A script whose code names none of these has no argparse parser. Substrings, so that subclasses and wrappers
# count too: HfArgumentParser, parse_args_into_dataclasses, configargparse.ArgParser.
_PARSER_MARKERS = ("ArgumentParser", "ArgParser", "parse_args", "parse_known_args", "intermixed_args")


class Captured:
    """What capture found: the script's parser and the missing modules its own code imported."""

    def __init__(self, parser: argparse.ArgumentParser, missing_modules: tuple[str, ...],
                 pre_parsers: tuple[argparse.ArgumentParser, ...] = ()) -> None:
        self.parser = parser
        self.pre_parsers = pre_parsers  # first-stage parsers that really parsed before it (timm's config_parser)
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
    """The ArgumentParser that `python script` parses its command line with; raises HatError when there is none.

    With first-stage pre-parsers (timm's `-c/--config`), one parser that reads their options too: the command line
    the hat builds goes to the pre-parsers first, and what they leave to the main parser, as in the script."""
    captured = capture(script)
    if not captured.pre_parsers:
        return captured.parser
    return _with_pre_parsers(captured.parser, captured.pre_parsers)


def _with_pre_parsers(parser: argparse.ArgumentParser,
                      pre_parsers: tuple[argparse.ArgumentParser, ...]) -> argparse.ArgumentParser:
    """A parser with the pre-parsers' options first, then the main parser's (its own win where both have one)."""
    return argparse.ArgumentParser(prog=parser.prog, description=parser.description, add_help=False,
                                   parents=[*pre_parsers, parser], conflict_handler="resolve",
                                   prefix_chars=parser.prefix_chars, allow_abbrev=parser.allow_abbrev)


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
        # optimize=1 drops the script's asserts: a check of the environment before the parse (MAE's
        # `assert timm.__version__ == "0.3.2"`) is about training on this machine, not about reading its parser.
        code = compile(source, path, "exec", dont_inherit=True, optimize=1)
    except SyntaxError as error:
        where = f"{shown}:{error.lineno}:{error.offset}"
        raise HatError(f"{where}: syntax error in the training script: {error.msg}; fix it so `python {shown}` "
                       "starts") from None
    # A script with no parser may train at module level, so it is not run at all.
    names = _names_used(code)
    if not any(marker in name for name in names for marker in _PARSER_MARKERS) and not uses_jsonargparse(names):
        other = other_system(source.decode("utf-8", errors="replace"))
        if other:
            raise HatError(f"{shown} parses its options with {other}, which the hat does not support yet; "
                           f"supported: {SUPPORTED}")
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


# How many missing modules an installed package may import for the script before capture gives up.
_MAX_RETRIES = 8


def _run_until_parse(code: types.CodeType, path: str, shown: str, everywhere: frozenset = frozenset()) -> Captured:
    """Run the script up to its parse. When an installed package fails on a missing module it imports for the
    script (MAE's `from torch.utils.tensorboard import SummaryWriter`, tensorboard not installed), the script's
    own import fails with it: run again with that module stood in for every importer."""
    retry_with = None
    needs = None  # (script line, missing module, error) when the failing line read a stand-in
    built_elsewhere = False  # a jsonargparse script that ran to its end with stand-ins: its parser was one
    pre_parses: list[int] = []  # script lines of pre-parser parse_known_args calls that were let through
    pre_parsers: list[argparse.ArgumentParser] = []
    reached: list[argparse.ArgumentParser] = []
    original_parse_known_args = argparse.ArgumentParser.parse_known_args

    def reach(parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> NoReturn:
        reached.append(parser)  # kept even if a bare `except:` in the script swallows the exception
        raise _ParserReached(parser)

    def parse_known_args(parser: argparse.ArgumentParser, args: Any = None, namespace: Any = None) -> Any:
        # Two-stage parsing: timm's train.py runs `config_parser.parse_known_args()` (only --config) and then
        # `parser.parse_args(remaining)`; Lightning-style scripts parse known args, add options that depend on a
        # first value, then parse again. Let such a first stage really parse the (empty) command line when the
        # running script code visibly parses again later, so the parser of the default path is the one read;
        # otherwise this is the script's one parse.
        line = _line_of_later_parse(sys._getframe(1), code)
        if line is not None:
            pre_parses.append(line)
            if parser not in pre_parsers:
                pre_parsers.append(parser)
            return original_parse_known_args(parser, args, namespace)
        reach(parser)

    # `if len(sys.argv) == 1: parser.print_help(); sys.exit(1)` comes before the parse in some scripts, and the
    # parser is complete by then.
    patches: Dict[str, Callable[..., Any]] = {name: reach for name in _PARSE_METHODS + ("print_help", "print_usage")}
    patches["parse_known_args"] = parse_known_args
    current_add_subparsers = argparse.ArgumentParser.add_subparsers

    def add_subparsers(parser: argparse.ArgumentParser, **kwargs: Any) -> Any:
        # Once clearml is imported (under the agent it is, before capture), it names subparsers without a dest
        # "/subparser1"; the script's own parser has none (SUPPRESS), and its YAML key is `command`.
        kwargs.setdefault("dest", argparse.SUPPRESS)
        return current_add_subparsers(parser, **kwargs)

    patches["add_subparsers"] = add_subparsers
    with running_as_main(path, stand_ins=True, everywhere=everywhere) as run, \
            replaced([(argparse.ArgumentParser, name, method) for name, method in patches.items()]), \
            submodules_on_access(run.finder), parse_stopped(_names_used(code), reach):
        finder = run.finder  # the whole repo is the script's own code: its modules get stand-ins, wherever they sit
        try:
            exec(code, run.module.__dict__)
            which = (f"only the first-stage parse_known_args() at line {pre_parses[0]} parsed, the later parse "
                     "never ran" if pre_parses else "no parse_args() or parse_known_args() call ran")
            # A parser built by a missing package (LightningCLI without lightning) is a stand-in that never parses.
            fix = f"install {', '.join(_top_level(finder.modules))} here" if finder.modules else \
                f"make `python {shown}` call parse_args() on its parser"
            problem = f"{shown} ran to the end without parsing its arguments ({which}){_stand_in_note(finder)}; {fix}"
            # jsonargparse builds its parser from signatures: there are no add_argument lines to read instead.
            built_elsewhere = bool(finder.modules) and uses_jsonargparse(_names_used(code))
        except _ParserReached as found:
            return _captured(found.parser, finder, shown, pre_parsers)
        except SystemExit as stop:
            problem = (f"{script_line(stop, path, shown)} called sys.exit({stop.code!r}) before parsing its "
                       f"arguments{_stand_in_note(finder)}; `python {shown}` with no arguments must reach parse_args()")
        except Exception as error:  # the script's own failure, reported with its line
            problem = (f"{script_line(error, path, shown)} raised {_error_text(error)} before parsing "
                       f"its arguments{_stand_in_note(finder)}; fix that line so `python {shown} --help` works")
            missing = missing_module(error, _top_level(finder.modules))
            if missing and missing not in everywhere:
                retry_with = missing
            failing = stand_in_on_failing_line(error, finder.is_local)
            if failing:
                filename, line, origin = failing
                where = f"{shown if filename == path else _shown_path(filename)}:{line}"
                needs = (where, origin, _error_text(error))
    if reached:  # a bare `except:` in the script swallowed _ParserReached, but the parser was reached
        return _captured(reached[0], finder, shown, pre_parsers)
    if retry_with and len(everywhere) < _MAX_RETRIES:
        return _run_until_parse(code, path, shown, everywhere | {retry_with})
    if needs or built_elsewhere:
        # Not ParserNotReached: reading the add_argument lines instead (static_parser.py) cannot help a script
        # whose parser needs the missing package (HfArgumentParser adds its options from dataclasses).
        raise HatError(needs_package(*needs) if needs else problem)
    raise ParserNotReached(problem)


def _captured(parser: argparse.ArgumentParser, finder: StandInFinder, shown: str,
              pre_parsers: list[argparse.ArgumentParser]) -> Captured:
    """The capture's result; HatError when the parser went through a call of a missing module, whose options
    cannot be known (improved-diffusion's `add_dict_to_argparser(parser, defaults)` adds every one of them)."""
    for handoff in parser_handoffs():
        if handoff.parser is parser:
            where = f"{shown if handoff.filename == os.path.abspath(shown) else _shown_path(handoff.filename)}:" \
                    f"{handoff.line}"
            package = handoff.origin.partition(".")[0]
            raise HatError(f"{where} hands the parser to {handoff.call}, but {package!r} is missing here, so the "
                           f"options it adds cannot be read; install {package!r} ({install_command(package)}, or "
                           "make it importable from the repo) and run again")
    return Captured(parser, _top_level(finder.modules), tuple(p for p in pre_parsers if p is not parser))


def _shown_path(filename: str) -> str:
    """filename relative to the working directory when it lies below it, else as it is."""
    relative = os.path.relpath(filename)
    return filename if relative.startswith(os.pardir) else relative


def _error_text(error: BaseException) -> str:
    """'ValueError: bad value', or for an error without a message the line that raised it (a bare assert)."""
    message = " ".join(str(error).split())
    if message:
        return f"{type(error).__name__}: {message}"
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    source = linecache.getline(traceback.tb_frame.f_code.co_filename, traceback.tb_lineno).strip() if traceback else ""
    return f"{type(error).__name__} at `{source}`" if source else type(error).__name__


def _line_of_later_parse(frame: types.FrameType | None, script_code: types.CodeType) -> int | None:
    """The script line of the current call when script code still running names a parse method on a later line.

    Walks the calling frames out to the script's module level; a frame counts when a parse method name appears in
    its code after the instruction being run, on a later line than the one running. A parse on the same line is
    another branch of it (yolov5's `return parser.parse_known_args()[0] if known else parser.parse_args()`).
    Returns None when no later parse is visible.
    """
    line = None
    while frame is not None:
        if frame.f_code.co_filename == script_code.co_filename and line is None:
            line = frame.f_lineno
        if any(later_line > frame.f_lineno for later_line in _later_parse_lines(frame)):
            return line if line is not None else frame.f_lineno
        if frame.f_code is script_code:
            return None
        frame = frame.f_back
    return None


def _later_parse_lines(frame: types.FrameType) -> list[int]:
    """Lines of the parse method names in the frame's code after the instruction being run."""
    starts = sorted(dis.findlinestarts(frame.f_code))
    lines = []
    for ins in dis.get_instructions(frame.f_code):
        if ins.offset > frame.f_lasti and ins.argval in _PARSE_METHODS:
            lines += [line for offset, line in starts if offset <= ins.offset and line is not None][-1:]
    return lines


def _top_level(modules: list[str]) -> tuple[str, ...]:
    """The missing modules without those inside another missing one: ['torch', 'torch.nn'] -> ('torch',)."""
    missing = set(modules)
    return tuple(sorted(name for name in missing if name.rpartition(".")[0] not in missing))


def _stand_in_note(finder: StandInFinder) -> str:
    modules = _top_level(finder.modules)
    return f" (missing here, stood in for: {', '.join(modules)})" if modules else ""
