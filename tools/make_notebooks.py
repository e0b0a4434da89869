"""Regenerate the paired, executed notebooks: book/<name>.md -> book/<name>.ipynb.

Colab opens the .ipynb and nbval re-executes it, so it must hold exactly the .md's cells and the
outputs of a fresh run. Prints each chapter's execution time (the budget is 120 s on 2 CPU cores).

    python tools/make_notebooks.py book/cca.md [book/gcca.md ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

BUDGET_S = 120.0


def build(md_path: Path) -> float:
    notebook = jupytext.read(md_path)
    # same environment as the book build: plotly emits light HTML, progress bars stay quiet
    os.environ["MMBOOK_BUILD"] = "1"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no spinning OpenMP threads on 2 cores
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(md_path.parent)}},
    ).execute()
    seconds = time.perf_counter() - start
    jupytext.write(notebook, md_path.with_suffix(".ipynb"), fmt="ipynb")
    return seconds


def main(paths: list[str]) -> int:
    slow = []
    for name in paths:
        md_path = Path(name)
        if md_path.suffix != ".md" or not md_path.exists():
            print(f"skipping {name}: not an existing .md chapter", file=sys.stderr)
            continue
        seconds = build(md_path)
        flag = "  OVER BUDGET" if seconds > BUDGET_S else ""
        print(f"{md_path.stem:<20} {seconds:7.1f} s{flag}", flush=True)
        if flag:
            slow.append(md_path.stem)
    if slow:
        print(f"over the {BUDGET_S:.0f} s budget: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
