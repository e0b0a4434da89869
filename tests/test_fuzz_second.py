"""The fuzz catalogue of the second half of mmlib (issue 19): contrastive losses, retrieval,
alignment and DCA metrics, fusion layers and models, GMC and its baselines, MMV,
:mod:`mmlib.interpret`, and the helpers they use.

Two parts, each in the style of its first-half sibling:

* numpy-side metrics as :class:`fuzz_catalogue.Target` s (``tests/test_fuzz.py``): every probe of
  the argument's kind, with ``invariant=True`` where the result is scale-free, so codes x1e170
  and x1e-300 must give the same answer as the plain ones;
* torch-side functions, modules and estimators as thunks (``tests/test_fuzz_torch.py``): a
  ``ValueError``/``TypeError`` naming the argument, or a finite result equal to the reference
  (rescaled codes: the same loss).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from _helpers import FUSION_LAYERS
from fuzz_catalogue import KINDS, Target, cases, check
from test_fuzz_torch import (
    _bad_floats,
    _bad_ints,
    _bad_np_views,
    _bad_tensors,
    _close,
    _finite,
    _good,
    _np_views,
    _unusual_tensors,
)
from torch import nn

from mmlib import metrics
from mmlib.book import Within
from mmlib.datasets.granularity import decode_captions
from mmlib.interpret import (
    ModalityWeightedClassifier,
    ModalityWeights,
    SequenceCNN,
    fit_modality_weighted,
    integrated_gradients_per_modality,
    modality_ablation,
)
from mmlib.losses import gmc_loss, mil_nce, nce, nt_xent
from mmlib.models import (
    GMC,
    MMV,
    MVAE,
    BimodalAutoencoder,
    FusionAE,
    FusionAEModule,
    FusionClassifier,
    GMCModule,
    MVAEModule,
)
from mmlib.nets import MLP, LowRankFusion
from mmlib.plotting import embedding_scatter
from mmlib.training import NonFiniteLossError, smallest_batch, train

# ============================================================ part 1: numpy-side metrics

_rng = np.random.default_rng(1)
Q0 = _rng.normal(size=(24, 4))
G0 = Q0 + 0.5 * _rng.normal(size=(24, 4))
R0 = _rng.normal(size=(40, 3))
E0 = R0 + 0.2 * _rng.normal(size=(40, 3))
Y0 = np.arange(40) % 2


def _scores(d):
    return [d[k] for k in sorted(d)]


T = Target
TARGETS = [
    T("retrieval_ranks", r"query", "array", lambda v: metrics.retrieval_ranks(v, G0), Q0,
      invariant=True),
    T("retrieval_ranks", r"gallery", "array", lambda v: metrics.retrieval_ranks(Q0, v), G0,
      invariant=True),
    T("retrieval_scores", r"query", "array",
      lambda v: metrics.retrieval_scores(v, G0, ks=(1, 5)), Q0, _scores, invariant=True),
    T("retrieval_scores", r"gallery", "array",
      lambda v: metrics.retrieval_scores(Q0, v, ks=(1, 5)), G0, _scores, invariant=True),
    T("median_rank", r"query", "array", lambda v: metrics.median_rank(v, G0), Q0,
      invariant=True),
    T("median_rank", r"gallery", "array", lambda v: metrics.median_rank(Q0, v), G0,
      invariant=True),
    T("alignment", r"Z1", "array", lambda v: metrics.alignment(v, G0), Q0, invariant=True),
    T("alignment", r"Z2", "array", lambda v: metrics.alignment(Q0, v), G0, invariant=True),
    T("alignment", r"alpha", "positive_float", lambda v: metrics.alignment(Q0, G0, alpha=v),
      2.0),
    T("uniformity", r"\bZ\b", "array", lambda v: metrics.uniformity(v), Q0, invariant=True,
      paired=False),
    T("uniformity", r"\bt\b", "positive_float", lambda v: metrics.uniformity(Q0, t=v), 2.0),
    T("dca_approx", r"\bR\b", "array", lambda v: metrics.dca_approx(v, E0), R0, _scores,
      paired=False),
    T("dca_approx", r"\bE\b", "array", lambda v: metrics.dca_approx(R0, v), E0, _scores,
      paired=False),
    T("dca_approx", r"n_neighbors", "count", lambda v: metrics.dca_approx(R0, E0, n_neighbors=v),
      5, _scores),
    T("missing_modality_accuracy", r"Z_train", "array",
      lambda v: metrics.missing_modality_accuracy(v, Y0, {"a": E0}, Y0), R0, _scores),
    T("missing_modality_accuracy", r"Z_test", "array",
      lambda v: metrics.missing_modality_accuracy(R0, Y0, {"a": v}, Y0), E0, _scores),
    T("missing_modality_accuracy", r"y_train", "labels",
      lambda v: metrics.missing_modality_accuracy(R0, v, {"a": E0}, Y0), Y0, _scores),
    T("missing_modality_accuracy", r"y_test", "labels",
      lambda v: metrics.missing_modality_accuracy(R0, Y0, {"a": E0}, v), Y0, _scores),
]  # fmt: skip

CASES = cases(TARGETS, KINDS)


@pytest.mark.parametrize(("target", "probe"), CASES)
def test_fuzz_metrics(target, probe):
    check(target, probe)


@pytest.mark.parametrize("scale", [1e300, 1e-300, 2.0**-1000, 1e-170])
def test_scale_free_metrics_at_extreme_scales(scale):
    """Issue 19: the scale-free metrics give the x1 answer for codes x1e300 and x1e-300."""
    want = (
        metrics.retrieval_ranks(Q0, G0).tolist(),
        metrics.alignment(Q0, G0),
        metrics.uniformity(Q0),
    )
    got = (
        metrics.retrieval_ranks(Q0 * scale, G0 * scale).tolist(),
        metrics.alignment(Q0 * scale, G0 * scale),
        metrics.uniformity(Q0 * scale),
    )
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1:], want[1:], rtol=1e-12)


# ============================================================ part 2: torch side

N, D = 24, 3
CASES2: list = []


def _add(fn_name, label, thunk, arg, reference=None):
    CASES2.append(pytest.param(thunk, arg, reference, id=f"{fn_name}[{label}]"))


# ---------------------------------------------------------------- the contrastive losses


def _two_code_cases(fn_name, fn, slots, regex):
    for slot in slots:
        for label, bad in _bad_tensors().items():

            def thunk(bad=bad, slot=slot):
                args = {slots[0]: _good(), slots[1]: _good(seed=1), slot: bad}
                return fn(*args.values())

            _add(fn_name, f"{slot} {label}", thunk, regex)
        for label, (value, _) in _unusual_tensors(seed=int(slot == slots[1])).items():

            def thunk(value=value, slot=slot):
                args = {slots[0]: _good(), slots[1]: _good(seed=1), slot: value}
                return fn(*args.values())

            _add(fn_name, f"{slot} {label}", thunk, regex, lambda: fn(_good(), _good(seed=1)))
    for label, bad in _bad_floats("temperature").items():
        _add(fn_name, label, lambda b=bad: fn(_good(), _good(seed=1), b), "temperature")


_two_code_cases("nce", nce, ("z1", "z2"), r"z1|z2|batch|shape")
_two_code_cases("mil_nce", mil_nce, ("z", "bags"), r"\bz\b|bags|batch")
_two_code_cases("nt_xent", nt_xent, ("z_a", "z_b"), r"codes|batch|shape")
_two_code_cases(
    "gmc_loss", lambda j, c, *t: gmc_loss(j, [c], *t), ("joint", "code"), r"codes|batch|width"
)
for _label, _bad in {"None": None, "a tensor": _good(), "[]": [], "'ab'": "ab"}.items():
    _add("gmc_loss", f"modality_codes {_label}", lambda b=_bad: gmc_loss(_good(), b),
         "modality_codes")  # fmt: skip
for _scale in (1e300, 1e-300, 1e-170):
    for _name, _fn in (("nce", nce), ("mil_nce", mil_nce), ("nt_xent", nt_xent)):
        _add(_name, f"both x{_scale:g}", lambda f=_fn, s=_scale: f(_good() * s, _good(seed=1) * s),
             "-", lambda f=_fn: f(_good(), _good(seed=1)))  # fmt: skip
    _add("gmc_loss", f"all x{_scale:g}",
         lambda s=_scale: gmc_loss(_good() * s, [_good(seed=1) * s, _good(seed=2) * s]), "-",
         lambda: gmc_loss(_good(), [_good(seed=1), _good(seed=2)]))  # fmt: skip
_add("nce", "mixed float32/float64", lambda: nce(_good().float(), _good(seed=1)), "-",
     lambda: nce(_good(), _good(seed=1)))  # fmt: skip
_add("mil_nce", "mixed float64/float32", lambda: mil_nce(_good(), _good(seed=1).float()), "-",
     lambda: mil_nce(_good(), _good(seed=1)))  # fmt: skip


# ---------------------------------------------------------------- fusion layers and models

_FUSIONS = {
    **{cls.__name__: lambda cls=cls: cls([D, 2], 2) for cls in FUSION_LAYERS},
    "LowRankFusion": lambda: LowRankFusion([D, 2], 2, rank=2),  # rank <= the narrower width
    "FusionClassifier": lambda: FusionClassifier([D, 2], 2, fusion="lowrank", rank=2),
    "FusionClassifier(embed)": lambda: FusionClassifier([D, 2], 2, fusion="tensor", embed_dim=2),
    "BimodalAutoencoder": lambda: BimodalAutoencoder([D, 2], code_dim=2, hidden=4),
}


def _xs():
    return [_good().float(), _good(d=2, seed=1).float()]


def _xs_with(slot, value):
    """``_xs()`` with modality ``slot`` replaced by ``value``."""
    xs = _xs()
    xs[slot] = value
    return xs


def _add_bad_modalities(fn_name, arg, call, names, dtypes):
    """Cases for both modalities of ``call(xs)``, a float32 pair of widths ``(D, 2)``: every bad
    tensor (the error names ``names``), then each wrong float dtype of ``dtypes``."""
    for slot in (0, 1):
        for label, bad in _bad_tensors(d=D if slot == 0 else 2, dtype=torch.float32).items():
            if label == "one row" and slot == 1:
                continue
            _add(
                fn_name, f"{arg}[{slot}] {label}", lambda s=slot, b=bad: call(_xs_with(s, b)), names
            )
        for dtype in dtypes:
            _add(
                fn_name,
                f"{arg}[{slot}] {dtype}",
                lambda s=slot, t=dtype: call(_xs_with(s, _xs()[s].to(getattr(torch, t)))),
                "dtype",
            )


for _name, _make in _FUSIONS.items():
    _add_bad_modalities(
        f"{_name}.forward", "xs", lambda xs, make=_make: make()(xs), r"xs|batch",
        ("float64", "bfloat16"),
    )  # fmt: skip
    _add(f"{_name}.forward", "xs a tensor", lambda make=_make: make()(_good().float()), "xs")
    _add(f"{_name}.forward", "xs three", lambda make=_make: make()([*_xs(), _xs()[0]]), "xs|pair")
    _add(f"{_name}.forward", "xs all meta",
         lambda make=_make: make()([torch.empty(N, D, device="meta"),
                                    torch.empty(N, 2, device="meta")]), "meta")  # fmt: skip

for _cls in FUSION_LAYERS:
    for _label, _bad in {"[]": [], "3": 3, "[0, 3]": [0, 3], "'ab'": "ab", "[2.5, 3]": [2.5, 3],
                         "None": None}.items():  # fmt: skip
        _add(_cls.__name__, f"in_dims={_label}", lambda c=_cls, b=_bad: c(b, 2), "in_dims")
    for _label, _bad in _bad_ints("out_dim").items():
        _add(_cls.__name__, _label, lambda c=_cls, b=_bad: c([3, 2], b), "out_dim")
for _label, _bad in _bad_ints("rank").items():
    _add("LowRankFusion", _label, lambda b=_bad: LowRankFusion([3, 2], 2, rank=b), "rank")
for _label, _bad in {"hidden=(8,)": (8,), "hidden=0": 0, "fusion='x'": "x", "fusion=None": None,
                     "embed_dim=0": 0, "n_outputs=0": 0, "in_dims=[3]": [3]}.items():  # fmt: skip
    _arg = _label.split("=")[0]
    _add("FusionClassifier", _label,
         lambda a=_arg, b=_bad: FusionClassifier(**{"in_dims": [3, 2], "n_outputs": 2, a: b}),
         _arg)  # fmt: skip
for _label, _bad in {"(True,)": (True,), "(1, 0)": (1, 0), "'ab'": "ab",
                     "(False, False)": (False, False)}.items():  # fmt: skip
    _add("BimodalAutoencoder.forward", f"present={_label}",
         lambda b=_bad: BimodalAutoencoder([D, 2])(_xs(), present=b), "present")  # fmt: skip
_add("BimodalAutoencoder", "in_dims=[3, 2, 2]", lambda: BimodalAutoencoder([3, 2, 2]), "in_dims")


# ---------------------------------------------------------------- GMC family: modules

_MODULES = {
    "GMCModule": lambda: GMCModule([D, 2], code_dim=2, hidden=(4,), head_hidden=()),
    "FusionAEModule": lambda: FusionAEModule([D, 2], code_dim=2, hidden=(4,)),
    "MVAEModule": lambda: MVAEModule([D, 2], code_dim=2, hidden=(4,)),
}
for _name, _make in _MODULES.items():
    _cls = type(_make())
    for _label, _bad in {"[]": [], "[3]": [3], "3": 3, "'ab'": "ab", "[0, 3]": [0, 3],
                         "None": None}.items():  # fmt: skip
        _add(_name, f"in_dims={_label}", lambda c=_cls, b=_bad: c(b), "in_dims")
    for _label, _bad in {"hidden=8": 8, "hidden=(0,)": (0,), "hidden='8'": "8"}.items():
        _add(_name, _label, lambda c=_cls, b=_bad: c([3, 2], hidden=b), "hidden")
    for _label, _bad in {"encoders=[MLP, 3]": [MLP(3, 2), 3], "encoders=MLP": MLP(3, 2),
                         "encoders=[MLP]": [MLP(3, 2)], "encoders='cnn'": "cnn",
                         "encoders=[MLP(4, 2), MLP(2, 2)]": [MLP(4, 2), MLP(2, 2)]}.items():  # fmt: skip
        _add(_name, _label, lambda c=_cls, b=_bad: c([3, 2], encoders=b), "encoders")
    _add(_name, "code_dim=0", lambda c=_cls: c([3, 2], code_dim=0), "code_dim")
    _add_bad_modalities(
        f"{_name}.encode", "views", lambda xs, make=_make: make().encode(xs, [0, 1]),
        r"views|rows", ("float64",),
    )  # fmt: skip
    _add(f"{_name}.encode", "one view of two", lambda make=_make: make().encode(_xs()[:1], [0]),
         "modalities|views")  # fmt: skip
    _add(f"{_name}.encode", "present=[2]", lambda make=_make: make().encode(_xs(), [2]),
         "present")  # fmt: skip
    _add(f"{_name}.encode", "a tensor", lambda make=_make: make().encode(_xs()[0], [0]), "views")
    _add(f"{_name}.encode", "finite", lambda make=_make: make().encode(_xs(), [0]), "-")
for _label, _bad in {"views[1] wider": [_good().float(), _good().float()],
                     "views[0] nan": [_good().float() * math.nan, _good(d=2).float()],
                     "three views": [*_xs(), _xs()[1]]}.items():  # fmt: skip
    _add("GMCModule.forward", _label, lambda b=_bad: _MODULES["GMCModule"]()(*b),
         r"views|modalities")  # fmt: skip
    _add("FusionAEModule.forward", _label, lambda b=_bad: _MODULES["FusionAEModule"]()(*b),
         r"views|modalities")  # fmt: skip
    _add("GMCModule.joint_code", _label, lambda b=_bad: _MODULES["GMCModule"]().joint_code(b),
         r"views|modalities")  # fmt: skip
    _add(
        "MVAEModule.elbo_terms",
        _label,
        lambda b=_bad: _MODULES["MVAEModule"]().elbo_terms(b, [0]),
        r"views|modalities",
    )
for _label, _bad in {"m=2": 2, "m=-1": -1, "m=1.5": 1.5, "m=True": True, "m='0'": "0"}.items():
    _add(
        "GMCModule.modality_code",
        _label,
        lambda b=_bad: _MODULES["GMCModule"]().modality_code(b, _xs()[0]),
        r"\bm\b",
    )
_add(
    "GMCModule.modality_code",
    "x nan",
    lambda: _MODULES["GMCModule"]().modality_code(0, _good().float() * math.nan),
    "views",
)
_add(
    "GMCModule.modality_code",
    "x of modality 1 as modality 0",
    lambda: _MODULES["GMCModule"]().modality_code(0, _xs()[1]),
    "views|features",
)


# ---------------------------------------------------------------- GMC family: estimators

_FAST = {"hidden": (4,), "code_dim": 2, "epochs": 1, "progress": False, "batch_size": None}


def _gmc_views():
    return _np_views(2)


for _cls in (GMC, FusionAE, MVAE):
    _name = _cls.__name__
    for _label, _bad in _bad_np_views(2).items():
        if _label.startswith("huge"):
            continue  # a valid view: checked against the reference below
        _add(f"{_name}.fit", f"views {_label}", lambda c=_cls, b=_bad: c(**_FAST).fit(b), "views")
    _params = {
        **_bad_ints("code_dim"),
        **_bad_ints("epochs"),
        **{k: v for k, v in _bad_ints("batch_size").items() if v not in (None, 10**30)},
        **{k: v for k, v in _bad_floats("lr").items() if v is not None},
        **{k: v for k, v in _bad_floats("weight_decay").items() if v is not None},
        "hidden=8": 8,
        "hidden=()": (),
        "activation='swish'": "swish",
        "random_state=-1": -1,
        "random_state=2**70": 2**70,
        "random_state=1.5": 1.5,
        "encoders=[MLP, 3]": [MLP(3, 2), 3],
        "encoders=MLP": MLP(3, 2),
        "encoders='cnn'": "cnn",
        "view_names=['a']": ["a"],
        "device='xla'": "xla",
        "progress='yes'": "yes",
    }
    if _cls is GMC:
        _params.update(_bad_floats("temperature"))
        _params["head_hidden=8"] = 8
    if _cls is MVAE:
        _params.update(_bad_floats("beta"))
    for _label, _bad in _params.items():
        _arg = _label.split("=")[0]
        _add(
            f"{_name}.fit",
            _label,
            lambda c=_cls, a=_arg, b=_bad: c(**{**_FAST, a: b}).fit(_gmc_views()),
            _arg,
        )

    def _scaled(c=_cls, s=1.0):
        views = _gmc_views()
        return torch.as_tensor(
            c(**_FAST).fit([views[0] * s, views[1]]).transform([views[0] * s, views[1]])
        )

    for _s in (1e300, 1e-300):
        _add(
            f"{_name}.fit",
            f"views[0] x{_s:g} (standardised, not erased)",
            lambda c=_cls, s=_s: _scaled(c, s),
            "-",
            lambda c=_cls: _scaled(c),
        )
    _add(f"{_name}.transform", "views[0] far outside the training range",
         lambda c=_cls: c(**_FAST).fit(_gmc_views()).transform(
             [_gmc_views()[0] * 1e300, _gmc_views()[1]]), "views")  # fmt: skip
    _add(f"{_name}.transform", "present=[5]",
         lambda c=_cls: c(**_FAST).fit(_gmc_views()).transform(_gmc_views(), present=[5]),
         "present")  # fmt: skip


# ---------------------------------------------------------------- MMV


def _mmv_views(n=24):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(n, 3)), rng.normal(size=(n, 2)), rng.normal(size=(n, 2, 2))]


_MMV_FAST = {"hidden": (), "backbone_dim": 2, "embed_dim": 2, "epochs": 1, "progress": False}
for _label, _bad in {"random_state=2**70": 2**70, "hidden=8": 8, "space='x'": "x",
                     "encoders=[MLP, MLP, 3]": [MLP(3, 2), MLP(2, 2), 3]}.items():  # fmt: skip
    _arg = _label.split("=")[0]
    _add("MMV.fit", _label, lambda a=_arg, b=_bad: MMV(**{**_MMV_FAST, a: b}).fit(_mmv_views()),
         _arg)  # fmt: skip
_add("MMV.fit", "float64 encoders",
     lambda: MMV(**{**_MMV_FAST, "encoders": [MLP(3, 2).double(), MLP(2, 2).double(),
                                               MLP(2, 2).double()]}).fit(_mmv_views())
     .transform(_mmv_views()[:2] + [None])["va"]["vision"], "-")  # fmt: skip
_add("MMV.fit", "mixed-dtype encoders",
     lambda: MMV(**{**_MMV_FAST, "encoders": [MLP(3, 2).double(), MLP(2, 2), MLP(2, 2)]})
     .fit(_mmv_views()), "encoders")  # fmt: skip


# ---------------------------------------------------------------- interpret


def _ig(*args, **kwargs):
    pytest.importorskip("captum")  # an optional dependency (mmlib[interpret])
    return integrated_gradients_per_modality(*args, **kwargs)


def _mwc():
    torch.manual_seed(0)
    return ModalityWeightedClassifier([MLP(3, 2, ()), MLP(2, 2, ())], [2, 2])


def _iviews():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(N, 3)), rng.normal(size=(N, 2))]


for _label, _bad in _bad_tensors(dtype=torch.float32).items():
    if _label in ("one row", "fewer rows", "numpy", "list"):
        continue
    _add(
        "ModalityWeights.forward",
        f"features[0] {_label}",
        lambda b=_bad: ModalityWeights([3, 2])([b, _good(d=2).float()]),
        r"features",
    )
    _add(
        "ModalityWeightedClassifier.forward",
        f"views[0] {_label}",
        lambda b=_bad: _mwc()(b, _good(d=2).float()),
        r"views|\bx\b",
    )
_add(
    "ModalityWeights.forward",
    "features[0] float64",
    lambda: ModalityWeights([3, 2])([_good(), _good(d=2).float()]),
    "dtype",
)
_add(
    "ModalityWeightedClassifier.forward",
    "views[0] float64",
    lambda: _mwc()(_good(), _good(d=2).float()),
    "dtype",
)
for _label, _bad in {"nan": torch.full((4, 40), math.nan), "inf": torch.full((4, 40), math.inf),
                     "float64": torch.zeros(4, 40, dtype=torch.float64),
                     "int64": torch.zeros(4, 40, dtype=torch.long),
                     "meta": torch.empty(4, 40, device="meta"), "numpy": np.zeros((4, 40)),
                     "3 columns": torch.zeros(4, 3)}.items():  # fmt: skip
    _add("SequenceCNN.forward", f"x {_label}", lambda b=_bad: SequenceCNN()(b), r"\bx\b")
_add(
    "modality_ablation",
    "y strings",
    lambda: modality_ablation(_mwc(), _iviews(), np.array(["a", "b"] * 12)),
    r"\by\b",
)
for _label, _bad in {"2**70": 2**70, "-1": -1, "1.5": 1.5, "'0'": "0"}.items():
    _add("fit_modality_weighted", f"random_state={_label}",
         lambda b=_bad: fit_modality_weighted(_mwc(), _iviews(), np.zeros(N), epochs=1,
                                              random_state=b), "random_state")  # fmt: skip
_add("fit_modality_weighted", "y strings",
     lambda: fit_modality_weighted(_mwc(), _iviews(), np.array(["a", "b"] * 12), epochs=1),
     r"\by\b")  # fmt: skip
_add("modality_ablation", "y -1", lambda: modality_ablation(_mwc(), _iviews(), -np.ones(N)),
     r"\by\b")  # fmt: skip
_add("modality_ablation", "views nan",
     lambda: modality_ablation(_mwc(), [np.full((N, 3), np.nan), _iviews()[1]], np.zeros(N)),
     "views")  # fmt: skip
for _label, _bad in {"target=5": 5, "target=-1": -1, "target='a'": "a", "target=1.5": 1.5,
                     "target=True": True}.items():  # fmt: skip
    _add("integrated_gradients_per_modality", _label,
         lambda b=_bad: _ig(_mwc(), _iviews(), target=b),
         "target")  # fmt: skip
for _label, _bad in {"nan": [np.full(3, np.nan), np.zeros(2)],
                     "inf": [np.zeros(3), np.full(2, np.inf)],
                     "None": [None, np.zeros(2)], "str": ["abc", np.zeros(2)],
                     "meta": [torch.empty(3, device="meta"), np.zeros(2)],
                     "3-D": [np.zeros((1, 1, 3)), np.zeros(2)]}.items():  # fmt: skip
    _add("integrated_gradients_per_modality", f"baselines {_label}",
         lambda b=_bad: _ig(_mwc(), _iviews(), baselines=b),
         "baselines")  # fmt: skip


# ---------------------------------------------------------------- training and helpers


def _mse(model, batch):
    return ((model(batch[0]) - batch[1]) ** 2).mean()


def _reg_data(n=30, d=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    return [X, X[:, :1]]


for _label, (_kwargs, _arg) in {
    "loss without gradient": ({"loss_fn": lambda m, b: torch.tensor(1.0)}, "gradient"),
    "loss of one argument": ({"loss_fn": lambda m: _mse(m, None)}, "loss_fn"),
    "loss of three arguments": ({"loss_fn": lambda m, b, c: _mse(m, b)}, "loss_fn"),
    "views wider than the model": ({"train_views": _reg_data(d=5)}, "train_views"),
    "loss detached": ({"loss_fn": lambda m, b: _mse(m, b).detach()}, "gradient"),
}.items():

    def _thunk(kwargs=_kwargs):
        args = {"model": nn.Linear(3, 1), "loss_fn": _mse, "train_views": _reg_data(),
                "epochs": 1, "progress": False, **kwargs}  # fmt: skip
        return train(args.pop("model"), args.pop("loss_fn"), args.pop("train_views"), **args)

    _add("train", _label, _thunk, _arg)
for _label, (_args, _arg) in {
    "n=-1": ((-1, None), r"\bn\b"), "n=1": ((1, None), r"\bn\b"), "n=2.5": ((2.5, 4), r"\bn\b"),
    "n=None": ((None, 4), r"\bn\b"), "batch_size=0": ((10, 0), "batch_size"),
    "batch_size=1": ((10, 1), "batch_size"), "batch_size=-3": ((10, -3), "batch_size"),
    "batch_size=2.5": ((10, 2.5), "batch_size"), "batch_size='4'": ((10, "4"), "batch_size"),
}.items():  # fmt: skip
    _add("smallest_batch", _label, lambda a=_args: smallest_batch(*a), _arg)
_add(
    "dca_approx",
    "min_cluster_size > n",
    lambda: metrics.dca_approx(R0, E0, min_cluster_size=81),
    "min_cluster_size",
)
_add(
    "dca_approx",
    "codes x1e300 (bounded memory)",
    lambda: metrics.dca_approx(R0 * 1e300, E0 * 1e300)["score"],
    "-",
)
_add("embedding_scatter", "labels=None", lambda: embedding_scatter(Q0, labels=None), "labels")
_add("embedding_scatter", "labels=('a',)", lambda: embedding_scatter(Q0, labels=("a",)), "labels")
_add("Within", "no ends", lambda: Within(0.5, None, None), "low, high")
for _label, _bad in {"None": None, "3": 3, "[1, 2]": [1, 2], "'ab'": "ab"}.items():
    _add(
        "decode_captions",
        f"vocabulary={_label}",
        lambda b=_bad: decode_captions(np.ones((2, 2)), b),
        "vocabulary",
    )


@pytest.mark.parametrize(("thunk", "arg", "reference"), CASES2)
def test_fuzz_torch_second_half(thunk, arg, reference, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    try:
        result = thunk()
    except (ValueError, TypeError, NonFiniteLossError) as err:
        assert arg != "-", f"should work, raised {type(err).__name__}: {err}"
        assert re.search(arg, str(err), flags=re.IGNORECASE), (
            f"the message does not name {arg!r}: {type(err).__name__}: {err}"
        )
        return
    assert arg == "-" or reference is not None, f"should raise (naming {arg!r}), returned"
    assert _finite(result), f"a non-finite result: {result}"
    if reference is not None:
        assert _close(result, reference())


def test_catalogue_size():
    """Issue 19: the second half's catalogue."""
    assert len(CASES) >= 350, len(CASES)
    assert len(CASES2) >= 900, len(CASES2)
