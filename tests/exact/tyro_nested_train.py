"""A tyro training script in torchtitan's shape (written for this project): a JobConfig dataclass holding
optimizer and training sub-dataclasses, an Enum, a list, and a default instance handed to `tyro.cli`, which
overrides the class defaults. It records the config it received, flattened to dotted keys (see record.py).

    python tyro_nested_train.py --optimizer.lr 0.5 --training.compile --training.schedule LINEAR
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import List, Literal, Optional, Tuple

import tyro
from record import record


class Schedule(enum.Enum):
    COSINE = "cosine"
    LINEAR = "linear"


@dataclass
class Optimizer:
    name: Literal["AdamW", "Adam", "SGD"] = "AdamW"
    """optimizer to use"""
    lr: float = 8e-4
    """learning rate to use"""
    betas: Tuple[float, float] = (0.9, 0.95)
    """Adam's beta coefficients"""


@dataclass
class Training:
    steps: int = 10000
    """how many train steps to run"""
    batch_size: int = 8
    """batch size per device"""
    compile: bool = False
    """whether to compile the model"""
    schedule: Schedule = Schedule.COSINE
    """learning rate schedule"""
    max_norm: Optional[float] = 1.0
    """max norm for gradient clipping, None for none"""


@dataclass
class JobConfig:
    dump_folder: str = "./outputs"
    """folder to dump job outputs"""
    description: str = "default job"
    tags: List[str] = field(default_factory=lambda: ["llama"])
    """tags of the run"""
    optimizer: Optimizer = field(default_factory=Optimizer)
    training: Training = field(default_factory=Training)


def flat(value: object, prefix: str = "") -> dict:
    if not dataclasses.is_dataclass(value):
        return {prefix[:-1]: value}
    return {key: leaf for item in dataclasses.fields(value)
            for key, leaf in flat(getattr(value, item.name), f"{prefix}{item.name}.").items()}


if __name__ == "__main__":
    # The default instance wins over the class defaults, as a project's preset would.
    preset = JobConfig(description="llama debug", training=Training(steps=20))
    config = tyro.cli(JobConfig, default=preset)
    record(flat(config))
    print(f"loss: {config.optimizer.lr * config.training.batch_size:.4f}")
