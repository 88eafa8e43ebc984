from functools import partial

import torch
import torch.nn as nn
from timm.models.vision_transformer import Block, PatchEmbed


class MaskedAutoencoderViT(nn.Module):
    def __init__(self, img_size=224, patch_size=16, norm_layer=nn.LayerNorm):
        super().__init__()


def mae_vit_base_patch16_dec512d8b(**kwargs):
    return MaskedAutoencoderViT(patch_size=16, norm_layer=partial(nn.LayerNorm, eps=1e-6), **kwargs)


mae_vit_base_patch16 = mae_vit_base_patch16_dec512d8b
