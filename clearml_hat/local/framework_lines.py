"""The lines training frameworks print, read by their own format: complete curves at the step the line shows.

    lines = FrameworkLines()
    lines.read("Train: 1 [   2/4 ( 75%)]  Loss: 0.70 (0.71)  Time: 1.4s  LR: 1.0e-02  Data: 0.1 (0.1)")
    # [Point(title='loss', series='train', value=0.7, iteration=6), Point('lr', 'train', 0.01, 6)]
    lines.read("some other line")  # None: not a framework's line, the general rule (metrics.py) reads it

A framework's line gives one point per printed value, at an iteration that grows along each curve; a running
average printed in parentheses beside a value gives none. Counters and timings (time, data_time, eta, memory,
throughput, epoch, v_num...) give no point: they are not metrics of the model. Lines a framework redraws (progress
bars) give their values once, when the bar is finished. The formats:

- timm `Train: E [  I/N ( P%)]  Loss: v (avg) ... LR: v`: series `train` at E * N + I. `Test: [  I/L]  Loss: v (avg)
  Acc@1: v (avg)`: only the pass's last line (I == L), with its averages (the pass's result), series `test` (`Test
  (EMA)`: `test_ema`), at the last training step shown.
- Hugging Face Trainer dicts (4.x numbers, 5.x quoted numbers): the log `{'loss': ..., 'epoch': 0.5}` as series
  `train`, `{'eval_loss': ...}` as `eval`, the final `{'train_runtime': ..., 'train_loss': ...}` as `loss/train_mean`.
  Their step is the training bar's count the Trainer redraws right after the dict (its tqdm bar), else the dict's
  `step`, else the count of dicts so far (with `disable_tqdm` no bar shows the step).
- Lightning's TQDMProgressBar `Epoch E: 100%|...| N/N [..., v_num=0, train_loss=.., val_loss=..]`: what the bar shows
  when the epoch's bar is done (its last redraw before the next epoch), at (E + 1) * N, names as printed.
- mmengine `Epoch(train) [E][I/N]`, `Iter(train) [I/N]`: series `train` at (E - 1) * N + I or I; `Epoch(val) [E][..]`,
  `Iter(val)`, `(test)`: series `val`/`test` at the end of epoch E (E * N), or the last training iteration shown.
- detectron2's CommonMetricPrinter `iter: I  total_loss: v  loss_cls: v ... lr: v`: series `train` at I.
- fairseq `| train_inner | epoch 001: ... loss=v, ..., num_updates=U, lr=v`: series `train`; `| valid | ...`: series
  `valid`; the epoch summary `| train | ...`: series `train_epoch`; all at num_updates. Its other log lines
  (`| fairseq.checkpoint_utils | Saved checkpoint ... score 7.891`) give nothing.
- Keras 3 `N/N ━━━━ 0s 5ms/step - accuracy: v - loss: v - val_loss: v` (and verbose=2's `N/N - 0s - ...`): the
  epoch's last line only (the others are running averages), at the epoch of the `Epoch E/T` line before it (a later
  `fit()` that counts from 1 again goes on from the last epoch shown); names without `val_` go to series `train`.
"""
from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Optional, Tuple

from clearml_hat.local.python_literal import python_literal

# Not metrics of the model: where the line is, how long it took, how fast, how much memory.
_NOT_METRICS = frozenset((
    "time", "data", "data_time", "last_time", "last_data_time", "eta", "memory", "max_mem", "epoch", "step",
    "iter", "iteration", "v_num", "total_flos", "wps", "ups", "wpb", "bsz", "num_updates", "train_wall", "gb_free",
    "wall", "loss_scale", "clip", "runtime", "samples_per_second", "steps_per_second", "it_s", "s_it",
))
_NOT_METRIC_ENDS = tuple("_" + name for name in _NOT_METRICS)
_SPLIT_PREFIXES = ("train", "val", "valid", "eval", "test")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x08]")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIMM_TRAIN = re.compile(r"\bTrain: (\d+) \[\s*(\d+)/(\d+)\s*\(\s*\d+%\)\]")
_TIMM_TEST = re.compile(r"\bTest( \(EMA\))?: \[\s*(\d+)/(\d+)\]")
_TIMM_PAIR = re.compile(r"([A-Za-z][\w@]*):\s+(" + _NUMBER + r")(s?,?)(\s*\(\s*(" + _NUMBER + r")s?,?\s*\))?")
_BAR = re.compile(r"\d+%\|[^|]*\|\s*(\d+)/(\d+) \[")
_LIGHTNING = re.compile(r"^Epoch (\d+):\s+\d+%\|[^|]*\|\s*(\d+)/(\d+) \[([^\]]*)\]")
_EQUALS_PAIR = re.compile(r"(?:^|[\s,])([A-Za-z][\w/.@-]*)=(" + _NUMBER + r")(?=[\s,\]]|$)")
_MMENGINE = re.compile(r"\b(Epoch|Iter)\((train|val|test)\)\s*(?:\[(\d+)\])?\s*\[\s*(\d+)/(\d+)\]")
_COLON_PAIR = re.compile(r"(?:^|\s)([A-Za-z][\w/.@-]*):\s+(" + _NUMBER + r")(?=\s|$)")
_DETECTRON2 = re.compile(r"(?:^|\s)iter: (\d+)\s+(?=\S*loss\S*: )")
_FAIRSEQ = re.compile(r"\| (train_inner|train|valid) \|")
_FAIRSEQ_PAIR = re.compile(r"(?:^|[\s,|])(\w+)[= ](" + _NUMBER + r")(?=[\s,|]|$)")
_NUM_UPDATES = re.compile(r"\bnum_updates[= ](\d+)")
_KERAS_EPOCH = re.compile(r"^Epoch (\d+)/(\d+)\s*$")
_KERAS_STEP = re.compile(r"^\s*(\d+)/(\d+) (?:[━─=.>\[\]]+ |- )")
_KERAS_PAIR = re.compile(r" - ([A-Za-z][\w/.@-]*): (" + _NUMBER + r")(?=\s|$)")
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9]+")


class Point(NamedTuple):
    """One value of a framework's line on a ClearML graph (`title`) and line (`series`)."""

    title: str
    series: str
    value: float
    iteration: int


class _PendingDict(NamedTuple):
    values: List[Tuple[str, str, float]]
    step: Optional[int]


class FrameworkLines:
    """Reads the lines of the frameworks above, in the order they were printed; keeps what spans lines."""

    def __init__(self) -> None:
        self._last_train: Optional[int] = None  # the last training step a line showed, for validation lines
        self._per_epoch: Dict[str, int] = {}  # framework -> steps per epoch, from its training lines
        self._hf_pending: Optional[_PendingDict] = None
        self._hf_logs = 0
        self._lightning_pending: Optional[List[Point]] = None
        self._keras_epoch: Optional[int] = None
        self._keras_before = 0  # epochs of earlier fit() calls: a second fit counts from Epoch 1 again

    @staticmethod
    def clean(line: str) -> str:
        """The line without terminal colours and backspaces (Keras draws its bar with them)."""
        return _ANSI.sub("", line) if ("\x1b" in line or "\x08" in line) else line

    def redraws(self, segments: List[str]) -> List[Point]:
        """Text a `\\r` redraw overwrote on the same line: a Trainer's bar there still gives a pending dict its step."""
        points: List[Point] = []
        for segment in segments:
            if "%|" in segment:
                points += self._bar(segment) or []
        return points

    def read(self, line: str) -> Optional[List[Point]]:
        """The points of one line of a framework (maybe of an earlier line that waited), or None for any other."""
        if "%|" in line:
            return self._bar(line)
        # Each framework's reader, tried where its line's marks are (cheap tests before the regexes).
        readers = [
            ("{" in line and "epoch" in line, self._hf_dict),
            ("Train: " in line or "Test" in line, self._timm),
            ("(train)" in line or "(val)" in line or "(test)" in line, self._mmengine),
            ("iter: " in line, self._detectron2),
            ("| t" in line or "| valid |" in line or "| fairseq" in line, self._fairseq),
        ]
        for marked, read in readers:
            found = read(line) if marked else None
            if found is not None:
                return found
        if "/" in line:
            return self._keras(line)
        return None

    def finish(self) -> List[Point]:
        """What waited for a later line when the output ends."""
        points = self._lightning_done()
        if self._hf_pending is not None:
            points += self._hf_resolve(None)
        return points

    # --- timm ---

    def _timm(self, line: str) -> Optional[List[Point]]:
        train = _TIMM_TRAIN.search(line)
        if train:
            epoch, index, total = (int(group) for group in train.groups())
            self._per_epoch["timm"] = total
            step = self._train_step(epoch * total + index)
            pairs = [(name, float(value)) for name, value, unit, _, _ in _TIMM_PAIR.findall(line[train.end():])]
            return self._points(pairs, "train", step)
        test = _TIMM_TEST.search(line)
        if not test:
            return None
        if int(test[2]) != int(test[3]):
            return []  # a batch of the pass: the pass's result is on its last line
        series = "test_ema" if test[1] else "test"
        found = _TIMM_PAIR.findall(line[test.end():])
        pairs = [(name, float(average or value)) for name, value, _, _, average in found]
        return self._points(pairs, series, self._last_train or 0)

    # --- Hugging Face Trainer ---

    def _hf_dict(self, line: str) -> Optional[List[Point]]:
        start, end = line.find("{"), line.rfind("}")
        try:
            values = python_literal(line[start:end + 1]) if 0 <= start < end else None
        except ValueError:
            return None
        if not isinstance(values, dict) or "epoch" not in values:
            return None
        numbers = {_normalised(str(key)): _float(value) for key, value in values.items()}
        if not any(key == "loss" or key.startswith(("eval_", "train_", "test_")) for key in numbers):
            return None
        summary = "train_runtime" in numbers
        named = []
        for key, value in numbers.items():
            if value is None or key in _NOT_METRICS or key.endswith(_NOT_METRIC_ENDS):
                continue
            if summary:
                title, series = (key[len("train_"):], "train_mean") if key.startswith("train_") else (key, "train_mean")
            else:
                title, series = _title_series(key, "train")
            named.append((title, series, value))
        step = numbers.get("step") or numbers.get("global_step")
        points = self._hf_resolve(None) if self._hf_pending is not None else []
        self._hf_logs += 1
        self._hf_pending = _PendingDict(named, int(step) if step is not None else None)
        return points

    def _bar(self, line: str) -> Optional[List[Point]]:
        lightning = _LIGHTNING.match(line)
        if lightning:
            return self._lightning(lightning)
        bar = _BAR.search(line)
        if bar and self._hf_pending is not None:
            return self._hf_resolve(int(bar[1]))
        return []  # any other progress bar: a running value redrawn many times a second

    def _hf_resolve(self, bar_step: Optional[int]) -> List[Point]:
        pending = self._hf_pending
        self._hf_pending = None
        if pending is None or not pending.values:
            return []
        step = pending.step if pending.step is not None else bar_step
        if step is None:
            step = self._hf_logs
        if any(series == "train" for _, series, _ in pending.values):
            self._train_step(step)
        return [Point(title, series, value, step) for title, series, value in pending.values]

    # --- Lightning ---

    def _lightning(self, match: re.Match) -> List[Point]:
        epoch, index, total = int(match[1]), int(match[2]), int(match[3])
        if index != total:
            return self._lightning_done()
        step = (epoch + 1) * total
        pairs = [(name, float(value)) for name, value in _EQUALS_PAIR.findall(match[4])]
        self._lightning_pending = [Point(*_title_series(_normalised(name), None), value, step)
                                   for name, value in pairs if _normalised(name) not in _NOT_METRICS]
        return []

    def _lightning_done(self) -> List[Point]:
        points, self._lightning_pending = self._lightning_pending or [], None
        if points:
            self._train_step(points[0].iteration)
        return points

    # --- mmengine ---

    def _mmengine(self, line: str) -> Optional[List[Point]]:
        match = _MMENGINE.search(line)
        if not match:
            return None
        loop, split, epoch, index, total = match[1], match[2], match[3], int(match[4]), int(match[5])
        pairs = [(name, float(value)) for name, value in _COLON_PAIR.findall(line[match.end():])]
        if split == "train":
            if loop == "Epoch" and epoch:
                self._per_epoch["mmengine"] = total
                step = self._train_step((int(epoch) - 1) * total + index)
            else:
                step = self._train_step(index)
            return self._points(pairs, "train", step)
        per_epoch = self._per_epoch.get("mmengine")
        step = int(epoch) * per_epoch if loop == "Epoch" and epoch and per_epoch else (self._last_train or 0)
        return self._points(pairs, split, step)

    # --- detectron2 ---

    def _detectron2(self, line: str) -> Optional[List[Point]]:
        match = _DETECTRON2.search(line)
        if not match:
            return None
        step = self._train_step(int(match[1]))
        pairs = [(name, float(value)) for name, value in _COLON_PAIR.findall(line[match.end():])]
        return self._points(pairs, "train", step)

    # --- fairseq ---

    def _fairseq(self, line: str) -> Optional[List[Point]]:
        match = _FAIRSEQ.search(line)
        updates = _NUM_UPDATES.search(line)
        if not match or not updates:  # fairseq's other log lines: "Saved checkpoint ... (score 7.891)" is no curve
            return [] if "| fairseq" in line else None
        step = int(updates[1])
        kind = match[1]
        series = {"train_inner": "train", "train": "train_epoch", "valid": "valid"}[kind]
        if kind == "train_inner":
            self._train_step(step)
        pairs = [(name, float(value)) for name, value in _FAIRSEQ_PAIR.findall(line[match.end():])
                 if name != "epoch"]
        return self._points(pairs, series, step)

    # --- Keras 3 ---

    def _keras(self, line: str) -> Optional[List[Point]]:
        epoch = _KERAS_EPOCH.match(line)
        if epoch:  # also the general rule's: a line without a step is at this epoch
            if self._keras_epoch is not None and int(epoch[1]) <= self._keras_epoch - self._keras_before:
                self._keras_before = self._keras_epoch
            self._keras_epoch = self._keras_before + int(epoch[1])
            return None
        step = _KERAS_STEP.match(line)
        if not step or self._keras_epoch is None:
            return None
        if step[1] != step[2]:
            return []  # within the epoch: running averages
        pairs = [(name, float(value)) for name, value in _KERAS_PAIR.findall(line[step.end() - 1:])]
        return self._points(pairs, "train", self._train_step(self._keras_epoch))

    # --- shared ---

    def _train_step(self, step: int) -> int:
        self._last_train = step
        return step

    @staticmethod
    def _points(pairs: List[Tuple[str, float]], split: str, step: int) -> List[Point]:
        points = []
        for name, value in pairs:
            key = _normalised(name)
            if key not in _NOT_METRICS:
                points.append(Point(*_title_series(key, split), value, step))
        return points


def _title_series(key: str, split: Optional[str]) -> Tuple[str, str]:
    """`val_loss` is loss/val whatever the line; another name is NAME/split, or NAME/NAME without a split."""
    prefix, _, rest = key.partition("_")
    if prefix in _SPLIT_PREFIXES and rest:
        return rest, prefix
    return (key, split) if split else (key, key)


def _normalised(name: str) -> str:
    return _NOT_NAME_CHARS.sub("_", name.lower().replace("@", "")).strip("_")


def _float(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None
