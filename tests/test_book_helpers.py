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


def test_within_prints_value_and_verdict(capsys):
    book.print_key_numbers(
        {
            "in": book.within(2.8, 2.5, 3.0),
            "out": book.within(2.4, 2.5, 3.0),
            "claim": book.within(1.7, low=1.0),
            "nan": book.within(float("nan"), high=1.0),
        },
        digits=2,
    )
    assert capsys.readouterr().out.splitlines() == [
        "in     2.80  ok, within [2.5, 3]",
        "out    2.40  OUTSIDE [2.5, 3]",
        "claim  1.70  ok, within at least 1",
        "nan    nan  OUTSIDE at most 1",
    ]


def test_sanitizer_hides_value_only_inside_band():
    import configparser
    import re
    from pathlib import Path

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).with_name("nbval_sanitize.cfg"))
    rules = [(cfg[s]["regex"], cfg[s]["replace"]) for s in cfg.sections()]

    def clean(text):
        for regex, repl in rules:
            text = re.sub(regex, repl, text)
        return text

    a = clean("dcca 10 corr  2.80  ok, within [2.5, 3]")
    b = clean("dcca 10 corr  2.71  ok, within [2.5, 3]")
    c = clean("dcca 10 corr  2.40  OUTSIDE [2.5, 3]")
    assert a == b == "dcca 10 corr  <value>  ok, within [2.5, 3]"
    assert c != a


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: book.within("x", 0, 1), TypeError),
        (lambda: book.within(1.0), ValueError),
        (lambda: book.within(1.0, 2.0, 1.0), ValueError),
        (lambda: book.within(1.0, float("nan"), 2.0), TypeError),
    ],
)
def test_within_bad_input(call, error):
    with pytest.raises(error):
        call()
