"""MMV: the granularity data set, NCE / MIL-NCE, the MMV model and the retrieval metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mmlib import datasets
from mmlib.losses import mil_nce, nce
from mmlib.metrics import median_rank, recall_at_k, retrieval_ranks, retrieval_scores
from mmlib.models import MMV, MMVModule

# --------------------------------------------------------------------------------------------
# losses: against a direct per-sample loop of the paper's equations
# --------------------------------------------------------------------------------------------


def _codes(b=5, k=3, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(b, d, generator=g, dtype=torch.float64)
    bags = torch.randn(b, k, d, generator=g, dtype=torch.float64)
    return z, bags


def _unit(x):
    return x / x.norm(dim=-1, keepdim=True)


def _mil_nce_loop(z, bags, tau):
    """MIL-NCE written sample by sample: sums of exponentials over P(x) and N(x)."""
    z, bags = _unit(z), _unit(bags)
    b, k = bags.shape[:2]
    total = 0.0
    for i in range(b):
        pos = sum(math.exp(float(z[i] @ bags[i, m]) / tau) for m in range(k))
        neg = 0.0
        for j in range(b):
            if j == i:
                continue
            for m in range(k):
                neg += math.exp(float(z[i] @ bags[j, m]) / tau)  # x's code, another bag
                neg += math.exp(float(z[j] @ bags[i, m]) / tau)  # another code, x's bag
        total += -math.log(pos / (pos + neg))
    return total / b


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("k", [1, 3])
def test_mil_nce_matches_per_sample_loop(tau, k):
    z, bags = _codes(k=k)
    assert mil_nce(z, bags, tau).item() == pytest.approx(_mil_nce_loop(z, bags, tau), rel=1e-10)


def test_nce_matches_per_sample_loop():
    z1, bags = _codes(k=1)
    z2 = bags[:, 0]
    assert nce(z1, z2, 0.3).item() == pytest.approx(_mil_nce_loop(z1, bags, 0.3), rel=1e-10)


def test_mil_nce_with_one_positive_is_nce():
    z, bags = _codes(b=7, k=1, d=6, seed=3)
    for tau in (0.07, 1.0):
        assert mil_nce(z, bags, tau).item() == pytest.approx(nce(z, bags[:, 0], tau).item())
        assert mil_nce(z, bags[:, 0], tau).item() == pytest.approx(nce(z, bags[:, 0], tau).item())


def test_nce_known_value_for_orthonormal_codes():
    # identical orthonormal codes: positive e^{1/tau}, 2(B-1) negatives e^0
    b, tau = 4, 0.5
    z = torch.eye(b, dtype=torch.float64)
    expected = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2 * (b - 1)))
    assert nce(z, z, tau).item() == pytest.approx(expected)


def test_gradcheck_float64():
    z, bags = _codes(b=4, k=2, d=3)
    z.requires_grad_()
    bags.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, c: mil_nce(a, c, 0.2), (z, bags))
    z2 = bags.detach()[:, 0].clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda a, c: nce(a, c, 0.2), (z, z2))


def test_invariances():
    z, bags = _codes(b=6, k=3)
    ref = mil_nce(z, bags, 0.2).item()
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(1))
    assert mil_nce(z[perm], bags[perm], 0.2).item() == pytest.approx(ref)  # batch order
    assert mil_nce(z, bags[:, [2, 0, 1]], 0.2).item() == pytest.approx(ref)  # bag order
    assert mil_nce(3.0 * z, 0.1 * bags, 0.2).item() == pytest.approx(ref)  # scale of codes
    assert nce(z[perm], bags[perm, 0], 0.2).item() == pytest.approx(nce(z, bags[:, 0], 0.2).item())
    # unnormalised: dot products as given, so the scale matters
    assert mil_nce(3.0 * z, bags, 0.2, normalize=False).item() != pytest.approx(
        mil_nce(z, bags, 0.2, normalize=False).item()
    )


def test_wrong_candidates_cost_mil_nce_less_than_nce():
    """A bag with the true partner among wrong ones: MIL-NCE barely pays, NCE on a wrong one does."""
    basis = torch.eye(8, dtype=torch.float64)
    z, wrong = basis[:4], basis[4:]  # wrong captions: unrelated to every code
    bags = torch.stack([wrong, z], dim=1)  # first candidate wrong, second right
    assert mil_nce(z, bags, 0.1).item() < 0.1 * nce(z, wrong, 0.1).item()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nce(torch.zeros(3, 2), torch.zeros(4, 2)), "same shape"),
        (lambda: mil_nce(torch.zeros(3, 2), torch.zeros(4, 2, 2)), "batch size"),
        (lambda: mil_nce(torch.zeros(3, 2), torch.zeros(3, 2, 5)), "code dimension"),
        (lambda: mil_nce(torch.zeros(3, 2), torch.zeros(3, 0, 2)), "empty"),
        (lambda: nce(torch.ones(3, 2), torch.ones(3, 2), temperature=0.0), "temperature"),
        (lambda: nce(torch.ones(3, 2), torch.ones(3, 2), temperature=-1.0), "temperature"),
        (lambda: mil_nce(torch.ones(3, 2), torch.ones(3, 2), temperature=0), "temperature"),
        (lambda: nce(torch.ones(1, 2), torch.ones(1, 2)), "at least 2"),
        (lambda: nce(torch.ones(3), torch.ones(3)), "shape"),
        (lambda: nce(torch.full((3, 2), math.nan), torch.ones(3, 2)), "NaN"),
    ],
)
def test_loss_bad_input_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_loss_bad_input_type_error():
    with pytest.raises(TypeError, match="z1"):
        nce(np.ones((3, 2)), torch.ones(3, 2))
    with pytest.raises(TypeError, match="floating"):
        mil_nce(torch.ones(3, 2, dtype=torch.int64), torch.ones(3, 2))
    with pytest.raises(TypeError, match="temperature"):
        nce(torch.ones(3, 2), torch.ones(3, 2), temperature="hot")


# --------------------------------------------------------------------------------------------
# the data set
# --------------------------------------------------------------------------------------------


def test_granularity_digits_shapes_and_statistics():
    ds = datasets.make_granularity_digits(
        n_samples=3000, n_captions=5, wrong_caption_rate=0.4, random_state=0
    )
    assert ds.n_features[:2] == [64, 64] and ds.view_names == ["vision", "audio", "text"]
    caps, correct = ds.extras["captions"], ds.extras["caption_correct"]
    vocab = ds.extras["vocabulary"]
    assert caps.shape == (3000, 5, len(vocab)) and correct.shape == (3000, 5)
    np.testing.assert_array_equal(ds.views[2], caps[:, 0])
    assert abs(1 - correct.mean() - 0.4) < 0.02  # the share of wrong captions
    # a correct caption names the coarse class; a wrong one another class
    y = ds.y
    said_odd = caps[:, :, vocab.index("odd")] == 1
    said_large = caps[:, :, vocab.index("large")] == 1
    truth = (said_odd == (y % 2 == 1)[:, None]) & (said_large == (y >= 5)[:, None])
    np.testing.assert_array_equal(truth, correct)
    clean = ds.extras["clean_caption"]
    assert (clean[np.arange(3000), vocab.index("odd")] == (y % 2)).all()
    assert set(np.unique(ds.extras["coarse"])) == {0, 1, 2, 3}
    assert "make_granularity_digits" in datasets.available_datasets()


def test_granularity_digits_split_carries_captions_and_is_seeded():
    a = datasets.make_granularity_digits(n_samples=200, random_state=1)
    b = datasets.make_granularity_digits(n_samples=200, random_state=1)
    np.testing.assert_array_equal(a.views[1], b.views[1])
    train, test = a.train_test_split(test_size=50, random_state=0)
    assert test.extras["captions"].shape[0] == 50 and test.extras["clean_caption"].shape[0] == 50
    text = datasets.decode_captions(a.extras["clean_caption"][:3], a.extras["vocabulary"])
    assert all(("even" in t) != ("odd" in t) for t in text)


def test_granularity_digits_one_attribute_and_no_wrong_captions():
    ds = datasets.make_granularity_digits(
        n_samples=100, coarse="parity", wrong_caption_rate=0.0, random_state=0
    )
    assert ds.extras["caption_correct"].all()
    np.testing.assert_array_equal(ds.extras["coarse"], ds.y % 2)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n_captions": 0}, ValueError),
        ({"wrong_caption_rate": 1.0}, ValueError),
        ({"wrong_caption_rate": -0.1}, ValueError),
        ({"coarse": "size"}, ValueError),
        ({"vision_noise": -1.0}, ValueError),
        ({"n_samples": 2.5}, TypeError),
    ],
)
def test_granularity_digits_bad_input(kwargs, error):
    with pytest.raises(error):
        datasets.make_granularity_digits(**kwargs)


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    ds = datasets.make_granularity_digits(n_samples=120, random_state=0)
    return ds.views[0], ds.views[1], ds.extras["captions"], ds.extras["clean_caption"]


EXPECTED_SPACES = {
    "shared": {"vat": {"vision", "audio", "text"}},
    "disjoint": {"va": {"vision", "audio"}, "vt": {"vision", "text"}},
    "fac": {"va": {"vision", "audio"}, "vat": {"vision", "audio", "text"}},
}


@pytest.mark.parametrize("space", ["shared", "disjoint", "fac"])
def test_each_space_option_shapes(small, space):
    v, a, caps, clean = small
    model = MMV(space=space, embed_dim=5, hidden=(8,), backbone_dim=6, epochs=2, batch_size=40)
    model.fit([v, a, caps])
    z = model.transform([v, a, clean])
    assert {s: set(m) for s, m in z.items()} == EXPECTED_SPACES[space]
    for per_space in z.values():
        for e in per_space.values():
            assert e.shape == (120, 5)
            np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    assert len(model.history_.train_loss) == 2 and model.n_captions_ == caps.shape[1]
    only_audio = model.transform([None, a, None])
    assert all(set(m) == {"audio"} for m in only_audio.values())


def test_fac_audio_reaches_the_coarse_space_through_the_vision_projection(small):
    v, a, caps, clean = small
    model = MMV(space="fac", embed_dim=4, hidden=(8,), epochs=1, batch_size=40).fit([v, a, caps])
    m = model.module_
    with torch.no_grad():
        za = m.embed(torch.as_tensor(a[:5], dtype=torch.float32), "audio")
        np.testing.assert_allclose(m.heads["va_vat"](za["va"]).numpy(), za["vat"].numpy())
    assert MMV.pair_space("fac", "text", "audio") == "vat"
    assert MMV.pair_space("disjoint", "audio", "text") is None
    assert MMV.pair_space("shared", "audio", "vision") == "vat"


def test_fit_is_seeded_and_loss_decreases(small):
    v, a, caps, _ = small
    kw = {"space": "shared", "hidden": (16,), "epochs": 15, "batch_size": 60, "lr": 3e-3}
    m1 = MMV(random_state=3, **kw).fit([v, a, caps])
    m2 = MMV(random_state=3, **kw).fit([v, a, caps])
    assert m1.history_.train_loss == m2.history_.train_loss
    assert m1.history_.train_loss[-1] < m1.history_.train_loss[0]


def test_nce_variant_uses_first_caption_only(small):
    v, a, caps, _ = small
    kw = {"hidden": (8,), "epochs": 2, "batch_size": 40, "vt_loss": "nce", "random_state": 0}
    m1 = MMV(**kw).fit([v, a, caps])
    other = caps.copy()
    other[:, 1:] = 0.0  # other candidates changed: NCE must not notice
    m2 = MMV(**kw).fit([v, a, other])
    assert m1.history_.train_loss == m2.history_.train_loss
    m3 = MMV(**kw).fit([v, a, caps[:, 0]])  # a 2-D text view is one caption per sample
    assert m1.history_.train_loss == m3.history_.train_loss


class _TinyConv(nn.Module):
    """A small CNN on the 8x8 image, to check the custom-encoder path."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.out = nn.Linear(4 * 16, 10)

    def forward(self, x):
        h = torch.relu(self.conv(x.reshape(-1, 1, 8, 8)))
        return self.out(nn.functional.max_pool2d(h, 2).flatten(1))


def test_custom_encoders(small):
    v, a, caps, clean = small
    encoders = [_TinyConv(), nn.Sequential(nn.Linear(64, 7)), nn.Linear(caps.shape[2], 3)]
    before = [p.detach().clone() for p in encoders[0].parameters()]
    model = MMV(space="fac", embed_dim=4, encoders=encoders, epochs=2, batch_size=40)
    model.fit([v, a, caps])
    assert isinstance(model.module_.backbones[0], _TinyConv)
    assert model.module_.heads["vision_va"].in_features == 10
    assert model.module_.heads["text_vat"].in_features == 3
    for p, q in zip(before, encoders[0].parameters(), strict=True):  # the user's copy untouched
        assert torch.equal(p, q)
    assert model.transform([v, a, clean])["vat"]["vision"].shape == (120, 4)


def test_module_bad_encoders():
    with pytest.raises(ValueError, match="3 modules"):
        MMVModule([4, 4, 4], encoders=[nn.Linear(4, 2)] * 2)
    with pytest.raises(TypeError, match="encoders\\[1\\]"):
        MMVModule([4, 4, 4], encoders=[nn.Linear(4, 2), "net", nn.Linear(4, 2)])
    with pytest.raises(ValueError, match="encoders\\[2\\] failed"):
        MMVModule([4, 4, 4], encoders=[nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(5, 2)])


def test_model_bad_input(small):
    v, a, caps, clean = small
    with pytest.raises(ValueError, match="space"):
        MMV(space="joint").fit([v, a, caps])
    with pytest.raises(ValueError, match="vt_loss"):
        MMV(vt_loss="ce", epochs=1).fit([v, a, caps])
    with pytest.raises(ValueError, match="temperature"):
        MMV(temperature=0.0, epochs=1).fit([v, a, caps])
    with pytest.raises(ValueError, match="loss_weights"):
        MMV(loss_weights=(0, 0), epochs=1).fit([v, a, caps])
    with pytest.raises(TypeError, match="views"):
        MMV().fit([v, a])
    with pytest.raises(ValueError, match="views\\[2\\] has 100 samples"):
        MMV().fit([v, a, caps[:100]])
    with pytest.raises(ValueError, match="no candidate"):
        MMV().fit([v, a, caps[:, :0]])
    with pytest.raises(ValueError, match="same number of samples"):
        MMV().fit([v[:50], a, caps])
    model = MMV(hidden=(4,), epochs=1, batch_size=60)
    with pytest.raises(ValueError, match="not fitted"):
        model.transform([v, a, clean])
    model.fit([v, a, caps])
    with pytest.raises(ValueError, match="features"):
        model.transform([v[:, :10], None, None])
    with pytest.raises(ValueError, match="samples"):
        model.transform([v[:10], a, None])
    with pytest.raises(ValueError, match="at least one"):
        model.transform([None, None, None])


# --------------------------------------------------------------------------------------------
# retrieval metrics
# --------------------------------------------------------------------------------------------


def test_retrieval_known_answers():
    eye = np.eye(4)
    assert retrieval_ranks(eye, eye).tolist() == [1, 1, 1, 1]
    swapped = eye[[1, 0, 2, 3]]
    assert retrieval_ranks(eye, swapped).tolist() == [4, 4, 1, 1]  # ties count against
    scores = retrieval_scores(eye, swapped, ks=(1, 3))
    assert scores == {"R@1": 0.5, "R@3": 0.5, "median rank": 2.5}
    # constant embeddings are never rewarded
    assert retrieval_ranks(np.ones((5, 2)), np.ones((5, 2))).tolist() == [5] * 5
    # category retrieval: the best relevant item counts
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    g = np.array([[1.0, 0.1], [0.9, 0.5], [0.0, 1.0]])
    ranks = retrieval_ranks(q, g, query_labels=[0, 1], gallery_labels=[1, 0, 1])
    assert median_rank(q, g, query_labels=[0, 1], gallery_labels=[1, 0, 1]) == 1.5
    assert ranks.tolist() == [2, 1]


def test_retrieval_agrees_with_recall_at_k():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(60, 5))
    b = a + rng.normal(size=(60, 5))
    scores = retrieval_scores(a, b, ks=(1, 5, 10))
    for k in (1, 5, 10):
        assert scores[f"R@{k}"] == recall_at_k(a, b, k)


def test_retrieval_bad_input():
    eye = np.eye(3)
    with pytest.raises(ValueError, match="columns"):
        retrieval_ranks(eye, np.eye(3, 2))
    with pytest.raises(ValueError, match="paired"):
        retrieval_ranks(eye, np.eye(4, 3))
    with pytest.raises(ValueError, match="both"):
        retrieval_ranks(eye, eye, query_labels=[0, 1, 2])
    with pytest.raises(ValueError, match="never occur"):
        retrieval_ranks(eye, eye, query_labels=[0, 1, 5], gallery_labels=[0, 1, 2])
    with pytest.raises(ValueError, match="k"):
        retrieval_scores(eye, eye, ks=(1, 4))
    with pytest.raises(TypeError, match="ks"):
        retrieval_scores(eye, eye, ks=1)
    with pytest.raises(ValueError, match="NaN"):
        retrieval_ranks(np.full((3, 3), np.nan), eye)
