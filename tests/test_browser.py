"""The rendered book, opened in a real headless browser (Debian's chromium, driven by playwright).

Fails when a plotly figure did not draw, math did not render, an image is broken, a page logged a
JavaScript error, a display equation is wider than its column, or a code cell's input, a cell's
output (printed text, a repr, an HTML or pandas table) or a table in the prose scrolls sideways or
sticks out of the text column (all at a 1280 x 900 window, with every collapsed cell and dropdown
opened). Screenshots go to _build/screenshots/ for a person to look at. Builds the book first
(`make book`) unless _build/html is newer than every chapter and every mmlib file.
Under CI=true the test is required; elsewhere it skips when chromium is missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path:
        return path
    message = "chromium not found: `sudo apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM=/path/to/it"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " — required under CI=true")
    pytest.skip(message)


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f"{f}.html" for f in files]


def _book_is_current() -> bool:
    index = HTML / "index.html"
    if not index.exists():
        return False
    built = index.stat().st_mtime
    sources = [
        *ROOT.glob("book/*.md"),
        *ROOT.glob("mmlib/**/*.py"),
        ROOT / "_config.yml",
        ROOT / "_toc.yml",
    ]
    return all(p.stat().st_mtime < built for p in sources)


# Display equations whose typeset width exceeds the room they have: the MathJax 3 CHTML container
# beside the floated equation number inside Sphinx's div.math (the container scrolls, the div
# clips, so a reader sees a cut equation). Returns "(number) id: width px > room px" for each.
WIDE_EQUATIONS_JS = """
() => Array.from(document.querySelectorAll("div.math")).flatMap((box) => {
  const container = box.querySelector("mjx-container");
  const math = container && container.querySelector("mjx-math");
  if (!math) return [];
  const outer = box.getBoundingClientRect(), inner = math.getBoundingClientRect();
  const room = Math.min(container.clientWidth, box.clientWidth);
  const tooWide = inner.width > room + 1
    || inner.left < outer.left - 1 || inner.right > outer.right + 1;
  if (!tooWide) return [];
  const eqno = box.querySelector(".eqno");
  const number = eqno ? eqno.firstChild.textContent.trim() : "(unnumbered)";
  return [`${number} ${box.id || ""}: ${Math.round(inner.width)} px > ${room} px`];
})
"""

# Code cells whose input block scrolls horizontally; reports the cell's index and first line.
SCROLLING_CODE_JS = """
() => Array.from(document.querySelectorAll("div.cell")).flatMap((cell, i) => {
  const pre = cell.querySelector("div.cell_input pre");
  if (!pre || pre.scrollWidth <= pre.clientWidth + 1) return [];
  const first = pre.textContent.split("\\n")[0].slice(0, 60);
  return [`code cell ${i + 1} (${pre.scrollWidth} px > ${pre.clientWidth} px): ${first}`];
})
"""


# Cell outputs (printed text, reprs, HTML and pandas tables) and tables in the prose that are wider
# than the room they have: a block that scrolls sideways itself, one inside a box that scrolls or
# clips it (myst-nb's output div, the theme's table container), or one that sticks out of the text
# column. Reports where the block is and how it starts.
WIDE_BLOCKS_JS = """
() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const column = article.getBoundingClientRect();
  const cells = Array.from(document.querySelectorAll("div.cell"));
  const blocks = [
    ...article.querySelectorAll("div.cell_output pre, div.cell_output div.output, div.cell_output table"),
    ...Array.from(article.querySelectorAll("table")).filter((t) => !t.closest("div.cell")),
  ];
  const scrolls = (el) => el.scrollWidth > el.clientWidth + 1
    && getComputedStyle(el).overflowX !== "visible";
  return blocks.flatMap((el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return [];  // not displayed
    let why = "";
    if (el.scrollWidth > el.clientWidth + 1) {
      why = `${el.scrollWidth} px > ${el.clientWidth} px`;
    } else if (box.right > column.right + 1 || box.left < column.left - 1) {
      why = `sticks out of the ${Math.round(column.width)} px column`;
    } else {
      for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
        if (scrolls(a)) {
          why = `in a box that scrolls: ${a.scrollWidth} px > ${a.clientWidth} px`;
          break;
        }
      }
    }
    if (!why) return [];
    const cell = el.closest("div.cell");
    const where = cell ? `output of code cell ${cells.indexOf(cell) + 1}` : "table in the prose";
    const kind = el.tagName === "PRE" ? "text" : el.tagName === "TABLE" ? "table" : "block";
    const first = (el.innerText || el.textContent).trim().split("\\n")[0].slice(0, 60);
    return [`${where}, ${kind} (${why}): ${first}`];
  });
}
"""

# Open every collapsed cell (hide-input, hide-output, hide-cell) and every dropdown (hints, solutions)
# so that what a reader can expand is held to the same width rule as what is shown.
OPEN_COLLAPSED_JS = """
() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach((e) => e.classList.remove("toggle-hidden"));
}
"""


@pytest.fixture(scope="module")
def site():
    chromium = _chromium()
    if not _book_is_current():
        subprocess.run(["make", "book"], cwd=ROOT, check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield chromium, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    chromium, _ = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("page_path", _pages())
def test_page_renders(site, browser, page_path):
    _, base = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.goto(f"{base}/{page_path}", wait_until="load")

    # math: wait for MathJax to typeset, then every math element must hold a rendered container
    n_math = page.locator(".math").count()
    if n_math:
        page.wait_for_function(
            "window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000
        )
        page.evaluate("MathJax.startup.promise")
        rendered = page.locator(".math mjx-container").count()
        assert rendered >= n_math, f"{page_path}: {rendered} of {n_math} math elements rendered"
        assert page.locator("mjx-merror").count() == 0, f"{page_path}: MathJax reported a TeX error"
        wide = page.evaluate(WIDE_EQUATIONS_JS)
        assert not wide, f"{page_path}: display equations wider than the column: " + "; ".join(wide)

    # code cells: no input block that scrolls sideways at this width, collapsed ones opened
    page.evaluate(OPEN_COLLAPSED_JS)
    scrolling = page.evaluate(SCROLLING_CODE_JS)
    assert not scrolling, f"{page_path}: code cells scroll sideways: " + "; ".join(scrolling)

    # outputs and tables: the same rule for printed text, reprs, HTML/pandas tables, prose tables
    wide = page.evaluate(WIDE_BLOCKS_JS)
    assert not wide, f"{page_path}: outputs or tables scroll sideways: " + "; ".join(wide)

    # plotly: every figure div must have drawn its SVG
    n_plotly = page.locator("div.plotly-graph-div").count()
    if n_plotly:
        page.wait_for_function(
            "n => document.querySelectorAll('div.plotly-graph-div .main-svg').length >= n",
            arg=n_plotly,
            timeout=20000,
        )

    # images (matplotlib figures): all loaded
    broken = page.evaluate(
        "Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, f"{page_path}: broken images {broken}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / (page_path.replace("/", "_").replace(".html", ".png"))), full_page=True
    )
    page.close()
    assert not errors, f"{page_path}: " + "; ".join(errors)
