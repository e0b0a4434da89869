"""The deep estimators' one contract (``mmlib.models._estimator.DeepEstimator``).

A new estimator takes a module, a loss and about a dozen lines (``_Agree`` below); the library's
estimators share the output convention: ``transform_views`` with ``None`` for a missing view.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from mmlib import datasets
from mmlib.models import DCCA, DGCCA, GMC, MMV, MVAE, FusionAE
from mmlib.models._estimator import DeepEstimator, estimator_parameters


@estimator_parameters
class _Agree(DeepEstimator):
    """A toy: one linear map per view, trained so that the maps of paired rows agree."""

    out_dim: int = 2
    epochs: int = 3
    lr: float = 1e-2
    device: str | None = None
    random_state: int | None = 0
    progress: bool | None = False

    def _build(self, views, val_views):
        module = nn.ModuleList(nn.Linear(v.shape[1], self.out_dim) for v in views)
        return module, lambda m, b: ((m[0](b[0]) - m[1](b[1])) ** 2).mean()

    def transform_views(self, views):
        views = self._check_views_with_gaps(views)
        return [
            None if v is None else self._numpy(self._no_grad(f, self._tensor(v)))
            for f, v in zip(self.module_, views, strict=True)
        ]

    def transform(self, views):
        return np.mean([z for z in self.transform_views(views) if z is not None], axis=0)


@pytest.fixture(scope="module")
def two():
    return list(datasets.make_latent_views(n_samples=60, n_features=(4, 3), random_state=0).views)


def test_a_new_estimator_is_a_module_a_loss_and_a_dozen_lines(two):
    est = _Agree()
    assert est.fit(two) is est
    assert len(est.history_.train_loss) == 3 and est.n_features_in_ == [4, 3]
    assert est.device_ == torch.device("cpu") or est.device_.type == "cuda"
    z = est.transform(two)
    assert z.shape == (60, 2) and z.dtype == np.float64
    assert est.transform_views([None, two[1]])[0] is None
    np.testing.assert_array_equal(est.fit_transform(two), z)  # seeded: the same fit again
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "module_")
    np.testing.assert_array_equal(twin.set_params(epochs=3).fit(two).transform(two), z)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(two), z)
    with pytest.raises(ValueError, match="epochs"):
        _Agree(epochs=0).fit(two)
    with pytest.raises(ValueError, match=r"views\[1\] has 2 features but the estimator was fitted"):
        est.transform([two[0], two[1][:, :2]])


def test_a_pickle_of_another_version_warns(two):
    state = _Agree().fit(two).__getstate__()
    assert state["_mmlib_version"]
    state["_mmlib_version"] = "0.0.1"
    fresh = _Agree.__new__(_Agree)
    with pytest.warns(UserWarning, match="pickled by mmlib 0.0.1"):
        fresh.__setstate__(state)
    np.testing.assert_array_equal(fresh.transform(two), _Agree().fit(two).transform(two))


def test_every_deep_estimator_gives_per_view_codes_with_none_slots(two):
    three = list(datasets.make_three_modalities(n_samples=60, random_state=1).views)
    kw = dict(epochs=1, progress=False)
    dcca = DCCA(hidden=(4,), **kw).fit(two)
    z = dcca.transform(two)
    assert dcca.transform([None, two[1]])[0] is None
    np.testing.assert_array_equal(dcca.transform([None, two[1]])[1], z[1])
    dgcca = DGCCA(hidden=(4,), **kw).fit(three)
    assert dgcca.transform_views([three[0], None, three[2]])[1] is None
    with pytest.raises(ValueError, match="use transform_views"):
        dgcca.transform([three[0], None, three[2]])
    for cls in (GMC, FusionAE, MVAE):
        model = cls(code_dim=3, hidden=(4,), **kw).fit(three)
        alone = model.transform_views([three[0], None, three[2]])
        assert alone[1] is None
        np.testing.assert_array_equal(alone[2], model.transform([None, None, three[2]]))
        with pytest.warns(DeprecationWarning, match=r"transform\(\[X_0, None, X_2\]\)"):
            old = model.transform(three, present=[0, 2])
        np.testing.assert_array_equal(old, model.transform([three[0], None, three[2]]))


@pytest.mark.parametrize("space", ["fac", "shared", "disjoint"])
def test_mmv_transform_views_picks_one_space(space):
    gran = list(datasets.make_granularity_digits(n_samples=48, n_captions=2, random_state=2).views)
    model = MMV(space=space, embed_dim=3, backbone_dim=4, hidden=(4,), batch_size=16, epochs=1,
                progress=False).fit(gran, val_views=gran)  # fmt: skip
    assert len(model.history_.val_loss) == 1
    views = [gran[0], gran[1], gran[2][:, 0] if gran[2].ndim == 3 else gran[2]]
    z = model.transform(views)
    if space == "disjoint":
        with pytest.raises(ValueError, match="space='va'"):
            model.transform_views(views)
        codes = model.transform_views([gran[0], None, views[2]], space="vt")
        np.testing.assert_array_equal(codes[2], z["vt"]["text"])
        with pytest.raises(ValueError, match="audio has no embedding"):
            model.transform_views(views, space="vt")
        return
    codes = model.transform_views(views)
    for code, modality in zip(codes, ("vision", "audio", "text"), strict=True):
        np.testing.assert_array_equal(code, z["vat"][modality])
    assert model.transform_views([None, gran[1], None])[0] is None
    with pytest.raises(ValueError, match="space must be one of"):
        model.transform_views(views, space="vt")


def test_fit_warns_nothing(two):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DCCA(hidden=(4,), epochs=1, progress=False).fit(two).transform(two)
