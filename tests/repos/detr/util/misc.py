"""Misc helpers (in the shape of DETR's util/misc.py): version checks at import."""
import torch
import torch.distributed as dist
import torchvision

if float(torchvision.__version__.split(".")[1]) < 7.0:
    from torchvision.ops import _new_empty_tensor


def get_rank():
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def init_distributed_mode(args):
    args.distributed = False
