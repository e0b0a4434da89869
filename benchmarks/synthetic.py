r"""Seeded views with known canonical correlations, in one piece or chunk by chunk.

Every view ``j`` is built from whitened latent coordinates :math:`\tilde x_j \in \mathbb R^{d_j}`,
all independent standard normal except the first ``k``, which share a common factor ``z``:

.. math:: \tilde x_{j,i} = \sqrt{\rho_i}\, z_i + \sqrt{1 - \rho_i}\, \varepsilon_{j,i},
          \qquad i < k,

so any two views have population canonical correlations :math:`\rho_1, \dots, \rho_k` (then
zeros), and the MAXVAR GCCA of ``J`` views has population eigenvalues
:math:`1 + (J - 1)\rho_i`. Each view is then mixed by a fixed, well-conditioned matrix
:math:`A_j = Q_j \operatorname{diag}(s_j)` (``Q_j`` orthogonal, ``s_j`` uniform in [0.5, 2]) and
shifted by a fixed mean in [-3, 3]: condition number at most 4, so errors against an exact
reference measure the solver, not the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

RHO = (0.9, 0.8, 0.7, 0.6, 0.5)


class ViewMaker:
    """Draws the views of one seeded population; ``views(n, chunk=c)`` is chunk ``c``."""

    def __init__(self, widths: Sequence[int], rho: Sequence[float] = RHO, seed: int = 0):
        self.widths = [int(d) for d in widths]
        self.rho = np.asarray(rho, dtype=np.float64)
        self.seed = int(seed)
        if self.rho.size > min(self.widths):
            raise ValueError("more correlations than the narrowest view has features")
        rng = np.random.default_rng([self.seed, 0])
        self.mixing = []
        self.offsets = []
        for d in self.widths:
            q, _ = np.linalg.qr(rng.standard_normal((d, d)))
            self.mixing.append(q * rng.uniform(0.5, 2.0, size=d))  # Q diag(s)
            self.offsets.append(rng.uniform(-3.0, 3.0, size=d))

    @property
    def population_correlations(self) -> np.ndarray:
        return self.rho.copy()

    def population_eigenvalues(self, n_views: int) -> np.ndarray:
        return 1.0 + (n_views - 1) * self.rho

    def views(self, n: int, chunk: int = 0) -> list[np.ndarray]:
        """``n`` fresh samples of every view (chunk ``c`` is its own seeded stream)."""
        rng = np.random.default_rng([self.seed, 1, int(chunk)])
        k = self.rho.size
        z = rng.standard_normal((n, k))
        out = []
        for A, mu in zip(self.mixing, self.offsets, strict=True):
            latent = rng.standard_normal((n, A.shape[0]))
            latent[:, :k] = np.sqrt(self.rho) * z + np.sqrt(1.0 - self.rho) * latent[:, :k]
            X = latent @ A.T
            X += mu
            out.append(X)
        return out

    def chunks(self, n: int, chunk_size: int) -> Iterator[list[np.ndarray]]:
        """``n`` samples in chunks of ``chunk_size`` rows (the last one may be shorter)."""
        for c, start in enumerate(range(0, n, chunk_size)):
            yield self.views(min(chunk_size, n - start), chunk=c)
