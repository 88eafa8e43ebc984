"""COCO dataset (in the shape of DETR's datasets/coco.py)."""
from pathlib import Path

import torch
import torch.utils.data
import torchvision

import datasets.transforms as T


class CocoDetection(torchvision.datasets.CocoDetection):
    def __init__(self, img_folder, ann_file, transforms):
        super().__init__(img_folder, ann_file)
        self._transforms = transforms


def build(image_set, args):
    root = Path(args.coco_path)
    return CocoDetection(root / f"{image_set}2017", root / "annotations", transforms=T.Compose([]))
