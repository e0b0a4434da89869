"""Tests of mmlib._checks: every helper accepts what it should and names the culprit otherwise."""

import numpy as np
import pytest
import torch

from mmlib._checks import (
    NotFittedError,
    check_array,
    check_fraction,
    check_is_fitted,
    check_labels,
    check_n_components,
    check_n_features,
    check_positive_float,
    check_positive_int,
    check_random_state,
    check_reg,
    check_tensor_views,
    check_views,
)

_rng = np.random.default_rng(0)
X, Y = _rng.normal(size=(10, 3)), _rng.normal(size=(10, 2))  # two views, 10 samples


# ---------------------------------------------------------------------------------- check_views


def test_check_views_converts_to_contiguous_float64_without_needless_copies():
    Xf = np.asfortranarray(X)
    ints = np.arange(20).reshape(10, 2)
    out = check_views([X, Xf, ints, X.tolist()])
    assert all(v.dtype == np.float64 and v.flags.c_contiguous for v in out)
    assert out[0] is X  # already float64 C-contiguous: no copy
    np.testing.assert_array_equal(out[1], X)
    np.testing.assert_array_equal(out[2], ints)
    np.testing.assert_array_equal(out[3], X)
    assert check_views((X, Y), dtype=np.float32)[0].dtype == np.float32


def test_check_views_accepts_cpu_tensors_even_with_grad():
    t = torch.ones(10, 2, requires_grad=True)
    out = check_views([X, t])
    assert isinstance(out[1], np.ndarray) and out[1].shape == (10, 2)


@pytest.mark.parametrize("bad", [X, torch.as_tensor(X)])
def test_bare_array_is_a_type_error_suggesting_a_list(bad):
    with pytest.raises(TypeError, match=r"wrap it in a list"):
        check_views(bad)


@pytest.mark.parametrize("bad", [{"a": X}, "abc", None, 3.0])
def test_views_must_be_a_list_or_tuple(bad):
    with pytest.raises(TypeError, match=r"views must be a list or tuple"):
        check_views(bad)


def test_too_few_and_too_many_views():
    with pytest.raises(ValueError, match=r"at least 2 views, got 1"):
        check_views([X])
    with pytest.raises(ValueError, match=r"at least 2 views, got 0 \(an empty list\)"):
        check_views([])
    with pytest.raises(ValueError, match=r"at most 2 views, got 3"):
        check_views([X, X, X], max_views=2)
    assert len(check_views([X], min_views=1)) == 1


def test_one_dimensional_view_names_view_and_suggests_reshape():
    with pytest.raises(ValueError, match=r"views\[1\] must be 2-D, got a 1-D .*reshape\(-1, 1\)"):
        check_views([X, X[:, 0]])
    with pytest.raises(ValueError, match=r"views\[0\] must be 2-D, got a 3-D"):
        check_views([X[None], X])


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (np.array([["a", "b"]] * 10), "dtype <U1"),
        (np.array([[None, 1.0]] * 10, dtype=object), "non-numeric entry None"),
        (X + 1j, "complex"),
    ],
)
def test_non_numeric_view_is_a_type_error(bad, kind):
    with pytest.raises(TypeError, match=rf"views\[1\].*{kind}"):
        check_views([X, bad])


def test_object_array_of_numbers_is_accepted():
    out = check_views([X, X.astype(object)])
    np.testing.assert_array_equal(out[1], X)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nonfinite_view_names_the_view(value):
    bad = Y.copy()
    bad[3, 1] = value
    with pytest.raises(ValueError, match=r"views\[1\] contains NaN or inf \(1 entries\)"):
        check_views([X, bad])
    assert np.isnan(check_views([X, bad], allow_nonfinite=True)[1][3, 1]) == np.isnan(value)


def test_empty_views_are_refused():
    with pytest.raises(ValueError, match=r"views\[1\] is empty \(shape \(10, 0\)\)"):
        check_views([X, np.empty((10, 0))])
    with pytest.raises(ValueError, match=r"views\[0\] is empty \(shape \(0, 3\)\)"):
        check_views([np.empty((0, 3)), np.empty((0, 3))])


def test_ragged_view_is_a_value_error():
    with pytest.raises(ValueError, match=r"views\[1\] could not be read as a rectangular array"):
        check_views([X, [[1.0, 2.0], [3.0]]])


def test_mismatched_sample_counts_list_every_view():
    with pytest.raises(ValueError, match=r"views\[0\] has 10, views\[1\] has 9, views\[2\] has 10"):
        check_views([X, Y[:9], X])
    assert len(check_views([X, Y[:9]], same_n_samples=False)) == 2


def test_custom_name_is_used_in_messages():
    with pytest.raises(ValueError, match=r"pair\[1\] contains NaN"):
        check_views([X, np.full((10, 2), np.nan)], name="pair")


# ---------------------------------------------------------------------------------- check_array


def test_check_array_ndim_and_hints():
    assert check_array([1, 2, 3], name="y", ndim=1).shape == (3,)
    with pytest.raises(ValueError, match=r"y must be 1-D.*ravel"):
        check_array(np.ones((3, 1)), name="y", ndim=1)
    with pytest.raises(TypeError, match=r"Z must be an array of numbers, got None"):
        check_array(None, name="Z")
    with pytest.raises(TypeError, match=r"Z must be an array of numbers, got a string"):
        check_array("12", name="Z")
    assert check_array(np.empty((0, 2)), allow_empty=True).shape == (0, 2)


# --------------------------------------------------------------------------- check_tensor_views


def test_check_tensor_views_accepts_float_tensors_unchanged():
    a = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(5, 2, dtype=torch.float64)
    out = check_tensor_views([a, b])
    assert out[0] is a and out[1] is b


def test_check_tensor_views_errors():
    a = torch.randn(5, 3)
    with pytest.raises(TypeError, match=r"wrap it in a list"):
        check_tensor_views(a)
    with pytest.raises(TypeError, match=r"views\[1\] must be a torch.Tensor, got ndarray"):
        check_tensor_views([a, np.ones((5, 2))])
    with pytest.raises(TypeError, match=r"views\[1\] must be a floating-point tensor.*int64"):
        check_tensor_views([a, torch.ones(5, 2, dtype=torch.int64)])
    with pytest.raises(ValueError, match=r"views\[1\] must be 2-D, got a 1-D.*reshape"):
        check_tensor_views([a, torch.ones(5)])
    with pytest.raises(ValueError, match=r"views\[0\] contains NaN or inf"):
        check_tensor_views([a / 0 * 0, a])
    with pytest.raises(ValueError, match=r"views\[0\] has 5, views\[1\] has 4"):
        check_tensor_views([a, a[:4]])
    with pytest.raises(ValueError, match=r"at least 2 views, got 1"):
        check_tensor_views([a])
    with pytest.raises(ValueError, match=r"views\[1\] is empty"):
        check_tensor_views([a, torch.ones(5, 0)])


# --------------------------------------------------------------------------- scalars and misc


def test_check_n_components():
    assert check_n_components(3, 5) == 3
    assert isinstance(check_n_components(np.int64(2), 5), int)
    for bad in (2.0, True, "2", None):
        with pytest.raises(TypeError, match=r"n_components must be an int"):
            check_n_components(bad, 5)
    with pytest.raises(ValueError, match=r"n_components must be >= 1, got 0"):
        check_n_components(0, 5)
    with pytest.raises(ValueError, match=r"n_components=6 is too large.*is 5 = min\(a, b\)"):
        check_n_components(6, 5, reason="min(a, b)")


def test_check_reg():
    assert check_reg(0.1, 3) == [0.1, 0.1, 0.1]
    assert check_reg([0.0, 0.5], 2) == [0.0, 0.5]
    assert check_reg(np.array(0.2), 2) == [0.2, 0.2]
    with pytest.raises(ValueError, match=r"reg must be in \[0, 1\), got -0.1"):
        check_reg(-0.1, 2)
    with pytest.raises(ValueError, match=r"reg must be in \[0, 1\), got 1.0"):
        check_reg(1.0, 2)
    with pytest.raises(ValueError, match=r"reg\[1\] must be in \[0, 1\)"):
        check_reg([0.1, 2.0], 2)
    with pytest.raises(ValueError, match=r"one number or one per view \(2\), got 3 values"):
        check_reg([0.1, 0.1, 0.1], 2)
    with pytest.raises(ValueError, match=r"reg must be finite"):
        check_reg(np.nan, 2)
    with pytest.raises(TypeError, match=r"reg must be a real number"):
        check_reg("0.1", 2)


def test_check_random_state():
    a = check_random_state(3).normal(size=4)
    b = check_random_state(3).normal(size=4)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(1)
    assert check_random_state(gen) is gen
    assert isinstance(check_random_state(None), np.random.Generator)
    with pytest.raises(TypeError, match=r"random_state must be None, an int"):
        check_random_state(1.5)
    with pytest.raises(ValueError, match=r"random_state must be a non-negative int"):
        check_random_state(-1)


def test_small_scalar_helpers():
    assert check_positive_int(3, "epochs") == 3
    with pytest.raises(ValueError, match=r"epochs must be >= 1, got 0"):
        check_positive_int(0, "epochs")
    with pytest.raises(TypeError, match=r"epochs must be an int"):
        check_positive_int(3.0, "epochs")
    assert check_positive_float(0.5, "lr") == 0.5
    assert check_positive_float(0, "wd", allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0.0"):
        check_positive_float(0.0, "lr")
    with pytest.raises(ValueError, match=r"lr must be finite"):
        check_positive_float(np.inf, "lr")
    assert check_fraction(0.25, "p") == 0.25
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\]"):
        check_fraction(0.0, "p", low_inclusive=False, high_inclusive=True)


def test_check_labels():
    y = check_labels(["a", "b", "a"], 3)
    assert y.shape == (3,)
    with pytest.raises(ValueError, match=r"y has 2 labels but the features have 3 samples"):
        check_labels([0, 1], 3)
    with pytest.raises(ValueError, match=r"y_train must be 1-D.*ravel"):
        check_labels(np.zeros((3, 1)), 3, name="y_train")
    with pytest.raises(ValueError, match=r"y contains NaN"):
        check_labels([0.0, np.nan, 1.0], 3)


def test_check_n_features():
    check_n_features([X, Y], [3, 2])
    with pytest.raises(ValueError, match=r"views\[1\] has 2 features but the estimator was fitted"):
        check_n_features([X, Y], [3, 4])
    with pytest.raises(ValueError, match=r"views has 2 views but the estimator was fitted on 3"):
        check_n_features([X, Y], [3, 2, 1])


def test_check_is_fitted():
    class Thing:
        pass

    thing = Thing()
    with pytest.raises(NotFittedError, match=r"Thing is not fitted yet: call fit\(views\) first"):
        check_is_fitted(thing, "weights_")
    assert issubclass(NotFittedError, ValueError)
    thing.weights_ = [1]
    check_is_fitted(thing, ["weights_"])


# ------------------------------------------------------------ issue 8: tensors of every kind


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32, torch.float64])
def test_tensors_of_any_float_dtype_with_grad_become_float64_arrays(dtype):
    t = torch.arange(12.0).reshape(6, 2).to(dtype).requires_grad_()
    out = check_array(t, name="Z")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.arange(12.0).reshape(6, 2))
    labels = check_labels(torch.arange(6.0, requires_grad=True), 6)
    np.testing.assert_array_equal(labels, np.arange(6.0))


def test_meta_and_complex_tensors_are_refused_by_name():
    with pytest.raises(ValueError, match=r"Z is a tensor on the 'meta' device"):
        check_array(torch.ones(3, 2, device="meta"), name="Z")
    with pytest.raises(TypeError, match=r"views\[1\] is complex"):
        check_views([X, torch.ones(10, 2, dtype=torch.complex64)])
    with pytest.raises(TypeError, match=r"y must hold class labels.*complex"):
        check_labels(np.ones(3) + 1j, 3)


def test_check_seed_range():
    from mmlib._checks import check_seed

    assert check_seed(None) is None and check_seed(np.int64(5)) == 5
    with pytest.raises(ValueError, match=r"random_state must be an int in \[0, 4294967295\]"):
        check_seed(2**64)
    with pytest.raises(ValueError, match=r"random_state must be an int in"):
        check_seed(-1)
    with pytest.raises(TypeError, match=r"random_state must be None or an int seed"):
        check_seed(1.0)
    # numpy generators take any non-negative int, 2**64 and beyond included
    assert isinstance(check_random_state(2**70), np.random.Generator)


def test_unit_scale_is_exact_and_shared():
    """Issue 19: one power-of-two row rescaling for numpy and torch, exact on ordinary data."""
    import torch

    from mmlib._checks import unit_scale

    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 4)) * np.array([[1e-300], [1e-170], [1.0], [1e170], [1e300]])
    A[2] = 0.0  # a zero row stays zero
    for out in (unit_scale(A), unit_scale(torch.as_tensor(A)).numpy()):
        top = np.abs(out).max(axis=1)
        assert np.all((top[[0, 1, 3, 4]] >= 0.5) & (top[[0, 1, 3, 4]] < 1.0))
        assert np.all(out[2] == 0.0)
        # a power of two per row: the ratios inside a row are exactly those of A
        ratio = out[[0, 1, 3, 4]] / A[[0, 1, 3, 4]]
        assert np.all(ratio == ratio[:, :1])
        assert np.all(np.frexp(ratio)[0] == 0.5)
    z = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    unit_scale(z * 1e300).sum().backward()  # the factors are constants: the gradient flows
    assert torch.isfinite(z.grad).all()
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        assert unit_scale(torch.ones(2, 3, dtype=dtype)).dtype == dtype


def test_contrastive_losses_are_bitwise_scale_free_by_powers_of_two():
    """Rescaling codes by 2**k changes no bit of the losses (the helper's factors are exact),
    and codes x1e300 / x1e-300 give the x1 value, not the value for zero codes."""
    import torch

    from mmlib.losses import gmc_loss, mil_nce, nce, nt_xent

    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(8, 5, generator=g, dtype=torch.float64) for _ in range(2))
    for loss in (nce, mil_nce, nt_xent, lambda x, y: gmc_loss(x, [y])):
        want = loss(a, b)
        assert torch.equal(loss(a * 2.0**40, b * 2.0**-40), want)
        for s in (1e300, 1e-300):
            assert torch.allclose(loss(a * s, b * s), want, rtol=1e-12)
