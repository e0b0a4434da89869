"""Modalities of different granularity, for the MMV chapter (contrastive alignment).

:func:`make_granularity_digits` turns scikit-learn's digits into three modalities: two *fine* ones
(a noisy image and a sound whose spectrogram is the image) that identify the very sample, and a
*coarse* text-like one (short captions that only say whether the digit is even or odd, small or
large), given as ``K`` candidate captions per sample of which a controllable share is wrong, the
way narrations of instructional videos often do not describe what is on screen.
"""

from __future__ import annotations

import numpy as np

from mmlib._checks import (
    check_array,
    check_fraction,
    check_positive_float,
    check_positive_int,
    check_random_state,
)
from mmlib.datasets._base import MultiViewDataset, _digits_sample

__all__ = ["decode_captions", "make_granularity_digits"]

#: Words that carry the coarse label, by attribute.
_ATTRIBUTES = {"parity": ("even", "odd"), "magnitude": ("small", "large")}
#: Words that carry nothing (every caption draws a few of them).
_FILLERS = ("a", "the", "digit", "number", "handwritten", "image", "of", "shows")
_COARSE = {
    "parity": ("parity",),
    "magnitude": ("magnitude",),
    "both": ("parity", "magnitude"),
}


def _attribute_values(digit: np.ndarray, attribute: str) -> np.ndarray:
    """0/1 value of an attribute: parity (0 even, 1 odd) or magnitude (0 for 0-4, 1 for 5-9)."""
    return digit % 2 if attribute == "parity" else (digit >= 5).astype(np.int64)


def _coarse_label(digit: np.ndarray, attributes: tuple[str, ...]) -> np.ndarray:
    label = np.zeros_like(digit)
    for a in attributes:
        label = 2 * label + _attribute_values(digit, a)
    return label


def _captions(
    groups: np.ndarray, attributes: tuple[str, ...], n_fillers: int, rng: np.random.Generator
) -> np.ndarray:
    """Bag-of-words counts (n, vocabulary) of captions that describe the coarse ``groups``."""
    vocabulary = [w for a in attributes for w in _ATTRIBUTES[a]] + list(_FILLERS)
    out = np.zeros((groups.size, len(vocabulary)))
    rows = np.arange(groups.size)
    for pos, _ in enumerate(attributes):
        bit = (groups >> (len(attributes) - 1 - pos)) & 1  # this attribute's value
        out[rows, 2 * pos + bit] += 1
    start = 2 * len(attributes)
    for _ in range(n_fillers):
        out[rows, start + rng.integers(0, len(_FILLERS), size=groups.size)] += 1
    return out


def _waveform(images: np.ndarray, frame: int, noise: float, rng: np.random.Generator):
    """A waveform whose spectrogram is the image: column c is frame c, row r a sine of r+1 cycles.

    ``images`` (n, h, w) -> (n, w * frame). Each row's sine has a random phase per sample, and
    Gaussian noise of sd ``noise`` is added to the waveform.
    """
    n, h, w = images.shape
    t = np.arange(frame) / frame
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, h, 1))
    tones = np.sin(2 * np.pi * np.arange(1, h + 1)[None, :, None] * t + phase)  # (n, h, frame)
    wave = np.einsum("nhw,nht->nwt", images, tones).reshape(n, w * frame)
    return wave + noise * rng.standard_normal(wave.shape)


def _log_spectrogram(wave: np.ndarray, h: int, frame: int) -> np.ndarray:
    """log(1 + |DFT|) of each frame at the tones' frequencies 1..h: (n, w * frame) -> (n, h, w)."""
    n = wave.shape[0]
    frames = wave.reshape(n, -1, frame)  # (n, w, frame)
    magnitude = np.abs(np.fft.rfft(frames, axis=2))[:, :, 1 : h + 1] * (2.0 / frame)
    return np.log1p(4.0 * magnitude).transpose(0, 2, 1)


def _sound(images: np.ndarray, noise: float, rng: np.random.Generator):
    """Each image played as a sound: random gain, a shift of -1, 0 or 1 column, then a waveform.

    Returns the waveforms ``(n, 160)`` and their log spectrograms flattened to ``(n, 64)``.
    """
    n = images.shape[0]
    gain = rng.uniform(0.6, 1.5, size=(n, 1, 1))
    shifts = rng.integers(-1, 2, n)
    shifted = np.stack([np.roll(im, s, axis=1) for im, s in zip(images, shifts, strict=True)])
    wave = _waveform(gain * shifted, 20, noise, rng)
    return wave, _log_spectrogram(wave, 8, 20).reshape(n, 64)


def _coarse_names(attributes: tuple[str, ...]) -> list[str]:
    """The name of each coarse class, e.g. "even small", in the order of :func:`_coarse_label`."""
    last = len(attributes) - 1
    return [
        " ".join(_ATTRIBUTES[a][(g >> (last - p)) & 1] for p, a in enumerate(attributes))
        for g in range(2 ** len(attributes))
    ]


def make_granularity_digits(
    n_samples: int | None = None,
    n_captions: int = 4,
    wrong_caption_rate: float = 0.3,
    coarse: str = "both",
    vision_noise: float = 0.3,
    audio_noise: float = 0.5,
    n_fillers: int = 2,
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""Three modalities of different granularity: vision and audio (fine), captions (coarse).

    Every sample is one of scikit-learn's 8x8 digits (pixels scaled to [0, 1]):

    - **vision** (64): the image plus Gaussian noise of sd ``vision_noise``;
    - **audio** (64): the log-magnitude spectrogram of a waveform "played" from the image: 8
      frames of 20 samples, in frame :math:`c` row :math:`r` of the image is the amplitude of a
      sine of :math:`r + 1` cycles per frame (random phase per sample and row), times a random
      loudness in [0.6, 1.5], shifted in time by -1, 0 or +1 frame (circularly), plus Gaussian
      noise of sd ``audio_noise`` on the waveform; the features are
      :math:`\log(1 + 4\,|\mathrm{DFT}|)` of each frame at the 8 tones' frequencies;
    - **text**: ``n_captions`` candidate captions, each a bag of words (counts over a small
      vocabulary) naming the digit's *coarse* class -- ``"even"``/``"odd"`` and/or
      ``"small"`` (0-4)/``"large"`` (5-9) -- plus ``n_fillers`` words that carry nothing. Each
      candidate is, independently with probability ``wrong_caption_rate``, *wrong*: it names
      another coarse class, drawn uniformly.

    Vision and audio are two renderings of the same image: they share the sample itself (its
    stroke, slant, thickness), the finest granularity. A caption only tells the coarse class,
    shared by hundreds of samples.

    Parameters
    ----------
    n_samples : int or None, default None
        ``None``: each of the 1,797 digits once, in order; fewer: a random subset; more: digits
        reused (with new noise, phases and captions).
    n_captions : int >= 1, default 4
        ``K``, candidate captions per sample.
    wrong_caption_rate : float in [0, 1), default 0.3
        Probability that a candidate caption is wrong.
    coarse : {"both", "parity", "magnitude"}, default "both"
        What the captions say: both attributes (4 coarse classes) or one of them (2).
    vision_noise, audio_noise : float >= 0
        Noise sd of the image and of the waveform.
    n_fillers : int >= 0, default 2
        Uninformative words per caption.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    MultiViewDataset
        ``views = [vision (n, 64), audio (n, 64), text (n, V)]`` where the text view is the
        first candidate caption (wrong with probability ``wrong_caption_rate``); ``y`` (n,) the
        digit (fine class). ``extras``: ``"captions"`` (n, K, V) all candidates,
        ``"caption_correct"`` (n, K) bool, ``"clean_caption"`` (n, V) one more caption that is
        always correct (for evaluation), ``"coarse"`` (n,) the coarse class,
        ``"coarse_names"``, ``"vocabulary"`` (V words), ``"index"`` (n,) the scikit-learn
        sample, ``"waveform"`` (n, 160) the sound itself, ``"image_shape"`` (8, 8) and
        ``"spectrogram_shape"`` (8 frequencies, 8 frames).

    References
    ----------
    J.-B. Alayrac et al. Self-supervised multimodal versatile networks. NeurIPS 2020 (the three
    modalities and their granularity). A. Miech et al. End-to-end learning of visual
    representations from uncurated instructional videos. CVPR 2020 (candidate captions).
    """
    k = check_positive_int(n_captions, "n_captions")
    rate = check_fraction(wrong_caption_rate, "wrong_caption_rate")
    if not isinstance(coarse, str) or coarse not in _COARSE:
        raise ValueError(f"coarse must be one of {sorted(_COARSE)}, got {coarse!r}")
    vision_noise = check_positive_float(vision_noise, "vision_noise", allow_zero=True)
    audio_noise = check_positive_float(audio_noise, "audio_noise", allow_zero=True)
    n_fillers = check_positive_int(n_fillers, "n_fillers", minimum=0)
    if n_samples is not None:
        n_samples = check_positive_int(n_samples, "n_samples")
    rng = check_random_state(random_state)

    images, labels, index = _digits_sample(n_samples, rng)
    n = index.size
    y = labels[index]
    attributes = _COARSE[coarse]
    n_groups = 2 ** len(attributes)
    groups = _coarse_label(y, attributes)

    vision = images[index].reshape(n, 64) + vision_noise * rng.standard_normal((n, 64))
    wave, audio = _sound(images[index], audio_noise, rng)
    # candidate captions: a wrong one names another coarse class, uniformly
    correct = rng.random((n, k)) >= rate
    shift = rng.integers(1, n_groups, size=(n, k))
    said = np.where(correct, groups[:, None], (groups[:, None] + shift) % n_groups)
    captions = np.stack([_captions(said[:, j], attributes, n_fillers, rng) for j in range(k)], 1)
    clean = _captions(groups, attributes, n_fillers, rng)

    vocabulary = [w for a in attributes for w in _ATTRIBUTES[a]] + list(_FILLERS)
    names = _coarse_names(attributes)
    return MultiViewDataset(
        views=[vision, audio, captions[:, 0]],
        y=y,
        view_names=["vision", "audio", "text"],
        description=(
            "Three modalities of different granularity from scikit-learn's digits: vision (noisy "
            "8x8 image), audio (log spectrogram of a sound played from the image), text (bag-of-words "
            f"captions naming only the coarse class: {', '.join(names)}).\n"
            f"{k} candidate captions per sample, each wrong with probability {rate:g}; the text "
            "view is the first candidate."
        ),
        extras={
            "captions": captions,
            "caption_correct": correct,
            "clean_caption": clean,
            "coarse": groups,
            "coarse_names": names,
            "vocabulary": vocabulary,
            "index": index,
            "waveform": wave,
            "image_shape": (8, 8),
            "spectrogram_shape": (8, 8),
        },
        name="granularity_digits",
        sample_extras=(
            "captions",
            "caption_correct",
            "clean_caption",
            "coarse",
            "index",
            "waveform",
        ),
    )


def decode_captions(captions, vocabulary) -> list[str]:
    """Bag-of-words count vectors back to text (words in vocabulary order), for display.

    Parameters
    ----------
    captions : array-like of shape (n, V)
        Word counts, as in the text view of :func:`make_granularity_digits`.
    vocabulary : sequence of str of length V

    Returns
    -------
    list of str
        One caption per row, e.g. ``"even small the digit"``.
    """
    counts = check_array(captions, name="captions")
    if (
        isinstance(vocabulary, str)
        or not isinstance(vocabulary, (list, tuple, np.ndarray))
        or not all(isinstance(w, str) for w in vocabulary)
    ):
        raise TypeError("vocabulary must be a sequence of str")
    words = list(vocabulary)
    if counts.shape[1] != len(words):
        raise ValueError(
            f"captions has {counts.shape[1]} columns but vocabulary has {len(words)} words"
        )
    if (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("captions must hold non-negative integer word counts")
    return [
        " ".join(w for w, c in zip(words, row, strict=True) for _ in range(int(c)))
        for row in counts
    ]
