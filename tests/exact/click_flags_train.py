"""A click script with the rarer parameter kinds (written for this project): a count option (-vv), feature
switches writing one name (--fp16/--bf16/--fp32 into `precision`), a case-insensitive Choice, a variadic
positional (nargs=-1), and a command started as `cli.main(args=..., standalone_mode=False)`. It records the
values click handed to the function."""
import sys

import click
from record import record


@click.command()
@click.option("-v", "--verbose", count=True, help="more logging for each -v")
@click.option("--fp16", "precision", flag_value="fp16", help="half precision")
@click.option("--bf16", "precision", flag_value="bf16", help="bfloat16")
@click.option("--fp32", "precision", flag_value="fp32", default=True, help="full precision")
@click.option("--scheduler", type=click.Choice(["cosine", "linear"], case_sensitive=False), default="cosine")
@click.argument("shards", nargs=-1)
def cli(verbose, precision, scheduler, shards):
    print(f"{precision} {scheduler} over {len(shards)} shards")
    record(dict(verbose=verbose, precision=precision, scheduler=scheduler, shards=shards))


if __name__ == "__main__":
    cli.main(args=sys.argv[1:], standalone_mode=False)
