"""Small helpers the book's chapters share: numbers into the prose, and key numbers for the tests.

The chapters run in three places: the Jupyter Book build (myst-nb present), Binder (myst-nb present)
and Colab (myst-nb absent). These helpers work in all three.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Within", "glue", "in_book_build", "print_key_numbers", "within"]

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
        try:
            value = float(value)
        except (TypeError, ValueError) as err:
            raise TypeError(f"key number {key!r} is not a number: {value!r}") from err
        if not math.isfinite(value):
            raise ValueError(f"key number {key!r} is {value}: pin a finite result")
        print(f"{str(key):<{width}}  {_fixed(value, digits)}")


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
