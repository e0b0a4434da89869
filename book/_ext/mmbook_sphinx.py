"""Sphinx extension of mmbook: make the built book self-contained and its figures interactive.

- Tells the executing kernels that they run inside the book build (``MMBOOK_BUILD=1``), so that
  mmlib switches plotly to a renderer that emits plain HTML (no require.js, no CDN) and keeps
  progress bars quiet.
- Serves plotly.js and MathJax 3 from the book's own ``_static`` folder, copied from the installed
  ``plotly`` and ``django-static-mathjax`` packages, so the pages work offline and the versions
  match what the kernels used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# MathJax components the pages load on demand; the speech-rule engine (sre) is large and unused.
_MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output", "ui", "a11y", "adaptors")


# Code cells: 88 characters (the book's line limit) must fit the column at a 1280-px window.
# The theme's 14-px monospace is 8.4 px a character with 16-px padding on each side of a 684-px
# column, which fits 81; at 12.25 px (7.4 px a character) with 8-px padding, 88 fit.
_CSS = """
div.cell_input pre, div.cell_input div.highlight pre,
body div.cell_output pre, body div.cell_output div.highlight pre {
  font-size: 12.25px;
  padding-left: 8px;
  padding-right: 8px;
}
/* glued numbers and sentences read as part of the prose (myst-nb makes them bold) */
body span.pasted-text {
  font-weight: inherit;
}
"""


def _static_dir() -> Path:
    import mathjax
    import plotly

    out = Path(tempfile.mkdtemp(prefix="mmbook_static_"))
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", out)
    (out / "mmbook.css").write_text(_CSS)
    mathjax_es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    for part in _MATHJAX_PARTS:
        src = mathjax_es5 / part
        if src.is_dir():
            shutil.copytree(src, out / "mathjax" / part)
        else:
            (out / "mathjax").mkdir(exist_ok=True)
            shutil.copy(src, out / "mathjax" / part)
    return out


def _add_static(app) -> None:
    app.config.html_static_path.append(str(_static_dir()))


def _set_theme_mode(app, config) -> None:
    # pydata-sphinx-theme logs a console error when no default mode is set
    config.html_context.setdefault("default_mode", "light")


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    # sphinx-thebe's inline configuration script is registered twice under Jupyter Book 1.0.4,
    # and its second copy throws "Identifier 'THEBE_JS_URL' has already been declared"
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # the copies differ only in filename None vs "" (an inline script has no file)
        key = (getattr(script, "filename", script) or "", str(getattr(script, "attributes", {})))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique  # in place: handlers after this one still append to it


def setup(app):
    os.environ["MMBOOK_BUILD"] = "1"  # inherited by the kernels that execute the chapters
    # torch's OpenMP threads spin while waiting; on 2 shared cores that can slow a chapter 5x
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app.connect("config-inited", _set_theme_mode)
    app.connect("builder-inited", _add_static)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    # plotly.js must be defined before the figures' inline scripts run: load it in <head>, not deferred
    app.add_js_file("plotly.min.js", priority=200)
    app.add_css_file("mmbook.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
