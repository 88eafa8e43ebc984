# ruff: noqa: F401  -- the imports are the real script's; most are only used by the training this stub leaves out
"""A fairseq-style command line: global options, then `train` / `eval` (alias `validate`) subcommands made by
add_subparsers() without dest (dest=SUPPRESS), each with a positional `data`, its own options and set_defaults(func=);
--lr is a nargs='+' list of floats as in fairseq; --seed exists globally and in `eval` with another default."""
import argparse
import logging
import os
import sys

import numpy as np
import torch
from fairseq import checkpoint_utils, options, tasks, utils
from fairseq.data import iterators
from fairseq.logging import meters, metrics, progress_bar
from fairseq.trainer import Trainer

logger = logging.getLogger("fairseq_cli.train")


def train_main(args):
    # Stub of the training: it must never run while the hat reads the parser.
    with open(os.environ.get("HAT_CORPUS_MARKER", os.devnull), "w") as marker:
        marker.write("fairseq_like train ran\n")
    raise RuntimeError("training ran: the hat must stop at parse_args()")


def eval_main(args):
    with open(os.environ.get("HAT_CORPUS_MARKER", os.devnull), "w") as marker:
        marker.write("fairseq_like eval ran\n")
    raise RuntimeError("evaluation ran: the hat must stop at parse_args()")


def get_parser():
    parser = argparse.ArgumentParser(prog="fairseq-cli", description="train or evaluate a sequence model")
    parser.add_argument("--no-progress-bar", action="store_true", help="disable progress bar")
    parser.add_argument("--log-interval", type=int, default=100, metavar="N",
                        help="log progress every N batches (when progress bar is disabled)")
    parser.add_argument("--log-format", default=None, help="log format to use",
                        choices=["json", "none", "simple", "tqdm"])
    parser.add_argument("--seed", default=1, type=int, metavar="N", help="pseudo random number generator seed")
    parser.add_argument("--cpu", action="store_true", help="use CPU instead of CUDA")
    parser.add_argument("--fp16", action="store_true", help="use FP16")
    parser.add_argument("--user-dir", default=None, help="path to a python module containing custom extensions")
    subparsers = parser.add_subparsers(help="what to do")

    train = subparsers.add_parser("train", help="train a model")
    train.add_argument("data", help="colon separated path to data directories list")
    train.add_argument("--arch", "-a", default="transformer", metavar="ARCH", help="model architecture")
    train.add_argument("--optimizer", default="adam", choices=["adam", "adagrad", "nag", "sgd"], help="optimizer")
    train.add_argument("--lr", "--learning-rate", default=[0.25], type=float, nargs="+", metavar="LR_1,LR_2,...,LR_N",
                       help="learning rate for the first N epochs; all epochs >N using LR_N")
    train.add_argument("--adam-betas", default="(0.9, 0.999)", metavar="B", help="betas for Adam optimizer")
    train.add_argument("--clip-norm", default=0.0, type=float, metavar="NORM", help="clip threshold of gradients")
    train.add_argument("--max-tokens", type=int, metavar="N", help="maximum number of tokens in a batch")
    train.add_argument("--max-epoch", "--me", default=0, type=int, metavar="N", help="force stop training at epoch")
    train.add_argument("--dropout", type=float, default=0.1, metavar="D", help="dropout probability")
    train.add_argument("--save-dir", metavar="DIR", default="checkpoints", help="path to save checkpoints")
    train.add_argument("--no-epoch-checkpoints", action="store_true", help="only store last and best checkpoints")
    train.set_defaults(func=train_main)

    evaluate = subparsers.add_parser("eval", aliases=["validate"], help="evaluate a checkpoint")
    evaluate.add_argument("data", help="colon separated path to data directories list")
    evaluate.add_argument("--path", metavar="FILE", default="checkpoints/checkpoint_best.pt",
                          help="path to model file")
    evaluate.add_argument("--beam", default=5, type=int, metavar="N", help="beam size")
    evaluate.add_argument("--batch-size", "--max-sentences", type=int, metavar="N",
                          help="maximum number of sentences in a batch")
    evaluate.add_argument("--gen-subset", default="test", metavar="SPLIT", help="data subset to generate")
    evaluate.add_argument("--scoring", default="bleu", choices=["bleu", "sacrebleu", "chrf", "wer"],
                          help="scoring method")
    evaluate.add_argument("--seed", default=2, type=int, metavar="N", help="seed for sampling")
    evaluate.set_defaults(func=eval_main)
    return parser


def cli_main():
    parser = get_parser()
    args = parser.parse_args()
    if args.user_dir is not None:
        utils.import_user_module(args)
    args.func(args)


if __name__ == "__main__":
    cli_main()
