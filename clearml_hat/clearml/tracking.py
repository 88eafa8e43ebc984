"""The thin ClearML layer of a run: start, connect, report, close and enqueue a task. The other modules that call
the clearml SDK are datasets.py, sweep.py and dist_tracking.py, each for its own feature; the rest is plain Python.

clearml is imported inside the functions: `hat.py --print_argv` and `argparse_to_yaml.py` never pay for it.
"""
from __future__ import annotations

import atexit
import json
import numbers
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, List, Optional
from urllib.parse import urlparse

from clearml_hat.clearml import sdk_private
from clearml_hat.errors import HatError

_TASK_ID_VARS = ("CLEARML_TASK_ID", "TRAINS_TASK_ID")

# After the training, the hat waits for the SDK to deliver what is left (console lines, scalars, the output
# artifact) for as long as the server answers; once it has refused connections this long in a row, it stops
# waiting. The SDK alone would retry for hours (api.http.retries: 240 tries, backoff up to 120 s each).
SERVER_GONE_AFTER = 30.0
_PROBE_EVERY = 1.0


class ServerGone(HatError):
    """The ClearML server stopped answering before the task was delivered; the message says what was kept.

    The process then exits with code 2, as for every HatError, however the SDK's exit handlers would retry."""

    exit_code = 2


def clearml_configured() -> bool:
    """True when the SDK would find a server to talk to: a clearml.conf, or the API host in the environment.

    A clearml.conf the SDK cannot parse is a HatError naming the file and the place, here, before the SDK would
    raise it as a traceback from wherever it first reads its configuration."""
    from clearml.backend_api import Session
    from clearml.backend_api.session.defs import ENV_HOST
    from clearml.backend_config.defs import get_active_config_file
    from clearml.backend_config.errors import ConfigurationError

    try:
        Session.get_api_server_host()  # reads (and caches) the configuration
    except ConfigurationError as error:
        raise HatError(f"{error}: fix the ClearML configuration file there (clearml-init writes a new one)") \
            from None
    return bool(ENV_HOST.get() or get_active_config_file())


def running_under_agent() -> bool:
    """clearml-agent starts the script with the task id in the environment and no command-line arguments."""
    return any(os.environ.get(name) for name in _TASK_ID_VARS)


def start_task(project: str, task_name: str, offline: bool, output_uri: Optional[str] = None,
               requirements: Optional[str] = None) -> Any:
    """Task.init without auto-connecting argparse: the training's parser must not show up under `Args`.

    The task's package list comes from the requirements file when there is one: the SDK's own analysis sees
    hat.py, not the training it imports late, and a clone of this task must install what the training needs.
    """
    from clearml import Task

    sdk_private.report_in_a_thread()
    sdk_private.without_config_bindings()  # a parse would get the task's `Args`, not the hat's argv
    if requirements and Path(requirements).is_file():
        Task.force_requirements_env_freeze(requirements_file=requirements)
    if offline:
        check_offline_folder()
        Task.set_offline(True)
    task: Any = Task.init(
        project_name=project,
        task_name=task_name,
        auto_connect_arg_parser=False,
        # train_args holds a Hydra script's values; the SDK's Hydra binding would keep its overrides a second
        # time, and on the agent append those of the first run after the hat's, undoing an edit in a clone. Its
        # absl binding (tfdefines) would likewise set the first run's flag values over the hat's argv on the agent.
        auto_connect_frameworks={"hydra": False, "tfdefines": False},
        reuse_last_task_id=False,
        output_uri=output_uri,
    )
    sdk_private.out_of_logging_shutdown()  # a training's logging.config.dictConfig must not close it (a hang)
    return task


def check_offline_folder() -> None:
    """An offline session is written under ClearML's cache folder; one that cannot be written is a HatError, not
    the SDK's traceback from inside Task.init."""
    from clearml.config import get_offline_dir

    folder = get_offline_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        raise HatError(f"ClearML's offline folder {folder} cannot be written ({error.strerror or error}); set "
                       "CLEARML_CACHE_DIR to a writable folder (or sdk.storage.cache.default_base_dir in "
                       "clearml.conf)") from None


def connect_section(task: Any, values: dict, section: str) -> dict:
    """Show values in the task's `section`; under the agent, values edited in the web UI come back instead."""
    return task.connect(dict(values), name=section)


DEFAULTS_OBJECT = "train_args defaults"


def store_defaults(task: Any, defaults: dict) -> None:
    """The script's defaults where the run was started, as a configuration object beside train_args: an agent
    (a clone, a sweep trial) passes a value only when it differs from these, so the script computes the rest
    itself where it runs."""
    task.set_configuration_object(DEFAULTS_OBJECT, config_text=json.dumps(defaults, indent=1), config_type="json",
                                  description="the training script's defaults where the run was started; "
                                              "train_args values equal to these are not passed to it")


def stored_defaults(task: Any) -> Optional[dict]:
    """The defaults store_defaults kept on the task; None for a task made by an older hat."""
    text = task.get_configuration_object(DEFAULTS_OBJECT)
    return json.loads(text) if text else None


def report_result(task: Any, result: Any) -> None:
    """A returned path becomes the `output` artifact; a dict of numbers becomes single values."""
    if isinstance(result, (str, os.PathLike)) and Path(result).exists():
        _while_server_answers(task, "uploading the output artifact", result,
                              lambda: task.upload_artifact("output", artifact_object=Path(result), wait_on_upload=True))
    elif isinstance(result, dict) and result and all(_is_number(v) for v in result.values()):
        logger = task.get_logger()
        for name, value in result.items():
            logger.report_single_value(str(name), float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def close_task(task: Any, result: Any = None) -> Optional[Path]:
    """Close the task (status completed); in offline mode return the session zip to import later. result is
    what the training returned, for the message should the server be gone before the task is delivered."""
    folder = task.get_offline_mode_folder() if task.is_offline() else None
    if folder:
        task.close()
        return Path(f"{folder}.zip")
    _while_server_answers(task, "sending the task's last console lines and scalars", result, task.close)
    return None


def close_stopped(task: Any) -> Optional[Path]:
    """Close the task as stopped (the run was ended from outside), what it reported delivered; in offline mode
    return the session zip."""
    recorded = sdk_private.record_interrupt(task)
    session_zip = close_task(task)
    if not recorded:
        task.mark_stopped(force=True)
    return session_zip


def _while_server_answers(task: Any, doing: str, result: Any, work: Callable[[], Any]) -> None:
    """Run work (an SDK call that retries while the server is down) and wait for it while the API server accepts
    connections; raise ServerGone once it has refused them for SERVER_GONE_AFTER seconds in a row.

    The work runs in a daemon thread, so the process can end while the SDK still retries in it."""
    from clearml.backend_api import Session

    failed: List[Exception] = []
    worker = threading.Thread(target=lambda: _run(work, failed), name="hat: " + doing, daemon=True)
    worker.start()
    host = Session.get_api_server_host()
    silent_since = None
    while worker.is_alive():
        worker.join(_PROBE_EVERY)
        if not worker.is_alive():
            break
        if _answers(host):
            silent_since = None
        elif silent_since is None:
            silent_since = time.monotonic()
        elif time.monotonic() - silent_since >= SERVER_GONE_AFTER:
            atexit.register(_exit_now)
            raise ServerGone(f"the ClearML server {host} has not answered for {SERVER_GONE_AFTER:.0f} s while "
                             f"{doing}; gave up: what it did not get is lost and task {task.id} stays "
                             f"'in_progress' there. The training finished; {_where_the_result_is(result)}")
    if failed:
        raise failed[0]


def _run(work: Callable[[], Any], failed: List[Exception]) -> None:
    try:
        work()
    except Exception as error:  # re-raised in the main thread, where it would have been raised without the thread
        failed.append(error)


def _answers(host: str) -> bool:
    url = urlparse(host)
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=2).close()
    except OSError:
        return False
    return True


def _where_the_result_is(result: Any) -> str:
    if isinstance(result, (str, os.PathLike)) and Path(result).exists():
        return f"its output is in {Path(result).resolve()} (not uploaded)"
    if isinstance(result, dict) and result and all(_is_number(v) for v in result.values()):
        return f"its values (not on the task): {json.dumps({str(k): float(v) for k, v in result.items()})}"
    return "its files are where the script wrote them, and its console output is above"


def _exit_now() -> None:
    """Registered when the server is gone, so it runs before every exit handler registered earlier: the SDK's
    (closing the task again, flushing its log handler at logging.shutdown) would each retry for hours."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(ServerGone.exit_code)


def section_values(task: Any, section: str) -> dict:
    """A section's values as stored on the task, typed by the types ClearML recorded with them."""
    return task.get_parameters_as_dict(cast=True).get(section, {})


def check_server_reachable(or_else: str = "", timeout: float = 5.0) -> None:
    """Fail fast: the SDK retries an unreachable server for minutes before it gives up."""
    from clearml.backend_api import Session

    host = Session.get_api_server_host()
    url = urlparse(host)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        fixes = "start it or fix api_server in clearml.conf" + (f", or {or_else}" if or_else else "")
        raise HatError(f"the ClearML server {host} does not answer ({reason}); {fixes}") from None


def enqueue(task: Any, queue: str, docker: str, docker_args: str, setup_lines: Optional[List[str]],
            packages: Optional[List[str]]) -> str:
    """Hand the task to clearml-agent (image, docker arguments, setup script, packages, then the queue); returns
    the task's page in the web UI. The steps of Task.execute_remotely, which would exit the process itself."""
    from clearml import Task

    task.set_base_docker(docker_image=docker, docker_arguments=docker_args or None,
                         docker_setup_bash_script=setup_lines)
    if packages is not None:
        task.set_packages(packages)
    page = task.get_output_log_web_page()
    task.close()
    task.mark_stopped(force=True)
    Task.enqueue(task, queue_name=queue)
    return page
