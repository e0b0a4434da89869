"""The API page (book/api.md) documents every public name of mmlib, each in one place.

autodoc's ``automodule`` with ``:members:`` documents a module's ``__all__`` (imported names
included) or, without ``__all__``, what the module defines. A public name is one of ``mmlib``'s
(eager or lazy) or one in the ``__all__`` of a documented package.
"""

import importlib
import inspect
import re
from pathlib import Path

import mmlib

API = (Path(__file__).resolve().parents[1] / "book" / "api.md").read_text()
DOCUMENTED = re.findall(r"\.\. automodule:: (\S+)\n   :members:", API)


def _documented_names() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for name in DOCUMENTED:
        module = importlib.import_module(name)
        members = getattr(module, "__all__", None)
        if members is None:
            members = [
                n
                for n, obj in vars(module).items()
                if not n.startswith("_") and getattr(obj, "__module__", None) == name
            ]
        for member in members:
            where.setdefault(member, []).append(name)
    return where


def _public_objects() -> dict[str, object]:
    names = set(mmlib.__all__) | set(mmlib._LAZY)
    for package in ("mmlib.models", "mmlib.interpret", "mmlib.datasets"):
        names |= set(importlib.import_module(package).__all__)
    objects = {}
    for name in sorted(names):
        obj = getattr(mmlib, name, None)
        for package in ("models", "interpret", "datasets"):
            obj = obj if obj is not None else getattr(getattr(mmlib, package), name, None)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            objects[name] = obj
    return objects


def test_every_public_class_and_function_is_on_the_api_page():
    where = _documented_names()
    missing = [name for name in _public_objects() if name not in where]
    assert not missing, f"not documented on book/api.md: {missing}"


def test_no_public_name_is_documented_twice():
    twice = {name: modules for name, modules in _documented_names().items() if len(modules) > 1}
    assert not twice, f"documented in several modules (a strict build warns): {twice}"
