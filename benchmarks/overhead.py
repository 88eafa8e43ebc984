"""How much time the hat adds to a training run: the bare example against the same run under hat.py.

    python benchmarks/overhead.py            # 5 interleaved runs of each case
    python benchmarks/overhead.py --runs 15

Every run is a fresh `python` process started from the repo root, timed by wall clock, with a temporary HOME and
CLEARML_CACHE_DIR and without any CLEARML_*/TRAINS_* variable of this shell: your clearml.conf and cache are never
read or written. The cases run interleaved (one of each per round) after one untimed warm-up round, so a slower
moment of the machine hits them all alike:

- bare: `train_aip.py --epochs 0 --output_dir <tmp>`
- offline: `hat.py --offline epochs=0 output_dir=<tmp>` (ClearML offline mode)
- stand-in: `hat.py epochs=0 output_dir=<tmp>`, tracked against the in-memory ClearML API stand-in
  (tests/clearml_standin.py) that this script serves itself, through a clearml.conf in CLEARML_CONFIG_FILE
- `hat.py --print_argv` and `argparse_to_yaml.py --check config.yaml`, which must never pay for ClearML

Overhead is the median over rounds of (hat - bare) of the same round. Exit status 1 when a target is missed.
Standard library only (the training itself needs numpy and Pillow, the hat runs need clearml).
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
from typing import Callable, Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `python benchmarks/overhead.py` puts benchmarks/ first, not the repo root

from tests.clearml_standin import ApiStandIn  # noqa: E402  (stdlib only, like this script)

OFFLINE_LIMIT = 1.0  # seconds added to the bare run, median
STANDIN_LIMIT = 1.5
QUICK_LIMIT = 0.3  # --print_argv and --check, absolute


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time hat.py against the bare training run (wall clock).")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case (default 5)")
    return parser.parse_args()


def clean_env(home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(HOME=str(home), CLEARML_CACHE_DIR=str(home / "clearml-cache"))
    return env


class Bench:
    """Runs the cases in fresh temporary homes and keeps their wall-clock times."""

    def __init__(self, root: Path, conf: Path) -> None:
        self.root, self.conf, self.count = root, conf, 0
        server = {"CLEARML_CONFIG_FILE": str(conf)}
        # name -> (argv and extra environment for a run folder); the hat runs get the bare run's values
        self.cases: List[Tuple[str, Callable[[Path], Tuple[List[str], Dict[str, str]]]]] = [
            ("bare train_aip.py", lambda tmp: (["train_aip.py", "--epochs", "0", "--output_dir", f"{tmp}/out"], {})),
            ("hat.py --offline", lambda tmp: (["hat.py", "--offline", "epochs=0", f"output_dir={tmp}/out"], {})),
            ("hat.py, stand-in", lambda tmp: (["hat.py", "epochs=0", f"output_dir={tmp}/out"], server)),
            ("hat.py --print_argv", lambda tmp: (["hat.py", "--print_argv"], {})),
            ("argparse_to_yaml --check", lambda tmp: (["argparse_to_yaml.py", "--check", "config.yaml"], {})),
        ]
        self.times: Dict[str, List[float]] = {name: [] for name, _ in self.cases}

    def run(self, name: str, make: Callable[[Path], Tuple[List[str], Dict[str, str]]], keep: bool) -> None:
        self.count += 1
        tmp = self.root / f"run{self.count}"
        (tmp / "home").mkdir(parents=True)
        args, extra = make(tmp)
        env = {**clean_env(tmp / "home"), **extra}
        start = time.perf_counter()
        done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{name} failed (exit {done.returncode}): {' '.join(args)}\n{done.stdout}{done.stderr}")
        if keep:
            self.times[name].append(elapsed)
        shutil.rmtree(tmp, ignore_errors=True)

    def round(self, keep: bool) -> None:
        for name, make in self.cases:
            self.run(name, make, keep)


def verdict(value: float, limit: float) -> str:
    return "PASS" if value <= limit else "MISS"


def report(times: Dict[str, List[float]], runs: int) -> bool:
    print(f"wall clock of a fresh process, seconds; {runs} interleaved runs each after a warm-up; {sys.executable}")
    print(f"{'case':<26}{'min':>8}{'median':>8}{'max':>8}")
    for name, values in times.items():
        print(f"{name:<26}{min(values):>8.3f}{statistics.median(values):>8.3f}{max(values):>8.3f}")
    bare = times["bare train_aip.py"]
    rows = []
    for name, limit in (("hat.py --offline", OFFLINE_LIMIT), ("hat.py, stand-in", STANDIN_LIMIT)):
        added = statistics.median([hat - plain for hat, plain in zip(times[name], bare)])
        ratio = statistics.median(times[name]) / statistics.median(bare)
        rows.append((f"{name} overhead", f"+{added:.3f} s (x{ratio:.1f})", f"<= {limit} s", verdict(added, limit)))
    for name in ("hat.py --print_argv", "argparse_to_yaml --check"):
        median = statistics.median(times[name])
        rows.append((name, f"{median:.3f} s", f"<= {QUICK_LIMIT} s", verdict(median, QUICK_LIMIT)))
    print(f"\n{'target (median)':<30}{'measured':<18}{'limit':<10}result")
    for row in rows:
        print(f"{row[0]:<30}{row[1]:<18}{row[2]:<10}{row[3]}")
    return all(row[3] == "PASS" for row in rows)


def main() -> int:
    args = parse_args()
    if args.runs < 1:
        sys.exit("--runs must be at least 1")
    with ApiStandIn() as standin, tempfile.TemporaryDirectory(prefix="hat-overhead-") as folder:
        root = Path(folder)
        conf = root / "clearml.conf"
        conf.write_text(standin.clearml_conf())
        bench = Bench(root, conf)
        bench.round(keep=False)  # warm-up: file cache, .pyc files
        for _ in range(args.runs):
            bench.round(keep=True)
        passed = report(bench.times, args.runs)
        print(f"(the stand-in at {standin.api_url} recorded {len(standin.tasks())} tasks, the warm-up's included)")
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
