"""A training that keeps checkpoints the way timm's CheckpointSaver does: torch.save to `tmp.pth.tar`, renamed
`last.pth.tar`, hard-linked as `checkpoint-N.pth.tar`, and as `model_best.pth.tar` when the metric improved."""
import argparse
import os

import torch


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    opt = parser.parse_args(args)
    os.makedirs(opt.output, exist_ok=True)
    model = torch.nn.Linear(4, 2)
    best = None
    for epoch, metric in zip(range(opt.epochs), (40.0, 65.0, 50.0)):
        tmp, last = os.path.join(opt.output, "tmp.pth.tar"), os.path.join(opt.output, "last.pth.tar")
        torch.save({"epoch": epoch, "state_dict": model.state_dict(), "metric": metric}, tmp)
        os.replace(tmp, last)
        os.link(last, os.path.join(opt.output, f"checkpoint-{epoch}.pth.tar"))
        if best is None or metric > best:
            best = metric
            best_path = os.path.join(opt.output, "model_best.pth.tar")
            if os.path.exists(best_path):
                os.unlink(best_path)
            os.link(last, best_path)
        print(f"epoch {epoch} eval_top1 {metric}")


if __name__ == "__main__":
    main()
