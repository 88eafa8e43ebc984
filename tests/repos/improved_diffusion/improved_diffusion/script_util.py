"""Script helpers (in the shape of improved_diffusion/script_util.py): the parser is filled from dicts."""
import argparse

import torch as th


def model_and_diffusion_defaults():
    return dict(
        image_size=64,
        num_channels=128,
        num_res_blocks=2,
        num_heads=4,
        attention_resolutions="16,8",
        dropout=0.0,
        learn_sigma=False,
        diffusion_steps=1000,
        noise_schedule="linear",
        use_checkpoint=False,
        use_scale_shift_norm=True,
    )


def add_dict_to_argparser(parser, default_dict):
    for k, v in default_dict.items():
        v_type = type(v)
        if v is None:
            v_type = str
        elif isinstance(v, bool):
            v_type = str2bool
        parser.add_argument(f"--{k}", default=v, type=v_type)


def args_to_dict(args, keys):
    return {k: getattr(args, k) for k in keys}


def str2bool(v):
    """https://stackoverflow.com/questions/15008758/parsing-boolean-values-with-argparse"""
    if isinstance(v, bool):
        return v
    if v.lower() in ("yes", "true", "t", "y", "1"):
        return True
    elif v.lower() in ("no", "false", "f", "n", "0"):
        return False
    else:
        raise argparse.ArgumentTypeError("boolean value expected")
