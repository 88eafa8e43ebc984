"""config.yaml reading, writing and key=value overrides."""
from collections import namedtuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearml_hat.errors import HatError
from clearml_hat.yaml_config import apply_overrides, dump_scalar, load_values, parse_value, render_yaml

Doc = namedtuple("Doc", "key value help choices required note")

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(min_size=1), children, max_size=3),
    max_leaves=6,
)


@given(yaml_values)
def test_dump_then_parse_gives_the_value_back(value):
    assert parse_value(dump_scalar(value)) == value


def test_scientific_notation_is_a_float():
    assert parse_value("1e-3") == 0.001
    assert parse_value("-2E5") == -200000.0


def test_string_that_looks_like_a_float_stays_a_string():
    assert dump_scalar("1e-3") == "'1e-3'"


def test_render_then_load_round_trip(tmp_path):
    docs = [
        Doc("lr", 0.1, "learning rate", None, False, None),
        Doc("img-size", [64, 64], "", None, False, None),
        Doc("weights", None, "initial weights\nsecond line", None, True, None),
        Doc("optimizer", "sgd", "update rule", ["sgd", "adam"], False, None),
        Doc("device", None, "", None, False, "could not be evaluated here: module torch is not installed"),
    ]
    path = tmp_path / "config.yaml"
    path.write_text(render_yaml(docs, "train.py", "config.yaml"))
    assert load_values(path) == {doc.key: doc.value for doc in docs}
    text = path.read_text()
    assert "# Regenerate: python argparse_to_yaml.py --script train.py -o config.yaml" in text
    assert "# required: fill in\nweights: null" in text
    assert "# choices: sgd, adam\noptimizer: sgd" in text
    assert "# could not be evaluated here: module torch is not installed\ndevice: null" in text


def test_missing_yaml_names_the_command_that_writes_it(tmp_path):
    with pytest.raises(HatError, match=r"no such file; write one with `python argparse_to_yaml.py -o"):
        load_values(tmp_path / "nope.yaml")


def test_malformed_yaml_gives_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("epochs: 3\nlr: [0.1\nseed: 1\n")
    with pytest.raises(HatError, match=r"malformed YAML at line 3, column 5"):
        load_values(path)


def test_top_level_list_is_rejected(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(HatError, match="the top level is a list, not a mapping"):
        load_values(path)


def test_empty_yaml_is_no_values(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    assert load_values(path) == {}


def test_overrides_are_typed_by_yaml_rules():
    values = apply_overrides(
        {"epochs": 3, "lr": 0.1, "name": "a", "size": [1, 1], "flag": False},
        ["epochs=5", "lr=1e-3", "name=b c", "size=[64, 32]", "flag=true"],
        ["epochs", "lr", "name", "size", "flag"],
    )
    assert values == {"epochs": 5, "lr": 0.001, "name": "b c", "size": [64, 32], "flag": True}


def test_override_with_empty_value_is_an_empty_string():
    assert apply_overrides({"name": "a"}, ["name="], ["name"]) == {"name": ""}


def test_override_does_not_change_the_input():
    values = {"epochs": 3}
    apply_overrides(values, ["epochs=4"], ["epochs"])
    assert values == {"epochs": 3}


def test_override_without_equals_sign():
    with pytest.raises(HatError, match="has no '='; write it as key=value"):
        apply_overrides({}, ["epochs"], ["epochs"])


def test_override_of_unknown_key_suggests_the_closest():
    with pytest.raises(HatError, match=r"unknown key 'epoch' \(did you mean 'epochs'\?\)"):
        apply_overrides({}, ["epoch=3"], ["epochs", "lr"])
