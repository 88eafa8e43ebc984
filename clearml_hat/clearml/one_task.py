"""One task per run, whoever else reports to ClearML: the training's own `Task.init` attaches to the hat's task.

    with attached(task, on_framework_scalar) as report_scalar:
        ...  # the training; its Task.init(...) returns `task`, its Task.set_offline(...) changes nothing
        report_scalar("loss", "train", 0.5, 3)  # the hat's own scalars, never taken for the training's

A script's `Task.init(project_name="MyProject", ...)` would raise UsageError ("Current task already created and
requested project name ... does not match"), as yolov5's ClearML logger does under the hat; Hugging Face's
ClearMLCallback, mmengine's ClearMLVisBackend and ultralytics call it too. While the block runs, Task.init returns
the hat's task whatever project, name or type it asks for, and Task.set_offline keeps the mode the hat chose (the
run's other reports would otherwise go elsewhere). In offline mode, a training's Task.set_base_docker keeps its
image and arguments but not its setup script, which ClearML's offline mode refuses with a ValueError that would
end the training (yolov5's logger sets one), and a training's Task.update_output_model records nothing (ClearML's
offline mode fails there with AttributeError, and records no output models anyway; ultralytics' callback calls it at
the end of the training). Each scalar the training reports through ClearML's Logger (its
own calls, those frameworks', ClearML's TensorBoard binding) calls `on_framework_scalar` first, so the hat can stop
drawing the same metrics from printed lines.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

_MONITOR = ":monitor:"


@contextmanager
def attached(task: Any, on_framework_scalar: Callable[[], None]) -> Iterator[Callable[[str, str, float, int], None]]:
    """For the block, the training's Task.init gives `task`; yields the hat's own report_scalar."""
    from clearml import Logger, Task

    original_init = Task.__dict__["init"]
    original_set_offline = Task.__dict__["set_offline"]
    original_report_scalar = Logger.report_scalar
    original_set_base_docker = Task.set_base_docker
    original_update_output_model = Task.update_output_model

    def init(cls: Any, project_name: Any = None, task_name: Any = None, task_type: Any = None, *args: Any,
             **kwargs: Any) -> Any:
        # Task.init returns the running task when project, name and type are None (or match it); its other
        # arguments (output_uri, auto_connect_frameworks...) only apply to a new task.
        return original_init.__func__(cls, None, None, None, *args, **kwargs)

    def set_offline(cls: Any, offline_mode: bool = False) -> None:
        """The hat chose the mode before the training started; the training's choice would split the run."""

    def set_base_docker(self: Any, docker_cmd: Any = None, docker_image: Any = None, docker_arguments: Any = None,
                        docker_setup_bash_script: Any = None) -> None:
        # Offline, ClearML refuses a setup script (ValueError: "Your ClearML-server does not support docker bash
        # script feature"; an offline session knows no server version), which would end the training.
        script = None if self.is_offline() else docker_setup_bash_script
        original_set_base_docker(self, docker_cmd, docker_image, docker_arguments, script)

    def update_output_model(self: Any, model_path: str, *args: Any, **kwargs: Any) -> Any:
        # Offline, ClearML raises "'DummyModel' object has no attribute 'locked'" (1.16.3 and 2.1.12, bare too).
        if self.is_offline():
            return str(model_path)  # ClearML returns where the weights are; offline they stay where they are
        return original_update_output_model(self, model_path, *args, **kwargs)

    def report_scalar(self: Any, *args: Any, **kwargs: Any) -> Any:
        # ClearML's own resource monitor reports machine stats (":monitor:machine", ":monitor:gpu") this way too,
        # from a thread of its own: they are not the training's metrics.
        if not str(kwargs.get("title", args[0] if args else "")).startswith(_MONITOR):
            on_framework_scalar()
        return original_report_scalar(self, *args, **kwargs)

    logger = task.get_logger()

    def own_scalar(title: str, series: str, value: float, iteration: int) -> None:
        original_report_scalar(logger, title, series, value, iteration)

    Task.init = classmethod(init)  # type: ignore[assignment, method-assign]
    Task.set_offline = classmethod(set_offline)  # type: ignore[assignment, method-assign]
    Logger.report_scalar = report_scalar  # type: ignore[method-assign]
    Task.set_base_docker = set_base_docker  # type: ignore[method-assign]
    Task.update_output_model = update_output_model  # type: ignore[method-assign]
    try:
        yield own_scalar
    finally:
        Task.init = original_init  # type: ignore[method-assign]
        Task.set_offline = original_set_offline  # type: ignore[method-assign]
        Logger.report_scalar = original_report_scalar  # type: ignore[method-assign]
        Task.set_base_docker = original_set_base_docker  # type: ignore[method-assign]
        Task.update_output_model = original_update_output_model  # type: ignore[method-assign]
