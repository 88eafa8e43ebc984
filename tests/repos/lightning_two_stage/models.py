"""Models that add their own options (in the shape of Lightning's add_model_specific_args)."""
import torch
from torch import nn


class LitMNIST(nn.Module):
    @staticmethod
    def add_model_specific_args(parent_parser):
        parser = parent_parser.add_argument_group("LitMNIST")
        parser.add_argument("--hidden_dim", type=int, default=128)
        parser.add_argument("--learning_rate", type=float, default=0.0002)
        return parent_parser


class LitGAN(nn.Module):
    @staticmethod
    def add_model_specific_args(parent_parser):
        parser = parent_parser.add_argument_group("LitGAN")
        parser.add_argument("--latent_dim", type=int, default=100)
        return parent_parser
