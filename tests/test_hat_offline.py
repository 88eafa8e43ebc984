"""End to end: the real scripts in fresh processes, ClearML in offline mode (no configuration at all)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, run_script

pytestmark = pytest.mark.clearml


def offline_sessions(env: dict) -> list:
    folder = Path(env["CLEARML_CACHE_DIR"]) / "offline"
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def session_log(session: Path) -> str:
    return "".join(event["msg"] for line in (session / "log.jsonl").open() for event in json.loads(line))


def write_config(tmp_path: Path, env: dict, script: str = "train_aip.py") -> Path:
    config = tmp_path / "config.yaml"
    result = run_script(["argparse_to_yaml.py", "--script", script, "-o", str(config)], env)
    assert result.returncode == 0, result.stderr
    return config


def test_offline_run_records_train_args_and_trains_with_them(tmp_path, offline_env):
    config = write_config(tmp_path, offline_env)
    out = tmp_path / "out"
    result = run_script(
        ["hat.py", "--train_yaml", str(config), "epochs=3", "lr=0.05", f"output_dir={out}", "img_size=[12, 10]"],
        offline_env,
    )
    assert result.returncode == 0, result.stderr
    assert "running in ClearML offline mode" in result.stderr
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith("hat.py: offline session: ") and "clearml-task --import-offline-session" in last_line
    session_zip = Path(last_line.split()[3].rstrip(";"))
    assert session_zip.is_file()

    (session,) = offline_sessions(offline_env)
    task = json.loads((session / "task.json").read_text())
    train_args = {name: p["value"] for name, p in task["hyperparams"]["train_args"].items()}
    assert train_args["epochs"] == "3"
    assert train_args["lr"] == "0.05"
    assert train_args["img_size"] == "[12, 10]"
    assert train_args["optimizer"] == "sgd"
    assert "Args" not in task["hyperparams"]
    assert task["hyperparams"]["hat"]["script"]["value"] == "train_aip.py"

    (artifact,) = task["execution"]["artifacts"]
    assert artifact["key"] == "output" and "weights.npy" in artifact["type_data"]["preview"]
    assert "epoch 3/3 loss" in session_log(session)

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["args"]["epochs"] == 3
    assert metrics["args"]["lr"] == 0.05
    assert metrics["args"]["img_size"] == [12, 10]
    assert "epoch 3/3 loss" in result.stdout


def test_print_argv_prints_one_json_array_and_starts_no_task(tmp_path, offline_env):
    config = write_config(tmp_path, offline_env)
    args = ["hat.py", "--train_yaml", str(config), "--print_argv", "augment=true", "epochs=7"]
    result = run_script(args, offline_env)
    assert result.returncode == 0, result.stderr
    argv = json.loads(result.stdout.strip().splitlines()[-1])
    assert argv[argv.index("--epochs") + 1] == "7"
    assert "--augment" in argv
    assert "--img_size" not in argv, "a value at the script's default is left to the script"
    assert offline_sessions(offline_env) == []


def test_unmodified_script_runs_as_main(tmp_path, offline_env):
    config = write_config(tmp_path, offline_env, script="train_ori.py")
    out = tmp_path / "out_ori"
    result = run_script(
        ["hat.py", "--script", "train_ori.py", "--train_yaml", str(config), "epochs=2", f"output_dir={out}"],
        offline_env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "metrics.json").read_text())["args"]["epochs"] == 2


def test_config_yaml_in_the_repo_is_what_argparse_to_yaml_writes(tmp_path, offline_env):
    config = write_config(tmp_path, offline_env)
    assert config.read_text().replace(str(config), "config.yaml") == (REPO / "config.yaml").read_text()


def test_dict_of_numbers_returned_by_main_becomes_single_values(tmp_path, offline_env):
    script = tmp_path / "train_metrics.py"
    script.write_text(textwrap.dedent("""
        import argparse
        def main(args=None):
            parser = argparse.ArgumentParser()
            parser.add_argument("--scale", type=float, default=1.0)
            scale = parser.parse_args(args).scale
            return {"accuracy": 0.5 * scale, "loss": 2 * scale}
    """))
    (tmp_path / "c.yaml").write_text("scale: 3.0\n")
    result = run_script(["hat.py", "--script", str(script), "--train_yaml", str(tmp_path / "c.yaml")], offline_env)
    assert result.returncode == 0, result.stderr
    (session,) = offline_sessions(offline_env)
    events = [e for line in (session / "metrics.jsonl").open() for e in json.loads(line)]
    reported = {e["variant"]: e["value"] for e in events if e["type"] == "training_stats_scalar"}
    assert reported == {"accuracy": 1.5, "loss": 6.0}


def test_exception_in_training_is_shown_as_is_and_exits_1(tmp_path, offline_env):
    script = tmp_path / "train_crash.py"
    script.write_text(textwrap.dedent("""
        import argparse
        def main(args=None):
            parser = argparse.ArgumentParser()
            parser.add_argument("--n", type=int, default=1)
            print("training with", parser.parse_args(args).n)
            raise ValueError("boom in training")
    """))
    (tmp_path / "c.yaml").write_text("n: 2\n")
    result = run_script(["hat.py", "--script", str(script), "--train_yaml", str(tmp_path / "c.yaml")], offline_env)
    assert result.returncode == 1
    assert "training with 2" in result.stdout
    assert 'train_crash.py", line 7, in main' in result.stderr
    assert "ValueError: boom in training" in result.stderr
    (session,) = offline_sessions(offline_env)
    assert "ValueError: boom in training" in session_log(session)


def test_the_printed_import_command_brings_the_session_into_a_server(tmp_path, offline_env, clearml_server):
    config = write_config(tmp_path, offline_env)
    result = run_script(["hat.py", "--train_yaml", str(config), "epochs=2", f"output_dir={tmp_path / 'out'}"],
                        offline_env)
    assert result.returncode == 0, result.stderr
    command = result.stdout.strip().splitlines()[-1].split("import it with: ")[1].split()
    assert command[:2] == ["clearml-task", "--import-offline-session"]
    clearml_task = str(Path(sys.executable).with_name("clearml-task"))
    imported = subprocess.run([clearml_task, *command[1:]], env=clearml_server.env, capture_output=True, text=True,
                              timeout=120)
    assert imported.returncode == 0, imported.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "completed"
    assert task["hyperparams"]["train_args"]["epochs"]["value"] == "2"
    assert [a["key"] for a in task["execution"]["artifacts"]] == ["output"]
    log = "\n".join(event["msg"] for event in clearml_server.standin.events(task["id"], "log"))
    assert "epoch 2/2 loss" in log
