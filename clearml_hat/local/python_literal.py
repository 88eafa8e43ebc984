"""The value of a printed Python literal (`{'loss': 0.52, 'epoch': 1.0}`), read without the `ast` module.

    python_literal("{'loss': 0.52, 'epoch': 1.0}")  # {'loss': 0.52, 'epoch': 1.0}
    python_literal("Namespace(lr=0.1)")             # ValueError: not a literal

Why not `ast.literal_eval`: the printed lines are read in a thread while the training runs, and Python 3.11's
`ast.parse` is not thread-safe: two threads building AST objects at once share one recursion counter, and either
may fail with `SystemError: AST constructor recursion depth mismatch` (CPython gh-106905's family; 3.12 no longer
shares it). ClearML's requirements detection parses the repo's files in a thread, and a training may parse too
(torch.jit.script): a reader thread of ours must never make their parse fail. `compile()` from source never builds
AST objects, so it shares nothing; the tokens are checked first so that only literals are evaluated.
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import Any, Optional

# Literals, their brackets and separators, and a sign: no name, call on a name, or operator that could compute.
_OPERATORS = frozenset(("{", "}", "[", "]", "(", ")", ",", ":", "-", "+"))
_NAMES = frozenset(("True", "False", "None"))
_LAYOUT = frozenset((tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT))
_VALUE_ENDS = frozenset((")", "]", "}"))
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_KNOWN_ESCAPES = frozenset("\\'\"abfnrtv01234567xNuU\n")


def python_literal(text: str) -> Any:
    """The value of text as a Python literal (dicts, lists, tuples, sets, strings, numbers, True, False, None);
    ValueError for anything else."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text.strip()).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise ValueError(f"not a Python literal: {error}") from None
    previous: Optional[tokenize.TokenInfo] = None
    for token in tokens:
        if not _literal_token(token) or _call_or_subscript(previous, token):
            raise ValueError(f"not a Python literal: {token.string!r}")
        previous = token if token.type not in _LAYOUT else previous
    try:
        return eval(compile(text.strip(), "<printed line>", "eval"), {"__builtins__": {}})
    except (SyntaxError, TypeError, ValueError, IndexError, KeyError, MemoryError, RecursionError) as error:
        raise ValueError(f"not a Python literal: {error}") from None


def _literal_token(token: tokenize.TokenInfo) -> bool:
    if token.type == tokenize.OP:
        return token.string in _OPERATORS
    if token.type == tokenize.NAME:
        return token.string in _NAMES
    if token.type == tokenize.STRING:  # an f-string (one STRING token before Python 3.12) would run code
        prefix = token.string[:len(token.string) - len(token.string.lstrip("bBfFrRuU"))].lower()
        return "f" not in prefix and ("r" in prefix or _known_escapes(token.string))
    return token.type == tokenize.NUMBER or token.type in _LAYOUT


def _known_escapes(string: str) -> bool:
    """An escape Python does not know (`'\\d'`) warns on stderr when compiled (a SyntaxWarning from 3.12), in the
    training's output."""
    return all(escaped in _KNOWN_ESCAPES for escaped in _ESCAPE.findall(string))


def _call_or_subscript(previous: Optional[tokenize.TokenInfo], token: tokenize.TokenInfo) -> bool:
    """`(1)(2)`, `'a'[0]`: never a literal, and compiling it warns on stderr (`'int' object is not callable`)."""
    if previous is None or token.string not in ("(", "["):
        return False
    return previous.type in (tokenize.NUMBER, tokenize.STRING, tokenize.NAME) or previous.string in _VALUE_ENDS
