"""Tests of mmlib.datasets: shapes, labels, determinism, the promised statistics, bad input."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import PolynomialFeatures

from mmlib import datasets
from mmlib.datasets import (
    MultiViewDataset,
    available_datasets,
    load_digits_halves,
    load_mfeat,
    load_nutrimouse,
    make_latent_views,
    make_noisy_digits,
    make_nonlinear_views,
    make_three_modalities,
)

GENERATORS = {
    "make_latent_views": {"n_samples": 300},
    "make_noisy_digits": {"n_samples": 200},
    "make_nonlinear_views": {"n_samples": 300},
    "make_three_modalities": {"n_samples": 300},
    "make_granularity_digits": {"n_samples": 200},
    "make_multiplicative_views": {"n_samples": 300},
    "make_multimodal_digits": {"n_samples": 200},
    "make_dna_modalities": {"n_samples": 100},
}


def canonical_correlations(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Sample canonical correlations: singular values of Qx^T Qy for the centred views."""
    qx, _ = np.linalg.qr(X - X.mean(axis=0))
    qy, _ = np.linalg.qr(Y - Y.mean(axis=0))
    return np.linalg.svd(qx.T @ qy, compute_uv=False)


# ---------------------------------------------------------------------------- the container


def test_container_properties_repr_and_validation():
    rng = np.random.default_rng(0)
    ds = MultiViewDataset(
        views=[rng.random((10, 3)), rng.random((10, 5)).astype(np.float32)],
        y=np.arange(10) % 2,
        view_names=["a", "b"],
        name="toy",
    )
    assert (ds.n_samples, ds.n_views, ds.n_features) == (10, 2, [3, 5])
    assert all(v.dtype == np.float64 for v in ds.views)
    text = repr(ds)
    assert "'toy'" in text and "n_samples=10" in text and "a: 3" in text and "b: 5" in text
    assert "2 classes" in text
    default_names = MultiViewDataset(views=[np.ones((4, 2)), np.ones((4, 1))])
    assert default_names.view_names == ["view_0", "view_1"]

    with pytest.raises(ValueError, match=r"views\[1\] has 9"):
        MultiViewDataset(views=[np.ones((10, 2)), np.ones((9, 2))])
    with pytest.raises(ValueError, match="view_names"):
        MultiViewDataset(views=[np.ones((4, 2))], view_names=["a", "b"])
    with pytest.raises(ValueError, match="y has 3 labels"):
        MultiViewDataset(views=[np.ones((4, 2))], y=[0, 1, 0])
    with pytest.raises(ValueError, match=r"extras\['z'\] must have 4 rows"):
        MultiViewDataset(views=[np.ones((4, 2))], extras={"z": np.ones(3)}, sample_extras=("z",))
    with pytest.raises(ValueError, match="not a key of extras"):
        MultiViewDataset(views=[np.ones((4, 2))], sample_extras=("z",))
    with pytest.raises(TypeError, match="extras must be a dict"):
        MultiViewDataset(views=[np.ones((4, 2))], extras=[1, 2])


def test_train_test_split_is_stratified_and_splits_the_per_sample_extras():
    ds = make_three_modalities(n_samples=300, random_state=1)
    train, test = ds.train_test_split(test_size=0.2, random_state=0)
    assert (train.n_samples, test.n_samples) == (240, 60)
    assert np.array_equal(np.bincount(test.y), [20, 20, 20])  # stratified: 100 per class
    # the latent rows travel with their samples
    for part in (train, test):
        assert part.extras["latent"].shape == (part.n_samples,)
        assert part.extras["positions"].shape == (part.n_samples, 3)
    rows = np.flatnonzero(np.isin(ds.views[0][:, 0], test.views[0][:, 0]))
    assert np.array_equal(ds.extras["latent"][rows], test.extras["latent"])
    # no sample lost or duplicated
    both = np.concatenate([train.extras["latent"], test.extras["latent"]])
    assert np.array_equal(np.sort(both), np.sort(ds.extras["latent"]))

    lat = make_latent_views(n_samples=200, random_state=0)
    tr, te = lat.train_test_split(test_size=50)  # y is None: not stratified
    assert (tr.n_samples, te.n_samples) == (150, 50)
    w_x, w_y = lat.extras["weights"]
    assert np.allclose(te.views[0] @ w_x, te.extras["latent"][0])
    assert np.allclose(tr.views[1] @ w_y, tr.extras["latent"][1])
    assert tr.extras["weights"] is lat.extras["weights"]  # not per-sample: shared

    with pytest.raises(ValueError, match="test_size"):
        ds.train_test_split(test_size=1.5)
    with pytest.raises(ValueError, match="test_size"):
        ds.train_test_split(test_size=300)
    with pytest.raises(TypeError, match="test_size"):
        ds.train_test_split(test_size="half")
    with pytest.raises(TypeError, match="stratify"):
        ds.train_test_split(stratify="yes")


# ---------------------------------------------------------------------------- loaders


def test_available_datasets_names_callables_returning_datasets():
    names = available_datasets()
    assert list(names) == [
        "make_latent_views",
        "load_digits_halves",
        "make_noisy_digits",
        "load_nutrimouse",
        "load_mfeat",
        "make_nonlinear_views",
        "make_three_modalities",
        "make_multimodal_digits",
        "make_granularity_digits",
        "make_multiplicative_views",
        "make_dna_modalities",
    ]
    for name, line in names.items():
        assert name in datasets.__all__ and isinstance(line, str) and "\n" not in line
        kwargs = {"random_state": 0, **GENERATORS[name]} if name.startswith("make_") else {}
        ds = getattr(datasets, name)(**kwargs)
        assert isinstance(ds, MultiViewDataset)
        assert ds.name == name.split("_", 1)[1]
        assert ds.description and len(ds.view_names) == ds.n_views
        assert all(v.dtype == np.float64 and np.isfinite(v).all() for v in ds.views)


def test_load_digits_halves_reassembles_sklearn_digits():
    ds = load_digits_halves()
    digits = load_digits()
    assert ds.n_features == [32, 32] and ds.n_samples == 1797
    left = ds.views[0].reshape(-1, 8, 4)
    right = ds.views[1].reshape(-1, 8, 4)
    assert np.array_equal(np.concatenate([left, right], axis=2) * 16, digits.images)
    assert np.array_equal(ds.y, digits.target)
    assert ds.views[0].min() == 0.0 and ds.views[0].max() == 1.0


def test_load_mfeat_all_views_counts_and_known_values():
    ds = load_mfeat()
    assert ds.view_names == [
        "fourier",
        "profile_correlations",
        "karhunen_loeve",
        "pixels",
        "zernike",
        "morphological",
    ]
    assert ds.n_features == [76, 216, 64, 240, 47, 6]
    assert ds.n_samples == 2000
    assert np.array_equal(np.bincount(ds.y), np.full(10, 200))
    assert np.array_equal(ds.y, np.repeat(np.arange(10), 200))
    # first rows of mfeat-mor.csv and mfeat-fou.csv, as in the source files
    assert np.array_equal(ds.views[5][0], [1, 0, 0, 133.15, 1.3117, 1620.2])
    assert ds.views[0][0, :3].tolist() == [0.065882, 0.19731, 0.10383]
    assert set(np.unique(ds.views[3])) <= set(range(7))  # pixels: 0..6


def test_load_mfeat_subset_by_name_or_code_in_the_given_order():
    full = load_mfeat()
    sub = load_mfeat(views=["mor", "pixels"])
    assert sub.view_names == ["morphological", "pixels"]
    assert sub.extras["codes"] == ["mor", "pix"]
    assert np.array_equal(sub.views[0], full.views[5])
    assert np.array_equal(sub.views[1], full.views[3])
    with pytest.raises(ValueError, match=r"views\[1\] = 'sound' is not an mfeat view"):
        load_mfeat(views=["pixels", "sound"])
    with pytest.raises(ValueError, match="repeated"):
        load_mfeat(views=["pixels", "pix"])
    with pytest.raises(TypeError, match="views must be a list"):
        load_mfeat(views="pixels")
    with pytest.raises(ValueError, match="at least one"):
        load_mfeat(views=[])


def test_load_nutrimouse_sizes_labels_and_names():
    ds = load_nutrimouse()
    assert ds.view_names == ["genes", "lipids"]
    assert ds.n_features == [120, 21] and ds.n_samples == 40
    assert np.array_equal(ds.y, np.repeat([0, 1], 20))  # 20 wild type, then 20 PPAR-deficient
    assert ds.extras["genotype_names"] == ["wt", "ppar"]
    assert ds.extras["diet_names"] == ["ref", "coc", "sun", "lin", "fish"]
    diet = ds.extras["diet"]
    # 4 mice per genotype and diet
    assert np.array_equal(np.bincount(diet[ds.y == 0]), [4] * 5)
    assert np.array_equal(np.bincount(diet[ds.y == 1]), [4] * 5)
    assert len(ds.extras["gene_names"]) == 120 and len(set(ds.extras["gene_names"])) == 120
    assert ds.extras["lipid_names"][0] == "C14.0" and ds.extras["lipid_names"][-1] == "C22.6n.3"
    # first mouse's first lipids, as in lipid.csv
    assert ds.views[1][0, :3].tolist() == [0.34, 26.45, 10.22]
    # fatty acid percentages sum to about 100 for every mouse
    assert np.allclose(ds.views[1].sum(axis=1), 100, atol=2)


def test_vendored_checksums_match_the_readme():
    folder = resources.files("mmlib").joinpath("data")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    recorded = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+\.npz)$", readme, re.M)
    )
    vendored = sorted(p.name for p in folder.iterdir() if p.name.endswith(".npz"))
    assert vendored == ["mfeat.npz", "nutrimouse.npz"]
    assert sorted(recorded) == vendored
    for name in vendored:
        digest = hashlib.sha256(folder.joinpath(name).read_bytes()).hexdigest()
        assert digest == recorded[name], f"{name} does not match the checksum in README.md"


# ---------------------------------------------------------------------------- generators


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_deterministic_under_random_state(name):
    make = getattr(datasets, name)
    a = make(random_state=3, **GENERATORS[name])
    b = make(random_state=3, **GENERATORS[name])
    c = make(random_state=4, **GENERATORS[name])
    for va, vb, vc in zip(a.views, b.views, c.views, strict=True):
        assert np.array_equal(va, vb)
        assert not np.array_equal(va, vc)
    if a.y is not None:
        assert np.array_equal(a.y, b.y)
    # a Generator is accepted too and advances (two draws differ)
    rng = np.random.default_rng(0)
    d, e = make(random_state=rng, **GENERATORS[name]), make(random_state=rng, **GENERATORS[name])
    assert not np.array_equal(d.views[0], e.views[0])


def test_make_latent_views_recovers_the_requested_canonical_correlations():
    rho = (0.9, 0.7, 0.4)
    ds = make_latent_views(n_samples=200_000, n_features=(20, 30), correlations=rho, random_state=0)
    assert ds.n_features == [20, 30] and ds.y is None
    assert np.array_equal(ds.extras["correlations"], rho)
    sample = canonical_correlations(*ds.views)
    assert sample.shape == (20,)
    assert np.allclose(sample[:3], rho, atol=0.01)
    assert np.all(sample[3:] < 0.03)  # the other population correlations are zero
    # the true directions give the latent variates, whose correlations are rho
    x_lat, y_lat = ds.extras["latent"]
    w_x, w_y = ds.extras["weights"]
    assert np.allclose(ds.views[0] @ w_x, x_lat) and np.allclose(ds.views[1] @ w_y, y_lat)
    corr = [np.corrcoef(x_lat[:, i], y_lat[:, i])[0, 1] for i in range(3)]
    assert np.allclose(corr, rho, atol=0.01)
    # well-conditioned mixing
    assert all(np.linalg.cond(a) <= 4.0 + 1e-9 for a in ds.extras["mixing"])


def test_make_latent_views_sorts_correlations_and_allows_none():
    ds = make_latent_views(n_samples=50, n_features=4, correlations=[0.2, 0.8], random_state=0)
    assert ds.extras["correlations"].tolist() == [0.8, 0.2]
    assert ds.n_features == [4, 4]
    empty = make_latent_views(n_samples=50, correlations=(), random_state=0)
    assert empty.extras["correlations"].shape == (0,)
    assert empty.extras["latent"][0].shape == (50, 0)


def test_make_noisy_digits_pairs_same_class_different_sample():
    ds = make_noisy_digits(random_state=0)
    digits = load_digits()
    assert ds.n_samples == 1797 and ds.n_features == [256, 256]
    index, partner = ds.extras["index"], ds.extras["partner_index"]
    assert np.array_equal(index, np.arange(1797))
    assert np.array_equal(ds.y, digits.target)
    assert np.array_equal(digits.target[partner], ds.y)  # same class
    assert np.all(partner != index)  # a different image
    assert len(np.unique(partner)) > 1000  # chosen at random, not one image per class
    angle = ds.extras["angle"]
    assert np.all(np.abs(angle) <= 45.0) and angle.min() < -40 and angle.max() > 40
    for view in ds.views:
        assert view.min() >= 0.0 and view.max() <= 1.0
    # noise lifts the background of view 2 only
    assert ds.views[1].mean() > ds.views[0].mean() + 0.2


def test_make_noisy_digits_without_rotation_and_noise_returns_the_images():
    ds = make_noisy_digits(n_samples=300, max_angle=0.0, noise=0.0, image_size=8, random_state=1)
    images = load_digits().images.reshape(-1, 64) / 16.0
    assert len(np.unique(ds.extras["index"])) == 300  # a subset, without replacement
    assert np.allclose(ds.views[0], images[ds.extras["index"]])
    assert np.allclose(ds.views[1], images[ds.extras["partner_index"]])
    assert not np.allclose(ds.views[0], ds.views[1])
    bigger = make_noisy_digits(n_samples=2000, random_state=0)  # more than 1,797: reuse images
    assert bigger.n_samples == 2000 and np.all(
        bigger.extras["partner_index"] != bigger.extras["index"]
    )


def test_make_nonlinear_views_linear_cca_fails_nonlinear_maps_succeed():
    ds = make_nonlinear_views(n_samples=2000, random_state=0)
    x1, x2 = ds.views
    assert ds.n_features == [10, 10] and ds.extras["latent"].shape == (2000, 2)
    assert np.all(np.abs(ds.extras["latent"]) <= 1.0)
    linear = canonical_correlations(x1, x2)[0]
    poly = PolynomialFeatures(degree=2, include_bias=False).fit_transform(x1)
    nonlinear = canonical_correlations(poly, x2)[0]
    assert linear < 0.25  # only sampling noise, about sqrt(d / n)
    assert nonlinear > 0.9  # a quadratic f(x1) already matches a linear g(x2)
    # population linear correlation is zero: it shrinks with n
    big = make_nonlinear_views(n_samples=100_000, random_state=0)
    assert canonical_correlations(*big.views)[0] < 0.05


def test_make_three_modalities_not_linearly_separable_but_nonlinearly():
    ds = make_three_modalities(n_samples=600, random_state=0)
    assert ds.view_names == ["circles", "parabolas", "reversed_circles"]
    assert ds.n_features == [2, 2, 2]
    assert np.array_equal(np.bincount(ds.y), [200, 200, 200])
    for j, view in enumerate(ds.views):
        linear = cross_val_score(LogisticRegression(max_iter=1000), view, ds.y, cv=5).mean()
        knn = cross_val_score(KNeighborsClassifier(15), view, ds.y, cv=5).mean()
        assert linear < 0.7, (j, linear)
        assert knn > 0.95, (j, knn)
    # ring radius encodes the class: 1 + c in view 1, C - c in view 3
    r1 = np.linalg.norm(ds.views[0], axis=1)
    r3 = np.linalg.norm(ds.views[2], axis=1)
    assert np.allclose([r1[ds.y == c].mean() for c in range(3)], [1, 2, 3], atol=0.05)
    assert np.allclose([r3[ds.y == c].mean() for c in range(3)], [3, 2, 1], atol=0.05)
    # the position is shared across views (beyond the class)
    pos = ds.extras["positions"]
    assert pos.shape == (600, 3) and ds.extras["latent"].shape == (600,)
    angles = np.arctan2(ds.views[0][:, 1], ds.views[0][:, 0]), np.arctan2(*ds.views[2][:, ::-1].T)
    assert np.corrcoef(np.cos(angles[0]), np.cos(angles[1]))[0, 1] > 0.6
    exact = make_three_modalities(n_samples=50, position_noise=0.0, random_state=0)
    assert np.allclose(exact.extras["positions"], exact.extras["latent"][:, None])


# ---------------------------------------------------------------------------- bad input

BAD_ARGUMENTS = [
    (make_latent_views, {"n_samples": 1}, ValueError, "n_samples"),
    (make_latent_views, {"n_samples": 10.5}, TypeError, "n_samples"),
    (make_latent_views, {"n_features": (20,)}, TypeError, "n_features"),
    (make_latent_views, {"n_features": (0, 5)}, ValueError, r"n_features\[0\]"),
    (make_latent_views, {"correlations": (0.9, 1.2)}, ValueError, r"correlations\[1\]"),
    (make_latent_views, {"correlations": 0.9}, TypeError, "correlations"),
    (make_latent_views, {"n_features": 2, "correlations": (0.9, 0.5, 0.1)}, ValueError, "min"),
    (make_latent_views, {"random_state": "seed"}, TypeError, "random_state"),
    (make_latent_views, {"random_state": -1}, ValueError, "random_state"),
    (make_noisy_digits, {"max_angle": 200}, ValueError, "max_angle"),
    (make_noisy_digits, {"noise": -0.1}, ValueError, "noise"),
    (make_noisy_digits, {"image_size": 4}, ValueError, "image_size"),
    (make_noisy_digits, {"image_size": 16.0}, TypeError, "image_size"),
    (make_noisy_digits, {"n_samples": 0}, ValueError, "n_samples"),
    (make_nonlinear_views, {"latent_dim": 0}, ValueError, "latent_dim"),
    (make_nonlinear_views, {"latent_dim": 12}, ValueError, "n_features"),
    (make_nonlinear_views, {"noise": float("nan")}, ValueError, "noise"),
    (make_nonlinear_views, {"noise": "low"}, TypeError, "noise"),
    (make_three_modalities, {"n_classes": 1}, ValueError, "n_classes"),
    (make_three_modalities, {"n_classes": 11}, ValueError, "n_classes"),
    (make_three_modalities, {"n_samples": 2, "n_classes": 3}, ValueError, "n_samples"),
    (make_three_modalities, {"position_noise": -1}, ValueError, "position_noise"),
    (make_three_modalities, {"noise": True}, TypeError, "noise"),
]


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "match"),
    BAD_ARGUMENTS,
    ids=[f"{m.__name__}-{next(iter(k))}-{i}" for i, (m, k, _, _) in enumerate(BAD_ARGUMENTS)],
)
def test_bad_arguments_raise_errors_naming_the_argument(make, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(**kwargs)


# -------------------------------------------- issue 8: the documented statistics, with a tolerance
# Each test measures, on the default call, a statistic the docstring promises, with a tolerance
# of a few sampling standard deviations that a 10% change of the parameter would exceed.


def test_make_latent_views_default_statistics():
    ds = make_latent_views(random_state=0)
    assert ds.n_samples == 500 and ds.n_features == [20, 30]
    np.testing.assert_array_equal(ds.extras["correlations"], [0.9, 0.7, 0.4])
    # the mixing's scales s are uniform in [0.5, 2]: its singular values span that range
    for a, d in zip(ds.extras["mixing"], (20, 30), strict=True):
        s = np.linalg.svd(a, compute_uv=False)
        assert 0.5 <= s.min() < 0.65 and 1.85 < s.max() <= 2.0, s
        assert s.size == d
    # a large sample's latent correlations are rho (sd about 0.001 at n = 100,000)
    big = make_latent_views(n_samples=100_000, random_state=1)
    x_lat, y_lat = big.extras["latent"]
    corr = [np.corrcoef(x_lat[:, i], y_lat[:, i])[0, 1] for i in range(3)]
    np.testing.assert_allclose(corr, [0.9, 0.7, 0.4], atol=0.01)
    np.testing.assert_allclose(x_lat.std(axis=0), 1.0, atol=0.01)


def test_make_noisy_digits_default_noise_and_angles():
    ds = make_noisy_digits(random_state=0)
    # the top-left pixel is background in every digit (0 even after the zoom), so in view 2 it
    # is the noise itself: U[0, 1], mean 0.5 (sd of the mean 0.007 over 1,797 images)
    corner = ds.views[1][:, 0]
    assert abs(corner.mean() - 0.5) < 0.02
    assert abs(corner.std() - 1 / np.sqrt(12)) < 0.01
    assert np.all(ds.views[0][:, 0] == 0.0)  # view 1 gets no noise
    # angles U[-45, 45]: mean |angle| 22.5 (sd 0.3)
    assert abs(np.abs(ds.extras["angle"]).mean() - 22.5) < 1.0
    # at image_size=8 the noise of view 2 is visible on every background pixel
    small = make_noisy_digits(image_size=8, random_state=1)
    images = load_digits().images.reshape(-1, 64) / 16.0
    background = images[small.extras["partner_index"]] == 0.0
    noise = small.views[1][background]
    assert noise.size > 40_000 and abs(noise.mean() - 0.5) < 0.01


def test_make_nonlinear_views_default_noise_and_standardisation():
    ds = make_nonlinear_views(random_state=0)
    clean = ds.extras["clean"]
    for c in clean:  # each clean feature is standardised
        np.testing.assert_allclose(c.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(c.std(axis=0), 1.0, atol=1e-12)
    residual = np.concatenate([(v - c).ravel() for v, c in zip(ds.views, clean, strict=True)])
    assert residual.size == 20_000
    assert abs(residual.std() - 0.05) < 0.05 * 0.03  # sd of the estimate about 0.5%
    assert abs(residual.mean()) < 0.002
    z = ds.extras["latent"]
    assert abs(np.abs(z).mean() - 0.5) < 0.02 and np.abs(z).max() <= 1.0


def _three_modalities_clean(ds, n_classes=3):
    """The documented curves, recomputed from the per-view positions and the class."""
    t, y = ds.extras["positions"], ds.y

    def circle(frac, radius):
        return np.column_stack(
            [radius * np.cos(2 * np.pi * frac), radius * np.sin(2 * np.pi * frac)]
        )

    u = 3.0 * (2.0 * t[:, 1] - 1.0)
    return [
        circle(t[:, 0], 1.0 + y),
        np.column_stack([u, u**2 / 3.0 + y]),
        circle(t[:, 2], float(n_classes) - y),
    ]


def test_make_three_modalities_default_noise_levels():
    ds = make_three_modalities(random_state=0)
    assert ds.n_samples == 600 and np.array_equal(np.bincount(ds.y), [200, 200, 200])
    big = make_three_modalities(n_samples=6000, random_state=1)
    clean = _three_modalities_clean(big)
    residual = np.concatenate([(v - c).ravel() for v, c in zip(big.views, clean, strict=True)])
    assert abs(residual.std() - 0.1) < 0.1 * 0.03  # 36,000 values: sd of the estimate 0.4%
    # each view's position is the shared t plus N(0, 0.1^2) jitter (wrapped to [0, 1))
    jitter = (big.extras["positions"] - big.extras["latent"][:, None] + 0.5) % 1.0 - 0.5
    assert abs(jitter.std() - 0.1) < 0.1 * 0.03  # 18,000 values: 0.5%
    # the promised cross-view correlation of cos(2 pi t_j): exp(-4 pi^2 sigma^2) = 0.67
    # (t_i - t_j has variance 2 sigma^2; sd of the estimate about 0.01 at n = 6,000)
    c = np.cos(2 * np.pi * big.extras["positions"])
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert abs(np.corrcoef(c[:, i], c[:, j])[0, 1] - np.exp(-4 * np.pi**2 * 0.01)) < 0.03


# ------------------------------------------------------ issue 8: the container's clear errors


def test_dataset_accepts_tensors_with_grad_and_refuses_meta():
    torch = pytest.importorskip("torch")
    t = torch.arange(20.0).reshape(10, 2).requires_grad_()
    ds = MultiViewDataset(
        views=[t, t.bfloat16()],
        y=torch.arange(10) % 2,
        extras={"z": t},
        sample_extras=("z",),
    )
    np.testing.assert_array_equal(ds.views[0], np.arange(20.0).reshape(10, 2))
    assert isinstance(ds.extras["z"], np.ndarray)
    assert ds.subset(torch.tensor([0, 3])).n_samples == 2
    with pytest.raises(ValueError, match=r"views\[0\] is a tensor on the 'meta' device"):
        MultiViewDataset(views=[torch.ones(4, 2, device="meta")])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"test_size": 0.99}, ValueError, r"test_size=0.99 leaves no training sample"),
        ({"test_size": 0.05}, ValueError, r"test set of 2 samples, fewer than the 3 classes"),
        ({"test_size": 28}, ValueError, r"training set of 2 samples, fewer than the 3 classes"),
        ({"random_state": 2**64}, ValueError, r"random_state must be an int in \[0, 4294967295\]"),
        ({"random_state": 1.5}, TypeError, r"random_state must be None or an int"),
        ({"stratify": "yes"}, TypeError, r"stratify must be a bool"),
    ],
)
def test_train_test_split_refuses_what_sklearn_would_crash_on(kwargs, error, match):
    ds = make_three_modalities(n_samples=30, random_state=0)
    with pytest.raises(error, match=match):
        ds.train_test_split(**kwargs)


def test_stratified_split_with_a_one_member_class_names_it():
    ds = MultiViewDataset(views=[np.arange(20.0).reshape(10, 2)], y=[0] * 9 + [7])
    with pytest.raises(ValueError, match=r"class 7 has 1\. Use stratify=False"):
        ds.train_test_split()
    train, test = ds.train_test_split(stratify=False)
    assert train.n_samples + test.n_samples == 10
