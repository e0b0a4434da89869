"""Data set of the GMC chapter: multimodal digits (image, sound, trajectory), in the spirit of MHD.

=================================  ======================================================
function                            what the book uses it for
=================================  ======================================================
:func:`make_multimodal_digits`      GMC: a classifier on joint codes, tested with one
                                    modality present (the shape of GMC's Table 1)
=================================  ======================================================
"""

from __future__ import annotations

import numpy as np

from mmlib._checks import check_positive_float, check_positive_int, check_random_state
from mmlib.datasets._base import MultiViewDataset

__all__ = ["make_multimodal_digits"]

#: Per-modality noise standard deviations at ``noise=1`` (image, sound, trajectory).
_NOISE = {"image": 0.35, "sound": 3.0, "trajectory": 0.16}
#: Two frequencies (cycles per 64-sample window) and a relative amplitude per class.
_TONES = np.array(
    [
        [2.0, 7.0, 0.8],
        [3.0, 9.0, 0.5],
        [4.0, 6.0, 0.9],
        [5.0, 11.0, 0.6],
        [6.0, 3.0, 0.7],
        [7.0, 12.0, 0.4],
        [8.0, 5.0, 0.8],
        [9.0, 4.0, 0.6],
        [10.0, 2.0, 0.9],
        [11.0, 8.0, 0.5],
    ]
)
_SOUND_LEN = 64
_TRACE_POINTS = 32


def _sound(y: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Two tones per class, with a per-sample pitch factor, phase shift and white noise."""
    n = y.shape[0]
    t = np.arange(_SOUND_LEN) / _SOUND_LEN
    f1, f2, a2 = (_TONES[y, j][:, None] for j in range(3))
    pitch = rng.uniform(0.97, 1.03, size=(n, 1))  # a slightly higher or lower voice
    phase = rng.uniform(-0.5, 0.5, size=(n, 2))  # radians
    wave = np.sin(2 * np.pi * f1 * pitch * t + phase[:, :1])
    wave += a2 * np.sin(2 * np.pi * f2 * pitch * t + phase[:, 1:])
    return wave + sigma * rng.standard_normal((n, _SOUND_LEN))


def _ink_trace(images: np.ndarray, kappa: float = 4.0) -> np.ndarray:
    r"""The ink of each 8x8 image traced as a closed 2-D curve of 32 points.

    Point :math:`k` is the ink-weighted mean position of the pixels, each pixel weighted by
    :math:`\exp(\kappa \cos(\alpha_p - \theta_k))`, where :math:`\alpha_p` is the pixel's angle
    around the image centre and :math:`\theta_k = 2\pi k / 32`: a sweep around the digit that
    follows its strokes. A ratio of weighted sums, hence a fixed nonlinear map of the pixels.
    """
    rows, cols = np.mgrid[0:8, 0:8]
    pos = np.stack([(cols - 3.5) / 3.5, (3.5 - rows) / 3.5], axis=-1).reshape(64, 2)
    angle = np.arctan2(pos[:, 1], pos[:, 0])
    theta = 2 * np.pi * np.arange(_TRACE_POINTS) / _TRACE_POINTS
    kernel = np.exp(kappa * np.cos(angle[None, :] - theta[:, None]))  # (32, 64)
    ink = images.reshape(-1, 1, 64) * kernel[None]  # (n, 32, 64)
    points = ink @ pos / np.maximum(ink.sum(axis=2, keepdims=True), 1e-12)  # (n, 32, 2)
    return points


def make_multimodal_digits(
    n_samples: int = 3000,
    noise: float = 1.0,
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""Three modalities of a digit class: an image, a sound and a pen trajectory (MHD-like).

    A small, offline stand-in for the Multimodal Handwritten Digits (MHD) set of GMC
    (Poklukar et al., 2022), built from scikit-learn's 8x8 digits. Each sample ``i`` has a class
    :math:`y_i` (the class of a digit image drawn at random) and three modalities that share only
    that class:

    - **image** (64 features): the 8x8 digit, pixels scaled to [0, 1], plus Gaussian noise of
      standard deviation :math:`0.35\,\text{noise}`;
    - **sound** (64 samples): two tones whose frequencies and relative amplitude depend on the
      class, :math:`s(t) = \sin(2\pi f_1 p t + \phi_1) + a \sin(2\pi f_2 p t + \phi_2)`,
      :math:`t = 0, \tfrac1{64}, \dots, \tfrac{63}{64}`, with a per-sample pitch factor
      :math:`p \sim U[0.97, 1.03]`, phases :math:`\phi \sim U[-0.5, 0.5]` rad and white noise of
      standard deviation :math:`3\,\text{noise}`;
    - **trajectory** (64 features: 32 points :math:`(x_k, y_k)`, stored as
      :math:`x_0, y_0, x_1, y_1, \dots`): *another* image of the same class (a different
      scikit-learn sample) traced as a closed curve around its centre (the ink-weighted mean
      position in 32 angular sectors; a fixed nonlinear map of the pixels), plus Gaussian noise
      of standard deviation :math:`0.16\,\text{noise}`.

    The noise levels are chosen so that each modality alone carries the class, to a different
    degree. Linear-probe test accuracies (standardised logistic regression, 3,000 samples, a
    stratified 75/25 split, ``noise=1``, mean over seeds 0-4): image about 0.81, trajectory
    about 0.67, sound about 0.57 (chance 0.10), seed-to-seed sd about 0.015; ``tests/test_gmc.py``
    checks them. A model that needs all three is hurt by losing the image most and the sound least.

    Parameters
    ----------
    n_samples : int >= 10, default=3000
        Number of samples (scikit-learn's 1,797 images are reused with fresh noise).
    noise : float >= 0, default=1.0
        Multiplies the three modalities' noise levels (0: noiseless).
    random_state : None, int or numpy.random.Generator
        Seed for reproducible data.

    Returns
    -------
    MultiViewDataset
        ``views = [image (n, 64), sound (n, 64), trajectory (n, 64)]``, ``view_names =
        ["image", "sound", "trajectory"]``, ``y`` (n,) the digit. ``extras``: ``"index"`` and
        ``"trajectory_index"`` (n,) the scikit-learn samples behind the image and the trajectory,
        ``"noise_levels"`` (dict of the three standard deviations used), ``"image_shape"``
        (8, 8), ``"sound_rate"`` (64 samples per window).

    References
    ----------
    Poklukar, P., Vasco, M., Yin, H., Melo, F. S., Paiva, A. and Kragic, D. (2022). Geometric
    multimodal contrastive representation learning. ICML. (The MHD data set: Vasco et al., 2022.)

    Examples
    --------
    >>> ds = make_multimodal_digits(n_samples=100, random_state=0)
    >>> ds.view_names, ds.n_features
    (['image', 'sound', 'trajectory'], [64, 64, 64])
    """
    from sklearn.datasets import load_digits

    n = check_positive_int(n_samples, "n_samples", minimum=10)
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = check_random_state(random_state)
    digits = load_digits()
    images = digits.images.reshape(-1, 64) / 16.0
    target = digits.target.astype(np.int64)

    index = rng.integers(0, images.shape[0], size=n)
    y = target[index]
    # the trajectory comes from another sample of the same class
    partner = np.empty(n, dtype=np.int64)
    for c in range(10):
        members = np.flatnonzero(target == c)
        rows = np.flatnonzero(y == c)
        draw = rng.integers(0, members.size - 1, size=rows.size)
        own = np.searchsorted(members, index[rows])
        partner[rows] = members[draw + (draw >= own)]  # skip the image's own sample

    sigma = {k: v * noise for k, v in _NOISE.items()}
    image = images[index] + sigma["image"] * rng.standard_normal((n, 64))
    sound = _sound(y, rng, sigma["sound"])
    trace = _ink_trace(images[partner]).reshape(n, 2 * _TRACE_POINTS)
    trajectory = trace + sigma["trajectory"] * rng.standard_normal(trace.shape)

    return MultiViewDataset(
        views=[image, sound, trajectory],
        y=y,
        view_names=["image", "sound", "trajectory"],
        description=(
            "Multimodal digits: an image, a sound and a pen trajectory sharing only the class "
            "(MHD-like, from scikit-learn's digits)."
        ),
        extras={
            "index": index,
            "trajectory_index": partner,
            "noise_levels": sigma,
            "image_shape": (8, 8),
            "sound_rate": _SOUND_LEN,
        },
        name="multimodal_digits",
        sample_extras=("index", "trajectory_index"),
    )
