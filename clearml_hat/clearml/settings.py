"""The hat's settings stored on the task, in its `hat` section: what clearml-agent's `python hat.py` reads back.

The agent starts `python hat.py` with no arguments, so everything the run needs there is stored here, by name,
and shown (editable) in the web UI; a clone reads the same. Flags that only matter on this machine, now (the
YAML file, overrides, --offline, --force, --print_argv, --remote itself) are not stored: adding a flag stores
nothing until it is named here.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import List, Optional

from clearml_hat import __version__

SECTION = "hat"


@dataclasses.dataclass
class StoredSettings:
    script: str = "train_aip.py"
    project: str = "hat"
    task_name: Optional[str] = None
    output_uri: Optional[str] = None
    queue: str = "default"  # the queue a new ClearML server makes, which `clearml-agent daemon` serves by default
    docker: str = "pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime"
    docker_args: str = ""
    docker_setup_script: Optional[str] = None
    requirements: Optional[str] = None
    s3: bool = False
    dataset_name: Optional[str] = "hat-sample-images"
    data_proj_name: str = "datasets/hat"
    dataset_version: Optional[str] = None
    dataset_id: Optional[str] = None
    data_key: str = "data_path"
    nproc_per_node: int = 1  # ranks per machine, started by torchrun (distributed.py)
    nodes: int = 1  # machines of a remote run, through Task.launch_multi_node (dist_tracking.py)
    metrics: str = "auto"  # how printed lines become scalars: auto, off or a regex (printed_metrics.py)
    objective: Optional[str] = None  # a sweep trial's objective, reported as a single value (sweep.py)
    pin: List[str] = dataclasses.field(default_factory=list)  # keys passed even at their default (config/system.py)
    args_file: Optional[str] = None  # --as_args_file: the YAML the script gets as its only argument (config/job.py)
    hat_version: str = __version__  # the hat that made the task; an agent run with another one says so

    @classmethod
    def from_options(cls, options: argparse.Namespace) -> StoredSettings:
        """The stored fields of the run's command-line options (hat_version is this hat's)."""
        names = [field.name for field in dataclasses.fields(cls) if field.name not in ("hat_version", "args_file")]
        return cls(**{name: getattr(options, name) for name in names})

    @classmethod
    def from_section(cls, section: dict) -> StoredSettings:
        """The settings from the task's section; keys this hat does not store (an older hat's) are ignored."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in section.items() if key in names})

    def to_section(self) -> dict:
        return dataclasses.asdict(self)
