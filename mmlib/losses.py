"""Differentiable objectives of the deep CCA family (torch).

Samples are rows: a batch of network outputs ``h`` has shape ``(n, o)``.

- :func:`cca_correlations` and :func:`cca_loss`: the Deep CCA objective of Andrew et al. (2013),
  minus the sum of the top-k canonical correlations of a batch of two network outputs.
- :func:`gcca_solution` and :func:`gcca_loss`: the Deep Generalized CCA objective of Benton et al.
  (2017), ``sum_j ||G - O_j U_j||_F^2`` with ``G`` and ``U_j`` from the GCCA of the current outputs.

Numerics (both losses):

- The covariances are computed in float64, whatever the dtype of the network, and the loss is
  cast back to the input dtype.
- **The ridge** (one convention for all of mmlib, linear and deep): ``reg = r`` in ``[0, 1)``
  replaces view ``j``'s covariance ``C_jj`` (``d_j x d_j``) by

  ``C_jj + lambda_j I``, with ``lambda_j = r_j / (1 - r_j) * trace(C_jj) / d_j``.

  It has the directions of the shrinkage ``(1 - r) C + r trace(C) / d I`` (it is that matrix
  divided by ``1 - r``), but it never makes a covariance smaller than ``C``, so the reported
  correlations, the singular values of ``(C_11 + lambda_1 I)^{-1/2} C_12 (C_22 + lambda_2 I)^{-1/2}``,
  never exceed 1 whatever the ridge (they equal the shrinkage values times
  ``sqrt((1 - r_1)(1 - r_2))``). It is dimensionless: it does not depend on the scale of the
  outputs, so a network cannot make it vanish by inflating its outputs. (Andrew et al. add an
  absolute ``r I`` to the covariance instead; with outputs of variance about 1 the two agree for
  ``r ~ reg``.) GCCA uses the same ``lambda_j`` (:func:`gcca_solution`), so its eigenvalues stay
  in ``[0, J]``.
- **The floor** ``eps`` is relative too: ``eps * trace(C_jj) / d_j`` is added to the diagonal, so
  it keeps the factorisations defined for (nearly) collinear outputs without breaking the scale
  invariance: ``cca_loss(c * h1, h2) == cca_loss(h1, h2)`` for any ``c > 0``. A constant output
  (``trace(C_jj) = 0``) is a clear error.
- No matrix square root and no eigenvector derivative: the whitening uses Cholesky factors and the
  correlations are singular values (:func:`torch.linalg.svdvals`), whose gradient stays well
  defined when correlations are repeated (for example ``h1 == h2``), unlike the ``1/(l_i - l_j)``
  terms of an ``eigh``-based inverse square root.
- Two objectives (:func:`cca_loss`'s ``objective``): ``"sum"``, minus the sum of the top-k
  correlations (Andrew et al.'s total correlation, the trace norm for ``k = o``), and
  ``"squared"``, minus the sum of their squares (cca-zoo's DCCA loss for ``k = o``, the squared
  Frobenius norm of the whitened cross-covariance).
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
    refuse_meta,
    unit_scale,
)
from mmlib.distributed import gather_for_loss

__all__ = ["OBJECTIVES", "cca_correlations", "cca_loss", "gcca_loss", "gcca_solution"]


def _refuse_meta(h: torch.Tensor, name: str) -> None:
    if h.device.type == "meta":
        raise ValueError(f"{name} is on the 'meta' device: it has a shape but no values")


def _check_outputs(outputs) -> list[torch.Tensor]:
    """Validate the GCCA outputs (messages name ``outputs[j]``)."""
    if isinstance(outputs, (list, tuple)):
        for j, o in enumerate(outputs):
            if isinstance(o, torch.Tensor):
                _refuse_meta(o, f"outputs[{j}]")
    return check_tensor_views(outputs, min_views=2, name="outputs")


def _check_pair(h1: torch.Tensor, h2: torch.Tensor) -> None:
    """Validate two batches of network outputs; messages name ``h1`` / ``h2``."""
    for name, h in (("h1", h1), ("h2", h2)):
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(h).__name__}")
        _refuse_meta(h, name)
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
            f"the regularised covariance of {name} is not positive definite: its outputs are "
            "constant (no variance to correlate), or collinear with reg = 0 and eps = 0 (use "
            "reg > 0 or eps > 0)"
        )
    return chol


def _ridge(cov: torch.Tensor, reg: float, eps: float) -> torch.Tensor:
    """``C + (reg / (1 - reg) + eps) * trace(C) / d * I``: mmlib's ridge plus a relative floor."""
    d = cov.shape[0]
    shift = (reg / (1.0 - reg) + eps) * torch.diagonal(cov).sum() / d
    return cov + shift * torch.eye(d, dtype=cov.dtype, device=cov.device)


@contextmanager
def _one_thread():
    """Run the losses' small float64 linear algebra on one CPU thread.

    Products and factorisations of ``(n, o)`` and ``(o, o)`` matrices gain nothing from threads,
    and on a busy machine each multithreaded call can lose milliseconds waiting for its thread
    team: ``benchmarks/dcca_threads.py`` measured a 10-fold slowdown of the loss's forward and
    backward pass with 2 threads on 2 shared cores.
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

    The forward pass records ``fn``'s own autograd graph on detached copies of the inputs and the
    backward pass differentiates through it (no recomputation), both inside :func:`_one_thread`;
    the gradient is exactly that of ``fn``. On other devices ``fn`` is called directly.
    """

    @staticmethod
    def forward(ctx, fn, *inputs):
        ctx.inputs = [
            x.detach().requires_grad_(n)
            for x, n in zip(inputs, ctx.needs_input_grad[1:], strict=True)
        ]
        with torch.enable_grad(), _one_thread():
            ctx.out = fn(*ctx.inputs)
        return ctx.out.detach()

    @staticmethod
    def backward(ctx, grad):
        wanted = [x for x in ctx.inputs if x.requires_grad]
        with _one_thread():  # retain: the outer graph may be differentiated again (gradcheck)
            grads = iter(
                torch.autograd.grad(ctx.out, wanted, grad, retain_graph=True, allow_unused=True)
            )
        result = [next(grads) if x.requires_grad else None for x in ctx.inputs]
        return (None, *result)


def _on_one_thread(fn, *inputs: torch.Tensor) -> torch.Tensor:
    """``fn(*inputs)``, on one thread for CPU tensors (see :class:`_OnOneThread`)."""
    if inputs[0].device.type != "cpu" or torch.get_num_threads() == 1:
        return fn(*inputs)
    if not any(x.requires_grad for x in inputs) or not torch.is_grad_enabled():
        with _one_thread():
            return fn(*inputs)
    return _OnOneThread.apply(fn, *inputs)


def _centred(h: torch.Tensor) -> torch.Tensor:
    """``h`` divided by its largest ``|value|`` (a constant: no gradient), then centred.

    The losses do not depend on the scale of each view, so this changes nothing but the
    arithmetic: outputs of size 1e-300 or 1e300 neither underflow nor overflow in ``h^T h``.
    """
    scale = h.detach().abs().max()
    if scale > 0:
        h = h / scale
    return h - h.mean(dim=0, keepdim=True)


def _correlations(
    x: torch.Tensor, y: torch.Tensor, r1: float, r2: float, eps: float
) -> torch.Tensor:
    """The math of :func:`cca_correlations` on float64 outputs (no validation)."""
    n = x.shape[0]
    x, y = _centred(x), _centred(y)
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

        \begin{aligned}
        \Sigma_{12} &= \tfrac{1}{n-1} \bar H_1^\top \bar H_2, \qquad
        C_{jj} = \tfrac{1}{n-1} \bar H_j^\top \bar H_j, \\
        \Sigma_{jj} &= C_{jj} + \Big(\frac{r_j}{1 - r_j} + \varepsilon\Big)
                       \frac{\operatorname{tr}(C_{jj})}{o_j} I,
        \end{aligned}

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
        Relative floor: ``eps * trace(C_jj) / o_j`` is added to the diagonal of each covariance.

    Returns
    -------
    torch.Tensor of shape (min(o1, o2),)
        The canonical correlations in descending order, float64, each in ``[0, 1]``.

    References
    ----------
    G. Andrew, R. Arora, J. Bilmes, K. Livescu. Deep canonical correlation analysis. ICML 2013.
    """
    _check_pair(h1, h2)
    r1, r2 = check_reg(reg, 2)
    eps = check_positive_float(eps, "eps", allow_zero=True)
    x, y = h1.to(torch.float64), h2.to(torch.float64)
    return _on_one_thread(partial(_correlations, r1=r1, r2=r2, eps=eps), x, y)


#: Objectives :func:`cca_loss` (and :class:`mmlib.models.DCCA <mmlib.models.correlation.DCCA>`) accept, by name.
OBJECTIVES = ("sum", "squared")


def _check_objective(objective) -> str:
    if not isinstance(objective, str) or objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {list(OBJECTIVES)}, got {objective!r}")
    return objective


def cca_loss(
    h1: torch.Tensor,
    h2: torch.Tensor,
    n_components: int | None = None,
    reg: float | Sequence[float] = 1e-3,
    eps: float = 1e-9,
    objective: str = "sum",
    gather: bool | None = None,
) -> torch.Tensor:
    r"""Deep CCA loss: minus the sum of the top-k canonical correlations of a batch (or squares).

    .. math::

        \begin{aligned}
        \mathcal{L}_{\text{sum}}(H_1, H_2) &= -\sum_{i=1}^{k} \sigma_i(T), \\
        \mathcal{L}_{\text{squared}}(H_1, H_2) &= -\sum_{i=1}^{k} \sigma_i(T)^2, \\
        T &= \Sigma_{11}^{-1/2} \Sigma_{12} \Sigma_{22}^{-1/2}
        \end{aligned}

    With ``n_components=None`` (all correlations) ``"sum"`` is minus the trace (nuclear) norm
    :math:`\|T\|_* = \operatorname{tr}\big((T^\top T)^{1/2}\big)`, the "total correlation" of
    Andrew et al. (2013), and ``"squared"`` is minus the squared Frobenius norm
    :math:`\|T\|_F^2 = \operatorname{tr}(T^\top T)`, the loss of cca-zoo's ``DCCA``. The
    squared form weighs strong correlations more and its gradient vanishes for uncorrelated
    directions; ``"sum"`` gives every direction the same pull. See :func:`cca_correlations` for
    the covariances, the ridge and the Cholesky whitening.

    Parameters
    ----------
    h1, h2 : torch.Tensor of shape (n, o1) and (n, o2)
        Network outputs for the same ``n >= 2`` samples.
    n_components : int or None
        Number ``k <= min(o1, o2)`` of correlations in the loss; ``None`` takes all of them.
    reg : float in [0, 1) or a pair of them
        Dimensionless ridge of each covariance (module docstring).
    eps : float >= 0
        Relative eigenvalue floor (module docstring).
    objective : {"sum", "squared"}
        Minus the sum of the correlations, or of their squares.
    gather : bool or None, default None
        Compute the loss on the global batch of all processes (:mod:`mmlib.distributed`):
        ``None`` does so when a ``torch.distributed`` process group of several processes is
        initialised, ``True`` requires one, ``False`` uses this process's rows only.

    Returns
    -------
    torch.Tensor
        A scalar in ``[-k, 0]``, in the dtype of ``h1``.

    References
    ----------
    G. Andrew, R. Arora, J. Bilmes, K. Livescu. Deep canonical correlation analysis. ICML 2013.
    """
    h1, h2 = gather_for_loss((h1, h2), gather, ("h1", "h2"))
    _check_pair(h1, h2)
    max_k = min(h1.shape[1], h2.shape[1])
    k = max_k if n_components is None else n_components
    k = check_n_components(k, max_k, reason="min(h1.shape[1], h2.shape[1])")
    objective = _check_objective(objective)
    corr = cca_correlations(h1, h2, reg=reg, eps=eps)[:k]
    value = corr.sum() if objective == "sum" else (corr * corr).sum()
    return -value.to(h1.dtype)


def _gcca_scatter(outputs: Sequence[torch.Tensor], regs: Sequence[float], eps: float):
    """Centred float64 outputs ``O_j`` and their ridges ``lambda_j`` (in the autograd graph)."""
    centred, lams = [], []
    for o, r in zip(outputs, regs, strict=True):
        o = _centred(o.to(torch.float64))  # rescaled: U_j below is for the rescaled O_j
        # O_j^T O_j + lambda_j I = (n - 1) (C_jj + lambda I): the ridge of the module docstring
        lam = (r / (1.0 - r) + eps) * (o * o).sum() / o.shape[1]
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

    ``lambda_j = (reg_j / (1 - reg_j) + eps) * trace(O_j^T O_j) / o_j`` is mmlib's dimensionless
    ridge (module docstring), the same as :class:`mmlib.linear.GCCA`'s: with ``eps = 0`` both find
    the same ``G``, ``U_j`` and eigenvalues. Each term of ``M`` is a shrunk projector (eigenvalues
    in ``[0, 1)`` for ``lambda_j > 0``), so every eigenvalue lies in ``[0, J]``.

    Parameters
    ----------
    outputs : list of torch.Tensor of shape (n, o_j)
        At least two views of the same ``n`` samples.
    n_components : int
        ``r``, at most ``min(n - 1, D)``.
    reg : float in [0, 1) or one per view
        Dimensionless ridge.
    eps : float >= 0
        Relative floor on the ridge.

    Returns
    -------
    G : torch.Tensor of shape (n, r), float64, orthonormal columns
    U : list of torch.Tensor of shape (o_j, r), float64
    eigenvalues : torch.Tensor of shape (r,), float64, descending, each in [0, J]
    """
    g, us, eig, scales = _gcca_solution(outputs, n_components, reg, eps)
    return g, [u / s for u, s in zip(us, scales, strict=True)], eig


def _gcca_solution(outputs, n_components, reg, eps):
    """:func:`gcca_solution` with ``U_j`` for the rescaled outputs ``O_j / s_j``, and ``s_j``."""
    outputs = _check_outputs(outputs)
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
        scales = [o.detach().to(torch.float64).abs().max() for o in outputs]
    return g, us, sing[:r] ** 2, [s if s > 0 else torch.ones_like(s) for s in scales]


def gcca_loss(
    outputs: Sequence[torch.Tensor],
    n_components: int,
    reg: float | Sequence[float] = 1e-3,
    eps: float = 1e-9,
    gather: bool | None = None,
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
        Relative floor on the ridge.
    gather : bool or None, default None
        Use the global batch of all processes, as :func:`cca_loss` does (``None``: if several run).

    Returns
    -------
    torch.Tensor
        A scalar in ``[0, J r]``, in the dtype of ``outputs[0]``.

    References
    ----------
    A. Benton, H. Khayrallah, B. Gujral, D. Reisinger, S. Zhang, R. Arora. Deep generalized
    canonical correlation analysis. RepL4NLP 2019 (arXiv:1702.02519, 2017).
    """
    outputs = gather_for_loss(outputs, gather, "outputs")
    g, us, _, _ = _gcca_solution(outputs, n_components, reg, eps)  # U_j of the rescaled O_j
    regs = check_reg(reg, len(outputs))

    def objective(*outputs64: torch.Tensor) -> torch.Tensor:
        centred, lams = _gcca_scatter(outputs64, regs, eps)  # this time inside the graph
        return sum(
            ((g - o @ u) ** 2).sum() + lam * (u**2).sum()
            for o, u, lam in zip(centred, us, lams, strict=True)
        )

    loss = _on_one_thread(objective, *[o.to(torch.float64) for o in outputs])
    return loss.to(outputs[0].dtype)


# --------------------------------------------------------------------------------------------
# MMV: NCE and MIL-NCE (Alayrac et al., 2020; Miech et al., 2020)
# --------------------------------------------------------------------------------------------

__all__ += ["mil_nce", "nce"]


def _check_codes(z: torch.Tensor, name: str, ndim: tuple[int, ...]) -> None:
    """A floating, finite tensor of one of the allowed ranks, with rows and features."""
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if not z.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {z.dtype}")
    refuse_meta(z, name)
    if z.ndim not in ndim:
        shapes = " or ".join({2: "(batch, dim)", 3: "(batch, n_positives, dim)"}[d] for d in ndim)
        raise ValueError(f"{name} must have shape {shapes}, got shape {tuple(z.shape)}")
    if z.shape[0] == 0 or z.shape[-1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(z.shape)})")
    if not bool(torch.isfinite(z.detach()).all()):
        raise ValueError(f"{name} contains NaN or inf")


def _check_negatives(batch: int) -> None:
    if batch < 2:
        raise ValueError("a contrastive loss needs a batch of at least 2 samples (negatives)")


def _unit(z: torch.Tensor) -> torch.Tensor:
    # rows rescaled by powers of two first (exact): norms of codes x1e300 or x1e-300 would
    # overflow or underflow; a zero vector stays zero instead of becoming NaN
    z = unit_scale(z)
    return z / z.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny ** 0.5)


def _similarity_inputs(a: torch.Tensor, b: torch.Tensor, temperature, normalize):
    """``a``, ``b`` in their wider dtype, unit rows if ``normalize``; and ``tau``, checked."""
    tau = check_positive_float(temperature, "temperature")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    common = torch.promote_types(a.dtype, b.dtype)  # mixed dtypes: compute in the wider
    a, b = a.to(common), b.to(common)
    if normalize:
        a, b = _unit(a), _unit(b)
    return a, b, tau


def mil_nce(
    z: torch.Tensor,
    bags: torch.Tensor,
    temperature: float = 0.1,
    normalize: bool = True,
    gather: bool | None = None,
) -> torch.Tensor:
    r"""MIL-NCE: contrastive loss with a *bag* of candidate positives per sample.

    For sample :math:`x` of a batch, with code :math:`z_x` of one modality and the bag
    :math:`P(x) = \{t_{x,1}, \dots, t_{x,K}\}` of codes of the other (for example the K captions
    heard around a clip, some of them wrong),

    .. math::

        \text{MIL-NCE}(x) = -\log
        \frac{\sum_{t \in P(x)} e^{z_x^\top t / \tau}}
             {\sum_{t \in P(x)} e^{z_x^\top t / \tau}
              + \sum_{(z', t') \in \mathcal N(x)} e^{z'^\top t' / \tau}},

    where the negatives :math:`\mathcal N(x)` are the mismatched pairs of the batch that involve
    :math:`x`: its code with every other sample's bag, :math:`(z_x, t_{y,k})`, and every other
    sample's code with its bag, :math:`(z_y, t_{x,k})`, for :math:`y \ne x`. The loss is averaged
    over the batch. With one candidate per bag (``K = 1``) it is :func:`nce`.

    The released MIL-NCE code counts the positives twice in the denominator (once from the row
    and once from the column of the similarity matrix); here they are counted once, as in the
    equation.

    Parameters
    ----------
    z : torch.Tensor of shape (B, d)
        Codes of the first modality (e.g. vision), one per sample.
    bags : torch.Tensor of shape (B, K, d) or (B, d)
        ``K >= 1`` candidate positives per sample in the second modality (e.g. text); a 2-D
        tensor is one candidate each.
    temperature : float > 0
        :math:`\tau`.
    normalize : bool, default True
        L2-normalise every code first (the dot products are then cosine similarities, and the
        loss does not change when codes are rescaled).
    gather : bool or None, default None
        Use the global batch of all processes, as :func:`cca_loss` does (``None``: if several run).

    Returns
    -------
    torch.Tensor
        A scalar, at least 0, in the dtype of ``z``.

    References
    ----------
    A. Miech, J.-B. Alayrac, L. Smaira, I. Laptev, J. Sivic, A. Zisserman. End-to-end learning of
    visual representations from uncurated instructional videos. CVPR 2020.
    J.-B. Alayrac et al. Self-supervised multimodal versatile networks. NeurIPS 2020.
    """
    z, bags = gather_for_loss((z, bags), gather, ("z", "bags"))
    _check_codes(z, "z", (2,))
    _check_codes(bags, "bags", (2, 3))
    if bags.ndim == 2:
        bags = bags[:, None, :]
    if bags.shape[1] == 0:
        raise ValueError("bags has no candidate positives (shape[1] == 0): P(x) must not be empty")
    if z.shape[0] != bags.shape[0]:
        raise ValueError(
            f"z and bags must have the same batch size, got {z.shape[0]} and {bags.shape[0]}"
        )
    _check_negatives(z.shape[0])
    if z.shape[1] != bags.shape[2]:
        raise ValueError(
            f"z and bags must have the same code dimension, got {z.shape[1]} and {bags.shape[2]}"
        )
    out_dtype = z.dtype
    z, bags, tau = _similarity_inputs(z, bags, temperature, normalize)
    b, k = bags.shape[:2]
    # s[i, j, m] = z_i . t_{j,m} / tau, from one (B, B K) matrix product
    s = (z @ bags.reshape(b * k, -1).T).reshape(b, b, k) / tau
    eye = torch.eye(b, dtype=torch.bool, device=z.device)[:, :, None]
    positives = torch.diagonal(s, dim1=0, dim2=1).T  # (B, K): s[i, i, :]
    # row i: z_i with every bag (its positives included once); column i without the diagonal:
    # every other code with x's bag
    row = torch.logsumexp(s.reshape(b, -1), dim=1)
    col = torch.logsumexp(s.masked_fill(eye, -torch.inf), dim=(0, 2))
    numerator = torch.logsumexp(positives, dim=1)
    denominator = torch.logaddexp(row, col)
    return (denominator - numerator).mean().to(out_dtype)


def nce(
    z1: torch.Tensor,
    z2: torch.Tensor,
    temperature: float = 0.1,
    normalize: bool = True,
    gather: bool | None = None,
) -> torch.Tensor:
    r"""NCE (InfoNCE) between two modalities whose rows are paired one to one.

    .. math::

        \text{NCE}(x) = -\log
        \frac{e^{z_{1,x}^\top z_{2,x} / \tau}}
             {e^{z_{1,x}^\top z_{2,x} / \tau}
              + \sum_{(z_1', z_2') \in \mathcal N(x)} e^{z_1'^\top z_2' / \tau}},

    with negatives :math:`\mathcal N(x)` the mismatched pairs of the batch involving :math:`x`:
    :math:`(z_{1,x}, z_{2,y})` and :math:`(z_{1,y}, z_{2,x})` for every :math:`y \ne x`; averaged
    over the batch. It is :func:`mil_nce` with a single positive per sample.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (B, d)
        Codes of the two modalities; row ``i`` of both is sample ``i`` (e.g. a clip's frames and
        its sound).
    temperature : float > 0
        :math:`\tau`.
    normalize : bool, default True
        L2-normalise the codes first.
    gather : bool or None, default None
        Use the global batch of all processes, as :func:`cca_loss` does (``None``: if several run).

    Returns
    -------
    torch.Tensor
        A scalar, at least 0, in the dtype of ``z1`` (computed in the wider of the two).

    References
    ----------
    A. van den Oord, Y. Li, O. Vinyals. Representation learning with contrastive predictive
    coding. arXiv:1807.03748, 2018.
    J.-B. Alayrac et al. Self-supervised multimodal versatile networks. NeurIPS 2020.
    """
    z1, z2 = gather_for_loss((z1, z2), gather, ("z1", "z2"))
    _check_codes(z1, "z1", (2,))
    _check_codes(z2, "z2", (2,))
    if z1.shape != z2.shape:
        raise ValueError(
            f"z1 and z2 must have the same shape (batch, dim), got {tuple(z1.shape)} and "
            f"{tuple(z2.shape)}"
        )
    _check_negatives(z1.shape[0])
    out_dtype = z1.dtype
    z1, z2, tau = _similarity_inputs(z1, z2, temperature, normalize)
    s = z1 @ z2.T / tau  # s[i, j] = z1_i . z2_j / tau
    eye = torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    # each row of [s | s^T] holds the positive twice: mask one copy out
    both = torch.cat([s, s.T.masked_fill(eye, -torch.inf)], dim=1)
    return (torch.logsumexp(both, dim=1) - s.diagonal()).mean().to(out_dtype)


# --------------------------------------------------------------------------------------------
# GMC: contrast each modality's code with the joint code (Poklukar et al., 2022)
# --------------------------------------------------------------------------------------------

__all__ += ["gmc_loss", "nt_xent"]


def nt_xent(
    z_a: torch.Tensor, z_b: torch.Tensor, temperature: float = 0.1, gather: bool | None = None
) -> torch.Tensor:
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
    gather : bool or None, default None
        Use the global batch of all processes, as :func:`cca_loss` does (``None``: if several run).

    Returns
    -------
    torch.Tensor
        A scalar, in the dtype of ``z_a``.
    """
    z_a, z_b = gather_for_loss((z_a, z_b), gather, ("z_a", "z_b"))
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
        raise ValueError(f"a contrastive loss needs at least 2 samples, got {b}")
    # rows rescaled by powers of two first (exact): codes x1e300 or x1e-300 keep norms
    u = torch.nn.functional.normalize(unit_scale(torch.cat([z_a, z_b])), dim=1)
    sim = u @ u.T / tau
    eye = torch.eye(2 * b, dtype=torch.bool, device=u.device)
    sim = sim.masked_fill(eye, float("-inf"))  # a code is not its own negative
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(u.device)
    return torch.nn.functional.cross_entropy(sim, partner)


def gmc_loss(
    joint: torch.Tensor,
    modality_codes: Sequence[torch.Tensor],
    temperature: float = 0.1,
    gather: bool | None = None,
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
    gather : bool or None, default None
        Use the global batch of all processes, as :func:`cca_loss` does (``None``: if several run).

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
    if isinstance(modality_codes, (torch.Tensor, str)) or not isinstance(modality_codes, Sequence):
        raise TypeError(
            "modality_codes must be a list of tensors (one per modality), got "
            f"{type(modality_codes).__name__}"
        )
    if len(modality_codes) == 0:
        raise ValueError("modality_codes is empty: give at least one modality's codes")
    joint, *modality_codes = gather_for_loss([joint, *modality_codes], gather, "codes")
    codes = check_tensor_views([joint, *modality_codes], min_views=2, name="codes")
    widths = {int(z.shape[1]) for z in codes}
    if len(widths) != 1:
        shapes = [tuple(z.shape) for z in codes]
        raise ValueError(f"joint and every modality code must have the same width, got {shapes}")
    tau = check_positive_float(temperature, "temperature")
    return sum(_nt_xent(joint, z_m, tau) for z_m in codes[1:])
