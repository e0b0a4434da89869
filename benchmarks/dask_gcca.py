"""GCCA on a Dask array that never sits in memory, on a 2-worker LocalCluster.

Three views of ``rows`` samples x 100 features share a 5-D latent. They are generated chunk by chunk,
each chunk from its own seed, by the same function in both runs:

- **dask**: ``GCCA.fit`` on ``dask.array`` views built from the chunk generator, executed by a
  ``dask.distributed.LocalCluster`` (2 worker processes x 1 thread): each worker generates its chunks
  and reduces them to (count, mean, co-moment); the statistics are merged in a tree and the
  300 x 300 problem is solved once in the client;
- **loop**: one process generates the same chunks in order and calls ``GCCA.partial_fit`` on each
  (with the solve deferred to the end, as the Dask path does), using 2 BLAS threads.

It reports wall times, their ratio (goal <= 1.5), the peak resident memory of each worker (goal
<= 2 GiB), and the agreement of the Dask fit with an in-memory fit on a problem small enough to hold
(``--check-rows``). Writes ``benchmarks/results/dask.md`` and ``.json``.

    python benchmarks/dask_gcca.py --rows 100_000_000      # the issue's size (~40 min on 2 cores)
    python benchmarks/dask_gcca.py --rows 10_000_000       # a quicker run
    python benchmarks/run.py --only dask                    # the same, as part of `make bench`
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

D_LATENT, D_VIEW, N_VIEWS, SEED = 5, 100, 3, 2024
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `benchmarks` importable

FULL = {"rows": 100_000_000, "chunk": 100_000, "check_rows": 200_000}
QUICK = {"rows": 400_000, "chunk": 50_000, "check_rows": 100_000}


def mixing() -> list[np.ndarray]:
    rng = np.random.default_rng(SEED)
    return [rng.normal(size=(D_LATENT, D_VIEW)) for _ in range(N_VIEWS)]


def make_view(index: int, j: int, rows: int) -> np.ndarray:
    """View ``j`` of chunk ``index``: latent @ mixing + noise + an offset, seeded by (index, j).

    The latent of a chunk has its own seed, so every view of the chunk sees the same latent while
    each view is generated on its own (a Dask task per view and chunk, no view generated twice).
    """
    z = np.random.default_rng([SEED, index, 0]).standard_normal((rows, D_LATENT))
    noise = np.random.default_rng([SEED, index, j + 1]).standard_normal((rows, D_VIEW))
    return z @ mixing()[j] + noise + (j + 1.0)


def make_chunk(index: int, rows: int) -> list[np.ndarray]:
    """All views of chunk ``index`` (the single-process loop's way to ask for them)."""
    return [make_view(index, j, rows) for j in range(N_VIEWS)]


def chunk_sizes(rows: int, chunk: int) -> list[int]:
    sizes = [chunk] * (rows // chunk)
    return sizes + ([rows % chunk] if rows % chunk else [])


def dask_views(rows: int, chunk: int):
    import dask
    import dask.array as da

    per_view = [[] for _ in range(N_VIEWS)]
    for i, size in enumerate(chunk_sizes(rows, chunk)):
        for j in range(N_VIEWS):
            block = dask.delayed(make_view, pure=True)(i, j, size)
            per_view[j].append(da.from_delayed(block, shape=(size, D_VIEW), dtype=np.float64))
    return [da.concatenate(blocks, axis=0) for blocks in per_view]


def run_dask(rows: int, chunk: int, workers: int) -> dict:
    from distributed import Client, LocalCluster

    import mmlib

    # the workers unpickle make_view by reference: let them import `benchmarks`
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="4GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("mmlib"))  # imports are not timed
        views = dask_views(rows, chunk)
        start = time.perf_counter()
        model = mmlib.GCCA(n_components=5, reg=1e-6).fit(views)
        seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    return {
        "seconds": seconds,
        "worker_peak_gib": sorted(peaks.values()),
        "eigenvalues": model.eigenvalues_.tolist(),
    }


def run_loop(rows: int, chunk: int) -> dict:
    import mmlib

    model = mmlib.GCCA(n_components=5, reg=1e-6)
    start = time.perf_counter()
    for i, size in enumerate(chunk_sizes(rows, chunk)):
        model._accumulate(make_chunk(i, size), reset=(i == 0))  # statistics only, like dask
    model._solve(mmlib._checks.check_reg(model.reg, N_VIEWS), strict=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "eigenvalues": model.eigenvalues_.tolist()}


def exactness(rows: int, chunk: int) -> float:
    """max |difference| between the Dask fit and the in-memory fit (eigenvalues and weights)."""
    import mmlib

    views = [
        np.vstack(v)
        for v in zip(
            *(make_chunk(i, s) for i, s in enumerate(chunk_sizes(rows, chunk))), strict=True
        )
    ]
    ref = mmlib.GCCA(n_components=5, reg=1e-6).fit(views)
    lazy = mmlib.GCCA(n_components=5, reg=1e-6).fit(dask_views(rows, chunk))
    diffs = [np.max(np.abs(lazy.eigenvalues_ - ref.eigenvalues_))]
    diffs += [np.max(np.abs(a - b)) for a, b in zip(lazy.weights_, ref.weights_, strict=True)]
    return float(max(diffs))


def run(
    quick: bool = False,
    log: Callable[[str], None] = print,
    threads: int | None = None,
    rows: int | None = None,
    chunk: int | None = None,
    workers: int = 2,
    check_rows: int | None = None,
) -> dict:
    """Exactness check, the Dask fit and the single-process loop; returns the JSON document.

    ``threads`` is accepted for the suite interface of ``benchmarks/run.py`` and ignored: each
    Dask worker has one thread and the loop gets one BLAS thread per worker, so both use
    ``workers`` cores.
    """
    from threadpoolctl import threadpool_limits

    from benchmarks import harness

    cfg = QUICK if quick else FULL
    rows, chunk = rows or cfg["rows"], chunk or cfg["chunk"]
    check_rows = check_rows or cfg["check_rows"]
    err = exactness(check_rows, max(1, chunk // 4))
    log(f"dask: exactness at {check_rows:,} rows: max |dask - in memory| = {err:.1e}")
    # the CPU time other programs took during each half: the machine's busy time minus this
    # process's and its children's (the workers are children, counted once the cluster closes)
    load_before = os.getloadavg()
    with harness.OthersMonitor() as dask_others:
        dask_res = run_dask(rows, chunk, workers)
    load_between = os.getloadavg()
    log(f"dask: {dask_res['seconds']:.1f} s, worker peaks {dask_res['worker_peak_gib']} GiB")
    with threadpool_limits(workers), harness.OthersMonitor() as loop_others:
        loop_res = run_loop(rows, chunk)
    load_after = os.getloadavg()
    dask_res["others_cpu_share"] = dask_others.share
    loop_res["others_cpu_share"] = loop_others.share
    log(f"dask: partial_fit loop {loop_res['seconds']:.1f} s")
    agree = float(np.max(np.abs(np.subtract(dask_res["eigenvalues"], loop_res["eigenvalues"]))))
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {workers} workers",
        "workers": workers,
        "quick": quick,
        "rows": rows,
        "chunk_rows": chunk,
        "views": f"{N_VIEWS} x {D_VIEW}",
        "dask": dask_res,
        "loop": loop_res,
        "ratio_dask_over_loop": dask_res["seconds"] / loop_res["seconds"],
        "eigenvalues_dask_vs_loop": agree,
        "exactness_rows": check_rows,
        "exactness_max_abs": err,
        "load_average_1_5_15": {
            "before dask": load_before,
            "after dask": load_between,
            "after loop": load_after,
        },
    }


def markdown(doc: dict) -> str:
    """The report of :func:`run`'s document (``benchmarks/results/dask.md``)."""
    workers = doc.get("workers", 2)
    dask_res, loop_res, ratio = doc["dask"], doc["loop"], doc["ratio_dask_over_loop"]
    peak = max(dask_res["worker_peak_gib"])
    load = {k: ", ".join(f"{x:.1f}" for x in v) for k, v in doc["load_average_1_5_15"].items()}

    def others(res: dict) -> str:
        share = res.get("others_cpu_share")
        return "not measured" if share is None else f"{share:.1%}"

    return f"""# GCCA on Dask: {doc["rows"]:,} rows x ({doc["views"]}), {workers}-worker LocalCluster

Measured {doc["date"]} on {doc["machine"]} (`benchmarks/dask_gcca.py`). Chunks of
{doc["chunk_rows"]:,} rows, generated inside the workers, never all in memory.

| run | wall time (s) | peak memory |
|---|---|---|
| Dask, {workers} workers x 1 thread | {dask_res["seconds"]:.1f} | {peak:.2f} GiB per worker (max) |
| `partial_fit` loop, 1 process, {workers} BLAS threads | {loop_res["seconds"]:.1f} | - |

- ratio Dask / loop: **{ratio:.2f}** (goal <= 1.5); worker peak **{peak:.2f} GiB** (goal <= 2 GiB)
- load average (1, 5, 15 min) before the Dask run {load["before dask"]}, after it
  {load["after dask"]}, after the loop {load["after loop"]} (the Dask run alone keeps about
  {workers + 1} busy: its workers and the client, which runs the scheduler)
- share of the CPUs used by other programs: {others(dask_res)} during the Dask run,
  {others(loop_res)} during the loop
- eigenvalues, Dask vs loop: max |difference| {doc["eigenvalues_dask_vs_loop"]:.1e}
- Dask fit vs in-memory fit at {doc["exactness_rows"]:,} rows: max |difference| of eigenvalues
  and weights {doc["exactness_max_abs"]:.1e}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL["rows"])
    parser.add_argument("--chunk", type=int, default=FULL["chunk"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check-rows", type=int, default=FULL["check_rows"])
    parser.add_argument("--quick", action="store_true", help="a smoke test (QUICK sizes)")
    parser.add_argument(
        "--name", default="dask", help="write results/<name>.md and .json (default: dask)"
    )
    args = parser.parse_args()
    from benchmarks import harness

    doc = run(
        quick=args.quick,
        rows=None if args.quick else args.rows,
        chunk=None if args.quick else args.chunk,
        workers=args.workers,
        check_rows=None if args.quick else args.check_rows,
    )
    out = RESULTS / "quick" if args.quick else RESULTS
    text = markdown(doc)
    harness.write_results(out, args.name, doc, text)
    print(text)


if __name__ == "__main__":
    main()
