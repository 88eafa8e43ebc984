# ruff: noqa: F401  -- the imports are the real script's; most are only used by the training this stub leaves out
"""A fine-tuning script with parser.set_defaults() overriding add_argument defaults, mutually exclusive groups
(one with a string default), negative defaults, a dict default with type=json.loads, a tuple default with
nargs=3 and type=float."""
import argparse
import json
import os

import cv2
import numpy as np
import torch
import yaml
from utils.general import check_file, increment_path


def build_parser():
    parser = argparse.ArgumentParser(description="fine-tune a detector",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--cfg", type=str, default="configs/base.yaml", help="model config")
    parser.add_argument("--lr", type=float, default=1e-2, help="initial learning rate")
    parser.add_argument("--min-lr", type=float, default=-1e-05, help="final learning rate offset (negative: relative)")
    parser.add_argument("--grad-clip", type=float, default=-1.0, help="clip gradient norm; negative disables")
    parser.add_argument("--early-stop", type=int, default=-1, help="stop after N epochs without improvement; -1 never")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--scheduler", choices=["step", "cosine", "onecycle"], default="step")
    parser.add_argument("--loss-weights", type=json.loads, default={"cls": 1.0, "box": 5.0, "obj": 1.0},
                        help="loss weights as JSON")
    parser.add_argument("--mean", type=float, nargs=3, default=(0.485, 0.456, 0.406), help="normalisation mean")
    parser.add_argument("--std", type=float, nargs=3, default=(0.229, 0.224, 0.225), help="normalisation std")
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="train in float16")
    precision.add_argument("--bf16", action="store_true", help="train in bfloat16")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--resume", default=None, help="checkpoint to resume from")
    start.add_argument("--init-weights", default="imagenet", help="weights to start from when not resuming")
    parser.set_defaults(lr=3e-4, scheduler="cosine", epochs=80, func="train")
    return parser


def train(opt):
    # Stub of the training: it must never run while the hat reads the parser.
    with open(os.environ.get("HAT_CORPUS_MARKER", os.devnull), "w") as marker:
        marker.write("finetune_defaults ran\n")
    raise RuntimeError("training ran: the hat must stop at parse_args()")


if __name__ == "__main__":
    opt = build_parser().parse_args()
    opt.cfg = check_file(opt.cfg)
    train(opt)
