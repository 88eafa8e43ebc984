"""The thin ClearML layer: every call into the clearml SDK lives here, so the rest of the hat is plain Python.

clearml is imported inside the functions: `hat.py --print_argv` and `argparse_to_yaml.py` never pay for it.
"""
from __future__ import annotations

import numbers
import os
import socket
from pathlib import Path
from typing import Any, List, Optional
from urllib.parse import urlparse

from clearml_hat import sdk_private
from clearml_hat.errors import HatError

_TASK_ID_VARS = ("CLEARML_TASK_ID", "TRAINS_TASK_ID")


def clearml_configured() -> bool:
    """True when the SDK would find a server to talk to: a clearml.conf, or the API host in the environment."""
    from clearml.backend_api.session.defs import ENV_HOST
    from clearml.backend_config.defs import get_active_config_file

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
    if requirements and Path(requirements).is_file():
        Task.force_requirements_env_freeze(requirements_file=requirements)
    if offline:
        Task.set_offline(True)
    return Task.init(
        project_name=project,
        task_name=task_name,
        auto_connect_arg_parser=False,
        reuse_last_task_id=False,
        output_uri=output_uri,
    )


def connect_section(task: Any, values: dict, section: str) -> dict:
    """Show values in the task's `section`; under the agent, values edited in the web UI come back instead."""
    return task.connect(dict(values), name=section)


def report_result(task: Any, result: Any) -> None:
    """A returned path becomes the `output` artifact; a dict of numbers becomes single values."""
    if isinstance(result, (str, os.PathLike)) and Path(result).exists():
        task.upload_artifact("output", artifact_object=Path(result), wait_on_upload=True)
    elif isinstance(result, dict) and result and all(_is_number(v) for v in result.values()):
        logger = task.get_logger()
        for name, value in result.items():
            logger.report_single_value(str(name), float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def close_task(task: Any) -> Optional[Path]:
    """Close the task (status completed); in offline mode return the session zip to import later."""
    folder = task.get_offline_mode_folder() if task.is_offline() else None
    task.close()
    return Path(f"{folder}.zip") if folder else None


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
