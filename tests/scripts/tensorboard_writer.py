"""A training that logs to TensorBoard (torch's SummaryWriter), which ClearML's binding turns into the task's
scalars, and prints its epochs as well."""
import argparse

from torch.utils.tensorboard import SummaryWriter


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--log_dir", required=True)
    opt = parser.parse_args(args)
    print("epoch 0/3 loss 0.9000")  # before TensorBoard gets anything
    writer = SummaryWriter(opt.log_dir)
    for epoch in range(1, 4):
        loss = 0.9 - 0.2 * epoch
        writer.add_scalar("train/loss", loss, epoch)
        print(f"epoch {epoch}/3 loss {loss:.4f}")
    writer.close()


if __name__ == "__main__":
    main()
