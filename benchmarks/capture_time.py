"""How long reading a script's options takes: `argparse_to_yaml.py` against the script's own `--help`.

    python benchmarks/capture_time.py              # 3 interleaved rounds
    python benchmarks/capture_time.py --rounds 5

For each fixture (tests/exact/: exact defaults, a config file by option, timm's pre-parser, a Hugging Face
dataclass script when transformers is installed) one round runs `python <script> --help` and `python
argparse_to_yaml.py --script <script> -o <tmp>` as fresh processes in a copy of tests/exact/, interleaved, after
one untimed warm-up round. Prints the medians, min-max, and capture minus --help (the hat's own cost). Your
clearml.conf and cache are never read: each process gets a temporary HOME.
"""
from __future__ import annotations

import argparse
import importlib.util
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
FIXTURES = ["defaults_train.py", "config_train.py", "preparser_train.py", "hf_args_file_train.py"]


def timed(command: List[str], cwd: Path, env: Dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=3)
    rounds = options.parse_args().rounds
    fixtures = [f for f in FIXTURES if f != "hf_args_file_train.py" or importlib.util.find_spec("transformers")]
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp) / "work"
        shutil.copytree(REPO / "tests" / "exact", work)
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
        env["HOME"] = temp
        times: Dict[str, Dict[str, List[float]]] = {f: {"help": [], "capture": []} for f in fixtures}
        for round_number in range(rounds + 1):
            for fixture in fixtures:
                help_time = timed([sys.executable, fixture, "--help"], work, env)
                capture_time = timed([sys.executable, str(REPO / "argparse_to_yaml.py"), "--script", fixture, "-o",
                                      str(Path(temp) / "out.yaml")], work, env)
                if round_number:  # the first round warms the file caches
                    times[fixture]["help"].append(help_time)
                    times[fixture]["capture"].append(capture_time)
    print(f"{'script':26} {'--help s':>10} {'capture s':>10} {'capture - help':>15}   (medians of {rounds}; min-max)")
    for fixture, measured in times.items():
        help_median, capture_median = (statistics.median(measured[k]) for k in ("help", "capture"))
        spread = f"{min(measured['capture']):.2f}-{max(measured['capture']):.2f}"
        print(f"{fixture:26} {help_median:10.2f} {capture_median:10.2f} {capture_median - help_median:15.2f}   "
              f"(capture {spread})")


if __name__ == "__main__":
    main()
