"""The book's own invariants: paired notebooks, the single dependency list, chapter conventions."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.md") if "jupytext" in p.read_text()[:400])
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _cells(notebook) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree between a pair: each cell's type, source and tags (outputs may differ)."""
    return [
        (cell.cell_type, cell.source.strip(), tuple(sorted(cell.metadata.get("tags", []))))
        for cell in notebook.cells
    ]


def _code(chapter: Path) -> str:
    notebook = jupytext.read(chapter)
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


def test_there_are_chapters():
    assert len(CHAPTERS) >= 3, [p.name for p in CHAPTERS]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_paired_notebook_has_the_same_cells(chapter: Path):
    ipynb = chapter.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `make notebook NB={chapter.stem}`"
    from_md = _cells(jupytext.read(chapter))
    from_ipynb = _cells(nbformat.read(ipynb, as_version=4))
    assert len(from_md) == len(from_ipynb), (
        f"{chapter.name} has {len(from_md)} cells, {ipynb.name} {len(from_ipynb)}: run `make notebook NB={chapter.stem}`"
    )
    for i, (a, b) in enumerate(zip(from_md, from_ipynb, strict=True)):
        assert a == b, (
            f"cell {i} differs between {chapter.name} and {ipynb.name}: run `make notebook NB={chapter.stem}`"
        )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_paired_notebook_is_executed(chapter: Path):
    notebook = nbformat.read(chapter.with_suffix(".ipynb"), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code[1:]), (
        f"{chapter.stem}.ipynb is not fully executed: run `make notebook NB={chapter.stem}`"
    )
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{chapter.stem}.ipynb holds an error output"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_conventions(chapter: Path):
    notebook = jupytext.read(chapter)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    first = code_cells[0].source
    assert "google.colab" in first and "pip" in first, (
        "the first code cell must be the Colab install cell"
    )
    url = CONFIG["repository"]["url"]
    branch = CONFIG["repository"]["branch"]
    assert f"git+{url}@{branch}" in first, (
        f"the Colab cell of {chapter.name} does not install from _config.yml's repository "
        f"({url}@{branch}): run `make set-repo URL={url} BRANCH={branch}`"
    )
    code = "\n".join(c.source for c in code_cells)
    assert re.search(r"^(import mmlib|from mmlib)", code, re.M), (
        f"{chapter.name} never imports mmlib"
    )
    tagged = [c for c in code_cells if "nbval-check-output" in c.metadata.get("tags", [])]
    assert tagged, f"{chapter.name} has no cell tagged nbval-check-output with its key numbers"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_name_in_the_prose_is_computed(chapter: Path):
    text = chapter.read_text()
    used = set(re.findall(r"\{glue(?::\w+)?\}`([\w-]+)", text))
    code = _code(chapter)
    glued = set(re.findall(r"glue\(\s*[\"']([\w-]+)[\"']", code))
    dynamic = re.search(
        r"glue\(\s*f[\"']", code
    )  # names built in a loop cannot be listed statically
    missing = used - glued
    assert dynamic or not missing, (
        f"{chapter.name} shows numbers that are never glued: {sorted(missing)}"
    )


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for chapter in CHAPTERS:
        assert f"book/{chapter.stem}" in toc, f"{chapter.name} is not listed in _toc.yml"


def test_environment_yml_installs_exactly_requirements_txt():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt", "-e ."]
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])


def test_requirements_are_pinned_and_torch_is_the_cpu_pin():
    lines = [
        ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    pins = [ln for ln in lines if ln]
    assert pins and all("==" in ln for ln in pins), [ln for ln in pins if "==" not in ln]
    assert "torch==2.13.0" in pins
    assert any(ln.startswith("jupyter-book==1.") for ln in pins)


def test_library_keeps_loose_torch_range():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch>=2.2"' in pyproject


def test_no_download_at_run_time():
    pattern = re.compile(r"urlopen|urlretrieve|requests\.get|fetch_openml|pooch\.|wget |curl ")
    for path in [*sorted((ROOT / "mmlib").rglob("*.py")), *CHAPTERS]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line.split("#")[0]), f"{path.name}:{n} downloads at run time"
