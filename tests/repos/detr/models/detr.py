import torch
import torch.nn.functional as F
from torch import nn


class DETR(nn.Module):
    def __init__(self, num_queries, aux_loss=False):
        super().__init__()
        self.num_queries = num_queries
        self.aux_loss = aux_loss


def build(args):
    return DETR(args.num_queries, aux_loss=args.aux_loss)
