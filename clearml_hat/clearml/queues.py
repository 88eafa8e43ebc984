"""The clearml-agent queue a `--remote` run or a sweep's trials go to, checked before anything is created.

An unknown queue would otherwise surface as the SDK's ValueError after the task exists (left `stopped`), or as a
sweep whose trials stay drafts. A queue no agent serves is legal (one may start later) but would wait silently.
"""
from __future__ import annotations

from typing import Any, List, Optional

from clearml_hat.errors import HatError


def check_queue(queue: str) -> Optional[str]:
    """HatError naming the existing queues when `queue` is not one of them; a warning (returned) when no
    clearml-agent serves it now, else None."""
    client = _client()
    names = sorted(q.name for q in client.queues.get_all(only_fields=["id", "name"]))
    if queue not in names:
        existing = ", ".join(names) if names else "none (create one in the web UI: Orchestration > Queues)"
        raise HatError(f"--queue {queue!r}: the ClearML server has no such queue; existing queues: {existing}; "
                       "give one of them with --queue")
    if not served_by(client.workers.get_all(), queue):
        return (f"no clearml-agent serves queue {queue!r} now: the task waits there until one does "
                f"(`clearml-agent daemon --queue {queue}`)")
    return None


def served_by(workers: List[Any], queue: str) -> List[str]:
    """The ids of the workers listening on `queue`."""
    return [worker.id for worker in workers if any(q.name == queue for q in (worker.queues or []))]


def _client() -> Any:
    from clearml.backend_api.session.client import APIClient

    return APIClient()
