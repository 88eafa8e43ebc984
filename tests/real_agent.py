"""The real clearml-agent (PyPI `clearml-agent`, 3.0.x) against the ClearML stand-in, in venv mode without docker.

    def test_remote(real_agent, clearml_server):
        ...enqueue a task on "compute"...
        with real_agent.daemon("compute") as daemon:          # `clearml-agent daemon --queue compute --foreground`
            task = daemon.wait_for(task_id)                    # bounded wait for a final status
        result = real_agent.execute(task_id)                  # `clearml-agent execute --id ID`, synchronous

By default the agent installs nothing: `CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL=1` makes it run the task with the
`python3` first on PATH, and this file puts the running interpreter's folder (this venv, with clearml) first.
The agent still clones the task's git repository at its commit (and applies its uncommitted diff, which no
test covers yet), starts the entry point with the task's working dir and sets the final status, as it does on a
GPU machine. `full_venv=True` lets it build a venv and pip-install the task's requirements from PyPI instead
(20-30 s here, most of it pip).

The agent gets its own HOME (it writes `$HOME/.gitconfig` and clones into `$HOME/.clearml`), TMPDIR and
clearml.conf (the stand-in's, with the sdk settings the fixture's conf has, so the task's SDK behaves the same).
Every wait is bounded, and no agent process or task process it started outlives the test.

Measured here (2 CPUs, `tests/test_remote.py`'s example training, 2 epochs): `execute` takes 2.3-2.4 s on a quiet
machine and about 4 s on a busy one (clone, the agent's start-up, the hat's run; importing the agent is 0.4 s of
it); the daemon, polling every 0.5 s, completes a task 2.1-2.4 s after it was enqueued (up to 6 s when busy).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import pytest

from tests.standin_fixture import ClearMLServer

FINAL_STATUSES = ("completed", "failed", "stopped", "closed", "published")
AGENT = [sys.executable, "-m", "clearml_agent"]


class RealAgent:
    """Runs clearml-agent for one test; see the module docstring."""

    def __init__(self, server: ClearMLServer, root: Path, full_venv: bool = False) -> None:
        self.server = server
        self.root = root
        self.home, self.tmp = root / "home", root / "tmp"
        for folder in (self.home, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self.conf_path = root / "agent-clearml.conf"
        self.full_venv = full_venv
        self.worker_id = f"standin-agent:{root.name}"
        self._write_conf()
        bin_dir = str(Path(sys.executable).parent)
        # The agent's machine: nothing of the test's ClearML settings but the conf, its own HOME and temp folder.
        self.env: Dict[str, str] = {k: v for k, v in server.env.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
        self.env.update(
            HOME=str(self.home), TMPDIR=str(self.tmp), CLEARML_CONFIG_FILE=str(self.conf_path),
            CLEARML_WORKER_ID=self.worker_id, PATH=bin_dir + os.pathsep + server.env.get("PATH", os.defpath),
            CLEARML_AGENT_QUEUE_POLL_FREQ_SEC="0.5", PYTHONUNBUFFERED="1",
        )  # fmt: skip
        if not full_venv:
            self.env["CLEARML_AGENT_SKIP_PYTHON_ENV_INSTALL"] = "1"
        self.env.pop("VIRTUAL_ENV", None)  # the agent would take it as the venv to run in
        self._daemons: List[Daemon] = []

    def _write_conf(self) -> None:
        # The stand-in's api and sdk settings (report_use_subprocess: false keeps the task's close() fast); the
        # agent's own defaults do for the rest: it runs tasks with the interpreter that runs it, pip from PyPI,
        # clones and venvs under its HOME.
        self.conf_path.write_text(self.server.conf_path.read_text() + "agent { package_manager { type: pip } }\n")

    def close(self) -> None:
        """Stop any daemon still running (the fixture calls this at teardown, whatever the test did)."""
        for daemon in self._daemons:
            daemon.stop()

    @property
    def clone_root(self) -> Path:
        """Where the agent checks out the task's repository (venv mode, no docker)."""
        return self.home / ".clearml" / "venvs-builds" / "task_repository"

    def execute(self, task_id: str, timeout: float = 120, extra: Sequence[str] = ()) -> subprocess.CompletedProcess:
        """`clearml-agent execute --id ID`: run one task (queued or not) in this process tree and wait for it."""
        self._write_conf()  # the fixture's conf may have changed since (add_sdk_conf)
        command = [*AGENT, "--config-file", str(self.conf_path), "execute", "--id", task_id, *extra]
        process = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_tree(process, grace=5)
            output, _ = process.communicate()
            pytest.fail(f"clearml-agent execute did not finish within {timeout} s:\n{_tail(output)}")
        return subprocess.CompletedProcess(command, process.returncode, output, "")

    @contextmanager
    def daemon(self, *queues: str, timeout: float = 30) -> Iterator[Daemon]:
        """`clearml-agent daemon --queue Q... --foreground` in the background, stopped on leaving the block.
        Waits (up to `timeout`) until the agent has registered as a worker."""
        log = self.root / f"daemon-{len(self._daemons)}.log"
        self._write_conf()
        command = [*AGENT, "--config-file", str(self.conf_path), "daemon", "--queue", *queues, "--foreground"]
        with open(log, "w") as out:
            process = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        daemon = Daemon(self, process, log)
        self._daemons.append(daemon)
        try:
            daemon.wait_until(lambda: any(w["id"] == self.worker_id for w in self.server.standin.workers()),
                              timeout, "the agent to register as a worker")
            yield daemon
        finally:
            daemon.stop()


class Daemon:
    """A running `clearml-agent daemon`; `log()` is its console output so far."""

    def __init__(self, agent: RealAgent, process: subprocess.Popen, log_path: Path) -> None:
        self.agent, self.process, self.log_path = agent, process, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"clearml-agent daemon exited ({self.process.returncode}) waiting for {what}:\n"
                            f"{_tail(self.log())}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}:\n{_tail(self.log())}")
            time.sleep(0.1)

    def wait_for(self, task_id: str, timeout: float = 120, statuses: Sequence[str] = FINAL_STATUSES) -> dict:
        """Wait until the task reaches one of `statuses` and the agent is idle again; returns the task."""
        standin = self.agent.server.standin
        self.wait_until(lambda: standin.task(task_id)["status"] in statuses, timeout,
                        f"task {task_id} to reach {'/'.join(statuses)}")
        # The agent sets the status, then reports and cleans up; wait until it no longer runs the task.
        self.wait_until(lambda: not self._runs(task_id), 30, "the agent to finish with the task")
        return standin.task(task_id)

    def _runs(self, task_id: str) -> bool:
        return any(w["id"] == self.agent.worker_id and (w["task"] or {}).get("id") == task_id
                   for w in self.agent.server.standin.workers()) or any(map(_alive, _children(self.process)))

    def runs(self, task_id: str) -> bool:
        """True while the agent reports the task as its own or a process it started is alive."""
        return self._runs(task_id)

    def stop(self, grace: float = 15) -> Optional[int]:
        """Ctrl-C the daemon (it unregisters and exits within a second), then kill whatever is left."""
        return _stop_tree(self.process, grace)


def _children(process: subprocess.Popen) -> list:
    import psutil  # here, not at import: the old-Python CI run loads this plugin without clearml's dependencies

    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(process) -> bool:
    """A killed task's process can stay a zombie under the agent (it reaps the task's processes only at exit)."""
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop_tree(process: subprocess.Popen, grace: float) -> Optional[int]:
    """SIGINT the agent, wait up to `grace` s, then SIGKILL it and every process it started (by pid)."""
    children = _children(process)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    import psutil

    for child in children + _children(process):
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(children, timeout=5)
    return process.returncode


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join((text or "").splitlines()[-lines:])


@pytest.fixture
def real_agent(clearml_server: ClearMLServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAgent]:
    """The real clearml-agent, venv mode without installing anything, against this test's stand-in."""
    agent = RealAgent(clearml_server, tmp_path_factory.mktemp("agent"))
    yield agent
    agent.close()
