"""How long the hat takes to read a Hydra script's config, beside the script's own `python train.py --help`.

    python benchmarks/hydra_capture.py              # median of 5 rounds
    python benchmarks/hydra_capture.py --rounds 9

It copies tests/exact/ (the Hydra fixture hydra_train.py and its conf folder hydra_conf/, a defaults list with a
config group of two options) into a temporary folder, and times, each a fresh process (wall clock, the commands'
order alternating between rounds):

- bare --help: `python hydra_train.py --help` (Hydra composes the config and prints it; no training)
- yaml: `python argparse_to_yaml.py --script hydra_train.py -o config.yaml` (compose the default config and one
  config per group option, write the nested YAML)
- print_argv: `python hat.py --script hydra_train.py --print_argv optim.lr=0.5 model=large` (compose, check and
  compose again with the overrides to prove them)

Needs hydra-core. Nothing of your ClearML config is read: HOME is a temporary folder.
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
from typing import Dict, List

REPO = Path(__file__).resolve().parent.parent

COMMANDS = {
    "bare --help": ["hydra_train.py", "--help"],
    "yaml": [str(REPO / "argparse_to_yaml.py"), "--script", "hydra_train.py", "-o", "config.yaml"],
    "print_argv": [str(REPO / "hat.py"), "--script", "hydra_train.py", "--print_argv", "optim.lr=0.5", "model=large"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Time reading a Hydra script's config against its --help.")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is shown")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp) / "work"
        shutil.copytree(REPO / "tests" / "exact", work, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        home = Path(temp) / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home)}
        times: Dict[str, List[float]] = {name: [] for name in COMMANDS}
        for each in range(rounds):
            names = list(COMMANDS) if each % 2 == 0 else list(reversed(COMMANDS))
            for name in names:
                started = time.perf_counter()
                subprocess.run([sys.executable, *COMMANDS[name]], cwd=work, env=env, check=True,
                               capture_output=True)
                times[name].append(time.perf_counter() - started)
    print(f"{'command':<14} {'median s':>9} {'min s':>7} {'max s':>7}  ({rounds} rounds, {os.cpu_count()} CPUs)")
    for name, seconds in times.items():
        print(f"{name:<14} {statistics.median(seconds):>9.2f} {min(seconds):>7.2f} {max(seconds):>7.2f}")


if __name__ == "__main__":
    main()
