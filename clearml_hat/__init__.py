"""ClearML Hat: run an argparse training script under ClearML, with a YAML file as the one source of truth."""

__version__ = "0.4.0"
