"""mmlib: multimodal representation learning, from CCA to contrastive alignment.

The library behind the mmbook tutorials. Every estimator takes a list of views
(arrays of shape ``(n_samples, n_features_j)``, samples as rows) and follows the
scikit-learn conventions: ``fit(views)``, ``transform(views)``, learned
attributes ending in ``_``.
"""

__version__ = "0.1.0"

from mmlib import book

if book.in_book_build():
    book.use_book_plotly_renderer()
