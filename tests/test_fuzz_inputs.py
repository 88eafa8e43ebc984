"""Bad input, generated: damaged YAML files and overrides (tests/fuzz_inputs.py) never crash the hat.

In-process, many examples through the library (load, override, check, argv); a few through the real commands,
`hat.py --print_argv` and `argparse_to_yaml.py --check`, as subprocesses. Every run is derandomized: the same
examples each time, so a failure is a bug in the hat (or the oracle), never a bad draw. The inputs that crashed the
hat before its fixes are pinned below, one test each. benchmarks/fuzz_inputs.py runs thousands and counts them.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from clearml_hat.config.argparser.argv import parse_strictly
from clearml_hat.config.argparser.capture import capture_parser
from clearml_hat.errors import HatError
from clearml_hat.values.yaml_config import load_values, parse_value
from tests import fuzz_inputs as fuzz
from tests.conftest import REPO, run_script


# Generated inputs are large (10k-character values) and the subprocess test is slow per example by nature.
def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    script = folder / "train.py"
    script.write_text(fuzz.TARGET_SCRIPT)
    return script, capture_parser(script), folder / "c.yaml"


def assert_named(outcome: fuzz.Outcome, yaml_path: Path, content, overrides) -> None:
    keys = fuzz.keys_in(content, overrides)
    unnamed = [line for line in outcome.lines if not fuzz.names_the_problem(line, yaml_path, keys)]
    assert outcome.lines and not unnamed, f"refusal names no key or line: {unnamed or outcome.lines}"


def test_the_valid_config_is_accepted(target):
    script, parser, yaml_path = target
    fuzz.write_input(yaml_path, fuzz.VALID_YAML)
    outcome = fuzz.run_job(parser, yaml_path, ["epochs=5"])
    # Values at the script's defaults are left out: its own defaults apply.
    assert outcome.accepted and outcome.lines == ["--epochs", "5", "--data", "/data"]
    assert fuzz.run_check(parser, yaml_path).accepted


@fuzz_settings(400)
@given(content=fuzz.damaged_yaml(), overrides=fuzz.damaged_overrides())
def test_damaged_input_is_accepted_or_refused_by_name_never_crashes(target, content, overrides):
    script, parser, yaml_path = target
    fuzz.write_input(yaml_path, content)
    job = fuzz.run_job(parser, yaml_path, overrides)  # any exception but HatError fails here
    if job.accepted:
        assert all(isinstance(item, str) for item in job.lines)
        parse_strictly(parser, job.lines)  # the script's own parser takes it
    else:
        assert_named(job, yaml_path, content, overrides)
    check = fuzz.run_check(parser, yaml_path)
    if not check.accepted:
        assert_named(check, yaml_path, content, [])


def command_env(offline_env):
    return {**offline_env, "PYTHONIOENCODING": "utf-8"}


def assert_clean_refusal(stream: str, prefix: str, yaml_path: Path, content, overrides) -> None:
    lines = [line for line in stream.splitlines() if ": warning: " not in line]
    assert lines, "a refusal without a message"
    assert all(line.startswith(prefix) for line in lines), stream
    assert_named(fuzz.Outcome(False, [line[len(prefix):] for line in lines], []), yaml_path, content, overrides)


@fuzz_settings(12)
@given(content=fuzz.damaged_yaml(), overrides=fuzz.damaged_overrides(for_a_command_line=True))
def test_the_commands_refuse_damaged_input_in_one_line_each(tmp_path, offline_env, content, overrides):
    env = command_env(offline_env)
    (tmp_path / "train.py").write_text(fuzz.TARGET_SCRIPT)
    yaml_path = tmp_path / "c.yaml"
    fuzz.write_input(yaml_path, content)

    hat = run_script([str(REPO / "hat.py"), "--script", "train.py", "--train_yaml", "c.yaml", "--print_argv", "--",
                      *overrides], env, cwd=tmp_path)
    assert "Traceback" not in hat.stdout + hat.stderr
    assert hat.returncode in (0, 2), hat.stderr
    if hat.returncode == 0:
        assert all(isinstance(item, str) for item in json.loads(hat.stdout))
    else:
        assert_clean_refusal(hat.stderr, "hat.py: error: ", Path("c.yaml"), content, overrides)

    check = run_script([str(REPO / "argparse_to_yaml.py"), "--script", "train.py", "--check", "c.yaml"], env,
                       cwd=tmp_path)
    assert "Traceback" not in check.stdout + check.stderr
    assert check.returncode in (0, 1, 2), check.stderr
    if check.returncode == 1:
        assert_clean_refusal(check.stdout, "c.yaml: ", Path("c.yaml"), content, [])
    if check.returncode == 2:
        assert_clean_refusal(check.stderr, "argparse_to_yaml.py: error: ", Path("c.yaml"), content, [])
    assert (yaml_path.read_bytes() == (content if isinstance(content, bytes) else content.encode("utf-8"))), \
        "the YAML was changed"
    cache = Path(env["CLEARML_CACHE_DIR"])
    assert not cache.exists() or not any(cache.iterdir()), "a ClearML session was started"


# --- The inputs that crashed the hat before its fixes (clearml_hat/values/yaml_config.py), one each ---

@pytest.mark.parametrize("text, message", [
    (b"data: caf\xe9\n", "line 1 is not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    (b"\xff\xfed\x00:\x00", "line 1 is not UTF-8 text (byte 0xff)"),
    # Python's own words (3.11: "Exceeds the limit (4300 digits)", 3.8.18: "Exceeds the limit (4300) for ...").
    ("data: d\nepochs: " + "9" * 5000 + "\n", "line 2: epochs: Exceeds the limit (4300"),
    ("data: d\nlr: =\n", "line 2: lr: could not determine a constructor"),
    ("data: d\nepochs: !!int x\n", "line 2: epochs: invalid literal for int()"),
    ("data: d\nwhen: !!timestamp x\n", "line 2: when: "),
    ("data: d\nlr: !!python/object/apply:os.system [ls]\n", "line 2: lr: could not determine a constructor"),
    ("data: d\n{x: 1}: 2\n", "line 2: a key is a mapping"),
    ("data: d\n? [a, b]\n: 1\n", "line 2: a key is a list"),
    ("data: d\ntags: &r [*r]\n", "line 2: tags: the value contains itself"),
    ("data: d\n" + fuzz.LAUGHS, "laugh4: the aliases expand to more than 100000 items"),
    ("data: d\nname: '\x07'\n", "line 2: unacceptable character #x0007"),
    ("data: d\ntags: " + fuzz.DEEP_LIST + "\n", "line 2, column 106: the value nests more than 100 levels deep"),
    ("data: d\ntags: " + fuzz.DEEP_MAPPING + "\n", "line 2, column 403: the value nests more than 100 levels deep"),
    ("data: d\nepochs: " + fuzz.HUGE_HEX + "\n", "line 2: epochs: an integer too long for Python to write out"),
    ("!!set\n? data\n? epochs\n", "the top level is a !!set, not a mapping of values"),
])
def test_unreadable_yaml_is_one_line_naming_where(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    fuzz.write_input(path, text)
    with pytest.raises(HatError) as raised:
        load_values(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("key", ["0", "null", "true", "1.5"])
def test_a_key_that_yaml_would_read_as_a_number_or_null_is_a_name(tmp_path, key):
    path = tmp_path / "c.yaml"
    path.write_text(f"{key}: 1\n")
    assert load_values(path) == {key: 1}


@pytest.mark.parametrize("text, message", [
    ("=", "'=' cannot be read as a YAML value (could not determine a constructor"),
    ("!!int x", "'!!int x' cannot be read as a YAML value (invalid literal for int()"),
    ("&r [*r]", "'&r [*r]': the value contains itself"),
    (fuzz.DEEP_LIST, f"{fuzz.DEEP_LIST!r} is not a complete YAML value (the value nests more than 100 levels deep)"),
    (fuzz.HUGE_HEX, "'0xffffffffffffffffffffffffffffffffffffff'...: an integer too long for Python to write out"),
])
def test_unreadable_override_value_is_one_line(text, message):
    with pytest.raises(HatError) as raised:
        parse_value(text)
    assert str(raised.value).startswith(message)


def test_override_with_nothing_before_the_equals_sign_says_so(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(fuzz.TARGET_SCRIPT))
    (tmp_path / "c.yaml").write_text("data: d\n")
    result = run_script([str(REPO / "hat.py"), "--script", "train.py", "--train_yaml", "c.yaml", "--print_argv",
                         "=3"], offline_env, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2, "hat.py: error: override '=3' has no key before '='; write it as key=value, e.g. epochs=5\n")
