"""Data set of the interpretability chapter: three DNA "modalities" of graded relevance.

=============================  ==========================================================
function                        what the book uses it for
=============================  ==========================================================
:func:`make_dna_modalities`     which modality does the prediction rely on? (modality
                                weights, degree inflation, ablation, attributions)
:func:`decode_dna`              one-hot rows back to A/C/G/T strings
=============================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmlib._checks import check_array, check_fraction, check_positive_int, check_random_state
from mmlib.datasets._base import MultiViewDataset

__all__ = ["DNA_ALPHABET", "DNA_MOTIFS", "decode_dna", "make_dna_modalities"]

#: The alphabet, in the order of the one-hot columns.
DNA_ALPHABET = "ACGT"

#: The motifs planted in each modality: ``DNA_MOTIFS[view][label]`` (the "random" view has none).
#: Our own choice: 8 letters each, no motif occurs inside another one, and a given 8-letter string
#: turns up by chance in a random sequence of length 100 with probability about 93 / 4**8 = 0.0014.
DNA_MOTIFS: dict[str, tuple[str, str] | None] = {
    "relevant": ("GATTACAG", "CCTAGGTC"),
    "random": None,
    "partial": ("TTGACCAT", "AGCGTATC"),
}

_VIEW_NAMES = tuple(DNA_MOTIFS)


def _one_hot(codes: np.ndarray) -> np.ndarray:
    """(n, length) integer codes in 0..3 -> (n, 4 * length) one-hot rows, 4 columns per position."""
    n, length = codes.shape
    out = np.zeros((n, length, 4))
    out[np.arange(n)[:, None], np.arange(length)[None, :], codes] = 1.0
    return out.reshape(n, 4 * length)


def decode_dna(X) -> list[str]:
    """Turn one-hot DNA rows back into strings.

    Parameters
    ----------
    X : array-like of shape (n, 4 * length)
        One-hot rows as returned by :func:`make_dna_modalities` (4 columns per position, in the
        order of :data:`DNA_ALPHABET`).

    Returns
    -------
    list of str
        ``n`` strings of length ``length``.
    """
    X = check_array(X, name="X")
    if X.shape[1] % 4:
        raise ValueError(f"X must have 4 columns per position, got {X.shape[1]} columns")
    blocks = X.reshape(X.shape[0], -1, 4)
    if not np.allclose(blocks.sum(axis=2), 1.0) or not np.isin(blocks, (0.0, 1.0)).all():
        raise ValueError("X is not one-hot: every position needs exactly one 1 among its 4 columns")
    letters = np.array(list(DNA_ALPHABET))
    return ["".join(row) for row in letters[blocks.argmax(axis=2)]]


def make_dna_modalities(
    n_samples: int = 1000,
    length: int = 100,
    probabilities: Sequence[float] = (0.8, 0.0, 0.5),
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    """Three one-hot DNA modalities: a relevant one, a random one and a partly relevant one.

    Every sample has a label :math:`y \\in \\{0, 1\\}` (fair coin) and three sequences of
    ``length`` letters drawn uniformly from A/C/G/T. In modality ``j`` the class motif
    ``DNA_MOTIFS[name_j][y]`` is then written over the sequence at a uniformly random position,
    with probability ``probabilities[j]``; otherwise the sequence stays random and says nothing
    about ``y``. The motifs (our own choice, 8 letters):

    ===========  =============  =============  ===========================
    view         motif, y = 0   motif, y = 1   default probability
    ===========  =============  =============  ===========================
    relevant     GATTACAG       CCTAGGTC       0.8
    random       --             --             0 (no motif can be planted)
    partial      TTGACCAT       AGCGTATC       0.5
    ===========  =============  =============  ===========================

    A classifier that sees only modality ``j`` can reach an accuracy of at most
    :math:`q_j + (1 - q_j)/2` (it has to guess when there is no motif): 0.9 for ``relevant``,
    0.5 for ``random`` and 0.75 for ``partial`` with the defaults, and 0.95 with both motif
    modalities (0.8 + 0.2 (0.5 + 0.5 x 0.5)).

    Parameters
    ----------
    n_samples : int, default=1000
    length : int, default=100
        Sequence length (at least 8, the motif length).
    probabilities : three floats in [0, 1], default=(0.8, 0.0, 0.5)
        Probability of planting the class motif in the relevant, random and partial modality;
        the random modality has no motif, so its probability must be 0.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    MultiViewDataset
        ``views``: three (n, 4 * length) one-hot arrays (4 columns per position, in the order
        A, C, G, T), named ``["relevant", "random", "partial"]``; ``y`` (n,) in {0, 1};
        ``extras``: ``"motif_positions"`` (n, 3) int, the start of the planted motif in each
        modality or -1 where none was planted; ``"motifs"`` (:data:`DNA_MOTIFS`);
        ``"probabilities"``; ``"length"``.

    References
    ----------
    The set-up follows the synthetic experiment of P. Mehta's talk "Interpretability in Multimodal
    Deep Learning" (a relevant signature modality and random ones); motifs and probabilities here
    are our own.

    Examples
    --------
    >>> ds = make_dna_modalities(n_samples=4, random_state=0)
    >>> ds.view_names, ds.n_features
    (['relevant', 'random', 'partial'], [400, 400, 400])
    """
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    length = check_positive_int(length, "length", minimum=8)
    if isinstance(probabilities, str) or not isinstance(probabilities, Sequence):
        raise TypeError(f"probabilities must be a sequence of 3 floats, got {probabilities!r}")
    if len(probabilities) != 3:
        raise ValueError(
            f"probabilities must have one entry per modality (3), got {len(probabilities)}"
        )
    probs = [
        check_fraction(q, f"probabilities[{j}]", high_inclusive=True)
        for j, q in enumerate(probabilities)
    ]
    if probs[1] != 0.0:
        raise ValueError(
            f"probabilities[1] is for the random modality and must be 0, got {probs[1]}"
        )
    rng = check_random_state(random_state)

    y = rng.integers(0, 2, size=n)
    views, positions = [], np.full((n, 3), -1, dtype=np.int64)
    for j, name in enumerate(_VIEW_NAMES):
        codes = rng.integers(0, 4, size=(n, length))
        motifs = DNA_MOTIFS[name]
        planted = rng.random(n) < probs[j]
        starts = rng.integers(0, length - 8 + 1, size=n)
        if motifs is not None:
            motif_codes = np.array([[DNA_ALPHABET.index(c) for c in m] for m in motifs])
            for i in np.flatnonzero(planted):
                codes[i, starts[i] : starts[i] + 8] = motif_codes[y[i]]
                positions[i, j] = starts[i]
        views.append(_one_hot(codes))

    return MultiViewDataset(
        views=views,
        y=y,
        view_names=list(_VIEW_NAMES),
        description=(
            "Three one-hot DNA modalities of graded relevance (a class motif planted with "
            f"probability {probs[0]}, {probs[1]} and {probs[2]}).\n"
            "relevant: the class motif with high probability; random: uniform letters; "
            "partial: another class motif, planted less often."
        ),
        extras={
            "motif_positions": positions,
            "motifs": dict(DNA_MOTIFS),
            "probabilities": tuple(probs),
            "length": length,
        },
        name="dna_modalities",
        sample_extras=("motif_positions",),
    )
