"""Write config.yaml from a training script's own argparse parser, or check a YAML file against it.

    python argparse_to_yaml.py                                  # train_aip.py -> config.yaml
    python argparse_to_yaml.py --script train.py -o train.yaml
    python argparse_to_yaml.py --check config.yaml              # unknown keys, bad types and choices, missing values

The parser is taken by running the script up to its parse_args() call; training never runs, and modules that are
not installed here (torch, cv2, ...) are replaced by inert stand-ins for that moment only. This is
`clearml-hat yaml`.
"""
import sys

from clearml_hat.cli import script_main

if __name__ == "__main__":
    sys.exit(script_main("yaml", "argparse_to_yaml.py", script="train_aip.py"))
