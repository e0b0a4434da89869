r"""Batch-level losses and training on several processes (``torch.distributed``).

Every deep loss of the book is a function of the whole batch: NT-Xent / GMC, NCE and MIL-NCE use
the other samples of the batch as negatives, and the Deep CCA and Deep GCCA losses use its
covariances. Under data parallelism each process holds ``b`` rows of a global batch of
``B = W b`` rows (``W`` processes), and a loss computed on the local rows alone is a different
loss (fewer negatives, a noisier covariance), silently. Here the losses of :mod:`mmlib.losses`
run on the global batch instead.

**Automatic, with an explicit opt-out.** When a process group is initialised
(``torch.distributed.is_initialized()``, as under ``torchrun``) with more than one process, every
batch-level loss of :mod:`mmlib.losses` all-gathers its inputs (:func:`gather_for_loss`) and
returns the loss of the global batch, on every process. It is automatic because the opposite
default is the known trap: a loss that quietly uses local negatives under DDP. ``gather=False``
(or the :func:`local_losses` context) computes a loss on this process's rows only, on purpose
(for example to evaluate on one rank); ``gather=True`` demands a process group and raises when
there is none.

**Exact gradients under DDP's averaging.** The gather is
:func:`torch.distributed.nn.functional.all_gather`, whose backward pass *sums* the gradients that
the ``W`` processes send to each slice. Every process computes the same global loss
:math:`\mathcal L`, so process :math:`r` receives :math:`W\,\partial\mathcal L/\partial z_r` for
its codes :math:`z_r`; DDP's gradient averaging (or :func:`average_gradients`) then gives

.. math::

    \frac{1}{W} \sum_{r=1}^{W} W \frac{\partial \mathcal L}{\partial z_r}
    \frac{\partial z_r}{\partial \theta} = \frac{\partial \mathcal L}{\partial \theta},

the single-process gradient of the global batch, with no factor to fix by hand
(``tests/test_distributed.py`` checks value and gradients to 1e-12 in float64).

**Bad input.** Before gathering, the processes exchange the shapes of their inputs: different
batch sizes, widths or dtypes across processes are a ``ValueError`` naming each process's shape
(never a hang). A mini-batch whose size the number of processes does not divide is refused by
:func:`mmlib.training.train` before training starts. Collectives wait at most the ``timeout``
given to ``torch.distributed.init_process_group`` (:func:`run_local` sets one).

``import mmlib`` does not import this module; it imports ``torch.distributed`` only when a
function here is called.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta

import torch

__all__ = [
    "average_gradients",
    "gather_for_loss",
    "is_distributed",
    "local_losses",
    "run_local",
    "shard",
]

_LOCAL = contextvars.ContextVar("mmlib_local_losses", default=False)
_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def is_distributed() -> bool:
    """Whether an initialised process group of more than one process is there."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@contextlib.contextmanager
def local_losses():
    """Inside this context the losses use this process's rows only (no gather), on purpose.

    :func:`mmlib.training.train` evaluates its validation loss this way: every process holds the
    whole validation set, so each computes the same full-batch loss without communicating.
    """
    token = _LOCAL.set(True)
    try:
        yield
    finally:
        _LOCAL.reset(token)


def _wanted(gather) -> bool:
    """Whether to gather: ``gather`` if it is a bool, else whether a process group is there."""
    if gather is not None and not isinstance(gather, bool):
        raise TypeError(f"gather must be None, True or False, got {gather!r}")
    if gather is False or (gather is None and _LOCAL.get()):
        return False
    import torch.distributed as dist

    ready = dist.is_available() and dist.is_initialized()
    if gather and not ready:
        raise ValueError(
            "gather=True, but torch.distributed has no initialised process group: start the "
            "processes with torchrun (or call torch.distributed.init_process_group) first, or "
            "pass gather=False for a loss on this process's rows only"
        )
    return ready and dist.get_world_size() > 1


def _meta(x, device) -> torch.Tensor:
    """``[is a tensor, ndim, shape (3 entries, -1 padded), dtype code]`` of one input."""
    if not isinstance(x, torch.Tensor) or x.ndim > 3:
        return torch.tensor([0, -1, -1, -1, -1, -1], device=device)
    if x.device.type == "meta":
        return torch.tensor([2, -1, -1, -1, -1, -1], device=device)
    shape = list(x.shape) + [-1] * (3 - x.ndim)
    code = _DTYPES.index(x.dtype) if x.dtype in _DTYPES else len(_DTYPES)
    return torch.tensor([1, x.ndim, *shape, code], device=device)


def _describe(row: list[int]) -> str:
    if row[0] == 0:
        return "not a tensor of at most 3 dimensions"
    if row[0] == 2:
        return "a tensor on the 'meta' device (no values)"
    dtype = _DTYPES[row[5]] if row[5] < len(_DTYPES) else "another dtype"
    return f"shape {tuple(row[2 : 2 + row[1]])}, {dtype}"


def gather_for_loss(
    tensors: Sequence[torch.Tensor],
    gather: bool | None = None,
    names: str | Sequence[str] = "inputs",
) -> Sequence[torch.Tensor]:
    """The global batch of each tensor: the rows of every process, in rank order, with gradients.

    Parameters
    ----------
    tensors : sequence of torch.Tensor of shape (b, ...)
        This process's rows of each input of a loss (the same ``b`` on every process).
    gather : bool or None, default None
        ``None``: gather when a process group of more than one process is initialised (and not
        inside :func:`local_losses`); ``True``: gather, and raise ``ValueError`` when no process
        group is initialised; ``False``: return ``tensors`` unchanged.
    names : str or sequence of str, default "inputs"
        The inputs' names for error messages (a string ``s`` names them ``s[0]``, ``s[1]``, ...).

    Returns
    -------
    list of torch.Tensor of shape (W b, ...)
        ``torch.cat`` of the ``W`` processes' tensors (this process's rows are rows
        ``r b`` to ``(r + 1) b - 1``), differentiable: the backward pass sends each process the sum
        of the gradients all processes computed for its rows. Without gathering: ``tensors``
        unchanged.

    Raises
    ------
    ValueError
        ``gather=True`` without a process group, or inputs whose shapes or dtypes differ across
        processes (the message lists each process's shape). Every process raises the same error.
    """
    if not _wanted(gather) or not isinstance(tensors, (list, tuple)) or not tensors:
        return tensors  # not a list: the loss's own checks say what is wrong, on every process
    import torch.distributed as dist
    import torch.distributed.nn.functional as dist_fn

    if isinstance(names, str):
        names = [f"{names}[{i}]" for i in range(len(tensors))]
    devices = [x.device for x in tensors if isinstance(x, torch.Tensor) and x.device.type != "meta"]
    device = devices[0] if devices else torch.device("cpu")
    world = dist.get_world_size()
    local = torch.stack([_meta(x, device) for x in tensors])
    metas = [torch.empty_like(local) for _ in range(world)]
    dist.all_gather(metas, local)  # shapes first: a mismatch is an error, never a hang
    for i, name in enumerate(names):
        rows = [m[i].tolist() for m in metas]
        if any(r != rows[0] for r in rows) or rows[0][0] != 1:
            found = "; ".join(f"process {p}: {_describe(r)}" for p, r in enumerate(rows))
            raise ValueError(
                f"{name} must be a tensor of the same shape and dtype on every process to form "
                f"the global batch (each process contributes the same number of rows; split each "
                f"mini-batch equally among the {world} processes), got {found}"
            )
    with warnings.catch_warnings():  # deprecated in torch 2.13 for a private replacement
        warnings.simplefilter("ignore", FutureWarning)
        return [torch.cat(dist_fn.all_gather(x.contiguous()), dim=0) for x in tensors]


def shard(index: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Process ``rank``'s share of a mini-batch: its ``len(index) / world_size`` consecutive rows.

    The same rows are taken from every view, so samples stay paired across modalities, and the
    shares of ranks ``0, 1, ...`` concatenated give ``index`` back (the order of the global batch
    that :func:`gather_for_loss` rebuilds). ``ValueError`` when ``world_size`` does not divide
    ``len(index)``: unequal shares could not be gathered into the same global batch.
    """
    from mmlib._checks import check_positive_int

    if not isinstance(index, torch.Tensor) or index.ndim != 1:
        raise TypeError(f"index must be a 1-D torch.Tensor of row indices, got {index!r}")
    world_size = check_positive_int(world_size, "world_size")
    rank = check_positive_int(rank, "rank", minimum=0)
    if rank >= world_size:
        raise ValueError(f"rank must be in [0, world_size - 1] = [0, {world_size - 1}], got {rank}")
    m = len(index)
    if m % world_size != 0:
        raise ValueError(
            f"a mini-batch of {m} rows cannot be split equally among {world_size} processes: "
            f"choose n and batch_size so that every mini-batch size is a multiple of {world_size}"
        )
    return index.tensor_split(world_size)[rank]


def average_gradients(params: Sequence[torch.Tensor]) -> None:
    """Replace each gradient by its mean over the processes (one all-reduce), as DDP does.

    Parameters without a gradient are left alone (the processes run the same graph, so they are
    the same parameters everywhere).
    """
    import torch.distributed as dist

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


class _Trainer:
    """What :func:`mmlib.training.train` does differently under a process group."""

    def __init__(
        self, model: torch.nn.Module, n: int, n_batches: int, generator: torch.Generator
    ) -> None:
        import torch.distributed as dist

        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.params = [p for p in model.parameters() if p.requires_grad]
        sizes = torch.tensor_split(torch.arange(n), n_batches)
        mine = torch.tensor([n, n_batches, sum(p.numel() for p in self.params)])
        every = [torch.empty_like(mine) for _ in range(self.world)]
        dist.all_gather(every, mine)
        if any(not torch.equal(e, mine) for e in every):
            found = ", ".join(str(tuple(e.tolist())) for e in every)
            raise ValueError(
                "every process must train the same model on the same number of rows and "
                f"mini-batches; got (rows, mini-batches, parameters) = {found}"
            )
        bad = sorted({len(s) for s in sizes if len(s) % self.world})
        if bad:
            raise ValueError(
                f"the world size {self.world} does not divide the mini-batch sizes {bad} (n={n} "
                f"rows in {n_batches} mini-batches): every process must get the same number of "
                f"rows of each mini-batch; choose n and batch_size so that every mini-batch size "
                f"is a multiple of {self.world}"
            )
        for t in model.state_dict().values():  # rank 0's initial weights everywhere
            dist.broadcast(t, src=0)
        state = generator.get_state()  # rank 0's mini-batches everywhere (even unseeded)
        dist.broadcast(state, src=0)
        generator.set_state(state)

    def batch(self, data, idx, n):
        idx = torch.arange(n) if idx is None else idx
        mine = shard(idx, self.rank, self.world).to(data[0].device)
        return [v[mine] for v in data]

    def finish(self, model: torch.nn.Module) -> None:
        """Check that the weights are the same on every process; share rank 0's buffers."""
        import torch.distributed as dist

        flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        low, high = flat.clone(), flat.clone()
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        if not torch.equal(low, high):
            raise RuntimeError(
                "the processes ended with different weights (largest difference "
                f"{float((high - low).max()):.3g}): a loss_fn that does not use mmlib's losses "
                "must gather its batch itself"
            )
        for t in model.buffers():  # e.g. batch-norm statistics of local rows
            dist.broadcast(t, src=0)


def _trainer(model, n: int, n_batches: int, generator: torch.Generator) -> _Trainer | None:
    """A :class:`_Trainer` when training runs under a process group, else None."""
    if _LOCAL.get() or not is_distributed():
        return None
    return _Trainer(model, n, n_batches, generator)


def _local_if(trainer):
    return local_losses() if trainer is not None else contextlib.nullcontext()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child(rank, fn, world_size, port, timeout, folder, args):
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group(
        "gloo", rank=rank, world_size=world_size, timeout=timedelta(seconds=timeout)
    )
    try:
        result = fn(rank, world_size, *args)
        torch.save(result, os.path.join(folder, f"{rank}.pt"))
    finally:
        dist.destroy_process_group()


def run_local(
    fn: Callable,
    world_size: int = 2,
    args: tuple = (),
    timeout: float = 60.0,
    start_method: str = "fork",
) -> list:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` gloo processes on this machine.

    Each process uses one CPU thread, joins a process group on the loopback interface (a free
    port of 127.0.0.1) whose collectives wait at most ``timeout`` seconds, and returns a value
    that :func:`torch.save` can store. Meant for tests and demonstrations on one machine; a real
    job is launched with ``torchrun``.

    Parameters
    ----------
    fn : callable
        ``fn(rank, world_size, *args)``; with ``start_method="spawn"`` it must be importable
        (defined at the top level of a module).
    world_size : int >= 1
    args : tuple
        Extra arguments (picklable with ``"spawn"``).
    timeout : float > 0
        Seconds a collective may wait, and the whole run at most ``timeout + 60`` (start-up
        included): past that the processes are killed and ``TimeoutError`` is raised.
    start_method : {"fork", "spawn"}
        ``"fork"`` starts faster and accepts functions defined in a notebook (Linux, macOS).

    Returns
    -------
    list
        ``fn``'s return value on each rank, in rank order.
    """
    import torch.multiprocessing as mp

    from mmlib._checks import check_positive_float, check_positive_int

    if not callable(fn):
        raise TypeError(f"fn must be callable as fn(rank, world_size, *args), got {fn!r}")
    world_size = check_positive_int(world_size, "world_size")
    timeout = check_positive_float(timeout, "timeout")
    if start_method not in ("fork", "spawn"):
        raise ValueError(f"start_method must be 'fork' or 'spawn', got {start_method!r}")
    with tempfile.TemporaryDirectory() as folder:
        context = mp.start_processes(
            _child,
            args=(fn, world_size, _free_port(), timeout, folder, tuple(args)),
            nprocs=world_size,
            join=False,
            start_method=start_method,
        )
        deadline = time.monotonic() + timeout + 60.0
        while not context.join(timeout=0.1):
            if time.monotonic() > deadline:
                for p in context.processes:
                    if p.is_alive():
                        p.kill()
                raise TimeoutError(f"the {world_size} processes did not finish in {timeout + 60} s")
        return [
            torch.load(os.path.join(folder, f"{r}.pt"), weights_only=False)
            for r in range(world_size)
        ]
