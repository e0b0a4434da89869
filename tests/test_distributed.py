"""The losses and the training loop under torch.distributed: 2 gloo processes on the CPU.

Each test starts 2 processes on the loopback interface with :func:`mmlib.distributed.run_local`
(collectives time out after 60 s, the whole run after 120 s) and compares what they compute
with one process computing on the concatenated batch.
"""

import numpy as np
import pytest
import torch
from torch import nn

from mmlib import losses
from mmlib.distributed import gather_for_loss, local_losses, run_local, shard

GLOBAL, WIDTH, IN = 16, 5, 4  # global batch (8 rows per process), code width, input width
DTYPES = (torch.float64, torch.float32)
TOL = {torch.float64: 1e-12, torch.float32: 1e-5}

# every loss uses the three encoders (two-view losses see views 1 and 2 summed)
LOSSES = {
    "nt_xent": lambda z, **kw: losses.nt_xent(z[0], z[1] + z[2], **kw),
    "gmc_loss": lambda z, **kw: losses.gmc_loss(z[0], [z[1], z[2]], **kw),
    "nce": lambda z, **kw: losses.nce(z[0], z[1] + z[2], **kw),
    "mil_nce": lambda z, **kw: losses.mil_nce(z[0], torch.stack([z[1], z[2]], dim=1), **kw),
    "cca_loss": lambda z, **kw: losses.cca_loss(z[0], z[1] + z[2], reg=0.1, **kw),
    "gcca_loss": lambda z, **kw: losses.gcca_loss(z, n_components=2, reg=0.1, **kw),
}


class Encoders(nn.Module):
    """Three small encoders, one per view."""

    def __init__(self):
        super().__init__()
        self.f = nn.ModuleList(nn.Sequential(nn.Linear(IN, WIDTH), nn.Tanh()) for _ in range(3))

    def forward(self, *views):
        return [f(x) for f, x in zip(self.f, views, strict=True)]


def _inputs(dtype):
    g = torch.Generator().manual_seed(0)
    views = [torch.randn(GLOBAL, IN, generator=g, dtype=torch.float64).to(dtype) for _ in range(3)]
    torch.manual_seed(0)
    return views, Encoders().to(dtype)


class _LocalBackward(torch.autograd.Function):
    """A gather whose backward keeps this process's own gradient only (the 1/W bug)."""

    @staticmethod
    def forward(ctx, x):
        import torch.distributed as dist

        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rank, ctx.rows = dist.get_rank(), x.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def _losses_worker(rank, world):
    """Value and DDP-averaged gradients of each loss: global batch, and two mutants."""
    out = {}
    for dtype in DTYPES:
        views, model = _inputs(dtype)
        ddp = nn.parallel.DistributedDataParallel(model)
        local = [shard(torch.arange(GLOBAL), rank, world) for _ in views]
        mine = [v[i] for v, i in zip(views, local, strict=True)]
        for name, loss_fn in LOSSES.items():
            for mode in ("global", "local", "local-backward"):
                ddp.zero_grad(set_to_none=True)
                z = ddp(*mine)
                if mode == "global":
                    loss = loss_fn(z)  # automatic: a process group is initialised
                elif mode == "local":
                    loss = loss_fn(z, gather=False)  # local negatives / covariances
                else:
                    loss = loss_fn([_LocalBackward.apply(c) for c in z], gather=False)
                loss.backward()
                grads = [p.grad.detach().clone() for p in model.parameters()]
                out[name, str(dtype), mode] = (loss.item(), grads)
    return out


@pytest.fixture(scope="module")
def two_process_losses():
    return run_local(_losses_worker, 2, timeout=60)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(LOSSES))
def test_global_loss_and_gradients_equal_one_process(two_process_losses, name, dtype):
    views, model = _inputs(dtype)
    loss = LOSSES[name](model(*views))
    loss.backward()
    for rank in (0, 1):
        value, grads = two_process_losses[rank][name, str(dtype), "global"]
        assert abs(value - loss.item()) <= TOL[dtype], (rank, value, loss.item())
        for g, p in zip(grads, model.parameters(), strict=True):
            assert float((g - p.grad).abs().max()) <= TOL[dtype]


@pytest.mark.parametrize("mode", ["local", "local-backward"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_mutants_fail_the_equality(two_process_losses, name, mode):
    """Local-only negatives/covariances, or a gather that drops the other gradients: caught."""
    views, model = _inputs(torch.float64)
    loss = LOSSES[name](model(*views))
    loss.backward()
    value, grads = two_process_losses[0][name, "torch.float64", mode]
    worst = max(
        float((g - p.grad).abs().max()) for g, p in zip(grads, model.parameters(), strict=True)
    )
    if mode == "local":
        assert abs(value - loss.item()) > 1e-3 or worst > 1e-3
    else:  # the value is right, the gradient is not
        assert abs(value - loss.item()) <= 1e-12
        assert worst > 1e-3


def _estimators():
    from mmlib import DCCA, DGCCA, GMC, MMV

    small = {"epochs": 2, "random_state": 0, "progress": False, "device": "cpu"}
    # SGD for the CCA losses: they ignore the last layer's bias, and Adam divides the rounding
    # noise of that null gradient by its eps (1e-8), which leaves ~1e-10 differences there
    sgd = {"optimizer": "sgd", "lr": 0.1, **small}
    return {
        "DCCA": DCCA(n_components=2, hidden=(8,), batch_size=8, **sgd),
        "DGCCA": DGCCA(n_components=2, hidden=(8,), batch_size=8, **sgd),
        "GMC": GMC(code_dim=4, hidden=(8,), batch_size=16, **small),
        "MMV": MMV(embed_dim=4, backbone_dim=8, hidden=(8,), batch_size=16, **small),
    }


def _views(name):
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((32, 2))
    views = [
        latent @ rng.standard_normal((2, d)) + 0.5 * rng.standard_normal((32, d)) for d in (6, 5, 4)
    ]
    if name == "DCCA":
        return views[:2]
    if name == "MMV":
        return [views[0], views[1], np.stack([views[2], views[2] + 0.1], axis=1)]
    return views


def _fit(name):
    """Fit in float64 (in float32, Adam turns the rounding noise of a null gradient into steps
    of size lr, in one process as in two)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = _estimators()[name].fit(_views(name))
    finally:
        torch.set_default_dtype(default)
    state = {k: v.detach().clone() for k, v in model.module_.state_dict().items()}
    return state, list(model.history_.train_loss)


def _train_worker(rank, world):
    from mmlib import GMC

    fits = {name: _fit(name) for name in _estimators()}
    torch.manual_seed(rank)  # different initial weights, an unseeded shuffle: rank 0's win
    gmc = GMC(code_dim=4, hidden=(8,), epochs=2, batch_size=8, random_state=None, progress=False)
    fits["unseeded"] = gmc.fit(_views("GMC")).module_.state_dict()
    return fits


def test_training_under_ddp_equals_one_process():
    ranks = run_local(_train_worker, 2, timeout=60)
    for name in _estimators():
        single_state, single_loss = _fit(name)
        states = [r[name][0] for r in ranks]
        for key, value in single_state.items():
            assert torch.equal(states[0][key], states[1][key]), (name, key)  # identical ranks
            assert value.dtype == torch.float64
            assert float((states[0][key] - value).abs().max()) <= 1e-12, (name, key)
        np.testing.assert_allclose(ranks[0][name][1], single_loss, rtol=0, atol=1e-12)
    for key, value in ranks[0]["unseeded"].items():
        assert torch.equal(value, ranks[1]["unseeded"][key]), key


def _bad_worker(rank, world):
    """Each bad input, caught on every process: the messages come back."""
    messages = {}
    z = torch.randn(4 if rank == 0 else 3, 3)
    try:
        losses.nt_xent(z, z)
    except ValueError as err:
        messages["sizes"] = str(err)
    try:
        losses.nce(torch.randn(4, 3), torch.randn(4, 3) if rank == 0 else [[0.0] * 3] * 4)
    except ValueError as err:
        messages["type"] = str(err)
    from mmlib import DCCA

    x = np.random.default_rng(0).standard_normal((9, 3))
    try:
        DCCA(n_components=1, hidden=(4,), epochs=1, progress=False).fit([x, x[:, ::-1]])
    except ValueError as err:
        messages["divide"] = str(err)
    with local_losses():  # on purpose: the loss of this process's rows
        messages["local"] = (losses.nt_xent(z, 2 * z).item(), z)
    return messages


def test_bad_input_is_a_clear_error_on_every_process():
    ranks = run_local(_bad_worker, 2, timeout=30)
    for messages in ranks:
        assert "process 0: shape (4, 3)" in messages["sizes"]
        assert "process 1: shape (3, 3)" in messages["sizes"]
        assert "z2 must be a tensor" in messages["type"]
        assert "not a tensor" in messages["type"]
        assert "world size 2 does not divide the mini-batch sizes [9]" in messages["divide"]
    for value, z in (r["local"] for r in ranks):
        assert value == losses.nt_xent(z, 2 * z).item()


def test_gather_without_a_process_group():
    z = torch.randn(4, 3)
    with pytest.raises(ValueError, match="no initialised process group"):
        losses.nt_xent(z, z, gather=True)
    with pytest.raises(TypeError, match="gather must be None, True or False"):
        losses.cca_loss(z, z, gather="yes")
    assert gather_for_loss([z], None)[0] is z  # no group: the loss of the rows it was given
    assert losses.nce(z, z).item() == losses.nce(z, z, gather=False).item()


def test_shard_splits_equally_and_refuses_otherwise():
    idx = torch.randperm(12)
    assert torch.equal(torch.cat([shard(idx, r, 3) for r in range(3)]), idx)
    with pytest.raises(ValueError, match="cannot be split equally among 5 processes"):
        shard(idx, 0, 5)
    with pytest.raises(ValueError, match="rank must be in"):
        shard(idx, 3, 3)
    with pytest.raises(TypeError, match="index must be a 1-D"):
        shard(idx.numpy(), 0, 3)


def test_run_local_bounds_time_and_reports_errors():
    with pytest.raises(TypeError, match="fn must be callable"):
        run_local("nope")
    with pytest.raises(ValueError, match="start_method"):
        run_local(_train_worker, start_method="forkserver")
    with pytest.raises(Exception, match="boom"):
        run_local(_raises, 2, timeout=10)


def _raises(rank, world):
    raise ValueError("boom")
