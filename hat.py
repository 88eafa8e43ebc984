"""Run a plain argparse training script under ClearML, with config.yaml as the one source of truth.

    python hat.py                                   # config.yaml -> train_aip.py, tracked (offline without a server)
    python hat.py --train_yaml config.yaml epochs=5 lr=0.05
    python hat.py --print_argv                      # show the argv the training would get, touch nothing
    python hat.py --remote --queue compute          # enqueue on a clearml-agent queue instead of training here
    python hat.py --s3 --dataset_name cats          # train on a ClearML Dataset's cached local copy

A run: read config.yaml, apply `key=value` overrides, check the values against the script's own parser, start the
ClearML task, connect the values as `train_args` (editable in the web UI), turn the values ClearML hands back into
argv with the script's parser, import the training late and call `main(argv)`.
Under clearml-agent, `python hat.py` runs with no arguments: its settings and values come from the task itself.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence

from clearml_hat import datasets, dist_tracking, distributed, torchrun_ranks, tracking
from clearml_hat.errors import HatError
from clearml_hat.job import Job, job_from_values, job_from_yaml
from clearml_hat.preflight import git_problems
from clearml_hat.repo import find_requirements, repo_root

TRAIN_SECTION = "train_args"
# hat.py's own settings are stored on the task in this section: the agent starts `python hat.py` without
# arguments and must find them there. Flags that only make sense on this machine, now, are not stored.
RUN_SECTION = "hat"
LOCAL_ONLY_FLAGS = ("overrides", "print_argv", "offline", "force")
DEFAULT_DOCKER = "pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run a training script under ClearML with the values of a YAML file.",
        epilog="Overrides: trailing key=value pairs change the YAML's values for this run only.",
    )
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="training values to change for this run")
    parser.add_argument("--train_yaml", default="config.yaml", help="YAML file with the training values")
    parser.add_argument("--script", default="train_aip.py", help="training script to run")
    parser.add_argument("--project", default="hat", help="ClearML project of the task")
    parser.add_argument("--task_name", default=None, help="ClearML task name (default: the script's name)")
    parser.add_argument("--offline", action="store_true", help="record the run in ClearML's offline mode")
    parser.add_argument("--print_argv", action="store_true", help="print the training argv as JSON and exit")
    parser.add_argument("--output_uri", default=None, help="where the task's outputs go, e.g. s3://bucket/models")

    remote = parser.add_argument_group("remote runs on a clearml-agent queue")
    remote.add_argument("--remote", action="store_true", help="enqueue the run instead of training here")
    remote.add_argument("--queue", default="compute", help="clearml-agent queue to enqueue on")
    remote.add_argument("--docker", default=DEFAULT_DOCKER, help="docker image the agent runs the task in")
    remote.add_argument("--docker_args", default="", help="extra `docker run` arguments, e.g. '--ipc=host'")
    remote.add_argument("--docker_setup_script", default=None, help="bash script run in the container first")
    remote.add_argument("--requirements", default=None,
                        help="pip requirements recorded on the task, which the agent installs (default: "
                             "requirements.txt beside the script, else at the repo root)")
    remote.add_argument("--force", action="store_true", help="enqueue despite the git checks")

    # --- distributed training: clearml_hat/distributed.py (torchrun), clearml_hat/dist_tracking.py (ClearML) ---
    dist = parser.add_argument_group("distributed training (torch's torchrun; ClearML multi-node on agents)")
    dist.add_argument("--nproc_per_node", type=int, default=1,
                      help="processes (ranks) per machine, e.g. one per GPU; torchrun starts them, one task records")
    dist.add_argument("--nodes", type=int, default=1,
                      help="machines for a --remote run: clearml-agents on the queue, via Task.launch_multi_node")

    data = parser.add_argument_group("training on a ClearML Dataset (S3)")
    data.add_argument("--s3", action="store_true", help="train on a ClearML Dataset's cached local copy")
    data.add_argument("--dataset_name", default="hat-sample-images",
                      help="name of the ClearML Dataset (the default is what data/upload_dataset_to_s3.py uploads)")
    data.add_argument("--data_proj_name", default="datasets/hat", help="ClearML project of the dataset")
    data.add_argument("--dataset_version", default=None, help="dataset version (default: the latest)")
    data.add_argument("--dataset_id", default=None, help="dataset id (instead of name and version)")
    data.add_argument("--data_key", default="data_path", help="training value that gets the local copy's path")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = parse_args(argv)
    if tracking.running_under_agent():
        return run_on_agent(settings)
    job = job_from_yaml(settings.script, settings.train_yaml, settings.overrides)
    if settings.print_argv:
        print(json.dumps(job.argv))
        return 0
    # --- distributed training: clearml_hat/distributed.py; torchrun typed by hand: clearml_hat/torchrun_ranks.py
    distributed.check_settings(settings.nproc_per_node, settings.nodes, settings.remote)
    rank = distributed.torchrun_rank()
    if rank:
        return torchrun_ranks.run_other_rank(job, rank, offline=settings.offline or not tracking.clearml_configured())
    settings.requirements = settings.requirements or default_requirements(job.script, settings.remote)
    if settings.remote:
        check_remote_ready(settings, job)
    offline = choose_offline(settings)
    if settings.s3:
        check_data_key(settings, job.values)
        settings.dataset_id = find_dataset(settings)
    task = tracking.start_task(settings.project, settings.task_name or job.script.stem, offline, settings.output_uri,
                               settings.requirements)
    if rank == 0:
        torchrun_ranks.own_task_as_rank_0()
    tracking.connect_section(task, run_settings(settings), RUN_SECTION)
    values = tracking.connect_section(task, job.values, TRAIN_SECTION)
    if settings.remote:
        tracking.enqueue(task, settings.queue, settings.docker, settings.docker_args, settings.docker_setup_script)
        return 0
    return train(task, settings, job, values)


def run_on_agent(defaults: argparse.Namespace) -> int:
    """The agent's `python hat.py`: settings and training values come from the task (web-UI edits included)."""
    task = tracking.start_task(defaults.project, defaults.task_name or "hat", offline=False)
    settings = argparse.Namespace(**tracking.connect_section(task, run_settings(defaults), RUN_SECTION))
    values = tracking.connect_section(task, tracking.section_values(task, TRAIN_SECTION), TRAIN_SECTION)
    job = job_from_values(settings.script, values)
    if settings.s3 and not settings.dataset_id:  # a clone whose dataset_id was cleared in the web UI
        check_data_key(settings, job.values)
        settings.dataset_id = find_dataset(settings)
    return train(task, settings, job, job.values)


def train(task: Any, settings: argparse.Namespace, job: Job, values: dict) -> int:
    if settings.s3:
        # The path of this machine's cache goes into argv only: on the task it would mean nothing elsewhere.
        values = {**values, settings.data_key: datasets.local_copy(settings.dataset_id)}
    argv = job.argv_for(values)
    if distributed.wanted(settings.nproc_per_node, settings.nodes):  # torchrun ranks (clearml_hat/dist_tracking.py)
        launched = dist_tracking.run_ranks(task, job.script, argv, settings.nproc_per_node, settings.nodes)
        if launched.exit_code:
            return launched.exit_code
        result = launched.result
    else:
        result = job.train(argv)
    tracking.report_result(task, result)
    session_zip = tracking.close_task(task)
    if session_zip:
        importing = f"clearml-task --import-offline-session {session_zip}"
        print(f"hat: offline session: {session_zip}; import it with: {importing}")
    return 0


def default_requirements(script: Path, remote: bool) -> Optional[str]:
    """requirements.txt beside the script, else at the repo root; a repo without one still goes remote."""
    found = find_requirements(script)
    if found is None and remote:
        print(f"hat: no requirements.txt beside {script} or at its repo root {repo_root(script)}: the task lists "
              "only the packages ClearML finds in hat.py, so the docker image must have the training's (or give "
              "--requirements)", file=sys.stderr)
    return str(found) if found else None


def choose_offline(settings: argparse.Namespace) -> bool:
    """Offline mode when asked, or when there is no server to talk to; a configured server must answer."""
    if settings.offline or not tracking.clearml_configured():
        if settings.remote or settings.s3:
            flag = "--remote" if settings.remote else "--s3"
            raise HatError(f"{flag} needs a ClearML server: run clearml-init (or set CLEARML_API_HOST), "
                           "and leave out --offline")
        reason = "--offline" if settings.offline else "no ClearML configuration found (clearml-init makes one)"
        print(f"hat: {reason}: running in ClearML offline mode", file=sys.stderr)
        return True
    tracking.check_server_reachable(or_else="run with --offline")
    return False


def check_data_key(settings: argparse.Namespace, values: dict) -> None:
    if settings.data_key not in values:
        raise HatError(f"--data_key {settings.data_key!r} is not a training value; name the one that holds the data "
                       f"folder, one of: {', '.join(values)}")


def find_dataset(settings: argparse.Namespace) -> str:
    if not (settings.dataset_id or settings.dataset_name):
        raise HatError("--s3 needs --dataset_name (or --dataset_id): the ClearML Dataset to train on")
    return datasets.find_dataset(settings.dataset_name, settings.data_proj_name, settings.dataset_version,
                                 settings.dataset_id)


def check_remote_ready(settings: argparse.Namespace, job: Job) -> None:
    """Stop before anything is enqueued if the agent could not run this commit; say why, one line each."""
    for name in (settings.requirements, settings.docker_setup_script):
        if name and not Path(name).is_file():
            raise HatError(f"{name}: no such file; give an existing file or leave the flag out")
    if settings.force:
        return
    package = Path(__file__).resolve().parent / "clearml_hat"
    needed = [job.script, Path(__file__), *sorted(package.glob("*.py"))]
    problems, warnings = git_problems(job.script.resolve().parent, needed)
    for warning in warnings:
        print(f"hat: warning: {warning}", file=sys.stderr)
    if problems:
        raise HatError("\n".join(f"{problem} (--force skips this check)" for problem in problems))


def run_settings(settings: argparse.Namespace) -> dict:
    return {key: value for key, value in vars(settings).items() if key not in LOCAL_ONLY_FLAGS}


def cli(argv: Optional[List[str]] = None) -> int:
    try:
        return main(argv)
    except HatError as error:
        for line in str(error).splitlines():
            print(f"hat.py: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(cli())
