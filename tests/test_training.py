"""Tests of mmlib.training: the one training loop."""

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from mmlib.losses import cca_loss
from mmlib.nets import MLP
from mmlib.training import History, NonFiniteLossError, resolve_device, train


def _regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = X @ rng.normal(size=(5, 1)) + 0.1 * rng.normal(size=(n, 1))
    return [X, y]


def _mse(model, batch):
    return ((model(batch[0]) - batch[1]) ** 2).mean()


class _TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.f1 = MLP(4, 2, hidden=(8,), dropout=0.2)
        self.f2 = MLP(3, 2, hidden=(8,), dropout=0.2)

    def forward(self, x1, x2):
        return self.f1(x1), self.f2(x2)


def _two_views(n=90, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return [
        np.tanh(z @ rng.normal(size=(2, 4))) + 0.1 * rng.normal(size=(n, 4)),
        z @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(n, 3)),
    ]


def _dcca_run(seed):
    torch.manual_seed(seed)
    model = _TwoTower()
    history = train(
        model,
        lambda m, b: cca_loss(*m(*b)),
        _two_views(),
        epochs=4,
        batch_size=32,
        lr=1e-2,
        random_state=seed,
        progress=False,
    )
    return history, [p.detach().clone() for p in model.parameters()]


def test_training_is_reproducible_under_a_seed():
    h1, w1 = _dcca_run(3)
    h2, w2 = _dcca_run(3)
    assert h1.train_loss == h2.train_loss
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))
    h3, _ = _dcca_run(4)
    assert h3.train_loss != h1.train_loss
    assert h1.train_loss[-1] < h1.train_loss[0]


def test_history_contents():
    model = nn.Linear(5, 1)
    history = train(model, _mse, _regression_data(), val_views=_regression_data(seed=1),
                    epochs=5, lr=0.05, progress=False)  # fmt: skip
    assert isinstance(history, History)
    d = history.as_dict()
    assert set(d) == {"train_loss", "val_loss", "val_score", "epoch_time", "best_epoch",
                      "stopped_early"}  # fmt: skip
    assert len(d["train_loss"]) == len(d["val_loss"]) == len(d["epoch_time"]) == 5
    assert d["val_score"] == [] and not d["stopped_early"]
    assert d["best_epoch"] == int(np.argmin(d["val_loss"]))
    assert not model.training  # left in eval mode


def test_batches_are_even_and_never_tiny():
    sizes = []

    def loss_fn(model, batch):
        sizes.append(len(batch[0]))
        return _mse(model, batch)

    train(nn.Linear(5, 1), loss_fn, _regression_data(n=10), epochs=2, batch_size=4, progress=False)
    assert sizes == [4, 3, 3, 4, 3, 3]
    sizes.clear()
    train(nn.Linear(5, 1), loss_fn, _regression_data(n=10), epochs=1, batch_size=50, progress=False)
    assert sizes == [10]


def test_huge_learning_rate_raises_non_finite_loss_error():
    with pytest.raises(NonFiniteLossError, match=r"epoch \d+/50, batch \d+/2.*lower learning rate"):
        train(nn.Linear(5, 1), _mse, _regression_data(), epochs=50, batch_size=32, lr=1e4,
              optimizer="sgd", progress=False)  # fmt: skip
    assert issubclass(NonFiniteLossError, FloatingPointError)


def test_nan_loss_names_epoch_and_batch():
    calls = []

    def loss_fn(model, batch):
        calls.append(1)
        loss = _mse(model, batch)
        return loss * float("nan") if len(calls) == 5 else loss

    with pytest.raises(NonFiniteLossError, match="epoch 2/3, batch 2/3"):
        train(nn.Linear(5, 1), loss_fn, _regression_data(n=30), epochs=3, batch_size=10,
              progress=False)  # fmt: skip


def test_nan_input_is_caught_by_validation():
    X, y = _regression_data()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"train_views\[0\] contains NaN or inf"):
        train(nn.Linear(5, 1), _mse, [X, y], epochs=1, progress=False)


def test_early_stopping_restores_the_best_epoch():
    # one weight w, pulled from 0 towards the training target 1; the validation target is 0.3,
    # so the validation loss falls until w passes 0.3 and rises afterwards
    n = 8
    train_views = [np.ones((n, 1)), np.ones((n, 1))]
    val_views = [np.ones((n, 1)), np.full((n, 1), 0.3)]
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    history = train(model, _mse, train_views, val_views=val_views, epochs=100, lr=0.05,
                    optimizer="sgd", patience=3, progress=False)  # fmt: skip
    best = history.best_epoch
    assert history.stopped_early
    assert len(history.train_loss) == best + 1 + 3
    assert best == int(np.argmin(history.val_loss))
    w = model.weight.item()
    assert (w - 0.3) ** 2 == pytest.approx(history.val_loss[best])
    assert history.val_loss[-1] > history.val_loss[best]


def test_val_score_is_the_monitor():
    def score(model, batch):  # higher is better: minus the validation loss
        return -_mse(model, batch).item()

    history = train(nn.Linear(5, 1), _mse, _regression_data(), val_views=_regression_data(seed=1),
                    epochs=6, lr=0.05, patience=2, val_score=score, progress=False)  # fmt: skip
    assert len(history.val_score) == len(history.train_loss)
    assert history.best_epoch == int(np.argmax(history.val_score))


def test_lbfgs_full_batch():
    data = _regression_data()
    history = train(nn.Linear(5, 1), _mse, data, epochs=3, lr=1.0, optimizer="lbfgs",
                    progress=False)  # fmt: skip
    assert history.train_loss[-1] < 0.02


def test_progress_bar_is_quiet_in_ci(monkeypatch, capfd):
    monkeypatch.setenv("CI", "1")
    train(nn.Linear(5, 1), _mse, _regression_data(), epochs=3)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    monkeypatch.delenv("CI")
    monkeypatch.setenv("MMBOOK_BUILD", "1")
    train(nn.Linear(5, 1), _mse, _regression_data(), epochs=3)
    assert capfd.readouterr() == ("", "")


def test_progress_bar_shows_losses_when_asked(monkeypatch, capfd):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MMBOOK_BUILD", raising=False)

    def slow_mse(model, batch):  # slow enough for tqdm to redraw (mininterval 0.1 s)
        time.sleep(0.05)
        return _mse(model, batch)

    train(nn.Linear(5, 1), slow_mse, _regression_data(), epochs=4, progress=True)
    _, err = capfd.readouterr()
    assert "Linear" in err and "loss=" in err


def test_device_selection(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(TypeError, match="device"):
        resolve_device(3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "net"}, TypeError, "model must be a torch.nn.Module"),
        ({"loss_fn": 3}, TypeError, "loss_fn must be callable"),
        ({"train_views": np.zeros((4, 2))}, TypeError, "wrap it in a list"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"batch_size": 1}, ValueError, "batch_size must be >= 2"),
        ({"lr": -1.0}, ValueError, "lr must be > 0"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
        ({"patience": 3}, ValueError, "needs val_views"),
        ({"val_views": [np.zeros((4, 3)), np.zeros((4, 1))]}, ValueError, r"val_views\[0\] has 3"),
        ({"optimizer": "lbfgs", "weight_decay": 0.1}, ValueError, "weight_decay"),
        ({"progress": "yes"}, TypeError, "progress"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"loss_fn": lambda m, b: m(b[0])}, TypeError, "scalar"),
    ],
)
def test_train_bad_arguments(kwargs, error, match):
    args = {"model": nn.Linear(5, 1), "loss_fn": _mse, "train_views": _regression_data()}
    args.update(kwargs)
    model, loss_fn, views = args.pop("model"), args.pop("loss_fn"), args.pop("train_views")
    with pytest.raises(error, match=match):
        train(model, loss_fn, views, epochs=args.pop("epochs", 1), progress=args.pop("progress", False),
              **args)  # fmt: skip


def test_train_loss_is_weighted_mean_of_batches():
    model = nn.Linear(5, 1)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    data = _regression_data(n=10)
    history = train(model, _mse, data, epochs=1, batch_size=4, lr=1e-12, optimizer="sgd",
                    progress=False)  # fmt: skip
    assert math.isclose(history.train_loss[0], float((data[1] ** 2).mean()), rel_tol=1e-6)


# ------------------------------------------------------------------ issue 8: contracts and errors


def test_estimators_path_keeps_train_defaults():
    """The estimators call ``_train`` directly: its parameters and defaults (values and types)
    must stay those of ``train``, which tests/test_defaults.py pins.
    """
    import inspect

    from mmlib.training import _train

    def keywords(func):
        params = list(inspect.signature(func).parameters.values())[3:]
        return [(p.name, p.kind, p.default, type(p.default)) for p in params]

    assert keywords(_train) == keywords(train)


def _recorded_batches(n, batch_size, random_state, epochs=3):
    rows = []

    def loss_fn(model, batch):
        rows.append(batch[0][:, 0].round().long().tolist())
        return _mse(model, batch)

    X = np.arange(n, dtype=float)[:, None] * np.ones((1, 5))
    # dropout draws from torch's global generator: the shuffle must not depend on it
    model = nn.Sequential(nn.Dropout(0.1), nn.Linear(5, 1))
    train(model, loss_fn, [X, np.zeros((n, 1))], epochs=epochs,
          batch_size=batch_size, random_state=random_state, progress=False)  # fmt: skip
    return rows


def test_seed_to_batch_order_contract():
    """Documented in train: epoch e's batches are the e-th torch.randperm(n) of a Generator
    seeded with random_state, split by torch.tensor_split into ceil(n / batch_size) parts."""
    n, b, seed = 23, 5, 7
    got = _recorded_batches(n, b, seed)
    gen = torch.Generator().manual_seed(seed)
    want = []
    for _ in range(3):
        want += [p.tolist() for p in torch.tensor_split(torch.randperm(n, generator=gen), 5)]
    assert got == want
    assert _recorded_batches(n, b, seed) == got  # same seed, same batches
    assert _recorded_batches(n, b, seed + 1) != got
    assert sorted(sum(got[:5], [])) == list(range(n))  # each epoch sees every row once


@pytest.mark.parametrize("n", range(2, 41))
@pytest.mark.parametrize("b", [2, 3, 4, 5, 8, 16])
def test_batch_sizes_are_as_documented(n, b):
    from mmlib.training import smallest_batch

    sizes = [len(r) for r in _recorded_batches(n, b, 0, epochs=1)]
    assert sum(sizes) == n
    assert min(sizes) == smallest_batch(n, b)
    assert min(sizes) >= 2
    if b >= n:
        assert sizes == [n]
    elif b == 2 and n % 2:
        assert max(sizes) == 3 and sizes.count(3) == 1
    else:
        assert max(sizes) <= b and min(sizes) >= math.ceil(b / 2)


def test_nan_val_score_is_a_clear_error():
    data = _regression_data()
    with pytest.raises(ValueError, match="val_score returned nan at epoch 1/3"):
        train(nn.Linear(5, 1), _mse, data, val_views=data, epochs=3, progress=False,
              val_score=lambda m, b: float("nan"))  # fmt: skip
    with pytest.raises(TypeError, match="val_score must return a float"):
        train(nn.Linear(5, 1), _mse, data, val_views=data, epochs=3, progress=False,
              val_score=lambda m, b: "good")  # fmt: skip
    history = train(nn.Linear(5, 1), _mse, data, val_views=data, epochs=2, progress=False,
                    val_score=lambda m, b: torch.tensor(0.5))  # fmt: skip
    assert history.val_score == [0.5, 0.5]


def test_float64_overflowing_float32_is_reported_as_such():
    X, y = _regression_data()
    X[0, 0] = 1e300  # finite in float64, inf in the model's float32
    with pytest.raises(ValueError, match=r"train_views\[0\] has values too large .*float32"):
        train(nn.Linear(5, 1), _mse, [X, y], epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"val_views\[0\] has values too large"):
        train(nn.Linear(5, 1), _mse, _regression_data(), val_views=[X, y], epochs=1,
              progress=False)  # fmt: skip
    # a float64 model takes them (and diverges honestly, or not at all)
    model = nn.Linear(5, 1).double()
    with pytest.raises(NonFiniteLossError):
        train(model, _mse, [X, y], epochs=1, progress=False)


@pytest.mark.parametrize("device", ["meta", "xla", "mps", "cuda:7", "ipu", "cpu:0:1", ""])
def test_unavailable_or_unsupported_devices_are_refused(device, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    if device == "mps" and torch.backends.mps.is_available():  # pragma: no cover - Apple only
        pytest.skip("mps is available here")
    with pytest.raises(ValueError, match="device"):
        resolve_device(device)
    assert resolve_device("cuda:0") == torch.device("cuda:0")
