"""How many printed lines a second the metrics reader gets through: it sees every line a training prints.

    python benchmarks/metrics_reader.py                # 100k mixed lines, best of 3 rounds
    python benchmarks/metrics_reader.py --lines 1000000 --pattern '(?P<name>\\w+)=(?P<value>[-\\d.e]+)'

The lines cycle through the print styles the auto rule reads and the junk it must skip (log lines, tracebacks,
progress bars, config dumps), about half of each. Standard library only.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clearml_hat.local.metrics import MetricReader  # noqa: E402 (the repo root is put on the path just above)

LINES = [
    "epoch 3/20 loss 0.4521",
    "Epoch [3/20] Loss: 0.1234 Acc: 95.1",
    "step 100: train loss 2.3100, val loss 2.4000",
    "{'loss': 0.52, 'learning_rate': 5e-05, 'epoch': 1.0}",
    "| epoch   2 |   200/ 2983 batches | lr 20.00 | ms/batch 12.34 | loss  6.93 | ppl  1023.21",
    "iter 100: loss 4.2345, time 20.12ms, mfu 3.21%",
    "val_acc=0.91 step=300",
    "loaded 24 images of 2 classes from data/images/",
    "2024-01-01 12:00:00,123 INFO saving checkpoint to runs/exp3/ckpt_000300.pt",
    "45%|████▌     | 45/100 [00:01<00:02, 30.1it/s, loss=0.3]",
    "Namespace(lr=0.1, epochs=20, batch_size=8)",
    "Traceback (most recent call last):",
    '  File "train.py", line 3, in <module>',
    "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",
    "using torch 2.13.0 with cuda 12.8 on 192.168.0.1",
    "training started",
]


def lines_per_second(lines: List[str], pattern: str = None) -> float:
    reader = MetricReader(pattern)
    read = reader.read
    start = time.perf_counter()
    for line in lines:
        read(line)
    return len(lines) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="how many lines to read per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best one is printed")
    parser.add_argument("--pattern", default=None, help="a --metrics regex to time instead of the auto rule")
    args = parser.parse_args()
    lines = list(itertools.islice(itertools.cycle(LINES), args.lines))
    best = max(lines_per_second(lines, args.pattern) for _ in range(args.rounds))
    print(f"{best:,.0f} lines/s ({args.lines:,} mixed lines, {'pattern' if args.pattern else 'auto'}, "
          f"Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
