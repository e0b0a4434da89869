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


def test_star_import_does_not_import_torch():
    code = "from mmlib import *; import sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_names_stay_attributes_and_in_dir_but_not_in_all():
    lazy = {"DCCA", "DGCCA", "cca_loss", "train", "losses"}
    assert lazy <= set(dir(mmlib))
    assert not lazy & set(mmlib.__all__)
    assert set(mmlib.__all__) <= set(dir(mmlib))


def test_import_mmlib_imports_neither_torch_distributed_nor_dask():
    code = (
        "import sys, mmlib; mmlib.CCA; mmlib.GCCA; "
        "bad = {'torch.distributed', 'dask'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
