"""Two-stage parsing: the model's options depend on --model_name (Lightning's documented pattern)."""
from argparse import ArgumentParser

from models import LitGAN, LitMNIST


def main(args):
    print(f"training {args.model_name} with {vars(args)}")


if __name__ == "__main__":
    parser = ArgumentParser()
    parser.add_argument("--model_name", type=str, default="mnist", help="mnist or gan")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--max_epochs", type=int, default=10)
    temp_args, _ = parser.parse_known_args()
    if temp_args.model_name == "gan":
        parser = LitGAN.add_model_specific_args(parser)
    elif temp_args.model_name == "mnist":
        parser = LitMNIST.add_model_specific_args(parser)
    args = parser.parse_args()
    main(args)
