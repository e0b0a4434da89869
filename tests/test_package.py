import subprocess
import sys

import mmlib


def test_public_names_resolve():
    for name in mmlib.__all__:
        assert getattr(mmlib, name) is not None, name


def test_numpy_side_imports_without_torch():
    code = (
        "import sys, mmlib; mmlib.CCA; assert 'torch' not in sys.modules, 'torch imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_a_clear_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mmlib.nope  # noqa: B018
