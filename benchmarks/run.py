"""Benchmark mmlib against its peers and write the tables to benchmarks/results/.

Usage (from the repository root, in the benchmark environment: ``make bench``)::

    python benchmarks/run.py                 # everything (about 75 minutes on 2 cores)
    python benchmarks/run.py --only linear   # CCA / GCCA only
    python benchmarks/run.py --only dcca     # Deep CCA only
    python benchmarks/run.py --only dask     # GCCA on a 2-worker Dask cluster, 1e8 rows (~40 min)
    python benchmarks/run.py --quick         # small sizes: a smoke test (results/quick/)
    python benchmarks/run.py --threads 1     # one BLAS thread: stable times on a shared machine
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `benchmarks` importable


def main(argv: list[str] | None = None) -> int:
    from benchmarks import dask_gcca, deep, harness, linear

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["linear", "dcca", "dask"], help="run one suite only")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke test)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write (default benchmarks/results/, or benchmarks/results/quick/ with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="cap BLAS/OpenMP/torch threads (default: one per core); 1 gives stable times on a "
        "machine that other jobs share",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only rewrite the .md tables from the existing .json files (no measurement)",
    )
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    out = args.out or (ROOT / "benchmarks" / "results" / ("quick" if args.quick else ""))

    def log(message: str) -> None:
        print(message, flush=True)

    start = time.perf_counter()
    suites = [("linear", linear), ("dcca", deep), ("dask", dask_gcca)]
    for name, module in suites:
        if args.only and args.only != name:
            continue
        if args.render:
            doc = json.loads((out / f"{name}.json").read_text())
        else:
            doc = module.run(quick=args.quick, log=log, threads=args.threads)
            # the measurements first: a bug in the report must not lose them (--render redoes it)
            harness.write_results(out, name, doc, "(report not written yet)\n")
        text = module.markdown(doc)
        paths = harness.write_results(out, name, doc, text)
        print()
        print(text)
        print(
            f"wrote {', '.join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in paths)}"
        )
        print()
    print(f"benchmarks done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
