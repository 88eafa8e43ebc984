"""The hat's speed-ups lose nothing: hat.py reports through a thread instead of the SDK's default subprocess
(`report_use_subprocess: false`), so every console line, single value and artifact must still arrive, offline and
against a server, and no process the hat started may outlive it.
"""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tests.conftest import REPO, run_script

pytestmark = pytest.mark.clearml

EPOCHS = 40
VALUES = {"accuracy": 0.875, "loss": 0.03125, "epochs_run": float(EPOCHS)}
ARTIFACT_FILE, ARTIFACT_TEXT = "model.txt", "weights of the overhead check\n"

# Reports nothing itself: one line per epoch, the last line right before main returns (the line most at risk).
TRAIN_SCRIPT = textwrap.dedent(f"""
    import argparse
    import os

    def main(args=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--output_dir", default="")
        args = parser.parse_args(args)
        for epoch in range(args.epochs):
            print(f"overhead check epoch {{epoch + 1}}/{{args.epochs}} loss {{1.0 / (epoch + 1):.6f}}")
        if args.output_dir:
            os.makedirs(args.output_dir, exist_ok=True)
            with open(os.path.join(args.output_dir, {ARTIFACT_FILE!r}), "w") as f:
                f.write({ARTIFACT_TEXT!r})
            print("overhead check: wrote", args.output_dir)
            return args.output_dir
        print("overhead check: done")
        return {VALUES!r}
""")


def expected_lines(variant: str, output_dir: Path) -> List[str]:
    lines = [f"overhead check epoch {e}/{EPOCHS} loss {1.0 / e:.6f}" for e in range(1, EPOCHS + 1)]
    return lines + [f"overhead check: wrote {output_dir}" if variant == "artifact" else "overhead check: done"]


def prepare_run(tmp_path: Path, variant: str, env: Dict[str, str]) -> Tuple[List[str], List[str], Path]:
    """hat.py's arguments for the variant, the console lines the training prints, and its output folder."""
    out = tmp_path / "out"
    if variant == "train_aip":
        bare = run_script(["train_aip.py", "--epochs", "3", "--output_dir", str(tmp_path / "bare")], env)
        assert bare.returncode == 0, bare.stderr
        return ["hat.py", "epochs=3", f"output_dir={out}"], bare.stdout.splitlines(), out
    script = tmp_path / "train_check.py"
    script.write_text(TRAIN_SCRIPT)
    config = tmp_path / "c.yaml"
    config.write_text(f"epochs: {EPOCHS}\n" + (f"output_dir: {out}\n" if variant == "artifact" else ""))
    return ["hat.py", "--script", str(script), "--train_yaml", str(config)], expected_lines(variant, out), out


def assert_recorded(variant: str, log_text: str, lines: List[str], values: Dict[str, float], archive: bytes) -> None:
    logged = set(log_text.splitlines())
    missing = [line for line in lines if line not in logged]
    assert not missing, f"{len(missing)} of {len(lines)} console lines not recorded, first: {missing[:3]}"
    if variant == "values":
        assert values == VALUES
    if variant == "artifact":
        assert zipfile.ZipFile(io.BytesIO(archive)).read(ARTIFACT_FILE).decode() == ARTIFACT_TEXT
    if variant == "train_aip":
        assert {"weights.npy", "metrics.json"} <= set(zipfile.ZipFile(io.BytesIO(archive)).namelist())


def single_values(events: List[dict]) -> Dict[str, float]:
    return {e["variant"]: e["value"] for e in events if e.get("type") == "training_stats_scalar"}


def output_artifact(task: dict) -> dict:
    artifacts = task["execution"].get("artifacts") or []
    outputs = [a for a in artifacts if a["key"] == "output"]
    assert len(outputs) == 1, f"expected one artifact named output, the task has: {artifacts}"
    return outputs[0]


@pytest.mark.parametrize("variant", ["values", "artifact", "train_aip"])
def test_offline_session_keeps_every_line_value_and_artifact(tmp_path, offline_env, variant):
    args, lines, out = prepare_run(tmp_path, variant, offline_env)
    result = run_script(args, offline_env)
    assert result.returncode == 0, result.stderr
    (session,) = (Path(offline_env["CLEARML_CACHE_DIR"]) / "offline").glob("*/task.json")
    session = session.parent

    # The SDK groups lines into one msg, with or without the last newline: joined with "\n", no two lines merge.
    log_text = "\n".join(e["msg"] for row in (session / "log.jsonl").open() for e in json.loads(row))
    metrics = session / "metrics.jsonl"
    events = [e for row in metrics.open() for e in json.loads(row)] if metrics.is_file() else []
    task = json.loads((session / "task.json").read_text())
    archive = b""
    if variant != "values":
        archive_path = Path(output_artifact(task)["uri"])
        assert session in archive_path.parents  # inside the session, so the import uploads it
        archive = archive_path.read_bytes()
    assert_recorded(variant, log_text, lines, single_values(events), archive)


@pytest.mark.parametrize("variant", ["values", "artifact", "train_aip"])
def test_server_task_keeps_every_line_value_and_artifact(tmp_path, clearml_server, variant):
    args, lines, out = prepare_run(tmp_path, variant, clearml_server.env)
    result = run_script(args, clearml_server.env)
    assert result.returncode == 0, result.stderr
    standin = clearml_server.standin
    (task,) = standin.tasks()
    assert task["status"] == "completed"

    log_text = "\n".join(e["msg"] for e in standin.events(task["id"], "log"))
    archive = b""
    if variant != "values":
        uri = output_artifact(task)["uri"]
        assert uri.startswith(standin.files_url)
        archive = standin.file(uri[len(standin.files_url):])
    events = standin.events(task["id"], "training_stats_scalar")
    assert_recorded(variant, log_text, lines, single_values(events), archive)


def live_group_members(pgid: int) -> List[str]:
    """Processes of a process group that still run ("pid state cmdline"). A zombie has exited already and
    only waits for init to reap it, so it does not count."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(f"{stat.parent.name} {fields[0]} {cmdline.strip()}")
    return members


def leftovers_after(args: List[str], env: Dict[str, str], output: Path, grace: float = 2.0) -> List[str]:
    """Run `python <args>` as the leader of its own process group, wait for it, then give its group `grace`
    seconds to empty; returns what still runs (and kills it, so a failing test leaves nothing behind).

    The output goes to a file, not a pipe: a leftover holding the pipe would keep a pipe reader waiting."""
    with output.open("w") as log:
        child = subprocess.Popen(
            [sys.executable, *args], cwd=REPO, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            assert child.wait(timeout=120) == 0, output.read_text()
            deadline = time.monotonic() + grace
            while live_group_members(child.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            return live_group_members(child.pid)
        finally:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc (Linux)")


@needs_proc
def test_leftover_detection_sees_a_process_that_outlives_its_parent(tmp_path, offline_env):
    script = tmp_path / "spawn.py"
    script.write_text("import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])")
    (left,) = leftovers_after([str(script)], offline_env, tmp_path / "output.txt", grace=0.5)
    assert "time.sleep(60)" in left


@needs_proc
def test_offline_run_leaves_no_process_behind(tmp_path, offline_env):
    args = ["hat.py", "epochs=1", f"output_dir={tmp_path / 'out'}"]
    assert leftovers_after(args, offline_env, tmp_path / "output.txt") == []


@needs_proc
def test_server_run_leaves_no_process_behind(tmp_path, clearml_server):
    args = ["hat.py", "epochs=1", f"output_dir={tmp_path / 'out'}"]
    assert leftovers_after(args, clearml_server.env, tmp_path / "output.txt") == []
    assert clearml_server.standin.tasks()[0]["status"] == "completed"
