"""What a 2-rank local launch costs over a 1-process run of the same training under the hat.

    python benchmarks/distributed_startup.py            # 3 interleaved rounds
    python benchmarks/distributed_startup.py --rounds 5

Both cases run tests/ddp_allreduce.py (gloo on the CPU: init_process_group, one all-reduce, one DDP step) through
`hat.py --offline`, each a fresh process from the repo root with a temporary HOME and ClearML cache and no
CLEARML_*/TRAINS_* variable of this shell:

- 1 process: `hat.py --offline --script tests/ddp_allreduce.py` under torch's static env (WORLD_SIZE=1, RANK=0,
  MASTER_ADDR/PORT set), the world of one process a script gets without any launcher
- 2 ranks: the same with `--nproc_per_node 2` (torchrun, two ranks, the launcher's log echo and result hand-off)

The figure is the median over rounds of (2 ranks - 1 process) of the same round, wall clock. Needs torch.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time a 2-rank hat launch against a 1-process hat run.")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of both cases (default 3)")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(root: Path, name: str, nproc: int) -> float:
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    (folder / "home").mkdir()
    (folder / "ddp.yaml").write_text(f"value: 2.5\nout: {folder / 'ranks'}\ncrash_rank: -1\n")
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(HOME=str(folder / "home"), CLEARML_CACHE_DIR=str(folder / "home" / "cache"))
    command = [sys.executable, "hat.py", "--offline", "--script", "tests/ddp_allreduce.py", "--train_yaml",
               str(folder / "ddp.yaml")]
    if nproc > 1:
        command += ["--nproc_per_node", str(nproc)]
    else:  # what init_process_group reads when no launcher set it
        env.update(RANK="0", LOCAL_RANK="0", GROUP_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(free_port()))
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or len(list((folder / "ranks").glob("rank*.json"))) != nproc:
        sys.exit(f"{name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def main() -> int:
    args = parse_args()
    times: Dict[str, List[float]] = {"1 process": [], "2 ranks": []}
    with tempfile.TemporaryDirectory(prefix="hat-dist-bench-") as tmp:
        root = Path(tmp)
        run(root, "warm-up", 2)  # untimed: the first torch import reads it from disk
        for _ in range(args.rounds):
            times["1 process"].append(run(root, "one", 1))
            times["2 ranks"].append(run(root, "two", 2))
    for name, values in times.items():
        print(f"{name:10s} min {min(values):6.2f} s  median {statistics.median(values):6.2f} s  "
              f"max {max(values):6.2f} s")
    costs = [two - one for one, two in zip(times["1 process"], times["2 ranks"])]
    print(f"start-up cost of a 2-rank launch: median {statistics.median(costs):.2f} s "
          f"(min {min(costs):.2f}, max {max(costs):.2f}) over {args.rounds} rounds, on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
