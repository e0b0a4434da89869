"""Does the Deep CCA loss need to run on one thread? A dedicated timing.

``mmlib.losses`` runs the loss's small float64 linear algebra on one CPU thread. It used to do so
with an ``autograd.Function`` that *recomputed* the forward pass in the backward pass; it now
keeps the inner autograd graph instead (``mmlib.losses._OnOneThread``). This script times one
training step's loss (forward + backward of ``cca_loss`` on a ``b x o`` batch, as in the DCCA
benchmark) three ways, interleaved in one process so that a busy machine slows them alike:

- ``mmlib``: ``cca_loss`` as it is now (one thread, no recomputation);
- ``recomputing wrapper``: the previous wrapper, reproduced here;
- ``no thread switch``: the same math with autograd straight through, on torch's threads.

Run: ``python benchmarks/dcca_threads.py [--threads N] [--repeats R]``; prints median
microseconds per step and the ratios to ``mmlib``. Measured on the 2-core development machine
(shared, so absolute times are inflated): with 2 threads, ``no thread switch`` was about 10x
slower than ``mmlib``; with 1 thread the recomputing wrapper cost about 1.2x.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager
from functools import partial

import torch

from mmlib import losses


@contextmanager
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class _OnOneThread(torch.autograd.Function):
    """The removed wrapper: forward and a recomputing backward on one thread."""

    @staticmethod
    def forward(ctx, fn, *inputs):
        ctx.fn = fn
        ctx.save_for_backward(*inputs)
        with _one_thread():
            return fn(*inputs)

    @staticmethod
    def backward(ctx, grad):
        inputs = [x.detach().requires_grad_(True) for x in ctx.saved_tensors]
        with torch.enable_grad(), _one_thread():
            grads = torch.autograd.grad(ctx.fn(*inputs), inputs, grad)
        return (None, *grads)


def _plain(h1, h2, k):
    return losses.cca_loss(h1, h2, n_components=k)


def _wrapped(h1, h2, k):
    fn = partial(losses._correlations, r1=1e-3, r2=1e-3, eps=1e-9)
    corr = _OnOneThread.apply(fn, h1.double(), h2.double())
    return -corr[:k].sum().to(h1.dtype)


def _no_switch(h1, h2, k):
    corr = losses._correlations(h1.double(), h2.double(), 1e-3, 1e-3, 1e-9)
    return -corr[:k].sum().to(h1.dtype)


def _step(fn, h1, h2, k):
    a = h1.detach().clone().requires_grad_()
    b = h2.detach().clone().requires_grad_()
    start = time.perf_counter()
    loss = fn(a, b, k)
    loss.backward()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--out-dim", type=int, default=10)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    h1 = torch.randn(args.batch, args.out_dim, generator=gen)
    h2 = h1 + torch.randn(args.batch, args.out_dim, generator=gen)
    ways = {"mmlib": _plain, "recomputing wrapper": _wrapped, "no thread switch": _no_switch}
    times = {name: [] for name in ways}
    for _ in range(10):  # warm-up
        for fn in ways.values():
            _step(fn, h1, h2, args.out_dim)
    for _ in range(args.repeats):
        for name, fn in ways.items():  # interleaved: contention hits all three alike
            times[name].append(_step(fn, h1, h2, args.out_dim))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"torch threads: {torch.get_num_threads()}; batch {args.batch} x {args.out_dim}")
    for name, t in med.items():
        print(f"{name:<20} {1e6 * t:8.1f} us/step   x{t / med['mmlib']:.2f} of mmlib")
    return med


if __name__ == "__main__":
    main()
