"""Turn YAML values back into the argv a training script's main(argv) parses.

    build_argv(parser, {"lr": 0.02, "epochs": 300, "amp": False})  -> ["--lr", "0.02", "--epochs", "300"]

The script's own parser decides every spelling, and the argv is parsed back with it before it is returned, so a
wrong argv cannot ship silently. None and a value equal to the parser's default are left out: the script then
gets its own default object (20 for a type=float option, a Path, a tuple), exactly as a bare run does. A pinned
key at its default is written out where text gives the same value back (see config/system.py for why values are
pinned).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from decimal import Decimal
from enum import Enum
from typing import Any, Dict, List, Optional, Sequence, Tuple

from clearml_hat.config.argparser.parser_keys import (
    ParserKey,
    chosen_parsers,
    converted,
    known_choices,
    parser_keys,
    subcommand_key,
    subparsers_action,
)
from clearml_hat.config.argparser.stand_ins import is_stand_in
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_values import same_value, yaml_value

# BooleanOptionalAction (--x / --no-x) exists from Python 3.9 on.
BOOLEAN_OPTIONAL = getattr(argparse, "BooleanOptionalAction", None)
LIST_NARGS = (argparse.ZERO_OR_MORE, argparse.ONE_OR_MORE, argparse.REMAINDER)
OPEN_ENDED_NARGS = (argparse.OPTIONAL, argparse.ZERO_OR_MORE, argparse.ONE_OR_MORE)
ACCUMULATING = (argparse._AppendAction, argparse._AppendConstAction, argparse._ExtendAction)


class _Inexpressible(Exception):
    """One action cannot produce one value; another action with the same dest may."""


def build_argv(parser: argparse.ArgumentParser, values: dict, pinned: frozenset = frozenset()) -> List[str]:
    """The argv that makes parser give back values (None and default values left out, unless pinned); HatError
    names a bad key."""
    path, problem = chosen_parsers(parser, values)
    if problem:
        raise HatError(problem)
    path_keys = [parser_keys(each) for each in path]
    defaults: Dict[str, Any] = {}
    owner: Dict[str, int] = {}  # a dest in a subcommand too is read from the subcommand (its namespace wins)
    for depth, keys in enumerate(path_keys):
        defaults.update({key.key: key.default for key in keys})
        owner.update({key.key: depth for key in keys})
    expected: Dict[str, Any] = {}
    argv = _parser_argv(path, path_keys, 0, values, defaults, owner, expected, pinned)
    if not any(_unverifiable(action) for each in path for action in each._actions):
        _self_check(parser, argv, expected)
    return argv


def _unverifiable(action: argparse.Action) -> bool:
    """No self-check for a parser with such an action: parsing would run code with side effects (a custom Action,
    a FileType opening files), or its type or choices came from a module missing here."""
    return (type(action).__module__ != "argparse" or isinstance(action.type, argparse.FileType)
            or is_stand_in(action.type) or (action.choices is not None and known_choices(action) is None))


def _parser_argv(path: List[argparse.ArgumentParser], path_keys: List[List[ParserKey]], depth: int, values: dict,
                 defaults: Dict[str, Any], owner: Dict[str, int], expected: Dict[str, Any],
                 pinned: frozenset) -> List[str]:
    """This parser's part of argv: options first, then positionals, then the subcommand and its part.

    Positionals come after the options because a REMAINDER positional swallows any option after it, and the
    subcommand comes last because everything after its name belongs to it. Without either, positionals come
    first, so an option with nargs='*' at the end cannot swallow them.
    """
    parser = path[depth]
    subparsers = subparsers_action(parser)
    groups = {key.key: list(key.actions) for key in path_keys[depth] if owner.get(key.key) == depth}
    options: List[Tuple[str, List[str], Any, bool]] = []  # (key, tokens, nargs of the action used, at default)
    positionals: List[Tuple[str, argparse.Action, Any]] = []
    for key, actions in groups.items():
        value = values.get(key)
        if not actions[0].option_strings:
            positionals.append((key, actions[0], value))
            continue
        if value is None:
            continue
        expected[key] = value
        if same_value(value, defaults.get(key)):
            spelled = _spelled_out_default(parser, key, actions, value) if key in pinned else None
            if spelled:
                options.append((key, *spelled, True))
            continue
        tokens, expected[key], action = key_tokens(parser, key, actions, value, defaults.get(key))
        options.append((key, tokens, action.nargs, False))
    positional_tokens, tail = _positional_tokens(parser, positionals, defaults, expected)
    if subparsers is not None and values.get(subcommand_key(subparsers, depth)) is not None:
        name = values[subcommand_key(subparsers, depth)]
        tail += [name, *_parser_argv(path, path_keys, depth + 1, values, defaults, owner, expected, pinned)]
        if subparsers.dest != argparse.SUPPRESS:
            expected[subparsers.dest] = name
    # An option with nargs=REMAINDER takes all that follows it: it goes last.
    options.sort(key=lambda option: option[2] == argparse.REMAINDER)
    remainder_positional = any(a.nargs == argparse.REMAINDER for _, a, _ in positionals)
    if not tail and not remainder_positional:
        return positional_tokens + [t for _, tokens, _, _ in options for t in tokens]
    # A default would swallow what follows it if written out last; left out, it is still the default.
    options = [o for o in options if not (o[3] and _open_ended(o[1], o[2]))]
    # Open-ended options first, so a closed one ends the options and the positionals stay positionals.
    options.sort(key=lambda option: (option[2] == argparse.REMAINDER, not _open_ended(option[1], option[2])))
    follows = positional_tokens + tail
    if follows and options and _open_ended(options[-1][1], options[-1][2]):
        raise HatError(f"{options[-1][0]}: its values would swallow {follows[0]!r} after them (argparse gives "
                       f"an option with a variable number of values all that follows); leave it at its default")
    return [t for _, tokens, _, _ in options for t in tokens] + follows


def _spelled_out_default(parser: argparse.ArgumentParser, key: str, actions: List[argparse.Action],
                         value: Any) -> Optional[Tuple[List[str], Any]]:
    """(tokens, nargs) that write out a pinned value equal to this machine's default, or None to leave it out.

    A pinned key is one whose value must hold wherever the training runs, though it equals the default here (a
    GPU check that says 'cpu' on a laptop), so a plain value option is written out. Flags, counters and append
    lists are left out (absent is their default), and so is a value the text would change: a float for an option
    without type= would arrive as a string, a scalar default of a nargs='+' option as a list.
    """
    action = actions[0]
    # Nor where this machine's parser cannot judge the text (a type or choices from a missing module): left out,
    # the default is exact on any machine.
    if type(action) is not argparse._StoreAction or _unverifiable(action):
        return None
    # argparse counts a mutually exclusive option as given unless its value is the default object itself.
    if any(action in group._group_actions for group in parser._mutually_exclusive_groups):
        return None
    if action.type in (None, str) and not all(isinstance(v, str) for v in (value if isinstance(value, list)
                                                                            else [value])):
        return None
    try:
        tokens, parsed, used = key_tokens(parser, key, [action], value, None)
    except HatError:
        return None
    return (tokens, used.nargs) if same_value(parsed, value) else None


def _open_ended(tokens: List[str], nargs: Any) -> bool:
    """Would these option tokens take a positional written after them? (`--opt=v` would not.)"""
    return nargs in OPEN_ENDED_NARGS + (argparse.REMAINDER,) and not (len(tokens) == 1 and "=" in tokens[0])


def _positional_tokens(parser: argparse.ArgumentParser, positionals: List[Tuple[str, argparse.Action, Any]],
                       defaults: Dict[str, Any], expected: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    """Tokens of the positionals, and of a REMAINDER positional apart (it must come last).

    Positionals are matched by place, so a default one before a given one must be written out too.
    """
    needed = [i for i, (key, _, value) in enumerate(positionals)
              if value is not None and not same_value(value, defaults.get(key))]
    tokens: List[str] = []
    remainder: List[str] = []
    for key, action, value in positionals[: needed[-1] + 1 if needed else 0]:
        if value is None:
            later = positionals[needed[-1]][0]
            raise HatError(f"{key}: positional arguments go by place, so it needs a value when {later} is given")
        made, expected[key], _ = key_tokens(parser, key, [action], value, defaults.get(key))
        if action.nargs == argparse.REMAINDER:
            remainder = made
        else:
            tokens += made
    for key, _, value in positionals:
        if value is not None:
            expected.setdefault(key, value)
    return tokens, remainder


def key_tokens(parser: argparse.ArgumentParser, key: str, actions: List[argparse.Action], value: Any,
                default: Any) -> Tuple[List[str], Any, argparse.Action]:
    """(tokens, value parse_args will give, action used) from the first action of key that can say value.

    Raises HatError naming the key when none can. `default` is what parse_args([]) gives for key.
    """
    reasons = []
    if all(isinstance(a, ACCUMULATING) for a in actions):
        try:
            tokens, parsed = _accumulated_tokens(parser, actions, value, default)
            return tokens, parsed, actions[-1]
        except _Inexpressible as err:
            reasons.append(str(err))
    for action in actions:
        try:
            tokens, parsed = _action_tokens(parser, action, value, default)
            return tokens, parsed, action
        except _Inexpressible as err:
            reasons.append(str(err))
    raise HatError(f"{key}: {value!r} cannot be given on the command line ({'; '.join(dict.fromkeys(reasons))}); "
                   f"change it, or leave it empty for the script's default")


def _action_tokens(parser: argparse.ArgumentParser, action: argparse.Action, value: Any,
                   default: Any) -> Tuple[List[str], Any]:
    flag = _flag(action) or ""  # "" for a positional, which takes values: only _value_tokens below serves it
    if BOOLEAN_OPTIONAL is not None and isinstance(action, BOOLEAN_OPTIONAL):
        if not isinstance(value, bool):
            raise _Inexpressible(f"{flag} takes true or false")
        wanted = [s for s in action.option_strings if s.startswith("--no-") != value]
        if not wanted:
            raise _Inexpressible(f"{flag} has no --no- form")
        return [_spelling(wanted, action.dest)], value
    if isinstance(action, argparse._CountAction):
        base = default or 0
        if isinstance(value, bool) or not isinstance(value, int) or value < base or value == base != default:
            raise _Inexpressible(f"{flag} counts up from {default!r}, its value when absent")
        return [flag] * (value - base), value
    if isinstance(action, ACCUMULATING):
        return _accumulated_tokens(parser, [action], value, default)
    if action.nargs == 0:  # store_const, store_true, store_false, or a custom flag
        if not same_value(value, yaml_value(action.const)):
            raise _Inexpressible(f"{flag} stores {yaml_value(action.const)!r}")
        return [flag], value
    return _value_tokens(parser, action, value)


def _value_tokens(parser: argparse.ArgumentParser, action: argparse.Action, value: Any) -> Tuple[List[str], Any]:
    """Tokens for an action that takes values: `--opt v`, `--opt=-v`, `--opt a b`, or bare positionals."""
    flag = _flag(action)
    nargs = action.nargs
    if nargs is None or nargs == argparse.OPTIONAL:
        if flag and nargs == argparse.OPTIONAL and same_value(value, yaml_value(action.const)):
            return [flag], value
        text, parsed = _arg_string(parser, action, value)
        _refuse_dropped_text([text])
        if not flag:
            if _looks_like_option(parser, text):
                raise _Inexpressible(f"a positional value cannot start with {text[:1]!r}")
            return [text], parsed
        # `--opt=value` keeps a value starting with '-' a value, keeps nargs='?' from taking a positional, and
        # shows an empty value (False for type=bool) plainly.
        if not text or text[0] in parser.prefix_chars or nargs == argparse.OPTIONAL:
            return [f"{flag}={text}"], parsed
        return [flag, text], parsed
    items = value if isinstance(value, list) else [value]  # nargs='+' with a scalar default: a list from argv
    if nargs == argparse.ONE_OR_MORE and not items:
        raise _Inexpressible("it needs at least one item")
    if isinstance(nargs, int) and len(items) != nargs:
        raise _Inexpressible(f"it takes exactly {nargs} items")
    if nargs not in LIST_NARGS and not isinstance(nargs, int):
        raise _Inexpressible(f"nargs={nargs!r} is not supported")
    pairs = [_arg_string(parser, action, item) for item in items]
    texts = [text for text, _ in pairs]
    if nargs != argparse.REMAINDER:
        _refuse_dropped_text(texts)
    # Items cannot use the `--opt=value` form. REMAINDER takes options too (the self-check has the last word).
    if nargs != argparse.REMAINDER and any(_looks_like_option(parser, text) for text in texts):
        raise _Inexpressible("a list item starting with '-' would be read as an option")
    if not flag and not texts and nargs == argparse.ZERO_OR_MORE and action.default is not None:
        raise _Inexpressible("an empty positional list gives the default instead")
    return ([flag] if flag else []) + texts, [parsed for _, parsed in pairs]


def _refuse_dropped_text(texts: List[str]) -> None:
    """Before Python 3.13, argparse drops a value that is exactly '--' (even in `--opt=--`): it cannot be passed."""
    if sys.version_info < (3, 13) and "--" in texts:
        raise _Inexpressible("argparse before Python 3.13 drops a '--' value")


def _accumulated_tokens(parser: argparse.ArgumentParser, actions: List[argparse.Action], value: Any,
                        default: Any) -> Tuple[List[str], Any]:
    """append / append_const / extend add to a copy of the default list: say each item after it."""
    base = default if isinstance(default, list) else []
    if not isinstance(value, list) or not same_value(value[: len(base)], base):
        raise _Inexpressible(f"the flags add items to the default {base!r}, so the list must start with it")
    tokens: List[str] = []
    parsed = list(base)
    for item in value[len(base):]:
        for action in actions:
            try:
                if isinstance(action, argparse._AppendConstAction):
                    if not same_value(item, yaml_value(action.const)):
                        continue
                    made, got = [_flag(action) or ""], item  # append_const is never positional
                elif isinstance(action, argparse._ExtendAction) and action.nargs in LIST_NARGS:
                    made, got = _value_tokens(parser, action, [item])
                    got = got[0]
                else:
                    made, got = _value_tokens(parser, action, item)
            except _Inexpressible:
                continue
            tokens += made
            parsed.append(got)
            break
        else:
            raise _Inexpressible(f"no flag adds the item {item!r}")
    return tokens, parsed


def _arg_string(parser: argparse.ArgumentParser, action: argparse.Action, value: Any) -> Tuple[str, Any]:
    """(text, value parse_args gives for it): a text the option's type turns back into value.

    Raises _Inexpressible when no candidate works. Without type= any value goes as str(value) and comes back a
    string. FileType is not called (it would open the file), nor a type from a missing module: str(value) goes.
    """
    if action.type is None or action.type is str or isinstance(action.type, argparse.FileType):
        if isinstance(value, (list, dict)):
            raise _Inexpressible("one value is taken here, and without type= nothing turns text into a list")
        text = str(value)
        return text, value if isinstance(action.type, argparse.FileType) else text
    if is_stand_in(action.type):
        return str(value), value
    found = []
    for text in _candidates(value):
        accepted, parsed = converted(parser, action, text)
        if accepted and same_value(received(parsed), value):
            found.append((text, received(parsed)))
    # A text that cannot pass for an option also works as a list item ('-0.00001' where '-1e-05' cannot).
    found.sort(key=lambda pair: _looks_like_option(parser, pair[0]))
    if found:
        return found[0]
    if action.type is int and isinstance(value, float):
        raise _Inexpressible("the option takes whole numbers (type=int)")
    raise _Inexpressible(f"the option's type {getattr(action.type, '__name__', action.type)} does not accept it")


def received(value: Any) -> Any:
    """What the script receives, as a YAML value; a str enum member as its text (`type=SchedulerType` turns
    'cosine' into SchedulerType.COSINE, which argparse checks against choices=['linear', 'cosine', ...])."""
    if isinstance(value, Enum) and isinstance(value, str) and isinstance(value.value, str):
        return value.value
    return yaml_value(value)


def _candidates(value: Any) -> List[str]:
    """Texts that type functions commonly map to value (str2bool-style, int('10000') for 1e4, ...)."""
    if isinstance(value, bool) and value:
        return ["True", "true", "1", "yes", "y", "t", "on"]
    if isinstance(value, bool):
        return ["False", "false", "0", "no", "n", "f", "off", ""]  # "" for type=bool
    if isinstance(value, float) and value.is_integer():
        return [repr(value), str(int(value))]
    if isinstance(value, float):
        # '-1e-05' is no negative number to argparse; the same digits without an exponent are.
        return [repr(value), format(Decimal(repr(value)), "f")]
    if isinstance(value, list):
        return [",".join(map(str, value)), " ".join(map(str, value)), json.dumps(value)]
    if isinstance(value, dict):
        return [json.dumps(value), str(value)]  # type=json.loads wants JSON text
    return [str(value)]


def _looks_like_option(parser: argparse.ArgumentParser, text: str) -> bool:
    """argparse reads text as an option, except a negative number when no option looks like one."""
    if not text or text[0] not in parser.prefix_chars:
        return False
    return not (parser._negative_number_matcher.match(text) and not parser._has_negative_number_optionals)


def _flag(action: argparse.Action) -> Optional[str]:
    """The full option string to write; None for a positional."""
    return _spelling(action.option_strings, action.dest) if action.option_strings else None


def _spelling(option_strings: Sequence[str], dest: str) -> str:
    """The one that spells dest (--img-size for img_size), else the first --long one, else the longest."""
    named = [s for s in option_strings if s.lstrip(s[0]).replace("-", "_") == dest]
    doubled = [s for s in option_strings if len(s) > 2 and s[1] == s[0]]
    return (named or doubled or sorted(option_strings, key=len, reverse=True))[0]


def _self_check(parser: argparse.ArgumentParser, argv: List[str], expected: Dict[str, Any]) -> None:
    """Parse argv with the script's parser and compare: a mismatch is our bug or a value argparse cannot take."""
    namespace = parse_strictly(parser, argv)
    for key, want in expected.items():
        got = received(getattr(namespace, key, None))
        if not same_value(got, want):
            raise HatError(f"{key}: the script's parser reads {got!r} instead of {want!r} from {argv}; "
                           f"change the value or report this as a bug")


def parse_strictly(parser: argparse.ArgumentParser, argv: List[str]) -> argparse.Namespace:
    """parser.parse_args(argv), with argparse's exit turned into a HatError that carries its message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return parser.parse_args(argv)
    except SystemExit:
        message = (stderr.getvalue().strip().splitlines() or ["no message"])[-1]
        raise HatError(f"the script's parser rejects {argv}: {message}; fix that value in the YAML") from None
    except argparse.ArgumentError as err:  # parsers made with exit_on_error=False
        raise HatError(f"the script's parser rejects {argv}: {err}; fix that value in the YAML") from None
    except Exception as err:  # a type function of the script failing its own way (see converted)
        raise HatError(f"the script's parser fails on {argv} ({type(err).__name__}: {err}); fix that value in the "
                       "YAML") from None
