"""Write config.yaml from a training script's own argparse parser, or check a YAML file against it.

    python argparse_to_yaml.py                                  # train_aip.py -> config.yaml
    python argparse_to_yaml.py --script train.py -o train.yaml
    python argparse_to_yaml.py --check config.yaml              # unknown keys, bad types and choices, missing values

The parser is taken by running the script up to its parse_args() call; training never runs, and modules that are
not installed here (torch, cv2, ...) are replaced by inert stand-ins for that moment only.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from clearml_hat.capture import capture_parser
from clearml_hat.check import check_values
from clearml_hat.errors import HatError
from clearml_hat.parser_values import describe_arguments, text_keys, whole_numbers
from clearml_hat.yaml_config import load_values, render_yaml


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Write config.yaml from a training script's argparse parser.")
    parser.add_argument("--script", default="train_aip.py", help="training script whose parser is read")
    parser.add_argument("-o", "--output", default="config.yaml", help="YAML file to write")
    parser.add_argument("--check", metavar="YAML", help="validate this YAML against the parser instead of writing")
    return parser.parse_args(argv)


def write_config(script: str, output: str) -> None:
    path = Path(output)
    if not path.parent.is_dir():
        raise HatError(f"{output}: the folder {path.parent} does not exist; create it or give -o a file in an "
                       "existing folder")
    text = render_yaml(describe_arguments(capture_parser(script)), script, output)
    if path.is_file() and path.read_text(encoding="utf-8") != text:
        backup = path.with_name(path.name + ".bak")
        os.replace(path, backup)  # a regenerated file must not eat the user's edits
        print(f"kept the previous {path} as {backup}", file=sys.stderr)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} from {script}")


def check_config(script: str, yaml_path: str) -> int:
    parser = capture_parser(script)
    values = whole_numbers(parser, load_values(yaml_path, text_keys(parser)))
    problems, warnings = check_values(parser, values)
    for line in warnings:
        print(f"{yaml_path}: warning: {line}")
    for line in problems:
        print(f"{yaml_path}: {line}")
    if problems:
        return 1
    print("ok")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.check:
            return check_config(args.script, args.check)
        write_config(args.script, args.output)
        return 0
    except HatError as error:
        print(f"argparse_to_yaml.py: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
