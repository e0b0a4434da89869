"""Differentiable objectives of the deep CCA family (torch).

Samples are rows: a batch of network outputs ``h`` has shape ``(n, o)``.

- :func:`cca_correlations` and :func:`cca_loss`: the Deep CCA objective of Andrew et al. (2013),
  minus the sum of the top-k canonical correlations of a batch of two network outputs.
- :func:`gcca_solution` and :func:`gcca_loss`: the Deep Generalized CCA objective of Benton et al.
  (2017), ``sum_j ||G - O_j U_j||_F^2`` with ``G`` and ``U_j`` from the GCCA of the current outputs.

Numerics (both losses):

- The covariances are computed in float64, whatever the dtype of the network, and the loss is
  cast back to the input dtype.
- The ridge is mmlib's dimensionless one (as in :mod:`mmlib.linear`): view ``j``'s covariance
  ``C_jj`` is replaced by ``(1 - reg) C_jj + reg * trace(C_jj) / d_j * I``. It does not depend on
  the scale of the outputs, so a network cannot make it vanish by inflating its outputs, and the
  loss is invariant to rescaling ``h``. (Andrew et al. add an absolute ``r * I`` to the
  ``1/(n - 1)`` covariance instead; with outputs of variance about 1 the two agree for
  ``r ~ reg``.) A further ``eps * I`` is an eigenvalue floor that keeps the factorisations defined
  when an output is constant.
- No matrix square root and no eigenvector derivative: the whitening uses Cholesky factors and the
  correlations are singular values (:func:`torch.linalg.svdvals`), whose gradient stays well
  defined when correlations are repeated (for example ``h1 == h2``), unlike the ``1/(l_i - l_j)``
  terms of an ``eigh``-based inverse square root.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from functools import partial

import torch

from mmlib._checks import (
    check_n_components,
    check_positive_float,
    check_reg,
    check_tensor_views,
)

__all__ = ["cca_correlations", "cca_loss", "gcca_loss", "gcca_solution"]


def _check_pair(h1: torch.Tensor, h2: torch.Tensor) -> None:
    """Validate two batches of network outputs; messages name ``h1`` / ``h2``."""
    for name, h in (("h1", h1), ("h2", h2)):
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(h).__name__}")
        if not h.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {h.dtype}")
        if h.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features), got shape {tuple(h.shape)}"
            )
        if h.shape[1] == 0:
            raise ValueError(f"{name} has no features (shape {tuple(h.shape)})")
        if not bool(torch.isfinite(h.detach()).all()):
            raise ValueError(
                f"{name} contains NaN or inf (if it is a network output, the training diverged: "
                "lower the learning rate or raise reg)"
            )
    if h1.shape[0] != h2.shape[0]:
        raise ValueError(
            f"h1 and h2 must have the same number of samples (rows), got {h1.shape[0]} and "
            f"{h2.shape[0]}"
        )
    if h1.shape[0] < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got a batch of {h1.shape[0]}")


def _cholesky(cov: torch.Tensor, name: str) -> torch.Tensor:
    """Lower Cholesky factor, with a clear error when ``cov`` is not positive definite."""
    chol, info = torch.linalg.cholesky_ex(cov)
    if int(info) != 0:
        raise ValueError(
            f"the regularised covariance of {name} is not positive definite (its outputs are "
            "constant or collinear); use reg > 0 or a larger eps"
        )
    return chol


def _ridge(cov: torch.Tensor, reg: float, eps: float) -> torch.Tensor:
    """``(1 - reg) C + (reg * trace(C) / d + eps) I``: mmlib's dimensionless ridge plus a floor."""
    d = cov.shape[0]
    shift = reg * torch.diagonal(cov).sum() / d + eps
    return (1.0 - reg) * cov + shift * torch.eye(d, dtype=cov.dtype, device=cov.device)


@contextmanager
def _one_thread():
    """Run the losses' small float64 linear algebra on one CPU thread.

    Products and factorisations of ``(n, o)`` and ``(o, o)`` matrices gain nothing from threads,
    and on a busy machine each multithreaded MKL call can lose milliseconds waiting for its
    thread team: a 20- to 100-fold slowdown of the loss, measured on 2 shared cores.
    """
    threads = torch.get_num_threads()
    if threads > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if threads > 1:
            torch.set_num_threads(threads)


class _OnOneThread(torch.autograd.Function):
    """``fn(*inputs)`` with its forward and backward pass on one CPU thread.

    The backward pass recomputes ``fn`` (cheap: small matrices) and differentiates it by autograd,
    so the gradient is exactly that of ``fn``.
    """

    @staticmethod
    def forward(ctx, fn, *inputs):
        ctx.fn = fn
        ctx.save_for_backward(*inputs)
        with _one_thread():
            return fn(*inputs)

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad[1:]
        inputs = [
            x.detach().requires_grad_(n) for x, n in zip(ctx.saved_tensors, needs, strict=True)
        ]
        wanted = [x for x in inputs if x.requires_grad]
        with torch.enable_grad(), _one_thread():
            grads = iter(torch.autograd.grad(ctx.fn(*inputs), wanted, grad, allow_unused=True))
        return (None, *[next(grads) if x.requires_grad else None for x in inputs])


def _correlations(
    x: torch.Tensor, y: torch.Tensor, r1: float, r2: float, eps: float
) -> torch.Tensor:
    """The math of :func:`cca_correlations` on float64 outputs (no validation)."""
    n = x.shape[0]
    x = x - x.mean(dim=0, keepdim=True)
    y = y - y.mean(dim=0, keepdim=True)
    s11 = _ridge(x.T @ x / (n - 1), r1, eps)
    s22 = _ridge(y.T @ y / (n - 1), r2, eps)
    s12 = x.T @ y / (n - 1)
    l1 = _cholesky(s11, "h1")
    l2 = _cholesky(s22, "h2")
    a = torch.linalg.solve_triangular(l1, s12, upper=False)  # L1^{-1} S12
    t = torch.linalg.solve_triangular(l2.T, a, upper=True, left=False)  # (L1^{-1} S12) L2^{-T}
    return torch.linalg.svdvals(t)


def cca_correlations(
    h1: torch.Tensor, h2: torch.Tensor, reg: float | Sequence[float] = 1e-3, eps: float = 1e-9
) -> torch.Tensor:
    r"""All canonical correlations of a batch, differentiable.

    With centred outputs :math:`\bar H_1 \in \mathbb{R}^{n \times o_1}`,
    :math:`\bar H_2 \in \mathbb{R}^{n \times o_2}` and the regularised covariances

    .. math::

        \Sigma_{12} = \tfrac{1}{n-1} \bar H_1^\top \bar H_2, \qquad
        \Sigma_{jj} = (1 - r_j) \tfrac{1}{n-1} \bar H_j^\top \bar H_j
                      + \big(r_j \operatorname{tr}(\cdot)/o_j + \varepsilon\big) I,

    the canonical correlations are the singular values of
    :math:`T = \Sigma_{11}^{-1/2} \Sigma_{12} \Sigma_{22}^{-1/2}`. They are computed from
    :math:`T' = L_1^{-1} \Sigma_{12} L_2^{-\top}` with Cholesky factors
    :math:`\Sigma_{jj} = L_j L_j^\top`: :math:`L_j^{-1} = Q_j \Sigma_{jj}^{-1/2}` with :math:`Q_j`
    orthogonal, so :math:`T'` and :math:`T` have the same singular values.

    Parameters
    ----------
    h1, h2 : torch.Tensor of shape (n, o1) and (n, o2)
        Two views of the same ``n >= 2`` samples (floating point, finite).
    reg : float in [0, 1) or a pair of them
        Dimensionless ridge of each covariance (see the module docstring).
    eps : float >= 0
        Absolute floor added to the diagonal of both covariances.

    Returns
    -------
    torch.Tensor of shape (min(o1, o2),)
        The canonical correlations in descending order, float64.

    References
    ----------
    G. Andrew, R. Arora, J. Bilmes, K. Livescu. Deep canonical correlation analysis. ICML 2013.
    """
    _check_pair(h1, h2)
    r1, r2 = check_reg(reg, 2)
    eps = check_positive_float(eps, "eps", allow_zero=True)
    x, y = h1.to(torch.float64), h2.to(torch.float64)
    return _OnOneThread.apply(partial(_correlations, r1=r1, r2=r2, eps=eps), x, y)


def cca_loss(
    h1: torch.Tensor,
    h2: torch.Tensor,
    n_components: int | None = None,
    reg: float | Sequence[float] = 1e-3,
    eps: float = 1e-9,
) -> torch.Tensor:
    r"""Deep CCA loss: minus the sum of the top-k canonical correlations of a batch.

    .. math::

        \mathcal{L}(H_1, H_2) = -\sum_{i=1}^{k} \sigma_i(T), \qquad
        T = \Sigma_{11}^{-1/2} \Sigma_{12} \Sigma_{22}^{-1/2}

    With ``n_components=None`` (all correlations) this is minus the trace (nuclear) norm
    :math:`\|T\|_* = \operatorname{tr}\big((T^\top T)^{1/2}\big)`, the "total correlation" of
    Andrew et al. (2013) -- not the Frobenius norm :math:`\sqrt{\operatorname{tr}(T^\top T)}`.
    See :func:`cca_correlations` for the covariances, the ridge and the Cholesky whitening.

    Parameters
    ----------
    h1, h2 : torch.Tensor of shape (n, o1) and (n, o2)
        Network outputs for the same ``n >= 2`` samples.
    n_components : int or None
        Number ``k <= min(o1, o2)`` of correlations to sum; ``None`` sums all of them.
    reg : float in [0, 1) or a pair of them
        Dimensionless ridge of each covariance.
    eps : float >= 0
        Eigenvalue floor added to both covariances.

    Returns
    -------
    torch.Tensor
        A scalar in ``[-k, 0]``, in the dtype of ``h1``.

    References
    ----------
    G. Andrew, R. Arora, J. Bilmes, K. Livescu. Deep canonical correlation analysis. ICML 2013.
    """
    _check_pair(h1, h2)
    max_k = min(h1.shape[1], h2.shape[1])
    k = max_k if n_components is None else n_components
    k = check_n_components(k, max_k, reason="min(h1.shape[1], h2.shape[1])")
    corr = cca_correlations(h1, h2, reg=reg, eps=eps)
    return -corr[:k].sum().to(h1.dtype)


def _gcca_scatter(outputs: Sequence[torch.Tensor], regs: Sequence[float], eps: float):
    """Centred float64 outputs ``O_j`` and their ridges ``lambda_j`` (in the autograd graph)."""
    centred, lams = [], []
    for o, r in zip(outputs, regs, strict=True):
        o = o.to(torch.float64)
        o = o - o.mean(dim=0, keepdim=True)
        # O_j^T O_j + lambda_j I = (n - 1) C_jj(reg) / (1 - reg), as in mmlib.linear.GCCA
        lam = r / (1.0 - r) * (o * o).sum() / o.shape[1] + eps
        centred.append(o)
        lams.append(lam)
    return centred, lams


def gcca_solution(
    outputs: Sequence[torch.Tensor],
    n_components: int,
    reg: float | Sequence[float] = 1e-3,
    eps: float = 1e-9,
) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    r"""Regularised MAXVAR GCCA of a batch, without gradient: ``G``, ``U_j`` and eigenvalues.

    Solves, for centred :math:`O_j \in \mathbb{R}^{n \times o_j}` (samples as rows),

    .. math::

        \min_{G,\,U_j} \sum_j \|G - O_j U_j\|_F^2 + \lambda_j \|U_j\|_F^2
        \quad \text{s.t.} \quad G^\top G = I_r,

    whose solution is :math:`U_j = (O_j^\top O_j + \lambda_j I)^{-1} O_j^\top G` and :math:`G` =
    the top-r eigenvectors of :math:`M = \sum_j O_j (O_j^\top O_j + \lambda_j I)^{-1} O_j^\top`.
    :math:`M` (n x n) is never formed: with Cholesky factors
    :math:`O_j^\top O_j + \lambda_j I = L_j L_j^\top`, the whitened blocks
    :math:`W_j = O_j L_j^{-\top}` give :math:`M = W W^\top` for :math:`W = [W_1, \dots, W_J]`
    (n x D, D = sum of o_j), so :math:`G` is the top-r left singular vectors of :math:`W`, from a
    thin SVD in O(n D^2).

    ``lambda_j = reg_j / (1 - reg_j) * trace(O_j^T O_j) / o_j + eps`` is mmlib's dimensionless
    ridge, the same as :class:`mmlib.linear.GCCA`'s: with ``eps = 0`` both find the same ``G``,
    ``U_j`` and eigenvalues.

    Parameters
    ----------
    outputs : list of torch.Tensor of shape (n, o_j)
        At least two views of the same ``n`` samples.
    n_components : int
        ``r``, at most ``min(n - 1, D)``.
    reg : float in [0, 1) or one per view
        Dimensionless ridge.
    eps : float >= 0
        Absolute floor on the ridge.

    Returns
    -------
    G : torch.Tensor of shape (n, r), float64, orthonormal columns
    U : list of torch.Tensor of shape (o_j, r), float64
    eigenvalues : torch.Tensor of shape (r,), float64, descending, each in [0, J]
    """
    outputs = check_tensor_views(outputs, min_views=2, name="outputs")
    regs = check_reg(reg, len(outputs))
    eps = check_positive_float(eps, "eps", allow_zero=True)
    n = outputs[0].shape[0]
    total = sum(o.shape[1] for o in outputs)
    r = check_n_components(
        n_components, min(n - 1, total), reason="min(n_samples - 1, total output dimension)"
    )
    with torch.no_grad(), _one_thread():
        centred, lams = _gcca_scatter([o.detach() for o in outputs], regs, eps)
        chols, blocks = [], []
        for j, (o, lam) in enumerate(zip(centred, lams, strict=True)):
            eye = torch.eye(o.shape[1], dtype=o.dtype, device=o.device)
            chol = _cholesky(o.T @ o + lam * eye, f"outputs[{j}]")
            chols.append(chol)
            # W_j = O_j L_j^{-T}: solve X L_j^T = O_j
            blocks.append(torch.linalg.solve_triangular(chol.T, o, upper=True, left=False))
        left, sing, _ = torch.linalg.svd(torch.cat(blocks, dim=1), full_matrices=False)
        g = left[:, :r]
        us = [torch.cholesky_solve(o.T @ g, chol) for o, chol in zip(centred, chols, strict=True)]
    return g, us, sing[:r] ** 2


def gcca_loss(
    outputs: Sequence[torch.Tensor],
    n_components: int,
    reg: float | Sequence[float] = 1e-3,
    eps: float = 1e-9,
) -> torch.Tensor:
    r"""Deep GCCA loss: the GCCA reconstruction error of the current outputs.

    .. math::

        \mathcal{L}(O_1, \dots, O_J) = \sum_{j=1}^{J} \|G - O_j U_j\|_F^2 + \lambda_j \|U_j\|_F^2,
        \qquad G^\top G = I_r,

    with ``O_j`` the centred outputs of network ``f_j`` and ``G`` (n x r), ``U_j`` (o_j x r) the
    optimal GCCA solution for them (:func:`gcca_solution`), computed without gradient. Because
    ``G`` and ``U_j`` minimise the objective, the envelope theorem makes the gradient with ``G``,
    ``U_j`` held fixed equal the gradient of the optimal value, ``J r - sum of the top-r
    eigenvalues``: the loss is a differentiable function of the outputs when the r-th and (r+1)-th
    eigenvalues differ, and gradient checks pass on it.

    Parameters
    ----------
    outputs : list of torch.Tensor of shape (n, o_j)
        Network outputs of at least two views for the same samples.
    n_components : int
        ``r``, the dimension of the shared representation ``G``.
    reg : float in [0, 1) or one per view
        Dimensionless ridge (see :func:`gcca_solution`).
    eps : float >= 0
        Absolute floor on the ridge.

    Returns
    -------
    torch.Tensor
        A scalar in ``[0, J r]``, in the dtype of ``outputs[0]``.

    References
    ----------
    A. Benton, H. Khayrallah, B. Gujral, D. Reisinger, S. Zhang, R. Arora. Deep generalized
    canonical correlation analysis. RepL4NLP 2019 (arXiv:1702.02519, 2017).
    """
    g, us, _ = gcca_solution(outputs, n_components, reg=reg, eps=eps)
    regs = check_reg(reg, len(outputs))

    def objective(*outputs64: torch.Tensor) -> torch.Tensor:
        centred, lams = _gcca_scatter(outputs64, regs, eps)  # this time inside the graph
        return sum(
            ((g - o @ u) ** 2).sum() + lam * (u**2).sum()
            for o, u, lam in zip(centred, us, lams, strict=True)
        )

    loss = _OnOneThread.apply(objective, *[o.to(torch.float64) for o in outputs])
    return loss.to(outputs[0].dtype)


# --------------------------------------------------------------------------------------------
# GMC: contrast each modality's code with the joint code (Poklukar et al., 2022)
# --------------------------------------------------------------------------------------------

__all__ += ["gmc_loss", "nt_xent"]


def nt_xent(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    r"""The NT-Xent (normalised temperature-scaled cross-entropy) loss of two paired batches.

    The :math:`2B` codes :math:`u = [z_a; z_b]` are scaled to unit norm; with
    :math:`s_{ij} = u_i^\top u_j / \tau` and :math:`p(i)` the partner of row :math:`i`
    (:math:`i \pm B`),

    .. math:: \ell = \frac{1}{2B} \sum_{i=1}^{2B} -\log
              \frac{\exp s_{i\,p(i)}}{\sum_{j \ne i} \exp s_{ij}},

    a cross-entropy in which each code must pick its partner among the other :math:`2B - 1`
    codes of the batch (Chen et al., 2020, SimCLR).

    Parameters
    ----------
    z_a, z_b : torch.Tensor of shape (B, e)
        Paired codes (row ``i`` of both describes the same sample); any scale, B >= 2.
    temperature : float > 0, default 0.1

    Returns
    -------
    torch.Tensor
        A scalar, in the dtype of ``z_a``.
    """
    check_tensor_views([z_a, z_b], min_views=2, name="codes")
    if z_a.shape != z_b.shape:
        raise ValueError(
            f"the paired codes must have the same shape, got {tuple(z_a.shape)} and "
            f"{tuple(z_b.shape)}"
        )
    tau = check_positive_float(temperature, "temperature")
    return _nt_xent(z_a, z_b, tau)


def _nt_xent(z_a: torch.Tensor, z_b: torch.Tensor, tau: float) -> torch.Tensor:
    b = z_a.shape[0]
    if b < 2:
        raise ValueError(f"a contrastive loss needs a batch of at least 2 samples, got {b}")
    u = torch.nn.functional.normalize(torch.cat([z_a, z_b]), dim=1)
    sim = u @ u.T / tau
    eye = torch.eye(2 * b, dtype=torch.bool, device=u.device)
    sim = sim.masked_fill(eye, float("-inf"))  # a code is not its own negative
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(u.device)
    return torch.nn.functional.cross_entropy(sim, partner)


def gmc_loss(
    joint: torch.Tensor, modality_codes: Sequence[torch.Tensor], temperature: float = 0.1
) -> torch.Tensor:
    r"""The GMC loss: NT-Xent between the joint code and each modality's code, summed.

    For modality :math:`m`, take the :math:`2B` unit-norm codes
    :math:`[z_{1:M}^1, \dots, z_{1:M}^B, z_m^1, \dots, z_m^B]`; the positive pair of
    :math:`z_{1:M}^i` is :math:`z_m^i` and every other code of the batch is a negative:

    .. math:: \ell_m = \frac{1}{2B} \sum_{i=1}^{2B} -\log
              \frac{\exp(\operatorname{sim}(u_i, u_{p(i)})/\tau)}
                   {\sum_{j \ne i} \exp(\operatorname{sim}(u_i, u_j)/\tau)},
              \qquad
              \mathcal L_{\text{GMC}} = \sum_{m=1}^{M} \ell_m,

    with :math:`\operatorname{sim}` the cosine similarity. Only modality-vs-joint pairs are
    contrasted, so the cost grows linearly with :math:`M` (Poklukar et al., 2022, eq. 4-6).

    Parameters
    ----------
    joint : torch.Tensor of shape (B, e)
        Codes of the complete observations, :math:`z_{1:M} = g(f_{1:M}(x_{1:M}))`.
    modality_codes : sequence of M >= 1 torch.Tensor of shape (B, e)
        Codes :math:`z_m = g(f_m(x_m))` of the same samples, one per modality.
    temperature : float > 0, default 0.1
        :math:`\tau` (0.1 in the paper's MHD experiment).

    Returns
    -------
    torch.Tensor
        A scalar, in the dtype of ``joint``; each term is at least 0 and, for random codes,
        near :math:`\log(2B - 1)`.

    Raises
    ------
    ValueError
        No modality, batches of different sizes or widths, NaN/inf, ``temperature <= 0``.
    TypeError
        Something that is not a floating-point tensor.

    References
    ----------
    P. Poklukar, M. Vasco, H. Yin, F. S. Melo, A. Paiva, D. Kragic. Geometric multimodal
    contrastive representation learning. ICML 2022.
    """
    if isinstance(modality_codes, torch.Tensor) or not isinstance(modality_codes, Sequence):
        raise TypeError(
            "modality_codes must be a list of tensors (one per modality), got "
            f"{type(modality_codes).__name__}"
        )
    if len(modality_codes) == 0:
        raise ValueError("modality_codes is empty: give at least one modality's codes")
    codes = check_tensor_views([joint, *modality_codes], min_views=2, name="codes")
    widths = {int(z.shape[1]) for z in codes}
    if len(widths) != 1:
        shapes = [tuple(z.shape) for z in codes]
        raise ValueError(f"joint and every modality code must have the same width, got {shapes}")
    tau = check_positive_float(temperature, "temperature")
    return sum(_nt_xent(joint, z_m, tau) for z_m in codes[1:])
