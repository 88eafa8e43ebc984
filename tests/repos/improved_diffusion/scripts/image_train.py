"""Train a diffusion model on images (in the shape of improved-diffusion's scripts/image_train.py).

    python scripts/image_train.py --data_dir path/to/images --image_size 64 --num_channels 128
"""
import argparse

from improved_diffusion import dist_util, logger
from improved_diffusion.script_util import (
    add_dict_to_argparser,
    args_to_dict,
    model_and_diffusion_defaults,
)


def main():
    args = create_argparser().parse_args()
    dist_util.setup_dist()
    logger.configure()
    logger.log("creating model and diffusion...", args_to_dict(args, model_and_diffusion_defaults().keys()))


def create_argparser():
    defaults = dict(
        data_dir="",
        schedule_sampler="uniform",
        lr=1e-4,
        weight_decay=0.0,
        lr_anneal_steps=0,
        batch_size=1,
        microbatch=-1,  # -1 disables microbatches
        ema_rate="0.9999",  # comma-separated list of EMA values
        log_interval=10,
        save_interval=10000,
        resume_checkpoint="",
        use_fp16=False,
        fp16_scale_growth=1e-3,
    )
    defaults.update(model_and_diffusion_defaults())
    parser = argparse.ArgumentParser()
    add_dict_to_argparser(parser, defaults)
    return parser


if __name__ == "__main__":
    main()
