'''Train CIFAR10 with PyTorch (in the shape of kuangliu/pytorch-cifar main.py).'''
import argparse
import os

import torch
import torch.backends.cudnn as cudnn
import torch.nn as nn
import torch.optim as optim

from utils import progress_bar


def str2bool(text):
    return text.lower() in ('yes', 'true', 't', '1')


parser = argparse.ArgumentParser(description='PyTorch CIFAR10 Training')
parser.add_argument('--lr', default=0.1, type=float, help='learning rate')
parser.add_argument('--resume', '-r', action='store_true',
                    help='resume from checkpoint')
parser.add_argument('--batch-size', default=128, type=int, help='images per batch')
parser.add_argument('--optim', default='sgd', choices=['sgd', 'adam'])
parser.add_argument('--no-augment', dest='augment', action='store_false', help='no random crops and flips')
parser.add_argument('--workers', default=os.cpu_count(), type=int, help='data loader workers')
parser.add_argument('--amp', type=str2bool, default=False, help='mixed precision')
args = parser.parse_args()

device = 'cuda' if torch.cuda.is_available() else 'cpu'
best_acc = 0
progress_bar(0, 1, f"lr {args.lr} resume {args.resume} batch {args.batch_size}")
