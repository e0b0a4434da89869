"""Pickle one fitted estimator of each class, with its outputs, as a release writes them.

``python tools/write_release_pickles.py`` writes ``tests/data/pickles-<version>/<name>.pkl``:
each file holds ``{"estimator", "views", "output", "version"}``. ``tests/test_pickles.py`` loads the
files of every earlier release with the current code and checks that they still transform the
same views to the same output (or fail with a clear message).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

import mmlib
from mmlib import datasets
from mmlib.models import DCCA, DGCCA, GMC, MMV, MVAE, FusionAE

ROOT = Path(__file__).resolve().parents[1] / "tests" / "data"
KW = dict(progress=False, random_state=0, epochs=2, device="cpu")


def fitted() -> dict[str, tuple[object, list]]:
    torch.set_num_threads(1)
    two = [
        v[:60]
        for v in datasets.make_latent_views(n_samples=60, n_features=(4, 3), random_state=0).views
    ]
    three = list(datasets.make_three_modalities(n_samples=60, random_state=1).views)
    gran = list(datasets.make_granularity_digits(n_samples=48, n_captions=2, random_state=2).views)
    return {
        "cca": (mmlib.CCA(n_components=2).fit(two), two),
        "gcca": (mmlib.GCCA(n_components=2).fit(three), three),
        "dcca": (DCCA(hidden=(4,), **KW).fit(two), two),
        "dgcca": (DGCCA(hidden=(4,), **KW).fit(three), three),
        "gmc": (GMC(code_dim=3, hidden=(4,), head_hidden=(4,), **KW).fit(three), three),
        "fusionae": (FusionAE(code_dim=3, hidden=(4,), **KW).fit(three), three),
        "mvae": (MVAE(code_dim=3, hidden=(4,), **KW).fit(three), three),
        "mmv": (
            MMV(embed_dim=3, backbone_dim=4, hidden=(4,), batch_size=16, **KW).fit(gran),
            [gran[0], gran[1], gran[2][:, 0] if gran[2].ndim == 3 else gran[2]],
        ),
    }


def output(estimator, views):
    """``transform(views)`` flattened to one float64 array (MMV's dict in sorted order)."""
    z = estimator.transform(views)
    if isinstance(z, dict):
        z = [z[s][m] for s in sorted(z) for m in sorted(z[s])]
    if isinstance(z, list):
        z = np.concatenate(z, axis=1)
    return np.asarray(z, dtype=np.float64)


if __name__ == "__main__":
    folder = ROOT / f"pickles-{mmlib.__version__}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (est, views) in fitted().items():
        record = {
            "estimator": est,
            "views": views,
            "output": output(est, views),
            "version": mmlib.__version__,
        }
        with open(folder / f"{name}.pkl", "wb") as f:
            pickle.dump(record, f, protocol=4)
    print(f"wrote {folder}")
