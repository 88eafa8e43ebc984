"""Logger (in the shape of improved_diffusion/logger.py)."""
import os
import sys


def configure(dir=None):
    print(f"Logging to {dir or os.getcwd()}", file=sys.stderr)


def log(*args):
    print(*args)
