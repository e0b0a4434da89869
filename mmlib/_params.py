"""scikit-learn's parameter protocol (get_params / set_params / repr), shared by every mmlib estimator.

mmlib does not inherit sklearn's BaseEstimator: its metadata-routing methods treat ``views`` as
metadata and add auto-generated methods whose docstrings break the book's strict API page.
``sklearn.clone`` works with this protocol.
"""

from __future__ import annotations

import inspect


def _is_default(value, default) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):  # arrays and other values without a truth value
        return False


class ParamsMixin:
    """Parameters are the constructor's arguments, stored under the same names."""

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, as a dict (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor parameters by name; returns self (scikit-learn convention)."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{name!r} is not a parameter of {type(self).__name__}; "
                    f"valid parameters: {', '.join(valid)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _is_default(value, defaults[name].default)
        )
        return f"{type(self).__name__}({shown})"
