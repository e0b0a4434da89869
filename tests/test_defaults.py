"""Defaults are part of the API: a changed default must fail a test (issue 8, item 8).

Every chapter passes most arguments explicitly, so a changed default would otherwise go unseen.
Each public numpy-side function's defaults are pinned twice: in its signature (what the
documentation shows) and in behaviour (the default call gives bitwise the result of the call
that spells the documented values out, and a different value gives a different result).

The tables below are the pins, each value written once: defaults that several signatures share
(the training loop's, the MLP's) are named once and spliced in. ``tests/test_models.py`` and
``tests/test_training.py`` check against the same tables.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _helpers import assert_defaults_are

from mmlib import book, datasets, interpret, losses, metrics, models, nets, training
from mmlib.datasets import MultiViewDataset
from mmlib.linear import CCA, GCCA

# ------------------------------------------------------------------- shared runs of defaults

_LINEAR = {"n_components": 2, "reg": 0.0, "tol": None}
_MLP = {"hidden": (256, 256), "activation": "relu", "batch_norm": False, "dropout": 0.0}
#: training.train's loop, which DCCA and DGCCA pass their own arguments to
_TRAIN_LOOP = {
    "epochs": 100,
    "batch_size": None,
    "lr": 0.001,
    "optimizer": "adam",
    "weight_decay": 0.0,
    "patience": None,
    "device": None,
    "random_state": 0,
    "progress": None,
}
_DEEP_CCA = {
    "n_components": 2,
    "out_dim": None,
    "reg": 0.001,
    **_MLP,
    **_TRAIN_LOOP,
    "encoders": None,
}
_DEEP_CCA_MODULE = {"in_dims": None, "out_dim": None, **_MLP, "encoders": None}
#: GMC's family (GMC, FusionAE, MVAE): the modules, then the estimators' fit arguments
_CODE_MODULE = {"code_dim": 32, "hidden": (128, 64), "encoders": None, "activation": "relu"}
_FIT_30 = {
    "epochs": 30,
    "batch_size": 256,
    "lr": 0.001,
    "weight_decay": 0.0,
    "device": None,
    "random_state": 0,
    "progress": None,
}
_MMV_MODULE = {
    "space": "fac",
    "embed_dim": 16,
    "backbone_dim": 64,
    "hidden": (128,),
    "activation": "relu",
    "encoders": None,
}

# ------------------------------------------------------------------------------- the pins

DOCUMENTED = {
    CCA.__init__: _LINEAR,
    GCCA.__init__: _LINEAR,
    metrics.canonical_correlations: {"n_components": None, "reg": 0.0},
    metrics.total_correlation: {"n_components": None, "reg": 0.0},
    metrics.linear_probe: {"C": 1.0, "max_iter": 1000, "random_state": 0},
    metrics.recall_at_k: {"k": 1},
    datasets.make_latent_views: {
        "n_samples": 500,
        "n_features": (20, 30),
        "correlations": (0.9, 0.7, 0.4),
        "random_state": None,
    },
    datasets.make_noisy_digits: {
        "n_samples": None,
        "max_angle": 45.0,
        "noise": 1.0,
        "image_size": 16,
        "random_state": None,
    },
    datasets.make_nonlinear_views: {
        "n_samples": 1000,
        "latent_dim": 2,
        "noise": 0.05,
        "n_features": (10, 10),
        "random_state": None,
    },
    datasets.make_three_modalities: {
        "n_samples": 600,
        "n_classes": 3,
        "noise": 0.1,
        "position_noise": 0.1,
        "random_state": None,
    },
    MultiViewDataset.train_test_split: {"test_size": 0.25, "random_state": 0, "stratify": True},
    book.print_key_numbers: {"digits": 3},
    # the second half (issue 19): losses, metrics, networks, models, training, interpret, data
    losses.cca_correlations: {"reg": 0.001, "eps": 1e-09},
    losses.cca_loss: {
        "n_components": None,
        "reg": 0.001,
        "eps": 1e-09,
        "objective": "sum",
        "gather": None,
    },
    losses.gcca_solution: {"reg": 0.001, "eps": 1e-09},
    losses.gcca_loss: {"reg": 0.001, "eps": 1e-09, "gather": None},
    losses.nce: {"temperature": 0.1, "normalize": True, "gather": None},
    losses.mil_nce: {"temperature": 0.1, "normalize": True, "gather": None},
    losses.nt_xent: {"temperature": 0.1, "gather": None},
    losses.gmc_loss: {"temperature": 0.1, "gather": None},
    metrics.retrieval_ranks: {"query_labels": None, "gallery_labels": None},
    metrics.retrieval_scores: {"ks": (1, 5, 10), "query_labels": None, "gallery_labels": None},
    metrics.median_rank: {"query_labels": None, "gallery_labels": None},
    metrics.missing_modality_accuracy: {"C": 1.0, "max_iter": 1000},
    metrics.alignment: {"alpha": 2.0},
    metrics.uniformity: {"t": 2.0},
    metrics.dca_approx: {
        "n_neighbors": 10,
        "min_cluster_size": None,
        "consistency_threshold": 0.0,
        "quality_threshold": 0.0,
    },
    nets.MLP.__init__: _MLP,
    nets.make_encoders: _MLP,
    nets.LateFusion.__init__: {"hidden": (32,), "activation": "relu"},
    nets.LowRankFusion.__init__: {"rank": 4},
    models.DCCA.__init__: {**_DEEP_CCA, "objective": "squared"},
    models.DGCCA.__init__: _DEEP_CCA,
    models.DCCAModule.__init__: _DEEP_CCA_MODULE,
    models.DGCCAModule.__init__: _DEEP_CCA_MODULE,
    models.FusionClassifier.__init__: {
        "fusion": "tensor",
        "hidden": 32,
        "rank": 4,
        "embed_dim": None,
    },
    models.BimodalAutoencoder.__init__: {"code_dim": 16, "hidden": 64},
    models.GMCModule.__init__: {**_CODE_MODULE, "head_hidden": (64,)},
    models.FusionAEModule.__init__: _CODE_MODULE,
    models.MVAEModule.__init__: _CODE_MODULE,
    models.GMC.__init__: {
        **_CODE_MODULE,
        "head_hidden": (64,),
        "temperature": 0.1,
        "view_names": None,
        **_FIT_30,
    },
    models.FusionAE.__init__: {**_CODE_MODULE, "view_names": None, **_FIT_30},
    models.MVAE.__init__: {**_CODE_MODULE, "beta": 1.0, "view_names": None, **_FIT_30},
    models.MMVModule.__init__: _MMV_MODULE,
    models.MMV.__init__: {
        **_MMV_MODULE,
        "vt_loss": "mil_nce",
        "temperature": 0.1,
        "loss_weights": (1.0, 1.0),
        **_FIT_30,
        "batch_size": 128,
    },
    training.train: {"val_views": None, **_TRAIN_LOOP, "val_score": None},
    interpret.modality_weights: {"p": 2.0},
    interpret.ModalityWeights.__init__: {"out_features": 1, "p": 2.0},
    interpret.SequenceCNN.__init__: {"n_filters": 8, "kernel_size": 8},
    interpret.ModalityWeightedClassifier.__init__: {
        "out_features": 1,
        "p": 2.0,
        "tensor_block": None,
    },
    interpret.fit_modality_weighted: {
        "epochs": 100,
        "lr": 0.01,
        "lam": 0.001,
        "random_state": 0,
        "device": None,
    },
    interpret.modality_ablation: {"mode": "permute", "random_state": 0},
    interpret.integrated_gradients_per_modality: {"baselines": None, "target": None, "n_steps": 32},
    datasets.make_granularity_digits: {
        "n_samples": None,
        "n_captions": 4,
        "wrong_caption_rate": 0.3,
        "coarse": "both",
        "vision_noise": 0.3,
        "audio_noise": 0.5,
        "n_fillers": 2,
        "random_state": None,
    },
    datasets.make_multimodal_digits: {"n_samples": 3000, "noise": 1.0, "random_state": None},
    datasets.make_dna_modalities: {
        "n_samples": 1000,
        "length": 100,
        "probabilities": (0.8, 0.0, 0.5),
        "random_state": None,
    },
    datasets.make_multiplicative_views: {
        "n_samples": 2000,
        "n_features": 8,
        "n_modalities": 2,
        "rank": 3,
        "noise": 0.3,
        "random_state": None,
    },
}


@pytest.mark.parametrize("func", list(DOCUMENTED), ids=lambda f: f.__qualname__)
def test_signature_defaults_are_the_documented_ones(func):
    assert_defaults_are(func, DOCUMENTED[func])


def _views(seed=0, n=200):
    ds = datasets.make_latent_views(n_samples=n, n_features=(5, 4), random_state=seed)
    return ds.views


@pytest.mark.parametrize("cls", [CCA, GCCA])
def test_linear_estimator_defaults_in_behaviour(cls):
    views = _views()
    default = cls().fit(views)
    explicit = cls(n_components=2, reg=0.0, tol=None).fit(views)
    for a, b in zip(default.weights_, explicit.weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert default.weights_[0].shape[1] == 2
    # a different ridge or tolerance changes the answer, so the defaults are load-bearing
    ridge = cls(reg=0.1).fit(views)
    assert not np.allclose(ridge.weights_[0], default.weights_[0])
    assert cls().get_params() == DOCUMENTED[cls.__init__]


def test_metric_defaults_in_behaviour():
    X, Y = _views(seed=1)
    rho = metrics.canonical_correlations(X, Y)
    np.testing.assert_array_equal(
        rho, CCA(n_components=4, reg=0.0).fit([X, Y]).canonical_correlations_
    )
    assert metrics.total_correlation(X, Y) == rho.sum()
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    Z = np.eye(3)[y] * 0.4 + rng.normal(size=(300, 3))
    args = (Z[:200], y[:200], Z[200:], y[200:])
    acc = metrics.linear_probe(*args)
    assert acc == metrics.linear_probe(*args, C=1.0, max_iter=1000, random_state=0)
    assert acc != metrics.linear_probe(*args, C=1e-4)
    Q = rng.normal(size=(50, 4))
    noisy = Q + rng.normal(size=Q.shape)
    assert metrics.recall_at_k(Q, noisy) == metrics.recall_at_k(Q, noisy, k=1)
    assert metrics.recall_at_k(Q, noisy) < metrics.recall_at_k(Q, noisy, k=5)


SPELLED_OUT = {
    "make_latent_views": {
        "n_samples": 500,
        "n_features": (20, 30),
        "correlations": (0.9, 0.7, 0.4),
    },
    "make_noisy_digits": {"n_samples": None, "max_angle": 45.0, "noise": 1.0, "image_size": 16},
    "make_nonlinear_views": {"n_samples": 1000, "latent_dim": 2, "noise": 0.05, "n_features": 10},
    "make_three_modalities": {
        "n_samples": 600,
        "n_classes": 3,
        "noise": 0.1,
        "position_noise": 0.1,
    },
}


@pytest.mark.parametrize("name", sorted(SPELLED_OUT))
def test_generator_defaults_in_behaviour(name):
    make = getattr(datasets, name)
    default = make(random_state=0)
    explicit = make(random_state=0, **SPELLED_OUT[name])
    for a, b in zip(default.views, explicit.views, strict=True):
        np.testing.assert_array_equal(a, b)
    if default.y is not None:
        np.testing.assert_array_equal(default.y, explicit.y)


def test_split_defaults_in_behaviour():
    ds = datasets.make_three_modalities(n_samples=40, random_state=0)
    train, test = ds.train_test_split()
    train2, test2 = ds.train_test_split(test_size=0.25, random_state=0, stratify=True)
    assert test.n_samples == 10
    np.testing.assert_array_equal(test.views[0], test2.views[0])
    assert np.array_equal(np.bincount(test.y), np.bincount(test2.y))


def _codes(seed, n=16, d=4):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_loss_defaults_in_behaviour():
    z1, z2, z3 = _codes(0), _codes(1), _codes(2)
    bags = torch.stack([z2, z3], dim=1)
    pairs = [
        (losses.nce(z1, z2), losses.nce(z1, z2, 0.1, True), losses.nce(z1, z2, 0.5)),
        (losses.mil_nce(z1, bags), losses.mil_nce(z1, bags, 0.1, True),
         losses.mil_nce(z1, bags, 0.5)),
        (losses.nt_xent(z1, z2), losses.nt_xent(z1, z2, 0.1), losses.nt_xent(z1, z2, 0.5)),
        (losses.gmc_loss(z1, [z2, z3]), losses.gmc_loss(z1, [z2, z3], 0.1),
         losses.gmc_loss(z1, [z2, z3], 0.5)),
        (losses.cca_loss(z1, z2), losses.cca_loss(z1, z2, None, 1e-3, 1e-9, "sum"),
         losses.cca_loss(z1, z2, objective="squared")),
    ]  # fmt: skip
    for default, explicit, other in pairs:
        assert torch.equal(default, explicit)
        assert not torch.allclose(default, other)
    assert not torch.allclose(losses.nce(z1, z2), losses.nce(z1, z2, normalize=False))


def test_metric_defaults_second_half_in_behaviour():
    rng = np.random.default_rng(3)
    Q = rng.normal(size=(40, 4))
    G = Q + rng.normal(size=Q.shape)
    scores = metrics.retrieval_scores(Q, G)
    assert list(scores) == ["R@1", "R@5", "R@10", "median rank"]
    assert metrics.alignment(Q, G) == metrics.alignment(Q, G, alpha=2.0)
    assert metrics.alignment(Q, G) != metrics.alignment(Q, G, alpha=1.0)
    assert metrics.uniformity(Q) == metrics.uniformity(Q, t=2.0)
    assert metrics.uniformity(Q) != metrics.uniformity(Q, t=1.0)
    d = metrics.dca_approx(Q, G)
    assert d == metrics.dca_approx(Q, G, n_neighbors=10, min_cluster_size=5)


_FAST = {"hidden": (8,), "code_dim": 4, "epochs": 2, "progress": False}


def _mm_views():
    ds = datasets.make_latent_views(n_samples=64, n_features=(5, 4), random_state=0)
    return ds.views


@pytest.mark.parametrize(
    ("cls", "spelled", "other"),
    [
        (models.GMC, {"temperature": 0.1, "head_hidden": (64,)}, {"temperature": 0.5}),
        (models.FusionAE, {"lr": 1e-3, "batch_size": 256}, {"lr": 1e-2}),
        (models.MVAE, {"beta": 1.0, "lr": 1e-3}, {"beta": 0.5}),
    ],
    ids=["GMC", "FusionAE", "MVAE"],
)
def test_missing_modality_estimator_defaults_in_behaviour(cls, spelled, other):
    """GMC's tau = 0.1 (issue 19's surviving regression), FusionAE's lr, MVAE's beta."""
    views = _mm_views()
    default = cls(**_FAST).fit_transform(views)
    explicit = cls(**_FAST, **spelled).fit_transform(views)
    np.testing.assert_array_equal(default, explicit)
    assert not np.allclose(default, cls(**_FAST, **other).fit_transform(views))
    params = cls().get_params()
    assert params == DOCUMENTED[cls.__init__]


def test_mmv_defaults_in_behaviour():
    ds = datasets.make_granularity_digits(n_samples=64, random_state=0)
    fast = {"hidden": (), "backbone_dim": 4, "embed_dim": 4, "epochs": 1, "progress": False}
    default = models.MMV(**fast).fit(ds.views).transform(ds.views[:2] + [None])
    explicit = (
        models.MMV(**fast, space="fac", temperature=0.1, vt_loss="mil_nce", loss_weights=(1.0, 1.0))
        .fit(ds.views)
        .transform(ds.views[:2] + [None])
    )
    np.testing.assert_array_equal(default["va"]["vision"], explicit["va"]["vision"])
    other = models.MMV(**fast, temperature=0.5).fit(ds.views).transform(ds.views[:2] + [None])
    assert not np.allclose(default["va"]["vision"], other["va"]["vision"])
    assert models.MMV().get_params() == DOCUMENTED[models.MMV.__init__]


def test_fusion_module_defaults_in_behaviour():
    torch.manual_seed(0)
    default = models.FusionClassifier([3, 2], 2)
    assert isinstance(default.fusion, nets.TensorFusion)
    assert models.FusionClassifier([3, 2], 2, fusion="lowrank").fusion.rank == 4
    assert nets.LowRankFusion([3, 2], 2).rank == 4
    assert [m.out_features for m in nets.LateFusion([3, 2], 2).predictors[0].layers
            if isinstance(m, torch.nn.Linear)] == [32, 2]  # fmt: skip
    ae = models.BimodalAutoencoder([3, 2])
    assert ae.joint[0].out_features == 16 and ae.encoders[0][0].out_features == 64
    gmc = models.GMCModule([3, 2])
    assert gmc.head(torch.zeros(2, 64)).shape == (2, 32)
    assert interpret.SequenceCNN().conv.kernel_size == (8,)
    assert interpret.SequenceCNN().n_filters == 8
    assert torch.allclose(interpret.ModalityWeights([2, 3]).beta, torch.full((2,), 2**-0.5))
