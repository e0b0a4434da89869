"""Linear CCA and GCCA: mmlib against scikit-learn, cca-zoo and mvlearn.

The suite (:func:`run`) decides what to run, skips a peer whose time, extrapolated linearly in
``n`` from the previous size, would exceed 60 s, computes the errors against the QR reference
and returns the document that ``benchmarks/run.py`` writes to ``linear.json`` / ``linear.md``.
Its parts: the peers and their scoring (:mod:`benchmarks.linear_peers`), the measurements in fresh
processes (:mod:`benchmarks.linear_workers`), the goals and tables
(:mod:`benchmarks.linear_tables`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from benchmarks import harness
from benchmarks.linear_peers import IMPLEMENTATIONS, PACKAGES, SKIP_SECONDS, K
from benchmarks.linear_tables import goals, markdown, short_text, widths_text
from benchmarks.linear_workers import ROOT, WORKER_TIMEOUT, call_worker
from benchmarks.synthetic import RHO

__all__ = ["FULL", "QUICK", "goals", "markdown", "run"]

FULL = {
    "sizes": [2_000, 20_000, 200_000],
    "widths": [(50, 40, 30), (200, 200, 200)],
    "repeats": {2_000: 7, 20_000: 5, 200_000: 3},
    "big": {"n": 1_000_000, "widths": (100, 100, 100), "repeats": 3, "chunks": 10},
    "stream": {"n": 10_000_000, "widths": (100, 100, 100), "chunk": 100_000},
    # CCA against scikit-learn again at each BLAS thread count (the ratio depends on it)
    "thread_sweep": {"threads": [1, 2], "n": 2_000, "widths": [(50, 40), (200, 200)], "repeats": 7},
    # wait at most this long for other processes to leave the CPUs before a measurement, and
    # this long in all
    "quiet_wait": 30.0,
    "quiet_total": 300.0,
    # seconds, in all, for repeating measurements that other processes disturbed
    "retry_total": 240.0,
}
QUICK = {
    "sizes": [1_000, 4_000],
    "widths": [(50, 40, 30), (100, 100, 100)],
    "repeats": {1_000: 3, 4_000: 3},
    "big": {"n": 50_000, "widths": (100, 100, 100), "repeats": 2, "chunks": 5},
    "stream": {"n": 200_000, "widths": (100, 100, 100), "chunk": 50_000},
    "thread_sweep": {"threads": [1, 2], "n": 1_000, "widths": [(50, 40)], "repeats": 3},
    "quiet_wait": 0.0,
    "quiet_total": 0.0,
    "retry_total": 0.0,
}


def _max_error(values, ref) -> float | None:
    if values is None:
        return None
    values, ref = np.asarray(values, dtype=float), np.asarray(ref, dtype=float)
    if values.size < ref.size:
        return float("inf")
    return float(np.max(np.abs(values[: ref.size] - ref)))


def _measure(spec: dict, gate: harness.QuietGate, retry: dict, timeout: float = WORKER_TIMEOUT):
    """Run a worker after waiting for a quiet machine; once more if others used the CPUs.

    A measurement during which other processes used more of the CPUs than ``retry["mark"]`` is
    repeated (while ``retry["left"]`` seconds of retry budget remain) and the run with the
    smaller share of other processes is kept; the JSON records every attempt's share.
    """
    shares = []
    best = None
    for attempt in range(2):
        busy = gate.wait() if attempt == 0 else gate.wait(max_wait=30.0)
        start = time.perf_counter()
        res = call_worker(spec, timeout=timeout)
        cost = time.perf_counter() - start
        if attempt > 0:
            retry["left"] -= cost
        res["busy_before"] = busy
        share = res.get("others_cpu_share") or 0.0
        shares.append(res.get("others_cpu_share"))
        if best is None or share < (best.get("others_cpu_share") or 0.0):
            best = res
        if res.get("status") == "failed" or share <= retry["mark"] or retry["left"] < cost:
            break  # failures are not retried; nor is a clean run, nor one we have no time for
    best["attempts_others_cpu_share"] = shares
    return best


def run(
    quick: bool = False, log: Callable[[str], None] = print, threads: int | None = None
) -> dict:
    """Run the linear suite; returns the results (the JSON document).

    ``threads`` caps the BLAS threads of every measurement (None: the libraries' default, one per
    core).
    """
    cfg = QUICK if quick else FULL
    wall = time.perf_counter()
    head = _header(quick, threads)
    gate = harness.QuietGate(cfg["quiet_wait"], cfg["quiet_total"], threads)
    retry = {"left": cfg["retry_total"], "mark": head["busy_mark"]}
    rows = _comparison(cfg, gate, retry, threads, log)
    sweep = _thread_sweep(cfg["thread_sweep"], gate, retry, log)

    big_cfg, stream_cfg = cfg["big"], cfg["stream"]
    log(f"linear: mmlib GCCA at n={big_cfg['n']:,} in memory")
    big = _measure(
        {"kind": "big", "seed": 101, "threads": threads, **big_cfg}, gate, retry, timeout=600
    )
    big["config"] = big_cfg
    log(f"linear: mmlib GCCA.partial_fit over n={stream_cfg['n']:,} (chunks generated on the fly)")
    stream = _measure(
        {"kind": "stream", "seed": 102, "threads": threads, **stream_cfg}, gate, retry, timeout=600
    )
    stream["config"] = stream_cfg

    head["wall_seconds"] = time.perf_counter() - wall
    head["mmlib_source_sha256_at_end"] = harness.source_hash(ROOT / "mmlib")
    doc = {"header": head, "k": K, "rho": list(RHO), "rows": rows, "big": big, "stream": stream}
    doc["thread_sweep"] = sweep
    doc["goals"] = goals(doc)
    return doc


def _header(quick: bool, threads: int | None) -> dict:
    """The machine, the versions, the source hash and the thread settings of this run."""
    import threadpoolctl

    head = harness.header(PACKAGES)
    head["quick"] = quick
    head["mmlib_source_sha256"] = harness.source_hash(ROOT / "mmlib")
    head["threads"] = threads
    head["blas_threads"] = [
        {"api": p["internal_api"], "threads": threads or p["num_threads"]}
        for p in threadpoolctl.threadpool_info()
    ]
    head["busy_mark"] = harness.busy_mark(threads)
    return head


def _comparison(cfg: dict, gate, retry: dict, threads, log: Callable[[str], None]) -> list[dict]:
    """Every implementation at every size and width: one row each (measured, failed or skipped)."""
    rows = []
    previous: dict[tuple, tuple[int, float]] = {}  # (impl, widths) -> (n, seconds or estimate)
    seed = 0
    for widths in cfg["widths"]:
        for n in cfg["sizes"]:
            seed += 1
            log(f"linear: n={n:,} widths={'/'.join(map(str, widths))}")
            ref = call_worker(
                {"kind": "reference", "n": n, "widths": widths, "seed": seed, "threads": threads}
            )
            case = {"n": n, "widths": widths, "seed": seed, "repeats": cfg["repeats"][n]}
            for name in IMPLEMENTATIONS:
                row = _comparison_row(name, case, ref, previous, gate, retry, threads)
                rows.append(row)
                log(_row_line(row, retry["mark"]))
    return rows


def _comparison_row(name, case, ref, previous, gate, retry, threads) -> dict:
    """One implementation at one size: skipped when its extrapolated time is too long."""
    impl, n, widths = IMPLEMENTATIONS[name], case["n"], case["widths"]
    case_widths = list(widths[:2] if impl["problem"] == "cca" else widths)
    row = {"impl": name, "problem": impl["problem"], "n": n, "widths": case_widths}
    row["note"] = impl["note"]
    key = (name, tuple(widths))
    estimate = None
    if key in previous:
        n_prev, s_prev = previous[key]
        estimate = s_prev * n / n_prev
    if estimate is not None and estimate > SKIP_SECONDS:
        row.update(status="skipped", estimate=estimate)
        row["reason"] = f"skipped (est. > {SKIP_SECONDS:.0f} s: ~{estimate:.0f} s)"
        previous[key] = (n, estimate)
        return row
    spec = {"kind": "fit", "impl": name, **case, "threads": threads}
    res = _measure(spec, gate, retry)
    row.update(res)
    if res.get("status") == "ok":
        previous[key] = (n, res["seconds"])
        ref_values = ref.get(impl["problem"]) if ref.get("status") != "failed" else None
        if ref_values is not None:
            row["reference"] = ref_values
            row["error_from_scores"] = _max_error(res["from_scores"], ref_values)
            row["error_reported"] = _max_error(res["reported"], ref_values)
    return row


def _row_line(row: dict, mark: float) -> str:
    """The progress line of one row."""
    name = row["impl"]
    if row.get("status") == "skipped":
        return f"  {name:<18} {row['reason']}"
    if row.get("status") != "ok":
        return f"  {name:<18} failed: {short_text(row.get('reason'), 100)}"
    dagger = " †" if (row.get("others_cpu_share") or 0.0) > mark else ""
    return (
        f"  {name:<18} {harness.fmt_seconds(row['seconds']):>9}{dagger}  "
        f"peak {harness.fmt_bytes(row['memory']['peak']):>10}  "
        f"err {harness.fmt_error(row.get('error_from_scores'))}"
    )


def _thread_sweep(cfg: dict, gate, retry: dict, log: Callable[[str], None]) -> list[dict]:
    """mmlib's and scikit-learn's CCA at each BLAS thread count in ``cfg["threads"]``.

    The two spend their time differently (a few large matrix products against many
    matrix-vector iterations), so their speed ratio depends on the thread count.
    """
    rows = []
    for threads in cfg["threads"]:
        for widths in cfg["widths"]:
            log(
                f"linear: CCA at {threads} BLAS thread(s), n={cfg['n']:,} widths={widths_text(widths)}"
            )
            for name in ("mmlib CCA", "scikit-learn CCA"):
                spec = {
                    "kind": "fit",
                    "impl": name,
                    "n": cfg["n"],
                    "widths": list(widths) + [widths[-1]],  # the worker makes three views
                    "seed": 201,
                    "repeats": cfg["repeats"],
                    "threads": threads,
                }
                res = _measure(spec, gate, retry)
                row = {"impl": name, "threads": threads, "n": cfg["n"], "widths": list(widths)}
                rows.append({**row, **res})
                if res.get("status") == "ok":
                    log(f"  {name:<18} {harness.fmt_seconds(res['seconds']):>9}")
                else:
                    log(f"  {name:<18} failed: {short_text(res.get('reason'), 100)}")
    return rows
