"""Data sets of the book: seeded generators and loaders of data shipped offline.

Every function returns a :class:`MultiViewDataset`: a list of views (float64 arrays of shape
``(n_samples, n_features_j)``, samples as rows and paired across views), labels ``y`` when there
are any, the views' names, a description and a dict of extras (true latents, label names, ...).

Nothing here downloads anything. The generators are deterministic under ``random_state``; the
loaders read scikit-learn's bundled digits or the compressed files vendored in ``mmlib/data/``
(source, licence and checksums in ``mmlib/data/README.md``).

One module per family of chapters: :mod:`mmlib.datasets.correlation` (CCA to Deep GCCA),
and the later parts' own modules; everything is re-exported here.
"""

from __future__ import annotations

from mmlib.datasets import correlation, fusion, granularity, multimodal
from mmlib.datasets._base import MultiViewDataset

# each family's module lists its generators and loaders in its __all__; they are re-exported
# whole, so a new one is added in one place (the DNA constants stay in mmlib.datasets.dna)
from mmlib.datasets.correlation import *  # noqa: F403
from mmlib.datasets.dna import decode_dna, make_dna_modalities
from mmlib.datasets.fusion import *  # noqa: F403
from mmlib.datasets.granularity import *  # noqa: F403
from mmlib.datasets.multimodal import *  # noqa: F403

__all__ = [
    "MultiViewDataset",
    "available_datasets",
    *correlation.__all__,
    *multimodal.__all__,
    *granularity.__all__,
    *fusion.__all__,
    "decode_dna",
    "make_dna_modalities",
]


# --------------------------------------------------------------------------------------------
# the catalogue
# --------------------------------------------------------------------------------------------


def available_datasets() -> dict[str, str]:
    """The book's data sets: function name -> one-line description.

    Returns
    -------
    dict of str to str
        In the order the data chapter presents them.

    Examples
    --------
    >>> list(available_datasets())[:2]
    ['make_latent_views', 'load_digits_halves']
    """
    return {
        "make_latent_views": "two Gaussian views with exactly known canonical correlations",
        "load_digits_halves": "scikit-learn's 8x8 digits: left and right halves as two views",
        "make_noisy_digits": "rotated digit / noisy image of the same class (Wang et al., 2015)",
        "load_nutrimouse": "40 mice: 120 liver gene expressions and 21 liver fatty acids",
        "load_mfeat": "UCI Multiple Features: 2,000 handwritten digits in six views",
        "make_nonlinear_views": "two nonlinear views of a latent that linear CCA cannot see",
        "make_three_modalities": "circles, parabolas, reversed circles sharing a class (Deep GCCA)",
        "make_multimodal_digits": "image, sound and pen trajectory sharing a digit class (MHD)",
        "make_granularity_digits": (
            "noisy digit image and its sound (fine) with candidate captions, some wrong (coarse)"
        ),
        "make_multiplicative_views": "a binary label set by a product of two modalities (fusion)",
        "make_dna_modalities": "three one-hot DNA modalities: relevant, random, partly relevant",
    }
