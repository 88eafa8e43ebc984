"""Helpers for distributed training (in the shape of improved_diffusion/dist_util.py)."""
import io
import os
import socket

import blobfile as bf
import torch as th
import torch.distributed as dist
from mpi4py import MPI

GPUS_PER_NODE = 8
SETUP_RETRY_COUNT = 3


def setup_dist():
    if dist.is_initialized():
        return
    comm = MPI.COMM_WORLD
    os.environ["MASTER_ADDR"] = socket.gethostbyname(socket.getfqdn())


def load_state_dict(path, **kwargs):
    with bf.BlobFile(path, "rb") as f:
        data = f.read()
    return th.load(io.BytesIO(data), **kwargs)
