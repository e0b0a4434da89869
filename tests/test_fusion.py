"""Tests of the fusion layers (mmlib.nets), the fusion models (mmlib.models) and the
multiplicative data set (mmlib.datasets.fusion)."""

import itertools

import numpy as np
import pytest
import torch
from _helpers import FUSION_LAYERS

from mmlib import nets
from mmlib.datasets import make_multiplicative_views
from mmlib.models import FUSIONS, BimodalAutoencoder, FusionClassifier


def _inputs(dims, n=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, generator=g, dtype=dtype) for d in dims]


# ------------------------------------------------------------------- tensor fusion


@pytest.mark.parametrize("dims", [(2, 3), (3, 1, 2), (2, 2, 2, 2)])
def test_tensor_equals_explicit_outer_product(dims):
    xs = _inputs(dims)
    tf = nets.TensorFusion(dims, 3).double()
    z = tf.tensor(xs)
    for i in range(xs[0].shape[0]):
        outer = np.ones(())
        for x in xs:  # the outer product of [1, x_m] for every modality, in order
            outer = np.multiply.outer(outer, np.concatenate([[1.0], x[i].numpy()]))
        np.testing.assert_array_equal(z[i].numpy(), outer.ravel())
    expected = z @ tf.linear.weight.T + tf.linear.bias
    torch.testing.assert_close(tf(xs), expected, rtol=1e-12, atol=1e-12)


def test_tensor_blocks_hold_the_terms_they_name():
    dims = (2, 3, 2)
    xs = _inputs(dims, n=4)
    z = nets.TensorFusion(dims, 1).double().tensor(xs)
    blocks = nets.tensor_fusion_blocks(dims)
    assert sorted(i for idx in blocks.values() for i in idx) == list(range(z.shape[1]))
    assert set(blocks) == {s for r in range(4) for s in itertools.combinations(range(3), r)}
    torch.testing.assert_close(z[:, blocks[()]], torch.ones(4, 1).double())
    for m in range(3):
        torch.testing.assert_close(z[:, blocks[(m,)]], xs[m], rtol=0, atol=0)
    pair = torch.einsum("ni,nj->nij", xs[0], xs[2]).flatten(1)
    torch.testing.assert_close(z[:, blocks[(0, 2)]], pair, rtol=0, atol=0)
    assert len(blocks[(0, 1, 2)]) == 2 * 3 * 2


# ------------------------------------------------------------------- low-rank fusion


def test_lowrank_at_full_rank_represents_a_tensor_fusion_exactly():
    # a given TFN map, per output k a (d1+1) x (d2+1) matrix; its SVD gives rank-one factors
    dims, out = (3, 4), 2
    torch.manual_seed(0)
    tf = nets.TensorFusion(dims, out).double()
    full_rank = min(d + 1 for d in dims)
    lmf = nets.LowRankFusion(dims, out, rank=full_rank).double()
    with torch.no_grad():
        for k in range(out):
            w_k = tf.linear.weight[k].reshape(dims[0] + 1, dims[1] + 1)
            u, s, vh = torch.linalg.svd(w_k)
            lmf.factors[0][:, :, k] = (u[:, :full_rank] * s).T
            lmf.factors[1][:, :, k] = vh[:full_rank]
        lmf.bias.copy_(tf.linear.bias)
    xs = _inputs(dims, n=7)
    torch.testing.assert_close(lmf(xs), tf(xs), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lmf.full_weight(), tf.linear.weight.T, rtol=1e-12, atol=1e-12)


def test_lowrank_below_full_rank_cannot_represent_a_generic_map():
    dims = (3, 4)
    torch.manual_seed(1)
    w = torch.randn(4, 5, dtype=torch.float64)  # rank 4 almost surely
    lmf = nets.LowRankFusion(dims, 1, rank=3).double()
    # the best rank-3 weight is the truncated SVD; the LMF weight is rank <= 3 whatever it is
    assert torch.linalg.matrix_rank(lmf.full_weight()[:, 0].reshape(4, 5)) <= 3
    assert torch.linalg.svdvals(w)[-1] > 1e-3


@pytest.mark.parametrize("dims", [(2, 3), (2, 1, 3), (1, 2, 2, 1)])
def test_lowrank_equals_tensor_fusion_with_its_full_weight(dims):
    torch.manual_seed(2)
    lmf = nets.LowRankFusion(dims, 3, rank=2).double()
    tf = nets.TensorFusion(dims, 3).double()
    with torch.no_grad():
        tf.linear.weight.copy_(lmf.full_weight().T)
        tf.linear.bias.copy_(lmf.bias)
    xs = _inputs(dims)
    torch.testing.assert_close(lmf(xs), tf(xs), rtol=1e-12, atol=1e-12)


def test_product_fusion_is_lowrank_of_rank_one():
    dims = (3, 2)
    torch.manual_seed(3)
    prod = nets.ProductFusion(dims, 4).double()
    lmf = nets.LowRankFusion(dims, 4, rank=1).double()
    with torch.no_grad():
        for m, p in enumerate(prod.projections):
            lmf.factors[m][0] = torch.cat([p.bias[None], p.weight.T])
        lmf.bias.zero_()
    xs = _inputs(dims)
    torch.testing.assert_close(lmf(xs), prod(xs), rtol=1e-12, atol=1e-12)


def test_lowrank_parameter_count():
    lmf = nets.LowRankFusion((4, 5, 6), 3, rank=2)
    n = sum(p.numel() for p in lmf.parameters())
    assert n == 2 * 3 * (5 + 6 + 7) + 3
    tf = nets.TensorFusion((4, 5, 6), 3)
    assert sum(p.numel() for p in tf.parameters()) == 3 * 5 * 6 * 7 + 3


# ------------------------------------------------------------------- registration


def test_lowrank_factors_are_registered_parameters():
    lmf = nets.LowRankFusion((3, 4, 2), 2, rank=3)
    params = {id(p) for p in lmf.parameters()}
    assert all(id(f) in params for f in lmf.factors)
    assert len(list(lmf.parameters())) == 3 + 1
    keys = set(lmf.state_dict())
    assert {f"factors.{m}" for m in range(3)} | {"bias"} == keys


def test_lowrank_factors_move_with_to():
    lmf = nets.LowRankFusion((3, 4), 2, rank=3).to(torch.float64)
    assert all(f.dtype == torch.float64 for f in lmf.factors)
    if torch.cuda.is_available():
        lmf = lmf.to("cuda")
        assert all(f.device.type == "cuda" for f in lmf.factors)
    meta = nets.LowRankFusion((3, 4), 2, rank=3).to("meta")
    assert all(f.device.type == "meta" for f in meta.factors)


def test_lowrank_factors_change_after_one_step():
    torch.manual_seed(0)
    lmf = nets.LowRankFusion((3, 4), 2, rank=3)
    before = [f.detach().clone() for f in lmf.factors]
    opt = torch.optim.SGD(lmf.parameters(), lr=0.1)
    lmf(_inputs((3, 4), dtype=torch.float32)).pow(2).sum().backward()
    opt.step()
    assert all(not torch.equal(b, f.detach()) for b, f in zip(before, lmf.factors, strict=True))


def test_state_dict_round_trip_reproduces_outputs():
    torch.manual_seed(0)
    a, b = nets.LowRankFusion((3, 4), 2, rank=3), nets.LowRankFusion((3, 4), 2, rank=3)
    xs = _inputs((3, 4), dtype=torch.float32)
    assert not torch.allclose(a(xs), b(xs))
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(xs), b(xs))


@pytest.mark.parametrize("fusion", FUSIONS)
def test_classifier_trains_every_parameter(fusion):
    torch.manual_seed(0)
    clf = FusionClassifier((3, 4), 2, fusion=fusion, hidden=8, rank=2, embed_dim=3)
    before = {k: v.detach().clone() for k, v in clf.named_parameters()}
    opt = torch.optim.SGD(clf.parameters(), lr=0.1)
    xs = _inputs((3, 4), n=16, dtype=torch.float32)
    torch.nn.functional.cross_entropy(clf(xs), torch.arange(16) % 2).backward()
    opt.step()
    unchanged = [k for k, v in clf.named_parameters() if torch.equal(before[k], v.detach())]
    assert unchanged == []


# ------------------------------------------------------------------- other layers


def test_concat_and_sum_are_additive():
    torch.manual_seed(0)
    dims = (3, 4)
    for layer in (nets.ConcatFusion(dims, 2).double(), nets.SumFusion(dims, 2).double()):
        a, b = _inputs(dims, seed=1), _inputs(dims, seed=2)
        mixed = [a[0], b[1]], [b[0], a[1]]
        # f(a1, a2) + f(b1, b2) = f(a1, b2) + f(b1, a2) for every additive f
        torch.testing.assert_close(layer(a) + layer(b), layer(mixed[0]) + layer(mixed[1]))


def test_late_fusion_is_the_mean_of_its_predictors():
    layer = nets.LateFusion((3, 4), 2, hidden=(5,)).double()
    xs = _inputs((3, 4))
    mean = (layer.predictors[0](xs[0]) + layer.predictors[1](xs[1])) / 2
    torch.testing.assert_close(layer(xs), mean)


def test_bimodal_autoencoder_zeroes_the_absent_modality():
    torch.manual_seed(0)
    ae = BimodalAutoencoder((3, 4), code_dim=2, hidden=5).double()
    x1, x2 = _inputs((3, 4))
    code = ae.encode([x1, x2], present=(True, False))
    torch.testing.assert_close(code, ae.encode([x1, torch.zeros_like(x2)]))
    assert [r.shape for r in ae([x1, x2])] == [x1.shape, x2.shape]


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize("cls", FUSION_LAYERS)
def test_bad_forward_input(cls):
    layer = cls((3, 4), 2)
    x1, x2 = torch.zeros(5, 3), torch.zeros(5, 4)
    with pytest.raises(ValueError, match="same batch size"):
        layer([x1, torch.zeros(6, 4)])
    with pytest.raises(ValueError, match="built for 2"):
        layer([x1])
    with pytest.raises(ValueError, match=r"xs\[1\] has 5 features"):
        layer([x1, torch.zeros(5, 5)])
    with pytest.raises(ValueError, match="2-D"):
        layer([x1, torch.zeros(5)])
    with pytest.raises(TypeError, match="floating-point"):
        layer([x1, x2.long()])
    with pytest.raises(TypeError, match="one tensor per modality"):
        layer(x1)
    with pytest.raises(TypeError, match="list or tuple"):
        layer({0: x1, 1: x2})


@pytest.mark.parametrize("cls", FUSION_LAYERS)
def test_bad_constructor_arguments(cls):
    with pytest.raises(ValueError, match=r"in_dims\[1\] must be >= 1"):
        cls((3, 0), 2)
    with pytest.raises(TypeError, match="in_dims"):
        cls(3, 2)
    with pytest.raises(ValueError, match="out_dim"):
        cls((3, 4), 0)


def test_bad_rank():
    with pytest.raises(ValueError, match="rank must be >= 1"):
        nets.LowRankFusion((3, 4), 2, rank=0)
    with pytest.raises(TypeError, match="rank must be an int"):
        nets.LowRankFusion((3, 4), 2, rank=2.5)
    with pytest.raises(ValueError, match="rank must be >= 1"):
        FusionClassifier((3, 4), 2, fusion="lowrank", rank=-1)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="fusion must be one of"):
        FusionClassifier((3, 4), 2, fusion="outer")
    with pytest.raises(ValueError, match="at least 2"):
        FusionClassifier((3,), 2)
    with pytest.raises(ValueError, match="pair"):
        BimodalAutoencoder((3, 4, 5))
    ae = BimodalAutoencoder((3, 4))
    with pytest.raises(ValueError, match="at least one modality"):
        ae([torch.zeros(2, 3), torch.zeros(2, 4)], present=(False, False))
    with pytest.raises(TypeError, match="pair of bools"):
        ae([torch.zeros(2, 3), torch.zeros(2, 4)], present=(1, 0))


def test_tensor_fusion_blocks_bad_input():
    with pytest.raises(TypeError):
        nets.tensor_fusion_blocks("23")
    with pytest.raises(ValueError, match="at least 1"):
        nets.tensor_fusion_blocks([])


# ------------------------------------------------------------------- data


def test_multiplicative_views_statistics():
    ds = make_multiplicative_views(20000, n_features=6, rank=2, noise=0.3, random_state=0)
    assert ds.n_views == 2 and ds.n_features == [6, 6]
    assert abs(ds.y.mean() - 0.5) < 0.02
    s = ds.extras["score"]
    assert abs(s.var() - 1.0) < 0.05
    for u in ds.extras["directions"]:
        np.testing.assert_allclose(u.T @ u, np.eye(2), atol=1e-12)
    # the score is the documented bilinear form
    u1, u2 = ds.extras["directions"]
    expected = np.einsum("ni,ij,nj->n", ds.views[0], u1 @ u2.T, ds.views[1]) / np.sqrt(2)
    np.testing.assert_allclose(s, expected, atol=1e-10)
    # noise flips the label only where it outweighs the score
    agree = ((s > 0) == (ds.y == 1)).mean()
    assert abs(agree - ds.extras["bayes_accuracy"]) < 0.01
    # no modality alone and no additive model predicts y: a linear fit to each is near chance
    for x in (*ds.views, np.hstack(ds.views)):
        design = np.column_stack([np.ones(len(x)), x, x**2])
        coef, *_ = np.linalg.lstsq(design, 2.0 * ds.y - 1.0, rcond=None)
        assert ((design @ coef > 0) == ds.y).mean() < 0.53
    # the product of the projections predicts it
    assert ((expected > 0) == ds.y).mean() > 0.85


def test_multiplicative_views_noise_free_and_three_modalities():
    ds = make_multiplicative_views(500, n_modalities=3, rank=1, noise=0.0, random_state=1)
    u = ds.extras["directions"]
    prod = np.prod([x @ v[:, 0] for x, v in zip(ds.views, u, strict=True)], axis=0)
    np.testing.assert_array_equal(ds.y, (prod > 0).astype(int))
    assert ds.extras["bayes_accuracy"] == 1.0


def test_multiplicative_views_deterministic_and_bad_input():
    a = make_multiplicative_views(50, random_state=3)
    b = make_multiplicative_views(50, random_state=3)
    np.testing.assert_array_equal(a.views[0], b.views[0])
    np.testing.assert_array_equal(a.y, b.y)
    with pytest.raises(ValueError, match="rank must be <= n_features"):
        make_multiplicative_views(50, n_features=2, rank=3)
    with pytest.raises(ValueError, match="n_modalities must be >= 2"):
        make_multiplicative_views(50, n_modalities=1)
    with pytest.raises(ValueError, match="noise"):
        make_multiplicative_views(50, noise=-1.0)
    with pytest.raises(TypeError, match="n_samples"):
        make_multiplicative_views(50.0)
