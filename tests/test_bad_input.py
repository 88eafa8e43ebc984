"""Bad input: one line naming the problem and the fix, a non-zero exit, no traceback, no task, nothing lost."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from clearml_hat.config.detect import SUPPORTED
from tests.conftest import REPO, run_script

PARSER_SCRIPT = """
import argparse
def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--data", required=True)
    parser.parse_args(args)
    raise SystemExit("training must not start on bad input")
if __name__ == "__main__":
    main()
"""

# (name, files to write, hat.py arguments, what the one line must say)
CASES = [
    ("missing yaml", {}, ["--train_yaml", "nope.yaml"], "nope.yaml: no such file"),
    ("malformed yaml", {"c.yaml": "epochs: 3\ndata: [a\n"}, [], "malformed YAML at line 2, column 1"),
    ("top level not a mapping", {"c.yaml": "- 1\n- 2\n"}, [], "the top level is a list, not a mapping"),
    ("unknown key", {"c.yaml": "epoch: 3\ndata: d\n"}, [], "epoch: unknown key; did you mean 'epochs'?"),
    ("type rejects value", {"c.yaml": "epochs: many\ndata: d\n"}, [], "epochs: 'many' cannot be given"),
    ("invalid choice", {"c.yaml": "optimizer: adamw\ndata: d\n"}, [], "optimizer: 'adamw' is not one of the choices"),
    ("required value missing", {"c.yaml": "epochs: 3\ndata: null\n"}, [], "data: a value is required"),
    ("override without =", {"c.yaml": "data: d\n"}, ["epochs"], "override 'epochs' has no '='"),
    ("override of unknown key", {"c.yaml": "data: d\n"}, ["epoch=4"], "unknown key 'epoch' (did you mean 'epochs'?)"),
    ("script not found", {"c.yaml": "data: d\n"}, ["--script", "gone.py"], "training script not found"),
    ("script without parser", {"c.yaml": "data: d\n", "plain.py": "print('hi')\n"}, ["--script", "plain.py"],
     "never uses argparse.ArgumentParser"),
    ("script with syntax error", {"c.yaml": "data: d\n", "broken.py": "import argparse\ndef f(:\n"},
     ["--script", "broken.py"], "broken.py:2:7: syntax error"),
    ("incomplete override", {"c.yaml": "data: d\n"}, ["data=[32,"],
     "override 'data=[32,': '[32,' is not a complete YAML value"),
    ("no space after a colon", {"c.yaml": "# lr\nepochs:20\n# data\ndata: d\n"}, [],
     "malformed YAML at line 2, column 1 (a `key: value` line needs a space after the colon)"),
    ("duplicate key", {"c.yaml": "epochs: 2\ndata: d\nepochs: 3\n"}, [], "key 'epochs' appears twice (lines 1 and 3)"),
    ("empty yaml", {"c.yaml": "# nothing\n"}, [], "c.yaml: the file has no values"),
    ("fraction for an int option", {"c.yaml": "epochs: 5.5\ndata: d\n"}, [],
     "epochs: 5.5 cannot be given on the command line (the option takes whole numbers (type=int))"),
]


@pytest.mark.parametrize("name, files, args, message", CASES, ids=[case[0] for case in CASES])
def test_hat_rejects_bad_input_in_one_line(tmp_path, offline_env, name, files, args, message):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    for file_name, text in files.items():
        (tmp_path / file_name).write_text(text)
    before = {p.name: p.read_text() for p in tmp_path.iterdir() if p.is_file()}
    command = [str(REPO / "hat.py"), "--script", "train.py", "--train_yaml", "c.yaml", *args]
    result = run_script(command, offline_env, cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hat.py: error: ") and message in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (Path(offline_env["CLEARML_CACHE_DIR"]) / "offline").exists(), "a ClearML task was started"
    assert {p.name: p.read_text() for p in tmp_path.iterdir() if p.is_file()} == before


def test_check_reports_every_problem_then_exits_1(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    (tmp_path / "c.yaml").write_text("epoch: 3\noptimizer: adamw\ndata: null\n")
    result = run_script([str(REPO / "argparse_to_yaml.py"), "--script", "train.py", "--check", "c.yaml"],
                        offline_env, cwd=tmp_path)
    assert result.returncode == 1
    report = result.stdout
    assert "epoch: unknown key; did you mean 'epochs'?" in report
    assert "optimizer: 'adamw' is not one of the choices" in report
    assert "data: a value is required" in report
    assert "Traceback" not in result.stderr


def test_check_says_ok_for_a_valid_yaml(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    (tmp_path / "c.yaml").write_text("epochs: 5\noptimizer: adam\ndata: /data\n")
    result = run_script([str(REPO / "argparse_to_yaml.py"), "--script", "train.py", "--check", "c.yaml"],
                        offline_env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "ok\n")


def test_argparse_to_yaml_keeps_an_edited_yaml_as_backup(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    (tmp_path / "config.yaml").write_text("epochs: 99  # my edit\n")
    result = run_script([str(REPO / "argparse_to_yaml.py"), "--script", "train.py"], offline_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "config.yaml.bak").read_text() == "epochs: 99  # my edit\n"
    assert "epochs: 3" in (tmp_path / "config.yaml").read_text()


def test_empty_override_is_the_scripts_default_not_a_contradiction(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    (tmp_path / "c.yaml").write_text("epochs: 5\ndata: d\n")
    result = run_script([str(REPO / "hat.py"), "--script", "train.py", "--train_yaml", "c.yaml", "--print_argv",
                         "epochs="], offline_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--epochs" not in result.stdout and "--data" in result.stdout


def test_whole_float_for_an_int_option_reaches_the_script_as_that_int(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    (tmp_path / "c.yaml").write_text("epochs: 1e1\ndata: d\n")
    result = run_script([str(REPO / "hat.py"), "--script", "train.py", "--train_yaml", "c.yaml", "--print_argv"],
                        offline_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"--epochs", "10"' in result.stdout


def test_argparse_to_yaml_into_a_missing_folder_is_one_line(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    result = run_script([str(REPO / "argparse_to_yaml.py"), "--script", "train.py", "-o", "nodir/x.yaml"],
                        offline_env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("argparse_to_yaml.py: error: nodir/x.yaml: the folder nodir does not exist; create it "
                             "or give -o a file in an existing folder\n")


@pytest.mark.parametrize("script, message", [("gone.py", "training script not found"),
                                             ("plain.py", "never uses argparse.ArgumentParser")])
def test_argparse_to_yaml_rejects_bad_scripts_in_one_line(tmp_path, offline_env, script, message):
    (tmp_path / "plain.py").write_text("print('hi')\n")
    result = run_script([str(REPO / "argparse_to_yaml.py"), "--script", script], offline_env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert not (tmp_path / "config.yaml").exists()


def test_print_argv_and_check_never_import_clearml(tmp_path, offline_env):
    (tmp_path / "train.py").write_text(textwrap.dedent(PARSER_SCRIPT))
    (tmp_path / "c.yaml").write_text("data: /data\n")
    probe = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from clearml_hat.cli import main, script_main
        assert script_main("run", "hat.py", ["--script", "train.py", "--train_yaml", "c.yaml", "--print_argv"]) == 0
        assert main(["yaml", "--script", "train.py", "--check", "c.yaml"]) == 0
        print(sorted(name for name in sys.modules if name.split(".")[0] == "clearml"))
    """)
    result = run_script(["-c", probe], offline_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['["--data", "/data"]', "ok", "[]"]


@pytest.mark.parametrize("source, system", [
    ("import draccus\nfrom dataclasses import dataclass\n@dataclass\nclass Cfg:\n    lr: float = 0.1\n"
     "@draccus.wrap()\ndef main(cfg: Cfg):\n    pass\nmain()\n", "draccus"),
    ("import draccus\nfrom dataclasses import dataclass\n@dataclass\nclass Args:\n    lr: float = 0.1\n"
     "args = draccus.parse(Args)\n", "draccus"),
])
def test_a_script_on_an_unsupported_config_system_is_named_in_one_line(tmp_path, offline_env, source, system):
    (tmp_path / "train.py").write_text(source)
    result = run_script([str(REPO / "argparse_to_yaml.py"), "--script", "train.py"], offline_env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"argparse_to_yaml.py: error: train.py parses its options with {system}, which the "
                             f"hat does not support yet; supported: {SUPPORTED}\n")


@pytest.mark.parametrize("script, module, message", [
    ("fire_train.py", "fire", "parses its options with fire, which is not installed here; pip install fire"),
    ("tyro_train.py", "tyro", "parses its options with tyro, which is not installed here; pip install tyro"),
    ("absl_train.py", "absl", "parses its options with absl, which is not installed here; pip install absl-py"),
    ("hydra_train.py", "hydra", "parses its options with hydra, which is not installed here; pip install hydra-core"),
])
def test_a_config_system_missing_here_is_named_with_its_install_command(monkeypatch, script, module, message):
    from clearml_hat.config.systems import capture_config_system
    from clearml_hat.errors import HatError

    monkeypatch.setitem(sys.modules, module, None)  # what `import fire` meets where fire is not installed
    path = REPO / "tests" / "exact" / script
    with pytest.raises(HatError) as error:
        capture_config_system(path)
    assert str(error.value) == f"{path} {message}"
