"""Reading metrics out of printed lines: the print styles of well-known trainings, the junk that must stay out."""
from __future__ import annotations

from typing import List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearml_hat.errors import HatError
from clearml_hat.local.metrics import Metric, MetricReader, make_reader, metric_key


def read(line: str, reader: Optional[MetricReader] = None) -> List[Tuple[str, float, Optional[int]]]:
    """(name, value, iteration) of each metric a fresh reader (or the given one) reads from the line."""
    return [(m.name, m.value, m.iteration) for m in (reader or MetricReader()).read(line)]


# The print styles the auto rule reads.

def test_epoch_of_total_then_loss():
    assert read("epoch 3/20 loss 0.4521") == [("loss", 0.4521, 3)]


def test_bracketed_epoch_with_capitalised_names():
    assert read("Epoch [3/20] Loss: 0.1234 Acc: 95.1") == [("loss", 0.1234, 3), ("acc", 95.1, 3)]


def test_nanogpt_eval_line_keeps_the_split_in_the_name():
    assert read("step 100: train loss 2.3100, val loss 2.4000") == [("train_loss", 2.31, 100), ("val_loss", 2.4, 100)]


def test_nanogpt_iter_line_reads_percent_and_skips_a_number_with_a_unit():
    assert read("iter 100: loss 4.2345, time 20.12ms, mfu 3.21%") == [("loss", 4.2345, 100), ("mfu", 3.21, 100)]


def test_hugging_face_trainer_dict_waits_for_the_bar_that_shows_its_step():
    reader = MetricReader()
    assert read("{'loss': 0.61, 'grad_norm': 3.2, 'learning_rate': 4e-05, 'epoch': 0.27}", reader) == []
    assert read(" 27%|##7       | 30/110 [00:09<00:24,  3.2it/s]", reader) == [
        ("train_loss", 0.61, 30), ("train_grad_norm", 3.2, 30), ("train_learning_rate", 4e-05, 30)]


def test_hugging_face_eval_dict_goes_to_the_eval_series_without_its_timings():
    reader = MetricReader()
    assert reader.read("{'eval_loss': 0.48, 'eval_runtime': 1.5, 'eval_samples_per_second': 9.1, 'epoch': 2.0}") == []
    assert reader.finish() == [Metric("eval_loss", "loss", "eval", 0.48, 1)]  # no bar: the first dict


def test_json_line_takes_its_step_key():
    assert read('{"step": 5, "eval_loss": 1.5, "done": true, "tag": "x"}') == [("eval_loss", 1.5, 5)]


def test_dict_after_a_prefix():
    assert read("metrics: {'val_acc': 0.8, 'step': 7}") == [("val_acc", 0.8, 7)]


def test_word_language_model_counts_batches_from_the_first_epoch():
    line = "| epoch   2 |   200/ 2983 batches | lr 20.00 | loss  6.93 | ppl  1023.21"
    assert read(line) == [("lr", 20.0, 3183), ("loss", 6.93, 3183), ("ppl", 1023.21, 3183)]


def test_word_language_model_end_of_epoch_is_at_the_epoch_end():
    reader = MetricReader()
    read("| epoch   2 |   200/ 2983 batches | lr 20.00 | loss  6.93 | ppl  1023.21", reader)
    line = "| end of epoch   2 | time: 50.12s | valid loss  5.80 | valid ppl   330.31"
    assert read(line, reader) == [("valid_loss", 5.8, 5966), ("valid_ppl", 330.31, 5966)]


def test_epochs_counted_from_zero_start_at_zero():
    reader = MetricReader()
    assert read("epoch 0 | 100/500 batches | loss 2.0", reader) == [("loss", 2.0, 100)]
    assert read("epoch 1 | 100/500 batches | loss 1.0", reader) == [("loss", 1.0, 600)]


def test_mnist_train_line_counts_samples():
    assert read("Train Epoch: 2 [640/60000 (1%)]\tLoss: 0.294") == [("loss", 0.294, 60640)]


def test_name_equals_value_with_step_after_it():
    assert read("val_acc=0.91 step=300") == [("val_acc", 0.91, 300)]


def test_name_colon_value_without_iteration():
    assert read("val_acc: 0.91") == [("val_acc", 0.91, None)]


def test_example_training_accuracy():
    assert read("train accuracy 0.958") == [("train_accuracy", 0.958, None)]


def test_example_training_epoch_line():
    assert read("epoch 1/2 loss 0.6931") == [("loss", 0.6931, 1)]


def test_keras_epoch_line_of_its_own_is_the_last_iteration():
    reader = MetricReader()
    assert read("Epoch 3/20", reader) == []
    line = "1875/1875 [==============================] - 3s 2ms/step - loss: 0.2938 - val_accuracy: 0.9140"
    assert read(line, reader) == [("train_loss", 0.2938, 3), ("val_accuracy", 0.914, 3)]
    assert reader.last_iteration == 3


def test_last_iteration_is_none_before_any_counter():
    reader = MetricReader()
    read("val_acc: 0.91", reader)
    assert reader.last_iteration is None


def test_last_iteration_follows_the_latest_line():
    reader = MetricReader()
    read("step 10 loss 1.0", reader)
    read("step 20 loss 0.5", reader)
    read("val_acc: 0.91", reader)
    assert reader.last_iteration == 20


def test_a_step_wins_over_an_epoch():
    assert read("epoch 2 step 5000 loss 0.3") == [("loss", 0.3, 5000)]


def test_counters_are_not_metrics():
    assert read("epoch=3 batch=7 global_step=70 loss=0.25") == [("loss", 0.25, 70)]


def test_only_a_split_joins_the_name():
    assert read("INFO loss 0.5, mean training loss 0.4, Test set: Average loss: 0.3") == [
        ("loss", 0.5, None), ("training_loss", 0.4, None), ("loss", 0.3, None)]


def test_negative_scientific_and_bare_fraction_values():
    assert read("lr=-1e-3 loss=.5 acc 3.") == [("lr", -0.001, None), ("loss", 0.5, None), ("acc", 3.0, None)]


def test_a_sentence_full_stop_ends_the_number():
    assert read("final val_acc is 0.91.") == []
    assert read("final val_acc 0.91.") == [("val_acc", 0.91, None)]


def test_trailing_newline_is_ignored():
    assert read("loss 0.5\n") == [("loss", 0.5, None)]


def test_carriage_return_keeps_the_last_redraw():
    assert read("loss 0.9\rloss 0.5\r\n") == [("loss", 0.5, None)]


# Junk that must give nothing.

def test_example_loaded_images_is_not_a_metric():
    assert read("loaded 24 images of 2 classes from data/images/") == []


def test_line_without_digits():
    assert read("training finished, loss went down") == []


def test_traceback_lines_give_nothing_and_the_next_line_is_read():
    reader = MetricReader()
    lines = ["Traceback (most recent call last):", '  File "x.py", line 3, in <module>', "    loss = 0.5 * x",
             "ValueError: loss 3 is not 4"]
    assert [read(line, reader) for line in lines] == [[], [], [], []]
    assert read("loss 0.2", reader) == [("loss", 0.2, None)]


def test_file_line_outside_a_traceback():
    assert read('  File "x.py", line 3, in compute_loss') == []


def test_tqdm_bar_is_not_read_even_with_a_postfix():
    assert read("45%|████▌     | 45/100 [00:01<00:02, 30.1it/s, loss=0.3]") == []


def test_lightning_epoch_bar_is_not_read():
    assert read("Epoch 1: 100%|██████████| 10/10 [00:01<00:00,  9.80it/s, v_num=0, train_loss=0.31]") == []


def test_namespace_dump_is_not_read():
    assert read("Namespace(lr=0.1, epochs=20, batch_size=8, loss_weight=0.5)") == []


def test_config_dict_dump_is_not_read():
    assert read("{'lr': 0.1, 'epochs': 20}") == []


def test_log_timestamp_is_not_a_metric():
    assert read("2024-01-01 12:00:00 INFO epoch 3 loss 0.5") == [("loss", 0.5, 3)]


def test_log_timestamp_with_milliseconds_is_not_a_metric():
    assert read("2024-01-01 12:00:00,123 INFO loss 0.5") == [("loss", 0.5, None)]


def test_ip_address_and_port_are_not_metrics():
    assert read("loss server at 192.168.0.1:8080") == []


def test_version_is_not_a_metric():
    assert read("torch 2.13.0") == []
    assert read("using torch 2.13.0 for the loss") == []


def test_file_path_with_digits_is_not_a_metric():
    assert read("saved ckpt/epoch_3/val_loss_0.31.pt") == []


def test_plain_number_after_a_non_metric_name_is_not_read():
    assert read("Python 3.8 on cuda 12.1, batch_size 32, seed 42") == []


def test_numbers_too_long_for_int_or_float_are_skipped():
    assert read("step " + "9" * 5000 + " loss 0.5") == [("loss", 0.5, None)]
    assert read('{"loss": ' + "9" * 400 + ', "acc": 1}') == [("acc", 1.0, None)]


# ClearML graphs.

def test_split_name_goes_to_the_graph_of_the_rest():
    assert metric_key("val_acc") == ("acc", "val")


def test_plain_name_is_its_own_graph_and_line():
    assert metric_key("loss") == ("loss", "loss")


def test_metric_key_normalises_a_printed_name():
    assert metric_key("Val Acc") == ("acc", "val")
    assert metric_key("train/loss") == ("loss", "train")


def test_a_bare_split_is_its_own_graph():
    assert metric_key("test") == ("test", "test")


# A pattern of the user's own.

def test_pattern_with_name_and_value_groups():
    reader = MetricReader(r"(?P<name>\w+)=(?P<value>[-\d.e]+)")
    assert read("Val/Acc: 1 val_acc=0.91 f=e step=300", reader) == [("val_acc", 0.91, 300)]


def test_pattern_with_groups_named_after_metrics():
    reader = MetricReader(r"loss (?P<loss>[\d.]+) acc (?P<acc>[\d.]+)")
    assert read("loss 0.5 acc 0.8", reader) == [("loss", 0.5, None), ("acc", 0.8, None)]


def test_pattern_with_a_step_group():
    reader = MetricReader(r"(?P<step>\d+) (?P<loss>[\d.]+)")
    assert read("12 0.75", reader) == [("loss", 0.75, 12)]
    assert reader.last_iteration == 12


def test_pattern_with_an_epoch_group():
    assert read("e7 loss 0.5", MetricReader(r"e(?P<epoch>\d+) loss (?P<loss>[\d.]+)")) == [("loss", 0.5, 7)]


def test_pattern_without_an_iteration_group_takes_the_line_counter():
    assert read("epoch 3 loss 0.5", MetricReader(r"loss (?P<loss>[\d.]+)")) == [("loss", 0.5, 3)]


def test_pattern_reads_what_the_auto_rule_would_not():
    assert read("loaded 24 images", MetricReader(r"(?P<images>\d+) images")) == [("images", 24.0, None)]


def test_pattern_is_not_searched_in_a_traceback():
    reader = MetricReader(r"line (?P<line>\d+)")
    assert read("Traceback (most recent call last):", reader) == []
    assert read('  File "x.py", line 3, in <module>', reader) == []


def test_pattern_skips_text_that_is_not_a_number():
    assert read("loss x1", MetricReader(r"loss (?P<loss>\S+)")) == []


def test_invalid_pattern_is_one_line_naming_the_fix():
    with pytest.raises(HatError) as caught:
        MetricReader("loss (")
    assert "not a valid regex" in str(caught.value) and "(?P<name>" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_pattern_without_groups_is_refused():
    with pytest.raises(HatError, match="no group naming a metric"):
        MetricReader("loss")


def test_pattern_with_only_an_iteration_group_is_refused():
    with pytest.raises(HatError, match="no group naming a metric"):
        MetricReader(r"step (?P<step>\d+)")


def test_pattern_with_name_but_no_value_is_refused():
    with pytest.raises(HatError, match="without the other"):
        MetricReader(r"(?P<name>\w+)")


# The setting.

def test_setting_off_reads_nothing():
    assert make_reader("off") is None


def test_setting_auto_reads_by_the_rule():
    reader = make_reader("auto")
    assert reader is not None and read("epoch 3/20 loss 0.4521", reader) == [("loss", 0.4521, 3)]


def test_setting_regex_reads_by_the_regex():
    reader = make_reader(r"score=(?P<my_score>\d+)")
    assert reader is not None and read("score=9", reader) == [("my_score", 9.0, None)]


def test_setting_invalid_regex_is_a_hat_error():
    with pytest.raises(HatError):
        make_reader("[")


# Properties.

@given(st.text())
def test_any_text_reads_without_error(line):
    for metric in MetricReader().read(line):
        assert isinstance(metric.value, float)


@given(st.sampled_from(["loss", "val_acc", "train_loss", "eval_f1", "top1"]),
       st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([" ", ": ", "=", " = "]))
def test_a_printed_metric_reads_back_exactly(name, value, binder):
    assert read(f"{name}{binder}{value!r}") == [(name, value, None)]


@given(st.lists(st.sampled_from(["2024-01-01", "12:00:00", "192.168.0.1", "2.13.0", "30.1it/s", "ckpt/epoch_3.pt",
                                 "v1.2", "loss_curve.png", "12ms", "3/20", "(99%)", "[00:01<00:02]", "-", "|"]),
                min_size=1, max_size=8))
def test_junk_pieces_give_nothing(pieces):
    assert read(" ".join(pieces)) == []


line_pieces = st.sampled_from(["loss", "Val Acc", "epoch", "step", "iter", "batch", "train", "{", "}", "'loss'", ":",
                               "=", "/", "[", "]", "|", ",", "%", "\r", "Traceback (most recent call last):", "  ",
                               "Namespace(", "1.0", "-3", "0.27", "5e-05", "9" * 30, "1e999", "12:00", "2.13.0"])


@given(st.lists(line_pieces | st.integers().map(str), max_size=12), st.sampled_from(["", " "]))
def test_lines_of_counters_numbers_and_punctuation_read_without_error(pieces, glue):
    reader = MetricReader()
    for metric in reader.read(glue.join(pieces)):
        assert isinstance(metric.value, float) and (metric.iteration is None or isinstance(metric.iteration, int))
