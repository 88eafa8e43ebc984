"""Turn the lines a training prints into scalar metrics, so a script that only prints still gets ClearML graphs.

    reader = make_reader("auto")  # or "off" (None), or a regex of your own
    reader.read("epoch 3/20 loss 0.4521")
    # [Metric(name='loss', title='loss', series='loss', value=0.4521, iteration=3)]

The rule ("auto"), for one printed line:

1. A pair is a name, then a number, with a space, `:` or `=` between them: `loss 0.45`, `Loss: 0.45`, `val_acc=0.91`.
   The name is the word right before the number; the word before that joins it only if it is a split (train,
   training, val, valid, validation, eval, test, dev): `train loss 2.31` is `train_loss`, `INFO loss 0.5` is `loss`.
   Names are lower case, with every run of other characters than letters and digits made one `_` (`Val/Acc` is
   `val_acc`). The number must stand alone, so dates, times, versions, IP addresses and `30.1it/s` never count.
2. The line counts only if one of its pair names holds a metric word (loss, acc, accuracy, err, error, ppl,
   perplexity, nll, bpc, bpd, f1, precision, recall, auc, ap, map, iou, miou, dice, bleu, rouge, wer, cer, mae, mse,
   rmse, psnr, ssim, fid, reward, return, score, top1, top5) as a `_`-separated part; then all its pairs count
   (`lr 20.00`, `ppl 1023.21`, `mfu 3.2%`). So `loaded 24 images of 2 classes from data/images/`, `torch 2.13.0`,
   `File "x.py", line 3` give nothing.
3. A `{...}` on the line that parses as a JSON or Python dict (Hugging Face Trainer's
   `{'loss': 0.52, 'learning_rate': 5e-05, 'epoch': 1.0}`) gives its number values instead, by the same rule 2:
   `{'lr': 0.1, 'epochs': 20}` gives nothing.
4. Never read: tracebacks (from `Traceback (most recent call last):` through the exception line), progress bars
   (a line with `%|`, like tqdm's `45%|####5     | 45/100 [00:01<00:02, loss=0.3]`: a bar redraws many times a
   second with a running value; the script's own epoch print is the cleaner source), and reprs of settings
   (`Namespace(lr=0.1, epochs=20)`: a name, `(`, then `key=`). A line without a digit is rejected at once.

The iteration of a line: the number after `step`, `global_step`, `iter` or `iteration` (`step=300`, `iter 100:`);
failing that after `epoch` (`epoch 3/20`, `Epoch [3/20]`, `| epoch   2 |`); in a dict its `step`/`global_step`/
`iteration`/`iter` key, else an `epoch` key with a whole value (`1.0` is 1; Hugging Face's `0.27` between epochs
gives None). An epoch with its progress on the line, `| epoch   2 |   200/ 2983 batches |` (pytorch/examples
word_language_model) or `Train Epoch: 1 [640/60000 (1%)]` (mnist), counts batches (samples) from the start instead:
(epoch - first epoch) * 2983 + 200, with the first epoch 1 (0 once an epoch 0 was seen); from then on a line with
only an epoch (`| end of epoch   2 |`) is at the end of that epoch, 2 * 2983. These counters (and `batch`) are
never metrics themselves. A line without one (`val_acc: 0.91`) has iteration None; `MetricReader.last_iteration`
holds the last iteration any line showed (Keras prints `Epoch 3/20` on a line of its own), for the caller to report
it there or as a single value.

ClearML graphs: a name that starts with a split goes to the graph of the rest, as that split's line
(`val_loss` is title `loss`, series `val`); any other name is its own graph and line (`loss` is `loss`/`loss`), so
`loss`, `train_loss` and `val_loss` share the `loss` graph. `metric_key("val_acc")` gives ("acc", "val"), for a
sweep objective named like the printed metric.

Your own regex instead (`--metrics REGEX`) is searched for all its matches on every line that has a digit and is not
part of a traceback; no other rule above applies, except that a line without an iteration group takes its iteration
as above:
- groups `name` and `value` give one metric per match: `(?P<name>\\w+)=(?P<value>[-\\d.e]+)`;
- any other named group is a metric of that name: `loss (?P<loss>[\\d.]+) acc (?P<acc>[\\d.]+)`;
- a group `step`, `iteration`, `iter` or `epoch` (in this order of preference) is the iteration: `(?P<step>\\d+)`.
Text that is not a number is skipped. An invalid regex, or one without a metric group, is a HatError.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from clearml_hat.errors import HatError
from clearml_hat.local.framework_lines import FrameworkLines, Point
from clearml_hat.local.python_literal import python_literal

_SPLITS = frozenset(("train", "training", "val", "valid", "validation", "eval", "test", "dev"))
_METRIC_WORDS = ("loss", "acc", "accuracy", "err", "error", "ppl", "perplexity", "nll", "bpc", "bpd", "f1",
                 "precision", "recall", "auc", "ap", "map", "iou", "miou", "dice", "bleu", "rouge", "wer", "cer",
                 "mae", "mse", "rmse", "psnr", "ssim", "fid", "reward", "return", "score", "top1", "top5")
_METRIC_PARTS = frozenset(_METRIC_WORDS)
# A substring test that every counting line passes; most lines a training prints fail it and cost no more. Searched
# in the lowered line: with re.IGNORECASE the same search takes about five times longer.
_ANY_METRIC_WORD = re.compile("|".join(_METRIC_WORDS))
_STEP_KEYS = ("step", "global_step", "iteration", "iter")
# Counters say where a line is, they are not measured: `batch 200` is progress, not a metric.
_COUNTER_NAMES = frozenset(_STEP_KEYS + ("epoch", "batch"))

_DIGIT = re.compile(r"\d")
# Starts only at a word's start: without the lookbehind, a long word costs its length squared.
_SETTINGS_REPR = re.compile(r"(?<!\w)[A-Za-z_]\w*\(\s*[A-Za-z_]\w*=")
# Counts of at most 18 digits: int() refuses a string of more than 4300 digits, and no training counts that far.
_COUNTER = re.compile(r"(?<![\w.])(?P<key>global_step|step|iteration|iter|epoch)\b[\s:=#\[(]*"
                      r"(?P<n>\d{1,18})(?:\s*/\s*(?P<total>\d{1,18}))?(?![\w.])", re.IGNORECASE)
_FRACTION = re.compile(r"(?<![\w./:-])(?P<n>\d{1,18})\s*/\s*(?P<total>\d{1,18})(?![\w./:])")
_TOKEN = re.compile(
    # A number that stands alone: not glued to a word, a dot, or a digit and `:`, `/`, `-` before it (times,
    # dates, fractions), and followed by a separator, `%`, a sentence's full stop or `:` that starts no time.
    r"(?P<num>(?<![\w.])(?<!\d[:/-])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    r"(?=[\s,;|)\]}'\"%]|:(?!\d)|\.(?!\d)|$))"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*(?:[./-][A-Za-z0-9_]+)*)"
    r"|(?P<bind>[:=])"
    r"|(?P<sep>[,;|()\[\]{}'\"])"
    r"|(?P<blob>[^\s,;|()\[\]{}'\"]+)"
)
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9]+")


class Metric(NamedTuple):
    """One number a line printed: `name` as normalised, its ClearML graph (`title`) and line (`series`)."""

    name: str
    title: str
    series: str
    value: float
    iteration: Optional[int]


def metric_key(name: str) -> Tuple[str, str]:
    """The ClearML (title, series) of a metric name: ("acc", "val") for `val_acc` or `Val Acc`, ("loss", "loss")."""
    name = _normalised(name)
    split, _, rest = name.partition("_")
    if split in _SPLITS and rest:
        return rest, split
    return name, name


class MetricReader:
    """Reads metrics out of printed lines, one line per `read` call, in the order they were printed."""

    def __init__(self, pattern: Optional[str] = None) -> None:
        self._pattern = None if pattern is None else _compiled(pattern)
        self.last_iteration: Optional[int] = None
        self._in_traceback = False
        # Set by the first line with an epoch and its progress (N/M): the epoch's length and the first epoch.
        self._per_epoch = 0
        self._first_epoch = 1
        self._frameworks = FrameworkLines() if self._pattern is None else None

    def read(self, line: str) -> List[Metric]:
        """The metrics of one printed line (a trailing newline is fine; after a `\\r` only the last redraw counts,
        the text before it only for a framework's progress bar); a framework's line may give an earlier one's."""
        line, _, last = line.rstrip("\r\n").rpartition("\r")
        found = self.redraws(line.split("\r")) if line else []
        line = last
        if self._skips_traceback(line) or not _DIGIT.search(line):
            return found
        if self._pattern is not None:
            return self._read_pattern(self._pattern, line)
        framework = self._frameworks.read(FrameworkLines.clean(line)) if self._frameworks is not None else None
        if framework is not None:
            return found + self._framework_metrics(framework)
        if "%|" in line or ("=" in line and _SETTINGS_REPR.search(line)):
            return found
        iteration = self._iteration(line)
        if not _ANY_METRIC_WORD.search(line.lower()):
            return []
        in_dict = _dict_pairs(line)
        if in_dict is None:
            pairs = _text_pairs(line)
        else:
            pairs, dict_iteration = in_dict
            if dict_iteration is not None:
                iteration = self._seen(dict_iteration)
        if not any(_METRIC_PARTS.intersection(name.split("_")) for name, _ in pairs):
            return found
        return found + [_metric(name, value, iteration) for name, value in pairs]

    def redraws(self, segments: List[str]) -> List[Metric]:
        """Text a `\\r` redraw overwrote: a framework's progress bar there may finish a line that waited."""
        if self._frameworks is None or not any("%|" in segment for segment in segments):
            return []
        return self._framework_metrics(self._frameworks.redraws(segments))

    def finish(self) -> List[Metric]:
        """The metrics of framework lines that waited for a later line, when the output ends."""
        return self._framework_metrics(self._frameworks.finish()) if self._frameworks is not None else []

    def _framework_metrics(self, points: List[Point]) -> List[Metric]:
        if points:
            self.last_iteration = points[-1].iteration
        return [Metric(title if title == series else f"{series}_{title}", title, series, value, iteration)
                for title, series, value, iteration in points]

    def _skips_traceback(self, line: str) -> bool:
        """True for the lines of a traceback: its header, the indented frames and the exception line after them."""
        if self._in_traceback:
            self._in_traceback = line[:1] in (" ", "\t")
            return True
        if line.startswith("Traceback (most recent call last)"):
            self._in_traceback = True
            return True
        return False

    def _iteration(self, line: str) -> Optional[int]:
        step = epoch = None
        epoch_span = (0, 0)
        for match in _COUNTER.finditer(line):
            if match["key"].lower() != "epoch":
                step = int(match["n"]) if step is None else step
            elif epoch is None:
                epoch, epoch_span = int(match["n"]), match.span()
        if step is not None:
            return self._seen(step)
        if epoch is None:
            return None
        for fraction in _FRACTION.finditer(line):
            if fraction.end() <= epoch_span[0] or fraction.start() >= epoch_span[1]:
                if int(fraction["total"]) > 0:
                    self._per_epoch = int(fraction["total"])
                    self._first_epoch = min(self._first_epoch, epoch)
                    return self._seen((epoch - self._first_epoch) * self._per_epoch + int(fraction["n"]))
        if self._per_epoch:
            return self._seen((epoch - self._first_epoch + 1) * self._per_epoch)
        return self._seen(epoch)

    def _seen(self, iteration: int) -> int:
        self.last_iteration = iteration
        return iteration

    def _read_pattern(self, pattern: re.Pattern, line: str) -> List[Metric]:
        found: List[Tuple[str, float]] = []
        counters: Dict[str, str] = {}
        for match in pattern.finditer(line):
            groups = {key: text for key, text in match.groupdict().items() if text is not None}
            if "name" in groups and "value" in groups:
                groups[_normalised(groups.pop("name"))] = groups.pop("value")
            for key, text in groups.items():
                value = _number(text)
                if key in _COUNTER_NAMES:
                    counters.setdefault(key, text)
                elif value is not None:
                    found.append((_normalised(key), value))
        if not found:
            return []
        iteration = next((_whole(counters[key]) for key in _STEP_KEYS + ("epoch",) if key in counters), None)
        iteration = self._iteration(line) if iteration is None else self._seen(iteration)
        return [_metric(name, value, iteration) for name, value in found]


def make_reader(setting: str) -> Optional[MetricReader]:
    """The reader for a `--metrics` setting: "auto" (the rule above), "off" (None: read nothing) or a regex."""
    if setting == "off":
        return None
    return MetricReader(None if setting == "auto" else setting)


def _compiled(pattern: str) -> re.Pattern:
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise HatError(f"metrics pattern {pattern!r} is not a valid regex ({err}); give a Python regex with named "
                       "groups, like '(?P<name>\\w+)=(?P<value>[-\\d.e]+)', or 'auto' or 'off'") from None
    groups = set(compiled.groupindex)
    if ("name" in groups) != ("value" in groups):
        raise HatError(f"metrics pattern {pattern!r} has a group 'name' or 'value' without the other; a name=value "
                       "pattern needs both: '(?P<name>\\w+)=(?P<value>[-\\d.e]+)'")
    if not groups - _COUNTER_NAMES - {"name", "value"} and "name" not in groups:
        raise HatError(f"metrics pattern {pattern!r} has no group naming a metric; name a group after the metric, "
                       "like 'loss (?P<loss>[\\d.]+)', or use (?P<name>...) with (?P<value>...)")
    return compiled


def _text_pairs(line: str) -> List[Tuple[str, float]]:
    """(name, value) of every name followed by a number (after a space, `:` or `=`), counters left out."""
    pairs = []
    run: List[str] = []  # the words since the last separator, number or binder
    bound = False  # a `:` or `=` followed the run
    for token in _TOKEN.finditer(line):
        kind = token.lastgroup
        if kind == "word":
            if bound:
                run, bound = [], False
            run.append(token.group())
        elif kind == "bind" and run and not bound:
            bound = True
        elif kind == "num" and run:
            name = _normalised(run[-1])
            value = float(token.group())
            if name not in _COUNTER_NAMES and math.isfinite(value):
                split = run[-2].lower() if len(run) > 1 else ""
                pairs.append((f"{split}_{name}" if split in _SPLITS else name, value))
            run, bound = [], False
        else:
            run, bound = [], False
    return pairs


def _dict_pairs(line: str) -> Optional[Tuple[List[Tuple[str, float]], Optional[int]]]:
    """The number values of the line's `{...}` with the iteration its keys give, or None when there is no dict."""
    start, end = line.find("{"), line.rfind("}")
    if start < 0 or end < start:
        return None
    text = line[start:end + 1]
    try:
        values = json.loads(text)
    except ValueError:
        try:
            values = python_literal(text)
        except ValueError:
            return None
    if not isinstance(values, dict):
        return None
    numbers: Dict[str, float] = {}
    for key, value in values.items():
        number = _number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(key, str) and number is not None:
            numbers[_normalised(key)] = number
    iteration = next((_whole(numbers[key]) for key in _STEP_KEYS + ("epoch",) if key in numbers), None)
    return [(name, value) for name, value in numbers.items() if name not in _COUNTER_NAMES], iteration


def _metric(name: str, value: float, iteration: Optional[int]) -> Metric:
    title, series = metric_key(name)
    return Metric(name, title, series, value, iteration)


def _normalised(name: str) -> str:
    return _NOT_NAME_CHARS.sub("_", name.lower()).strip("_")


def _number(value: Any) -> Optional[float]:
    """A finite float from a number or its text, else None (a dict may hold an int too big for a float)."""
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _whole(value: Any) -> Optional[int]:
    """An iteration from a counter's value: 3, "3", 3.0 and "3.0" are 3; 0.27 or "x" are None."""
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None
