"""A click group with subcommands (the shape of many research CLIs: `python train.py --seed 1 fit --lr 0.1`;
written for this project): a group option, two subcommands sharing `batch_size`, each with options of its own.
It records the values click handed to the group and to the subcommand that ran."""
import click
from record import record

seen = {}


@click.group()
@click.option("--seed", type=int, default=0, help="random seed for every subcommand")
def cli(seed):
    seen["seed"] = seed


@cli.command()
@click.option("--lr", type=float, default=0.1, help="step size")
@click.option("--batch-size", type=int, default=32)
@click.option("--amp/--no-amp", default=False, help="mixed precision")
def fit(lr, batch_size, amp):
    print(f"fit lr {lr} batch {batch_size}")
    record(dict(seen, command="fit", lr=lr, batch_size=batch_size, amp=amp))


@cli.command()
@click.option("--batch-size", type=int, default=64)
@click.argument("checkpoint", default="last.pt")
def evaluate(batch_size, checkpoint):
    print(f"evaluate {checkpoint} batch {batch_size}")
    record(dict(seen, command="evaluate", batch_size=batch_size, checkpoint=checkpoint))


if __name__ == "__main__":
    cli()
