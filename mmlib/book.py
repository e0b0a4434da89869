"""Small helpers the book's chapters share: numbers into the prose, and key numbers for the tests.

The chapters run in three places: the Jupyter Book build (myst-nb present), Binder (myst-nb present)
and Colab (myst-nb absent). These helpers work in all three.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "Comparison",
    "Within",
    "compare",
    "glue",
    "in_book_build",
    "print_key_numbers",
    "within",
]

# what tests/nbval_sanitize.cfg replaces by <value>: the measured number in front of this marker
WITHIN_MARK = "ok, within"


def in_book_build() -> bool:
    """True while the Jupyter Book build executes the chapter (set by the book's Sphinx extension)."""
    return os.environ.get("MMBOOK_BUILD") == "1"


def glue(name: str, value, display: bool = False) -> None:
    """Make ``value`` available to the prose as ``{glue:}`name```.

    Uses :func:`myst_nb.glue` when myst-nb is installed (book build, Binder); elsewhere (Colab)
    it does nothing, since there is no prose to fill.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"glue name must be a non-empty string, got {name!r}")
    # numpy scalars would reach the prose as "np.float64(0.9)", which a format like {glue:text}`x:.3f`
    # cannot parse: hand over the plain Python number
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"glue value for {name!r} is {value}: a result that is not a number")
    try:
        from myst_nb import glue as _glue
    except ImportError:  # Colab, or a bare Python: no prose to fill in
        return
    _glue(name, value, display=display)


@dataclass(frozen=True)
class Within:
    """A trained result pinned to a band instead of to its digits (see :func:`within`)."""

    value: float
    low: float | None
    high: float | None

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValueError("Within: give low, high or both (a band needs at least one end)")

    @property
    def ok(self) -> bool:
        above = self.low is None or self.value >= self.low
        below = self.high is None or self.value <= self.high
        return math.isfinite(self.value) and above and below

    def band(self) -> str:
        if self.high is None:
            return f"at least {self.low:g}"
        if self.low is None:
            return f"at most {self.high:g}"
        return f"[{self.low:g}, {self.high:g}]"


def within(value, low: float | None = None, high: float | None = None) -> Within:
    """Pin a result that varies between machines to a band, for :func:`print_key_numbers`.

    Exact results (closed forms, checks against a reference) are printed at fixed precision and
    must match digit for digit. Trained results move in their last digits with the CPU code path,
    the BLAS and the thread count, so they are pinned to ``low <= value <= high`` instead: a band
    derived from their measured spread (CONTRIBUTING.md says how), or the claim the chapter makes
    (``within(dcca - cca, low=1.0)``: "DCCA beats CCA by more than 1"). The printed line shows the
    value, but the test sanitiser hides it, so the test passes while the value stays in its band
    and fails when it leaves it.

    Parameters
    ----------
    value : float
        The measured result.
    low, high : float or None
        The band's ends; one of them may be None (a one-sided claim).
    """
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"within: value must be a number, got {value!r}") from err
    ends = []
    for name, end in (("low", low), ("high", high)):
        if end is not None:
            if isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end):
                raise TypeError(f"within: {name} must be a finite number or None, got {end!r}")
            end = float(end)
        ends.append(end)
    low, high = ends
    if low is None and high is None:
        raise ValueError("within: give low, high or both")
    if low is not None and high is not None and low > high:
        raise ValueError(f"within: low={low} is above high={high}")
    return Within(value, low, high)


def print_key_numbers(numbers: Mapping[str, float | Within], digits: int = 3) -> None:
    """Print named results, one per line: exact ones at fixed precision, trained ones as bands.

    Cells that call this are tagged ``nbval-check-output``, so ``make test`` re-executes the chapter
    and fails when a result moves: a plain number must match at ``digits`` decimals; a
    :func:`within` result must stay inside its band (its line reads ``ok, within [low, high]``, or
    ``OUTSIDE [low, high]`` when it left it).
    """
    if not isinstance(numbers, Mapping) or not numbers:
        raise TypeError("numbers must be a non-empty mapping of name -> number")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative int, got {digits!r}")
    width = max(len(str(k)) for k in numbers)
    for key, value in numbers.items():
        if isinstance(value, Within):
            verdict = f"{WITHIN_MARK} {value.band()}" if value.ok else f"OUTSIDE {value.band()}"
            print(f"{str(key):<{width}}  {_fixed(value.value, digits)}  {verdict}")
            continue
        value = _finite_float(value, f"key number {key!r} is", "pin a finite result")
        print(f"{str(key):<{width}}  {_fixed(value, digits)}")


@dataclass(frozen=True)
class Comparison:
    """The verdict of :func:`compare` on two methods' per-seed results.

    Attributes
    ----------
    name_a, name_b : str
        The two methods, as they should read in a sentence.
    diff : float
        Mean of A minus mean of B (for paired results: the mean of the per-seed differences).
    se : float
        Standard error of ``diff``.
    low, high : float
        The 95% confidence interval of ``diff`` (Student's t).
    n : int
        Number of seeds (pairs when ``paired``; the smaller group otherwise).
    paired : bool
        Whether A and B were paired by seed.
    verdict : {"A", "B", "tie"}
        Which method is ahead on the measure: "A" when the interval lies above 0 (or below 0 with
        ``higher_is_better=False``), "B" when it lies on the other side, "tie" when it contains 0.
    """

    name_a: str
    name_b: str
    diff: float
    se: float
    low: float
    high: float
    n: int
    paired: bool
    verdict: str

    @property
    def winner(self) -> str | None:
        """The name of the method ahead, or None for a tie."""
        return {"A": self.name_a, "B": self.name_b}.get(self.verdict)

    def sentence(self, measure: str, digits: int = 3) -> str:
        """One plain sentence for the prose: who is ahead on ``measure``, by how much, on what evidence.

        The gap is printed as ``diff ± 95% half-width`` so a reader sees the interval the verdict
        rests on; a tie is called a tie whichever way the mean difference points.
        """
        if not isinstance(measure, str) or not measure:
            raise TypeError(f"measure must be a non-empty string, got {measure!r}")
        half = (self.high - self.low) / 2
        gap = f"{abs(self.diff):.{digits}f} ± {half:.{digits}f}"
        how = f"{'paired over' if self.paired else 'over'} {self.n} seeds"
        if self.winner is None:
            return (
                f"{self.name_a} and {self.name_b} tie on {measure}: the difference, "
                f"{self.diff:+.{digits}f} ± {half:.{digits}f} ({how}), is within the rule."
            )
        loser = self.name_b if self.verdict == "A" else self.name_a
        return f"{self.winner} is ahead of {loser} on {measure} by {gap} ({how})."


def compare(
    a,
    b,
    name_a: str = "A",
    name_b: str = "B",
    paired: bool = True,
    higher_is_better: bool = True,
) -> Comparison:
    r"""The book's one evidence rule: is method A ahead of method B, given per-seed results?

    A difference counts only when its 95% confidence interval excludes zero:

    .. math::

        \bar d \pm t_{0.975,\,\nu}\,\mathrm{SE}(\bar d).

    With ``paired=True`` (the same seeds, hence the same data split and initialisation, for both
    methods) :math:`d_s = a_s - b_s`, :math:`\mathrm{SE} = \mathrm{sd}(d)/\sqrt{n}` and
    :math:`\nu = n - 1`: the paired t-test. Unpaired, :math:`\bar d = \bar a - \bar b` with
    Welch's standard error and degrees of freedom. A gap inside the interval is a tie, whichever way
    it points. With 3 seeds the interval is wide (:math:`t_{0.975,2} = 4.30`): that is the honest
    price of 3 seeds.

    Parameters
    ----------
    a, b : sequence of float
        Per-seed results of the two methods, at least 2 each (equal length and seed order when paired).
    name_a, name_b : str
        How the two methods read in a sentence.
    paired : bool
        Pair ``a[s]`` with ``b[s]`` (default). Use False only when the seeds do not correspond.
    higher_is_better : bool
        False for losses, ranks and errors: then the lower mean is ahead.

    Returns
    -------
    Comparison
    """
    from scipy import stats

    a = _per_seed(a, "a")
    b = _per_seed(b, "b")
    for label, name in (("name_a", name_a), ("name_b", name_b)):
        if not isinstance(name, str) or not name:
            raise TypeError(f"{label} must be a non-empty string, got {name!r}")
    if not isinstance(paired, bool) or not isinstance(higher_is_better, bool):
        raise TypeError("paired and higher_is_better must be True or False")
    if paired:
        if len(a) != len(b):
            raise ValueError(
                f"paired results need one value per seed in each: a has {len(a)}, b has {len(b)}"
            )
        d = [x - y for x, y in zip(a, b, strict=True)]
        n = len(d)
        diff = math.fsum(d) / n
        se = _sd(d) / math.sqrt(n)
        dof = n - 1
    else:
        va, vb = _sd(a) ** 2 / len(a), _sd(b) ** 2 / len(b)
        diff = math.fsum(a) / len(a) - math.fsum(b) / len(b)
        se = math.sqrt(va + vb)
        n = min(len(a), len(b))
        # Welch-Satterthwaite; with no spread at all the interval is the point itself
        dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1
    half = float(stats.t.ppf(0.975, dof)) * se
    low, high = diff - half, diff + half
    if low > 0:
        verdict = "A" if higher_is_better else "B"
    elif high < 0:
        verdict = "B" if higher_is_better else "A"
    else:
        verdict = "tie"
    return Comparison(name_a, name_b, diff, se, low, high, n, paired, verdict)


def _per_seed(values, label: str) -> list[float]:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise TypeError(
            f"{label} must be a sequence of per-seed numbers, got {type(values).__name__}"
        )
    out = []
    for v in values:
        if isinstance(v, bool):
            raise TypeError(f"{label} holds a bool; give the per-seed numbers")
        out.append(_finite_float(v, f"{label} holds", "every per-seed result must be finite"))
    if len(out) < 2:
        raise ValueError(f"{label} has {len(out)} result(s): a comparison needs at least 2 seeds")
    return out


def _finite_float(value, what: str, hint: str) -> float:
    """``value`` as a finite float; errors read "<what> 'x', not a number" / "<what> nan: <hint>"."""
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} {value!r}, not a number") from err
    if not math.isfinite(number):
        raise ValueError(f"{what} {number}: {hint}")
    return number


def _sd(x: list[float]) -> float:
    mean = math.fsum(x) / len(x)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in x) / (len(x) - 1))


def _fixed(value: float, digits: int) -> str:
    # -0.000 and 0.000 are the same result; print them the same way
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def use_book_plotly_renderer() -> None:
    """Render plotly figures as plain HTML that uses the page's own plotly.js.

    The book loads plotly.js once per page from its ``_static`` folder (see ``book/_ext``), so each
    figure only needs its ``<div>`` and a ``Plotly.newPlot`` call: no require.js, no CDN, works offline.
    Called automatically by ``import mmlib`` inside the book build; elsewhere plotly's own default
    renderer (Jupyter, Colab) is left alone.
    """
    import plotly.io as pio
    from plotly.io._base_renderers import MimetypeRenderer

    class BookHTMLRenderer(MimetypeRenderer):
        def to_mimebundle(self, fig_dict):
            html = pio.to_html(
                fig_dict,
                include_plotlyjs=False,
                include_mathjax=False,
                full_html=False,
                validate=False,
                config={"responsive": True, "displaylogo": False},
            )
            return {"text/html": html}

    pio.renderers["mmbook"] = BookHTMLRenderer()
    pio.renderers.default = "mmbook"
