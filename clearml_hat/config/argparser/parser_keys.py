"""The one model of a parser key: what describing, checking and building argv all read about a YAML key.

    for key in parser_keys(parser):       # one ParserKey per dest, in the parser's order (subcommands apart)
        key.key, key.actions, key.default, key.required, key.choices, key.takes_text

A key is an argparse dest. Several actions may store into it (`--x` / `--no-x`, append and append_const); its
default is what `parse_args([])` gives, as a YAML value (None when the key is required). Subcommands are walked
with chosen_parsers (the parsers a set of values picks) and all_parsers.

To support a new kind of argparse action, teach argv._action_tokens how to say a value with it on the command
line: check and describe read the same ParserKey and call into argv for the tokens.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import enum
from typing import Any, Dict, List, NoReturn, Optional, Tuple, cast

from clearml_hat.config.argparser.stand_ins import is_stand_in
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_values import convert


@dataclasses.dataclass(frozen=True)
class ParserKey:
    """One YAML key of one (sub)parser."""

    key: str
    actions: Tuple[argparse.Action, ...]  # every action storing into it, in the parser's order
    raw_default: Any  # the object parse_args([]) gives; absent (has_default False) when it is SUPPRESS
    has_default: bool
    required: bool
    parser: argparse.ArgumentParser = dataclasses.field(compare=False, repr=False)  # the (sub)parser it belongs to

    @property
    def default(self) -> Any:
        """The default as a YAML value: None when the key is required (or the default has no YAML form)."""
        return None if self.required or not self.has_default else convert(self.raw_default)[0]

    @property
    def flags(self) -> Tuple[str, ...]:
        return tuple(flag for action in self.actions for flag in action.option_strings)

    @property
    def choices(self) -> Optional[list]:
        return known_choices(self.actions[0])

    @property
    def takes_text(self) -> bool:
        """Its options take text: argparse hands the script the characters typed (see parser_values.text_keys).

        So do options of a type of their own whose choices are all text and which the type turns into text (or a
        str enum): HfArgumentParser gives an enum field (TrainingArguments.save_strategy: no/steps/epoch) a lambda
        type and its values as choices; `type=SchedulerType` with choices=["linear", "cosine", ...].
        """
        takers = [a for a in self.actions if a.nargs != 0]
        if not takers:
            return False
        choices = [choice for a in takers for choice in known_choices(a) or []]
        text_choices = bool(choices) and all(isinstance(choice, str) for choice in choices)
        if any(a.type not in (None, str) for a in takers):
            return text_choices and all(_gives_text(self.parser, a, choice) for a in takers
                                        for choice in known_choices(a) or [])
        return _is_text(self.raw_default if self.has_default else None) or text_choices

    @property
    def takes_whole_numbers(self) -> bool:
        takers = [a for a in self.actions if a.nargs != 0]
        return bool(takers) and all(a.type is int for a in takers)


def parser_keys(parser: argparse.ArgumentParser) -> List[ParserKey]:
    """The keys of this parser itself, in its order; its subcommands' keys are their parsers' own."""
    defaults = parse_defaults(parser)
    required = required_keys(parser)
    grouped: Dict[str, List[argparse.Action]] = {}
    for action in argument_actions(parser):
        if not isinstance(action, argparse._SubParsersAction):
            grouped.setdefault(action.dest, []).append(action)
    return [ParserKey(key, tuple(actions), defaults.get(key), key in defaults, key in required, parser)
            for key, actions in grouped.items()]


def subparsers_action(parser: argparse.ArgumentParser) -> Optional[argparse.Action]:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def all_parsers(parser: argparse.ArgumentParser) -> List[argparse.ArgumentParser]:
    """The parser and the parsers of all its subcommands, nested ones too."""
    found = [parser]
    action = subparsers_action(parser)
    for child in unique_subparsers(action).values() if action else ():
        found += all_parsers(child)
    return found


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str)
                                                                                       for v in value))


def converted(parser: argparse.ArgumentParser, action: argparse.Action, text: str) -> Tuple[bool, Any]:
    """(True, what the option's type makes of text, as argparse calls it), or (False, None) when it refuses text.

    Every exception the script's type function raises counts as refused, not only the ValueError, TypeError and
    ArgumentTypeError that argparse turns into its usage error: the hat tries texts nobody typed ('yes' for True),
    and a type function may refuse them in its own way. DINO's utils.bool_flag raises argparse.ArgumentTypeError
    in a module that never imports argparse, so every text it does not know raises NameError.
    """
    try:
        # Through the parser, which looks the type up in its registry (`parser.register('type', 'bool', ...)`).
        return True, parser._get_value(action, text)
    except Exception:  # the script's own code: any failure of it on this text is a refusal (see above)
        return False, None


def _gives_text(parser: argparse.ArgumentParser, action: argparse.Action, choice: str) -> bool:
    accepted, value = converted(parser, action, choice)
    return accepted and isinstance(value, str) and (not isinstance(value, enum.Enum) or value.value == choice)


def argument_actions(parser: argparse.ArgumentParser) -> List[argparse.Action]:
    """The parser's actions that carry a value (no --help, no --version), in the parser's order."""
    return [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]


def subcommand_key(action: argparse.Action, depth: int) -> str:
    """The YAML key that picks a subcommand: the subparsers' dest, else command / subcommand / subsubcommand..."""
    if action.dest != argparse.SUPPRESS:
        return action.dest
    return "sub" * depth + "command"


def unique_subparsers(action: argparse.Action) -> Dict[str, argparse.ArgumentParser]:
    """Subcommand name -> parser, aliases left out (they share the parser of the name given first)."""
    names: Dict[str, argparse.ArgumentParser] = {}
    for name, child in _subcommand_choices(action).items():
        if all(child is not seen for seen in names.values()):
            names[name] = child
    return names


def chosen_parsers(parser: argparse.ArgumentParser, values: dict) -> Tuple[List[argparse.ArgumentParser], str]:
    """(the parsers values pick, outermost first; "" or the problem that ended the walk early).

    The problem is a required subcommand left empty, or a name that is no subcommand.
    """
    path = [parser]
    while True:
        action = subparsers_action(path[-1])
        if action is None:
            return path, ""
        key = subcommand_key(action, len(path) - 1)
        name = values.get(key)
        choices = _subcommand_choices(action)
        names = ", ".join(map(str, choices))
        if name is None:
            return path, f"{key}: a subcommand is required; set it to one of {names}" if action.required else ""
        if name not in choices:
            return path, f"{key}: {name!r} is not a subcommand; use one of {names}"
        path.append(choices[name])


def _subcommand_choices(action: argparse.Action) -> Dict[str, argparse.ArgumentParser]:
    """name -> parser of a subparsers action, aliases included."""
    return cast(Dict[str, argparse.ArgumentParser], action.choices)


def known_choices(action: argparse.Action) -> Optional[list]:
    """The action's choices; None when it has none or they came from a module missing here (a stand-in, or an
    empty list built from one: no real script offers no choice at all)."""
    if action.choices is None or is_stand_in(action.choices):
        return None
    return list(action.choices) or None  # a stand-in iterates as empty


def required_keys(parser: argparse.ArgumentParser) -> set:
    """Dests that parse_args([]) would complain about: required arguments and members of required groups.

    argparse marks a positional with nargs='*' (or REMAINDER) required, but it matches an empty command line.
    """
    keys = {a.dest for a in argument_actions(parser)
            if a.required and (a.option_strings or a.nargs not in (argparse.ZERO_OR_MORE, argparse.REMAINDER))}
    for group in parser._mutually_exclusive_groups:
        if group.required:
            keys.update(a.dest for a in group._group_actions)
    return keys


def parse_defaults(parser: argparse.ArgumentParser) -> dict:
    """The namespace parse_args([]) gives (raw objects), without failing on required arguments.

    It parses a shallow copy whose actions are copies marked not required, so the script's parser is never
    touched. FileType options keep their default as a string: converting it would open (or truncate) the file.
    """
    clone = copy.copy(parser)
    clone._actions = [_relaxed(action) for action in parser._actions]
    clone._mutually_exclusive_groups = []

    def fail(message: str) -> NoReturn:
        raise HatError(f"{parser.prog}: the script fails with an empty command line ({message}); fix that default")

    setattr(clone, "error", fail)  # noqa: B010 (a method, replaced on this copy only)
    try:
        namespace, _ = clone.parse_known_args([])
    except argparse.ArgumentError as err:  # parsers made with exit_on_error=False
        fail(str(err))
    except Exception as err:  # a type function of the script failing on a text default its own way (a NameError)
        fail(f"{type(err).__name__}: {err}")
    return vars(namespace)


def _relaxed(action: argparse.Action) -> argparse.Action:
    relaxed = copy.copy(action)
    relaxed.required = False
    if isinstance(action.type, argparse.FileType):
        relaxed.type = None
    return relaxed


