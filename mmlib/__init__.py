"""mmlib: multimodal representation learning, from CCA to contrastive alignment.

The library behind the mmbook tutorials. Every estimator takes a list of views
(arrays of shape ``(n_samples, n_features_j)``, samples as rows) and follows the
scikit-learn conventions: ``fit(views)``, ``transform(views)``, learned
attributes ending in ``_``.

The numpy side (``CCA``, ``GCCA``, metrics, data sets) imports without torch; the deep
models, losses and training loop load torch on first use.
"""

from __future__ import annotations

import importlib

from mmlib import book, datasets, metrics, plotting
from mmlib.datasets import MultiViewDataset
from mmlib.linear import CCA, GCCA
from mmlib.metrics import (
    canonical_correlations,
    linear_probe,
    paired_correlations,
    recall_at_k,
    total_correlation,
)

__version__ = "0.1.0"

# torch-backed names, imported lazily (PEP 562) so `import mmlib` stays light
_LAZY = {
    "DCCA": "mmlib.models",
    "DGCCA": "mmlib.models",
    "DCCAModule": "mmlib.models",
    "DGCCAModule": "mmlib.models",
    "MLP": "mmlib.nets",
    "cca_loss": "mmlib.losses",
    "cca_correlations": "mmlib.losses",
    "gcca_loss": "mmlib.losses",
    "gcca_solution": "mmlib.losses",
    "make_encoders": "mmlib.nets",
    "resolve_device": "mmlib.training",
    "train": "mmlib.training",
    "History": "mmlib.training",
    "NonFiniteLossError": "mmlib.training",
    "losses": "mmlib.losses",
    "nets": "mmlib.nets",
    "models": "mmlib.models",
    "training": "mmlib.training",
    # contrastive alignment
    "GMC": "mmlib.models",
    "GMCModule": "mmlib.models",
    "MVAE": "mmlib.models",
    "FusionAE": "mmlib.models",
    "gmc_loss": "mmlib.losses",
    "nt_xent": "mmlib.losses",
    # fusion
    "ConcatFusion": "mmlib.nets",
    "SumFusion": "mmlib.nets",
    "ProductFusion": "mmlib.nets",
    "LateFusion": "mmlib.nets",
    "TensorFusion": "mmlib.nets",
    "LowRankFusion": "mmlib.nets",
    "FusionClassifier": "mmlib.models",
    "BimodalAutoencoder": "mmlib.models",
    "MMV": "mmlib.models",
    "MMVModule": "mmlib.models",
    "mil_nce": "mmlib.losses",
    "nce": "mmlib.losses",
    # interpretability
    "ModalityWeights": "mmlib.interpret",
    "ModalityWeightedClassifier": "mmlib.interpret",
    "modality_weights": "mmlib.interpret",
    "interpret": "mmlib.interpret",
    # evaluation under missing or corrupted modalities (the "which method when" chapter)
    "evaluation": "mmlib.evaluation",
    "Condition": "mmlib.evaluation",
    "corrupt_modality": "mmlib.evaluation",
    "evaluate_conditions": "mmlib.evaluation",
    "joint_codes": "mmlib.evaluation",
    "modality_codes": "mmlib.evaluation",
}

__all__ = [
    "CCA",
    "GCCA",
    "MultiViewDataset",
    "book",
    "canonical_correlations",
    "datasets",
    "linear_probe",
    "metrics",
    "paired_correlations",
    "plotting",
    "recall_at_k",
    "total_correlation",
]
# __all__ lists the eager names only: `from mmlib import *` fetches every name in __all__, and a
# lazy one there would import torch. The torch-backed names stay attributes (mmlib.DCCA) and are
# listed by dir(mmlib); import them explicitly (from mmlib import DCCA).


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'mmlib' has no attribute {name!r}")


def __dir__():
    return sorted({*__all__, *_LAZY})


if book.in_book_build():
    book.use_book_plotly_renderer()
