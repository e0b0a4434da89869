"""The fuzz catalogue's machinery: bad inputs by kind of argument, and what each must produce.

A *target* is one argument of one public function: ``Target("CCA.fit", "views[1]", "view",
call, ref)`` says that ``call(value)`` runs ``CCA().fit([X, value])`` and that ``ref`` is a valid
value of that argument. A *probe* turns ``ref`` into an unusual value and says what must happen:

* ``ERROR``: a ``ValueError`` or ``TypeError`` whose message names the argument (``target.names``,
  a regular expression);
* ``SAME``: the call works and gives the same result as with an equivalent plain value (a float32
  copy, a tensor that requires grad, a list, ...), compared through ``target.observe``;
* ``SCALED``: the value times 1e170 or 1e-300; the result must equal the unscaled one when the
  target is scale invariant (``target.invariant``), else be finite (or a clear error, as above).

``cases(targets)`` crosses targets with the probes of their kind, for ``pytest.mark.parametrize``;
``check(target, probe)`` runs one. ``tests/test_fuzz.py`` holds the numpy-side targets; a sibling
file (e.g. ``tests/test_fuzz_torch.py``) adds its own targets and kinds in the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ERROR, SAME, SCALED = "error", "same", "scaled"


@dataclass(frozen=True)
class Probe:
    """One unusual value of a kind: ``make(ref) -> (value, equivalent or None)``."""

    id: str
    make: Callable[[Any], tuple[Any, Any]]
    expect: str
    paired_only: bool = False  # an error only for an argument paired with another (same rows)


@dataclass(frozen=True)
class Target:
    """One argument of one public function, fuzzed through ``call(value)``."""

    func: str
    names: str  # regular expression the error message must contain (the argument's name)
    kind: str
    call: Callable[[Any], Any]
    ref: Any
    observe: Callable[[Any], Any] = field(default=lambda result: result)
    invariant: bool = False  # the result does not change when the value is scaled
    paired: bool = True  # the value must have as many rows as another argument

    @property
    def id(self) -> str:
        return f"{self.func}:{self.names}"


def _torch():
    import torch

    return torch


def _tensor(ref, dtype_name="float64", grad=False, device="cpu"):
    torch = _torch()
    dtype = getattr(torch, dtype_name)
    t = torch.as_tensor(np.asarray(ref, dtype=np.float64), dtype=dtype, device=device)
    return t.requires_grad_() if grad else t


def _rounded(ref, dtype_name):
    """``ref`` rounded as the dtype would round it, back in float64 (the equivalent plain value)."""
    return _tensor(ref, dtype_name).double().numpy()


def _with(ref, value, where=(0, 0)):
    out = np.array(ref, dtype=np.float64, copy=True)
    out[where] = value
    return out


def _object_with_none(ref):
    out = np.asarray(ref).astype(object)
    out.flat[0] = None
    return out


def _err(make):
    return lambda ref: (make(ref), None)


# ------------------------------------------------------------------------------ the catalogue

ARRAY_2D = [
    Probe("nan", _err(lambda r: _with(r, np.nan)), ERROR),
    Probe("inf", _err(lambda r: _with(r, np.inf)), ERROR),
    Probe("-inf", _err(lambda r: _with(r, -np.inf)), ERROR),
    Probe("no rows", _err(lambda r: np.empty((0, np.shape(r)[1]))), ERROR),
    Probe("no columns", _err(lambda r: np.empty((np.shape(r)[0], 0))), ERROR),
    Probe("1-D", _err(lambda r: np.asarray(r)[:, 0]), ERROR),
    Probe("3-D", _err(lambda r: np.asarray(r)[None]), ERROR),
    Probe("0-D", _err(lambda r: 3.0), ERROR),
    Probe("one row fewer", _err(lambda r: np.asarray(r)[:-1]), ERROR, paired_only=True),
    Probe("None", _err(lambda r: None), ERROR),
    Probe("str", _err(lambda r: "abc"), ERROR),
    Probe("dict", _err(lambda r: {"a": r}), ERROR),
    Probe("ragged list", _err(lambda r: [[1.0, 2.0], [3.0]]), ERROR),
    Probe("str array", _err(lambda r: np.asarray(r).astype(str)), ERROR),
    Probe("object array with None", _err(lambda r: _object_with_none(r)), ERROR),
    Probe("complex", _err(lambda r: np.asarray(r) + 1j), ERROR),
    Probe("datetime", _err(lambda r: np.zeros(np.shape(r), dtype="datetime64[s]")), ERROR),
    Probe("meta tensor", _err(lambda r: _tensor(r, "float32", device="meta")), ERROR),
    Probe("complex tensor", _err(lambda r: _tensor(r, "complex64")), ERROR),
    Probe("float32", lambda r: (np.float32(r), _rounded(r, "float32")), SAME),
    Probe("float16", lambda r: (np.float16(r), _rounded(r, "float16")), SAME),
    Probe("list", lambda r: (np.asarray(r).tolist(), r), SAME),
    Probe("Fortran order", lambda r: (np.asfortranarray(r), r), SAME),
    Probe("tensor with grad", lambda r: (_tensor(r, grad=True), r), SAME),
    Probe("bfloat16 tensor", lambda r: (_tensor(r, "bfloat16"), _rounded(r, "bfloat16")), SAME),
    Probe(
        "float16 tensor with grad",
        lambda r: (_tensor(r, "float16", grad=True), _rounded(r, "float16")),
        SAME,
    ),
    Probe("x 1e170", lambda r: (np.asarray(r) * 1e170, r), SCALED),
    Probe("x 1e-300", lambda r: (np.asarray(r) * 1e-300, r), SCALED),
]

CURVE_1D = [
    Probe("nan", _err(lambda r: _with(r, np.nan, 0)), ERROR),
    Probe("inf", _err(lambda r: _with(r, np.inf, 0)), ERROR),
    Probe("empty", _err(lambda r: np.empty(0)), ERROR),
    Probe("2-D", _err(lambda r: np.asarray(r)[None]), ERROR),
    Probe("None", _err(lambda r: None), ERROR),
    Probe("str", _err(lambda r: "abc"), ERROR),
    Probe("str array", _err(lambda r: np.asarray(r).astype(str)), ERROR),
    Probe("complex", _err(lambda r: np.asarray(r) + 1j), ERROR),
    Probe("datetime", _err(lambda r: np.zeros(len(r), dtype="datetime64[s]")), ERROR),
    Probe("meta tensor", _err(lambda r: _tensor(r, "float32", device="meta")), ERROR),
    Probe("float32", lambda r: (np.float32(r), _rounded(r, "float32")), SAME),
    Probe("tuple", lambda r: (tuple(np.asarray(r).tolist()), r), SAME),
    Probe("tensor with grad", lambda r: (_tensor(r, grad=True), r), SAME),
    Probe("bfloat16 tensor", lambda r: (_tensor(r, "bfloat16"), _rounded(r, "bfloat16")), SAME),
    Probe("x 1e170", lambda r: (np.asarray(r) * 1e170, r), SCALED),
    Probe("x 1e-300", lambda r: (np.asarray(r) * 1e-300, r), SCALED),
]

LABELS = [
    Probe("nan", _err(lambda r: _with(r, np.nan, 0)), ERROR),
    Probe("2-D", _err(lambda r: np.asarray(r)[:, None]), ERROR),
    Probe("one fewer", _err(lambda r: np.asarray(r)[:-1]), ERROR),
    Probe("None", _err(lambda r: None), ERROR),
    Probe("str", _err(lambda r: "abc"), ERROR),
    Probe("complex", _err(lambda r: np.asarray(r) + 1j), ERROR),
    Probe("meta tensor", _err(lambda r: _tensor(r, "float32", device="meta")), ERROR),
    Probe("list", lambda r: (list(np.asarray(r).tolist()), r), SAME),
    Probe("int32", lambda r: (np.asarray(r).astype(np.int32), r), SAME),
    Probe("float tensor with grad", lambda r: (_tensor(r, grad=True), np.float64(r)), SAME),
]

# optional arguments (labels of a plot, a validation curve): None or empty means "not given"
OPTIONAL_LABELS = [p for p in LABELS if p.id != "None"] + [
    Probe("None: not given", lambda r: (None, None), SAME)
]
OPTIONAL_CURVE = [p for p in CURVE_1D if p.id not in ("None", "empty")] + [
    Probe("None: not given", lambda r: (None, None), SAME),
    Probe("empty: not given", lambda r: ([], None), SAME),
]

COUNT = [  # a positive int
    Probe("0", _err(lambda r: 0), ERROR),
    Probe("-1", _err(lambda r: -1), ERROR),
    Probe("float", _err(lambda r: r + 0.5), ERROR),
    Probe("integral float", _err(lambda r: float(r)), ERROR),
    Probe("bool", _err(lambda r: True), ERROR),
    Probe("str", _err(lambda r: str(r)), ERROR),
    Probe("list", _err(lambda r: [r]), ERROR),
    Probe("nan", _err(lambda r: math.nan), ERROR),
    Probe("numpy int", lambda r: (np.int64(r), r), SAME),
]

N_COMPONENTS = [*COUNT, Probe("far too many", _err(lambda r: 10**6), ERROR)]

FRACTION = [  # a float in [0, 1) (reg) or (0, 1) (test_size, tol)
    Probe("-0.1", _err(lambda r: -0.1), ERROR),
    Probe("1.0", _err(lambda r: 1.0), ERROR),
    Probe("1.5", _err(lambda r: 1.5), ERROR),
    Probe("nan", _err(lambda r: math.nan), ERROR),
    Probe("inf", _err(lambda r: math.inf), ERROR),
    Probe("str", _err(lambda r: "0.1"), ERROR),
    Probe("bool", _err(lambda r: True), ERROR),
    Probe("complex", _err(lambda r: 0.1j), ERROR),
    Probe("numpy float", lambda r: (np.float64(r), r), SAME),
]

REG = [*FRACTION, Probe("one per view, too many", _err(lambda r: [r] * 5), ERROR)]

POSITIVE_FLOAT = [  # a finite float >= 0 (noise levels) or > 0 (C)
    Probe("-1", _err(lambda r: -1.0), ERROR),
    Probe("nan", _err(lambda r: math.nan), ERROR),
    Probe("inf", _err(lambda r: math.inf), ERROR),
    Probe("str", _err(lambda r: str(r)), ERROR),
    Probe("bool", _err(lambda r: True), ERROR),
    Probe("None", _err(lambda r: None), ERROR),
    Probe("list", _err(lambda r: [r]), ERROR),
    Probe("numpy float", lambda r: (np.float64(r), r), SAME),
    Probe("int", lambda r: (int(r), float(int(r))), SAME),
]

SEED = [  # random_state: None, an int or a Generator
    Probe("-1", _err(lambda r: -1), ERROR),
    Probe("float", _err(lambda r: 1.5), ERROR),
    Probe("str", _err(lambda r: "0"), ERROR),
    Probe("bool", _err(lambda r: True), ERROR),
    Probe("list", _err(lambda r: [0]), ERROR),
    Probe("numpy int", lambda r: (np.int64(r), r), SAME),
]
SEED_HUGE_OK = [*SEED, Probe("2**64", lambda r: (2**64, 2**64), SAME)]  # numpy takes any int
SEED_32 = [*SEED, Probe("2**64", _err(lambda r: 2**64), ERROR)]  # scikit-learn: < 2**32

TEXT = [
    Probe("int", _err(lambda r: 3), ERROR),
    Probe("None", _err(lambda r: None), ERROR),
    Probe("bytes", _err(lambda r: b"abc"), ERROR),
]

KINDS: dict[str, list[Probe]] = {
    "array": ARRAY_2D,
    "curve": CURVE_1D,
    "labels": LABELS,
    "optional_labels": OPTIONAL_LABELS,
    "optional_curve": OPTIONAL_CURVE,
    "count": COUNT,
    "n_components": N_COMPONENTS,
    "fraction": FRACTION,
    "reg": REG,
    "positive_float": POSITIVE_FLOAT,
    "seed": SEED_HUGE_OK,
    "seed32": SEED_32,
    "text": TEXT,
}


# --------------------------------------------------------------------------------- the runner


def cases(targets: list[Target], kinds: dict[str, list[Probe]] = KINDS):
    """``(target, probe)`` pairs with readable ids, for ``pytest.mark.parametrize``."""
    import pytest

    return [
        pytest.param(t, p, id=f"{t.id}[{p.id}]")
        for t in targets
        for p in kinds[t.kind]
        if not (p.paired_only and not t.paired)
    ]


def _finite(obs: Any) -> bool:
    if obs is None:
        return True
    if isinstance(obs, (list, tuple)):
        return all(_finite(o) for o in obs)
    return bool(np.all(np.isfinite(np.asarray(obs, dtype=np.float64))))


def _assert_same(got: Any, want: Any) -> None:
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_same(g, w)
        return
    np.testing.assert_allclose(
        np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=1e-7, atol=1e-9
    )


def check(target: Target, probe: Probe) -> str:
    """Run one case and assert its expectation; returns the outcome (for the catalogue's count)."""
    value, equivalent = probe.make(target.ref)
    expect = probe.expect
    if expect == SCALED and target.invariant:
        expect = SAME
    try:
        result = target.call(value)
    except (ValueError, TypeError) as err:
        message = str(err)
        assert re.search(target.names, message), (
            f"{target.id} with {probe.id}: the message does not name the argument: {message!r}"
        )
        assert expect in (ERROR, SCALED), (
            f"{target.id} with {probe.id} should work, raised {type(err).__name__}: {message}"
        )
        return "clear error"
    assert expect != ERROR, f"{target.id} with {probe.id} should raise, returned {result!r:.80}"
    observed = target.observe(result)
    assert _finite(observed), f"{target.id} with {probe.id}: non-finite result {observed!r:.80}"
    if expect == SAME:
        _assert_same(observed, target.observe(target.call(equivalent)))
        return "same result"
    return "finite result"
