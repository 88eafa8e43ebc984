"""The ClearML side of distributed runs: ranks attach to the one task, nodes come from Task.launch_multi_node.

Every call into the clearml SDK made for torchrun ranks and multi-node runs is here; distributed.py launches.
"""
from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

from clearml_hat.clearml import sdk_private, tracking
from clearml_hat.console import Console
from clearml_hat.errors import HatError
from clearml_hat.local.distributed import Launched, Node, check_torch, launch

# ClearML keeps launch_multi_node's editable settings in this section of the task (Task._launch_multi_node_section).
MULTI_NODE_SECTION = "multi_node_instance"


def run_ranks(task: Any, script: Path, argv: Sequence[str], nproc_per_node: int, nodes: int,
              console: Console) -> Launched:
    """The owner's part of a distributed run (here, or on each agent): launch the ranks and wait. A failed launch
    fails the task; for one whose ranks all succeeded the caller records rank 0's result and closes the task."""
    check_torch()
    node = multi_node(task, nodes, nproc_per_node) if nodes > 1 else None
    launched = launch(script, argv, nproc_per_node, node, task_id=None if task.is_offline() else task.id)
    if launched.exit_code:
        reason = f"torchrun exited with code {launched.exit_code}: a rank failed, its traceback is in the log"
        console.note(reason)
        if not tracking.running_under_agent():  # on an agent, clearml-agent fails the task with the exit code
            fail_task(task, reason)
    return launched


def attach_rank() -> Any:
    """Task.init in a rank: with CLEARML_TASK_ID and the owner's CLEARML_PROC_MASTER_ID set, the SDK takes the
    process for a subprocess of the owner and returns the owner's task (Task.get_task): it creates no task, marks
    no status at exit and writes nothing the rank does not report. The owner already captures every rank's console
    (torchrun's tee), so the rank's own capture is off; ClearML's framework bindings stay on."""
    from clearml import Task

    sdk_private.report_in_a_thread()
    sdk_private.without_config_bindings()  # a parse would get the task's `Args`, not the hat's argv
    task: Any = Task.init(auto_connect_arg_parser=False, auto_connect_streams=False, auto_resource_monitoring=False,
                     reuse_last_task_id=False)
    sdk_private.out_of_logging_shutdown()  # a training's logging.config.dictConfig must not close it (a hang)
    return task


def multi_node(task: Any, nodes: int, nproc_per_node: int) -> Node:
    """This agent's node. On node 0 (the enqueued task) ClearML clones the task nodes-1 times, each clone a hidden
    child on the same queue with its node rank in the runtime properties; on a clone it reads them back.

    launch_multi_node reads the node count from its own section when the task has one (a clone of an earlier run
    does): the hat section's `nodes` is the one a user edits, so node 0 writes it there first.
    """
    recorded = task.get_parameter(f"{MULTI_NODE_SECTION}/total_num_nodes", cast=True)
    if not _is_clone_node(task) and recorded not in (None, nodes):
        task.set_parameter(f"{MULTI_NODE_SECTION}/total_num_nodes", nodes)
    conf = task.launch_multi_node(nodes, devices=nproc_per_node, hide_children=True)
    return Node(int(conf["total_num_nodes"]), int(conf["node_rank"]), str(conf["master_addr"]),
                int(conf["master_port"]))


def _is_clone_node(task: Any) -> bool:
    """launch_multi_node marks each clone with its node rank in the runtime properties (node 0 has none, or 0)."""
    return bool(task.data.runtime and task.data.runtime.get(f"{MULTI_NODE_SECTION}/node_rank"))


def fail_task(task: Any, reason: str) -> None:
    """A local run whose torchrun failed: the task is failed, with the reason, and closed.

    close() then tries to mark it completed, which the server refuses for a failed task (failed -> completed is not
    a transition it allows); without close(), the SDK's exit hook would replace the reason with its own."""
    task.flush(wait_for_uploads=True)
    task.mark_failed(status_reason=reason, status_message=reason)
    task.close()


def join_rank_0(timeout: float = 30) -> Any:
    """Attach a rank > 0 of a torchrun typed by hand to rank 0's task, as the hat's own ranks attach (attach_rank),
    with this rank's console captured for the task.

    The id comes from clearml's torchrun anchor: rank 0's Task.init writes it to `.clearml_torch_distributed_id`,
    three folders above torchrun's TORCHELASTIC_ERROR_FILE (clearml/utilities/lowlevel/distributed.py). It is read
    here, before clearml is imported, because the SDK reads CLEARML_TASK_ID at import. The SDK's own way for these
    ranks (Task.init finding the anchor) makes each rank a main task: it would mark the task completed when it
    ends, and stop itself when rank 0 completes first.
    """
    anchor = Path(os.environ["TORCHELASTIC_ERROR_FILE"]).parent.parent.parent / ".clearml_torch_distributed_id"
    deadline = time.monotonic() + timeout
    while not anchor.is_file():
        if time.monotonic() > deadline:
            raise HatError(f"rank {os.environ.get('RANK')}: rank 0 started no ClearML task within {timeout:.0f} s "
                           f"(no {anchor}); see rank 0's error above")
        time.sleep(0.1)
    task_id = anchor.read_text(encoding="utf-8").strip()
    # The task id as an agent gives it, and rank 0's process as this one's ClearML master: a subprocess of it.
    os.environ.update(CLEARML_TASK_ID=task_id, CLEARML_PROC_MASTER_ID=f"{os.getppid()}:{task_id}")
    from clearml import Task

    sdk_private.report_in_a_thread()
    return Task.init(auto_connect_arg_parser=False, auto_resource_monitoring=False, reuse_last_task_id=False)


def fail_from_rank(task: Any, reason: str) -> None:
    """A rank > 0 crashed: its traceback to the log first, then the task failed (force: rank 0 may have completed
    it already)."""
    traceback.print_exc()
    task.flush(wait_for_uploads=True)
    task.mark_failed(status_reason=reason, status_message=reason, force=True)
