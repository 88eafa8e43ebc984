"""Printed Python literals read without the ast module (the printed-metrics reader's thread must never parse)."""
import ast
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearml_hat.local.metrics import make_reader
from clearml_hat.local.python_literal import python_literal

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
LITERALS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4),
    max_leaves=12,
)


@given(LITERALS)
def test_what_repr_prints_reads_back_as_literal_eval_reads_it(value):
    assert python_literal(repr(value)) == ast.literal_eval(repr(value)) == value


@pytest.mark.parametrize("line", [
    "{'loss': 0.52, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': 1.0}",
    '{"eval_loss": -0.25, "eval_runtime": 1.2, "epoch": 2.0, "note": None, "ok": True}',
    "{'path': 'C:\\\\data\\\\x', 'raw': r'\\d+', 'shape': (3, 224, 224), 'ids': [1, -2], 'b': b'\\x00'}",
])
def test_literals_of_printed_lines(line):
    assert python_literal(line) == ast.literal_eval(line)


@pytest.mark.parametrize("text", [
    "Namespace(lr=0.1, epochs=20)",  # a name, a call
    "{'loss': nan}",  # a name Python prints for a float, which literal_eval refuses too
    "(1)(2)", "'abc'[0]", "{'a': 1}['a']",  # a call or subscript of a literal: compiling it warns
    "'a' * 10 ** 9", "2 ** 10 ** 10",  # operators that compute
    "f'{__import__(\"os\").getcwd()}'",
    "{'a': 'C:\\data'}",  # an escape Python does not know: compiling it warns
    "{'loss': 0.5", "", "lambda: 0", "[x for x in ()]",
])
def test_anything_else_is_a_value_error_that_prints_nothing(text, capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError):
            python_literal(text)
    assert capfd.readouterr() == ("", "")


def parsing_fails(*args, **kwargs):
    raise SystemError("AST constructor recursion depth mismatch (before=30, after=24)")


def test_the_printed_metrics_reader_never_parses_python(monkeypatch):
    # It runs in a thread beside the training and ClearML's requirements detection: Python 3.11's ast.parse in two
    # threads at once can fail in either.
    reader = make_reader("auto")
    assert reader is not None
    with monkeypatch.context() as patch:  # undone before the asserts: pytest parses to report a failure
        patch.setattr(ast, "parse", parsing_fails)
        lines = ["{'train_loss': 0.5, 'val_acc': 0.75, 'step': 30}",  # a dict of the script's own
                 "{'loss': 0.52, 'learning_rate': 5e-05, 'epoch': 0.5, 'step': 40}"]  # a Hugging Face Trainer's
        metrics = [metric for line in lines for metric in reader.read(line)] + reader.finish()
    assert [(metric.name, metric.value, metric.iteration) for metric in metrics] == [
        ("train_loss", 0.5, 30), ("val_acc", 0.75, 30), ("train_loss", 0.52, 40), ("train_learning_rate", 5e-05, 40)]
