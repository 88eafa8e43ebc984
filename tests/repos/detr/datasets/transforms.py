"""Transforms (in the shape of DETR's datasets/transforms.py): annotations evaluated at import time."""
import random

import PIL
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F


def crop(image: PIL.Image.Image, target: dict, region: tuple):
    return F.crop(image, *region), target


def hflip(image: PIL.Image.Image, target: dict):
    return F.hflip(image), target


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms


class RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img: PIL.Image.Image, target):
        return hflip(img, target) if random.random() < self.p else (img, target)
