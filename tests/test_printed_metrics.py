"""Printed lines become scalars: the tee itself (no ClearML), then hat.py runs in offline mode, against the
stand-in and under the real clearml-agent."""
from __future__ import annotations

import io
import json
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from clearml_hat.local.metrics import Metric, MetricReader
from clearml_hat.local.printed_metrics import teeing
from tests.conftest import clean_env, run_script
from tests.test_remote import commit, enqueue_from, make_checkout

# The print styles the issue names, each as a real script prints it.
SHAPES = [
    "epoch 3/20 loss 0.4521",
    "Epoch [3/20] Loss: 0.1234 Acc: 95.1",
    "step 100: train loss 2.3100, val loss 2.4000",
    "{'loss': 0.52, 'learning_rate': 5e-05, 'epoch': 1.0}",
    "| epoch   2 |   200/ 2983 batches | lr 20.00 | loss  6.93 | ppl  1023.21",
    "val_acc=0.91 step=300",
]
# (title, series, value, iteration) each shape gives, in order.
SHAPE_SCALARS = [
    ("loss", "loss", 0.4521, 3),
    ("loss", "loss", 0.1234, 3), ("acc", "acc", 95.1, 3),
    ("loss", "train", 2.31, 100), ("loss", "val", 2.4, 100),
    ("lr", "lr", 20.0, 3183), ("loss", "loss", 6.93, 3183), ("ppl", "ppl", 1023.21, 3183),
    ("acc", "val", 0.91, 300),
    # A Trainer's log (test_framework_lines.py): its step is the bar drawn after it; without one, its count.
    ("loss", "train", 0.52, 1), ("learning_rate", "train", 5e-05, 1),
]  # fmt: skip
JUNK = [
    "loaded 24 images of 2 classes from data/images/",
    "Namespace(lr=0.1, epochs=20, batch_size=8)",
    " 45%|####5     | 45/100 [00:01<00:02, loss=0.3]",
    "Traceback (most recent call last):",
    '  File "train.py", line 3, in <module>',
    "ValueError: loss 3.5 is too high",
    "torch 2.13.0, cuda 12.8",
    "no numbers here",
]


def tee(monkeypatch: pytest.MonkeyPatch, reader=None):
    """The tee over two StringIO streams, collecting the metrics; returns (streams, metrics, context)."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    found: List[Metric] = []
    return out, err, found, teeing(reader or MetricReader(), found.append)


def scalars(found: List[Metric]) -> list:
    return [(m.title, m.series, m.value, m.iteration) for m in found]


def test_the_tee_passes_every_write_through_unchanged_and_reads_whole_lines(monkeypatch):
    out, err, found, context = tee(monkeypatch)
    with context:
        sys.stdout.write("epoch 1/2 lo")
        assert found == []  # a partial line waits for its newline
        sys.stdout.write("ss 0.5\nepoch 2/2 loss 0.25\n")
        print("ERROR loss 9.0 at step 7", file=sys.stderr)
    assert out.getvalue() == "epoch 1/2 loss 0.5\nepoch 2/2 loss 0.25\n"
    assert err.getvalue() == "ERROR loss 9.0 at step 7\n"
    assert scalars(found) == [("loss", "loss", 0.5, 1), ("loss", "loss", 0.25, 2), ("loss", "loss", 9.0, 7)]
    assert (sys.stdout, sys.stderr) == (out, err)


def test_a_carriage_return_redraw_keeps_only_the_last_text_and_a_line_left_open_is_read_at_the_end(monkeypatch):
    out, _, found, context = tee(monkeypatch)
    with context as printed:
        for step in range(3):
            sys.stdout.write(f"\rstep {step} loss {step + 1}.0")
        sys.stdout.write("\rstep 9 val_acc 0.75")
        assert found == []
    assert scalars(found) == [("acc", "val", 0.75, 9)]
    assert out.getvalue().endswith("\rstep 9 val_acc 0.75\n")  # the open line ended for the task's log
    assert printed.last_values == {"val_acc": 0.75}


def test_the_open_line_is_read_and_the_streams_restored_when_the_training_raises(monkeypatch):
    out, _, found, context = tee(monkeypatch)
    with pytest.raises(ValueError), context:
        sys.stdout.write("val_acc: 0.5")
        raise ValueError("boom")
    assert scalars(found) == [("acc", "val", 0.5, 0)]
    assert sys.stdout is out


def test_a_line_without_an_iteration_goes_to_the_last_one_shown_else_zero(monkeypatch):
    _, _, found, context = tee(monkeypatch)
    with context:
        print("val_acc: 0.5")
        print("Epoch 7/20")  # Keras: the epoch on a line of its own
        print("loss 0.3 acc 0.9")
    assert scalars(found) == [("acc", "val", 0.5, 0), ("loss", "loss", 0.3, 7), ("acc", "acc", 0.9, 7)]


def test_the_issue_shapes_give_their_scalars_and_junk_gives_none(monkeypatch):
    _, _, found, context = tee(monkeypatch)
    with context:
        for line in JUNK + SHAPES:
            print(line)
    assert scalars(found) == SHAPE_SCALARS


def test_a_report_that_prints_is_not_read_again(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    found: List[Metric] = []

    def noisy_report(metric: Metric) -> None:
        print(f"reported loss {metric.value} at step 5")  # would be read back as a metric, forever
        found.append(metric)

    with teeing(MetricReader(), noisy_report):
        print("step 1 loss 0.5")
    assert scalars(found) == [("loss", "loss", 0.5, 1)]
    assert "reported loss 0.5" in out.getvalue()


def test_off_reads_nothing_and_only_ends_an_open_last_line(monkeypatch):
    out, _, found, _ = tee(monkeypatch)
    with teeing(None, found.append) as printed:
        print("step 3 loss 0.5")
        sys.stdout.write("val_acc 0.9")
    assert found == [] and printed.last_values == {}
    assert out.getvalue() == "step 3 loss 0.5\nval_acc 0.9\n"
    assert sys.stdout is out


# --- hat.py end to end ---

PRINTING_SCRIPT = '''
import argparse, sys
SHAPES = {shapes!r}
JUNK = {junk!r}
def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    scale = parser.parse_args(args).scale
    for line in JUNK:
        print(line, file=sys.stderr)
    for line in SHAPES:
        print(line)
    {extra}
    return {returns}
if __name__ == "__main__":
    main()
'''


def write_script(tmp_path: Path, extra: str = "", returns: str = "None") -> List[str]:
    script = tmp_path / "train_prints.py"
    script.write_text(textwrap.dedent(PRINTING_SCRIPT.format(shapes=SHAPES, junk=JUNK, extra=extra, returns=returns)))
    (tmp_path / "c.yaml").write_text("scale: 2.0\n")
    return ["hat.py", "--script", str(script), "--train_yaml", str(tmp_path / "c.yaml")]


def offline_scalars(env: dict) -> list:
    (session,) = [p for p in (Path(env["CLEARML_CACHE_DIR"]) / "offline").iterdir() if p.is_dir()]
    if not (session / "metrics.jsonl").exists():  # ClearML writes the file with the first event
        return []
    events = [e for line in (session / "metrics.jsonl").open() for e in json.loads(line)]
    return [(e["metric"], e["variant"], e["value"], e["iter"]) for e in events if e["type"] == "training_stats_scalar"]


@pytest.mark.clearml
def test_offline_run_reports_the_printed_shapes_and_nothing_of_the_junk(tmp_path, offline_env):
    result = run_script(write_script(tmp_path), offline_env)
    assert result.returncode == 0, result.stderr
    assert sorted(offline_scalars(offline_env)) == sorted(SHAPE_SCALARS)
    assert all(line in result.stdout for line in SHAPES)  # the training's own output is untouched
    assert "Namespace(lr=0.1" in result.stderr


@pytest.mark.clearml
def test_metrics_off_reports_nothing_and_an_own_regex_only_its_groups(tmp_path, offline_env):
    args = write_script(tmp_path)
    assert run_script([*args, "--metrics", "off"], offline_env).returncode == 0
    assert offline_scalars(offline_env) == []
    home = tmp_path / "home2"
    home.mkdir()
    env = clean_env(home)
    result = run_script([*args, "--metrics", r"(?P<name>val_acc)=(?P<value>[\d.]+) step=(?P<step>\d+)"], env)
    assert result.returncode == 0, result.stderr
    assert offline_scalars(env) == [("acc", "val", 0.91, 300)]


@pytest.mark.clearml
def test_an_invalid_metrics_regex_is_one_line_and_no_task(tmp_path, offline_env):
    result = run_script([*write_script(tmp_path), "--metrics", "loss (?P<loss>[\\d.]+"], offline_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a valid regex" in lines[0] and "Traceback" not in result.stderr
    assert not (Path(offline_env["CLEARML_CACHE_DIR"]) / "offline").exists()


FRAMEWORK_SCALAR = "from clearml import Logger; Logger.current_logger().report_scalar('tb/loss', 'train', 0.7, 4)"


@pytest.mark.clearml
def test_printed_scalars_sit_beside_framework_scalars_and_main_single_values(tmp_path, clearml_server):
    args = write_script(tmp_path, extra=FRAMEWORK_SCALAR, returns='{"test_acc": 0.8 * scale}')
    result = run_script(args, clearml_server.env)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    got = [(e["metric"], e["variant"], e["value"], e["iter"]) for e in events]
    assert sorted(got) == sorted([*SHAPE_SCALARS, ("tb/loss", "train", 0.7, 4), ("Summary", "test_acc", 1.6, -2**31)])
    summary = {(m["metric"], m["variant"]): m["value"] for by in task["last_metrics"].values() for m in by.values()}
    assert summary[("acc", "val")] == 0.91 and summary[("Summary", "test_acc")] == 1.6
    assert task["hyperparams"]["hat"]["metrics"]["value"] == "auto"
    log = "\n".join(e["msg"] for e in clearml_server.standin.events(task["id"], "log"))
    assert all(line in log for line in SHAPES)  # ClearML's console capture still sees every line


@pytest.mark.clearml
def test_the_agent_run_reads_the_metrics_setting_stored_on_the_task(tmp_path, clearml_server, real_agent):
    work = make_checkout(tmp_path)
    write_script(work)
    commit(work, "a printing training")
    result = enqueue_from(work, clearml_server, "--script", "train_prints.py", "--train_yaml", "c.yaml",
                          "--metrics", r"loss\s+(?P<loss>[\d.]+)")
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["hyperparams"]["hat"]["metrics"]["value"] == r"loss\s+(?P<loss>[\d.]+)"
    run = real_agent.execute(task["id"])
    assert run.returncode == 0, run.stdout
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    # Only `loss <number>` counts: `Loss:` and the dict's `'loss':` do not match the pattern.
    assert [(e["metric"], e["variant"], e["value"], e["iter"]) for e in events] == [
        ("loss", "loss", 0.4521, 3), ("loss", "loss", 2.31, 100), ("loss", "loss", 2.4, 100),
        ("loss", "loss", 6.93, 3183)]


MANY_LINES_SCRIPT = '''
import argparse, sys
def main(args=None):
    lines = argparse.ArgumentParser().parse_known_args(args)[0]
    for step in range(3000):
        print(f"step {step}: train loss {1 / (step + 1):.6f}, lr 0.001")
        if step % 500 == 0:
            print(f"checkpoint {step} written", file=sys.stderr)
    sys.stdout.write("done without a newline: val_acc 0.5")
if __name__ == "__main__":
    main()
'''


@pytest.mark.clearml
def test_read_off_the_training_thread_nothing_printed_is_missing_from_the_log_or_the_curves(tmp_path, clearml_server):
    script = tmp_path / "many_lines.py"
    script.write_text(MANY_LINES_SCRIPT)
    (tmp_path / "c.yaml").write_text("{}\n")
    result = run_script(["hat.py", "--script", str(script), "--train_yaml", str(tmp_path / "c.yaml")],
                        clearml_server.env)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    log = "\n".join(e["msg"] for e in clearml_server.standin.events(task["id"], "log"))
    printed = [f"step {step}: train loss {1 / (step + 1):.6f}, lr 0.001" for step in range(3000)]
    assert [line for line in printed if line not in log] == []
    assert [log.index(line) for line in printed] == sorted(log.index(line) for line in printed)  # in order
    assert all(f"checkpoint {step} written" in log for step in range(0, 3000, 500))
    levels = {e["level"] for e in clearml_server.standin.events(task["id"], "log") if "checkpoint 500" in e["msg"]}
    assert levels == {"error"}  # stderr's lines keep the level ClearML's console capture gives them
    assert "done without a newline: val_acc 0.5" in log
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    loss = [(e["iter"], e["value"]) for e in events if (e["metric"], e["variant"]) == ("loss", "train")]
    assert sorted(loss) == [(step, round(1 / (step + 1), 6)) for step in range(3000)]
    assert [(e["iter"], e["value"]) for e in events if e["metric"] == "acc"] == [(2999, 0.5)]


@pytest.mark.parametrize("max_backlog", [5, 100_000])
def test_a_reader_that_falls_behind_still_reports_every_point_in_order_at_its_iteration(monkeypatch, max_backlog):
    from clearml_hat.local import printed_metrics

    monkeypatch.setattr(printed_metrics, "_READ_FOR", 0.0)  # each wake-up reads nothing unless the backlog is full
    monkeypatch.setattr(printed_metrics, "_MAX_BACKLOG", max_backlog)
    out, _, found, context = tee(monkeypatch)
    with context:
        for step in range(500):
            print(f"step {step}: train loss {1 / (step + 1):.6f}")
    assert scalars(found) == [("loss", "train", round(1 / (step + 1), 6), step) for step in range(500)]
    assert out.getvalue().count("\n") == 500


SPLIT_SCRIPT = '''
import sys
sys.path.insert(0, sys.argv[1])
from clearml import Task
from clearml_hat.clearml import sdk_private
sdk_private.report_in_a_thread()  # as the hat's runs do: the SDK's reporter subprocess took 11 s to close, >120 s once
Task.set_offline(True)
task = Task.init(project_name="p", task_name="split", auto_connect_frameworks=False, auto_resource_monitoring=False)
out, err = sdk_private.console_capture(sys.stdout), sdk_private.console_capture(sys.stderr)
out.terminal("on the console only\\n")
out.log("in the log only: line 1\\nline 2 without its newline yet")
err.log(" ends here\\n")  # another stream's log: its own line
out.log("\\n")
task.close()
'''


@pytest.mark.clearml
def test_clearmls_console_capture_splits_into_console_and_log(tmp_path, offline_env):
    # The hat's bet on ClearML's PrintPatchLogger (sdk_private.console_capture): without it, printed lines cost the
    # training's thread a log record each again.
    script = tmp_path / "split.py"
    script.write_text(SPLIT_SCRIPT)
    result = run_script([str(script), str(Path(__file__).resolve().parent.parent)], offline_env)
    assert result.returncode == 0, result.stderr
    assert "on the console only" in result.stdout and "log only" not in result.stdout + result.stderr
    (log,) = (Path(offline_env["CLEARML_CACHE_DIR"]) / "offline").glob("*/log.jsonl")
    # ClearML's log handler joins records that follow each other at one level (ClearML's own lines included).
    lines = [(e["level"], line) for row in log.open() for e in json.loads(row) for line in e["msg"].split("\n")]
    assert [line for line in lines if line[1].startswith(("in the", " ends", "line"))] == [
        ("info", "in the log only: line 1"), ("error", " ends here"), ("info", "line 2 without its newline yet")]
