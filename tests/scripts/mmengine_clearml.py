"""An mmengine Runner that reports to ClearML itself through mmengine's ClearMLVisBackend (which calls Task.init
with its own project and name), and prints its log lines as mmengine does."""
import argparse

import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader, TensorDataset


class Model(BaseModel):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def forward(self, x, y, mode="tensor"):
        out = self.layer(x)
        if mode == "loss":
            return {"loss": torch.nn.functional.cross_entropy(out, y)}
        return out, y


class Accuracy(BaseMetric):
    def process(self, batch, outputs):
        out, y = outputs
        self.results.append(((out.argmax(1) == y).sum().item(), len(y)))

    def compute_metrics(self, results):
        return {"accuracy": 100 * sum(r[0] for r in results) / sum(r[1] for r in results)}


def collate(batch):
    return {"x": torch.stack([item[0] for item in batch]), "y": torch.stack([item[1] for item in batch])}


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--work_dir", required=True)
    opt = parser.parse_args(args)
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    data = TensorDataset(x, (x[:, 0] > 0).long())
    backend = dict(type="ClearMLVisBackend", init_kwargs=dict(project_name="mmengine", task_name="runner"))
    runner = Runner(
        model=Model(), work_dir=opt.work_dir,
        train_dataloader=DataLoader(data, batch_size=4, collate_fn=collate),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_dataloader=DataLoader(data, batch_size=16, collate_fn=collate), val_cfg=dict(),
        val_evaluator=dict(type=Accuracy),
        default_hooks=dict(logger=dict(type="LoggerHook", interval=5), checkpoint=dict(type="CheckpointHook",
                                                                                        interval=100)),
        visualizer=dict(type="Visualizer", vis_backends=[backend]),
        env_cfg=dict(dist_cfg=dict(backend="gloo")))
    runner.train()


if __name__ == "__main__":
    main()
