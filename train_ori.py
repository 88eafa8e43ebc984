"""Train a tiny image classifier on a folder of images, one sub-folder per class.

This is the training script as a user has it before ClearML Hat: plain argparse, no ClearML.

    python train_ori.py --data_path data/images/ --epochs 20
    python train_ori.py --img_size 24 24 --optimizer momentum --augment
"""
import argparse
import json
import os

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def load_images(data_path, img_size):
    """Read every image under data_path/<class>/ as a flat grey vector in [0, 1]."""
    classes = sorted(d for d in os.listdir(data_path) if os.path.isdir(os.path.join(data_path, d)))
    features, labels = [], []
    for label, name in enumerate(classes):
        folder = os.path.join(data_path, name)
        for file_name in sorted(os.listdir(folder)):
            if file_name.lower().endswith(IMAGE_SUFFIXES):
                image = Image.open(os.path.join(folder, file_name)).convert("L").resize(tuple(img_size))
                features.append(np.asarray(image, dtype=np.float32).ravel() / 255.0)
                labels.append(label)
    if not features:
        raise SystemExit(f"no images found under {data_path} (expected {data_path}/<class>/<image>.png)")
    return np.stack(features), np.array(labels), classes


def softmax_loss(weights, features, labels):
    """Mean cross-entropy of a linear softmax model and its gradient."""
    logits = features @ weights
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(len(labels)), labels] + 1e-12).mean()
    probs[np.arange(len(labels)), labels] -= 1.0
    return loss, features.T @ probs / len(labels)


def train(args):
    rng = np.random.default_rng(args.seed)
    features, labels, classes = load_images(args.data_path, args.img_size)
    print(f"loaded {len(labels)} images of {len(classes)} classes from {args.data_path}")
    features = np.hstack([features, np.ones((len(labels), 1), dtype=np.float32)])  # bias column
    weights = np.zeros((features.shape[1], len(classes)), dtype=np.float32)
    velocity = np.zeros_like(weights)
    momentum = 0.9 if args.optimizer == "momentum" else 0.0
    loss = float("nan")
    for epoch in range(args.epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            batch_features = features[batch]
            if args.augment and rng.random() < 0.5:
                batch_features = augment_flip(batch_features, args.img_size)
            _, gradient = softmax_loss(weights, batch_features, labels[batch])
            velocity = momentum * velocity - args.lr * gradient
            weights += velocity
        loss, _ = softmax_loss(weights, features, labels)
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss:.4f}")
    accuracy = float(((features @ weights).argmax(axis=1) == labels).mean())
    print(f"train accuracy {accuracy:.3f}")

    os.makedirs(args.output_dir, exist_ok=True)
    np.save(os.path.join(args.output_dir, "weights.npy"), weights)
    with open(os.path.join(args.output_dir, "metrics.json"), "w") as f:
        json.dump({"loss": float(loss), "accuracy": accuracy, "classes": classes, "args": vars(args)}, f, indent=2)
    return args.output_dir


def augment_flip(batch_features, img_size):
    """Mirror the images left to right (the bias column stays last)."""
    width, height = img_size
    pixels = batch_features[:, :-1].reshape(-1, height, width)[:, :, ::-1]
    return np.hstack([pixels.reshape(len(batch_features), -1), batch_features[:, -1:]])


def main():
    parser = argparse.ArgumentParser(description="Train a tiny image classifier on a folder of images.")
    parser.add_argument("--data_path", type=str, default="data/images/", help="folder with one sub-folder per class")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training images")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--batch_size", type=int, default=8, help="images per gradient step")
    parser.add_argument("--img_size", type=int, nargs=2, default=[16, 16], help="width and height to resize to")
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "momentum"], help="update rule")
    parser.add_argument("--augment", action="store_true", help="randomly mirror images left to right")
    parser.add_argument("--output_dir", type=str, default="output", help="where the weights and metrics are written")
    parser.add_argument("--seed", type=int, default=0, help="random seed for shuffling and augmentation")
    args = parser.parse_args()
    return train(args)


if __name__ == "__main__":
    main()
