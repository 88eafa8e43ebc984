"""A jsonargparse script with subcommands: CLI over two functions (the shape of litgpt's `litgpt finetune ...` and
LightningCLI's `fit`/`validate`; written for this project). The subcommand comes first, its options after it:

    python jsonargparse_sub_train.py fit --epochs 5 --optim.lr 0.5

It records the subcommand and the values the function received."""
import dataclasses
from dataclasses import dataclass

from jsonargparse import CLI
from record import record


@dataclass
class Optim:
    lr: float = 0.1
    momentum: float = 0.9


def fit(data: str, epochs: int = 20, optim: Optim = Optim()) -> None:  # noqa: B008
    """Train.

    Args:
        data: folder of training data
        epochs: passes over the data
        optim: the optimizer
    """
    print(f"fit: lr {optim.lr} for {epochs} epochs on {data}")
    record({"subcommand": "fit", "data": data, "epochs": epochs, "optim": dataclasses.asdict(optim)})


def evaluate(checkpoint: str = "last.ckpt", batch_size: int = 64) -> None:
    """Evaluate a checkpoint.

    Args:
        checkpoint: the checkpoint file
        batch_size: samples per batch
    """
    record({"subcommand": "evaluate", "checkpoint": checkpoint, "batch_size": batch_size})


if __name__ == "__main__":
    CLI([fit, evaluate])
