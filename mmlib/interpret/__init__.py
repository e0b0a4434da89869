"""Which modality does a prediction rely on? (a package; the next commit splits it by idea)."""

from mmlib.interpret.weights import (  # noqa: F401
    IterativeNormTensor,
    ModalityWeightedClassifier,
    ModalityWeights,
    SequenceCNN,
    __all__,
    fit_modality_weighted,
    integrated_gradients_per_modality,
    iterative_normalised_tensor,
    modality_ablation,
    modality_weights,
    outer_flatten,
    tensor_block,
)
