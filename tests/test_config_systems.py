"""What works for argparse works for every other config system too: `--nproc_per_node 2` against a server (each
torchrun rank attaches to the task, where ClearML's own bindings of these systems would hand the script the task's
`Args` instead of its command line) and `clearml-hat init` run twice (the YAML written, the user's edits kept).
One case per system whose own test file does not have it; each judged by the fixture's record against a bare run
with the system's native command line. And a fire script on the real agent: ClearML's fire binding, bound
when clearml is imported where a task id is set, failed its parse there."""
from __future__ import annotations

import json
from typing import List, NamedTuple

import pytest
import yaml

from tests.conftest import clean_env, run_script
from tests.test_exact import CLONE_AND_EDIT, HAT, bare, pushed_checkout, recorded, write_yaml
from tests.test_init import init

pytestmark = pytest.mark.clearml


class Case(NamedTuple):
    package: str
    script: str
    override: str  # key=value under the hat
    native: List[str]  # the same change on the system's own command line
    printed: str  # what each rank prints when it got the value


CASES = [
    Case("tyro", "tyro_nested_train.py", "optimizer.lr=0.5", ["--optimizer.lr", "0.5"], "loss: "),
    Case("jsonargparse", "jsonargparse_train.py", "optim.lr=0.5", ["--optim.lr", "0.5"], ": lr 0.5 for "),
    Case("fire", "fire_train.py", "lr=0.5", ["--lr=0.5"], " lr 0.5 for "),
    Case("absl", "absl_train.py", "lr=0.5", ["--lr=0.5"], " lr 0.5 for "),
]


@pytest.mark.parametrize("case", CASES, ids=[case.package for case in CASES])
def test_torchrun_ranks_get_the_values_against_a_server(work, clearml_server, case):
    pytest.importorskip(case.package)
    pytest.importorskip("torch", reason="--nproc_per_node starts torchrun")
    write_yaml(work, case.script, clearml_server.env)
    record = work / "rank.json"
    done = run_script([HAT, "--script", case.script, "--nproc_per_node", "2", case.override],
                      {**clearml_server.env, "RECORD": str(record)}, cwd=work, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    ranks = {line.split("]:")[0] for line in done.stdout.splitlines() if case.printed in line}
    assert ranks == {"[rank0", "[rank1"}, done.stdout
    assert recorded(record) == bare(work, case.script, case.native, clearml_server.env)


INIT_CASES = CASES + [
    Case("typer", "typer_train.py", "learning_rate=0.5", [], ""),
]


@pytest.mark.parametrize("case", INIT_CASES, ids=[case.package for case in INIT_CASES])
def test_init_writes_the_yaml_and_run_again_keeps_an_edited_value(work, case):
    pytest.importorskip(case.package)
    repo = work.parent / "repo"
    work.rename(repo)
    assert init(repo, "--script", case.script).returncode == 0
    config = repo / "config.yaml"
    key, value = case.override.split("=")
    edited = yaml.safe_load(config.read_text())
    parent = edited
    for part in key.split(".")[:-1]:
        parent = parent[part]
    parent[key.split(".")[-1]] = float(value)
    text = config.read_text()  # edited as a user would, comments kept
    leaf = key.split(".")[-1]
    old = [line for line in text.splitlines() if line.strip().startswith(f"{leaf}:")][0]
    config.write_text(text.replace(old + "\n", f"{old.split(':')[0]}: {value}\n", 1))
    again = init(repo, "--script", case.script)
    assert again.returncode == 0, again.stderr
    assert yaml.safe_load(config.read_text()) == edited
    env = {**clean_env(repo.parent / "home"), "PYTHONPATH": ""}
    argv = run_script([str(repo / "hat.py"), "--print_argv"], env, cwd=repo)
    assert argv.returncode == 0, argv.stderr
    assert "0.5" in " ".join(json.loads(argv.stdout)), argv.stdout


def test_a_fire_scripts_values_edited_in_a_clone_reach_the_agents_run(tmp_path, work, clearml_server, real_agent):
    pytest.importorskip("fire")
    write_yaml(work, "fire_train.py", clearml_server.env)
    pushed_checkout(work, tmp_path)
    record = tmp_path / "run.json"
    done = run_script([str(work / "hat.py"), "--script", "fire_train.py", "lr=0.5"],
                      {**clearml_server.env, "RECORD": str(record)}, cwd=work)
    assert done.returncode == 0, done.stderr
    (first,) = clearml_server.standin.tasks()
    edit = run_script(["-c", CLONE_AND_EDIT.replace(
        '{"train_args/config.optim.lr": 0.5}', '{"train_args/lr": 0.7, "train_args/num_epochs": 9}'), first["id"]],
        clearml_server.env)
    assert edit.returncode == 0, edit.stderr
    real_agent.env["RECORD"] = str(record)
    with real_agent.daemon("compute") as daemon:
        clone = daemon.wait_for(edit.stdout.strip().splitlines()[-1])
    assert clone["status"] == "completed", daemon.log()
    assert recorded(record) == bare(work, "fire_train.py", ["--lr=0.7", "--num_epochs=9"], clearml_server.env)
