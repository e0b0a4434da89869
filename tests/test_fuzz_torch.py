"""Fuzzing the torch side of mmlib (issue 8): a catalogue of bad or unusual inputs.

Every public torch-side function, module and estimator gets each bad input of the catalogue
in each of its arguments. The contract: a ``ValueError`` or ``TypeError`` whose message names
the argument (or the problem), or a finite result that is correct (for rescaled inputs: the same
as for the original ones). Anything else -- a ``RuntimeError`` from deep inside torch, an
``IndexError``, a NaN returned -- fails. ``len(CASES)`` is the size of the catalogue.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from mmlib.losses import cca_correlations, cca_loss, gcca_loss, gcca_solution
from mmlib.models import DCCA, DGCCA, DCCAModule, DGCCAModule
from mmlib.nets import MLP, make_encoders
from mmlib.training import NonFiniteLossError, resolve_device, train

N, D = 24, 3


def _good(n=N, d=D, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen, dtype=dtype)


def _bad_tensors(n=N, d=D, dtype=torch.float64) -> dict:
    """Bad (or unusual) stand-ins for an ``(n, d)`` float tensor."""
    good = _good(n, d, dtype=dtype)
    nan, inf = good.clone(), good.clone()
    nan[1, 1] = float("nan")
    inf[2, 0] = float("inf")
    return {
        "nan": nan,
        "inf": inf,
        "-inf": -inf,
        "no rows": good[:0],
        "no columns": good[:, :0],
        "1-D": good[:, 0],
        "3-D": good[:, :, None],
        "0-D": good[0, 0],
        "int64": good.round().long(),
        "bool": good > 0,
        "complex": good.to(torch.complex128),
        "numpy": good.numpy(),
        "list": good.tolist(),
        "None": None,
        "string": "h",
        "one row": good[:1],
        "fewer rows": good[:-1],
        "meta": torch.empty(n, d, device="meta"),
    }


def _unusual_tensors(n=N, d=D, seed=0) -> dict:
    """Valid inputs that must give a finite, correct result: (tensor, scale vs the good one)."""
    good = _good(n, d, seed=seed)
    return {
        "huge": (good * 1e300, 1e300),
        "tiny": (good * 1e-300, 1e-300),
        "1e-5": (good * 1e-5, 1e-5),
        "float32": (good.float(), 1.0),
        "bfloat16": (good.to(torch.bfloat16), 1.0),
        "float16": (good.half(), 1.0),
        "requires grad": (good.clone().requires_grad_(), 1.0),
        "non-contiguous": (good.T.contiguous().T, 1.0),
    }


def _bad_ints(name: str) -> dict:
    return {
        f"{name}=0": 0,
        f"{name}=-1": -1,
        f"{name}=1.5": 1.5,
        f"{name}=True": True,
        f"{name}='2'": "2",
        f"{name}=None": None,
        f"{name}=nan": float("nan"),
        f"{name}=10**30": 10**30,
    }


def _bad_floats(name: str, with_none: bool = False) -> dict:
    cases = {
        f"{name}=-0.1": -0.1,
        f"{name}=nan": float("nan"),
        f"{name}=inf": float("inf"),
        f"{name}='0.1'": "0.1",
        f"{name}=[0.1]*3": [0.1, 0.1, 0.1],
        f"{name}=complex": 0.1j,
    }
    if not with_none:
        cases[f"{name}=None"] = None
    return cases


# ------------------------------------------------------------------ the catalogue

CASES: list = []  # (id, thunk, argument name, reference thunk or None)


def _add(fn_name, label, thunk, arg, reference=None):
    CASES.append(pytest.param(thunk, arg, reference, id=f"{fn_name}[{label}]"))


def _pair_cases(fn_name, fn):
    """Both tensor arguments of a two-view loss, then its scalar options."""
    for slot in ("h1", "h2"):
        for label, bad in _bad_tensors().items():

            def thunk(bad=bad, slot=slot):
                args = {"h1": _good(), "h2": _good(seed=1), slot: bad}
                return fn(args["h1"], args["h2"])

            _add(fn_name, f"{slot} {label}", thunk, slot)
        for label, (value, _) in _unusual_tensors(seed=int(slot == "h2")).items():

            def thunk(value=value, slot=slot):
                args = {"h1": _good(), "h2": _good(seed=1), slot: value}
                return fn(args["h1"], args["h2"])

            _add(fn_name, f"{slot} {label}", thunk, slot, lambda: fn(_good(), _good(seed=1)))
    for label, bad in {**_bad_floats("reg"), "reg=1": 1.0, "reg=(0.1,)": (0.1,)}.items():
        _add(fn_name, label, lambda bad=bad: fn(_good(), _good(seed=1), reg=bad), "reg")
    for label, bad in _bad_floats("eps").items():
        _add(fn_name, label, lambda bad=bad: fn(_good(), _good(seed=1), eps=bad), "eps")
    _add(fn_name, "constant h1", lambda: fn(torch.ones(N, D), _good()), "constant")


_pair_cases("cca_correlations", cca_correlations)
_pair_cases("cca_loss", cca_loss)
for _label, _bad in {**_bad_ints("n_components"), "n_components=4": 4}.items():
    _add("cca_loss", _label, lambda b=_bad: cca_loss(_good(), _good(seed=1), n_components=b),
         "n_components")  # fmt: skip
for _label, _bad in {
    "objective='trace'": "trace",
    "objective=None": None,
    "objective=1": 1,
}.items():
    _add(
        "cca_loss",
        _label,
        lambda b=_bad: cca_loss(_good(), _good(seed=1), objective=b),
        "objective",
    )


def _views3():
    return [_good(seed=0), _good(seed=1), _good(d=2, seed=2)]


def _gcca_cases(fn_name, fn):
    for slot in range(3):
        for label, bad in _bad_tensors().items():

            def thunk(bad=bad, slot=slot):
                views = _views3()
                views[slot] = bad
                return fn(views, 2)

            _add(fn_name, f"outputs[{slot}] {label}", thunk, "outputs")
        for label, (value, _) in _unusual_tensors(d=2 if slot == 2 else D, seed=slot).items():

            def thunk(value=value, slot=slot):
                views = _views3()
                views[slot] = value
                return fn(views, 2)

            _add(fn_name, f"outputs[{slot}] {label}", thunk, "outputs", lambda: fn(_views3(), 2))
    for label, bad in {
        "one view": [_good()],
        "no views": [],
        "a tensor": _good(),
        "a dict": {"a": _good()},
        "None": None,
        "a string": "views",
    }.items():
        _add(fn_name, label, lambda bad=bad: fn(bad, 1), "outputs")
    for label, bad in {**_bad_ints("n_components"), "n_components=9": 9}.items():
        _add(fn_name, label, lambda bad=bad: fn(_views3(), bad), "n_components")
    for label, bad in {**_bad_floats("reg"), "reg=1": 1.0, "reg=(0.1, 0.2)": (0.1, 0.2)}.items():
        _add(fn_name, label, lambda bad=bad: fn(_views3(), 2, reg=bad), "reg")
    for label, bad in _bad_floats("eps").items():
        _add(fn_name, label, lambda bad=bad: fn(_views3(), 2, eps=bad), "eps")


_gcca_cases("gcca_loss", gcca_loss)
_gcca_cases("gcca_solution", gcca_solution)


# MLP: constructor arguments and forward inputs
for _label, _bad in _bad_ints("in_features").items():
    _add("MLP", _label, lambda b=_bad: MLP(b, 2), "in_features")
for _label, _bad in _bad_ints("out_features").items():
    _add("MLP", _label, lambda b=_bad: MLP(3, b), "out_features")
for _label, _bad in {"hidden=8": 8, "hidden=(0,)": (0,), "hidden=(-1,)": (-1,), "hidden='88'": "88",
                     "hidden=(2.5,)": (2.5,), "hidden=None": None}.items():  # fmt: skip
    _add("MLP", _label, lambda b=_bad: MLP(3, 2, hidden=b), "hidden")
for _label, _bad in {"activation='swish'": "swish", "activation=None": None}.items():
    _add("MLP", _label, lambda b=_bad: MLP(3, 2, activation=b), "activation")
for _label, _bad in {"batch_norm=1": 1, "batch_norm='yes'": "yes"}.items():
    _add("MLP", _label, lambda b=_bad: MLP(3, 2, batch_norm=b), "batch_norm")
for _label, _bad in {"dropout=1": 1.0, "dropout=-0.1": -0.1, "dropout=nan": float("nan")}.items():
    _add("MLP", _label, lambda b=_bad: MLP(3, 2, dropout=b), "dropout")
for _label, _bad in _bad_tensors(dtype=torch.float32).items():
    if _label in ("one row", "fewer rows"):
        continue  # valid for an MLP without batch norm
    _add("MLP.forward", f"x {_label}", lambda b=_bad: MLP(3, 2, hidden=(4,))(b), "x")
_add("MLP.forward", "x float64", lambda: MLP(3, 2)(_good()), "dtype")
_add("MLP.forward", "x 4 columns", lambda: MLP(3, 2)(_good(d=4).float()), "features")
_add("MLP.forward", "x one row, batch norm", lambda: MLP(3, 2, batch_norm=True)(_good(n=1).float()),
     "batch normalisation")  # fmt: skip

for _label, _bad in {"in_dims=[]": [], "in_dims=3": 3, "in_dims=[0, 3]": [0, 3], "in_dims='ab'": "ab",
                     "in_dims=[2.5, 3]": [2.5, 3], "in_dims=None": None}.items():  # fmt: skip
    _add("make_encoders", _label, lambda b=_bad: make_encoders(b, 2), "in_dims")
_add("make_encoders", "out_dim=0", lambda: make_encoders([3, 3], 0), "out_features")


# modules
def _dcca_module():
    return DCCAModule([D, D], 2, hidden=(4,))


for _slot in (0, 1):
    for _label, _bad in _bad_tensors(dtype=torch.float32).items():
        if _label == "one row":
            continue  # valid: one row in both views is the same number of rows

        def _thunk(b=_bad, slot=_slot):
            xs = [_good().float(), _good(seed=1).float()]
            xs[slot] = b
            return _dcca_module()(*xs)

        _add("DCCAModule.forward", f"x{_slot + 1} {_label}", _thunk, "x|view|rows")
for _label, _bad in {"in_dims=[3]": [3], "in_dims=[3, 3, 3]": [3, 3, 3], "in_dims=3": 3}.items():
    _add("DCCAModule", _label, lambda b=_bad: DCCAModule(b, 2), "in_dims")
_add("DCCAModule", "out_dim=None", lambda: DCCAModule([3, 3], None), "out_dim")
_add("DCCAModule", "encoders=[MLP]", lambda: DCCAModule(encoders=[MLP(3, 2)]), "encoders")
_add("DCCAModule", "encoders=[MLP, 3]", lambda: DCCAModule(encoders=[MLP(3, 2), 3]), "encoders")
_add("DGCCAModule", "in_dims=[3]", lambda: DGCCAModule([3], 2), "in_dims")
_add("DGCCAModule.forward", "two views of three",
     lambda: DGCCAModule([3, 3, 2], 2, hidden=())(_good().float(), _good().float()), "views")  # fmt: skip
_add("DGCCAModule.forward", "rows 24, 24, 23",
     lambda: DGCCAModule([3, 3, 2], 2, hidden=())(_good().float(), _good().float(),
                                                  _good(n=23, d=2).float()), "rows")  # fmt: skip


# estimators: fit with bad views and bad parameters, transform with bad views
def _np_views(k=2, n=40):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n, 1))
    return [np.hstack([z, rng.normal(size=(n, 2))]) for _ in range(k)]


def _bad_np_views(k) -> dict:
    views = _np_views(k)
    nan = [v.copy() for v in views]
    nan[1][3, 1] = np.nan
    return {
        "nan": nan,
        "inf": [views[0], np.where(views[1] > 1, np.inf, views[1])],
        "one view": views[:1],
        "a single array": views[0],
        "None": None,
        "strings": [v.astype(str) for v in views],
        "complex": [v.astype(complex) for v in views],
        "ragged rows": [views[0], views[1][:-1]],
        "1-D": [v[:, 0] for v in views],
        "empty": [v[:0] for v in views],
        "no columns": [v[:, :0] for v in views],
        "object": [np.array([[None] * 3] * 40, dtype=object) for _ in views],
        "huge float64 (overflows float32)": [views[0] * 1e300, views[1]],
        "tensor meta": [torch.empty(40, 3, device="meta") for _ in views],
    }


_FAST = {"hidden": (), "epochs": 1, "progress": False}
for _cls, _k in ((DCCA, 2), (DGCCA, 3)):
    _name = _cls.__name__
    for _label, _bad in _bad_np_views(_k).items():
        _add(f"{_name}.fit", f"views {_label}", lambda c=_cls, b=_bad: c(**_FAST).fit(b), "views")
    _params = {
        **_bad_ints("n_components"),
        **_bad_ints("epochs"),
        **{k: v for k, v in _bad_ints("batch_size").items() if v is not None},
        "batch_size=2": 2,
        **_bad_floats("lr"),
        **_bad_floats("reg"),
        "reg=1": 1.0,
        **_bad_floats("weight_decay"),
        "optimizer='rmsprop'": "rmsprop",
        "activation='swish'": "swish",
        "hidden=8": 8,
        "out_dim=0": 0,
        "dropout=1": 1.0,
        "device='meta'": "meta",
        "device='xla'": "xla",
        "device=3": 3,
        "random_state=-1": -1,
        "random_state=2**64": 2**64,
        "patience=0": 0,
        "progress='yes'": "yes",
        "encoders=[MLP]": [MLP(3, 2)],
        "encoders=MLP": MLP(3, 2),
        "encoders='cnn'": "cnn",
    }
    if _cls is DCCA:
        _params["objective='trace'"] = "trace"
    for _label, _bad in _params.items():
        _arg = _label.split("=")[0]
        if _arg in ("epochs", "lr", "reg", "weight_decay", "optimizer") and _bad is None:
            continue
        _add(f"{_name}.fit", _label, lambda c=_cls, a=_arg, b=_bad, k=_k: c(**{**_FAST, a: b}).fit(_np_views(k)),
             _arg if _arg != "encoders" else "encoders|one module")  # fmt: skip
    for _label, _bad in _bad_np_views(_k).items():
        if _label.startswith("huge"):
            continue  # transform is float32 inference: covered by fit

        def _thunk(c=_cls, b=_bad, k=_k):
            model = c(**_FAST).fit(_np_views(k))
            return model.transform(b)

        _add(f"{_name}.transform", f"views {_label}", _thunk, "views")
    _add(
        f"{_name}.transform", "not fitted", lambda c=_cls, k=_k: c().transform(_np_views(k)), "fit"
    )
    _add(f"{_name}.transform", "wrong width",
         lambda c=_cls, k=_k: c(**_FAST).fit(_np_views(k)).transform([v[:, :2] for v in _np_views(k)]),
         "features")  # fmt: skip


# train
def _mse(model, batch):
    return ((model(batch[0]) - batch[1]) ** 2).mean()


def _reg_data(n=30):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return [X, X @ np.ones((3, 1))]


_TRAIN_BAD = {
    "model=None": ({"model": None}, "model"),
    "model=lambda": ({"model": lambda x: x}, "model"),
    "model without parameters": ({"model": nn.ReLU()}, "parameters"),
    "loss_fn=None": ({"loss_fn": None}, "loss_fn"),
    "loss_fn returns a vector": ({"loss_fn": lambda m, b: m(b[0])}, "scalar"),
    "loss_fn returns a float": ({"loss_fn": lambda m, b: 1.0}, "loss_fn"),
    "loss_fn returns NaN": ({"loss_fn": lambda m, b: _mse(m, b) * float("nan")}, "NaN"),
    "train_views a single array": ({"train_views": _reg_data()[0]}, "train_views"),
    "train_views nan": ({"train_views": [np.full((30, 3), np.nan), _reg_data()[1]]}, "train_views"),
    "train_views one row": ({"train_views": [v[:1] for v in _reg_data()]}, "train_views|samples"),
    "train_views overflow float32": (
        {"train_views": [_reg_data()[0] * 1e300, _reg_data()[1]]},
        "float32",
    ),
    "val_views wrong width": ({"val_views": [np.zeros((5, 2)), np.zeros((5, 1))]}, "val_views"),
    "val_score NaN": (
        {"val_views": _reg_data(), "val_score": lambda m, b: float("nan")},
        "val_score",
    ),
    "val_score inf": (
        {"val_views": _reg_data(), "val_score": lambda m, b: float("inf")},
        "val_score",
    ),
    "val_score string": ({"val_views": _reg_data(), "val_score": lambda m, b: "x"}, "val_score"),
    "val_score without val_views": ({"val_score": lambda m, b: 1.0}, "val_views"),
    "patience without val_views": ({"patience": 2}, "val_views"),
    "device='meta'": ({"device": "meta"}, "device"),
    "device='mps'": ({"device": "mps"}, "device"),
    "device='xla'": ({"device": "xla"}, "device"),
    "device='cuda:99'": ({"device": "cuda:99"}, "device"),
    "optimizer=None": ({"optimizer": None}, "optimizer"),
    "optimizer='rmsprop'": ({"optimizer": "rmsprop"}, "optimizer"),
    **{k: ({k.split("=")[0]: v}, k.split("=")[0]) for k, v in _bad_ints("epochs").items()},
    **{
        k: ({k.split("=")[0]: v}, k.split("=")[0])
        for k, v in _bad_ints("batch_size").items()
        if v is not None
    },  # fmt: skip
    "batch_size=1": ({"batch_size": 1}, "batch_size"),
    **{k: ({k.split("=")[0]: v}, k.split("=")[0]) for k, v in _bad_floats("lr").items()},
    **{k: ({k.split("=")[0]: v}, k.split("=")[0]) for k, v in _bad_floats("weight_decay").items()},
    "random_state=-1": ({"random_state": -1}, "random_state"),
    "random_state=2**64": ({"random_state": 2**64}, "random_state"),
    "random_state=1.5": ({"random_state": 1.5}, "random_state"),
    "progress='yes'": ({"progress": "yes"}, "progress"),
}
for _label, (_kwargs, _arg) in _TRAIN_BAD.items():

    def _thunk(kwargs=_kwargs):
        args = {"model": nn.Linear(3, 1), "loss_fn": _mse, "train_views": _reg_data(), "epochs": 2,
                "progress": False, **kwargs}  # fmt: skip
        return train(args.pop("model"), args.pop("loss_fn"), args.pop("train_views"), **args)

    _add("train", _label, _thunk, _arg)

# resolve_device
for _label, _bad in {"'meta'": "meta", "'xla'": "xla", "'mps'": "mps", "'cuda:99'": "cuda:99",
                     "'gpu'": "gpu", "''": "", "3": 3, "1.5": 1.5, "['cpu']": ["cpu"],
                     "'cpu:0:0'": "cpu:0:0"}.items():  # fmt: skip
    _add("resolve_device", _label, lambda b=_bad: resolve_device(b), "device")


# ------------------------------------------------------------------ the test


def _finite(result) -> bool:
    if isinstance(result, torch.Tensor):
        return bool(torch.isfinite(result.detach().to(torch.float64)).all())
    if isinstance(result, np.ndarray):
        return bool(np.isfinite(result).all())
    if isinstance(result, (list, tuple)):
        return all(_finite(r) for r in result)
    if isinstance(result, float):
        return math.isfinite(result)
    return True  # modules, histories, devices: built without error


def _close(a, b) -> bool:
    if isinstance(a, (list, tuple)):
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    a = a.detach().to(torch.float64)
    b = b.detach().to(torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=2e-2, rtol=2e-2))


@pytest.mark.parametrize(("thunk", "arg", "reference"), CASES)
def test_fuzz(thunk, arg, reference, monkeypatch):
    if "cuda" not in str(arg):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    try:
        result = thunk()
    except (ValueError, TypeError, NonFiniteLossError) as err:
        assert re.search(arg, str(err), flags=re.IGNORECASE), (
            f"the message does not name {arg!r}: {type(err).__name__}: {err}"
        )
        return
    except NotImplementedError as err:  # pragma: no cover - a failure, with the cause
        pytest.fail(f"crash: {type(err).__name__}: {err}")
    assert _finite(result), f"a non-finite result: {result}"
    if reference is not None:
        # unusual but valid input: the same answer as for the plain input (up to its precision);
        # gcca_solution's G is defined up to the sign of each column and U_j up to scale
        if isinstance(result, tuple) and len(result) == 3:
            assert _close(result[2], reference()[2])
        else:
            assert _close(result, reference())


def test_catalogue_size():
    """The size reported in the closing note of issue 8 (torch side)."""
    assert len(CASES) > 500
