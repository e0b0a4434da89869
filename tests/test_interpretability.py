"""Tests of the interpretability chapter's tools: modality weights, tensor blocks, DNA data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from mmlib.datasets import available_datasets, decode_dna, make_dna_modalities
from mmlib.datasets.dna import DNA_MOTIFS
from mmlib.interpret import (
    IterativeNormTensor,
    ModalityWeightedClassifier,
    ModalityWeights,
    SequenceCNN,
    fit_modality_weighted,
    integrated_gradients_per_modality,
    iterative_normalised_tensor,
    modality_ablation,
    modality_weights,
    outer_flatten,
    tensor_block,
)

# --------------------------------------------------------------------------------------------
# closed-form beta
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 4.0])
def test_beta_is_nonnegative_and_on_the_unit_sphere(p):
    a = np.array([3.0, 0.5, 1.2, 0.0])
    beta = modality_weights(a, p)
    assert (beta >= 0).all()
    assert np.sum(beta**p) ** (1 / p) == pytest.approx(1.0, abs=1e-12)
    assert beta[3] == 0.0  # a modality with zero weights gets zero weight
    # the formula: beta_m proportional to a_m^(2/(p+1))
    ratio = beta[:3] / a[:3] ** (2 / (p + 1))
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_beta_matches_numerical_minimisation(p):
    a = np.array([2.0, 0.7, 1.1])

    def objective(t):  # beta = |t| / ||t||_p: every point satisfies the constraint with equality
        beta = np.abs(t) / np.sum(np.abs(t) ** p) ** (1 / p)
        return np.sum(a**2 / np.maximum(beta, 1e-12))

    best = min(
        (
            minimize(objective, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
            for x0 in ([1.0, 1.0, 1.0], [0.9, 0.2, 0.4])
        ),
        key=lambda r: r.fun,
    )
    numeric = np.abs(best.x) / np.sum(np.abs(best.x) ** p) ** (1 / p)
    closed = modality_weights(a, p)
    np.testing.assert_allclose(closed, numeric, atol=2e-4)
    # the minimum is ||a||_q^2 with q = 2p/(p+1)
    q = 2 * p / (p + 1)
    assert np.sum(a**2 / closed) == pytest.approx(np.sum(a**q) ** (2 / q), rel=1e-12)
    assert np.sum(a**2 / closed) <= best.fun + 1e-9


def test_beta_is_sparse_at_p1_and_spreads_with_p():
    a = np.array([2.0, 1.0, 0.5])
    b1, b4 = modality_weights(a, 1.0), modality_weights(a, 4.0)
    # at p = 1, beta is proportional to a itself; at large p it flattens towards all ones
    np.testing.assert_allclose(b1, a / a.sum())
    assert b4.min() / b4.max() > b1.min() / b1.max()


def test_beta_tensor_and_array_agree_and_all_zero():
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(
        modality_weights(torch.tensor(a), 2.0).numpy(), modality_weights(a, 2.0), rtol=1e-12
    )
    np.testing.assert_allclose(modality_weights(np.zeros(4), 2.0), np.full(4, 0.5))


@pytest.mark.parametrize("p", [0.5, 0.0, -1.0, float("inf"), float("nan")])
def test_beta_rejects_p_below_one(p):
    with pytest.raises(ValueError, match="p must be"):
        modality_weights([1.0, 2.0], p)


def test_beta_bad_norms():
    with pytest.raises(ValueError, match="non-negative"):
        modality_weights([1.0, -2.0], 2.0)
    with pytest.raises(TypeError, match="p must be"):
        modality_weights([1.0, 2.0], "2")
    with pytest.raises(ValueError, match="norms"):
        modality_weights(torch.ones(2, 2), 2.0)


def test_modality_weights_module_penalty_and_update():
    torch.manual_seed(0)
    mw = ModalityWeights([3, 5], out_features=2, p=2.0)
    h = [torch.randn(7, 3), torch.randn(7, 5)]
    out = mw(h)
    expected = h[0] @ mw.heads[0].weight.T + h[1] @ mw.heads[1].weight.T + mw.bias
    torch.testing.assert_close(out, expected)
    beta = mw.update_beta()
    norms = torch.stack([w.weight.norm() for w in mw.heads]).detach()
    torch.testing.assert_close(beta, modality_weights(norms, 2.0))
    # at the closed-form beta, the penalty is ||a||_q^2 with q = 4/3
    q = 4 / 3
    assert mw.penalty().detach().item() == pytest.approx(
        float((norms**q).sum() ** (2 / q)), rel=1e-5
    )


def test_modality_weights_bad_input():
    mw = ModalityWeights([3, 5], p=2.0)
    with pytest.raises(ValueError, match="2 modalities"):
        mw([torch.randn(4, 3)])
    with pytest.raises(ValueError, match="same batch size"):
        mw([torch.randn(4, 3), torch.randn(5, 5)])
    with pytest.raises(ValueError, match=r"features\[1\] has 4 columns"):
        mw([torch.randn(4, 3), torch.randn(4, 4)])
    with pytest.raises(ValueError, match="p must be"):
        ModalityWeights([3, 5], p=0.5)


# --------------------------------------------------------------------------------------------
# tensor blocks: explicit constructions with non-symmetric inputs
# --------------------------------------------------------------------------------------------


def _position(index: tuple[int, ...], dims: tuple[int, ...]) -> int:
    """Row-major position of a multi-index, written out (first factor slowest)."""
    pos = 0
    for i, d in zip(index, dims, strict=True):
        pos = pos * d + i
    return pos


def test_outer_flatten_against_loops():
    gen = torch.Generator().manual_seed(1)
    blocks = [torch.randn(3, d, generator=gen, dtype=torch.float64) for d in (2, 3, 4)]
    out = outer_flatten(blocks)
    assert out.shape == (3, 24)
    for n in range(3):
        for idx in itertools.product(range(2), range(3), range(4)):
            value = blocks[0][n, idx[0]] * blocks[1][n, idx[1]] * blocks[2][n, idx[2]]
            assert out[n, _position(idx, (2, 3, 4))] == value


def test_tensor_block_holds_every_lower_order_term():
    h = [torch.tensor([[2.0, 3.0]]), torch.tensor([[5.0, 7.0, 11.0]])]
    T = tensor_block(h)[0].reshape(3, 4)  # (d1 + 1) x (d2 + 1), the 1 appended last
    torch.testing.assert_close(T[:2, :3], torch.outer(h[0][0], h[1][0]))
    torch.testing.assert_close(T[:2, 3], h[0][0])  # h1 times the appended 1 of h2
    torch.testing.assert_close(T[2, :3], h[1][0])
    assert T[2, 3] == 1.0


def _explicit_normalised(h: list[np.ndarray]) -> list[np.ndarray]:
    """The normalisation written with loops and numpy's lstsq: one block per subset."""
    n = h[0].shape[0]
    centred = [x - x.mean(axis=0) for x in h]
    lower, blocks = list(centred), []
    for k in range(2, len(h) + 1):
        design = np.column_stack([np.ones(n), *lower])  # the mean and every lower block
        new = []
        for subset in itertools.combinations(range(len(h)), k):
            cols = []
            for idx in itertools.product(*[range(h[m].shape[1]) for m in subset]):
                col = np.ones(n)  # row-major: the last modality's index varies fastest
                for m, i in zip(subset, idx, strict=True):
                    col = col * centred[m][:, i]
                coef = np.linalg.lstsq(design, col, rcond=None)[0]
                cols.append(col - design @ coef)
            new.append(np.column_stack(cols))
        lower += new
        blocks += new
    return blocks


def _old_prefix_normalisation(h: list[torch.Tensor]) -> torch.Tensor:
    """The former, asymmetric version: each prefix product centred by its mean only."""
    centred = [x - x.mean(0) for x in h]
    out = []
    for s in itertools.chain.from_iterable(
        itertools.combinations(range(len(h)), k) for k in range(2, len(h) + 1)
    ):
        z = centred[s[0]]
        for m in s[1:]:
            z = outer_flatten([z, centred[m]])
            z = z - z.mean(0)
        out.append(z)
    return torch.cat(out, dim=1)


def _split(block: np.ndarray, dims: tuple[int, ...]) -> dict[tuple[int, ...], np.ndarray]:
    """The block's columns per subset S, as an array of shape (n, d_{s1}, ..., d_{sk})."""
    parts, start = {}, 0
    for k in range(2, len(dims) + 1):
        for s in itertools.combinations(range(len(dims)), k):
            size = int(np.prod([dims[m] for m in s]))
            parts[s] = block[:, start : start + size].reshape(-1, *[dims[m] for m in s])
            start += size
    assert start == block.shape[1]
    return parts


def _dependent_modalities(n: int = 400, seed: int = 0) -> list[np.ndarray]:
    """h0 independent of (h1, h2), corr(h1, h2) = 0.8 per column; widths 2, 3, 3."""
    rng = np.random.default_rng(seed)
    h0 = rng.exponential(size=(n, 2)) + 1.0
    h1 = rng.normal(size=(n, 3))
    h2 = 0.8 * h1 + 0.6 * rng.normal(size=(n, 3)) - 2.0
    return [h0, h1, h2]


def _max_lower_order_covariance(h: list[np.ndarray], block: np.ndarray) -> float:
    """Largest |cov| between a block z_S and any block of lower order, relative to the sds."""
    dims = tuple(x.shape[1] for x in h)
    parts = {s: p.reshape(p.shape[0], -1) for s, p in _split(block, dims).items()}
    parts |= {(m,): x - x.mean(0) for m, x in enumerate(h)}
    worst = 0.0
    for s, z in parts.items():
        for t, low in parts.items():
            if len(t) < len(s):
                cov = (z - z.mean(0)).T @ low / len(z)
                scale = np.outer(z.std(0), low.std(0)) + 1e-300
                worst = max(worst, float(np.abs(cov / scale).max()))
    return worst


def test_iterative_normalisation_against_explicit_construction():
    rng = np.random.default_rng(0)
    # non-symmetric: different widths, non-zero means, skewed values
    h = [rng.exponential(size=(60, d)) + j for j, d in enumerate((2, 3, 4))]
    block, stats = iterative_normalised_tensor([torch.tensor(x) for x in h])
    expected = np.concatenate(_explicit_normalised(h), axis=1)
    assert block.shape == expected.shape == (60, 2 * 3 + 2 * 4 + 3 * 4 + 24)
    np.testing.assert_allclose(block.numpy(), expected, atol=1e-7)
    # the same statistics, given back, reproduce the block (the eval-mode path)
    again, _ = iterative_normalised_tensor([torch.tensor(x) for x in h], stats)
    torch.testing.assert_close(again, block)


def test_normalisation_is_symmetric_under_permuted_modalities():
    h = _dependent_modalities()
    dims = tuple(x.shape[1] for x in h)
    block = _split(iterative_normalised_tensor([torch.tensor(x) for x in h])[0].numpy(), dims)
    for perm in itertools.permutations(range(3)):
        hp = [h[m] for m in perm]
        out = iterative_normalised_tensor([torch.tensor(x) for x in hp])[0].numpy()
        parts = _split(out, tuple(dims[m] for m in perm))
        for s_new, z in parts.items():
            original = tuple(perm[i] for i in s_new)  # modalities in the new order
            # bring the columns back to increasing original modality order
            back = z.transpose(0, *(1 + np.argsort(original)))
            np.testing.assert_allclose(back, block[tuple(sorted(original))], atol=1e-9)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_no_linear_lower_order_component_survives(order):
    h = [_dependent_modalities()[m] for m in order]
    block = iterative_normalised_tensor([torch.tensor(x) for x in h])[0].numpy()
    assert _max_lower_order_covariance(h, block) < 1e-6


def test_the_old_prefix_centring_fails_both_checks():
    """The former version kept 0.8 x h0 in the three-way block, in one order only."""
    h = _dependent_modalities(n=4000)
    tensors = [torch.tensor(x) for x in h]
    assert _max_lower_order_covariance(h, _old_prefix_normalisation(tensors).numpy()) > 0.3
    reordered = [tensors[1], tensors[2], tensors[0]]
    old = _split(_old_prefix_normalisation(tensors).numpy(), (2, 3, 3))[(0, 1, 2)]
    old_r = _split(_old_prefix_normalisation(reordered).numpy(), (3, 3, 2))[(0, 1, 2)]
    assert np.abs(np.moveaxis(old_r, 3, 1) - old).max() > 0.1
    # the old three-way block carries about corr(h1, h2) x h0-tilde; the new one carries none
    u0 = h[0][:, 0] - h[0][:, 0].mean()
    new = _split(iterative_normalised_tensor(tensors)[0].numpy(), (2, 3, 3))[(0, 1, 2)]
    assert old[:, 0, 0, 0] @ u0 / (u0 @ u0) == pytest.approx(0.8, abs=0.1)
    assert abs(new[:, 0, 0, 0] @ u0 / (u0 @ u0)) < 1e-8


def test_dependent_but_uncorrelated_modalities_keep_a_unimodal_function():
    """h1 = h0^2 - 1: z_01 is uncorrelated with h0 and h1, yet a function of h0 alone."""
    rng = np.random.default_rng(3)
    h0 = rng.normal(size=(5000, 1))
    h = [h0, h0**2 - 1]
    z = iterative_normalised_tensor([torch.tensor(x) for x in h])[0].numpy()[:, 0]
    assert _max_lower_order_covariance(h, z[:, None]) < 1e-6
    poly = np.column_stack([np.ones(5000), h0, h0**2, h0**3])
    residual = z - poly @ np.linalg.lstsq(poly, z, rcond=None)[0]
    assert np.abs(residual).max() < 1e-8 * np.abs(z).max()  # exactly cubic in h0
    assert z.std() > 1.0  # and far from zero: about h0^3 - 3 h0, sd sqrt(6)
    assert np.corrcoef(z, (h0**3 - 3 * h0)[:, 0])[0, 1] > 0.99


def test_constant_modality_leaves_no_copy_in_the_normalised_block():
    rng = np.random.default_rng(2)
    h1 = torch.tensor(rng.normal(size=(8, 3)))
    const = torch.full((8, 2), 4.0, dtype=torch.float64)
    block, _ = iterative_normalised_tensor([h1, const])
    assert torch.count_nonzero(block) == 0
    plain = tensor_block([h1, const]).reshape(8, 4, 3)
    # the plain block holds h1 three times: 4 h1, 4 h1 and h1 (times the appended 1)
    torch.testing.assert_close(plain[:, :3, 0], 4 * h1)
    torch.testing.assert_close(plain[:, :3, 2], h1)


def test_iterative_norm_module_train_and_eval():
    torch.manual_seed(0)
    h = [torch.randn(40, 2) + 1, torch.randn(40, 3) - 2, torch.randn(40, 2)]
    mod = IterativeNormTensor([2, 3, 2], momentum=1.0)
    out = mod(h)
    torch.testing.assert_close(out, iterative_normalised_tensor(h)[0])
    assert out.dtype == torch.float32
    mod.eval()
    torch.testing.assert_close(mod(h), out)  # momentum 1: the running fit is the batch's
    assert mod.out_features == 6 + 4 + 6 + 12
    assert mod.coef_0_1_2.shape == (7 + 16, 12)
    mod.reset_parameters()
    assert all((b == 0).all() for b in mod.buffers())


def test_tensor_bad_input():
    with pytest.raises(ValueError, match="at least 2 modalities"):
        iterative_normalised_tensor([torch.randn(3, 2)])
    with pytest.raises(ValueError, match="more than 8 samples"):
        iterative_normalised_tensor([torch.randn(8, 3), torch.randn(8, 4)])
    with pytest.raises(ValueError, match="stats lacks"):
        iterative_normalised_tensor([torch.randn(3, 2), torch.randn(3, 2)], {})
    with pytest.raises(ValueError, match="same batch size"):
        tensor_block([torch.randn(3, 2), torch.randn(4, 2)])
    with pytest.raises(TypeError, match="list"):
        outer_flatten(torch.randn(3, 2))
    with pytest.raises(ValueError, match="2 modalities"):
        IterativeNormTensor([3, 2])([torch.randn(4, 3)])


# --------------------------------------------------------------------------------------------
# DNA data
# --------------------------------------------------------------------------------------------


def test_dna_plants_motifs_where_it_says():
    ds = make_dna_modalities(300, probabilities=(0.8, 0.0, 0.4), random_state=3)
    pos = ds.extras["motif_positions"]
    for j, name in enumerate(ds.view_names):
        strings = decode_dna(ds.views[j])
        motifs = DNA_MOTIFS[name]
        for i, s in enumerate(strings):
            assert len(s) == 100
            if pos[i, j] >= 0:
                assert s[pos[i, j] : pos[i, j] + 8] == motifs[ds.y[i]]
    planted = (pos >= 0).mean(axis=0)
    assert planted[1] == 0.0
    assert abs(planted[0] - 0.8) < 0.08 and abs(planted[2] - 0.4) < 0.08
    # one-hot: exactly one letter per position
    for v in ds.views:
        np.testing.assert_array_equal(v.reshape(300, 100, 4).sum(axis=2), 1.0)
    assert "make_dna_modalities" in available_datasets()


def test_dna_is_seeded_and_splits_extras():
    a = make_dna_modalities(50, random_state=7)
    b = make_dna_modalities(50, random_state=7)
    np.testing.assert_array_equal(a.views[2], b.views[2])
    train, test = a.train_test_split(test_size=0.2, random_state=0)
    assert train.extras["motif_positions"].shape == (40, 3)


def test_dna_bad_input():
    with pytest.raises(ValueError, match="one entry per modality"):
        make_dna_modalities(10, probabilities=(0.5, 0.0))
    with pytest.raises(ValueError, match="random modality"):
        make_dna_modalities(10, probabilities=(0.5, 0.2, 0.1))
    with pytest.raises(ValueError, match=r"probabilities\[0\]"):
        make_dna_modalities(10, probabilities=(1.5, 0.0, 0.1))
    with pytest.raises(ValueError, match="length"):
        make_dna_modalities(10, length=5)
    with pytest.raises(ValueError, match="one-hot"):
        decode_dna(np.ones((2, 8)))


# --------------------------------------------------------------------------------------------
# the classifier, its training, ablation and attributions
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    ds = make_dna_modalities(200, length=30, probabilities=(1.0, 0.0, 0.0), random_state=0)
    model = ModalityWeightedClassifier(
        [SequenceCNN(2, 8) for _ in range(3)], [2, 2, 2], p=1.0, tensor_block=None
    )
    hist = fit_modality_weighted(model, ds.views, ds.y, epochs=60, lr=0.05, lam=1e-2)
    return ds, model, hist


def test_training_finds_the_relevant_modality(trained):
    ds, model, hist = trained
    beta = model.beta
    assert np.argmax(beta) == 0 and beta[0] > 0.8
    assert np.sum(beta) == pytest.approx(1.0, abs=1e-5)  # p = 1
    assert hist["loss"][-1] < hist["loss"][0]
    ab = modality_ablation(model, ds.views, ds.y)
    assert ab["full"] > 0.95
    assert ab["without"][0] < 0.7  # permuting the relevant modality destroys the prediction
    assert abs(ab["drop"][1]) < 0.05


def test_integrated_gradients_completeness(trained):
    ds, model, _ = trained
    attrs, delta = integrated_gradients_per_modality(model, [v[:20] for v in ds.views], n_steps=64)
    assert attrs.shape == (20, 3)
    xs = [torch.tensor(v[:20], dtype=torch.float32) for v in ds.views]
    with torch.no_grad():
        diff = (model(*xs) - model(*[torch.zeros_like(x) for x in xs]))[:, 0].numpy()
    # completeness up to the Riemann sum's error, which captum reports as delta
    assert np.abs(attrs.sum(axis=1) - diff).max() <= delta + 1e-4
    assert delta < 0.05 * np.abs(diff).max()
    assert np.abs(attrs[:, 0]).mean() > 5 * np.abs(attrs[:, 1]).mean()


def test_classifier_and_fit_bad_input(trained):
    ds, model, _ = trained
    with pytest.raises(ValueError, match="expected 3 modalities"):
        model(torch.zeros(2, 120), torch.zeros(2, 120))
    with pytest.raises(ValueError, match="same batch size"):
        model(torch.zeros(2, 120), torch.zeros(3, 120), torch.zeros(2, 120))
    with pytest.raises(ValueError, match="3 modalities"):
        fit_modality_weighted(model, ds.views[:2], ds.y, epochs=1)
    with pytest.raises(ValueError, match="same number of samples"):
        fit_modality_weighted(model, [ds.views[0], ds.views[1][:10], ds.views[2]], ds.y, epochs=1)
    with pytest.raises(ValueError, match="tensor_block"):
        ModalityWeightedClassifier([SequenceCNN()], [8], tensor_block="full")
    with pytest.raises(ValueError, match="feature_dims"):
        ModalityWeightedClassifier([SequenceCNN(), SequenceCNN()], [8])
    with pytest.raises(ValueError, match="p must be"):
        ModalityWeightedClassifier([SequenceCNN()], [8], p=0.9)
    with pytest.raises(ValueError, match="mode"):
        modality_ablation(model, ds.views, ds.y, mode="drop")
    with pytest.raises(ValueError, match="baselines"):
        integrated_gradients_per_modality(model, ds.views, baselines=[np.zeros(120)])
