"""A tiny DDP training for the distributed tests and the benchmark: gloo on the CPU, no GPU needed.

    torchrun --nproc_per_node 2 tests/ddp_allreduce.py --value 2.5 --out /tmp/ranks

Each rank all-reduces (sums) `value * (rank + 1)`, takes one DistributedDataParallel step of a linear model (DDP
all-reduces its gradients), prints what it got and writes ranks/rank<N>.json: its rank, local rank, node rank,
world size, the value it started with and what it received. Rank 0's main returns a dict of numbers.
"""
import argparse
import gc
import json
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def main(args=None):
    parser = argparse.ArgumentParser(description="All-reduce a tensor across the ranks and record what came back.")
    parser.add_argument("--value", type=float, default=1.0, help="each rank sends value * (rank + 1)")
    parser.add_argument("--out", default="ranks", help="folder for the rank<N>.json records")
    parser.add_argument("--crash_rank", type=int, default=-1, help="this rank raises before the all-reduce")
    opts = parser.parse_args(args)

    dist.init_process_group("gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    print(f"rank {rank} of {world_size} starts with value {opts.value}")
    if rank == opts.crash_rank:
        raise RuntimeError(f"boom on rank {rank}")
    tensor = torch.tensor([opts.value * (rank + 1)])
    dist.all_reduce(tensor)

    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Linear(2, 1))
    loss = model(torch.full((4, 2), float(rank + 1))).sum()
    loss.backward()  # DDP averages the gradient over the ranks
    grad = model.module.weight.grad[0, 0].item()
    del model, loss  # DDP's reducer goes while its process group is still up
    gc.collect()

    record = {
        "rank": rank, "local_rank": int(os.environ["LOCAL_RANK"]), "node_rank": int(os.environ["GROUP_RANK"]),
        "world_size": world_size, "value": opts.value, "all_reduced": tensor.item(), "grad": grad,
    }
    os.makedirs(opts.out, exist_ok=True)
    with open(os.path.join(opts.out, f"rank{rank}.json"), "w") as f:
        json.dump(record, f)
    print(f"rank {rank} all-reduced {tensor.item()}")
    dist.barrier()  # no rank tears its connections down while another still uses them
    dist.destroy_process_group()
    return {"all_reduced": tensor.item(), "world_size": world_size} if rank == 0 else None


if __name__ == "__main__":
    main()
