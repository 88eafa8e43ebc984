# ruff: noqa: F401  -- the imports are the real script's; most are only used by the training this stub leaves out
"""A modern (Python 3.9+) LLM fine-tuning script: BooleanOptionalAction with default True, False and None,
count -v, append --tag (default []) and --exclude (default None), append_const, extend, nargs=2 with a tuple
default, choices, an `if __name__` block calling main(parse_args())."""
import argparse
import math
import os
from pathlib import Path

import torch
import wandb
from model import GPT, GPTConfig
from torch.distributed import destroy_process_group, init_process_group
from torch.nn.parallel import DistributedDataParallel as DDP


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="fine-tune a GPT on a text dataset")
    parser.add_argument("--out-dir", default="out", help="where checkpoints go")
    parser.add_argument("--init-from", default="scratch", choices=["scratch", "resume", "gpt2", "gpt2-medium"])
    parser.add_argument("--dataset", default="openwebtext")
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=6e-4)
    parser.add_argument("--max-iters", type=int, default=600000)
    parser.add_argument("--betas", type=float, nargs=2, default=(0.9, 0.95), metavar=("BETA1", "BETA2"))
    parser.add_argument("--grad-clip", type=float, default=1.0, help="clip gradients at this value, or 0 to disable")
    parser.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True,
                        help="use PyTorch 2.0 to compile the model to be faster")
    parser.add_argument("--wandb-log", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--flash", action=argparse.BooleanOptionalAction, help="force flash attention on or off")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging, -vv for debug")
    parser.add_argument("--tag", action="append", default=[], help="a wandb tag; repeat for several")
    parser.add_argument("--exclude", action="append", help="a data shard to skip; repeat for several")
    parser.add_argument("--eval-only", dest="modes", action="append_const", const="eval")
    parser.add_argument("--bench", dest="modes", action="append_const", const="bench")
    parser.add_argument("--extra-files", action="extend", nargs="+", default=[], help="more training files")
    return parser.parse_args(argv)


def main(args):
    # Stub of the training: it must never run while the hat reads the parser.
    Path(os.environ.get("HAT_CORPUS_MARKER", os.devnull)).write_text("modern_flags ran\n")
    raise RuntimeError("training ran: the hat must stop at parse_args()")


if __name__ == "__main__":
    main(parse_args())
