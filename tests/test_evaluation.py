"""mmlib.evaluation: corrupting or removing a modality, and the probe under test conditions."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mmlib
from mmlib import CCA, GCCA, datasets
from mmlib.evaluation import (
    Condition,
    corrupt_modality,
    evaluate_conditions,
    joint_codes,
    modality_codes,
)
from mmlib.metrics import linear_probe


@pytest.fixture(scope="module")
def digits():
    data = datasets.make_multimodal_digits(n_samples=300, random_state=0)
    return data.train_test_split(test_size=0.5, random_state=0)


def _views(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, 3)), 5.0 * rng.normal(size=(n, 4)), rng.normal(size=(n, 2))]


# ----------------------------------------------------------------------------- corrupt_modality


def test_remove_puts_none_in_the_slot_and_keeps_the_others():
    views = _views()
    out = corrupt_modality(views, 1, remove=True)
    assert out[1] is None and len(out) == 3
    np.testing.assert_array_equal(out[0], views[0])
    np.testing.assert_array_equal(out[2], views[2])


def test_noise_is_relative_to_each_features_sd_and_seeded():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20000, 2)) * np.array([1.0, 10.0])
    views = [X, np.zeros((20000, 1)) + rng.normal(size=(20000, 1))]
    out = corrupt_modality(views, 0, noise=0.5, random_state=3)
    added = out[0] - X
    np.testing.assert_allclose(added.std(axis=0), 0.5 * X.std(axis=0), rtol=0.03)
    again = corrupt_modality(views, 0, noise=0.5, random_state=3)
    np.testing.assert_array_equal(out[0], again[0])
    # the same seed draws the same epsilon: the noise scales linearly with the strength
    double = corrupt_modality(views, 0, noise=1.0, random_state=3)
    np.testing.assert_allclose(double[0] - X, 2 * added, rtol=1e-12, atol=1e-12)
    assert out[1] is views[1] or np.array_equal(out[1], views[1])


def test_zero_noise_is_the_identity_and_constant_features_stay_clean():
    views = [np.column_stack([np.ones(10), np.arange(10.0)]), np.ones((10, 2))]
    out = corrupt_modality(views, 0, noise=2.0)
    np.testing.assert_array_equal(out[0][:, 0], 1.0)
    np.testing.assert_array_equal(corrupt_modality(views, 0, noise=0.0)[0], views[0])


def test_given_scale_replaces_the_views_own():
    views = _views()
    out = corrupt_modality(views, 2, noise=1.0, scale=np.zeros(2))
    np.testing.assert_array_equal(out[2], views[2])


def test_modality_by_name():
    views = _views()
    out = corrupt_modality(views, "b", remove=True, view_names=["a", "b", "c"])
    assert out[1] is None


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"modality": "z", "view_names": ["a", "b", "c"]}, ValueError, "unknown modality 'z'"),
        ({"modality": "a"}, ValueError, "no view_names"),
        ({"modality": 3}, ValueError, "out of range"),
        ({"modality": -1}, ValueError, "out of range"),
        ({"modality": 1.0}, TypeError, "modality must be"),
        ({"modality": True}, TypeError, "modality must be"),
        ({"modality": 0, "noise": -0.1}, ValueError, "noise"),
        ({"modality": 0, "noise": float("nan")}, ValueError, "noise"),
        ({"modality": 0, "remove": "yes"}, TypeError, "remove"),
        ({"modality": 0, "scale": np.ones(2)}, ValueError, "scale has 2"),
        ({"modality": 0, "scale": -np.ones(3)}, ValueError, "negative"),
        ({"modality": 0, "view_names": ["a"]}, ValueError, "view_names"),
    ],
)
def test_corrupt_bad_input(kwargs, err, match):
    with pytest.raises(err, match=match):
        corrupt_modality(_views(), **kwargs)


def test_corrupt_bad_views():
    with pytest.raises(TypeError, match="views must be a list"):
        corrupt_modality(np.ones((3, 2)), 0)
    with pytest.raises(ValueError, match="views\\[1\\] contains NaN"):
        corrupt_modality([np.ones((3, 2)), np.full((3, 2), np.nan)], 0)
    with pytest.raises(ValueError, match="same number of rows"):
        corrupt_modality([np.ones((3, 2)), np.ones((4, 2))], 0)
    with pytest.raises(ValueError, match="is None"):
        corrupt_modality([None, np.ones((3, 2))], 0, noise=1.0)


# ----------------------------------------------------------------------------- Condition


def test_condition_labels_kinds_and_bad_input():
    assert Condition().kind == "complete"
    assert Condition("image", remove=True).kind == "missing"
    assert Condition("image", noise=1).kind == "noise"
    assert Condition("image", noise=1).label == "image noise 1"
    with pytest.raises(ValueError, match="noise"):
        Condition("image", noise=-1)
    with pytest.raises(ValueError, match="must name its modality"):
        Condition(remove=True)
    with pytest.raises(TypeError, match="modality"):
        Condition(1.5)
    with pytest.raises(TypeError, match="remove"):
        Condition(0, remove=1)


# ----------------------------------------------------------------------------- codes per family


def test_cca_codes_are_its_transform_and_the_joint_code_their_mean(digits):
    train, test = digits
    views = train.views[:2]
    cca = CCA(n_components=3, reg=0.1).fit(views)
    per_view = modality_codes(cca, views)
    for a, b in zip(per_view, cca.transform(views), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(joint_codes(cca, views), (per_view[0] + per_view[1]) / 2)
    # a missing view: the present view's own code
    np.testing.assert_allclose(joint_codes(cca, [views[0], None]), per_view[0])


def test_gcca_codes_sum_to_its_transform(digits):
    train, _ = digits
    g = GCCA(n_components=4, reg=0.1).fit(train.views)
    per_view = modality_codes(g, train.views)
    np.testing.assert_allclose(sum(per_view) / g.eigenvalues_, g.transform(train.views))
    np.testing.assert_allclose(
        joint_codes(g, [None, train.views[1], train.views[2]]), (per_view[1] + per_view[2]) / 2
    )


def test_evaluate_conditions_table_and_probe(digits):
    train, test = digits
    names = train.view_names
    g = GCCA(n_components=6, reg=0.1).fit(train.views)
    conditions = [
        Condition(),
        *(Condition(n, remove=True) for n in names),
        *(Condition("image", noise=s) for s in (0.5, 4.0)),
    ]
    table = evaluate_conditions(
        g, train.views, train.y, test.views, test.y, conditions, view_names=names
    )
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["condition", "kind", "modality", "noise", "accuracy"]
    assert list(table["condition"]) == [c.label for c in conditions]
    assert list(table["kind"]) == ["complete"] + ["missing"] * 3 + ["noise"] * 2
    assert table["accuracy"].between(0, 1).all()
    # the complete row is linear_probe on the mean of the per-view codes
    Ztr = joint_codes(g, train.views)
    Zte = joint_codes(g, test.views)
    assert table["accuracy"][0] == pytest.approx(linear_probe(Ztr, train.y, Zte, test.y))
    # growing noise on the best modality costs accuracy
    noisy = table.set_index("condition")["accuracy"]
    assert noisy["image noise 4"] < noisy["complete"]


def test_encode_path_for_models_without_codes(digits):
    train, test = digits

    def raw(views):  # raw features, a missing view zero-filled
        n = next(v for v in views if v is not None).shape[0]
        widths = [v.shape[1] for v in train.views]
        return np.hstack(
            [np.zeros((n, w)) if v is None else v for v, w in zip(views, widths, strict=True)]
        )

    table = evaluate_conditions(
        None,
        train.views,
        train.y,
        test.views,
        test.y,
        [Condition(), Condition(1, remove=True)],
        encode=raw,
    )
    full = linear_probe(np.hstack(train.views), train.y, np.hstack(test.views), test.y)
    assert table["accuracy"][0] == pytest.approx(full)
    assert table["modality"][1] == 1


class _Fusion:
    """Stands for a supervised fusion: callable, no transform."""

    def __call__(self, xs):
        return xs[0]


@pytest.mark.parametrize(
    ("estimator", "kwargs", "err", "match"),
    [
        (_Fusion(), {}, TypeError, "no per-view code: pass encode"),
        (None, {}, TypeError, "estimator or an encode"),
        ("cca", {"encode": lambda v: v[0]}, TypeError, "not both"),
        (None, {"encode": 3}, TypeError, "encode must be callable"),
        ("cca", {"conditions": [Condition("nope", remove=True)]}, ValueError, "unknown modality"),
        ("cca", {"conditions": [Condition(5, remove=True)]}, ValueError, "out of range"),
        ("cca", {"conditions": ["complete"]}, TypeError, "Condition"),
        ("cca", {"conditions": []}, TypeError, "non-empty"),
    ],
)
def test_evaluate_bad_input(digits, estimator, kwargs, err, match):
    train, test = digits
    views_tr, views_te = train.views[:2], test.views[:2]
    if estimator == "cca":
        estimator = CCA(n_components=2).fit(views_tr)
    kwargs = {"conditions": [Condition()], "view_names": ["image", "sound"], **kwargs}
    with pytest.raises(err, match=match):
        evaluate_conditions(estimator, views_tr, train.y, views_te, test.y, **kwargs)


def test_evaluate_bad_views(digits):
    train, test = digits
    cca = CCA(n_components=2).fit(train.views[:2])
    with pytest.raises(ValueError, match="test_views has 3"):
        evaluate_conditions(cca, train.views[:2], train.y, test.views, test.y, [Condition()])
    with pytest.raises(ValueError, match="y_test"):
        evaluate_conditions(
            cca, train.views[:2], train.y, test.views[:2], test.y[:-1], [Condition()]
        )


def test_modality_codes_refuses_a_fused_code_only():
    class Fused:
        def transform(self, views):
            return np.hstack(views)

    with pytest.raises(TypeError, match="no per-view codes"):
        modality_codes(Fused(), _views())


def test_import_mmlib_does_not_import_torch_or_evaluation():
    code = (
        "import sys, mmlib; assert 'torch' not in sys.modules; "
        "assert 'mmlib.evaluation' not in sys.modules; mmlib.evaluate_conditions; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert mmlib.Condition is Condition


# ----------------------------------------------------------------------------- deep families

torch = pytest.importorskip("torch")


def test_deep_families_work_unchanged(digits):
    from mmlib.models import DCCA, DGCCA, GMC, MMV

    train, test = digits
    names = train.view_names
    small = dict(epochs=2, batch_size=64, progress=False, device="cpu")
    conds = [Condition(), Condition("sound", remove=True), Condition("image", noise=1.0)]
    models = {
        "DGCCA": DGCCA(n_components=4, hidden=(16,), **small).fit(train.views),
        "GMC": GMC(code_dim=8, hidden=(16,), view_names=names, **small).fit(train.views),
        "MMV": MMV(space="shared", embed_dim=8, backbone_dim=8, hidden=(16,), **small).fit(
            train.views
        ),
    }
    for name, model in models.items():
        table = evaluate_conditions(
            model, train.views, train.y, test.views, test.y, conds, view_names=names
        )
        assert table["accuracy"].between(0, 1).all(), name
        codes = modality_codes(model, test.views)
        assert len(codes) == 3 and all(c.shape[0] == test.n_samples for c in codes), name
    # GMC's missing-modality code is its own transform of the present subset
    gmc = models["GMC"]
    np.testing.assert_allclose(
        joint_codes(gmc, [test.views[0], None, test.views[2]]),
        gmc.transform([test.views[0], None, test.views[2]]),
    )
    dcca = DCCA(n_components=2, hidden=(16,), **small).fit(train.views[:2])
    np.testing.assert_allclose(
        joint_codes(dcca, [None, test.views[1]]), dcca.transform(test.views[:2])[1]
    )


def test_noise_uses_the_training_sd_and_the_seed(digits):
    train, test = digits
    seen = []

    def record(views):
        seen.append(views)
        return np.hstack([np.zeros((len(views[1]), 1)) if v is None else v for v in views])

    scaled_train = [train.views[0] * 3.0, *train.views[1:]]
    evaluate_conditions(
        None,
        scaled_train,
        train.y,
        test.views,
        test.y,
        [Condition(0, noise=2.0)],
        encode=record,
        random_state=7,
    )
    noisy = seen[0][0]  # the first call scores the condition; the last one encodes training
    expected = corrupt_modality(
        test.views, 0, 2.0, scale=scaled_train[0].std(axis=0), random_state=7
    )[0]
    np.testing.assert_array_equal(noisy, expected)
