"""Run a plain argparse training script under ClearML, with config.yaml as the one source of truth.

    python hat.py                                   # config.yaml -> train_aip.py, tracked (offline without a server)
    python hat.py --train_yaml config.yaml epochs=5 lr=0.05
    python hat.py --print_argv                      # show the argv the training would get, touch nothing
    python hat.py --remote --queue compute          # enqueue on a clearml-agent queue instead of training here

The run: read config.yaml, apply `key=value` overrides, check the values against the script's own parser, start
the ClearML task, connect the values as `train_args` (editable in the web UI), turn the values ClearML hands back
into argv with the script's parser, import the training late and call `main(argv)`.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional, Sequence

from clearml_hat.errors import HatError
from clearml_hat.job import Job, prepare_job

# hat.py's own flags that describe the run; they are stored on the task in this section, because the agent
# starts `python hat.py` without arguments and must find them there.
RUN_SECTION = "hat"
LOCAL_ONLY_FLAGS = ("overrides", "print_argv", "offline")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run a training script under ClearML with the values of a YAML file.",
        epilog="Overrides: trailing key=value pairs change config.yaml's values for this run only.",
    )
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="training values to change for this run")
    parser.add_argument("--train_yaml", default="config.yaml", help="YAML file with the training values")
    parser.add_argument("--script", default="train_aip.py", help="training script to run")
    parser.add_argument("--project", default="hat", help="ClearML project of the task")
    parser.add_argument("--task_name", default=None, help="ClearML task name (default: the script's name)")
    parser.add_argument("--offline", action="store_true", help="record the run in ClearML's offline mode")
    parser.add_argument("--print_argv", action="store_true", help="print the training argv as JSON and exit")
    parser.add_argument("--remote", action="store_true", help="enqueue the run on a clearml-agent queue")
    parser.add_argument("--s3", action="store_true", help="train on a ClearML Dataset's local copy")
    parser.add_argument("--data_proj_name", default="datasets/hat", help="ClearML project of the dataset")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = parse_args(argv)
    job = prepare_job(settings.script, settings.train_yaml, settings.overrides)
    if settings.print_argv:
        print(json.dumps(job.argv))
        return 0
    return run_tracked(settings, job)


def run_tracked(settings: argparse.Namespace, job: Job) -> int:
    from clearml_hat import tracking  # imported late: clearml costs a fraction of a second to import

    offline = settings.offline or not tracking.clearml_configured()
    if offline:
        reason = "--offline" if settings.offline else "no ClearML configuration found (clearml-init makes one)"
        print(f"hat: {reason}: running in ClearML offline mode", file=sys.stderr)
    task = tracking.start_task(settings.project, settings.task_name or job.script.stem, offline)
    tracking.connect_section(task, run_settings(settings), RUN_SECTION)
    values = tracking.connect_section(task, job.values, "train_args")
    result = job.train(job.argv_for(values))
    tracking.report_result(task, result)
    session_zip = tracking.close_task(task)
    if session_zip:
        importing = f"clearml-task --import-offline-session {session_zip}"
        print(f"hat: offline session: {session_zip}; import it with: {importing}")
    return 0


def run_settings(settings: argparse.Namespace) -> dict:
    return {key: value for key, value in vars(settings).items() if key not in LOCAL_ONLY_FLAGS}


def cli(argv: Optional[List[str]] = None) -> int:
    try:
        return main(argv)
    except HatError as error:
        print(f"hat.py: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(cli())
