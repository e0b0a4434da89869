"""GMC: the multimodal digits, gmc_loss, the GMC model and baselines, and the alignment metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _helpers import conv_encoder
from torch import nn

from mmlib.datasets import available_datasets, make_multimodal_digits
from mmlib.losses import gmc_loss, nt_xent
from mmlib.metrics import (
    alignment,
    dca_approx,
    linear_probe,
    missing_modality_accuracy,
    uniformity,
)
from mmlib.models import GMC, MVAE, FusionAE, GMCModule

# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def test_multimodal_digits_shapes_and_determinism():
    ds = make_multimodal_digits(n_samples=200, random_state=3)
    assert ds.view_names == ["image", "sound", "trajectory"]
    assert ds.n_features == [64, 64, 64] and ds.n_samples == 200
    again = make_multimodal_digits(n_samples=200, random_state=3)
    for a, b in zip(ds.views, again.views, strict=True):
        np.testing.assert_array_equal(a, b)
    assert "make_multimodal_digits" in available_datasets()


def test_multimodal_digits_trajectory_is_another_sample_of_the_same_class():
    from sklearn.datasets import load_digits

    ds = make_multimodal_digits(n_samples=500, random_state=0)
    target = load_digits().target
    assert np.all(ds.extras["index"] != ds.extras["trajectory_index"])
    np.testing.assert_array_equal(target[ds.extras["trajectory_index"]], ds.y)
    np.testing.assert_array_equal(target[ds.extras["index"]], ds.y)


def test_multimodal_digits_noise_zero_is_clean():
    ds = make_multimodal_digits(n_samples=50, noise=0.0, random_state=0)
    from sklearn.datasets import load_digits

    images = load_digits().images.reshape(-1, 64) / 16
    np.testing.assert_allclose(ds.views[0], images[ds.extras["index"]])


def test_multimodal_digits_documented_linear_probe_accuracies():
    # docstring: image ~0.81, trajectory ~0.67, sound ~0.57 (sd ~0.015 over seeds)
    ds = make_multimodal_digits(n_samples=3000, random_state=0)
    train, test = ds.train_test_split(0.25, random_state=0)
    acc = [linear_probe(train.views[j], train.y, test.views[j], test.y) for j in range(3)]
    assert acc[0] == pytest.approx(0.81, abs=0.05)
    assert acc[1] == pytest.approx(0.57, abs=0.05)
    assert acc[2] == pytest.approx(0.67, abs=0.05)
    # three different noise levels: image > trajectory > sound
    assert acc[0] > acc[2] > acc[1] > 0.3


@pytest.mark.parametrize(
    "kwargs, err",
    [
        ({"n_samples": 5}, ValueError),
        ({"n_samples": 2.5}, TypeError),
        ({"noise": -1.0}, ValueError),
        ({"noise": "a"}, TypeError),
    ],
)
def test_multimodal_digits_bad_input(kwargs, err):
    with pytest.raises(err):
        make_multimodal_digits(**kwargs)


# --------------------------------------------------------------------------------------------
# the loss
# --------------------------------------------------------------------------------------------


def _loop_gmc(joint, codes, tau):
    """A direct per-sample loop over the 2B rows, for each modality."""
    total = 0.0
    b = joint.shape[0]
    for z_m in codes:
        u = [v / np.linalg.norm(v) for v in np.vstack([joint, z_m])]
        loss_m = 0.0
        for i in range(2 * b):
            partner = i + b if i < b else i - b
            denom = sum(math.exp(u[i] @ u[j] / tau) for j in range(2 * b) if j != i)
            loss_m += -math.log(math.exp(u[i] @ u[partner] / tau) / denom)
        total += loss_m / (2 * b)
    return total


def _codes(b=6, e=4, m=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    joint = torch.randn(b, e, generator=g, dtype=dtype)
    return joint, [torch.randn(b, e, generator=g, dtype=dtype) for _ in range(m)]


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
def test_gmc_loss_matches_per_sample_loop(tau):
    joint, codes = _codes()
    got = float(gmc_loss(joint, codes, temperature=tau))
    want = _loop_gmc(joint.numpy(), [c.numpy() for c in codes], tau)
    assert got == pytest.approx(want, rel=1e-10)


def test_nt_xent_is_gmc_loss_of_one_modality():
    joint, codes = _codes(m=1)
    assert float(nt_xent(joint, codes[0], 0.3)) == pytest.approx(
        float(gmc_loss(joint, codes, 0.3)), rel=1e-12
    )


def test_gmc_loss_gradcheck():
    joint, codes = _codes(b=4, e=3, m=2)
    inputs = [t.clone().requires_grad_(True) for t in (joint, *codes)]
    assert torch.autograd.gradcheck(
        lambda j, *c: gmc_loss(j, list(c), temperature=0.2), inputs, eps=1e-6, atol=1e-6
    )


def test_gmc_loss_invariances():
    joint, codes = _codes(b=8)
    base = float(gmc_loss(joint, codes))
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(1))
    assert float(gmc_loss(joint[perm], [c[perm] for c in codes])) == pytest.approx(base, rel=1e-12)
    scales = torch.linspace(0.1, 10, 8, dtype=torch.float64)[:, None]
    scaled = gmc_loss(joint * scales, [c * 3.7 for c in codes])
    assert float(scaled) == pytest.approx(base, rel=1e-12)


def test_gmc_loss_is_small_when_aligned_and_separated():
    e = torch.eye(6, dtype=torch.float64)  # six orthogonal codes, every modality equal to joint
    aligned = float(gmc_loss(e, [e.clone(), e.clone()], temperature=0.1))
    random = float(gmc_loss(*_codes(b=6, e=6, m=2), temperature=0.1))
    assert aligned < 1e-3 < random


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda j, c: gmc_loss(j, [c[0][:5]]), ValueError, "same number of samples"),
        (lambda j, c: gmc_loss(j, c, temperature=0.0), ValueError, "temperature"),
        (lambda j, c: gmc_loss(j, c, temperature=-1), ValueError, "temperature"),
        (lambda j, c: gmc_loss(j, []), ValueError, "empty"),
        (lambda j, c: gmc_loss(j, c[0]), TypeError, "list of tensors"),
        (lambda j, c: gmc_loss(j.numpy(), c), TypeError, "torch.Tensor"),
        (lambda j, c: gmc_loss(j, [c[0][:, :2]]), ValueError, "same width"),
        (lambda j, c: gmc_loss(j[:1], [c[0][:1]]), ValueError, "at least 2"),
        (lambda j, c: gmc_loss(j * float("nan"), c), ValueError, "NaN"),
    ],
)
def test_gmc_loss_bad_input(call, err, match):
    joint, codes = _codes()
    with pytest.raises(err, match=match):
        call(joint, codes)


# --------------------------------------------------------------------------------------------
# the models
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    ds = make_multimodal_digits(n_samples=240, random_state=0)
    return ds.train_test_split(0.25, random_state=0)


def test_gmc_module_subset_codes():
    torch.manual_seed(0)
    mod = GMCModule([5, 7, 3], code_dim=4, hidden=(8,), head_hidden=(6,)).eval()
    xs = [torch.randn(10, d) for d in (5, 7, 3)]
    joint, codes = mod(*xs)
    torch.testing.assert_close(mod.encode(xs), joint)  # complete: the joint encoder
    torch.testing.assert_close(mod.encode([xs[0], None, None]), codes[0])
    pair = mod.encode(xs, present=[1, 2])
    mean = (codes[1] + codes[2]) / 2
    torch.testing.assert_close(pair, mean / mean.norm(dim=1, keepdim=True))
    for z in (joint, *codes, pair):
        torch.testing.assert_close(z.norm(dim=1), torch.ones(10))


def test_gmc_fit_transform_and_history(small):
    train, test = small
    gmc = GMC(code_dim=8, hidden=(32, 16), epochs=3, batch_size=64, view_names=train.view_names)
    gmc.fit(train.views)
    assert len(gmc.history_.train_loss) == 3
    Z = gmc.transform(test.views)
    assert Z.shape == (test.n_samples, 8) and Z.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1, atol=1e-5)
    by_name = gmc.transform([None, test.views[1], None])
    with pytest.warns(DeprecationWarning, match=r"put None in the slot"):  # the old spelling
        np.testing.assert_array_equal(by_name, gmc.transform(test.views, present=["sound"]))
    np.testing.assert_array_equal(gmc.transform_views(test.views)[1], by_name)
    assert not np.allclose(by_name, Z)
    # deterministic under random_state
    again = GMC(code_dim=8, hidden=(32, 16), epochs=3, batch_size=64).fit(train.views)
    np.testing.assert_allclose(again.transform(test.views), Z, atol=1e-6)


def test_gmc_training_aligns_modalities(small):
    train, test = small
    gmc = GMC(code_dim=16, hidden=(32, 16), epochs=10, batch_size=60, lr=3e-3).fit(train.views)
    assert gmc.history_.train_loss[-1] < gmc.history_.train_loss[0]
    joint = gmc.transform(test.views)
    image = gmc.transform([test.views[0], None, None])
    rng = np.random.default_rng(0)
    # paired codes are closer than random pairs
    assert alignment(joint, image) < alignment(joint, image[rng.permutation(len(image))])


@pytest.mark.parametrize("cls", [GMC, FusionAE, MVAE])
def test_custom_encoders(cls, small):
    train, test = small
    encoders = [
        conv_encoder(nn.Conv2d(1, 4, 3, padding=1), (1, 8, 8), 4 * 64),  # the 8x8 image
        conv_encoder(nn.Conv1d(1, 4, 5, stride=2), (1, 64), 4 * 30),  # the sound
        nn.Sequential(nn.Linear(64, 12), nn.ReLU()),
    ]
    before = [p.detach().clone() for p in encoders[0].parameters()]
    model = cls(code_dim=8, encoders=encoders, epochs=2, batch_size=64).fit(train.views)
    # the caller's modules are copied, not trained in place
    for p, q in zip(encoders[0].parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), q)
    assert any(isinstance(m, nn.Conv2d) for m in model.module_.modules())
    assert model.transform([None, test.views[1], None]).shape == (test.n_samples, 8)


@pytest.mark.parametrize("cls", [FusionAE, MVAE])
def test_baselines_give_codes_for_every_subset(cls, small):
    train, test = small
    model = cls(code_dim=8, hidden=(32, 16), epochs=2, batch_size=64).fit(train.views)
    codes = model.transform_views(test.views)
    assert all(c.shape == (test.n_samples, 8) and np.isfinite(c).all() for c in codes)
    assert model.history_.train_loss[-1] < model.history_.train_loss[0]


def test_fusion_ae_zero_fills_missing_modalities(small):
    train, test = small
    model = FusionAE(code_dim=8, hidden=(32, 16), epochs=1).fit(train.views)
    zeros = [np.zeros_like(v) for v in test.views]
    mean_filled = [test.views[0]] + [
        np.broadcast_to(m, z.shape) for m, z in zip(model.mean_[1:], zeros[1:], strict=True)
    ]
    np.testing.assert_allclose(
        model.transform([test.views[0], None, None]), model.transform(mean_filled), atol=1e-6
    )


def test_mvae_product_of_experts_rule():
    torch.manual_seed(0)
    from mmlib.models import MVAEModule

    mod = MVAEModule([4, 5], code_dim=3, hidden=(6,)).eval()
    xs = [torch.randn(7, 4), torch.randn(7, 5)]
    mu, logvar = mod.posterior(xs, [0, 1])
    stats = [mod.experts[m](mod.encoders[m](xs[m])).chunk(2, dim=1) for m in range(2)]
    prec = 1 + sum(torch.exp(-lv) for _, lv in stats)
    torch.testing.assert_close(mu, sum(m * torch.exp(-lv) for m, lv in stats) / prec)
    torch.testing.assert_close(logvar, -torch.log(prec))


@pytest.mark.filterwarnings("ignore:transform.views, present=.... is deprecated")
def test_models_bad_input(small):
    train, test = small
    gmc = GMC(code_dim=4, hidden=(8,), epochs=1, view_names=train.view_names).fit(train.views)
    with pytest.raises(ValueError, match="unknown modality 'smell'"):
        gmc.transform(test.views, present=["smell"])
    with pytest.raises(ValueError, match="out of range"):
        gmc.transform(test.views, present=[3])
    with pytest.raises(ValueError, match="present is empty"):
        gmc.transform(test.views, present=[])
    with pytest.raises(ValueError, match="at least one must be present"):
        gmc.transform([None, None, None])
    with pytest.raises(ValueError, match="views holds None"):
        gmc.transform([test.views[0], None, None], present=[0, 1])
    with pytest.raises(ValueError, match="one entry per modality"):
        gmc.transform(test.views[:2])
    with pytest.raises(ValueError, match="features"):
        gmc.transform([test.views[0][:, :10], None, None])
    with pytest.raises(ValueError, match="one module per modality"):
        GMC(encoders=[nn.Linear(64, 4)], epochs=1).fit(train.views)
    with pytest.raises(TypeError, match="encoders"):
        GMC(encoders=nn.Linear(64, 4), epochs=1).fit(train.views)
    with pytest.raises(ValueError, match="cannot encode"):
        GMC(encoders=[nn.Linear(10, 4)] * 3, epochs=1).fit(train.views)
    with pytest.raises(ValueError, match="temperature"):
        GMC(temperature=0, epochs=1).fit(train.views)
    with pytest.raises(ValueError, match="view_names"):
        GMC(view_names=["a"], epochs=1).fit(train.views)
    with pytest.raises(ValueError, match="not fitted"):
        GMC().transform(test.views)


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def _clusters(n=150, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0]], dtype=float) + offset
    return centres[rng.integers(0, 3, n)] + 0.3 * rng.standard_normal((n, 3))


def test_dca_approx_known_answers():
    R = _clusters()
    same = dca_approx(R, R.copy())
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    assert same["network_consistency"] == 1.0 and same["network_quality"] > 0.5
    assert same["score"] > 0.6
    far = dca_approx(R, _clusters(seed=1, offset=100.0))
    assert far["precision"] == far["recall"] == far["network_quality"] == far["score"] == 0.0
    # another sample of the same distribution: aligned, though not identical
    near = dca_approx(R, _clusters(seed=2))
    assert near["precision"] > 0.9 and near["recall"] > 0.9 and 0.3 < near["network_quality"]
    # E covers only one of R's three clusters: precision stays high, recall drops
    half = dca_approx(R, R[np.linalg.norm(R, axis=1) < 2])
    assert half["recall"] < 0.5 < half["precision"]


def test_dca_approx_bad_input():
    R = _clusters()
    with pytest.raises(ValueError, match="columns"):
        dca_approx(R, R[:, :2])
    with pytest.raises(ValueError, match="n_neighbors"):
        dca_approx(R[:5], R[:5], n_neighbors=10)
    with pytest.raises(ValueError, match="min_cluster_size"):
        dca_approx(R, R, min_cluster_size=1)
    with pytest.raises(ValueError, match="quality_threshold"):
        dca_approx(R, R, quality_threshold=1.5)
    with pytest.raises(ValueError, match="NaN"):
        dca_approx(R, R * np.nan)


def test_alignment_and_uniformity():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 8))
    assert alignment(Z, 3 * Z) == pytest.approx(0.0, abs=1e-12)
    assert alignment(Z, -Z) == pytest.approx(4.0)
    assert uniformity(np.ones((10, 4))) == pytest.approx(0.0, abs=1e-12)
    spread = uniformity(Z)
    assert -4.0 < spread < -3.0  # near -2t for spread codes in 8-D
    with pytest.raises(ValueError, match="zero vector"):
        alignment(Z, np.zeros_like(Z))
    with pytest.raises(ValueError, match="same number of samples"):
        alignment(Z, Z[:10])
    with pytest.raises(ValueError, match="at least 2"):
        uniformity(Z[:1])


def test_missing_modality_accuracy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    Z = np.eye(3)[y] * 3 + 0.3 * rng.standard_normal((300, 3))
    acc = missing_modality_accuracy(Z, y, {"same": Z, "noise": rng.standard_normal(Z.shape)}, y)
    assert acc["same"] > 0.95 and acc["noise"] < 0.6
    with pytest.raises(TypeError, match="mapping"):
        missing_modality_accuracy(Z, y, Z, y)
    with pytest.raises(ValueError, match="columns"):
        missing_modality_accuracy(Z, y, {"a": Z[:, :2]}, y)
    with pytest.raises(ValueError, match="rows"):
        missing_modality_accuracy(Z, y, {"a": Z, "b": Z[:10]}, y)
