"""The one command-line edge: `clearml-hat run|yaml|upload|init` (also `python -m clearml_hat`), and the scripts
hat.py, argparse_to_yaml.py and data/upload_dataset_to_s3.py, which are this module's commands under old names.

    clearml-hat init --script train.py          # put the hat into your repo: hat.py, clearml_hat/, config.yaml
    clearml-hat yaml --script train.py --check config.yaml
    clearml-hat run --script train.py epochs=5  # the same as python hat.py --script train.py epochs=5
    clearml-hat upload --path data/cats --dataset_name cats --output_uri s3://bucket/datasets

Here, and only here, errors become messages and exit codes: a HatError is one `prog: error: ...` line per
problem and exit 2 (130 for Interrupted, after Ctrl-C); everything below returns an exit code or raises.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from clearml_hat import __version__
from clearml_hat.clearml.settings import StoredSettings
from clearml_hat.console import Console, ProgressLines
from clearml_hat.errors import HatError, Interrupted

DEFAULTS = StoredSettings()


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="training values to change for this run")
    parser.add_argument("--train_yaml", default="config.yaml", help="YAML file with the training values")
    parser.add_argument("--script", default=DEFAULTS.script, help="training script to run")
    parser.add_argument("--project", default=DEFAULTS.project, help="ClearML project of the task")
    parser.add_argument("--task_name", default=DEFAULTS.task_name, help="ClearML task name (default: the script's)")
    parser.add_argument("--offline", action="store_true", help="record the run in ClearML's offline mode")
    parser.add_argument("--print_argv", action="store_true", help="print the training argv as JSON and exit")
    parser.add_argument("--output_uri", default=DEFAULTS.output_uri,
                        help="where the task's outputs go, e.g. s3://bucket/models")
    parser.add_argument("--pin", action="append", default=[], metavar="KEY[,KEY]",
                        help="pass these training values to the script even where they equal its default (a value "
                             "at its default is left out, so the script computes its own where it runs)")
    parser.add_argument("--as_args_file", action="store_true",
                        help="hand the script the YAML itself (a copy with the edits) as its only argument, as "
                             "Hugging Face scripts take `python train.py config.yaml`")
    parser.add_argument("--metrics", default=DEFAULTS.metrics,
                        help="read scalars out of printed lines: auto (the README's rule), off, or a regex with named "
                             "groups, e.g. '(?P<name>\\w+)=(?P<value>[-\\d.e]+)'")

    remote = parser.add_argument_group("remote runs on a clearml-agent queue")
    remote.add_argument("--remote", action="store_true", help="enqueue the run instead of training here")
    remote.add_argument("--queue", default=DEFAULTS.queue, help="clearml-agent queue to enqueue on")
    remote.add_argument("--docker", default=DEFAULTS.docker, help="docker image the agent runs the task in")
    remote.add_argument("--docker_args", default=DEFAULTS.docker_args,
                        help="extra `docker run` arguments, e.g. '--ipc=host'")
    remote.add_argument("--docker_setup_script", default=DEFAULTS.docker_setup_script,
                        help="bash script run in the container first")
    remote.add_argument("--requirements", default=DEFAULTS.requirements,
                        help="pip requirements recorded on the task, which the agent installs (default: "
                             "requirements.txt beside the script, else at the repo root)")
    remote.add_argument("--keep_image_packages", action="store_true",
                        help="keep torch, torchvision and torchaudio in the task's packages in a PyTorch image")
    remote.add_argument("--force", action="store_true", help="enqueue despite the git checks")

    dist = parser.add_argument_group("distributed training (torch's torchrun; ClearML multi-node on agents)")
    dist.add_argument("--nproc_per_node", type=int, default=DEFAULTS.nproc_per_node,
                      help="processes (ranks) per machine, e.g. one per GPU; torchrun starts them, one task records")
    dist.add_argument("--nodes", type=int, default=DEFAULTS.nodes,
                      help="machines for a --remote run: clearml-agents on the queue, via Task.launch_multi_node")

    sweeps = parser.add_argument_group("hyperparameter sweeps (README: Sweeps)")
    sweeps.add_argument("--sweep", default=None, metavar="SWEEP_YAML",
                        help="run a sweep of trainings over the values in this file (trials go to --queue)")
    sweeps.add_argument("--local", action="store_true", help="run the sweep's trials on this machine, not on a queue")
    sweeps.add_argument("--best_yaml", default=None,
                        help="where the sweep writes the best values (default: <train_yaml name>.best.yaml beside it)")
    sweeps.add_argument("--objective", default=DEFAULTS.objective,
                        help="report the last printed value of this metric as a single value (a sweep sets it on "
                             "its trials, to rank them)")

    data = parser.add_argument_group("training on a ClearML Dataset (S3)")
    data.add_argument("--s3", action="store_true", help="train on a ClearML Dataset's cached local copy")
    data.add_argument("--dataset_name", default=DEFAULTS.dataset_name,
                      help="name of the ClearML Dataset (the default is what data/upload_dataset_to_s3.py uploads)")
    data.add_argument("--data_proj_name", default=DEFAULTS.data_proj_name, help="ClearML project of the dataset")
    data.add_argument("--dataset_version", default=DEFAULTS.dataset_version,
                      help="dataset version (default: the latest)")
    data.add_argument("--dataset_id", default=DEFAULTS.dataset_id, help="dataset id (instead of name and version)")
    data.add_argument("--data_key", default=DEFAULTS.data_key, help="training value that gets the local copy's path")


def add_yaml_arguments(parser: argparse.ArgumentParser, default_script: Optional[str] = None) -> None:
    parser.add_argument("--script", default=default_script, required=default_script is None,
                        help="training script whose parser is read")
    parser.add_argument("-o", "--output", default="config.yaml", help="YAML file to write")
    parser.add_argument("--check", metavar="YAML", help="validate this YAML against the parser instead of writing")


def add_upload_arguments(parser: argparse.ArgumentParser, default_path: Optional[str] = None) -> None:
    parser.add_argument("--path", default=default_path, required=default_path is None, help="folder to upload")
    parser.add_argument("--dataset_name", default=DEFAULTS.dataset_name, help="name of the ClearML Dataset")
    parser.add_argument("--dataset_project", default=DEFAULTS.data_proj_name, help="ClearML project of the dataset")
    parser.add_argument("--output_uri", "--output_url", dest="output_url", default=None, metavar="URI",
                        help="where the files go, e.g. s3://bucket/prefix (default: the ClearML files server); "
                             "--output_url is the old spelling")
    parser.add_argument("--tags", nargs="*", default=[], help="tags of the new version")


def add_init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", default=".", help="the repo to prepare (default: this folder)")
    parser.add_argument("--script", required=True, help="the training script, relative to the repo")
    parser.add_argument("-o", "--output", default="config.yaml", help="YAML file to write, relative to the repo")
    parser.add_argument("--force", action="store_true", help="prepare a folder that is not a git checkout")


def run_command(options: argparse.Namespace, console: Console) -> int:
    from clearml_hat.commands.run import run

    return run(options, console)


def yaml_command(options: argparse.Namespace, console: Console) -> int:
    from clearml_hat.commands.yaml_command import check_config, write_config

    if options.check:
        return check_config(options.script, options.check, console)
    write_config(options.script, options.output, console)
    return 0


def upload_command(options: argparse.Namespace, console: Console) -> int:
    from clearml_hat.clearml.datasets import upload_folder

    try:
        upload = upload_folder(options.path, options.dataset_name, options.dataset_project, options.output_url,
                               options.tags, ProgressLines(console))
    except KeyboardInterrupt:  # a Ctrl-C once a draft exists is handled (and said) by upload_folder
        raise Interrupted("Ctrl-C: the upload stopped before any dataset version was created") from None
    if upload.created:
        console.out(f"dataset {options.dataset_name!r} version {upload.version} uploaded: id {upload.dataset_id}")
    else:
        console.out(f"dataset {options.dataset_name!r} unchanged: no new version; latest is {upload.version}, "
                    f"id {upload.dataset_id}")
    return 0


def init_command(options: argparse.Namespace, console: Console) -> int:
    from clearml_hat.commands.init_repo import init_repo

    init_repo(options.folder, options.script, options.output, options.force, console)
    return 0


Command = Callable[[argparse.Namespace, Console], int]
EXAMPLES = {
    "run": """examples:
  python hat.py                                  # config.yaml -> the script, tracked (offline without a server)
  python hat.py epochs=5 lr=0.05 --print_argv    # the argv the training would get, nothing started
  python hat.py --remote --queue gpu             # enqueue on a clearml-agent queue
  python hat.py --sweep sweep.yaml --local       # a sweep, its trials on this machine

Dashed spellings work as well: --task-name, --output-uri, ...""",
    "yaml": """examples:
  python -m clearml_hat yaml --script train.py -o config.yaml
  python -m clearml_hat yaml --script train.py --check config.yaml""",
    "upload": """examples:
  python -m clearml_hat upload --path data/cats --dataset_name cats --output_uri s3://bucket/datasets""",
    "init": """examples:
  clearml-hat init --script train.py             # in your git checkout""",
}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each flag's default in --help (unless its help names it, or there is none), the examples as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


COMMANDS: Dict[str, tuple] = {
    "run": (add_run_arguments, run_command, "run a training under ClearML (what hat.py does)"),
    "yaml": (add_yaml_arguments, yaml_command, "write config.yaml from a script's parser, or --check one"),
    "upload": (add_upload_arguments, upload_command, "upload a folder as a new version of a ClearML Dataset"),
    "init": (add_init_arguments, init_command, "put the hat into a repo: hat.py, clearml_hat/, config.yaml"),
}


def main(argv: Optional[Sequence[str]] = None, prog: str = "clearml-hat") -> int:
    """`clearml-hat COMMAND ...`"""
    parser = argparse.ArgumentParser(prog=prog, description="Run an argparse training script under ClearML.")
    parser.add_argument("--version", action="version", version=f"clearml-hat {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_arguments, _, summary) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=summary, description=summary, epilog=EXAMPLES[name],
                                          formatter_class=_HelpFormatter))
    options = parser.parse_args(underscored(commands.choices.values(), sys.argv[1:] if argv is None else argv))
    return _dispatch(COMMANDS[options.command][1], options, Console(f"{prog} {options.command}"))


def script_main(command: str, prog: str, argv: Optional[List[str]] = None, description: str = "",
                **defaults: str) -> int:
    """One command under a script's own name (hat.py is `run`), with its own defaults for some flags."""
    add_arguments, handler, summary = COMMANDS[command]
    parser = argparse.ArgumentParser(prog=prog, description=description or summary, epilog=EXAMPLES[command],
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"clearml-hat {__version__}")
    if command == "upload":
        add_upload_arguments(parser, defaults.pop("path", None))
    elif command == "yaml":
        add_yaml_arguments(parser, defaults.pop("script", None))
    else:
        add_arguments(parser)
    parser.set_defaults(**defaults)
    options = parser.parse_args(underscored([parser], sys.argv[1:] if argv is None else argv))
    return _dispatch(handler, options, Console(prog))


def underscored(parsers: Iterable[argparse.ArgumentParser], argv: Sequence[str]) -> List[str]:
    """argv with `--task-name` (clearml-task's spelling) written `--task_name`, for every option of the parsers;
    a value such as `--docker_args=--ipc=host` keeps its own text, and so does everything after `--`."""
    known = {option for parser in parsers for action in parser._actions for option in action.option_strings}
    result: List[str] = []
    for index, item in enumerate(argv):
        if item == "--":
            return result + list(argv[index:])
        name, equals, value = item.partition("=")
        spelled = "--" + name[2:].replace("-", "_")
        result.append(spelled + equals + value if name.startswith("--") and spelled in known else item)
    return result


def _dispatch(handler: Command, options: argparse.Namespace, console: Console) -> int:
    try:
        return handler(options, console)
    except HatError as error:
        console.error(str(error))
        return error.exit_code
