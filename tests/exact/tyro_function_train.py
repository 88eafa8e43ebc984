"""A tyro training script that hands a function to `tyro.cli` (written for this project): its parameters are the
options, `data` has no default (required), and `optim` is a nested dataclass. It records the arguments main got.

    python tyro_function_train.py --data train.csv --epochs 3 --optim.lr 0.5
"""
from dataclasses import dataclass
from pathlib import Path

import tyro
from record import record


@dataclass
class Optim:
    lr: float = 0.1
    """learning rate"""
    momentum: float = 0.9


DEFAULT_OPTIM = Optim()


def main(data: Path, epochs: int = 10, optim: Optim = DEFAULT_OPTIM, verbose: bool = False) -> None:
    """Train on a CSV file.

    Args:
        data: the training data
        epochs: passes over the data
        optim: the optimizer's settings
        verbose: print every step
    """
    record({"data": data, "epochs": epochs, "optim.lr": optim.lr, "optim.momentum": optim.momentum,
            "verbose": verbose})


if __name__ == "__main__":
    tyro.cli(main)
