"""A training that reports to ClearML itself, in the shape of ultralytics' ClearML callback
(ultralytics/utils/callbacks/clearml.py): at the start it takes `Task.current_task()` (turning off ClearML's
PyTorch and Matplotlib bindings for it), else calls its own Task.init; it connects the trainer's args as `General`,
reports losses, learning rates and validation metrics per epoch, the first epoch's batch images, single values, and
the best checkpoint as the output model at the end. The trainer prints its epoch table and progress bars as
ultralytics does, and the script prints a validation loss before and after the training.

    python tests/scripts/ultralytics_clearml.py --epochs 2 --save_dir runs/train
"""
import argparse
import time
from pathlib import Path

from clearml import Task
from clearml.binding.frameworks.pytorch_bind import PatchPyTorchModelIO
from clearml.binding.matplotlib_bind import PatchedMatplotlib


def on_pretrain_routine_start(trainer):
    task = Task.current_task()
    if task:
        # The callback reports models and plots itself: ClearML's own bindings would report them twice.
        PatchPyTorchModelIO.update_current_task(None)
        PatchedMatplotlib.update_current_task(None)
    else:
        task = Task.init(project_name=trainer.args.project or "YOLOv8", task_name=trainer.args.name, tags=["YOLOv8"],
                         output_uri=True, reuse_last_task_id=False,
                         auto_connect_frameworks={"pytorch": False, "matplotlib": False})
    task.connect(vars(trainer.args), name="General")


def on_train_epoch_end(trainer):
    task = Task.current_task()
    if trainer.epoch == 1:
        for image in sorted(trainer.save_dir.glob("train_batch*.jpg")):
            task.get_logger().report_image(title="Mosaic", series=image.name, local_path=str(image), iteration=1)
    for name, value in trainer.losses("train").items():
        task.get_logger().report_scalar("train", name, value, iteration=trainer.epoch)
    for name, value in trainer.lr.items():
        task.get_logger().report_scalar("lr", name, value, iteration=trainer.epoch)


def on_fit_epoch_end(trainer):
    task = Task.current_task()
    task.get_logger().report_scalar(title="Epoch Time", series="Epoch Time", value=trainer.epoch_time,
                                    iteration=trainer.epoch)
    for name, value in trainer.metrics.items():
        task.get_logger().report_scalar(name.split("/")[0], name, value, iteration=trainer.epoch)
    if trainer.epoch == 0:
        task.get_logger().report_single_value("model/parameters", 3011043)


def on_train_end(trainer):
    task = Task.current_task()
    task.get_logger().report_single_value("metrics/mAP50-95(B)", trainer.metrics["metrics/mAP50-95(B)"])
    task.update_output_model(model_path=str(trainer.best), model_name=trainer.args.name, auto_delete_file=False)


CALLBACKS = {"on_pretrain_routine_start": on_pretrain_routine_start, "on_train_epoch_end": on_train_epoch_end,
             "on_fit_epoch_end": on_fit_epoch_end, "on_train_end": on_train_end}


class Trainer:
    """The parts of ultralytics' BaseTrainer the callback reads: args, epoch, losses, lr, metrics, save_dir, best."""

    def __init__(self, args):
        self.args = args
        self.save_dir = Path(args.save_dir)
        self.best = self.save_dir / "weights" / "best.pt"
        self.epoch = 0
        self.tloss = (0.0, 0.0)
        self.lr = {}
        self.metrics = {}
        self.epoch_time = 0.0

    def losses(self, prefix):
        return {f"{prefix}/{name}": value for name, value in zip(("box_loss", "cls_loss"), self.tloss)}

    def train(self):
        CALLBACKS["on_pretrain_routine_start"](self)
        self.best.parent.mkdir(parents=True, exist_ok=True)
        write_batch_image(self.save_dir / "train_batch0.jpg")
        print(f"\n{'Epoch':>11}{'GPU_mem':>11}{'box_loss':>11}{'cls_loss':>11}{'Instances':>11}{'Size':>11}")
        for self.epoch in range(self.args.epochs):
            start = time.perf_counter()
            self.tloss = (1.5 - 0.25 * self.epoch, 2.5 - 0.5 * self.epoch)
            self.lr = {"lr/pg0": 0.01 / (self.epoch + 1)}
            for batch in range(1, 5):  # the progress bar, redrawn
                print(f"\r{self.epoch + 1:>11}/{self.args.epochs}{'0G':>11}{self.tloss[0]:>11.4g}"
                      f"{self.tloss[1]:>11.4g}{16:>11}{640:>11}: {batch * 25:>3}%|{'#' * batch * 2:<8}| {batch}/4 "
                      "[00:01<00:00,  3.21it/s]", end="")
            print()
            CALLBACKS["on_train_epoch_end"](self)
            self.metrics = {"metrics/precision(B)": 0.5 + 0.1 * self.epoch, "metrics/mAP50-95(B)": 0.3 + 0.1 * self.epoch,
                            "val/box_loss": 1.4 - 0.2 * self.epoch}
            print(f"{'all':>22}{4:>11}{17:>11}{self.metrics['metrics/precision(B)']:>11.3g}"
                  f"{self.metrics['metrics/mAP50-95(B)']:>11.3g}")
            self.best.write_bytes(b"weights of epoch %d" % self.epoch)
            self.epoch_time = time.perf_counter() - start
            CALLBACKS["on_fit_epoch_end"](self)
        CALLBACKS["on_train_end"](self)
        print(f"Results saved to {self.save_dir}")


def write_batch_image(path):
    """ultralytics plots each training batch; a plain 8x8 image stands in for the mosaic."""
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 80, 40)).save(path)


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--project", default="")
    parser.add_argument("--name", default="train")
    parser.add_argument("--save_dir", default="runs/train")
    opt = parser.parse_args(args)
    print("pretrained val loss 0.9000")  # printed before the callback reports anything: drawn
    trainer = Trainer(opt)
    trainer.train()
    print(f"final val loss {trainer.metrics['val/box_loss']:.4f}")  # the callback reports now: not drawn


if __name__ == "__main__":
    main()
