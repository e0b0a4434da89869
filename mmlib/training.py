"""One training loop for every deep model of the book.

:func:`train` fits any ``torch.nn.Module`` on a list of views with a loss written as
``loss_fn(model, batch) -> scalar tensor``, where ``batch`` is the list of the views' rows of one
mini-batch (tensors on the training device). It takes care of what every chapter needs: seeding,
the device, mini-batches that are never too small for a covariance, a progress bar that is quiet
in CI and in the book build, a clear error instead of a silently diverged model, early stopping
with the best weights restored, and a :class:`History` for the training-curve figures.
"""

from __future__ import annotations

import inspect
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from mmlib import distributed
from mmlib._checks import (
    check_n_features,
    check_positive_float,
    check_positive_int,
    check_views,
)

__all__ = [
    "OPTIMIZERS",
    "History",
    "NonFiniteLossError",
    "progress_enabled",
    "resolve_device",
    "smallest_batch",
    "train",
]

#: Optimizers :func:`train` accepts, by name.
OPTIMIZERS = ("adam", "adamw", "sgd", "lbfgs")


class NonFiniteLossError(FloatingPointError):
    """The loss (or a gradient) became NaN or inf during training."""


@dataclass
class History:
    """What happened during :func:`train`, one entry per epoch run.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss of the epoch (the mini-batch losses, weighted by batch size, computed
        before each optimisation step).
    val_loss : list of float
        Loss on the whole validation set after the epoch (empty without validation views).
    val_score : list of float
        ``val_score(model, val_batch)`` after the epoch (empty without a ``val_score``).
    epoch_time : list of float
        Wall-clock seconds of each epoch, validation included.
    best_epoch : int or None
        Index (into the lists above) of the epoch whose weights the model holds after training:
        the best validated epoch when there is a validation monitor, else the last one.
    stopped_early : bool
        Whether early stopping ended the training before ``epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_score: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def as_dict(self) -> dict:
        """The history as a plain dict (lists copied)."""
        return asdict(self)


def _available(device: torch.device) -> bool:
    """Whether tensors can be placed and computed on ``device`` here."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        return device.index is None or device.index < torch.cuda.device_count()
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())
    return False  # meta (no data), xla, xpu, ...: not supported by mmlib's models


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a ``torch.device``; ``None`` picks CUDA when it is available, else the CPU.

    Accepted: ``"cpu"``, ``"cuda"`` / ``"cuda:<i>"`` (when that GPU exists) and ``"mps"`` (when
    Apple's backend is available). Any other device type (``"meta"``, which holds no data,
    ``"xla"``, ...) or one that is missing on this machine is a ``ValueError``.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be None, a string such as 'cpu' or 'cuda', or a torch.device; "
            f"got {type(device).__name__}"
        )
    try:
        device = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device {device!r} is not a valid torch device: {err}") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available here")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={str(device)!r} is not supported: mmlib trains on 'cpu', 'cuda' or 'mps'"
        )
    if not _available(device):
        raise ValueError(f"device={str(device)!r} was requested but is not available here")
    return device


def _env_set(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def progress_enabled(progress: bool | None) -> bool:
    """Whether to show a progress bar: ``progress``, or, when it is None, not in CI or the book."""
    if progress is None:
        return not (_env_set("CI") or _env_set("MMBOOK_BUILD"))
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    return progress


def _progress_bar(epochs: int, show: bool, desc: str):
    """A tqdm bar over the epochs (a widget in Jupyter when ipywidgets is there, else text)."""
    if not show:
        from tqdm.std import tqdm

        return tqdm(range(epochs), disable=True)
    with warnings.catch_warnings():  # tqdm.auto warns, then falls back to text, without ipywidgets
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    return tqdm(range(epochs), desc=desc, leave=False)


def _make_optimizer(name, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {name!r}")
    name = name.lower()
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if weight_decay > 0:
        raise ValueError("optimizer='lbfgs' does not support weight_decay; use 'adam' or 'adamw'")
    return torch.optim.LBFGS(
        params, lr=lr, max_iter=20, history_size=20, line_search_fn="strong_wolfe"
    )


def _diverged(where: str, what: str, lr: float) -> NonFiniteLossError:
    return NonFiniteLossError(
        f"the {what} became NaN or inf at {where}. The training diverged: try a lower learning "
        f"rate (lr={lr:g} now), a larger reg (ridge) for CCA-type losses, or larger batches."
    )


def _all_finite(tensors) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)


#: Largest ``random_state`` torch's generators take (they hold an unsigned 64-bit seed).
MAX_SEED = 2**64 - 1
#: Largest number of epochs accepted (more cannot finish, and the progress bar overflows).
_MAX_EPOCHS = 2**31 - 1


def _check_seed(random_state, name: str = "random_state") -> int | None:
    """``random_state`` as a torch seed: None or an int in ``[0, 2**64 - 1]``."""
    if random_state is None:
        return None
    random_state = check_positive_int(random_state, name, minimum=0)
    if random_state > MAX_SEED:
        raise ValueError(f"{name}={random_state} is too large for a torch seed (at most 2**64 - 1)")
    return random_state


def _refuse_meta(views, name: str) -> None:
    """A clear error for tensors on the 'meta' device (a shape without values) in ``views``."""
    if isinstance(views, (list, tuple)):
        for j, v in enumerate(views):
            if isinstance(v, torch.Tensor) and v.device.type == "meta":
                raise ValueError(
                    f"{name}[{j}] is on the 'meta' device: it has a shape but no values"
                )


def _n_batches(n: int, batch_size: int | None) -> int:
    """Number of mini-batches of ``n`` rows (see :func:`train`'s ``batch_size``)."""
    if batch_size is None or batch_size >= n:
        return 1
    return max(1, min(math.ceil(n / batch_size), n // 2))


def smallest_batch(n: int, batch_size: int | None) -> int:
    """The number of rows of the smallest mini-batch :func:`train` makes from ``n`` rows.

    ``n`` is an int >= 2 (what :func:`train` accepts) and ``batch_size`` None (full batch) or
    an int >= 2; anything else is a ``TypeError`` / ``ValueError`` naming the argument.
    """
    n = check_positive_int(n, "n", minimum=2)
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    return n // _n_batches(n, batch_size)


def _check_loss_arity(loss_fn) -> None:
    """``loss_fn`` must accept ``(model, batch)``: a clear error before the first batch."""
    try:
        signature = inspect.signature(loss_fn)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    try:
        signature.bind(None, None)
    except TypeError as err:
        raise TypeError(
            f"loss_fn must be callable as loss_fn(model, batch) (two arguments), but its "
            f"signature is {signature}: {err}"
        ) from None


def _to_model(views, dtype, device, name: str) -> list[torch.Tensor]:
    """Views as tensors of the model's dtype on ``device``; values the cast overflows are refused."""
    out = []
    for j, v in enumerate(views):
        t = torch.as_tensor(v, dtype=dtype)
        if not bool(torch.isfinite(t).all()):  # the views were finite: the cast overflowed
            raise ValueError(
                f"{name}[{j}] has values too large for the model's dtype {dtype} (largest "
                f"|value| {float(abs(torch.as_tensor(v)).max()):.3g} > "
                f"{torch.finfo(dtype).max:.3g}); standardise the data or use a float64 model"
            )
        out.append(t.to(device))
    return out


def _batch_loss(model, loss_fn, batch, where: str, lr: float) -> torch.Tensor:
    """``loss_fn(model, batch)``, turned into :class:`NonFiniteLossError` when it is not finite."""
    try:
        loss = loss_fn(model, batch)
    except (ValueError, RuntimeError) as err:  # e.g. NaN outputs refused by the loss
        if not _all_finite(p.detach() for p in model.parameters()):
            raise _diverged(where, "model's weights", lr) from err
        if isinstance(err, NotImplementedError):
            raise  # torch's error (a RuntimeError) for an op it lacks: its message names the op
        if isinstance(err, RuntimeError):
            widths = [int(v.shape[1]) for v in batch]
            raise ValueError(
                f"loss_fn(model, batch) failed at {where} inside torch: {err}. Check that the "
                f"model takes the views as they are (train_views widths {widths}, dtype "
                f"{batch[0].dtype}) and that loss_fn returns a scalar"
            ) from err
        raise
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(
            f"loss_fn must return a scalar torch.Tensor, got {type(loss).__name__}"
            + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
        )
    if not bool(torch.isfinite(loss.detach())):
        raise _diverged(where, f"loss ({float(loss.detach()):g})", lr)
    if torch.is_grad_enabled() and not loss.requires_grad:
        raise TypeError(
            f"loss_fn returned a tensor without gradient at {where} (it does not depend on "
            "the model's trainable parameters, or was computed under torch.no_grad() or "
            "detached): there is nothing to train"
        )
    return loss.reshape(())


def _score(val_score, model, val_data, where: str) -> float:
    """``val_score(model, val_data)`` as a finite float, or a clear error."""
    value = val_score(model, val_data)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"val_score must return a float, got {type(value).__name__} at {where}")
    if not math.isfinite(float(value)):
        raise ValueError(
            f"val_score returned {float(value)} at {where}: it must be a finite float (higher is "
            "better) to monitor the training"
        )
    return float(value)


def train(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, list[torch.Tensor]], torch.Tensor],
    train_views: Sequence,
    *,
    val_views: Sequence | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    patience: int | None = None,
    device: str | torch.device | None = None,
    random_state: int | None = 0,
    progress: bool | None = None,
    val_score: Callable[[nn.Module, list[torch.Tensor]], float] | None = None,
) -> History:
    """Train ``model`` by minimising ``loss_fn`` over mini-batches of ``train_views``.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place (moved to ``device``; left in eval mode at the end).
    loss_fn : callable
        ``loss_fn(model, batch)`` -> scalar tensor, where ``batch`` is a list with one tensor of
        shape ``(b, d_j)`` per view (same rows in every view). For Deep CCA:
        ``lambda m, b: cca_loss(*m(*b))``.
    train_views : list of array-like of shape (n, d_j)
        The training data (numpy arrays or tensors), converted once to the dtype of the model's
        parameters and moved once to the device.
    val_views : list of array-like of shape (n_val, d_j), optional
        Validation data; its full-batch loss is recorded after every epoch.
    epochs : int
        Maximum number of passes over the training data.
    batch_size : int >= 2 or None
        ``None`` (or ``>= n``): full batch. Otherwise each epoch shuffles the samples and splits
        them into ``m = ceil(n / batch_size)`` batches of (nearly) equal size: ``floor(n / m)`` or
        ``ceil(n / m)`` rows, so at most ``batch_size`` and at least ``ceil(batch_size / 2)``:
        there is never a tiny last batch whose covariance would be meaningless. The one
        exception: with ``batch_size=2`` and an odd ``n``, the odd row joins a batch of 3 (every
        batch has at least 2 rows). :func:`smallest_batch` gives the smallest size.
    lr : float
        Learning rate (for ``"lbfgs"``, the step of its strong-Wolfe line search; use 1).
    optimizer : {"adam", "adamw", "sgd", "lbfgs"}
        ``"sgd"`` is plain SGD; ``"lbfgs"`` is meant for full-batch training of small models.
    weight_decay : float
        L2 penalty (decoupled for ``"adamw"``).
    patience : int or None
        Early stopping: stop after ``patience`` epochs without improvement of the validation
        monitor (``val_score`` if given, else the validation loss). Needs ``val_views``.
    device : str, torch.device or None
        ``None``: ``"cuda"`` when available, else ``"cpu"``.
    random_state : int or None
        Seeds torch (initialisation done here, dropout) and the shuffling. The mini-batches of
        epoch ``e`` are ``torch.randperm(n, generator=g)`` split as above, drawn ``e`` times in
        a row from a ``torch.Generator`` ``g`` seeded with ``random_state``: the same seed gives
        the same batches, on any device, and on the CPU the same history and weights.
        ``None``: not seeded.
    progress : bool or None
        Show a tqdm progress bar. ``None``: yes, unless the environment variable ``CI`` or
        ``MMBOOK_BUILD`` is set.
    val_score : callable, optional
        ``val_score(model, val_batch)`` -> finite float, higher is better, evaluated in eval mode
        without gradient on the validation views (needs ``val_views``); it becomes the
        early-stopping monitor. A NaN or infinite score is a ``ValueError``.

    Returns
    -------
    History
        Per-epoch losses, scores and times. With a validation monitor the model ends with the
        weights of ``history.best_epoch``.

    Raises
    ------
    NonFiniteLossError
        The loss or the weights became NaN or inf; the message names the epoch and the batch.
        The loss is checked on every batch and the weights after every epoch (a NaN gradient
        makes NaN weights, hence a NaN loss on the next batch).
    ValueError
        Invalid arguments, views that are not finite or overflow the model's dtype, or a
        ``val_score`` that is not finite, or under ``torch.distributed`` a world size that does not
        divide every mini-batch.

    Notes
    -----
    Under ``torch.distributed`` (an initialised process group of several processes, e.g. under
    ``torchrun``), every process runs ``train`` on the same views: the mini-batches are drawn from
    rank 0's generator, each process takes its share of each (:func:`mmlib.distributed.shard`,
    the same rows of every view), the losses of :mod:`mmlib.losses` run on the global batch, the
    gradients are averaged over the processes (as DDP does), the initial weights are rank 0's and
    the final weights are checked to be equal on every process. The validation loss and score
    are computed by every process on all the validation rows. Without dropout and batch
    normalisation, the history and weights are those of one process with the same seed, up to
    rounding (``tests/test_distributed.py``).
    """
    _check_model(model, loss_fn)
    _refuse_meta(train_views, "train_views")
    _refuse_meta(val_views, "val_views")
    views = check_views(train_views, min_views=1, name="train_views")
    if val_views is not None:
        val_views = check_views(val_views, min_views=1, name="val_views")
        check_n_features(val_views, [v.shape[1] for v in views], name="val_views")
    return _train(
        model,
        loss_fn,
        views,
        val_views=val_views,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer=optimizer,
        weight_decay=weight_decay,
        patience=patience,
        device=device,
        random_state=random_state,
        progress=progress,
        val_score=val_score,
    )


def _check_model(model, loss_fn) -> None:
    """``model`` a module with trainable parameters, ``loss_fn`` callable as ``(model, batch)``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model has no trainable parameters")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(model, batch), got {loss_fn!r}")
    _check_loss_arity(loss_fn)


def _train(
    model,
    loss_fn,
    views: list[np.ndarray],
    *,
    val_views: list[np.ndarray] | None = None,
    epochs=100,
    batch_size=None,
    lr=1e-3,
    optimizer="adam",
    weight_decay=0.0,
    patience=None,
    device=None,
    random_state=0,
    progress=None,
    val_score=None,
) -> History:
    """:func:`train` on views that ``check_views`` has already validated (the estimators' path).

    ``views`` and ``val_views`` are lists of finite 2-D float arrays with matching widths; the
    other arguments are those of :func:`train` (typed and documented there), checked here in the
    same order.
    """
    _check_model(model, loss_fn)
    _check_val_score(val_score, val_views)
    epochs = _check_epochs(epochs)
    n_batches = _check_batch_size(batch_size, views[0].shape[0])
    lr = check_positive_float(lr, "lr")
    weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    patience = _check_patience(patience, val_views)
    random_state = _check_seed(random_state)
    show = progress_enabled(progress)
    device = resolve_device(device)
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a string, one of {list(OPTIMIZERS)}")

    params = [p for p in model.parameters() if p.requires_grad]
    generator = _seeded_generator(random_state)
    model.to(device)
    data = _to_model(views, params[0].dtype, device, "train_views")
    val_data = None
    if val_views is not None:
        val_data = _to_model(val_views, params[0].dtype, device, "val_views")
    opt = _make_optimizer(optimizer, params, lr, weight_decay)
    # None without torch.distributed; else rank 0's weights and batches everywhere
    ddp = distributed._trainer(model, views[0].shape[0], n_batches, generator)
    run = _Run(model, loss_fn, params, opt, data, generator, ddp, n_batches, epochs, lr)
    return _fit(run, val_data, val_score, patience, show)


# --------------------------------------------------------------------------------------------
# The settings, checked in the order of the signature (the first bad one is reported)
# --------------------------------------------------------------------------------------------


def _check_val_score(val_score, val_views) -> None:
    if val_score is not None and not callable(val_score):
        raise TypeError(f"val_score must be callable as val_score(model, batch), got {val_score!r}")
    if val_score is not None and val_views is None:
        raise ValueError("val_score needs val_views to score")


def _check_epochs(epochs) -> int:
    epochs = check_positive_int(epochs, "epochs")
    if epochs > _MAX_EPOCHS:
        raise ValueError(f"epochs={epochs} is too large (at most {_MAX_EPOCHS})")
    return epochs


def _check_batch_size(batch_size, n: int) -> int:
    """The number of mini-batches of an epoch, for ``n`` training rows."""
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    if n < 2:
        raise ValueError(f"train_views must have at least 2 samples, got {n}")
    return _n_batches(n, batch_size)


def _check_patience(patience, val_views) -> int | None:
    if patience is not None:
        patience = check_positive_int(patience, "patience")
        if val_views is None:
            raise ValueError("early stopping (patience) needs val_views to monitor")
    return patience


def _seeded_generator(random_state: int | None) -> torch.Generator:
    """The mini-batches' generator; a seed also seeds torch (initialisation done here, dropout)."""
    generator = torch.Generator()
    if random_state is not None:
        torch.manual_seed(random_state)
        generator.manual_seed(random_state)
    return generator


# --------------------------------------------------------------------------------------------
# The loop: epochs of mini-batch steps, validation and early stopping, the history
# --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What the epochs of one call of :func:`train` share once it is set up."""

    model: nn.Module
    loss_fn: Callable
    params: list[torch.Tensor]
    opt: torch.optim.Optimizer
    data: list[torch.Tensor]
    generator: torch.Generator
    ddp: distributed._Trainer | None
    n_batches: int
    epochs: int
    lr: float


def _fit(run: _Run, val_data, val_score, patience: int | None, show: bool) -> History:
    """Epochs until ``run.epochs`` or early stopping; the model ends with the best weights."""
    history = History()
    best = _Best()
    bar = _progress_bar(run.epochs, show, type(run.model).__name__)
    for epoch in bar:
        start = time.perf_counter()
        history.train_loss.append(_epoch(run, epoch))
        if val_data is not None:
            best.update(_validate(run, val_data, val_score, epoch, history), epoch, run.model)
        history.epoch_time.append(time.perf_counter() - start)
        _show_progress(bar, history)
        if patience is not None and best.waited >= patience:
            history.stopped_early = epoch + 1 < run.epochs
            break
    bar.close()
    if run.ddp is not None:
        run.ddp.finish(run.model)
    if best.state is not None:  # validated: the best epoch's weights
        run.model.load_state_dict(best.state)
        history.best_epoch = best.epoch
    else:
        history.best_epoch = len(history.train_loss) - 1
    run.model.eval()
    return history


def _epoch_batches(n: int, n_batches: int, generator: torch.Generator):
    """Row indices of one epoch's mini-batches: a shuffle of ``n`` rows cut into near-equal parts.

    ``[None]`` (all rows, nothing drawn from ``generator``) for one full batch, whose row order
    does not matter.
    """
    if n_batches == 1:
        return [None]
    return torch.tensor_split(torch.randperm(n, generator=generator), n_batches)


def _epoch(run: _Run, epoch: int) -> float:
    """One pass over shuffled mini-batches, one step each; the mean loss, weighted by rows."""
    run.model.train()
    n = run.data[0].shape[0]
    total = 0.0
    for b, idx in enumerate(_epoch_batches(n, run.n_batches, run.generator)):
        where = f"epoch {epoch + 1}/{run.epochs}, batch {b + 1}/{run.n_batches}"
        if run.ddp is not None:  # this process's share of the rows
            batch = run.ddp.batch(run.data, idx, n)
        else:
            batch = run.data if idx is None else [v[idx.to(v.device)] for v in run.data]
        loss = _step(run, batch, where)
        total += float(loss.detach()) * (n if idx is None else len(idx))
    if not _all_finite(p.detach() for p in run.params):
        where = f"epoch {epoch + 1}/{run.epochs}"
        raise _diverged(where, "model's weights (after the updates)", run.lr)
    return total / n


def _step(run: _Run, batch: list[torch.Tensor], where: str) -> torch.Tensor:
    """One optimizer step on ``batch``; returns the batch's loss before the step."""

    def closure():
        run.opt.zero_grad(set_to_none=True)
        loss = _batch_loss(run.model, run.loss_fn, batch, where, run.lr)
        loss.backward()
        if run.ddp is not None:  # the mean gradient over the processes, as DDP
            distributed.average_gradients(run.ddp.params)
        return loss

    if isinstance(run.opt, torch.optim.LBFGS):  # its line search evaluates the loss again
        return run.opt.step(closure)
    loss = closure()
    run.opt.step()
    return loss


def _validate(run: _Run, val_data, val_score, epoch: int, history: History) -> float:
    """Record the validation loss (and score) in eval mode; return the monitor (higher: better)."""
    run.model.eval()
    where = f"epoch {epoch + 1}/{run.epochs}, validation"
    with torch.no_grad(), distributed._local_if(run.ddp):  # every process: all val rows
        history.val_loss.append(float(_batch_loss(run.model, run.loss_fn, val_data, where, run.lr)))
        if val_score is not None:
            history.val_score.append(_score(val_score, run.model, val_data, where))
    return history.val_score[-1] if val_score is not None else -history.val_loss[-1]


@dataclass
class _Best:
    """Early stopping's memory: the best monitor so far, its epoch and weights, epochs since."""

    value: float = -math.inf
    epoch: int | None = None
    state: dict | None = None
    waited: int = 0

    def update(self, monitor: float, epoch: int, model: nn.Module) -> None:
        if monitor > self.value:
            self.value, self.epoch, self.waited = monitor, epoch, 0
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.waited += 1


def _show_progress(bar, history: History) -> None:
    postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
    if history.val_loss:
        postfix["val"] = f"{history.val_loss[-1]:.4f}"
    if history.val_score:
        postfix["score"] = f"{history.val_score[-1]:.4f}"
    bar.set_postfix(postfix, refresh=False)
