import numpy as np
import pytest

from mmlib import book


def test_print_key_numbers_fixed_precision(capsys):
    book.print_key_numbers({"rho 1": 0.91234, "tiny negative": -0.0001}, digits=3)
    assert capsys.readouterr().out.splitlines() == ["rho 1          0.912", "tiny negative  0.000"]


def test_glue_hands_plain_numbers_to_myst_nb(monkeypatch):
    seen = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    book.glue("x", np.float64(0.5))
    assert type(seen["x"]) is float and seen["x"] == 0.5


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: book.glue("", 1), TypeError),
        (lambda: book.print_key_numbers({}), TypeError),
        (lambda: book.print_key_numbers({"a": "x"}), TypeError),
        (lambda: book.print_key_numbers({"a": 1.0}, digits=-1), ValueError),
    ],
)
def test_bad_input(call, error):
    with pytest.raises(error):
        call()
