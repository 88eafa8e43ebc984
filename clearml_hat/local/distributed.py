"""Distributed training under the hat: torch's own launcher (torchrun) runs the ranks, the hat keeps one task.

    python hat.py --nproc_per_node 2 ...                       # 2 ranks on this machine, one ClearML task
    torchrun --nproc_per_node 2 hat.py ...                     # the same, typed by hand (see torchrun_rank)
    python hat.py --remote --nodes 2 --nproc_per_node 4 ...    # 2 agents x 4 ranks (Task.launch_multi_node)

The process that starts torchrun (`python hat.py` here, or on each agent) owns the task: it connected the
sections, it echoes every rank's console lines (torchrun marks each with `[rank<N>]:`) into the task's log, it
records rank 0's result, and it ends the task with torchrun's exit code. Each rank runs `python -m
clearml_hat.local.rank`, which attaches to that task (see rank.py) and calls the training with the same argv.
No ClearML here: this module is the launcher, dist_tracking.py is the ClearML side.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Sequence

from clearml_hat.errors import HatError

HAT_ROOT = Path(__file__).resolve().parents[2]
# torchrun's default prefix is `[<role><local rank>]:` (`[default1]:`), the same on every node; the global rank
# tells the lines of a multi-node job apart.
LINE_PREFIX = "[rank${rank}]:"


@dataclass
class Node:
    """This machine's place in a multi-node job, as ClearML's launch_multi_node hands it out."""

    nodes: int
    node_rank: int
    master_addr: str
    master_port: int


@dataclass
class Launched:
    exit_code: int
    result: Any  # what rank 0's main() returned, when it is something the task records (a path, a dict of numbers)


def wanted(nproc_per_node: int, nodes: int) -> bool:
    return nproc_per_node > 1 or nodes > 1


def check_settings(nproc_per_node: int, nodes: int, remote: bool) -> None:
    """Bad launch flags are found before the YAML is read and before any task exists."""
    if nproc_per_node < 1:
        raise HatError(f"--nproc_per_node {nproc_per_node}: give the number of processes per machine, 1 or more")
    if nodes < 1:
        raise HatError(f"--nodes {nodes}: give the number of machines, 1 or more")
    if nodes > 1 and not remote:
        raise HatError(f"--nodes {nodes} needs --remote: the nodes are clearml-agents; on this machine use "
                       "--nproc_per_node alone")
    if torchrun_rank() is not None and (wanted(nproc_per_node, nodes) or remote):
        raise HatError("--nproc_per_node/--nodes/--remote under torchrun: torchrun already started the ranks here; "
                       "run `python hat.py` with these flags instead")
    if wanted(nproc_per_node, nodes) and not remote:
        check_torch()


def check_torch() -> None:
    """torchrun is torch's: a launch on a machine without torch stops here, with the fix."""
    if importlib.util.find_spec("torch") is None:
        raise HatError("--nproc_per_node/--nodes launch the ranks with torch's torchrun, and torch is not installed "
                       f"for {sys.executable}: pip install torch (or run without these flags)")


def torchrun_rank() -> Optional[int]:
    """The global rank when this process is a rank of a torchrun the hat did not start (typed by hand), else None.

    torchrun sets TORCHELASTIC_RUN_ID in every rank; the hat's own ranks run clearml_hat.local.rank, never hat.py.
    """
    if os.environ.get("TORCHELASTIC_RUN_ID") is None:
        return None
    return int(os.environ.get("RANK", "0"))


def torchrun_command(script: Path, argv: Sequence[str], nproc_per_node: int, node: Optional[Node],
                     log_dir: Path, result_file: Path) -> List[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc_per_node),
               "--log_dir", str(log_dir), "--tee", "3"]  # --tee 3: every rank's stdout and stderr, prefixed
    if node is None:
        command.append("--standalone")  # one machine: torchrun's own rendezvous on a free port
    else:
        command += ["--nnodes", str(node.nodes), "--node_rank", str(node.node_rank),
                    "--master_addr", node.master_addr, "--master_port", str(node.master_port)]
    return command + ["-m", "clearml_hat.local.rank", str(result_file), str(script), *argv]


def rank_env(task_id: Optional[str]) -> Dict[str, str]:
    """The ranks' environment: this one, plus what they need to find the hat and the task."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HAT_ROOT), env.get("PYTHONPATH")]))
    # torchrun sends the ranks' output to files it tails: unbuffered, a line shows when it is printed.
    env.update(PYTHONUNBUFFERED="1", TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE=LINE_PREFIX)
    if task_id:
        # With the task id (as clearml-agent gives it) and the owner's CLEARML_PROC_MASTER_ID, which Task.init put
        # in this environment, a rank's Task.init attaches to the task and creates none. Without the id, a local
        # rank > 0 would wait 30 s for the anchor file of a local rank 0 that never creates the task.
        env["CLEARML_TASK_ID"] = task_id
    return env


def launch(script: Path, argv: Sequence[str], nproc_per_node: int, node: Optional[Node] = None,
           task_id: Optional[str] = None) -> Launched:
    """Run the training as torchrun ranks and wait; every console line goes through this process's streams."""
    with tempfile.TemporaryDirectory(prefix="hat-torchrun-") as folder:
        result_file = Path(folder) / "result.json"
        command = torchrun_command(script, argv, nproc_per_node, node, Path(folder) / "logs", result_file)
        process = subprocess.Popen(command, env=rank_env(task_id), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, errors="replace")
        echoes = [threading.Thread(target=_echo, args=(process.stdout, sys.stdout), daemon=True),
                  threading.Thread(target=_echo, args=(process.stderr, sys.stderr), daemon=True)]
        for echo in echoes:
            echo.start()
        try:
            process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached torchrun too (same process group): it stops its ranks; wait for it, so the lines
            # they print on the way out still reach the task.
            process.wait()
            raise
        finally:
            for echo in echoes:
                echo.join()
        return Launched(process.returncode, read_result(result_file))


def _echo(source: IO[str], target: IO[str]) -> None:
    """Copy torchrun's lines into this process's stream, which ClearML captures for the task's log."""
    for line in source:
        target.write(line)
        target.flush()


def write_result(result_file: Path, result: Any) -> None:
    """Rank 0 hands what main() returned to the launcher, which records it as a single process run would."""
    record: Dict[str, Any]
    if isinstance(result, (str, os.PathLike)) and Path(result).exists():
        record = {"path": str(Path(result).resolve())}
    elif isinstance(result, dict):
        record = {"values": {str(k): v for k, v in result.items()}}
    else:
        return
    try:
        result_file.write_text(json.dumps(record), encoding="utf-8")
    except TypeError:  # a dict holding more than numbers: the task records nothing of it, as without ranks
        pass


def read_result(result_file: Path) -> Any:
    if not result_file.is_file():
        return None
    record = json.loads(result_file.read_text(encoding="utf-8"))
    return Path(record["path"]) if "path" in record else record["values"]
