r"""Which modality does a prediction rely on? Modality weights, tensor blocks and attributions.

The interpretability chapter's toolbox (torch), one module per idea; every name is re-exported
here, so ``from mmlib.interpret import X`` (and ``mmlib.X`` for the three the top level lists)
keeps working:

* :mod:`mmlib.interpret.weights` -- the modality weights :math:`\beta`: the closed form
  :func:`~mmlib.interpret.weights.modality_weights`, the weighted last layers
  :class:`~mmlib.interpret.weights.ModalityWeights` with their penalty
  :math:`\sum_m \lVert w_m \rVert^2 / \beta_m`, and a network per modality with learned weights,
  :class:`~mmlib.interpret.weights.ModalityWeightedClassifier`, trained by
  :func:`~mmlib.interpret.weights.fit_modality_weighted`;
* :mod:`mmlib.interpret.tensors` -- tensor blocks: :func:`~mmlib.interpret.tensors.outer_flatten`,
  the Tensor Fusion block :func:`~mmlib.interpret.tensors.tensor_block`, and the block with its
  lower-order content removed, :func:`~mmlib.interpret.tensors.iterative_normalised_tensor`
  (module :class:`~mmlib.interpret.tensors.IterativeNormTensor`);
* :mod:`mmlib.interpret.attribution` -- beyond :math:`\beta`: what the trained model does without
  a modality, :func:`~mmlib.interpret.attribution.modality_ablation`, and Integrated Gradients
  summed per modality, :func:`~mmlib.interpret.attribution.integrated_gradients_per_modality`
  (captum, imported on first use);
* :mod:`mmlib.interpret.encoders` -- :class:`~mmlib.interpret.encoders.SequenceCNN`, a tiny 1-D
  CNN for one-hot DNA.

Dependencies run one way: ``weights`` uses ``tensors`` (the classifier's optional tensor block);
``_inputs`` holds the input checks the modules share.

References
----------
Kloft, Brefeld, Sonnenburg and Zien (2011), "lp-norm multiple kernel learning", JMLR 12.
Zadeh, Chen, Poria, Cambria and Morency (2017), "Tensor fusion network for multimodal sentiment
analysis", EMNLP. Sundararajan, Taly and Yan (2017), "Axiomatic attribution for deep networks",
ICML.
"""

from __future__ import annotations

# A module here must not share its name with a chapter (book/<name>.md): the API page documents
# it, and a page link such as [weights](weights) would then match both (a strict-build warning).
# Classes keep their defining module in __module__ (new pickles name mmlib.interpret.weights.X);
# a pickle written before the split names mmlib.interpret.X, which the re-exports still resolve.
from mmlib.interpret.attribution import integrated_gradients_per_modality, modality_ablation
from mmlib.interpret.encoders import SequenceCNN
from mmlib.interpret.tensors import (
    IterativeNormTensor,
    iterative_normalised_tensor,
    outer_flatten,
    tensor_block,
)
from mmlib.interpret.weights import (
    ModalityWeightedClassifier,
    ModalityWeights,
    fit_modality_weighted,
    modality_weights,
)

__all__ = [
    "IterativeNormTensor",
    "ModalityWeightedClassifier",
    "ModalityWeights",
    "SequenceCNN",
    "fit_modality_weighted",
    "integrated_gradients_per_modality",
    "iterative_normalised_tensor",
    "modality_ablation",
    "modality_weights",
    "outer_flatten",
    "tensor_block",
]
