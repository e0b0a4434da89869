"""mmlib's contrastive losses against the conventions readers meet in other libraries.

The table of the chapter "Which method when" rests on these checks:

* ``nt_xent(z_a, z_b, tau)`` equals pytorch-metric-learning's ``NTXentLoss(temperature=tau)``
  on the stacked codes with labels ``arange(B)`` twice -- but only with ``tau`` passed
  explicitly: the defaults differ (mmlib 0.1, PML 0.07).
* ``nce`` (MMV's NCE, one denominator over the row and the column of the similarity matrix)
  is not CLIP's symmetric InfoNCE (the mean of a row-wise and a column-wise cross-entropy).
  Per sample, with ``r_i`` and ``c_i`` CLIP's row and column terms,
  ``nce_i = log(exp(r_i) + exp(c_i) - 1)``, so ``nce >= clip`` always.
* ``mil_nce`` with one candidate per bag is ``nce``; the positives are counted once in its
  denominator.
"""

import inspect
import math

import pytest

torch = pytest.importorskip("torch")

from mmlib.losses import mil_nce, nce, nt_xent  # noqa: E402

F = torch.nn.functional


def _codes(b=16, e=8, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    z1 = scale * torch.randn(b, e, generator=g, dtype=torch.float64)
    z2 = z1 + 0.7 * scale * torch.randn(b, e, generator=g, dtype=torch.float64)
    return z1, z2


def clip_infonce(z1, z2, tau):
    """CLIP-style symmetric InfoNCE, from its definition (Radford et al., 2021, Fig. 3).

    Logits ``s = u1 u2^T / tau`` of unit-norm codes; the loss is the mean of the cross-entropy
    of the rows (image -> text) and of the columns (text -> image), labels ``arange(B)``.
    """
    u1, u2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    s = u1 @ u2.T / tau
    labels = torch.arange(s.shape[0])
    return (F.cross_entropy(s, labels) + F.cross_entropy(s.T, labels)) / 2


def clip_terms(z1, z2, tau):
    u1, u2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    s = u1 @ u2.T / tau
    labels = torch.arange(s.shape[0])
    rows = F.cross_entropy(s, labels, reduction="none")
    cols = F.cross_entropy(s.T, labels, reduction="none")
    return rows, cols


# ----------------------------------------------------------------------------- NT-Xent vs PML


@pytest.mark.parametrize("tau", [0.05, 0.1, 0.5])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_nt_xent_equals_pytorch_metric_learning(tau, scale):
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    z_a, z_b = _codes(scale=scale)
    b = z_a.shape[0]
    labels = torch.cat([torch.arange(b), torch.arange(b)])
    theirs = pml.NTXentLoss(temperature=tau)(torch.cat([z_a, z_b]), labels)
    ours = nt_xent(z_a, z_b, temperature=tau)
    # PML adds finfo.tiny inside its log: far below float64's resolution here
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12, abs=1e-12)


def test_nt_xent_defaults_differ_from_pml():
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    assert inspect.signature(nt_xent).parameters["temperature"].default == 0.1
    assert pml.NTXentLoss().temperature == 0.07
    z_a, z_b = _codes()
    labels = torch.cat([torch.arange(16), torch.arange(16)])
    default_pml = pml.NTXentLoss()(torch.cat([z_a, z_b]), labels).item()
    assert abs(nt_xent(z_a, z_b).item() - default_pml) > 0.1


# ----------------------------------------------------------------------------- NCE vs CLIP


@pytest.mark.parametrize("tau", [0.07, 0.1, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_nce_is_not_clip_but_an_exact_function_of_its_two_terms(tau, seed):
    z1, z2 = _codes(seed=seed)
    rows, cols = clip_terms(z1, z2, tau)
    clip = clip_infonce(z1, z2, tau)
    assert clip.item() == pytest.approx(((rows + cols) / 2).mean().item(), rel=1e-13)
    # one denominator over row i and column i (the positive once): exp(nce_i) = e^r + e^c - 1
    per_sample = torch.log(torch.exp(rows) + torch.exp(cols) - 1)
    assert nce(z1, z2, tau).item() == pytest.approx(per_sample.mean().item(), rel=1e-12)
    # so NCE is never below CLIP, and it is strictly above on any real batch
    assert nce(z1, z2, tau).item() > clip.item() + 1e-6


def test_nce_and_clip_differ_by_less_than_log_two_plus_the_row_column_gap():
    """log(e^r + e^c - 1) <= log 2 + max(r, c): the bound the chapter states."""
    z1, z2 = _codes(b=64, seed=3)
    rows, cols = clip_terms(z1, z2, 0.1)
    bound = (math.log(2) + torch.maximum(rows, cols)).mean().item()
    assert nce(z1, z2, 0.1).item() <= bound + 1e-12


def test_nce_is_symmetric_and_clip_is_too():
    z1, z2 = _codes()
    assert nce(z1, z2, 0.1).item() == pytest.approx(nce(z2, z1, 0.1).item(), rel=1e-13)
    assert clip_infonce(z1, z2, 0.1).item() == pytest.approx(
        clip_infonce(z2, z1, 0.1).item(), rel=1e-13
    )


def test_nt_xent_also_contrasts_within_a_modality():
    """NT-Xent's denominator holds 2B - 1 codes (the same modality's too); CLIP's B."""
    z1, z2 = _codes()
    assert nt_xent(z1, z2, 0.1).item() != pytest.approx(clip_infonce(z1, z2, 0.1).item(), rel=1e-3)


# ----------------------------------------------------------------------------- MIL-NCE


def test_mil_nce_with_one_candidate_is_nce():
    z1, z2 = _codes()
    assert mil_nce(z1, z2, 0.1).item() == pytest.approx(nce(z1, z2, 0.1).item(), rel=1e-13)


def test_mil_nce_counts_positives_once_not_twice():
    """The released code's denominator holds the positives twice; mmlib's (the paper's) once."""
    z, _ = _codes(b=8)
    g = torch.Generator().manual_seed(5)
    bags = z[:, None, :] + 0.5 * torch.randn(8, 3, 8, generator=g, dtype=torch.float64)
    tau = 0.1
    u, t = F.normalize(z, dim=1), F.normalize(bags, dim=2)
    s = torch.einsum("id,jkd->ijk", u, t) / tau  # s[i, j, k] = z_i . t_{j,k}
    b = s.shape[0]
    pos = torch.stack([torch.logsumexp(s[i, i], 0) for i in range(b)])
    row = torch.stack([torch.logsumexp(s[i].reshape(-1), 0) for i in range(b)])
    col_all = torch.stack([torch.logsumexp(s[:, i].reshape(-1), 0) for i in range(b)])
    once = torch.stack(
        [
            torch.logsumexp(
                torch.cat([s[i].reshape(-1), s[torch.arange(b) != i, i].reshape(-1)]), 0
            )
            for i in range(b)
        ]
    )
    twice = torch.logaddexp(row, col_all)  # row and full column: positives twice
    assert mil_nce(z, bags, tau).item() == pytest.approx((once - pos).mean().item(), rel=1e-12)
    assert (twice - pos).mean().item() > mil_nce(z, bags, tau).item()
