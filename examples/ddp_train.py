"""Train DCCA, DGCCA, GMC and MMV on several processes, and check them against one process.

Launch (CPU, gloo, 2 processes):

    torchrun --nproc_per_node 2 examples/ddp_train.py

Every process builds the same data (seeded) and calls the estimators' ordinary ``fit``. Because a
process group is initialised, :func:`mmlib.training.train` gives each process its share of every
mini-batch (the same rows of every view), the losses run on the global batch
(:mod:`mmlib.distributed`), the gradients are averaged over the processes as DDP does, and the
weights start from rank 0's and end the same on every rank. Rank 0 then refits each model alone
(``mmlib.distributed.local_losses()``: no process group used) and prints, for each model, whether
the ranks hold identical weights and the largest difference from the single-process fit.

The run is in float64 so that the comparison is exact up to rounding. The CCA losses ignore
the last layer's bias, whose gradient is then rounding noise, and Adam divides it by its ``eps``
(1e-8): DCCA and DGCCA differ from one process by about 1e-10 there, GMC and MMV by about 1e-16
(with ``--float32`` the same effect reaches the size of the learning rate; with SGD it vanishes). On machines with GPUs, torchrun starts one
process per GPU and the NCCL backend is used (untested here: this example has only run on CPUs).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

from mmlib import DCCA, DGCCA, GMC, MMV
from mmlib.distributed import local_losses


def make_views(n: int, seed: int = 0) -> list[np.ndarray]:
    """Three noisy nonlinear views of a 2-D latent variable (rows paired)."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 2))
    return [
        np.tanh(latent @ rng.standard_normal((2, d))) + 0.3 * rng.standard_normal((n, d))
        for d in (12, 10, 8)
    ]


def make_models(epochs: int, device: str) -> dict:
    common = {"epochs": epochs, "random_state": 0, "progress": False, "device": device}
    return {
        "DCCA": DCCA(n_components=2, hidden=(32,), batch_size=64, **common),
        "DGCCA": DGCCA(n_components=2, hidden=(32,), batch_size=64, **common),
        "GMC": GMC(code_dim=8, hidden=(32,), batch_size=64, **common),
        "MMV": MMV(embed_dim=8, backbone_dim=16, hidden=(32,), batch_size=64, **common),
    }


def model_views(name: str, views: list[np.ndarray]) -> list[np.ndarray]:
    if name == "DCCA":
        return views[:2]
    if name == "MMV":  # text as a bag of 2 candidate captions per sample
        return [views[0], views[1], np.stack([views[2], views[2][::-1]], axis=1)]
    return views


def weights(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).cpu() for p in model.module_.parameters()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="training rows")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--float32", action="store_true", help="train in float32")
    args = parser.parse_args()
    if not args.float32:
        torch.set_default_dtype(torch.float64)

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(seconds=120))
    rank, world = dist.get_rank(), dist.get_world_size()
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu"
    if not cuda:
        torch.set_num_threads(1)
    views = make_views(args.n)
    rows = []
    for name, model in make_models(args.epochs, device).items():
        start = time.perf_counter()
        model.fit(model_views(name, views))
        seconds = time.perf_counter() - start
        mine = weights(model)
        every = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather_object(every, mine)
        if rank == 0:
            with local_losses():  # one process, the whole batch
                alone = make_models(args.epochs, device)[name].fit(model_views(name, views))
            same = all(torch.equal(w, mine) for w in every)
            diff = float((weights(alone) - mine).abs().max())
            rows.append((name, seconds, same, diff, model.history_.train_loss[-1]))
    if rank == 0:
        print(
            f"{world} processes, {args.n} rows, {args.epochs} epochs, {torch.get_default_dtype()}"
        )
        print(
            f"{'model':<6} {'fit (s)':>8} {'ranks equal':>12} {'max |w - w_1proc|':>18} {'loss':>9}"
        )
        for name, seconds, same, diff, loss in rows:
            print(f"{name:<6} {seconds:8.2f} {same!s:>12} {diff:18.2e} {loss:9.4f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
