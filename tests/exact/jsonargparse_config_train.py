"""A jsonargparse training script with its own ArgumentParser and a `--config` file option (the shape of
jsonargparse's documented parsers; written for this project). Nested options are dotted:

    python jsonargparse_config_train.py --data /tmp/d --config jsonargparse_conf/fast.yaml --optim.lr 0.5

It records the namespace it parsed, config file option left out."""
from typing import Literal

from jsonargparse import ActionConfigFile, ArgumentParser
from record import record


def main() -> None:
    parser = ArgumentParser(description="Train a toy model.")
    parser.add_argument("--config", action=ActionConfigFile, help="a YAML file of these options")
    parser.add_argument("--data", type=str, required=True, help="folder of training data")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the data")
    parser.add_argument("--optim.lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--optim.name", type=Literal["sgd", "adam"], default="sgd", help="optimizer")
    parser.add_argument("--scheduler", choices=["cosine", "step"], default="cosine", help="learning rate schedule")
    parser.add_argument("--eval_every", type=int, default=5, help="epochs between evaluations")
    args = parser.parse_args()
    print(f"lr {args.optim.lr} for {args.epochs} epochs on {args.data}")
    flat = args.clone()
    del flat["config"]
    record({key: flat[key] for key in flat.keys()})


if __name__ == "__main__":
    main()
