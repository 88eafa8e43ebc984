"""A training script in the shapes whose defaults a hat must not force (written for this project): a type=float
option with an int default used in range() (DeiT's warmup), Path defaults below the script's folder (yolov5's
`ROOT / "data"`), a device, a worker count computed from the machine, and DINO's tuple default of a nargs='+'
option. It records the namespace it resolved (see record.py)."""
import argparse
import os
from pathlib import Path

from record import record

ROOT = Path(__file__).resolve().parent


def gpu_available() -> bool:
    """Stands for torch.cuda.is_available(): the tests set FAKE_GPU=1 for a machine with a GPU."""
    return os.environ.get("FAKE_GPU") == "1"


def main() -> None:
    parser = argparse.ArgumentParser(description="exact defaults")
    parser.add_argument("--epochs", type=float, default=20)
    parser.add_argument("--warmup_epochs", type=float, default=5, help="epochs of linear warmup")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--project", default=ROOT / "runs")
    parser.add_argument("--device", default="cuda" if gpu_available() else "cpu")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FAKE_CPUS", os.cpu_count() or 1)))
    parser.add_argument("--global_crops_scale", type=float, nargs="+", default=(0.4, 1.))
    args = parser.parse_args()
    warmup = list(range(args.warmup_epochs))  # a float here raises TypeError, as in the real script
    print(f"training on {args.device} with {args.workers} workers, data {args.data.name}, {len(warmup)} warmup")
    record(vars(args))


if __name__ == "__main__":
    main()
