"""Torch helpers (in the shape of yolov5's utils/torch_utils.py)."""
import os

import torch
import torch.distributed as dist

LOCAL_RANK = int(os.getenv("LOCAL_RANK", -1))


def select_device(device=""):
    return torch.device("cuda:0" if device and torch.cuda.is_available() else "cpu")


def smart_DDP(model):
    return dist.is_available() and model
