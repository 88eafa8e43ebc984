"""A click training script (the shape of click's own docs and of many research repos: @click.command over typed
options, a flag pair, a plain flag, nargs, multiple, a Choice, dashed names, a required option and a positional
argument; written for this project). It records the values click handed to the function."""
import click
from record import record


@click.command()
@click.argument("data_dir", type=click.Path(), default="data")
@click.option("--learning-rate", "-l", type=float, default=0.1, show_default=True, help="step size of SGD")
@click.option("--epochs", type=int, default=20, help="passes over the training set")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=64, help="examples per step")
@click.option("--optimizer", type=click.Choice(["sgd", "adam", "adamw"]), default="sgd", help="update rule")
@click.option("--shuffle/--no-shuffle", default=True, help="reshuffle the data every epoch")
@click.option("--fp16", is_flag=True, help="train in half precision")
@click.option("--betas", nargs=2, type=float, default=(0.9, 0.999), help="Adam's beta1 and beta2")
@click.option("--layer", "layers", multiple=True, type=int, default=[64, 32], help="hidden width, one per layer")
@click.option("--run-name", required=True, help="name of the run in the logs")
@click.option("--seed", type=int, default=None, help="random seed (random when not given)")
def main(data_dir, learning_rate, epochs, batch_size, optimizer, shuffle, fp16, betas, layers, run_name, seed):
    print(f"{run_name}: {optimizer} lr {learning_rate} for {epochs} epochs on {data_dir}")
    print(f"val_acc: {learning_rate * len(layers) / 10:.4f}")  # a metric for sweeps
    record(dict(data_dir=data_dir, learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                optimizer=optimizer, shuffle=shuffle, fp16=fp16, betas=betas, layers=layers, run_name=run_name,
                seed=seed))


if __name__ == "__main__":
    main()
