"""Input validation shared by every public mmlib function.

Every public function of mmlib calls one of these helpers first, so that bad input fails early
with a ``TypeError`` (wrong kind of object) or a ``ValueError`` (right kind, wrong value) whose
message names the argument or the view (``"views[1] contains NaN or inf"``) instead of crashing
deep inside numpy or torch.

The helpers return the validated, converted value (float64 C-contiguous arrays, Python ints and
floats, a ``numpy.random.Generator``), so a caller writes ``views = check_views(views)`` and uses
the result. Arrays are copied only when a conversion is needed: treat them as read-only.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

__all__ = [
    "NotFittedError",
    "check_array",
    "check_fraction",
    "check_is_fitted",
    "check_labels",
    "check_n_components",
    "check_n_features",
    "check_positive_float",
    "check_positive_int",
    "check_random_state",
    "check_reg",
    "check_seed",
    "check_tensor_views",
    "check_views",
    "refuse_meta",
    "to_numpy",
    "unit_scale",
]

_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float
_RaggedWarning = getattr(getattr(np, "exceptions", np), "VisibleDeprecationWarning", UserWarning)


def check_array(
    X: Any,
    *,
    name: str = "X",
    ndim: int = 2,
    allow_nonfinite: bool = False,
    allow_empty: bool = False,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Validate one numeric array and return it as a C-contiguous array of ``dtype``.

    Parameters
    ----------
    X : array-like
        The array to check (a numpy array, a nested list, a torch tensor on any device, with or
        without grad; see :func:`to_numpy`).
    name : str
        How error messages refer to it, e.g. ``"X"`` or ``"views[1]"``.
    ndim : int
        Required number of dimensions (2 for a data matrix of shape ``(n_samples, n_features)``).
    allow_nonfinite : bool
        Accept NaN and inf.
    allow_empty : bool
        Accept an array with a zero-length dimension.
    dtype : numpy dtype
        Floating dtype of the result.

    Returns
    -------
    numpy.ndarray
        ``X`` as a C-contiguous array of ``dtype`` (the input itself when no conversion is needed).

    Raises
    ------
    TypeError
        ``X`` is not numeric (strings, objects, complex numbers, datetimes, None).
    ValueError
        ``X`` is ragged, has the wrong number of dimensions, is empty, contains NaN/inf, or is a
        tensor on the ``meta`` device.
    """
    arr = _as_numeric_array(X, name, dtype)
    _check_ndim(arr, ndim, name)
    if not allow_empty and arr.size == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); it needs at least one sample and one feature"
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not allow_nonfinite and not np.isfinite(arr).all():
        n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains NaN or inf ({n_bad} entries); remove or impute them first"
        )
    return arr


def _as_numeric_array(X: Any, name: str, dtype: Any) -> np.ndarray:
    """``X`` read as a numpy array of real numbers (not yet of ``dtype`` unless it held objects)."""
    if X is None:
        raise TypeError(f"{name} must be an array of numbers, got None")
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got a string: {X!r:.40}")
    if _is_tensor(X):
        X = to_numpy(X, name=name)
    try:
        with warnings.catch_warnings():
            # numpy < 1.24 only warns about ragged nested lists (and makes an object array)
            warnings.simplefilter("error", _RaggedWarning)
            arr = np.asarray(X)
    except (ValueError, TypeError, _RaggedWarning) as err:  # ragged nested lists
        raise ValueError(f"{name} could not be read as a rectangular array: {err}") from err
    if arr.dtype.kind not in _NUMERIC_KINDS:
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} is complex ({arr.dtype}); mmlib works with real numbers")
        if arr.dtype.kind == "O":
            # object arrays of plain numbers are fine; anything else (None, str, ...) is not
            bad = [x for x in arr.flat if isinstance(x, bool) or not isinstance(x, numbers.Real)]
            if bad:
                raise TypeError(
                    f"{name} must contain numbers only; it has dtype object with a non-numeric "
                    f"entry {bad[0]!r:.40}"
                )
            arr = arr.astype(dtype)
        else:
            raise TypeError(f"{name} must contain numbers, got an array of dtype {arr.dtype}")
    return arr


def _check_ndim(arr: np.ndarray, ndim: int, name: str) -> None:
    """The required number of dimensions, with a hint for a vector given as a matrix or back."""
    if arr.ndim == ndim:
        return
    hint = ""
    if ndim == 2 and arr.ndim == 1:
        hint = (
            " Use X.reshape(-1, 1) for a single feature (one column) or X.reshape(1, -1) "
            "for a single sample (one row)."
        )
    elif ndim == 1 and arr.ndim == 2 and 1 in arr.shape:
        hint = " Use y.ravel() to flatten a column or row vector."
    raise ValueError(
        f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {arr.shape}.{hint}"
    )


def check_views(
    views: Any,
    *,
    min_views: int = 2,
    max_views: int | None = None,
    same_n_samples: bool = True,
    allow_nonfinite: bool = False,
    dtype: Any = np.float64,
    name: str = "views",
) -> list[np.ndarray]:
    """Validate a list of views, each of shape ``(n_samples, n_features_j)``.

    Parameters
    ----------
    views : list or tuple of array-like
        The views, samples as rows. A bare array is refused: wrap it in a list.
    min_views, max_views : int
        Allowed number of views (``max_views=None``: no upper limit).
    same_n_samples : bool
        Require all views to have the same number of rows (paired samples).
    allow_nonfinite : bool
        Accept NaN and inf.
    dtype : numpy dtype
        Floating dtype of the returned arrays.
    name : str
        How error messages refer to the list; view ``j`` is called ``f"{name}[{j}]"``.

    Returns
    -------
    list of numpy.ndarray
        C-contiguous ``dtype`` arrays (copied only when a conversion was needed).

    Raises
    ------
    TypeError
        ``views`` is not a list/tuple, or a view is not numeric.
    ValueError
        Wrong number of views, a view that is not 2-D, empty, contains NaN/inf, or views whose
        sample counts differ.
    """
    if isinstance(views, np.ndarray) or _is_tensor(views):
        raise TypeError(
            f"{name} must be a list of arrays (one per view), got a single {type(views).__name__} "
            f"of shape {tuple(views.shape)}; wrap it in a list: [X] or [X, Y]"
        )
    if not isinstance(views, (list, tuple)):
        raise TypeError(
            f"{name} must be a list or tuple of arrays (one per view), got {type(views).__name__}"
        )
    n_views = len(views)
    if n_views < min_views:
        raise ValueError(
            f"{name} must contain at least {min_views} views, got {n_views}"
            + (" (an empty list)" if n_views == 0 else "")
        )
    if max_views is not None and n_views > max_views:
        raise ValueError(f"{name} must contain at most {max_views} views, got {n_views}")
    out = [
        check_array(view, name=f"{name}[{j}]", ndim=2, allow_nonfinite=allow_nonfinite, dtype=dtype)
        for j, view in enumerate(views)
    ]
    if same_n_samples and len({v.shape[0] for v in out}) > 1:
        counts = ", ".join(f"{name}[{j}] has {v.shape[0]}" for j, v in enumerate(out))
        raise ValueError(
            f"all views must have the same number of samples (rows, paired across views): {counts}"
        )
    return out


def _is_tensor(obj: Any) -> bool:
    """True for a torch tensor, without importing torch."""
    return type(obj).__module__.startswith("torch") and hasattr(obj, "shape")


def to_numpy(X: Any, *, name: str = "X") -> Any:
    """A torch tensor as a numpy array (anything else is returned unchanged).

    The tensor leaves the autograd graph (``detach``) and its device (``cpu``); half-precision
    floats (bfloat16, which numpy lacks, and float16) are upcast to float32 first. A tensor on
    the ``meta`` device has no values: that is a ``ValueError`` naming ``name``.
    """
    if not _is_tensor(X):
        return X
    device = getattr(getattr(X, "device", None), "type", "cpu")
    if device == "meta":
        raise ValueError(
            f"{name} is a tensor on the 'meta' device, which has a shape but no values; "
            "create it on 'cpu' or 'cuda'"
        )
    X = X.detach()
    if getattr(X, "is_sparse", False):
        X = X.to_dense()
    if str(X.dtype) in ("torch.bfloat16", "torch.float16"):
        X = X.float()
    if hasattr(X, "resolve_conj"):
        X = X.resolve_conj().resolve_neg()
    return X.cpu().numpy()


def unit_scale(A: Any, axis: int = -1) -> Any:
    """``A`` times powers of two that bring each row (``axis=-1``) or column to max ``|.|`` ~ 1.

    The one rescaling of every scale-free result of mmlib (cosine similarities, unit-norm codes,
    correlations): multiplying by a power of two is exact, so ordinary data give bitwise the same
    result afterwards, while rows of magnitude 1e300 or 1e-300 no longer overflow or underflow in
    their norms. Works on numpy arrays and on torch tensors (the factors are constants: no
    gradient flows through them, and the tensor keeps its dtype, device and graph). A row of
    zeros is left as it is.
    """
    if _is_tensor(A):
        import torch

        top = A.detach().abs().amax(dim=axis, keepdim=True)
        exponent = torch.frexp(torch.where(top > 0, top, torch.ones_like(top)))[1]
        # two factors, each a representable power of two (2**-e alone can overflow, e.g. for
        # a subnormal float64 row); both multiplications are exact
        half = torch.div(-exponent, 2, rounding_mode="floor")
        two = torch.tensor(2.0, dtype=A.dtype, device=A.device)
        return A * torch.pow(two, half.to(A.dtype)) * torch.pow(two, (-exponent - half).to(A.dtype))
    top = np.max(np.abs(A), axis=axis, keepdims=True)
    exponent = np.frexp(np.where(top > 0, top, 1.0))[1]
    return np.ldexp(A, -exponent)


def refuse_meta(x: Any, name: str) -> None:
    """A ``ValueError`` naming ``name`` when ``x`` is a torch tensor on the ``meta`` device."""
    if _is_tensor(x) and getattr(getattr(x, "device", None), "type", "cpu") == "meta":
        raise ValueError(
            f"{name} is a tensor on the 'meta' device, which has a shape but no values; "
            "create it on 'cpu' or 'cuda'"
        )


def check_tensor_views(views: Any, *, min_views: int = 2, name: str = "views") -> list:
    """Validate a list of torch tensors of shape ``(n_samples, n_features_j)``.

    Each view must be a 2-D floating-point tensor without NaN/inf, all with the same number of
    rows. The tensors are returned unchanged (same device, dtype and autograd graph).

    Raises
    ------
    TypeError
        ``views`` is not a list/tuple, or a view is not a floating-point ``torch.Tensor``.
    ValueError
        Too few views, a view that is not 2-D or empty, NaN/inf, or different sample counts.
    """
    import torch

    if isinstance(views, (torch.Tensor, np.ndarray)):
        raise TypeError(
            f"{name} must be a list of tensors (one per view), got a single "
            f"{type(views).__name__} of shape {tuple(views.shape)}; "
            "wrap it in a list: [X] or [X, Y]"
        )
    if not isinstance(views, (list, tuple)):
        raise TypeError(
            f"{name} must be a list or tuple of tensors (one per view), got {type(views).__name__}"
        )
    if len(views) < min_views:
        raise ValueError(f"{name} must contain at least {min_views} views, got {len(views)}")
    for j, view in enumerate(views):
        label = f"{name}[{j}]"
        if not isinstance(view, torch.Tensor):
            raise TypeError(
                f"{label} must be a torch.Tensor, got {type(view).__name__}; "
                "convert with torch.as_tensor(x, dtype=torch.float32)"
            )
        if not view.is_floating_point():
            raise TypeError(
                f"{label} must be a floating-point tensor, got dtype {view.dtype}; use .float()"
            )
        refuse_meta(view, label)
        if view.ndim != 2:
            hint = " Use x.reshape(-1, 1) for a single feature." if view.ndim == 1 else ""
            raise ValueError(
                f"{label} must be 2-D, got a {view.ndim}-D tensor of shape "
                f"{tuple(view.shape)}.{hint}"
            )
        if view.shape[0] == 0 or view.shape[1] == 0:
            raise ValueError(f"{label} is empty (shape {tuple(view.shape)})")
        if not bool(torch.isfinite(view.detach()).all()):
            raise ValueError(f"{label} contains NaN or inf")
    if len({int(v.shape[0]) for v in views}) > 1:
        counts = ", ".join(f"{name}[{j}] has {int(v.shape[0])}" for j, v in enumerate(views))
        raise ValueError(f"all views must have the same number of samples (rows): {counts}")
    return list(views)


def check_n_features(
    views: Sequence[np.ndarray], n_features_in: Sequence[int], *, name: str = "views"
) -> None:
    """Check that already validated views match the number of views and features seen in fit."""
    if len(views) != len(n_features_in):
        raise ValueError(
            f"{name} has {len(views)} views but the estimator was fitted on {len(n_features_in)}"
        )
    for j, (view, d) in enumerate(zip(views, n_features_in, strict=True)):
        if view.shape[1] != d:
            raise ValueError(
                f"{name}[{j}] has {view.shape[1]} features but the estimator was fitted with {d}"
            )


def _check_int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer ``>= minimum`` (bool refused)."""
    value = _check_int(value, name)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_n_components(
    n_components: Any,
    max_components: int,
    *,
    name: str = "n_components",
    reason: str | None = None,
) -> int:
    """Check a number of components: an int with ``1 <= n_components <= max_components``.

    Parameters
    ----------
    n_components : int
        The requested number.
    max_components : int
        The largest number the data allow.
    name : str
        The argument's name in messages.
    reason : str, optional
        Why ``max_components`` is what it is (e.g. ``"min(rank of views[0], rank of views[1])"``);
        appended to the error message.
    """
    n_components = _check_int(n_components, name)
    if n_components < 1:
        raise ValueError(f"{name} must be >= 1, got {n_components}")
    if n_components > max_components:
        why = f" = {reason}" if reason else ""
        raise ValueError(
            f"{name}={n_components} is too large: at most {max_components} components can be "
            f"computed here (the maximum is {max_components}{why})"
        )
    return n_components


def _check_float(value: Any, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float ``> 0`` (or ``>= 0`` with ``allow_zero``)."""
    value = _check_float(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_fraction(
    value: Any, name: str, *, low_inclusive: bool = True, high_inclusive: bool = False
) -> float:
    """Return ``value`` as a float in the interval [0, 1) (endpoints per the flags)."""
    value = _check_float(value, name)
    low_ok = value >= 0 if low_inclusive else value > 0
    high_ok = value <= 1 if high_inclusive else value < 1
    if not (low_ok and high_ok):
        interval = ("[" if low_inclusive else "(") + "0, 1" + ("]" if high_inclusive else ")")
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_reg(reg: Any, n_views: int, *, name: str = "reg") -> list[float]:
    """Check a ridge parameter: one number for all views or one per view, each in [0, 1).

    mmlib's ridge is dimensionless: view ``j``'s covariance becomes ``C_jj + lambda_j I`` with
    ``lambda_j = reg / (1 - reg) * trace(C_jj) / d_j`` (the convention of :mod:`mmlib.linear`), so
    ``reg = 0`` is no ridge and ``reg -> 1`` an infinite one (which is why 1 itself is excluded).

    Returns
    -------
    list of float
        Length ``n_views``.
    """
    if isinstance(reg, np.ndarray) and reg.ndim == 0:
        reg = reg.item()
    if isinstance(reg, (list, tuple, np.ndarray)):
        values = list(reg)
        if len(values) != n_views:
            raise ValueError(
                f"{name} must be one number or one per view ({n_views}), got {len(values)} values"
            )
        names = [f"{name}[{j}]" for j in range(n_views)]
    else:
        values = [reg] * n_views
        names = [name] * n_views
    return [
        check_fraction(v, label, low_inclusive=True, high_inclusive=False)
        for v, label in zip(values, names, strict=True)
    ]


def check_seed(
    random_state: Any, name: str = "random_state", *, maximum: int = 2**32 - 1
) -> int | None:
    """Check an int seed (or None) for a library that takes plain ints only (scikit-learn: < 2**32).

    Returns the seed as a Python int, or None.
    """
    if random_state is None:
        return None
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"{name} must be None or an int seed, got {type(random_state).__name__} "
            f"{random_state!r:.40}"
        )
    if not 0 <= random_state <= maximum:
        raise ValueError(f"{name} must be an int in [0, {maximum}], got {random_state}")
    return int(random_state)


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None``, an int seed or a ``numpy.random.Generator`` into a ``Generator``.

    ``None`` gives fresh OS entropy (not reproducible); an int seed (any size: numpy's
    ``SeedSequence`` takes arbitrarily large ints) gives a reproducible stream.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int seed or a numpy.random.Generator, got "
            f"{type(random_state).__name__} {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state}")
    return np.random.default_rng(int(random_state))


def check_labels(
    y: Any, n_samples: int, *, name: str = "y", features: str | None = None
) -> np.ndarray:
    """Validate a 1-D vector of class labels with ``n_samples`` entries (any hashable labels).

    ``features`` names the array whose rows the labels go with, for the error message.
    """
    if y is None:
        raise TypeError(f"{name} must be a 1-D array of labels, got None")
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array of labels, got a string: {y!r:.40}")
    arr = np.asarray(to_numpy(y, name=name))
    if arr.dtype.kind in "cMmV":
        raise TypeError(f"{name} must hold class labels (ints or strings), got dtype {arr.dtype}")
    if arr.ndim != 1:
        hint = " Use y.ravel() to flatten it." if arr.ndim == 2 and 1 in arr.shape else ""
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.{hint}")
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {arr.shape[0]} labels but the features have {n_samples} samples "
            f"(rows{' of ' + features if features else ''})"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_is_fitted(estimator: Any, attribute: str | Sequence[str]) -> None:
    """Raise :class:`sklearn.exceptions.NotFittedError` (a ``ValueError``) if not fitted.

    ``attribute`` is the name (or names) of learned attributes that ``fit`` sets.
    """
    attributes = [attribute] if isinstance(attribute, str) else list(attribute)
    if not all(getattr(estimator, a, None) is not None for a in attributes):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted yet: call fit(views) first")
