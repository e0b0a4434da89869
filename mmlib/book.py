"""Small helpers the book's chapters share: numbers into the prose, and key numbers for the tests.

The chapters run in three places: the Jupyter Book build (myst-nb present), Binder (myst-nb present)
and Colab (myst-nb absent). These helpers work in all three.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["glue", "in_book_build", "print_key_numbers"]


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
    try:
        from myst_nb import glue as _glue
    except ImportError:  # Colab, or a bare Python: no prose to fill in
        return
    _glue(name, value, display=display)


def print_key_numbers(numbers: Mapping[str, float], digits: int = 3) -> None:
    """Print named results at a fixed precision, one per line.

    Cells that call this are tagged ``nbval-check-output``, so ``make test`` re-executes the chapter
    and fails when a result moves at this precision.
    """
    if not isinstance(numbers, Mapping) or not numbers:
        raise TypeError("numbers must be a non-empty mapping of name -> number")
    if not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative int, got {digits!r}")
    width = max(len(str(k)) for k in numbers)
    for key, value in numbers.items():
        try:
            value = float(value)
        except (TypeError, ValueError) as err:
            raise TypeError(f"key number {key!r} is not a number: {value!r}") from err
        # -0.000 and 0.000 are the same result; print them the same way
        text = f"{value:.{digits}f}"
        if text.startswith("-") and float(text) == 0.0:
            text = text[1:]
        print(f"{str(key):<{width}}  {text}")


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
