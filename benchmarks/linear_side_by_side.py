"""mmlib's exact CCA and GCCA against the exact peers, side by side in one process.

``benchmarks/run.py --only linear`` times each (implementation, size) in a fresh process, one
after the other; on a machine that other jobs share, the load then differs between the two
numbers of a ratio. Here each round fits every implementation once, in turn, in one process with
one BLAS thread, so that the load falls on all of them alike; the medians and minima over the
rounds give the ratios, and every implementation's error against the QR reference is checked at
each size. Only the exact peers take part (scikit-learn's CCA is iterative; mvlearn's GCCA solves
another problem); a peer that is not installed is left out and named.

    .venv-bench/bin/python benchmarks/linear_side_by_side.py [--quick] [--out DIR]

writes ``linear_side_by_side.json`` / ``.md`` into ``benchmarks/results/`` (``DIR``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
for _var in THREAD_VARS:  # before numpy loads BLAS
    os.environ[_var] = "1"
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `benchmarks` importable

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import harness, reference  # noqa: E402
from benchmarks.linear_peers import (  # noqa: E402
    ERROR_GOAL,
    IMPLEMENTATIONS,
    PACKAGES,
    K,
    values_from_scores,  # noqa: E402
)
from benchmarks.linear_tables import widths_text  # noqa: E402
from benchmarks.synthetic import ViewMaker  # noqa: E402

EXACT = {
    "cca": ["mmlib CCA", "mvlearn CCA", "cca-zoo CCA"],
    "gcca": ["mmlib GCCA", "mvlearn MCCA", "cca-zoo MCCA", "cca-zoo GCCA"],
}
FULL = {"sizes": [2_000, 20_000, 200_000], "widths": [(50, 40, 30), (200, 200, 200)]}
QUICK = {"sizes": [1_000, 4_000], "widths": [(50, 40, 30), (100, 100, 100)]}
ROUND_SECONDS, MIN_ROUNDS, MAX_ROUNDS = 4.0, 3, 15


def _installed(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """The implementations that fit a small problem here, and why the others do not."""
    views = ViewMaker((20, 20, 20), seed=99).views(200)
    ok, missing = [], {}
    for name in names:
        try:
            IMPLEMENTATIONS[name]["fit"](views, K)
            ok.append(name)
        except ImportError as err:
            missing[name] = f"{type(err).__name__}: {err}"
    return ok, missing


def _fits(names: list[str], views: list[np.ndarray]) -> dict:
    """One fit per implementation, each on its problem's views."""
    return {name: (lambda name=name: IMPLEMENTATIONS[name]["fit"](views, K)) for name in names}


def measure(n: int, widths, names: list[str]) -> tuple[dict, dict]:
    """Interleaved rounds at one size: times, and each implementation's error."""
    views = ViewMaker(widths, seed=1).views(n)
    fits = _fits(names, views)
    start = time.perf_counter()
    estimators = {name: fit() for name, fit in fits.items()}  # warm-up, and the error's fit
    rounds = int(np.clip(ROUND_SECONDS / (time.perf_counter() - start), MIN_ROUNDS, MAX_ROUNDS))
    load = [os.getloadavg()[0]]
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name, fit in fits.items():
            t0 = time.perf_counter()
            fit()
            times[name].append(time.perf_counter() - t0)
    load.append(os.getloadavg()[0])
    refs = {
        "cca": reference.cca_correlations(views[0], views[1])[:K],
        "gcca": reference.gcca_eigenvalues(views)[:K],
    }
    errors = {}
    for name, est in estimators.items():
        impl = IMPLEMENTATIONS[name]
        values = values_from_scores(impl["problem"], impl["scores"](est, views), K)
        errors[name] = float(np.max(np.abs(values - refs[impl["problem"]])))
    return {
        "n": n,
        "widths": list(widths),
        "rounds": rounds,
        "load_1min": load,
        "times": times,
    }, errors


def run(quick: bool = False, log=print) -> dict:
    cfg = QUICK if quick else FULL
    head = harness.header(PACKAGES)
    head["threads"] = 1
    head["quick"] = quick
    names, missing = _installed([name for group in EXACT.values() for name in group])
    rows = []
    for widths in cfg["widths"]:
        for n in cfg["sizes"]:
            log(f"side by side: n={n:,} widths={widths_text(widths)}")
            row, errors = measure(n, widths, names)
            row["errors"] = errors
            rows.append(row)
    return {"header": head, "k": K, "missing": missing, "rows": rows}


def _row_cells(row: dict, name: str, base: str) -> list[str]:
    times, base_times = row["times"][name], row["times"][base]
    widths = row["widths"][:2] if base == "mmlib CCA" else row["widths"]
    return [
        f"{row['n']:,}",
        widths_text(widths),
        name,
        f"{harness.fmt_seconds(float(np.median(times)))} ({harness.fmt_seconds(min(times))})",
        f"{np.median(times) / np.median(base_times):.2f} ({min(times) / min(base_times):.2f})",
        harness.fmt_error(row["errors"][name]),
        " → ".join(f"{x:.2f}" for x in row["load_1min"]),
    ]


def markdown(doc: dict) -> str:
    lines = [
        *harness.report_opening(
            "Exact linear CCA and GCCA, side by side in one process",
            doc["header"],
            writer="benchmarks/linear_side_by_side.py",
        ),
        "",
        f"Each round fits every implementation once, in turn (k = {doc['k']}, float64, one BLAS "
        "thread); times are the median (minimum) over the rounds, ratios are to mmlib's median "
        "(minimum) at the same size, errors are against the QR reference (goal: "
        f"<= {ERROR_GOAL:.0e}).",
        "",
    ]
    for problem, base in (("cca", "mmlib CCA"), ("gcca", "mmlib GCCA")):
        table = [
            _row_cells(row, name, base)
            for row in doc["rows"]
            for name in EXACT[problem]
            if name in row["times"]
        ]
        headers = ["n", "widths", "implementation", "fit time", f"time / {base}"]
        lines += [
            f"## {problem.upper()}",
            "",
            harness.markdown_table([*headers, "error", "load (1 min) before → after"], table),
            "",
        ]
    if doc["missing"]:
        lines += ["Not installed here, so not measured:", ""]
        lines += [f"- {name}: {why}" for name, why in doc["missing"].items()] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke test)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    doc = run(quick=args.quick)
    text = markdown(doc)
    harness.write_results(args.out, "linear_side_by_side", doc, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
