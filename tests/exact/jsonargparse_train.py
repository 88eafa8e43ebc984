"""A jsonargparse training script: CLI(main) over a function whose parameters are the options, one of them a
dataclass (the shape of litgpt's entry points; written for this project). Its command line is jsonargparse's:

    python jsonargparse_train.py --epochs 5 --optim.lr 0.5 --model large --amp true --tags '[a, b]'

It records the values main received (the dataclass as a dict)."""
import dataclasses
from dataclasses import dataclass, field
from typing import List, Literal, Optional

from jsonargparse import CLI
from record import record


@dataclass
class Optim:
    """The optimizer.

    Args:
        lr: learning rate
        momentum: SGD momentum
        betas: Adam's betas
    """

    lr: float = 0.1
    momentum: float = 0.9
    betas: List[float] = field(default_factory=lambda: [0.9, 0.99])


def main(optim: Optim = Optim(), epochs: int = 20, model: Literal["small", "large"] = "small",  # noqa: B008
         amp: bool = False,
         tags: List[str] = ["baseline"], seed: Optional[int] = None, run_name: str = "run") -> None:  # noqa: B006
    """Train a toy model.

    Args:
        optim: the optimizer
        epochs: passes over the data
        model: model size
        amp: train in mixed precision
        tags: labels for the run
        seed: random seed (none: random)
        run_name: name of the run
    """
    print(f"{run_name}: lr {optim.lr} for {epochs} epochs, model {model}")
    print(f"val_acc: {optim.lr * epochs / 100:.4f}")  # a metric for sweeps
    record({"optim": dataclasses.asdict(optim), "epochs": epochs, "model": model, "amp": amp, "tags": tags,
            "seed": seed, "run_name": run_name})


if __name__ == "__main__":
    CLI(main)
