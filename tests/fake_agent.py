"""A stand-in for clearml-agent: pull one task from a queue and run a command for it, as the agent would.

    result = run_next(clearml_server.standin, "compute", ["python", "hat.py"], cwd=tmp_path,
                      env=clearml_server.env)

Like the real agent it talks to the server over HTTP, marks the task started (force), runs the command in a
fresh process with the agent's environment, sends the process's output to the task's console log, and sets
the final status from the exit code. Unlike it, it installs nothing, clones nothing and runs in the given cwd.

The remote-run tests use the real agent (tests/real_agent.py). This one is still used where only the SDK's side
of an agent run is under test and speed matters (about 1.5 s a task instead of 3-5 s, and no git repository
needed): tests/test_standin.py (the stand-in's agent-mode contract with the SDK: server values win, a failed run
is marked failed) and tests/test_datasets_s3.py (the --s3 agent run from the project folder, with moto's S3).
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Dict, List, Sequence, Union

from tests.clearml_standin import ApiStandIn


def run_next(
    standin: ApiStandIn,
    queue_name: str,
    command: Sequence[str],
    cwd: Union[str, os.PathLike],
    env: Dict[str, str],
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """Run `command` for the next task in `queue_name`; raises LookupError when the queue is empty.
    `env` must hold CLEARML_CONFIG_FILE (the agent's own configuration, passed on to the task)."""
    if "CLEARML_CONFIG_FILE" not in env:
        raise ValueError("env must name the agent's clearml.conf in CLEARML_CONFIG_FILE")
    queues = standin.call("queues.get_all", {"name": f"^{queue_name}$", "only_fields": ["id"]})["queues"]
    if not queues:
        raise LookupError(f"no queue named {queue_name!r}")
    entry = standin.call("queues.get_next_task", {"queue": queues[0]["id"]}).get("entry")
    if not entry:
        raise LookupError(f"queue {queue_name!r} is empty")
    task_id = entry["task"]
    standin.call("tasks.started", {"task": task_id, "force": True, "status_reason": "worker started execution"})

    child_env = {k: v for k, v in env.items() if k not in ("CLEARML_PROC_MASTER_ID", "TRAINS_PROC_MASTER_ID")}
    child_env.update(
        CLEARML_TASK_ID=task_id,
        TRAINS_TASK_ID=task_id,
        # The agent captures the console itself, so the SDK in the child must not send it as well.
        CLEARML_LOG_TASK_TO_BACKEND="0",
        CLEARML_LOG_LEVEL=env.get("CLEARML_LOG_LEVEL", "INFO"),
    )
    result = subprocess.run(
        list(command), cwd=cwd, env=child_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    # The real agent interleaves both streams in one log; here stdout comes first, then stderr.
    _send_log(standin, task_id, result.stdout.splitlines(), "info")
    _send_log(standin, task_id, result.stderr.splitlines(), "error")

    if result.returncode == 0:
        standin.call("tasks.completed", {"task": task_id, "force": True, "status_reason": "worker execution done"})
    else:
        reason = f"worker execution exit code {result.returncode}"
        standin.call("tasks.failed", {"task": task_id, "force": True, "status_reason": reason})
    return result


def _send_log(standin: ApiStandIn, task_id: str, lines: List[str], level: str) -> None:
    timestamp = int(time.time() * 1000)
    events = [
        {"type": "log", "task": task_id, "timestamp": timestamp, "worker": "fake-agent", "level": level, "msg": line}
        for line in lines
    ]
    if events:
        standin.call("events.add_batch", events)
