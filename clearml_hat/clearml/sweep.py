"""`python hat.py --sweep sweep.yaml`: a hyperparameter sweep run by ClearML's own HyperParameterOptimizer.

    python hat.py --sweep sweep.yaml --queue compute       # trials go to clearml-agents serving the queue
    python hat.py --sweep sweep.yaml --local               # trials run here, `parallel` processes at a time

The sweep is a task of its own (type optimizer, ClearML's summary table and plots on it). Its trials are clones of
one base task, a draft that never trains itself: `hat` holds the hat's settings, `train_args` the training values
(the training YAML plus overrides), and each clone differs only in the swept `train_args`. A trial runs as any
agent run does, `python hat.py` with the task id and no arguments (clearml_hat's run_on_agent), under an agent or
as a local process. The optimizer clones, enqueues (or starts) and watches the trials; this module only prints
one line per finished trial, the leaderboard at the end, and writes the best values as a training YAML.

A plain objective name is ranked as the single value of that name (title "Summary"): main()'s returned dict
gives it, and a trial whose main() does not reports the last printed value of that name itself (`--objective`,
which the base task carries: report_objective below).
"""
from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from clearml_hat.clearml import sdk_private, tracking
from clearml_hat.config.job import Job
from clearml_hat.console import Console
from clearml_hat.errors import HatError
from clearml_hat.local.metrics import metric_key
from clearml_hat.values.best_yaml import default_path, write_best_yaml
from clearml_hat.values.sweep_config import Sweep

SECTION = "train_args"
# How often the optimizer checks its trials (ClearML's default is 2 minutes, made for hour-long trainings) and
# this module prints the finished ones: a status query per trial, nothing a server notices.
POLL_SECONDS = 2.0
# The optimizer's summary table and plots on the sweep task are redrawn this often (and once at the end).
REPORT_MINUTES = 1.0
LEADERBOARD = 5
_FINAL = ("completed", "failed", "stopped", "published", "closed")


@dataclass
class Target:
    """Where the trials run and what their base task records (hat.py's settings for this sweep)."""

    project: str
    name: str  # task names: "<name>: sweep", "<name>: sweep base", "<name>: lr=0.1 ..."
    queue: Optional[str]  # None: --local, trials are processes of this machine
    train_yaml: Path
    best_yaml: Path
    overrides: Dict[str, Any]  # the training values the command line changed, for best.yaml
    hat_settings: dict  # the `hat` section of the base task, and so of every trial
    entry_point: Path  # hat.py, which the agents (or local processes) start
    requirements: Optional[str] = None
    packages: Optional[List[str]] = None  # the lines the trials' agents install (run.py resolves them); else the file
    docker: Optional[str] = None
    docker_args: str = ""
    docker_setup_script: Optional[str] = None
    output_uri: Optional[str] = None


@dataclass
class Trial:
    number: int
    task_id: str
    values: Dict[str, Any]
    status: str = ""
    objective: Optional[float] = None
    seconds: float = 0.0


def target(settings: Any, job: Job, hat_settings: dict, entry_point: Path) -> Target:
    """The Target of hat.py's settings (any object with its flags as attributes)."""
    if settings.offline:
        raise HatError("--sweep needs a ClearML server: leave out --offline")
    overridden = [override.partition("=")[0].strip() for override in settings.overrides]
    return Target(
        project=settings.project, name=settings.task_name or job.script.stem,
        queue=None if settings.local else settings.queue, train_yaml=Path(settings.train_yaml),
        best_yaml=Path(settings.best_yaml) if settings.best_yaml else default_path(settings.train_yaml),
        overrides={key: job.values[key] for key in overridden}, hat_settings=hat_settings, entry_point=entry_point,
        requirements=settings.requirements, docker=settings.docker, docker_args=settings.docker_args,
        docker_setup_script=settings.docker_setup_script, output_uri=settings.output_uri,
    )  # fmt: skip


def run_sweep(sweep: Sweep, sweep_yaml: str, job: Job, target: Target, console: Console) -> int:
    """Run the sweep to its end (or Ctrl-C), print its trials and leaderboard, write best.yaml. Exit code."""
    if not tracking.clearml_configured():
        raise HatError("--sweep needs a ClearML server: run clearml-init (or set CLEARML_API_HOST)")
    tracking.check_server_reachable()
    from clearml import Task

    task = tracking.start_task(target.project, f"{target.name}: sweep", offline=False, output_uri=target.output_uri)
    task.set_task_type(Task.TaskTypes.optimizer)
    task.connect_configuration(Path(sweep_yaml), name="sweep.yaml")
    base = _base_task(job, sweep, target)
    where = f"on queue {target.queue!r}" if target.queue else "here (--local)"
    _say(console, f"sweep {task.id}: {sweep.trials} trials of {target.name}, {sweep.parallel} at a time {where}, "
                  f"{sweep.strategy} search, {sweep.goal} {sweep.objective}; base task {base.id}")
    interrupted = threading.Event()  # Ctrl-C
    optimizer = _optimizer(sweep, base.id, target, console, interrupted)
    started = time.monotonic()
    trials: Dict[str, Trial] = {}
    if _watch(optimizer, sweep, trials, console, interrupted):
        _say(console, "Ctrl-C: stopping the sweep and the trials it started")
        optimizer.stop(timeout=1)  # dequeues the queued trials, marks the running ones stopped (agents end them)
        for job in optimizer.get_optimizer().get_created_jobs_tasks().values():
            if hasattr(job, "end_process"):
                job.end_process()
        _print_finished(optimizer, sweep, trials, console)
        task.close()  # marks the sweep completed, as a close does; it was not
        task.mark_stopped(force=True, status_message="Ctrl-C")
        return 130
    optimizer.stop(timeout=1)  # the final summary table and plots on the sweep task
    _print_finished(optimizer, sweep, trials, console)
    wall = time.monotonic() - started
    code = _conclude(sweep, job, target, list(trials.values()), task, wall, console)
    task.close()
    return code


def _base_task(job: Job, sweep: Sweep, target: Target) -> Any:
    """The draft every trial is cloned from: hat.py as entry point, the run's settings, the training values."""
    from clearml import Task

    try:
        base: Any = Task.create(
            project_name=target.project, task_name=f"{target.name}: sweep base", task_type="training",
            script=str(target.entry_point), working_directory=os.getcwd(),
            packages=target.packages, requirements_file=None if target.packages else target.requirements,
            docker=target.docker, docker_args=target.docker_args or None,
            docker_bash_setup_script=_read(target.docker_setup_script), add_task_init_call=False,
        )  # fmt: skip
    except ValueError as error:  # hat.py outside the folder the sweep starts in: the trials could not find it
        raise HatError(f"the sweep's trials cannot start {target.entry_point} ({error}); run the sweep from the "
                       "folder that holds hat.py") from None
    if target.output_uri:
        base.output_uri = target.output_uri
    base.connect({**target.hat_settings, "objective": sweep.objective}, name="hat")
    base.connect(dict(job.values), name=SECTION)
    tracking.store_defaults(base, job.defaults)
    return base


def _read(path: Optional[str]) -> Optional[str]:
    return Path(path).read_text(encoding="utf-8") if path else None


def _optimizer(sweep: Sweep, base_id: str, target: Target, console: Console, interrupted: threading.Event) -> Any:
    from clearml.automation import GridSearch, HyperParameterOptimizer, RandomSearch

    strategies: Dict[str, type] = {"grid": GridSearch, "random": RandomSearch}
    if sweep.strategy == "optuna":
        from clearml.automation.optuna import OptimizerOptuna

        strategies["optuna"] = OptimizerOptuna
    title, series = sweep.objective_metric
    # While it is built the optimizer warns that the base task has no objective metric (true of a draft that never
    # runs) and that it does not know the capped class by name; later it logs each trial, which _watch prints.
    quiet = logging.getLogger("clearml.automation.optimization")
    quiet.setLevel(logging.ERROR)
    try:
        optimizer = HyperParameterOptimizer(
            base_task_id=base_id, hyper_parameters=_search_space(sweep), objective_metric_title=title,
            objective_metric_series=series, objective_metric_sign=sweep.goal,
            optimizer_class=_capped(strategies[sweep.strategy]), max_number_of_concurrent_tasks=sweep.parallel,
            execution_queue=target.queue or "default", total_max_jobs=sweep.trials,
            pool_period_min=POLL_SECONDS / 60,
        )  # fmt: skip
    finally:
        quiet.setLevel(logging.WARNING)
    optimizer.set_report_period(REPORT_MINUTES)
    optimizer.get_optimizer().set_job_naming_scheme(
        lambda _, params: f"{target.name}: " + " ".join(f"{k.split('/', 1)[1]}={v}" for k, v in params.items()))
    if target.queue is None:
        # The SDK's hint says an instance; it takes the class and makes one job of it per trial.
        optimizer.set_default_job_class(_local_job_class(console, interrupted))  # type: ignore[arg-type]
    return optimizer


def _capped(strategy: type) -> type:
    """The strategy, creating no trial beyond total_max_jobs, and running until hat.py stops it.

    ClearML's SearchStrategy.process_step checks the total once per step, then fills every free slot: with 3 of
    4 trials done and 2 slots free it starts 2, so `max_trials: 4` would run 5 trainings. And when the strategy
    ends by itself, HyperParameterOptimizer.stop() waits for its reporter to wake from its sleep (up to the report
    period) before the final summary; stopped while running, it wakes the reporter at once. So the loop goes on
    and `finished` tells run_sweep when no trial runs and none is left to start.
    """

    class Capped(strategy):
        finished = False

        def create_job(self) -> Any:
            if self.total_max_jobs and len(self.get_created_jobs_ids()) >= self.total_max_jobs:
                return None
            return super().create_job()

        def process_step(self) -> bool:
            self.finished = not super().process_step()
            return True

    return Capped


def _search_space(sweep: Sweep) -> list:
    from clearml.automation import DiscreteParameterRange, LogUniformParameterRange, UniformParameterRange

    space: List[Any] = []
    for parameter in sweep.parameters:
        name = f"{SECTION}/{parameter.key}"
        if parameter.values is not None:
            space.append(DiscreteParameterRange(name, values=parameter.values))
        elif parameter.log:  # ClearML's log range takes exponents: 10 ** uniform(log10(min), log10(max))
            space.append(LogUniformParameterRange(name, math.log10(parameter.low), math.log10(parameter.high)))
        else:
            space.append(UniformParameterRange(name, parameter.low, parameter.high))
    return space


def _watch(optimizer: Any, sweep: Sweep, trials: Dict[str, Trial], console: Console,
           interrupted: threading.Event) -> bool:
    """Start the optimizer and print each trial as it finishes, until it has run them all; True on Ctrl-C.

    Ctrl-C only sets a flag (`interrupted`, which the local trials' job reads too): as a KeyboardInterrupt it could
    land inside an SDK call that swallows it, and the sweep would go on starting trials.
    """
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    shown: List[Any] = [None]
    try:
        optimizer.start()
        while not optimizer.get_optimizer().finished and not interrupted.is_set():
            _print_finished(optimizer, sweep, trials, console)
            _print_progress(optimizer, sweep, trials, console, shown)
            interrupted.wait(POLL_SECONDS)
    finally:
        signal.signal(signal.SIGINT, previous)
    return interrupted.is_set()


def _print_progress(optimizer: Any, sweep: Sweep, trials: Dict[str, Trial], console: Console,
                    shown: List[Any]) -> None:
    """A line whenever the numbers of queued, running and finished trials change, so a sweep waiting on its
    queue says so; shown[0] holds the numbers last printed."""
    from clearml import Task

    created = list(optimizer.get_optimizer().get_created_jobs_ids())
    open_ids = [task_id for task_id in created if task_id not in trials or not trials[task_id].status]
    found: List[Any] = Task.get_tasks(task_ids=open_ids) if open_ids else []
    statuses = [str(task.status) for task in found]
    numbers = (statuses.count("queued"), statuses.count("in_progress"), len(created) - len(open_ids))
    if created and numbers != shown[0]:
        shown[0] = numbers
        _say(console, f"trials: {numbers[0]} queued, {numbers[1]} running, {numbers[2]} of {sweep.trials} finished")


def _print_finished(optimizer: Any, sweep: Sweep, trials: Dict[str, Trial], console: Console) -> None:
    """One line for each trial that reached a final status since the last call."""
    from clearml import Task

    created = optimizer.get_optimizer().get_created_jobs_ids()
    waiting = [task_id for task_id in created if task_id not in trials or not trials[task_id].status]
    if not waiting:
        return
    task: Any
    for task in Task.get_tasks(task_ids=waiting):
        status = str(task.status)
        if status not in _FINAL:
            continue
        number = list(created).index(task.id) + 1
        values = {key.split("/", 1)[1]: value for key, value in created[task.id].items()}
        trial = Trial(number, task.id, values, status, optimizer.objective_metric.get_objective(task.id),
                      _seconds(task))
        trials[task.id] = trial
        _say(console, f"trial {number}/{sweep.trials} {status} in {trial.seconds:.1f} s: {_values_text(values)} -> "
                      f"{sweep.objective} {_objective_text(trial.objective)} (task {task.id})")


def _seconds(task: Any) -> float:
    started, finished = task.data.started, task.data.completed
    return (finished - started).total_seconds() if started and finished else 0.0


def _values_text(values: Dict[str, Any]) -> str:
    return " ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                    for key, value in values.items())


def _objective_text(value: Optional[float]) -> str:
    return "not reported" if value is None else f"{value:.6g}"


def _conclude(sweep: Sweep, job: Job, target: Target, trials: List[Trial], task: Any, wall: float,
              console: Console) -> int:
    """The leaderboard, the best trial and best.yaml; 1 when no trial reported the objective."""
    ranked = sorted((t for t in trials if t.status == "completed" and t.objective is not None),
                    key=lambda t: t.objective or 0.0, reverse=sweep.goal == "max")
    failed = [t for t in trials if t.status != "completed"]
    busy = sum(t.seconds for t in trials)
    # The sweep's own cost: its wall time beyond the trials' run time spread over the slots, per trial.
    overhead = (wall - busy / min(sweep.parallel, max(len(trials), 1))) / max(len(trials), 1)
    _say(console, f"sweep done in {wall:.1f} s: {len(trials)} trials, {len(failed)} not completed, "
                  f"{60 * len(trials) / wall:.1f} trials a minute; the trials ran {busy:.1f} s in all, the sweep "
                  f"added {overhead:.1f} s a trial")
    if not ranked:
        _say(console, f"no trial reported {sweep.objective}; check the trials' logs (the name must be printed, "
                      "returned by main() or given as title/series)")
        return 1
    _say(console, f"best {min(LEADERBOARD, len(ranked))} by {sweep.objective} ({sweep.goal}):")
    for place, trial in enumerate(ranked[:LEADERBOARD], 1):
        console.out(f"  {place}. {_objective_text(trial.objective)}  {_values_text(trial.values)}  (task "
                    f"{trial.task_id})")
    best = ranked[0]
    _say(console, f"best trial: {best.task_id}")
    path = write_best_yaml(target.train_yaml, {**target.overrides, **best.values}, target.best_yaml)
    task.upload_artifact("best.yaml", artifact_object=path, wait_on_upload=True)
    _say(console, f"wrote {path}; train with it: python hat.py --script {job.script} --train_yaml {path}")
    return 0


def report_objective(task: Any, objective: Optional[str], result: Any, last_printed: Dict[str, float],
                     console: Console) -> None:
    """A sweep trial's objective as the single value the optimizer ranks by, when main()'s dict did not give it.

    Only a plain name needs this: a "title/series" objective is read where the training reported it.
    """
    if not objective or "/" in objective or (isinstance(result, dict) and objective in result):
        return
    wanted = metric_key(objective)
    found = [value for name, value in last_printed.items() if metric_key(name) == wanted]
    if found:
        task.get_logger().report_single_value(objective, found[-1])
    else:
        console.warn(f"the sweep objective {objective!r} was neither printed nor in main()'s returned dict; this "
                     "trial cannot be ranked")


# --- --local: trials are processes of this machine ---

_output_lock = threading.Lock()
# A trial process's exit code after SIGINT or SIGTERM: killed by it, or the hat's own 130 / 143 after cleaning up.
_ENDED_BY_A_SIGNAL = (-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM)
END_SECONDS = 30  # a trial's time to close its task after SIGTERM, before it is killed


def _say(console: Console, line: str) -> None:
    """A line of the sweep's own (on stdout, after the command's name); never while a trial process is being
    started (see _local_job_class)."""
    with _output_lock:
        console.out(f"{console.prog}: {line}")


def _local_job_class(console: Console, interrupted: threading.Event) -> type:
    """ClearML's LocalClearmlJob, with each trial's console in a log file instead of this terminal.

    The job starts `python hat.py` with the terminal's stdout and stderr; parallel trainings printing into the
    sweep's one-line-per-trial output would bury it. So the two file descriptors point at the trial's log file
    for the moment the process is started (it inherits them), under the lock _say takes. The trial's console
    still goes to its task as well.
    """
    from clearml.automation.job import LocalClearmlJob

    logs = Path(tempfile.mkdtemp(prefix="hat-sweep-logs-"))
    _say(console, f"the local trials' consoles are in {logs}/<task id>.log (and on each trial's task)")

    class QuietLocalJob(LocalClearmlJob):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # The optimizer's thread, its reporter's thread and the sweep's main thread all ask a job about its
            # trial (status() reaps the process); each reads the task's status and then writes one. Unserialized,
            # the last writer won: a trial stopped by Ctrl-C was marked stopped, then stopped again without the
            # "user aborted" reason by abort(), then failed by ClearML's wait_for_process, which looks for it.
            self.ending = threading.RLock()
            self.killed = False  # by end_process after Ctrl-C: a trial stopped, not one that failed

        def launch(self, queue_name: Optional[str] = None) -> bool:
            with _output_to(logs / f"{self.task_id()}.log"):
                return super().launch(queue_name)  # type: ignore[arg-type]

        def wait_for_process(self, timeout: Optional[int] = None) -> Optional[int]:
            """The trial process's exit code once it has ended, its end recorded on the task (_record_end); None
            while it runs, or once recorded."""
            if not sdk_private.knows_local_job_process(self):
                return super().wait_for_process(timeout)
            with self.ending:
                process = sdk_private.local_job_process(self)
                if process is None:
                    return None
                try:
                    code: int = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    return None
                sdk_private.forget_local_job_process(self)
                # The sweep's own Ctrl-C handler runs in its main thread, which may learn of the signal up to a
                # poll after the trial died of the same Ctrl-C: a trial's unexplained exit waits that long for it.
                _record_end(self.task, code, lambda: self.killed or interrupted.wait(2 * POLL_SECONDS))
                return code

        def abort(self) -> None:
            """Stop the trial: end its process and record how it ended. ClearML's abort() marks a local trial's
            task stopped and leaves its process running (and clearml 1.16 judges by a cached status, so it
            stopped trials that had completed)."""
            if not sdk_private.knows_local_job_process(self):
                return super().abort()
            self.end_process()

        def end_process(self) -> None:
            """End the trial's process, if it still runs, after a Ctrl-C (a terminal's reaches it too; one sent
            to the sweep alone does not), and record how it ended. Its process is private (sdk_private)."""
            with self.ending:
                process = sdk_private.local_job_process(self)
                if process is not None and process.poll() is None:
                    process.terminate()  # the trial closes its task as stopped (terminate.py)
                    try:
                        process.wait(END_SECONDS)
                    except subprocess.TimeoutExpired:  # SIGTERM came before the hat's handler (terminate.py)
                        self.killed = True
                        process.kill()
                self.wait_for_process()

    return QuietLocalJob


def _record_end(task: Any, code: int, stopping: Callable[[], bool]) -> None:
    """A local trial's status once its process has ended. What the trial recorded itself stands: a trial that
    completed keeps that status though a Ctrl-C reached it while it exited (it ends -2 then). A trial that got no
    further than in_progress (a Ctrl-C while it started up, a crash before its task was opened) gets what its exit
    code says: stopped after a signal or when the sweep is stopping (a Ctrl-C during Python's own start-up ends it
    with 1, "Fatal Python error: init_import_site"), completed after 0, else failed."""
    task.reload()  # the job's copy holds the status the sweep read last
    if str(task.status) != "in_progress":
        return
    if code == 0:
        task.mark_completed()
    elif code in _ENDED_BY_A_SIGNAL or stopping():
        task.stopped(force=True, status_reason="user aborted: the trial was interrupted")
    else:
        task.mark_failed(force=True)


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    with _output_lock:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.dup2(log, 1)
            os.dup2(log, 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (log, *saved):
                os.close(fd)
