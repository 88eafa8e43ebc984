"""click and typer scripts under the hat: what tests/exact/click_train.py (a click command) and
tests/exact/typer_train.py (a typer app with Annotated options and an Enum) receive under the hat is what a bare
run with click's own command line gives: at the defaults, with `key=value` overrides (dashed names, a flag pair,
a plain flag, nargs, multiple, a Choice, a positional starting with a dash), with YAML edits. --check and
--print_argv speak click's parameter names; a local sweep trial gets its value."""
from __future__ import annotations

import os
from pathlib import Path

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

pytest.importorskip("click", reason="click is the click fixture's own dependency (requirements-dev.txt)")
pytest.importorskip("typer", reason="typer is the typer fixture's own dependency (requirements-dev.txt)")
pytestmark = pytest.mark.clearml

CLICK = "click_train.py"
TYPER = "typer_train.py"


def test_the_yaml_shows_click_defaults_help_choices_and_the_required_option(work, offline_env):
    text = write_yaml(work, CLICK, offline_env)
    assert yaml.safe_load(text) == {
        "data_dir": "data", "learning_rate": 0.1, "epochs": 20, "batch_size": 64, "optimizer": "sgd",
        "shuffle": True, "fp16": False, "betas": [0.9, 0.999], "layers": [64, 32], "run_name": None, "seed": None}
    assert "read from its click command" in text.splitlines()[0]
    assert "# update rule\n# choices: sgd, adam, adamw\noptimizer: sgd\n" in text
    assert "# name of the run in the logs\n# required: fill in\nrun_name: null\n" in text
    text = write_yaml(work, TYPER, offline_env)
    assert yaml.safe_load(text) == {
        "data_dir": "data", "learning_rate": 0.1, "epochs": 20, "optimizer": "sgd", "shuffle": True,
        "layer": [64, 32], "betas": [0.9, 0.999], "seed": None}, "typer's completion options are no keys"
    assert "# update rule\n# choices: sgd, adam, adamw\noptimizer: sgd\n" in text


def test_click_overrides_and_a_yaml_edit_resolve_as_clicks_own_command_line(work, offline_env):
    write_yaml(work, CLICK, offline_env)
    # At the defaults only the required value is passed.
    assert print_argv(work, CLICK, offline_env, "run_name=base") == ["--run-name=base"]
    assert under_hat(work, CLICK, ["run_name=base"], offline_env) == bare(work, CLICK, ["--run-name", "base"],
                                                                            offline_env)

    # A YAML edit and overrides together: 30.0 for an int option is 30, `no` for a text option stays text.
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("epochs: 20", "epochs: 30.0").replace("run_name: null",
                                                                                        "run_name: 'no'"))
    overrides = ["learning_rate=-0.5", "shuffle=false", "fp16=true", "betas=[0.5,0.6]", "layers=[8,8,8]",
                 "optimizer=adam", "data_dir=-data", "seed=3"]
    native = ["-l", "-0.5", "--no-shuffle", "--fp16", "--betas", "0.5", "0.6", "--layer", "8", "--layer", "8",
              "--layer", "8", "--optimizer", "adam", "--run-name", "no", "--epochs", "30", "--seed", "3", "--",
              "-data"]
    assert print_argv(work, CLICK, offline_env, *overrides) == [
        "--learning-rate=-0.5", "--epochs=30", "--optimizer=adam", "--no-shuffle", "--fp16", "--betas", "0.5",
        "0.6", "--layer", "8", "--layer", "8", "--layer", "8", "--run-name=no", "--seed=3", "--", "-data"]
    got = under_hat(work, CLICK, overrides, offline_env)
    assert got == bare(work, CLICK, native, offline_env)
    assert (got["learning_rate"], got["data_dir"], got["betas"], got["epochs"], got["run_name"]) == (
        ["float", "-0.5"], ["str", "'-data'"], ["tuple", "(0.5, 0.6)"], ["int", "30"], ["str", "'no'"])


def test_typer_overrides_and_a_yaml_edit_resolve_as_typers_own_command_line(work, offline_env):
    write_yaml(work, TYPER, offline_env)
    assert print_argv(work, TYPER, offline_env) == [], "at the defaults nothing is passed: typer's own defaults"
    assert under_hat(work, TYPER, [], offline_env) == bare(work, TYPER, [], offline_env)

    config = work / "config.yaml"
    config.write_text(config.read_text().replace("optimizer: sgd", "optimizer: adamw").replace(
        "layer: [64, 32]", "layer: [16]"))
    overrides = ["shuffle=false", "learning_rate=1", "betas=[0.5,0.6]", "data_dir=images"]
    native = ["images", "--learning-rate", "1", "--optimizer", "adamw", "--no-shuffle", "--layer", "16",
              "--betas", "0.5", "0.6"]
    assert print_argv(work, TYPER, offline_env, *overrides) == [
        "--learning-rate=1.0", "--optimizer=adamw", "--no-shuffle", "--layer", "16", "--betas", "0.5", "0.6",
        "images"]
    got = under_hat(work, TYPER, overrides, offline_env)
    assert got == bare(work, TYPER, native, offline_env)
    assert (got["optimizer"], got["layer"], got["learning_rate"], got["data_dir"]) == (
        ["Optimizer", "<Optimizer.adamw: 'adamw'>"], ["list", "[16]"], ["float", "1.0"], ["PosixPath",
                                                                                          "PosixPath('images')"])


def test_a_count_feature_switches_a_choice_and_a_variadic_positional_give_clicks_own_values(work, offline_env):
    script = "click_flags_train.py"
    text = write_yaml(work, script, offline_env)
    assert yaml.safe_load(text) == {"verbose": 0, "precision": "fp32", "scheduler": "cosine", "shards": []}
    assert "# choices: fp16, bf16, fp32\nprecision: fp32\n" in text
    argv = print_argv(work, script, offline_env, "verbose=2", "precision=bf16", "scheduler=LINEAR",
                      "shards=[a.tar,-b.tar]")
    assert argv == ["--verbose", "--verbose", "--bf16", "--scheduler=LINEAR", "--", "a.tar", "-b.tar"]
    got = bare(work, script, argv, offline_env)  # the hat's argv, judged by the script itself
    assert got == bare(work, script, ["-vv", "--bf16", "--scheduler", "linear", "--", "a.tar", "-b.tar"],
                       offline_env)
    assert (got["precision"], got["scheduler"]) == (["str", "'bf16'"], ["str", "'linear'"])
    failed = run_script([HAT, "--script", script, "--print_argv", "precision=int8"], offline_env, cwd=work)
    assert failed.stderr.strip() == ("hat.py: error: precision: 'int8' is no flag's value (--fp16, --bf16, "
                                     "--fp32); choose one of fp16, bf16, fp32")


def test_check_names_an_unknown_key_a_wrong_type_a_bad_choice_and_a_missing_required_value(work, offline_env):
    text = write_yaml(work, CLICK, offline_env)
    (work / "config.yaml").write_text(text.replace("learning_rate:", "learning_rat:").replace(
        "epochs: 20", "epochs: many").replace("optimizer: sgd", "optimizer: adagrad"))
    done = run_script([TO_YAML, "--script", CLICK, "--check", "config.yaml"], offline_env, cwd=work)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "config.yaml: learning_rat: the click command has no such parameter; did you mean 'learning_rate'?",
        "config.yaml: epochs: 'many' is not a valid integer (--epochs); give a value of that type",
        "config.yaml: optimizer: 'adagrad' is not one of 'sgd', 'adam', 'adamw' (--optimizer); choose one of "
        "sgd, adam, adamw",
        "config.yaml: run_name: the script requires a value (--run-name); give one"]
    write_yaml(work, TYPER, offline_env)
    for override, line in [
        ("epochs=0", "epochs: Input should be greater than or equal to 1 (--epochs); give a value of that type"),
        ("shuffle=maybe", "shuffle: 'maybe' is not true or false (--shuffle/--no-shuffle is a flag); give true or "
                          "false"),
        ("layer=3", "layer: 3 is one value where --layer takes a list; give a list"),
    ]:
        failed = run_script([HAT, "--script", TYPER, "--print_argv", override], offline_env, cwd=work)
        assert failed.returncode == 2
        assert failed.stderr.strip().splitlines() == [f"hat.py: error: {line}"]


def test_a_click_groups_subcommand_is_the_command_key_and_its_options_reach_it(work, offline_env):
    script = "click_group_train.py"
    text = write_yaml(work, script, offline_env)
    assert yaml.safe_load(text) == {"seed": 0, "command": None, "batch_size": None, "checkpoint": "last.pt",
                                    "lr": 0.1, "amp": False}
    assert "# null: each subcommand's own default (evaluate: 64, fit: 32)\nbatch_size: null\n" in text
    assert "# with command: fit, also set: lr, batch_size, amp\n" in text
    argv = print_argv(work, script, offline_env, "command=fit", "seed=3", "lr=0.5", "amp=true")
    assert argv == ["--seed=3", "fit", "--lr=0.5", "--amp"]
    got = bare(work, script, argv, offline_env)  # the hat's argv, judged by the script itself
    assert got == bare(work, script, ["--seed", "3", "fit", "--lr", "0.5", "--amp"], offline_env)
    assert got["batch_size"] == ["int", "32"], "fit's own default, not evaluate's"
    argv = print_argv(work, script, offline_env, "command=evaluate", "checkpoint=-best.pt", "batch_size=8")
    assert bare(work, script, argv, offline_env) == bare(
        work, script, ["evaluate", "--batch-size", "8", "--", "-best.pt"], offline_env)
    for override, line in [
        ("seed=1", "command: a subcommand is required; set it to one of evaluate, fit"),
        ("command=fit lr=0.5 checkpoint=x.pt", "checkpoint: belongs to subcommand 'evaluate', which is not chosen; "
                                               "set command: evaluate or leave checkpoint at its default"),
    ]:
        failed = run_script([HAT, "--script", script, "--print_argv", *override.split()], offline_env, cwd=work)
        assert failed.stderr.strip() == f"hat.py: error: {line}"


def test_a_group_of_groups_and_a_script_without_a_command_are_refused_and_capture_never_trains(tmp_path,
                                                                                               offline_env):
    (tmp_path / "train.py").write_text(
        "import click\n\n@click.group()\ndef cli():\n    pass\n\n@cli.group()\ndef db():\n    pass\n\n"
        "@db.command()\ndef migrate():\n    open('trained', 'w').close()\n\nif __name__ == '__main__':\n    cli()\n")
    done = run_script([TO_YAML, "--script", "train.py"], offline_env, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, (
        "argparse_to_yaml.py: error: train.py: db is a group of its own (or the group chains its commands); the "
        "hat runs a command or a group of commands: give --script a script that invokes one\n"))
    (tmp_path / "flat.py").write_text("import click\nclick.echo('training')\nopen('trained', 'w').close()\n")
    done = run_script([TO_YAML, "--script", "flat.py"], offline_env, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, (
        "argparse_to_yaml.py: error: flat.py imports click but makes no command (@click.command, typer.Typer, "
        "typer.run), so there are no options to read; give its options to a click command\n"))
    assert not (tmp_path / "trained").exists(), "neither capture ran a training"


def test_a_local_sweep_over_a_click_option_gives_the_trial_its_value(tmp_path, work, clearml_server):
    write_yaml(work, CLICK, clearml_server.env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("run_name: null", "run_name: sweep"))
    pushed_checkout(work, tmp_path)
    (work / "sweep.yaml").write_text("objective: val_acc\ngoal: max\nstrategy: grid\nparameters:\n"
                                     "  learning_rate: [0.5]\n")
    result = run_script([str(work / "hat.py"), "--script", CLICK, "--sweep", "sweep.yaml", "--local",
                         "--best_yaml", str(tmp_path / "best.yaml")], clearml_server.env, cwd=work, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = Path(result.stdout.split("consoles are in ")[1].split("/<task id>.log")[0])
    printed = sorted(line[line.index("sweep: "):] for log in logs.glob("*.log")
                     for line in log.read_text().splitlines() if "sweep: " in line)
    # ClearML's click binding, left on, would hand the trial the default 0.1 (and the hat's parse-back fails).
    assert printed == ["sweep: sgd lr 0.5 for 20 epochs on data"]
    assert yaml.safe_load((tmp_path / "best.yaml").read_text())["learning_rate"] == 0.5


def test_torchrun_ranks_of_a_click_script_get_the_values_against_a_server(work, clearml_server):
    pytest.importorskip("torch", reason="--nproc_per_node starts torchrun")
    write_yaml(work, CLICK, clearml_server.env)
    record = work / "rank.json"
    done = run_script([HAT, "--script", CLICK, "--nproc_per_node", "2", "run_name=ddp", "learning_rate=0.3"],
                      {**clearml_server.env, "RECORD": str(record)}, cwd=work, timeout=240)
    # Each rank attaches to the task (CLEARML_TASK_ID); ClearML's click binding, left on, fails the parse there.
    assert done.returncode == 0, done.stdout + done.stderr
    lines = sorted(line for line in done.stdout.splitlines() if ":ddp: " in line)
    assert lines == ["[rank0]:ddp: sgd lr 0.3 for 20 epochs on data", "[rank1]:ddp: sgd lr 0.3 for 20 epochs on data"]
    assert recorded(record) == bare(work, CLICK, ["--run-name", "ddp", "-l", "0.3"], clearml_server.env)

@pytest.mark.skipif(os.environ.get("HAT_TEST_CLICK_AGENT") != "1",
                    reason="opt-in (HAT_TEST_CLICK_AGENT=1): two real agent runs, 35-40 s, over the suite's budget")
def test_values_edited_in_a_clone_reach_the_click_script_on_the_agent(tmp_path, work, clearml_server, real_agent):
    write_yaml(work, CLICK, clearml_server.env)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("run_name: null", "run_name: remote"))
    pushed_checkout(work, tmp_path)
    record = tmp_path / "agent.json"
    real_agent.env["RECORD"] = str(record)
    done = run_script([str(work / "hat.py"), "--script", CLICK, "--remote", "learning_rate=0.3", "layers=[4]"],
                      clearml_server.env, cwd=work)
    assert done.returncode == 0, done.stderr
    (first,) = clearml_server.standin.tasks()
    shown = {name: p["value"] for name, p in first["hyperparams"]["train_args"].items()}
    assert (shown["learning_rate"], shown["layers"], shown["shuffle"]) == ("0.3", "[4]", "True")
    assert real_agent.execute(first["id"]).returncode == 0
    assert recorded(record) == bare(work, CLICK, ["--run-name", "remote", "-l", "0.3", "--layer", "4"],
                                    clearml_server.env)

    # ClearML's click binding, left on, would hand the agent's run every default instead.
    edit = run_script(["-c", CLONE_AND_EDIT.replace('{"train_args/config.optim.lr": 0.5}', (
        '{"train_args/epochs": 7, "train_args/shuffle": False, "train_args/layers": [1, 2]}')), first["id"]],
        clearml_server.env)
    assert edit.returncode == 0, edit.stderr
    with real_agent.daemon("compute") as daemon:
        clone = daemon.wait_for(edit.stdout.strip().splitlines()[-1])
    assert clone["status"] == "completed", daemon.log()
    got = recorded(record)
    assert got == bare(work, CLICK, ["--run-name", "remote", "-l", "0.3", "--layer", "1", "--layer", "2",
                                     "--epochs", "7", "--no-shuffle"], clearml_server.env)
    assert (got["epochs"], got["shuffle"], got["layers"]) == (["int", "7"], ["bool", "False"], ["tuple", "(1, 2)"])
