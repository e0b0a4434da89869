"""Deep multiview models: torch modules plus scikit-learn style ``fit`` / ``transform`` wrappers.

One module per family of chapters; every name is re-exported here (``from mmlib.models import
DCCA``) and from :mod:`mmlib` itself (``mmlib.DCCA``):

- :mod:`mmlib.models.correlation`: Deep CCA and Deep Generalized CCA (``DCCAModule``, ``DCCA``,
  ``DGCCAModule``, ``DGCCA``);
- :mod:`mmlib.models.fusion_models`: the fusion chapter's ``FusionClassifier`` and
  ``BimodalAutoencoder``;
- :mod:`mmlib.models.mmv_models`: multimodal versatile networks (``MMVModule``, ``MMV``);
- :mod:`mmlib.models.gmc_models`: GMC and its two baselines for missing modalities
  (``GMCModule``, ``GMC``, ``FusionAEModule``, ``FusionAE``, ``MVAEModule``, ``MVAE``);
- ``mmlib.models._estimator``: ``DeepEstimator``, the one base of the estimators;
- ``mmlib.models._common``: the checks of custom encoders and forward inputs.

The modules are plain ``torch.nn.Module`` subclasses (usable in any training loop). The estimators
share one contract, scikit-learn's with views instead of ``X``: ``fit(views, y=None,
val_views=None)`` trains the module with :func:`mmlib.training.train`'s loop and returns ``self``
(learned attributes ``module_``, ``history_``, ``device_``, ``n_features_in_``);
``transform(views)`` gives the method's representation (DCCA: each view's canonical variates;
DGCCA: the estimate of ``G``; GMC, FusionAE, MVAE: the joint code of the modalities present; MMV:
``{space: {modality: (n, e)}}``), and ``transform_views(views)`` each view's own code. A missing
modality is ``None`` in its slot wherever the method can work without it.
"""

# A module here must not share its name with a chapter (book/<name>.md): the API page documents
# it, and a page link such as [GMC](gmc) would then match both (a warning in the strict build).

from mmlib.models.correlation import DCCA, DGCCA, DCCAModule, DGCCAModule
from mmlib.models.fusion_models import FUSIONS, BimodalAutoencoder, FusionClassifier
from mmlib.models.gmc_models import GMC, MVAE, FusionAE, FusionAEModule, GMCModule, MVAEModule
from mmlib.models.mmv_models import MMV, MMVModule
from mmlib.models.mmv_models import MMV_MODALITIES as MMV_MODALITIES

__all__ = [
    "DCCA",
    "DCCAModule",
    "DGCCA",
    "DGCCAModule",
    "FUSIONS",
    "BimodalAutoencoder",
    "FusionClassifier",
    "MMV",
    "MMVModule",
    "GMC",
    "MVAE",
    "FusionAE",
    "FusionAEModule",
    "GMCModule",
    "MVAEModule",
]
