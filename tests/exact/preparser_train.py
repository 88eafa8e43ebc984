"""timm's shape (written for this project): a `-c/--config` pre-parser whose YAML file sets the main parser's
defaults, then the main parser parses what the pre-parser left. It records the namespace it resolved."""
import argparse

import yaml
from record import record

config_parser = parser = argparse.ArgumentParser(description="Training Config", add_help=False)
parser.add_argument("-c", "--config", default="", type=str, metavar="FILE",
                    help="YAML config file specifying default arguments")

parser = argparse.ArgumentParser(description="image training")
parser.add_argument("--model", default="resnet50", type=str)
parser.add_argument("--lr", type=float, default=None)
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--smoothing", type=float, default=0.1)


def _parse_args() -> argparse.Namespace:
    args_config, remaining = config_parser.parse_known_args()
    if args_config.config:
        with open(args_config.config, encoding="utf-8") as file:
            parser.set_defaults(**yaml.safe_load(file))
    return parser.parse_args(remaining)


def main() -> None:
    args = _parse_args()
    print(f"{args.model} lr {args.lr} for {args.epochs} epochs")
    record(vars(args))


if __name__ == "__main__":
    main()
