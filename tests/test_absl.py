"""absl flags scripts under the hat: what tests/exact/absl_train.py's main sees in FLAGS under the hat is what a
bare run with absl's own command line gives: at the defaults, with overrides (`--noflag`, a list, a multi flag, a
float for an integer flag), with YAML edits, on clearml-agent after an edit in a clone. The YAML
shows the script's own flags (not absl's) with their help and enum choices; --check and --print_argv speak the
flag names."""
from __future__ import annotations

import pytest
import yaml

from tests.conftest import run_script
from tests.test_exact import (
    CLONE_AND_EDIT,
    HAT,
    TO_YAML,
    bare,
    print_argv,
    pushed_checkout,
    recorded,
    under_hat,
    write_yaml,
)

pytest.importorskip("absl", reason="absl-py is the absl fixture's own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

SCRIPT = "absl_train.py"


def test_the_yaml_shows_the_scripts_own_flags_with_help_and_enum_choices(work, offline_env):
    text = write_yaml(work, SCRIPT, offline_env)
    assert yaml.safe_load(text) == {
        "workdir": "/tmp/absl_train", "total_steps": 100, "lr": 0.1, "cleanup": True, "optimizer": "sgd",
        "layers": ["64", "32"], "eval_steps": [50, 100], "name": "1e3"}, "absl's own flags are no keys"
    assert "# The optimizer.\n# choices: sgd, adam, lamb\noptimizer: sgd\n" in text
    assert text.startswith("# Training values for absl_train.py, read from its absl flags by clearml-hat.")
    assert "# Peak learning rate.\nlr: 0.1\n" in text
    done = run_script([TO_YAML, "--script", SCRIPT, "--check", "config.yaml"], offline_env, cwd=work)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stdout + done.stderr
    assert print_argv(work, SCRIPT, offline_env) == [], "values left at the defaults are not passed"


def test_flags_of_the_repos_own_modules_are_keys_and_those_of_installed_packages_are_not(work, offline_env):
    (work / "options").mkdir()
    (work / "options" / "__init__.py").write_text(
        "from absl import flags\nflags.DEFINE_integer('batch_size', 32, 'Batch size.')\n")
    # A virtual environment kept inside the repo holds installed packages, not the repo's code.
    installed = work / ".venv" / "lib" / "python3" / "site-packages"
    installed.mkdir(parents=True)
    (installed / "vendor_lib.py").write_text("from absl import flags\nflags.DEFINE_bool('vendor_debug', False, 'x')\n")
    (work / "split_train.py").write_text(
        "import sys\nsys.path.append('.venv/lib/python3/site-packages')\nimport vendor_lib\nimport options\n"
        "from absl import app, flags\nflags.DEFINE_string('workdir', 'out', 'Output.')\n"
        "if __name__ == '__main__':\n    app.run(lambda argv: print(flags.FLAGS.batch_size))\n")
    assert yaml.safe_load(write_yaml(work, "split_train.py", offline_env)) == {"batch_size": 32, "workdir": "out"}


def test_a_script_that_parses_flags_itself_is_read_at_that_parse_without_training(work, offline_env):
    (work / "self_parse_train.py").write_text(
        "import sys\nfrom absl import flags\nflags.DEFINE_integer('steps', 10, 'Steps.')\nflags.FLAGS(sys.argv)\n"
        "raise SystemExit('the training must not run during capture')\n")
    assert yaml.safe_load(write_yaml(work, "self_parse_train.py", offline_env)) == {"steps": 10}


def test_overrides_and_yaml_edits_give_what_absls_own_command_line_gives(work, offline_env):
    write_yaml(work, SCRIPT, offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("optimizer: sgd", "optimizer: adam").replace("cleanup: true",
                                                                                              "cleanup: false"))
    assert print_argv(work, SCRIPT, offline_env) == ["--nocleanup", "--optimizer=adam"]
    # One run for both (each run costs seconds): the YAML's edits, and overrides of other flags on top.
    overrides = ["total_steps=5.0", "lr=1", "layers=[8, 16]", "eval_steps=[1, 2, 3]", "name=no"]
    argv = ["--total_steps=5", "--lr=1.0", "--nocleanup", "--optimizer=adam", "--layers=8,16", "--eval_steps=1",
            "--eval_steps=2", "--eval_steps=3", "--name=no"]
    assert print_argv(work, SCRIPT, offline_env, *overrides) == argv
    got = under_hat(work, SCRIPT, overrides, offline_env)
    assert got == bare(work, SCRIPT, argv, offline_env)
    assert (got["total_steps"], got["lr"], got["cleanup"]) == (["int", "5"], ["float", "1.0"], ["bool", "False"])
    assert (got["layers"], got["eval_steps"], got["name"]) == (
        ["list", "['8', '16']"], ["list", "[1, 2, 3]"], ["str", "'no'"])
    assert got["optimizer"] == ["str", "'adam'"]


def test_check_names_an_unknown_flag_a_wrong_type_a_bad_choice_and_a_missing_value(work, offline_env):
    (work / "strict_train.py").write_text(
        "from absl import app, flags\n"
        "flags.DEFINE_string('data_dir', None, 'Where the data is.', required=True)\n"
        "flags.DEFINE_integer('seed', 0, 'Seed.')\n"
        "flags.DEFINE_enum('optimizer', 'sgd', ['sgd', 'adam'], 'Optimizer.')\n"
        "if __name__ == '__main__':\n    app.run(lambda argv: None)\n")
    write_yaml(work, "strict_train.py", offline_env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("seed: 0", "seed: many").replace("optimizer: sgd", "optimiser: adam"))
    done = run_script([TO_YAML, "--script", "strict_train.py", "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: data_dir: --data_dir is a required flag and has no value; give one",
        "config.yaml: seed: --seed cannot take 'many' (invalid literal for int() with base 10: 'many'); give a value "
        "of type int",
        "config.yaml: optimiser: the script defines no such absl flag; did you mean 'optimizer'?"]
    write_yaml(work, SCRIPT, offline_env)
    for override, line in [("optimizer=rmsprop", "optimizer: 'rmsprop' is no choice of --optimizer; choose one of "
                                                 "sgd, adam, lamb"),
                           ('layers=[a, "b,c"]', "layers: absl splits 'a,b,c' into ['a', 'b', 'c']; an item cannot "
                                                 "hold a comma")]:
        failed = run_script([HAT, "--script", SCRIPT, "--print_argv", override], offline_env, cwd=work)
        assert failed.returncode == 2
        assert failed.stderr.strip().splitlines() == [f"hat.py: error: {line}"]


def test_defaults_run_as_bare_and_values_edited_in_a_clone_reach_the_agents_run(tmp_path, work, clearml_server,
                                                                                   real_agent):
    write_yaml(work, SCRIPT, clearml_server.env)
    pushed_checkout(work, tmp_path)
    record = tmp_path / "run.json"
    done = run_script([str(work / "hat.py"), "--script", SCRIPT], {**clearml_server.env, "RECORD": str(record)},
                      cwd=work)
    assert done.returncode == 0, done.stderr
    assert recorded(record) == bare(work, SCRIPT, [], clearml_server.env)
    (first,) = clearml_server.standin.tasks()
    assert sorted(first["hyperparams"]) == ["hat", "train_args"], "ClearML's absl binding (TF_DEFINE) stays off"
    # With that binding on, the agent's run saw none of the script's flags and failed.
    edit = run_script(["-c", CLONE_AND_EDIT.replace(
        '{"train_args/config.optim.lr": 0.5}',
        '{"train_args/lr": 0.7, "train_args/cleanup": False, "train_args/layers": "[\'8\', \'16\']", '
        '"train_args/eval_steps": "[5]"}'), first["id"]], clearml_server.env)
    assert edit.returncode == 0, edit.stderr
    clone_id = edit.stdout.strip().splitlines()[-1]
    real_agent.env["RECORD"] = str(record)
    with real_agent.daemon("compute") as daemon:
        clone = daemon.wait_for(clone_id)
    assert clone["status"] == "completed", daemon.log()
    got = recorded(record)
    assert got == bare(work, SCRIPT, ["--lr=0.7", "--nocleanup", "--layers=8,16", "--eval_steps=5"],
                       clearml_server.env)
    assert (got["lr"], got["layers"], got["eval_steps"]) == (["float", "0.7"], ["list", "['8', '16']"],
                                                              ["list", "[5]"])
