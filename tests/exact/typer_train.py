"""A typer training script (the shape of typer's own tutorials: a Typer app with one command whose options are
Annotated parameters, an Enum choice, a bool flag pair, a list option, a tuple and a positional path; written for
this project). It records the values typer handed to the function."""
import enum
from pathlib import Path
from typing import List, Optional, Tuple

import typer
from record import record
from typing_extensions import Annotated

app = typer.Typer()


class Optimizer(str, enum.Enum):
    sgd = "sgd"
    adam = "adam"
    adamw = "adamw"


@app.command()
def train(
    data_dir: Annotated[Path, typer.Argument(help="folder of training images")] = Path("data"),
    learning_rate: Annotated[float, typer.Option(help="step size")] = 0.1,
    epochs: Annotated[int, typer.Option(min=1, help="passes over the training set")] = 20,
    optimizer: Annotated[Optimizer, typer.Option(help="update rule")] = Optimizer.sgd,
    shuffle: Annotated[bool, typer.Option(help="reshuffle the data every epoch")] = True,
    layer: Annotated[List[int], typer.Option(help="hidden width, one per layer")] = [64, 32],  # noqa: B006
    betas: Annotated[Tuple[float, float], typer.Option(help="Adam's beta1 and beta2")] = (0.9, 0.999),
    seed: Annotated[Optional[int], typer.Option(help="random seed")] = None,
) -> None:
    print(f"{optimizer.value} lr {learning_rate} for {epochs} epochs on {data_dir}")
    print(f"val_acc: {learning_rate * len(layer) / 10:.4f}")  # a metric for sweeps
    record(dict(data_dir=data_dir, learning_rate=learning_rate, epochs=epochs, optimizer=optimizer,
                shuffle=shuffle, layer=layer, betas=betas, seed=seed))


if __name__ == "__main__":
    app()
