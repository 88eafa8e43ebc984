"""What a printed metric line costs the training: a script printing 20,000 of them, bare and tracked.

    python benchmarks/printed_lines.py              # 20,000 lines, 3 interleaved rounds after a warm-up round
    python benchmarks/printed_lines.py --rounds 5 --lines 50000
    python benchmarks/printed_lines.py --train --lines 450   # a small CNN step (torch, CPU) before each line

The script prints `step N: train loss X, lr 0.001` (two scalars a line under the hat) with stdout to /dev/null and
times its own printing loop; every case runs it in a fresh process, offline, with a temporary HOME and ClearML
cache (your clearml.conf and cache are never read or written):

- bare: `python lines.py`
- Task.init: the same script calling ClearML's own `Task.init` (offline) before its loop
- hat, --metrics off: `hat.py --offline --metrics off --script lines.py`
- hat, metrics on: `hat.py --offline --script lines.py` (the default `--metrics auto`)

Per line over bare is the median over rounds of (case - bare) / lines of the same round, from the loop's own time:
what the training's thread pays. The process's wall clock is printed beside it (start-up and the task's close
included). Goal: metrics on costs at most half of what Task.init costs per line; exit status 1 when missed.
With --train each line follows a training step of a small CNN on random images (torch on the CPU, one thread, so
the other core is free as a GPU leaves the CPU free) and the figure that counts is the training's throughput
(steps a second of its loop) against bare: goal at least 0.995 of bare with metrics on, as on the GPU machine.
Standard library only (the runs need clearml, and torch for --train).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent

SCRIPT = '''
import argparse, time

def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--timing_file", default="")
    parser.add_argument("--task_init", action="store_true")
    parser.add_argument("--train", action="store_true")
    options = parser.parse_args(args)
    step_once = small_cnn_step() if options.train else (lambda step: 1 / (step + 1))  # imports torch first, as
    if options.task_init:                                                               # training scripts do
        from clearml import Task
        Task.set_offline(True)
        Task.init(project_name="bench", task_name="printed lines")
    for step in range(20 if options.train else 0):  # warm-up: the first steps allocate
        step_once(step)
    start = time.perf_counter()
    for step in range(options.lines):
        print(f"step {step}: train loss {step_once(step):.4f}, lr 0.001")
    elapsed = time.perf_counter() - start
    with open(options.timing_file, "w") as timing:
        timing.write(repr(elapsed))

def small_cnn_step():
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(32, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    images, labels = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))

    def step_once(step):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step_once

if __name__ == "__main__":
    main()
'''
CASES = ("bare", "Task.init", "hat, --metrics off", "hat, metrics on")


def case_argv(name: str, script: Path, lines: int, timing: Path, train: bool) -> List[str]:
    script_args = ["--lines", str(lines), "--timing_file", str(timing), *(["--train"] if train else [])]
    if name == "bare":
        return [str(script), *script_args]
    if name == "Task.init":
        return [str(script), *script_args, "--task_init"]
    train_values = [f"lines={lines}", f"timing_file={timing}", *(["train=true"] if train else [])]
    metrics = ["--metrics", "off"] if name.endswith("off") else []
    return ["hat.py", "--offline", *metrics, "--script", str(script), "--train_yaml", str(script.parent / "c.yaml"),
            *train_values]


def run(name: str, root: Path, script: Path, lines: int, count: int, train: bool) -> Tuple[float, float]:
    """(seconds of the printing loop, seconds of the whole process) of one fresh run."""
    folder = root / f"run{count}"
    (folder / "home").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(HOME=str(folder / "home"), CLEARML_CACHE_DIR=str(folder / "home" / "clearml-cache"))
    timing = folder / "loop.txt"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *case_argv(name, script, lines, timing, train)], cwd=REPO, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{name} failed (exit {done.returncode}):\n{done.stderr}")
    loop = float(timing.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    return loop, wall


def main() -> int:
    parser = argparse.ArgumentParser(description="Per-line cost of printed metric lines, bare and tracked.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--train", action="store_true", help="a small CNN training step before each line (torch)")
    options = parser.parse_args()
    if options.rounds < 1 or options.lines < 1:
        sys.exit("--rounds and --lines must be at least 1")
    loops: Dict[str, List[float]] = {name: [] for name in CASES}
    walls: Dict[str, List[float]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory(prefix="hat-lines-") as folder:
        root = Path(folder)
        script = root / "lines.py"
        script.write_text(SCRIPT)
        (root / "c.yaml").write_text(f"lines: {options.lines}\ntiming_file: ''\ntask_init: false\ntrain: false\n")
        count = 0
        for round_number in range(options.rounds + 1):  # round 0 warms the file cache and .pyc files
            for name in CASES:
                count += 1
                loop, wall = run(name, root, script, options.lines, count, options.train)
                if round_number:
                    loops[name].append(loop)
                    walls[name].append(wall)
    print(f"{options.lines} printed lines{' after a CNN step each' if options.train else ''}, stdout to /dev/null, "
          f"offline; {options.rounds} interleaved rounds after a warm-up; {sys.executable}")
    if options.train:
        return throughput(loops)
    print(f"{'case':<22}{'loop s (median)':>16}{'per line over bare':>20}{'/ Task.init':>13}{'process s (median)':>20}")
    over: Dict[str, float] = {}
    for name in CASES:
        over[name] = statistics.median((case - bare) / options.lines * 1e6 for case, bare in zip(loops[name],
                                                                                                  loops["bare"]))
    for name in CASES:
        print(f"{name:<22}{statistics.median(loops[name]):>16.3f}{over[name]:>17.1f} us"
              f"{over[name] / over['Task.init']:>13.2f}{statistics.median(walls[name]):>20.2f}")
    goal = over["Task.init"] / 2
    met = over["hat, metrics on"] <= goal
    print(f"\ngoal: metrics on <= half of Task.init per line ({goal:.1f} us): {over['hat, metrics on']:.1f} us, "
          f"{'PASS' if met else 'MISS'}")
    return 0 if met else 1


def throughput(loops: Dict[str, List[float]]) -> int:
    """The training's throughput against bare's, each round's ratio, medians; the goal is on metrics on."""
    print(f"{'case':<22}{'loop s (median)':>16}{'throughput / bare':>19}")
    ratios = {name: statistics.median(bare / case for case, bare in zip(loops[name], loops["bare"]))
              for name in CASES}
    for name in CASES:
        print(f"{name:<22}{statistics.median(loops[name]):>16.3f}{ratios[name]:>19.3f}")
    met = ratios["hat, metrics on"] >= 0.995
    print(f"\ngoal: metrics on keeps >= 0.995 of bare's throughput: {ratios['hat, metrics on']:.3f}, "
          f"{'PASS' if met else 'MISS'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
