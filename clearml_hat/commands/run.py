"""The run command (`python hat.py`, `clearml-hat run`): one training under ClearML, here or on a queue.

A run: read the parser, load config.yaml and the `key=value` overrides typed by it, check them, start the ClearML
task, connect the hat's settings (`hat`) and the values (`train_args`, editable in the web UI), turn the values
ClearML hands back into argv with the script's parser, import the training late and call `main(argv)` (or run
the script as `__main__`). With --remote the task goes to a clearml-agent queue instead; under the agent,
`python hat.py` runs with no arguments and takes its settings and values from the task.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, List, Optional

from clearml_hat import __version__
from clearml_hat.clearml import datasets, dist_tracking, output_models, queues, sdk_private, sweep, tracking
from clearml_hat.clearml.preflight import git_problems
from clearml_hat.clearml.requirements import task_packages
from clearml_hat.clearml.settings import SECTION, StoredSettings
from clearml_hat.config.job import Job, job_from_values, job_from_yaml
from clearml_hat.console import Console
from clearml_hat.errors import HatError
from clearml_hat.local import distributed, printed_metrics, terminate, torchrun_ranks
from clearml_hat.local.repo import find_requirements, repo_root
from clearml_hat.values import config_files, sweep_config

TRAIN_SECTION = "train_args"
HAT_FILES = Path(__file__).resolve().parents[1]
# As long as ClearML's exit hook waits for the repository detection after a training that succeeded.
REPO_DETECTION_SECONDS = 10.0


def run(options: argparse.Namespace, console: Console) -> int:
    """Run (or enqueue) the training the options describe; returns the exit code."""
    if tracking.running_under_agent():
        return run_on_agent(console)
    printed_metrics.check_setting(options.metrics)
    job = job_from_yaml(options.script, options.train_yaml, options.overrides, pinned_keys(options.pin),
                        options.as_args_file)
    for warning in job.warnings:
        console.warn(warning)
    if options.print_argv:
        console.out(json.dumps(job.argv))
        return 0
    distributed.check_settings(options.nproc_per_node, options.nodes, options.remote)
    rank = distributed.torchrun_rank()  # set when torchrun (typed by hand) started this process
    if rank:
        return torchrun_ranks.run_other_rank(job, rank, offline=options.offline or not tracking.clearml_configured())
    settings = StoredSettings.from_options(options)
    settings.pin, settings.args_file = list(job.pinned), job.args_file
    settings.requirements = settings.requirements or default_requirements(job.script, options.remote, console)
    if options.sweep:  # sweep.yaml checked against the parser, a queue's git checks, then the sweep
        plan = sweep_config.read_sweep(options.sweep, job.system, job.values)
        if not options.local:
            check_remote_ready(settings, job, options.force, console)
            check_queue(settings.queue, console)
        target = sweep.target(options, job, settings.to_section(), Path(os.path.abspath(sys.argv[0])))
        if not options.local:  # the trials' agents install what a --remote run's agent would
            target.packages = resolved_packages(settings, options.keep_image_packages, console)
        return sweep.run_sweep(plan, options.sweep, job, target, console)
    if options.remote:
        check_remote_ready(settings, job, options.force, console)
    offline = choose_offline(options, console)
    if options.remote:
        check_queue(settings.queue, console)
    if settings.s3:
        check_data_key(settings.data_key, job.values)
        settings.dataset_id = find_dataset(settings)
    task = tracking.start_task(settings.project, settings.task_name or job.script.stem, offline, settings.output_uri,
                               settings.requirements)
    if rank == 0:
        torchrun_ranks.own_task_as_rank_0()
    tracking.connect_section(task, settings.to_section(), SECTION)
    values = tracking.connect_section(task, job.values, TRAIN_SECTION)
    tracking.store_defaults(task, job.defaults)
    if options.remote:
        return enqueue(task, settings, options.keep_image_packages, console)
    return train(task, settings, job, values, console)


def pinned_keys(pin: List[str]) -> List[str]:
    """The keys of `--pin a,b --pin c`."""
    return [key.strip() for each in pin for key in each.split(",") if key.strip()]


def run_on_agent(console: Console) -> int:
    """The agent's `python hat.py`: settings and training values come from the task (web-UI edits included)."""
    task = tracking.start_task(StoredSettings.project, "hat", offline=False)
    settings = StoredSettings.from_section(tracking.connect_section(task, StoredSettings().to_section(), SECTION))
    if settings.hat_version != __version__:
        console.warn(f"the task was made with clearml-hat {settings.hat_version}; this agent runs {__version__} "
                     "(from the repo's clearml_hat/); update one of them if they disagree")
    values = tracking.connect_section(task, tracking.section_values(task, TRAIN_SECTION), TRAIN_SECTION)
    job = job_from_values(settings.script, values, tracking.stored_defaults(task), settings.pin, settings.args_file)
    for warning in job.warnings:
        console.warn(warning)
    if settings.s3 and not settings.dataset_id:  # a clone whose dataset_id was cleared in the web UI
        check_data_key(settings.data_key, job.values)
        settings.dataset_id = find_dataset(settings)
    return train(task, settings, job, job.values, console)


def train(task: Any, settings: StoredSettings, job: Job, values: dict, console: Console) -> int:
    if settings.s3:
        # The path of this machine's cache goes into argv only: on the task it would mean nothing elsewhere.
        values = {**values, settings.data_key: datasets.local_copy(settings.dataset_id or "")}
    argv, copies = job.command_for(values)
    own_sigterm = distributed.torchrun_rank() is None  # rank 0 of a hand-typed torchrun keeps its own handler
    try:
        with terminate.raises_on_sigterm(own_sigterm), output_models.kept_files(task), \
                printed_metrics.reporting(task, settings.metrics) as printed, config_files.written(copies):
            if distributed.wanted(settings.nproc_per_node, settings.nodes):  # torchrun ranks (dist_tracking.py)
                launched = dist_tracking.run_ranks(task, job.script, argv, settings.nproc_per_node, settings.nodes,
                                                   console)
                if launched.exit_code:
                    return launched.exit_code
                result = launched.result
            else:
                result = job.train(argv)
    except terminate.Terminated:
        return stopped_by_sigterm(task, console)
    except (Exception, SystemExit) as error:  # the training's own failure (or exit): it goes on to the user as is
        sdk_private.finish_repo_detection(task, REPO_DETECTION_SECONDS)
        if isinstance(error, ModuleNotFoundError) and in_a_pipx_venv():
            raise HatError(f"the training cannot import {error.name}: this clearml-hat runs in the venv pipx gave it "
                           f"({sys.prefix}), without the training's packages; run `python hat.py ...` with the "
                           "training environment's python instead (`clearml-hat init` puts hat.py in the repo)") \
                from None
        raise
    tracking.report_result(task, result)
    sweep.report_objective(task, settings.objective, result, printed.last_values, console)  # a sweep trial's rank
    page = None if task.is_offline() else task.get_output_log_web_page()
    session_zip = tracking.close_task(task, result)
    say_done(task.id, page, result, console)
    if session_zip:
        console.out(f"{console.prog}: offline session: {session_zip}; import it with: "
                    f"clearml-task --import-offline-session {session_zip}")
    return 0


def in_a_pipx_venv() -> bool:
    """Whether this Python is a venv pipx made (`pipx install clearml-hat`): pipx writes its metadata into it."""
    return (Path(sys.prefix) / "pipx_metadata.json").is_file()


def say_done(task_id: str, page: Optional[str], result: Any, console: Console) -> None:
    """The run's closing line: the task, its status and results page, and where the training's own files went."""
    if isinstance(result, (str, os.PathLike)) and Path(result).exists():
        files = f"its output {Path(result).resolve()} is the task's `output` artifact"
    else:
        files = f"the training's own files are where it wrote them (it ran in {os.getcwd()})"
    where = f"; results: {page}" if page else " (offline)"
    console.out(f"{console.prog}: done: task {task_id} completed{where}; {files}")


def stopped_by_sigterm(task: Any, console: Console) -> int:
    """SIGTERM (`timeout`, `docker stop`, preemption) ended the training: the task is stopped, not failed."""
    session_zip = tracking.close_stopped(task)
    kept = f"the offline session {session_zip}" if session_zip else f"task {task.id}"
    console.note(f"SIGTERM: the training was stopped; {kept} is marked stopped with what it reported")
    return terminate.EXIT_CODE


def enqueue(task: Any, settings: StoredSettings, keep_image_packages: bool, console: Console) -> int:
    packages = resolved_packages(settings, keep_image_packages, console)
    setup = Path(settings.docker_setup_script).read_text(encoding="utf-8").splitlines() \
        if settings.docker_setup_script else None
    page = tracking.enqueue(task, settings.queue, settings.docker, settings.docker_args, setup, packages)
    console.out(f"{console.prog}: task {task.id} goes to queue {settings.queue!r}; the web UI shows it at {page}")
    return 0


def resolved_packages(settings: StoredSettings, keep_image_packages: bool, console: Console) -> Optional[List[str]]:
    """The packages an agent installs for the run (or a sweep's trials): the resolved requirements file, less the
    image's torch in a PyTorch image; None without a file (ClearML's own analysis then)."""
    if not settings.requirements:
        return None
    packages = task_packages(Path(settings.requirements), settings.docker, keep_image_packages)
    if packages.left_out:
        console.note(f"{settings.docker} has {', '.join(packages.left_out)}: left out of the task's packages so "
                     "the agent keeps the image's build (--keep_image_packages keeps them)")
    return packages.lines


def default_requirements(script: Path, remote: bool, console: Console) -> Optional[str]:
    """requirements.txt beside the script, else at the repo root; a repo without one still goes remote."""
    found = find_requirements(script)
    if found is None and remote:
        console.note(f"no requirements.txt beside {script} or at its repo root {repo_root(script)}: the task lists "
                     "only the packages ClearML finds in hat.py, so the docker image must have the training's (or "
                     "give --requirements)")
    if found is None:
        return None
    relative = os.path.relpath(found)
    return str(found) if relative.startswith(os.pardir) else relative


def choose_offline(options: argparse.Namespace, console: Console) -> bool:
    """Offline mode when asked, or when there is no server to talk to; a configured server must answer."""
    if options.offline or not tracking.clearml_configured():
        if options.remote or options.s3:
            flag = "--remote" if options.remote else "--s3"
            raise HatError(f"{flag} needs a ClearML server: run clearml-init (or set CLEARML_API_HOST), "
                           "and leave out --offline")
        reason = "--offline" if options.offline else "no ClearML configuration found (clearml-init makes one)"
        console.note(f"{reason}: running in ClearML offline mode")
        return True
    tracking.check_server_reachable(or_else="run with --offline")
    return False


def check_data_key(data_key: str, values: dict) -> None:
    if data_key not in values:
        raise HatError(f"--data_key {data_key!r} is not a training value; name the one that holds the data "
                       f"folder, one of: {', '.join(values)}")


def find_dataset(settings: StoredSettings) -> str:
    if not (settings.dataset_id or settings.dataset_name):
        raise HatError("--s3 needs --dataset_name (or --dataset_id): the ClearML Dataset to train on")
    return datasets.find_dataset(settings.dataset_name, settings.data_proj_name, settings.dataset_version,
                                 settings.dataset_id)


def check_queue(queue: str, console: Console) -> None:
    """An unknown queue stops the run before any task exists; one that no agent serves is said, not waited on."""
    if not tracking.clearml_configured():
        raise HatError("a queue needs a ClearML server: run clearml-init (or set CLEARML_API_HOST)")
    tracking.check_server_reachable()
    warning = queues.check_queue(queue)
    if warning:
        console.warn(warning)


def check_remote_ready(settings: StoredSettings, job: Job, force: bool, console: Console) -> None:
    """Stop before anything is enqueued if the agent could not run this commit; say why, one line each."""
    for name in (settings.requirements, settings.docker_setup_script):
        if name and not Path(name).is_file():
            raise HatError(f"{name}: no such file; give an existing file or leave the flag out")
    # ClearML records the running script as the task's entry point, and the agent runs it in its clone.
    entry = Path(os.path.abspath(sys.argv[0]))
    if entry.name != "hat.py":
        raise HatError("a remote run starts from the hat.py in your repo, which the agent runs there: "
                       "`clearml-hat init --script TRAIN.py` puts it in, then `python hat.py --remote ...`")
    if force:
        return
    needed = [job.script, entry, *sorted(HAT_FILES.rglob("*.py"))]
    problems, warnings = git_problems(job.script.resolve().parent, needed)
    for warning in warnings:
        console.warn(warning)
    if problems:
        raise HatError("\n".join(f"{problem} (--force skips this check)" for problem in problems))
