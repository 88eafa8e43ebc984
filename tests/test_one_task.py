"""One task per run when the training reports to ClearML itself: its own Task.init (a yolov5-shaped logger, offline
or online) attaches to the hat's task, and what it reports is not drawn a second time from printed lines."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, run_script
from tests.test_printed_metrics import offline_scalars

SCRIPT = str(REPO / "tests/scripts/own_clearml_logger.py")
# The print before the logger's first scalar is drawn; the prints after it are the logger's to draw.
EXPECTED = [("Summary", "task_is_the_hats", 1.0, -2**31), ("loss", "loss", 0.9, 0), ("train", "box_loss", 0.7, 1),
            ("train", "box_loss", 0.5, 2)]  # fmt: skip


def hat_args(tmp_path: Path, *more: str) -> list:
    (tmp_path / "c.yaml").write_text("epochs: 2\n")
    return ["hat.py", "--script", SCRIPT, "--train_yaml", str(tmp_path / "c.yaml"), *more]


@pytest.mark.clearml
@pytest.mark.parametrize("set_offline", [False, True])
def test_the_scripts_own_task_init_attaches_to_the_hats_task(set_offline, tmp_path, clearml_server):
    args = hat_args(tmp_path) + (["set_offline=true"] if set_offline else [])
    result = run_script(args, clearml_server.env)
    assert result.returncode == 0, result.stderr
    assert "UsageError" not in result.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "completed" and task["name"] == "own_clearml_logger"
    assert {"hat", "train_args", "Hyperparameters"} <= set(task["hyperparams"])
    assert task["hyperparams"]["Hyperparameters"]["lr0"]["value"] == "0.01"
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    assert sorted((e["metric"], e["variant"], e["value"], e["iter"]) for e in events) == sorted(EXPECTED)
    log = "\n".join(e["msg"] for e in clearml_server.standin.events(task["id"], "log"))
    assert "epoch 2/2 loss 0.5000" in log  # printed, in the log, not drawn twice
    assert not (Path(clearml_server.env["CLEARML_CACHE_DIR"]) / "offline").exists()


@pytest.mark.clearml
def test_the_scripts_own_task_init_attaches_in_offline_mode_too(tmp_path, offline_env):
    result = run_script(hat_args(tmp_path, "--offline"), offline_env)
    assert result.returncode == 0, result.stderr
    assert sorted(offline_scalars(offline_env)) == sorted(EXPECTED)
    sessions = [p for p in (Path(offline_env["CLEARML_CACHE_DIR"]) / "offline").iterdir() if p.is_dir()]
    assert len(sessions) == 1


@pytest.mark.clearml
def test_a_trainer_reporting_to_clearml_keeps_one_task_and_no_series_twice(tmp_path, clearml_server):
    pytest.importorskip("transformers", minversion="4.40")
    pytest.importorskip("accelerate")
    (tmp_path / "c.yaml").write_text(f"output_dir: {tmp_path / 'out'}\nreport_to: clearml\n")
    args = ["hat.py", "--script", str(REPO / "tests/scripts/hf_trainer_report_to.py"), "--train_yaml",
            str(tmp_path / "c.yaml")]
    result = run_script(args, clearml_server.env, timeout=300)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "completed"
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    # The callback sends its single values (`Summary`) again at each log; a single value keeps the last.
    points = [(e["metric"], e["variant"], e["iter"]) for e in events if e["iter"] != -2**31]
    assert len(points) == len(set(points)), points  # no point twice
    curves = {(metric, variant) for metric, variant, _ in points}
    assert ("train", "loss") in curves and ("eval", "loss") in curves  # the callback's
    assert not curves & {("loss", "train"), ("loss", "eval")}  # the same, read from the printed dicts
    log = "\n".join(e["msg"] for e in clearml_server.standin.events(task["id"], "log"))
    assert "'eval_loss'" in log  # the printed dicts are still in the task's log


@pytest.mark.clearml
def test_mmengines_clearml_backend_attaches_and_only_lines_before_its_first_scalar_are_drawn(tmp_path,
                                                                                            clearml_server):
    pytest.importorskip("mmengine")
    (tmp_path / "c.yaml").write_text(f"work_dir: {tmp_path / 'work'}\n")
    args = ["hat.py", "--script", str(REPO / "tests/scripts/mmengine_clearml.py"), "--train_yaml",
            str(tmp_path / "c.yaml")]
    result = run_script(args, clearml_server.env, timeout=300)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    points = [(e["metric"], e["variant"], e["iter"]) for e in events]
    assert len(points) == len(set(points)), points
    assert ("loss", "train", 5) in points, (points, result.stdout[-3000:], result.stderr[-3000:])
    # mmengine prints an iteration's line, then reports its scalars: the first line is drawn, the rest are not.
    assert [(e["iter"], round(e["value"], 4)) for e in events if (e["metric"], e["variant"]) == ("loss", "train")] \
        == [(5, 0.7848)]
    assert [e["iter"] for e in events if (e["metric"], e["variant"]) == ("loss", "loss")] == [5, 10, 15, 21, 26, 31]
    assert [e["iter"] for e in events if (e["metric"], e["variant"]) == ("accuracy", "accuracy")] == [1, 2]


MONITOR_SCRIPT = '''
import argparse
from clearml import Logger
def main(args=None):
    argparse.ArgumentParser().parse_args(args)
    print("epoch 1/2 loss 0.5000")
    Logger.current_logger().report_scalar(":monitor:machine", "cpu_usage", 5.0, 1)  # as ClearML's monitor does
    print("epoch 2/2 loss 0.4000")
if __name__ == "__main__":
    main()
'''


@pytest.mark.clearml
def test_clearmls_resource_monitor_is_not_taken_for_the_training_reporting_itself(tmp_path, clearml_server):
    script = tmp_path / "monitored.py"
    script.write_text(MONITOR_SCRIPT)
    (tmp_path / "c.yaml").write_text("{}\n")
    result = run_script(["hat.py", "--script", str(script), "--train_yaml", str(tmp_path / "c.yaml")],
                        clearml_server.env)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    assert [(e["iter"], e["value"]) for e in events if e["metric"] == "loss"] == [(1, 0.5), (2, 0.4)]


@pytest.mark.clearml
def test_tensorboard_through_clearmls_binding_lands_on_the_hats_task_and_is_not_drawn_twice(tmp_path,
                                                                                            clearml_server):
    pytest.importorskip("torch")  # the script writes through torch.utils.tensorboard
    pytest.importorskip("tensorboard")
    (tmp_path / "c.yaml").write_text(f"log_dir: {tmp_path / 'tb'}\n")
    args = ["hat.py", "--script", str(REPO / "tests/scripts/tensorboard_writer.py"), "--train_yaml",
            str(tmp_path / "c.yaml")]
    result = run_script(args, clearml_server.env)
    assert result.returncode == 0, result.stderr
    (task,) = clearml_server.standin.tasks()
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    got = sorted((e["metric"], e["variant"], e["iter"], round(e["value"], 4)) for e in events
                 if not e["metric"].startswith(":monitor:"))
    assert got == [("loss", "loss", 0, 0.9), ("train", "loss", 1, 0.7), ("train", "loss", 2, 0.5),
                   ("train", "loss", 3, 0.3)]


ULTRALYTICS = str(REPO / "tests/scripts/ultralytics_clearml.py")
# The print before the callback's first scalar is drawn (at iteration 0: no line showed one); the callback's own
# scalars; the final print after them is not drawn. `Epoch Time` is left out: its value is the time taken.
ULTRALYTICS_EXPECTED = [
    ("loss", "val", 0.9, 0),
    ("train", "train/box_loss", 1.5, 0), ("train", "train/cls_loss", 2.5, 0), ("lr", "lr/pg0", 0.01, 0),
    ("metrics", "metrics/precision(B)", 0.5, 0), ("metrics", "metrics/mAP50-95(B)", 0.3, 0),
    ("val", "val/box_loss", 1.4, 0),
    ("train", "train/box_loss", 1.25, 1), ("train", "train/cls_loss", 2.0, 1), ("lr", "lr/pg0", 0.005, 1),
    ("metrics", "metrics/precision(B)", 0.6, 1), ("metrics", "metrics/mAP50-95(B)", 0.4, 1),
    ("val", "val/box_loss", 1.2, 1),
    ("Summary", "model/parameters", 3011043.0, -2**31), ("Summary", "metrics/mAP50-95(B)", 0.4, -2**31),
]  # fmt: skip


def ultralytics_args(tmp_path: Path, *more: str) -> list:
    (tmp_path / "c.yaml").write_text(f"epochs: 2\nproject: ''\nname: train\nsave_dir: {tmp_path / 'runs'}\n")
    return ["hat.py", *more, "--script", ULTRALYTICS, "--train_yaml", str(tmp_path / "c.yaml")]


def rounded(points: list) -> list:
    return sorted((metric, variant, round(value, 6), it) for metric, variant, value, it in points
                  if metric != "Epoch Time")


@pytest.mark.clearml
def test_ultralytics_clearml_callback_reports_to_the_hats_task_once(tmp_path, clearml_server):
    result = run_script(ultralytics_args(tmp_path), clearml_server.env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "completed" and task["name"] == "ultralytics_clearml"
    assert task["hyperparams"]["General"]["epochs"]["value"] == "2"  # the callback's connect, on the hat's task
    events = clearml_server.standin.events(task["id"], "training_stats_scalar")
    points = [(e["metric"], e["variant"], e["value"], e["iter"]) for e in events]
    assert rounded(points) == sorted(ULTRALYTICS_EXPECTED)  # every point once, the printed ones not drawn again
    assert [e["iter"] for e in events if e["metric"] == "Epoch Time"] == [0, 1]
    images = clearml_server.standin.events(task["id"], "training_debug_image")
    assert [(e["metric"], e["variant"], e["iter"]) for e in images] == [("Mosaic", "train_batch0.jpg", 1)]
    models = [m for m in clearml_server.standin.models() if m["name"] == "train"]
    assert len(models) == 1 and models[0]["task"] == task["id"]


@pytest.mark.clearml
def test_ultralytics_clearml_callback_reports_to_the_hats_task_offline(tmp_path, offline_env):
    result = run_script(ultralytics_args(tmp_path, "--offline"), offline_env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert rounded(offline_scalars(offline_env)) == sorted(ULTRALYTICS_EXPECTED)
    sessions = [p for p in (Path(offline_env["CLEARML_CACHE_DIR"]) / "offline").iterdir() if p.is_dir()]
    assert len(sessions) == 1
