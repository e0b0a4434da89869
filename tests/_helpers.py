"""Helpers shared by several test files (import them as ``from _helpers import ...``).

Only what more than one test file needs lives here; a test's own data stays in its file.
"""

from __future__ import annotations

import inspect

from torch import nn

from mmlib import nets

#: Every fusion layer of :mod:`mmlib.nets` (its public names ending in ``Fusion``), taken from
#: the library so that a new layer is tested and fuzzed without being listed again.
FUSION_LAYERS = tuple(getattr(nets, name) for name in nets.__all__ if name.endswith("Fusion"))


def signature_defaults(func) -> dict:
    """The default value of each parameter of ``func`` that has one, by parameter name."""
    params = inspect.signature(func).parameters
    return {name: p.default for name, p in params.items() if p.default is not p.empty}


def assert_defaults_are(func, documented: dict) -> None:
    """``func``'s signature defaults are ``documented``, value and type (0 is not 0.0, nor a
    tuple a list)."""
    defaults = signature_defaults(func)
    assert defaults == documented
    for name, value in defaults.items():
        assert type(value) is type(documented[name]), name


def conv_encoder(conv: nn.Module, in_shape: tuple, conv_features: int, out: int = 16):
    """A small convolutional encoder of a flat view, for the custom-encoder paths: ``(n, d)`` is
    unflattened to ``(n, *in_shape)``, then ``conv``, ReLU, flatten (``conv_features`` wide) and
    a linear layer to ``out`` features."""
    return nn.Sequential(
        nn.Unflatten(1, in_shape), conv, nn.ReLU(), nn.Flatten(), nn.Linear(conv_features, out)
    )
