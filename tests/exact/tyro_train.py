"""A tyro training script in cleanrl's shape (written for this project): a module-level `@dataclass class Args`
whose fields carry their help as docstring comments, and `args = tyro.cli(Args)` under `__main__`. Fields: a
computed default, booleans (`--track/--no-track`), a Literal, a tuple, Optional values and a Path. It records the
Args it received (see record.py) and prints a metric for sweeps.

    python tyro_train.py --learning-rate 0.001 --no-anneal-lr --hidden-sizes 128 128
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Tuple

import tyro
from record import record


@dataclass
class Args:
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    torch_deterministic: bool = True
    """if toggled, `torch.backends.cudnn.deterministic=False`"""
    track: bool = False
    """if toggled, this experiment will be tracked"""
    env_id: str = "CartPole-v1"
    """the id of the environment"""
    total_timesteps: int = 500000
    """total timesteps of the experiments"""
    learning_rate: float = 2.5e-4
    """the learning rate of the optimizer"""
    anneal_lr: bool = True
    """Toggle learning rate annealing for policy and value networks"""
    optimizer: Literal["adam", "sgd"] = "adam"
    """the optimizer"""
    hidden_sizes: Tuple[int, int] = (64, 64)
    """the widths of the two hidden layers"""
    target_kl: Optional[float] = None
    """the target KL divergence threshold"""
    capture_dir: Path = Path("videos")
    """where videos are saved"""


if __name__ == "__main__":
    args = tyro.cli(Args)
    record(vars(args))
    print(f"episodic_return: {args.learning_rate * 1000 + args.hidden_sizes[0]:.4f}")
