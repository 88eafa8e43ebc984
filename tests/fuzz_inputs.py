"""Damaged YAML files and overrides, generated with hypothesis, and the oracle every refusal must pass.

Shared by tests/test_fuzz_inputs.py and benchmarks/fuzz_inputs.py. A generated input starts from VALID_YAML, the
config of TARGET_SCRIPT, and gets one to three kinds of damage: a key deleted or written twice, a value of the
wrong type, broken syntax (`key:value`, an unclosed bracket, a tab), huge numbers (decimal and hex), values nested
1000 levels deep, 10k-character strings, unicode and control characters, a BOM, a file that is empty, only
comments, not a mapping, a top-level `!!set` or not UTF-8. Overrides get
`key=`, `=v`, no `=`, unknown keys and incomplete YAML.

The oracle: the hat either accepts (a list of strings its parser reads back) or refuses with a HatError whose every
line names a key, a line number or the file; anything else raised is a crash, a traceback the user would see.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Sequence, Union

from hypothesis import strategies as st

from clearml_hat.config.argparser.system import ArgparseSystem
from clearml_hat.config.job import load_job_values, make_command
from clearml_hat.config.system import defaults_of
from clearml_hat.errors import HatError

# The kinds of option real scripts have: int, float, text with and without choices, a fixed-length list, an
# open list, a flag, a store_false with its own dest, a required value and a float defaulting to None.
TARGET_SCRIPT = '''\
import argparse


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"], help="update rule")
    parser.add_argument("--img_size", type=int, nargs=2, default=[16, 16], help="width and height")
    parser.add_argument("--tags", nargs="*", default=[], help="labels of the run")
    parser.add_argument("--augment", action="store_true", help="mirror images")
    parser.add_argument("--no_shuffle", dest="shuffle", action="store_false", help="keep the file order")
    parser.add_argument("--name", default="run", help="run name")
    parser.add_argument("--dropout", type=float, default=None, help="dropout rate")
    parser.add_argument("--data", required=True, help="data folder")
    parser.parse_args(args)
    raise SystemExit("training must not start while inputs are checked")


if __name__ == "__main__":
    main()
'''

VALID_LINES = [
    "# Training values for train.py",
    "epochs: 3",
    "lr: 0.1",
    "# choices: sgd, adam",
    "optimizer: sgd",
    "img_size: [16, 16]",
    "tags: []",
    "augment: false",
    "shuffle: true",
    "name: run",
    "dropout: null",
    "data: /data",
]
VALID_YAML = "\n".join(VALID_LINES) + "\n"
KEYS = ["epochs", "lr", "optimizer", "img_size", "tags", "augment", "shuffle", "name", "dropout", "data"]

# Values of every type and size, written as YAML text: each one is wrong for some key and right for others.
HUGE_INT = "9" * 5000  # more digits than Python 3.11 turns into an int by default (4300)
HUGE_HEX = "0x" + "f" * 4400  # YAML reads it without that limit; the int cannot be written out again
DEEP_LIST = "[" * 1000 + "]" * 1000  # PyYAML's composer recurses per level
DEEP_MAPPING = "{a: " * 1000 + "1" + "}" * 1000
VALUE_TEXTS = [
    "3", "-1", "0", "5.5", "1e1", "1e-3", "1e999", "-.inf", ".nan", HUGE_INT, HUGE_HEX, "0x1F", "0o17", "1_000",
    DEEP_LIST, DEEP_MAPPING,
    "yes", "no", "off", "~", "null", "''", '""', "true", "False",
    "[1, 2]", "[1, 2, 3]", "[]", "{}", "{a: 1}", "[[1], [2]]", "[a, b]", "[1, x]",
    "x" * 10_000, "'" + "y" * 10_000 + "'", "é漢字🙂", "'\\u0007'", '"\\x00\\t\\u2028"', "-", "--epochs", "-5",
    "2024-01-01", "2024-01-01T10:00:00", "!!binary aGVsbG8=", "!!set {a, b}", "!!python/object/apply:os.system [ls]",
    "!!str 3", "!!int x", "!!float abc", "!!timestamp x", "&a [1, 2]", "&r [*r]", "[*r]", "*undefined",
    "|\n  block text", ">\n  folded", "=",
    "'unterminated", '"unterminated', "[1, 2", "{a: 1", "a: b", "@reserved", "`tick", "%percent", "? x",
]
# Aliases of aliases: ten to the ninth items once expanded ("billion laughs"), from a few hundred bytes.
LAUGHS = "laugh0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"laugh{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
TEXT_CHARS = st.characters(blacklist_categories=("Cs",))  # any code point UTF-8 can hold, controls included


@st.composite
def damaged_yaml(draw: st.DrawFn) -> Union[str, bytes]:
    """VALID_YAML with one to three kinds of damage; bytes when the damage is not expressible as text."""
    lines = list(VALID_LINES)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(LINE_DAMAGE))
        lines = kind(draw, lines)
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    return draw(st.sampled_from(FILE_DAMAGE))(draw, text)


def _index(draw: st.DrawFn, lines: List[str]) -> int:
    return draw(st.integers(0, max(len(lines) - 1, 0)))


def _value(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(VALUE_TEXTS))
    text = draw(st.text(TEXT_CHARS, max_size=30))
    return draw(st.sampled_from([text, repr(text), '"' + text + '"']))


def _key(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(KEYS)) if draw(st.booleans()) else draw(st.one_of(
        st.sampled_from(["epoch", "learning_rate", "1", "null", "true", "[a]", "? [a, b]", "{x: 1}", "'epochs'",
                         "<<", "k" * 10_000, "é", "a b", "-x"]),
        st.text(TEXT_CHARS, min_size=1, max_size=12),
    ))


def _delete(draw: st.DrawFn, lines: List[str]) -> List[str]:
    if lines:
        del lines[_index(draw, lines)]
    return lines


def _duplicate(draw: st.DrawFn, lines: List[str]) -> List[str]:
    line = lines[_index(draw, lines)] if lines else "epochs: 3"
    lines.insert(_index(draw, lines) + 1, line if draw(st.booleans()) else line.split(":")[0] + ": " + _value(draw))
    return lines


def _retype(draw: st.DrawFn, lines: List[str]) -> List[str]:
    lines.insert(_index(draw, lines), f"{draw(st.sampled_from(KEYS))}: {_value(draw)}")
    return [line for i, line in enumerate(lines) if i == 0 or line.split(":")[0] != lines[0].split(":")[0]] \
        if draw(st.booleans()) else lines


def _unknown(draw: st.DrawFn, lines: List[str]) -> List[str]:
    lines.insert(_index(draw, lines), f"{_key(draw)}: {_value(draw)}")
    return lines


def _break_syntax(draw: st.DrawFn, lines: List[str]) -> List[str]:
    i = _index(draw, lines)
    line = lines[i] if lines else "epochs: 3"
    broken = draw(st.sampled_from([
        line.replace(": ", ":", 1), line + " [", line + " {", "\t" + line, "  " + line, line + ": x", "- " + line,
        line + " #", line.split(":")[0], ": " + line, line + "\n  - nested", '"' + line, line.replace(":", " =", 1),
        "---\n" + line, line + "\n...", "%YAML 1.1\n" + line, line + " &a", line + " *a",
    ]))
    lines[i:i + 1] = [broken]
    return lines


def _unicode(draw: st.DrawFn, lines: List[str]) -> List[str]:
    i = _index(draw, lines)
    text = draw(st.text(TEXT_CHARS, min_size=1, max_size=8))
    line = lines[i] if lines else ""
    at = draw(st.integers(0, len(line)))
    lines[i:i + 1] = [line[:at] + text + line[at:]]
    return lines


LINE_DAMAGE = [_delete, _duplicate, _retype, _unknown, _break_syntax, _unicode]


def _as_is(draw: st.DrawFn, text: str) -> str:
    return text


FILE_DAMAGE = [
    _as_is, _as_is, _as_is, _as_is, _as_is,
    lambda draw, text: "",
    lambda draw, text: "# only a comment\n\n# and another\n",
    lambda draw, text: "\ufeff" + text,
    lambda draw, text: text.replace("\n", "\r\n"),
    lambda draw, text: draw(st.sampled_from(["- 1\n- 2\n", "just text\n", "42\n", "[a, b]\n", "null\n", "~\n"])),
    lambda draw, text: text.encode("utf-8") + b"\nname: caf\xe9\n",  # latin-1 bytes in a UTF-8 file
    lambda draw, text: b"\xff\xfe" + text.encode("utf-16-le"),  # saved as UTF-16 by an editor
    lambda draw, text: text + "\x00",
    lambda draw, text: text * draw(st.integers(2, 3)),  # pasted twice: every key a duplicate
    lambda draw, text: text + LAUGHS,
    lambda draw, text: "!!set\n" + "".join(f"? {line.split(':')[0]}\n" for line in text.splitlines() if ":" in line),
]


@st.composite
def damaged_overrides(draw: st.DrawFn, for_a_command_line: bool = False) -> List[str]:
    """Zero to three `key=value` overrides, some damaged. for_a_command_line: no NUL, which argv cannot hold."""
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        key, value = _key(draw), _value(draw)
        item = draw(st.sampled_from([
            f"{key}={value}", f"{key}=", f"={value}", key, "=", f" {key} = {value}", f"{key}=={value}",
            f"{draw(st.sampled_from(KEYS))}={value}",
        ]))
        if for_a_command_line:
            item = item.replace("\x00", "")
        overrides.append(item)
    return overrides


@dataclass
class Outcome:
    accepted: bool
    lines: List[str]  # the argv when accepted, else the refusal's lines
    warnings: List[str]


def write_input(path: Path, content: Union[str, bytes]) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))


def run_job(parser: argparse.ArgumentParser, yaml_path: Path, overrides: Sequence[str]) -> Outcome:
    """What `hat.py --print_argv` does after reading the parser: load, override, check, build argv. Exceptions other
    than HatError propagate: they are the crashes this module hunts."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            system = ArgparseSystem(parser)
            command, _ = make_command(system, load_job_values(system, yaml_path, overrides), defaults_of(system))
            argv = command.argv
        except HatError as error:
            return Outcome(False, str(error).splitlines(), stderr.getvalue().splitlines())
    return Outcome(True, argv, stderr.getvalue().splitlines())


def run_check(parser: argparse.ArgumentParser, yaml_path: Path) -> Outcome:
    """What `argparse_to_yaml.py --check` does after reading the parser."""
    system = ArgparseSystem(parser)
    try:
        values = load_job_values(system, yaml_path)
    except HatError as error:
        return Outcome(False, str(error).splitlines(), [])
    problems, warnings = system.check(values)
    return Outcome(not problems, problems, warnings)


_LINE = re.compile(r"\bline \d+\b|\blines \d+ and \d+\b")
# What may concern the file as a whole, without a line: there is no line to point at.
WHOLE_FILE = ("the file has no values", "the top level is a", "no such file")


def names_the_problem(line: str, yaml_path: Path, keys: Iterable[str]) -> bool:
    """A refusal line must say where to look: a line of the file, a key (as written, or its repr), or the file
    itself for what concerns it whole (empty, not a mapping)."""
    if _LINE.search(line):
        return True
    if line.startswith(f"{yaml_path}: ") and any(phrase in line for phrase in WHOLE_FILE):
        return True
    return any(key and (key in line or repr(key)[1:-1] in line) for key in keys)


def keys_in(content: Union[str, bytes], overrides: Sequence[str]) -> List[str]:
    """Every key the input could be talking about: the parser's, the file's top-level keys, the overrides'."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    written = [line.split(":")[0].strip().lstrip("\ufeff") for line in text.splitlines() if ":" in line]
    return KEYS + written + [item.partition("=")[0].strip() for item in overrides] + list(overrides)
