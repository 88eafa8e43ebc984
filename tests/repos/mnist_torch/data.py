"""A small synthetic digits set, so the example trains without downloading MNIST."""
import torch


def synthetic_digits(n, seed):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 8, 8, generator=generator)
    labels = (images.mean(dim=(1, 2, 3)) > 0.5).long()
    return torch.utils.data.TensorDataset(images, labels)
