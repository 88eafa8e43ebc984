"""config.yaml reading, writing and key=value overrides."""
from collections import namedtuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import apply_overrides, dump_scalar, load_values, parse_value, render_yaml

Doc = namedtuple("Doc", "key value help choices required note")

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(min_size=1), children, max_size=3),
    max_leaves=6,
)


def same_typed(a, b) -> bool:
    """Equal and of the same types all the way down: True is not 1, 1.0 is not 1, '1' is not 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_typed(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_typed(a[k], b[k]) for k in a)
    return a == b


@given(yaml_values)
def test_dump_then_parse_gives_the_value_back(value):
    assert same_typed(parse_value(dump_scalar(value)), value)


@pytest.mark.parametrize("value, text", [(True, "true"), (False, "false"), (1, "1"), (1.0, "1.0"), ("1", "'1'"),
                                         ("no", "'no'"), (None, "null")])
def test_bools_numbers_and_look_alike_strings_are_written_apart(value, text):
    assert dump_scalar(value) == text


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
    assert "# Regenerate: python -m clearml_hat yaml --script train.py -o config.yaml" in text
    assert "# required: fill in\nweights: null" in text
    assert "# choices: sgd, adam\noptimizer: sgd" in text
    assert "# could not be evaluated here: module torch is not installed\ndevice: null" in text


def test_missing_yaml_names_the_command_that_writes_it_in_any_repo_with_the_hat(tmp_path):
    # `python -m clearml_hat` runs wherever clearml_hat/ is, an init'd repo too (it has no argparse_to_yaml.py).
    with pytest.raises(HatError, match=r"no such file; write one with `python -m clearml_hat yaml --script <your "
                                       r"script> -o .*nope.yaml`"):
        load_values(tmp_path / "nope.yaml")


def test_a_folder_given_as_the_yaml_is_named_as_a_folder(tmp_path):
    with pytest.raises(HatError, match=r"is a folder, not a YAML file; give the file in it \(e.g. .*config.yaml\)"):
        load_values(tmp_path)


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


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "\n\n"])
def test_empty_yaml_is_reported_with_the_command_that_fills_it(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(HatError, match=r"empty\.yaml: the file has no values; write them with `python -m "
                                       r"clearml_hat yaml --script <your script> -o "):
        load_values(path)


def test_duplicate_key_is_reported_with_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("lr: 0.1\nepochs: 3\n# again\nlr: 0.2\n")
    with pytest.raises(HatError, match=r"key 'lr' appears twice \(lines 1 and 4\); keep one of them"):
        load_values(path)


def test_duplicate_key_inside_a_dict_value_is_reported(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("opts:\n  a: 1\n  a: 2\n")
    with pytest.raises(HatError, match=r"key 'a' appears twice \(lines 2 and 3\)"):
        load_values(path)


def test_missing_space_after_colon_points_at_its_own_line_not_the_comment_after_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("# header\nlr: 0.1\n# epochs\nepochs:20\n# a comment\nseed: 0\n")
    with pytest.raises(HatError, match=r"line 4, column 1 \(a `key: value` line needs a space after the colon\)"):
        load_values(path)


def test_error_at_the_end_of_the_file_points_at_the_last_line_with_text(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 3\nsize: [1, 2\n# trailing comment\n\n")
    with pytest.raises(HatError, match=r"malformed YAML at line 2, column 1"):
        load_values(path)


def test_text_keys_keep_the_text_yaml_would_retype(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("mixed_precision: no\ncountry: NO\nversion: 1.10\nnames: [off, 1.10, 'x']\nresume: null\n"
                    "plain: no\nlevel: 3\n")
    values = load_values(path, text_keys=["mixed_precision", "country", "version", "names", "resume", "level"])
    assert values == {"mixed_precision": "no", "country": "NO", "version": "1.10", "names": ["off", "1.10", "x"],
                      "resume": None, "plain": False, "level": "3"}


def test_overrides_are_typed_by_yaml_rules():
    values = apply_overrides(
        {"epochs": 3, "lr": 0.1, "name": "a", "size": [1, 1], "flag": False},
        ["epochs=5", "lr=1e-3", "name=b c", "size=[64, 32]", "flag=true"],
        ["epochs", "lr", "name", "size", "flag"],
    )
    assert values == {"epochs": 5, "lr": 0.001, "name": "b c", "size": [64, 32], "flag": True}


def test_override_with_empty_value_is_null_as_in_the_yaml():
    assert apply_overrides({"epochs": 3, "name": "a"}, ["epochs=", "name="], ["epochs", "name"]) == \
        {"epochs": None, "name": None}


def test_override_of_a_text_key_keeps_the_text():
    values = apply_overrides({}, ["country=NO", "version=1.10", "tags=[no, 2.0]", "lr=1.10"],
                             ["country", "version", "tags", "lr"], text_keys=["country", "version", "tags"])
    assert values == {"country": "NO", "version": "1.10", "tags": ["no", "2.0"], "lr": 1.1}


def test_override_with_an_incomplete_value_is_one_line():
    with pytest.raises(HatError, match=r"^override 'img_size=\[32,': '\[32,' is not a complete YAML value \(.*\); "
                                       r"complete it \(a list is written \[32, 32\]\) or quote it$"):
        apply_overrides({}, ["img_size=[32,"], ["img_size"])


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
