"""What real frameworks print becomes complete curves: each recorded output (tests/framework_lines/, real where the
framework runs here) printed by a script under `hat.py --offline`, read back from the offline session's events."""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from clearml_hat.local.metrics import Metric, MetricReader
from clearml_hat.local.printed_metrics import teeing
from tests.conftest import REPO, run_script
from tests.test_printed_metrics import offline_scalars

LINES = Path(__file__).parent / "framework_lines"
Curves = Dict[Tuple[str, str], List[Tuple[int, float]]]

# (graph, series) -> [(iteration, value), ...] in the order printed; nothing else may appear.
EXPECTED: Dict[str, Curves] = {
    # real: transformers 5.25 Trainer (record_hf_trainer.py); values quoted, the step from the bar drawn after
    "hf_trainer_5.txt": {
        ("loss", "train"): [(2, 3.271), (4, 3.264), (6, 3.262), (8, 3.264)],
        ("grad_norm", "train"): [(2, 1.688), (4, 1.633), (6, 1.637), (8, 1.642)],
        ("learning_rate", "train"): [(2, 4.375e-05), (4, 3.125e-05), (6, 1.875e-05), (8, 6.25e-06)],
        ("loss", "eval"): [(4, 3.264), (8, 3.261)],
        ("loss", "train_mean"): [(8, 3.265)],
    },
    # transformers 4.x in a terminal: numbers unquoted, the bar redrawn with `\r` on the dict's line
    "hf_trainer_4.txt": {
        ("loss", "train"): [(2, 3.2714), (4, 3.2641), (6, 3.2622), (8, 3.264)],
        ("grad_norm", "train"): [(2, 1.6883), (4, 1.6331), (6, 1.6372), (8, 1.6421)],
        ("learning_rate", "train"): [(2, 4.375e-05), (4, 3.125e-05), (6, 1.875e-05), (8, 6.25e-06)],
        ("loss", "eval"): [(4, 3.2638), (8, 3.2611)],
        ("loss", "train_mean"): [(8, 3.2652)],
    },
    # real: Lightning 2.6.6 TQDMProgressBar (record_lightning.py), 3 epochs of 8 batches
    "lightning_tqdm.txt": {
        ("loss", "val"): [(8, 0.548), (16, 0.453), (24, 0.394)],
        ("acc", "val"): [(8, 0.812), (16, 0.875), (24, 0.906)],
        ("loss", "train"): [(8, 0.643), (16, 0.512), (24, 0.432)],
    },
    # real: Keras 3.15 (torch backend), fit() of 3 epochs (bar) then of 2 epochs with verbose=2 (record_keras3.py)
    "keras3.txt": {
        ("accuracy", "train"): [(1, 0.7292), (2, 0.75), (3, 0.75), (4, 0.75), (5, 0.75)],
        ("loss", "train"): [(1, 0.4995), (2, 0.4925), (3, 0.4864), (4, 0.4795), (5, 0.4738)],
        ("accuracy", "val"): [(1, 0.6875), (2, 0.6875), (3, 0.6875), (4, 0.6875), (5, 0.6875)],
        ("loss", "val"): [(1, 0.6529), (2, 0.6386), (3, 0.6246), (4, 0.611), (5, 0.5978)],
    },
    # real: mmengine 0.10.7 Runner, 2 epochs of 16 iterations, log interval 5 (record_mmengine.py)
    "mmengine.txt": {
        ("lr", "train"): [(5, 0.1), (10, 0.1), (15, 0.1), (21, 0.1), (26, 0.1), (31, 0.1)],
        ("loss", "train"): [(5, 0.7848), (10, 0.6601), (15, 0.5119), (21, 0.4588), (26, 0.4413), (31, 0.4079)],
        ("accuracy", "val"): [(16, 87.5), (32, 95.3125)],
    },
    # timm train.py's lines (field notes; its torchvision does not load here): 2 epochs of 4 updates, 2 test batches
    "timm.txt": {
        ("loss", "train"): [(0, 0.72), (1, 0.705), (2, 0.698), (3, 0.691), (4, 0.688), (5, 0.672), (6, 0.659),
                            (7, 0.641)],
        ("lr", "train"): [(0, 0.0125), (1, 0.0125), (2, 0.0125), (3, 0.0125), (4, 0.025), (5, 0.025), (6, 0.025),
                          (7, 0.025)],
        ("loss", "test"): [(3, 0.693), (7, 0.645)],
        ("acc1", "test"): [(3, 45.312), (7, 65.625)],
        ("acc5", "test"): [(3, 100.0), (7, 100.0)],
    },
    # detectron2's CommonMetricPrinter (its documented format)
    "detectron2.txt": {
        ("total_loss", "train"): [(19, 2.031), (39, 1.502), (59, 1.127)],
        ("loss_cls", "train"): [(19, 1.101), (39, 0.7514), (59, 0.4833)],
        ("loss_box_reg", "train"): [(19, 0.4312), (39, 0.4588), (59, 0.4901)],
        ("loss_rpn_cls", "train"): [(19, 0.3761), (39, 0.2106), (59, 0.0921)],
        ("loss_rpn_loc", "train"): [(19, 0.1007), (39, 0.0842), (59, 0.0611)],
        ("lr", "train"): [(19, 9.5905e-05), (39, 0.00019581), (59, 0.00029571)],
    },
    # fairseq-train's train_inner, valid and epoch lines (its documented format)
    "fairseq.txt": {
        ("loss", "train"): [(100, 9.935), (200, 8.512), (300, 7.702)],
        ("nll_loss", "train"): [(100, 9.366), (200, 7.861), (300, 6.951)],
        ("ppl", "train"): [(100, 659.73), (200, 232.49), (300, 123.72)],
        ("lr", "train"): [(100, 1.25e-05), (200, 2.5e-05), (300, 3.75e-05)],
        ("gnorm", "train"): [(100, 2.027), (200, 1.412), (300, 1.201)],
        ("loss", "valid"): [(212, 7.891)],
        ("nll_loss", "valid"): [(212, 7.102)],
        ("ppl", "valid"): [(212, 137.34)],
        ("loss", "train_epoch"): [(212, 9.124)],
        ("nll_loss", "train_epoch"): [(212, 8.513)],
        ("ppl", "train_epoch"): [(212, 365.31)],
        ("lr", "train_epoch"): [(212, 2.65e-05)],
        ("gnorm", "train_epoch"): [(212, 1.698)],
    },
}


def curves(scalars: List[tuple]) -> Curves:
    """(graph, series) -> [(iteration, value)] in the order the scalars came."""
    found: Curves = {}
    for title, series, value, iteration in scalars:
        found.setdefault((title, series), []).append((iteration, value))
    return found


def check_curves(found: Curves, expected: Curves) -> None:
    assert found == expected
    for points in found.values():
        iterations = [iteration for iteration, _ in points]
        assert iterations == sorted(set(iterations)), iterations  # strictly increasing along every curve


@pytest.mark.clearml
@pytest.mark.parametrize("recording", sorted(EXPECTED))
def test_a_frameworks_printed_lines_become_its_complete_curves_in_an_offline_run(recording, tmp_path, offline_env):
    (tmp_path / "c.yaml").write_text(f"lines: {LINES / recording}\n")
    result = run_script(["hat.py", "--script", str(REPO / "tests/scripts/prints_recorded_lines.py"),
                         "--train_yaml", str(tmp_path / "c.yaml"), "--offline"], offline_env)
    assert result.returncode == 0, result.stderr
    check_curves(curves(offline_scalars(offline_env)), EXPECTED[recording])


def test_the_trainers_bar_on_stderr_gives_the_step_of_the_dict_on_stdout(monkeypatch):
    """transformers 4.x in a terminal: the dict goes to stdout, the tqdm bar redraws on stderr without a newline."""
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    found: List[Metric] = []
    with teeing(MetricReader(), found.append):
        sys.stderr.write("\r 25%|##        | 2/8 [00:02<00:06,  1.0it/s]")
        sys.stdout.write("{'loss': 3.27, 'learning_rate': 4e-05, 'epoch': 0.5}\n")
        sys.stderr.write("\r 25%|##        | 2/8 [00:02<00:06,  1.0it/s]")
        sys.stderr.write("\r 50%|####      | 4/8 [00:04<00:04,  1.0it/s]")
        sys.stdout.write("{'eval_loss': 3.1, 'eval_runtime': 0.1, 'epoch': 1.0}\n")
        sys.stderr.write("\r 50%|####      | 4/8 [00:04<00:04,  1.0it/s]")
    assert [(m.title, m.series, m.value, m.iteration) for m in found] == [
        ("loss", "train", 3.27, 2), ("learning_rate", "train", 4e-05, 2), ("loss", "eval", 3.1, 4)]


def test_without_a_bar_the_trainers_dicts_count_up_and_a_dicts_own_step_wins():
    reader = MetricReader()
    lines = ["{'loss': 0.9, 'epoch': 0.5}", "{'loss': 0.8, 'epoch': 1.0}", "{'loss': 0.7, 'step': 30, 'epoch': 1.5}"]
    found = [metric for line in lines for metric in reader.read(line)] + reader.finish()
    assert [(m.name, m.value, m.iteration) for m in found] == [
        ("train_loss", 0.9, 1), ("train_loss", 0.8, 2), ("train_loss", 0.7, 30)]


def test_running_averages_timings_and_bars_within_an_epoch_give_no_point():
    reader = MetricReader()
    lines = ["Epoch 1/2", "1/4 ━━━━━━━━━━ 0s 5ms/step - accuracy: 0.5 - loss: 0.9",
             "Test: [   0/3]  Time: 0.1 (0.1)  Loss:   0.7 ( 0.7)  Acc@1:  40.0 ( 40.0)",
             "Epoch 3:  50%|#####     | 4/8 [00:00<00:00, 45.2it/s, v_num=0, train_loss=0.640]",
             "Epoch(val) [1][ 5/10]    eta: 0:00:01  time: 0.0200  data_time: 0.0100  memory: 123"]
    assert [metric for line in lines for metric in reader.read(line)] + reader.finish() == []
