"""A training script whose hyperparameters live in a YAML file named by --config (mmdetection's, detectron2's
shape; written for this project). It records its arguments and the file's values as it read them."""
import argparse

import yaml
from record import record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/exp.yaml", help="experiment config file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as file:
        cfg = yaml.safe_load(file)
    print(f"lr {cfg['optim']['lr']} for {cfg['epochs']} epochs")
    record({"seed": args.seed, "cfg": cfg, "config_file_name": args.config.split("/")[-1].startswith("exp")})


if __name__ == "__main__":
    main()
