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


def test_compare_paired_is_the_paired_t_test():
    from scipy import stats

    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.normal(size=4)
        b = a - rng.normal(0.5, 0.5, size=4)
        c = book.compare(a, b, "A", "B")
        p = stats.ttest_rel(a, b).pvalue
        assert (c.verdict != "tie") == (p < 0.05)
        assert c.low < c.diff < c.high
        assert np.isclose(c.diff, np.mean(a - b))


def test_compare_unpaired_is_welch():
    from scipy import stats

    rng = np.random.default_rng(1)
    for _ in range(50):
        a, b = rng.normal(0.8, 1, size=5), rng.normal(0, 0.3, size=3)
        c = book.compare(a, b, paired=False)
        assert (c.verdict != "tie") == (stats.ttest_ind(a, b, equal_var=False).pvalue < 0.05)


def test_compare_verdicts_and_sentences():
    ahead = book.compare([0.91, 0.92, 0.93], [0.80, 0.82, 0.81], "DCCA", "CCA")
    assert ahead.verdict == "A" and ahead.winner == "DCCA"
    assert ahead.sentence("accuracy").startswith("DCCA is ahead of CCA on accuracy by 0.110 ± ")
    # a loss: lower is better, so B is ahead
    lower = book.compare([3.0, 3.1, 3.2], [2.0, 2.1, 2.2], "x", "y", higher_is_better=False)
    assert lower.verdict == "B" and lower.winner == "y"
    # a gap inside the interval is a tie whichever way it points
    tie = book.compare([0.5, 0.9, 0.6], [0.6, 0.5, 0.55], "x", "y")
    assert tie.verdict == "tie" and tie.winner is None and tie.diff > 0
    assert tie.sentence("R@1").startswith("x and y tie on R@1: the difference, +0.117")
    # identical per-seed gaps: no spread, the interval is the point itself
    exact = book.compare([1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert exact.verdict == "A" and exact.se == 0.0


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: book.compare([1.0], [2.0]), ValueError),
        (lambda: book.compare([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError),
        (lambda: book.compare([1.0, float("nan")], [1.0, 2.0]), ValueError),
        (lambda: book.compare("ab", [1.0, 2.0]), TypeError),
        (lambda: book.compare([1.0, "x"], [1.0, 2.0]), TypeError),
        (lambda: book.compare([True, False], [1.0, 2.0]), TypeError),
        (lambda: book.compare([1.0, 2.0], [1.0, 2.0], name_a=""), TypeError),
        (lambda: book.compare([1.0, 2.0], [1.0, 2.0], paired="yes"), TypeError),
        (lambda: book.compare([1.0, 2.0], [1.0, 2.0]).sentence(""), TypeError),
    ],
)
def test_compare_bad_input(call, error):
    with pytest.raises(error):
        call()
