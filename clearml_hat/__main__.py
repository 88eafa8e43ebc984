"""`python -m clearml_hat ...` is the `clearml-hat` command."""
import sys

from clearml_hat.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="clearml-hat"))
