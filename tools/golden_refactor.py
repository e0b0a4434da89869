"""Outputs of every deep estimator and the training loop under fixed seeds (issue 21's guard).

``python tools/golden_refactor.py write`` saves them from the current code into
``tests/data/golden_refactor.npz``; ``tests/test_golden_refactor.py`` recomputes them and asks for
bit-identical arrays. Written before the estimator refactor, removed after it.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch

import mmlib
from mmlib import datasets
from mmlib.models import DCCA, DGCCA, GMC, MMV, MVAE, FusionAE
from mmlib.training import train

PATH = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden_refactor.npz"
KW = dict(progress=False, random_state=3)


def _data():
    two = datasets.make_latent_views(n_samples=120, n_features=(6, 5), random_state=0)
    three = datasets.make_three_modalities(n_samples=120, random_state=1)
    gran = datasets.make_granularity_digits(n_samples=96, n_captions=3, random_state=2)
    return list(two.views), list(three.views), list(gran.views)


def outputs() -> dict[str, np.ndarray]:
    torch.set_num_threads(1)
    two, three, gran = _data()
    val2 = [v[:40] for v in two]
    out: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in ("squared", "sum"):
            m = DCCA(hidden=(8,), epochs=4, batch_size=40, objective=obj, **KW).fit(two)
            out[f"dcca_{obj}_z0"], out[f"dcca_{obj}_z1"] = m.transform(two)
            out[f"dcca_{obj}_loss"] = np.array(m.history_.train_loss)
        m = DCCA(hidden=(8,), epochs=6, patience=2, reg=0.1, **KW).fit(two, val_views=val2)
        out["dcca_val_loss"] = np.array(m.history_.val_loss)
        out["dcca_val_f0"] = m.transform_views(two)[0]
        out["dcca_score"] = np.array(m.score(val2))
        enc = [torch.nn.Linear(6, 3), torch.nn.Linear(5, 3)]
        m = DCCA(encoders=enc, epochs=3, **KW).fit(two)
        out["dcca_custom_z0"] = m.transform(two)[0]
        m = DGCCA(hidden=(8,), epochs=4, batch_size=60, **KW).fit(three)
        out["dgcca_G"], out["dgcca_T"] = m.G_, m.transform(three)
        out["dgcca_views1"] = m.transform_views(three)[1]
        for cls in (GMC, FusionAE, MVAE):
            name = cls.__name__.lower()
            m = cls(code_dim=4, hidden=(8,), epochs=3, batch_size=40, **KW).fit(three)
            out[f"{name}_full"] = m.transform(three)
            out[f"{name}_one"] = m.transform([None, three[1], None])
            out[f"{name}_loss"] = np.array(m.history_.train_loss)
        for space in ("fac", "shared", "disjoint"):
            for vt in ("mil_nce", "nce"):
                m = MMV(
                    space=space,
                    vt_loss=vt,
                    embed_dim=4,
                    backbone_dim=8,
                    hidden=(8,),
                    epochs=2,
                    batch_size=32,
                    **KW,
                ).fit(gran)
                text = gran[2][:, 0] if gran[2].ndim == 3 else gran[2]
                z = m.transform([gran[0], gran[1], text])
                for s, d in z.items():
                    for mod, e in d.items():
                        out[f"mmv_{space}_{vt}_{s}_{mod}"] = e
        # the training loop on its own: optimisers, validation score, early stopping
        for opt in ("adam", "adamw", "sgd", "lbfgs"):
            torch.manual_seed(0)
            net = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
            h = train(
                net,
                lambda m, b: ((m(b[0]).squeeze(1) - b[1][:, 0]) ** 2).mean(),
                [two[0], two[1]],
                val_views=val2,
                epochs=5,
                batch_size=None if opt == "lbfgs" else 30,
                lr=1.0 if opt == "lbfgs" else 1e-2,
                optimizer=opt,
                patience=3,
                val_score=lambda m, b: -float(((m(b[0]).squeeze(1) - b[1][:, 0]) ** 2).mean()),
                **KW,
            )
            out[f"train_{opt}_loss"] = np.array(h.train_loss)
            out[f"train_{opt}_val"] = np.array(h.val_score)
            out[f"train_{opt}_w"] = net[0].weight.detach().numpy().astype(np.float64)
    out["_version"] = np.array(mmlib.__version__)
    return out


if __name__ == "__main__":
    if sys.argv[1:] != ["write"]:
        sys.exit("usage: python tools/golden_refactor.py write")
    PATH.parent.mkdir(exist_ok=True)
    np.savez_compressed(PATH, **outputs())
    print(f"wrote {PATH}")
