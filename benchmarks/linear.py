"""Linear CCA and GCCA: mmlib against scikit-learn, cca-zoo and mvlearn.

Each measurement runs in a fresh Python process (``python -m benchmarks.linear JSON OUT``), so a
peer that crashes, hangs or leaks cannot disturb the others and every peak-memory figure starts
from a clean process. The parent (:func:`run`) decides what to run, skips a peer whose time,
extrapolated linearly in ``n`` from the previous size, would exceed 60 s, computes the errors
against the QR reference and writes ``linear.json`` / ``linear.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import harness
from benchmarks.synthetic import RHO, ViewMaker

K = len(RHO)  # components compared: the k correlated directions of the synthetic data
SKIP_SECONDS = 60.0
ERROR_GOAL = 1e-12
MIN_TOTAL, MAX_REPEATS = 2.0, 50  # short fits are repeated until they add up to 2 s (<= 50)
WORKER_TIMEOUT = 300
ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

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

PACKAGES = ["mmlib", "numpy", "scipy", "scikit-learn", "cca-zoo", "mvlearn"]


# ------------------------------------------------------------------------------------------------
# the implementations: fit, per-view scores, and what they report themselves
# ------------------------------------------------------------------------------------------------


def _mmlib_cca(views, k):
    from mmlib.linear import CCA

    return CCA(n_components=k).fit(views[:2])


def _sklearn_cca(views, k):
    from sklearn.cross_decomposition import CCA

    return CCA(n_components=k).fit(views[0], views[1])  # defaults: max_iter=500, tol=1e-06


def _cczoo_cca(views, k):
    from cca_zoo.linear import CCA

    return CCA(n_components=k).fit(views[:2])


def _mvlearn_compat() -> None:
    """Let mvlearn 0.5.0 run under scikit-learn >= 1.6, without touching its arithmetic.

    scikit-learn 1.6 reads estimator tags through ``__sklearn_tags__``, which needs
    ``BaseEstimator`` to the right of the mixins in the class bases. mvlearn's ``BaseCCA`` lists
    ``(BaseEstimator, TransformerMixin)`` and its ``SimpleSplitter`` has no ``BaseEstimator`` at all,
    so every ``check_is_fitted`` fails with "'super' object has no attribute '__sklearn_tags__'".
    Reordering the bases (the only change) fixes the tags; no method of mvlearn is replaced.
    """
    from mvlearn.compose import split
    from mvlearn.embed import base
    from sklearn.base import BaseEstimator, TransformerMixin

    base.BaseCCA.__bases__ = (TransformerMixin, BaseEstimator)
    split.SimpleSplitter.__bases__ = (TransformerMixin, BaseEstimator)


def _mvlearn_cca(views, k):
    _mvlearn_compat()
    from mvlearn.embed import CCA

    return CCA(n_components=k).fit(views[:2])


def _mmlib_gcca(views, k):
    from mmlib.linear import GCCA

    return GCCA(n_components=k).fit(views)


def _cczoo_gcca(views, k):
    from cca_zoo.linear import GCCA

    return GCCA(n_components=k).fit(views)


def _cczoo_mcca(views, k):
    from cca_zoo.linear import MCCA

    return MCCA(n_components=k).fit(views)


def _mvlearn_mcca(views, k):
    _mvlearn_compat()
    from mvlearn.embed import MCCA

    return MCCA(n_components=k).fit(views)


def _mvlearn_gcca(views, k):
    _mvlearn_compat()
    from mvlearn.embed import GCCA

    # sv_tolerance keeps every direction of every view (full rank): the same problem as the
    # others; the default picks a per-view rank by an elbow rule (a different problem).
    return GCCA(sv_tolerance=1e-8).fit(views)


def _scores_list(est, views):
    return est.transform(views)


IMPLEMENTATIONS: dict[str, dict] = {
    # problem "cca": uses views[:2]; values = canonical correlations
    "mmlib CCA": {
        "problem": "cca",
        "fit": _mmlib_cca,
        "scores": lambda est, v: est.transform(v[:2]),
        "reported": lambda est: est.canonical_correlations_,
        "note": "whitening + SVD of the covariances",
    },
    "scikit-learn CCA": {
        "problem": "cca",
        "fit": _sklearn_cca,
        "scores": lambda est, v: list(est.transform(v[0], v[1])),
        "reported": None,
        "note": "iterative (NIPALS), defaults max_iter=500, tol=1e-06",
    },
    "cca-zoo CCA": {
        "problem": "cca",
        "fit": _cczoo_cca,
        "scores": lambda est, v: est.transform(v[:2]),
        "reported": None,
        "note": "whitening (SVD of each view) + SVD",
    },
    "mvlearn CCA": {
        "problem": "cca",
        "fit": _mvlearn_cca,
        "scores": lambda est, v: est.transform(v[:2]),
        "reported": None,
        "note": "generalized eigenproblem; scikit-learn >= 1.6 shim",
    },
    # problem "gcca": all views; values = MAXVAR eigenvalues of sum_j P_j
    "mmlib GCCA": {
        "problem": "gcca",
        "fit": _mmlib_gcca,
        "scores": lambda est, v: est.transform_views(v),
        "reported": lambda est: est.eigenvalues_,
        "note": "eigh of the D x D whitened covariance",
    },
    "cca-zoo GCCA": {
        "problem": "gcca",
        "fit": _cczoo_gcca,
        "scores": _scores_list,
        "reported": None,
        "note": "SVD of the n x D stacked whitened views",
    },
    "cca-zoo MCCA": {
        "problem": "gcca",
        "fit": _cczoo_mcca,
        "scores": _scores_list,
        "reported": None,
        "note": "PCA of each view + generalized eigenproblem",
    },
    "mvlearn MCCA": {
        "problem": "gcca",
        "fit": _mvlearn_mcca,
        "scores": _scores_list,
        "reported": lambda est: est.evals_,
        "note": "generalized eigenproblem; scikit-learn >= 1.6 shim",
    },
    "mvlearn GCCA": {
        "problem": "gcca",
        "fit": _mvlearn_gcca,
        "scores": None,  # per-view scores are normalised view by view: no eigenvalue in them
        "reported": None,
        "note": "SVD of each view + svds of the stacked bases; sv_tolerance=1e-8; scikit-learn >= 1.6 shim",
    },
}


def values_from_scores(problem: str, scores: list[np.ndarray], k: int) -> np.ndarray:
    """Canonical correlations (CCA) or MAXVAR eigenvalues (GCCA) implied by training scores.

    CCA: the correlation of each pair of variates. GCCA: an exact MAXVAR solution has view
    scores ``z_j = c P_j g`` (``g`` a unit eigenvector of ``M = sum_j P_j``, the same ``c`` for
    every view), so ``sum_j z_j = c M g = c lambda g`` and ``sum_j |z_j|^2 = c^2 lambda``: the
    eigenvalue is ``|sum_j z_j|^2 / sum_j |z_j|^2``, whatever the implementation's scaling.
    """
    Z = [np.asarray(z, dtype=np.float64)[:, :k] for z in scores]
    Z = [z - z.mean(axis=0) for z in Z]
    if problem == "cca":
        a, b = Z
        return np.abs((a * b).sum(0) / np.sqrt((a * a).sum(0) * (b * b).sum(0)))
    total = sum(Z)
    return (total * total).sum(0) / sum((z * z).sum(0) for z in Z)


# ------------------------------------------------------------------------------------------------
# workers (each in its own process)
# ------------------------------------------------------------------------------------------------


def _worker_reference(spec: dict) -> dict:
    from benchmarks import reference

    views = ViewMaker(spec["widths"], seed=spec["seed"]).views(spec["n"])
    start = time.perf_counter()
    rho = reference.cca_correlations(views[0], views[1])[:K]
    t_cca = time.perf_counter() - start
    start = time.perf_counter()
    lam = reference.gcca_eigenvalues(views)[:K]
    t_gcca = time.perf_counter() - start
    return {"cca": rho.tolist(), "gcca": lam.tolist(), "seconds": [t_cca, t_gcca]}


def _warm_up(fit: Callable, spec: dict) -> None:
    """One small fit first: imports and BLAS start-up stay out of the measurements."""
    small = ViewMaker(spec["widths"], seed=spec["seed"]).views(
        max(500, 4 * sum(spec["widths"])), 99
    )
    try:
        fit(small)
    except Exception:  # the measured fit will fail the same way and say why
        pass


def _worker_fit(spec: dict) -> dict:
    impl = IMPLEMENTATIONS[spec["impl"]]
    views = ViewMaker(spec["widths"], seed=spec["seed"]).views(spec["n"])

    def fit():
        return impl["fit"](views, K)

    _warm_up(lambda v: impl["fit"](v, K), spec)
    est, mem = harness.measure_memory(fit)
    repeats = harness.repeats_for(mem["seconds"], spec["repeats"])
    times = harness.measure_time(fit, repeats, min_total=MIN_TOTAL, max_repeats=MAX_REPEATS)
    out = {
        "status": "ok",
        "times": times,
        "seconds": harness.median(times),
        "min_seconds": min(times),
        "memory": mem,
    }
    out["from_scores"] = (
        None
        if impl["scores"] is None
        else values_from_scores(impl["problem"], impl["scores"](est, views), K).tolist()
    )
    out["reported"] = (
        None if impl["reported"] is None else np.asarray(impl["reported"](est))[:K].tolist()
    )
    return out


def _breakdown(views: list[np.ndarray], k: int) -> dict:
    """Seconds of the parts of one ``GCCA.fit`` on in-memory views, from a profile of it.

    Read from :mod:`cProfile` (a handful of calls, so its overhead is negligible), so that the
    breakdown follows whatever ``mmlib.linear`` does: validation, the moment accumulation
    (centring and the Gram product, ``_MomentAccumulator.update``), the small ``D x D`` solve,
    and the rest of ``fit`` (computing ``G``).
    """
    import cProfile
    import pstats

    from mmlib.linear import GCCA

    profile = cProfile.Profile()
    profile.enable()
    GCCA(n_components=k).fit(views)
    profile.disable()
    stats = pstats.Stats(profile).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, ...)

    def cumulative(name: str, file_part: str = "mmlib") -> float:
        return sum(
            v[3]
            for (f, _, fn), v in stats.items()
            if fn == name and file_part in f.replace("\\", "/")
        )

    total = cumulative("fit", "mmlib/linear")
    inner = cumulative("_fit", "mmlib/linear")
    steps = {
        "validate (check_views: finite check)": cumulative("check_views"),
        "moments (_MomentAccumulator.update: centring + Gram)": cumulative(
            "update", "mmlib/linear"
        ),
        "solve (D x D eigenproblem, _solve)": cumulative("_solve", "mmlib/linear"),
        "G (the rest of fit: sum_j (X_j - mu_j) @ U_j)": max(total - inner, 0.0),
    }
    steps["everything else in _fit"] = max(inner - sum(list(steps.values())[:3]), 0.0)
    steps["total (profiled fit)"] = total
    return steps


def _worker_big(spec: dict) -> dict:
    """mmlib GCCA on n rows in memory: time, memory, the Gram floor, a breakdown, exactness."""
    from benchmarks import reference
    from mmlib.linear import GCCA

    maker = ViewMaker(spec["widths"], seed=spec["seed"])
    start = time.perf_counter()
    views = maker.views(spec["n"])
    out = {"generate_seconds": time.perf_counter() - start}
    out["data_bytes"] = int(sum(v.nbytes for v in views))

    # the floor: one pass that forms the Gram matrix of the concatenated, centred data
    centred = np.hstack(views)
    centred -= centred.mean(axis=0)

    def gram():
        return centred.T @ centred

    floor_times = harness.measure_time(gram, spec["repeats"])
    out["floor_times"] = floor_times
    out["floor_seconds"] = harness.median(floor_times)
    out["floor_min_seconds"] = min(floor_times)
    centred = None

    def fit():
        return GCCA(n_components=K).fit(views)

    _warm_up(lambda v: GCCA(n_components=K).fit(v), spec)
    est, mem = harness.measure_memory(fit)
    out["memory"] = mem
    out["times"] = harness.measure_time(fit, harness.repeats_for(mem["seconds"], spec["repeats"]))
    out["seconds"] = harness.median(out["times"])
    out["min_seconds"] = min(out["times"])
    reported = est.eigenvalues_[:K].copy()
    scores = values_from_scores("gcca", est.transform_views(views), K)
    del est
    out["breakdown"] = _breakdown(views, K)

    # the same rows through partial_fit, in blocks: exactness of the streaming path, and what
    # fit would cost if it accumulated the statistics block by block
    n, chunks = spec["n"], spec["chunks"]
    bounds = np.linspace(0, n, chunks + 1).astype(int)

    def blocked():
        g = GCCA(n_components=K)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            g.partial_fit([v[a:b] for v in views])
        return g

    g, mem_blocked = harness.measure_memory(blocked)  # one run: its time is reported too
    out["blocked"] = {"chunks": chunks, "memory": mem_blocked, "seconds": mem_blocked["seconds"]}
    blocked_values = g.eigenvalues_[:K].copy()

    start = time.perf_counter()
    lam_ref = reference.gcca_eigenvalues(views)[:K]
    out["reference_seconds"] = time.perf_counter() - start
    out["reference"] = lam_ref.tolist()
    out["error_reported"] = float(np.max(np.abs(reported - lam_ref)))
    out["error_from_scores"] = float(np.max(np.abs(scores - lam_ref)))
    out["error_partial_fit"] = float(np.max(np.abs(blocked_values - lam_ref)))
    out["population"] = maker.population_eigenvalues(len(views)).tolist()
    return out


def _worker_stream(spec: dict) -> dict:
    """mmlib GCCA.partial_fit over n rows generated chunk by chunk (never all in memory)."""
    import tracemalloc

    from mmlib.linear import GCCA

    maker = ViewMaker(spec["widths"], seed=spec["seed"])
    g = GCCA(n_components=K)
    fit_seconds = 0.0
    rss0 = harness._reset_rss_peak()
    tracemalloc.start()
    start = time.perf_counter()
    for chunk in maker.chunks(spec["n"], spec["chunk"]):
        t0 = time.perf_counter()
        g.partial_fit(chunk)
        fit_seconds += time.perf_counter() - t0
    total = time.perf_counter() - start
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = harness._rss_peak()
    peak_rss = None if rss0 is None or hwm is None else max(hwm - rss0, 0)
    population = maker.population_eigenvalues(len(spec["widths"]))
    chunk_bytes = spec["chunk"] * sum(spec["widths"]) * 8
    return {
        "n_samples_seen": int(g.n_samples_seen_),
        "partial_fit_seconds": fit_seconds,
        "total_seconds": total,
        "generate_seconds": total - fit_seconds,
        "memory": {
            "peak_traced": int(peak_traced),
            "peak_rss": peak_rss,
            "peak": int(max(peak_traced, peak_rss or 0)),
        },
        "chunk_bytes": chunk_bytes,
        "eigenvalues": g.eigenvalues_[:K].tolist(),
        "population": population.tolist(),
        "max_abs_deviation_from_population": float(np.max(np.abs(g.eigenvalues_[:K] - population))),
    }


WORKERS = {
    "reference": _worker_reference,
    "fit": _worker_fit,
    "big": _worker_big,
    "stream": _worker_stream,
}


def _call_worker(spec: dict, timeout: float = WORKER_TIMEOUT) -> dict:
    """Run one worker in a fresh process; a crash or timeout becomes ``{"status": "failed"}``.

    ``spec["threads"]``, when set, caps the BLAS/OpenMP threads of the worker.
    """
    env = dict(os.environ)
    if spec.get("threads"):
        for var in THREAD_VARS:
            env[var] = str(spec["threads"])
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "out.json"
        cmd = [sys.executable, "-m", "benchmarks.linear", json.dumps(spec), str(out_path)]
        try:
            with harness.OthersMonitor() as others:
                proc = subprocess.run(
                    cmd,
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
        except subprocess.TimeoutExpired:
            return {"status": "failed", "reason": f"timed out after {timeout:.0f} s"}
        if proc.returncode != 0 or not out_path.exists():
            lines = [s for s in proc.stderr.strip().splitlines() if s.strip()]
            last = lines[-1] if lines else f"exit code {proc.returncode}"
            return {"status": "failed", "reason": last[:300]}
        result = json.loads(out_path.read_text())
        result["others_cpu_share"] = others.share
        return result


def _worker_main(argv: list[str]) -> None:
    spec = json.loads(argv[0])
    try:
        result = WORKERS[spec["kind"]](spec)
    except Exception as err:  # a peer that fails: record why, do not stop the suite
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        result = {"status": "failed", "reason": f"{type(err).__name__}: {first}"[:300]}
    Path(argv[1]).write_text(json.dumps(result))


# ------------------------------------------------------------------------------------------------
# the suite
# ------------------------------------------------------------------------------------------------


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
        res = _call_worker(spec, timeout=timeout)
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
    head = harness.header(PACKAGES)
    head["quick"] = quick
    head["mmlib_source_sha256"] = harness.source_hash(ROOT / "mmlib")
    import threadpoolctl

    head["threads"] = threads
    head["blas_threads"] = [
        {"api": p["internal_api"], "threads": threads or p["num_threads"]}
        for p in threadpoolctl.threadpool_info()
    ]
    gate = harness.QuietGate(cfg["quiet_wait"], cfg["quiet_total"], threads)
    mark = harness.busy_mark(threads)
    head["busy_mark"] = mark
    retry = {"left": cfg["retry_total"], "mark": mark}
    rows = []
    previous: dict[tuple, tuple[int, float]] = {}  # (impl, widths) -> (n, seconds or estimate)
    seed = 0
    for widths in cfg["widths"]:
        for n in cfg["sizes"]:
            seed += 1
            log(f"linear: n={n:,} widths={'/'.join(map(str, widths))}")
            ref = _call_worker(
                {"kind": "reference", "n": n, "widths": widths, "seed": seed, "threads": threads}
            )
            for name, impl in IMPLEMENTATIONS.items():
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
                    rows.append(row)
                    log(f"  {name:<18} {row['reason']}")
                    continue
                spec = {
                    "kind": "fit",
                    "impl": name,
                    "n": n,
                    "widths": widths,
                    "seed": seed,
                    "repeats": cfg["repeats"][n],
                    "threads": threads,
                }
                res = _measure(spec, gate, retry)
                row.update(res)
                if res.get("status") == "ok":
                    previous[key] = (n, res["seconds"])
                    ref_values = ref.get(impl["problem"]) if ref.get("status") != "failed" else None
                    if ref_values is not None:
                        row["reference"] = ref_values
                        row["error_from_scores"] = _max_error(res["from_scores"], ref_values)
                        row["error_reported"] = _max_error(res["reported"], ref_values)
                    dagger = " †" if (res.get("others_cpu_share") or 0.0) > mark else ""
                    log(
                        f"  {name:<18} {harness.fmt_seconds(res['seconds']):>9}{dagger}  "
                        f"peak {harness.fmt_bytes(res['memory']['peak']):>10}  "
                        f"err {harness.fmt_error(row.get('error_from_scores'))}"
                    )
                else:
                    log(f"  {name:<18} failed: {_short(res.get('reason'), 100)}")
                rows.append(row)

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


def _thread_sweep(cfg: dict, gate, retry: dict, log: Callable[[str], None]) -> list[dict]:
    """mmlib's and scikit-learn's CCA at each BLAS thread count in ``cfg["threads"]``.

    The two spend their time differently (a few large matrix products against many
    matrix-vector iterations), so their speed ratio depends on the thread count.
    """
    rows = []
    for threads in cfg["threads"]:
        for widths in cfg["widths"]:
            log(f"linear: CCA at {threads} BLAS thread(s), n={cfg['n']:,} widths={_widths(widths)}")
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
                    log(f"  {name:<18} failed: {_short(res.get('reason'), 100)}")
    return rows


def _thread_sweep_markdown(sweep: list[dict], busy: float) -> list[str]:
    table, ratios = [], {}
    for r in sweep:
        if r["impl"] != "mmlib CCA":
            continue
        peer = next(
            (
                p
                for p in sweep
                if p["impl"] == "scikit-learn CCA"
                and p["threads"] == r["threads"]
                and p["widths"] == r["widths"]
            ),
            None,
        )
        if r.get("status") != "ok" or peer is None or peer.get("status") != "ok":
            table.append([_widths(r["widths"]), str(r["threads"]), "failed", "", ""])
            continue
        ratio = peer["seconds"] / r["seconds"]
        ratios.setdefault(_widths(r["widths"]), []).append((r["threads"], ratio))
        marks = [" †" if (x.get("others_cpu_share") or 0.0) > busy else "" for x in (r, peer)]
        table.append(
            [
                _widths(r["widths"]),
                str(r["threads"]),
                harness.fmt_seconds(r["seconds"]) + marks[0],
                harness.fmt_seconds(peer["seconds"]) + marks[1],
                f"{ratio:.1f}x",
            ]
        )
    n = sweep[0]["n"] if sweep and "n" in sweep[0] else None
    lines = [
        "## CCA against scikit-learn at 1 and 2 BLAS threads",
        "",
        f"n = {n:,} samples, k = {K}, median fit times; the ratio is scikit-learn's time over "
        "mmlib's."
        if n
        else "Median fit times; the ratio is scikit-learn's time over mmlib's.",
        "",
        harness.markdown_table(
            ["widths", "BLAS threads", "mmlib CCA", "scikit-learn CCA", "ratio"], table
        ),
        "",
    ]
    for widths, pairs in ratios.items():
        pairs = sorted(pairs)
        if len(pairs) >= 2:
            (t0, r0), (t1, r1) = pairs[0], pairs[-1]
            lines.append(
                f"- {widths}: the ratio is {r0:.1f}x at {t0} thread(s) and {r1:.1f}x at "
                f"{t1} ({r1 / r0:.2f} times the one-thread ratio)."
            )
    times = {(r["impl"], _widths(r["widths"]), r["threads"]): r.get("seconds") for r in sweep}
    counts = sorted({r["threads"] for r in sweep})
    if len(counts) >= 2:
        t0, t1 = counts[0], counts[-1]
        for impl in ("mmlib CCA", "scikit-learn CCA"):
            factors = [
                f"x{times[(impl, w, t1)] / times[(impl, w, t0)]:.2f} at {w}"
                for w in ratios
                if times.get((impl, w, t0)) and times.get((impl, w, t1))
            ]
            if factors:
                lines.append(
                    f"- {impl}: going from {t0} to {t1} threads changed its time by "
                    + ", ".join(factors)
                    + " (below 1: faster)."
                )
    lines += [
        "",
        "Why it moves: scikit-learn's NIPALS fit is a Python loop of small matrix-vector "
        "products and deflations for each component, which a second BLAS thread cannot split "
        "profitably (every call pays the threads' synchronisation); mmlib's fit is a few matrix "
        "products and one small SVD, where a second thread helps only once the matrices are "
        "large. A speed ratio is therefore only meaningful with the thread count beside it.",
        "",
    ]
    return lines


# ------------------------------------------------------------------------------------------------
# goals and the markdown report
# ------------------------------------------------------------------------------------------------


def _find(rows, impl, n, widths=None):
    for r in rows:
        if r["impl"] == impl and r["n"] == n and (widths is None or r["widths"] == list(widths)):
            return r
    return None


def goals(doc: dict) -> list[dict]:
    """Each goal of the issue as ``{"goal", "measured", "met"}`` (met: True, False or None)."""
    rows = doc["rows"]
    out = []
    ok = [r for r in rows if r.get("status") == "ok"]

    mm = [r for r in ok if r["impl"] in ("mmlib CCA", "mmlib GCCA")]
    errs = [
        e
        for r in mm
        for e in (r.get("error_from_scores"), r.get("error_reported"))
        if e is not None
    ]
    big = doc.get("big", {})
    for key in ("error_reported", "error_from_scores", "error_partial_fit"):
        if big.get(key) is not None:
            errs.append(big[key])
    worst = max(errs) if errs else None
    out.append(
        {
            "goal": f"mmlib errors <= {ERROR_GOAL:.0e} (CCA and GCCA, every size)",
            "measured": f"max error {harness.fmt_error(worst)} over {len(errs)} checks",
            "met": None if worst is None else bool(worst <= ERROR_GOAL),
            "met_on_min": None,
        }
    )

    n0 = min(r["n"] for r in rows) if rows else None
    for peer, factor, label in (
        ("cca-zoo CCA", 1.0, "mmlib CCA at least as fast as cca-zoo's"),
        ("scikit-learn CCA", 50.0, "mmlib CCA >= 50x faster than scikit-learn's"),
    ):
        pairs = [
            (r, _find(ok, peer, r["n"], r["widths"]))
            for r in ok
            if r["impl"] == "mmlib CCA" and r["n"] == n0
        ]
        pairs = [(r, p) for r, p in pairs if p is not None]
        ratio = {stat: [p[stat] / r[stat] for r, p in pairs] for stat in ("seconds", "min_seconds")}
        measured = "; ".join(
            f"{_widths(r['widths'])}: {x:.1f}x"
            for (r, _), x in zip(pairs, ratio["seconds"], strict=True)
        )
        out.append(
            {
                "goal": f"{label} at n = {n0:,}",
                "measured": f"time ratio {measured}" if pairs else "not measured",
                "met": all(x >= factor for x in ratio["seconds"]) if pairs else None,
                "met_on_min": all(x >= factor for x in ratio["min_seconds"]) if pairs else None,
            }
        )

    pairs = [(r, _find(ok, "cca-zoo GCCA", r["n"], r["widths"])) for r in ok]
    pairs = [(r, p) for r, p in pairs if r["impl"] == "mmlib GCCA" and p is not None]
    ratio = {stat: [r[stat] / p[stat] for r, p in pairs] for stat in ("seconds", "min_seconds")}
    measured = "; ".join(
        f"n={r['n']:,} {_widths(r['widths'])}: {x:.2f}"
        for (r, _), x in zip(pairs, ratio["seconds"], strict=True)
    )
    out.append(
        {
            "goal": "mmlib GCCA time <= 0.5x cca-zoo GCCA's (every size where both ran)",
            "measured": f"time ratio {measured}" if pairs else "not measured",
            "met": all(x <= 0.5 for x in ratio["seconds"]) if pairs else None,
            "met_on_min": all(x <= 0.5 for x in ratio["min_seconds"]) if pairs else None,
        }
    )

    if big.get("seconds") is not None:
        cfg = big["config"]
        t, t_min = big["seconds"], big["min_seconds"]
        floor, floor_min = big["floor_seconds"], big["floor_min_seconds"]
        peak = big["memory"]["peak"]
        label = f"n = {cfg['n']:,}, views {_widths(cfg['widths'])}"
        out.append(
            {
                "goal": f"mmlib GCCA fit <= 10 s ({label})",
                "measured": harness.fmt_seconds(t),
                "met": bool(t <= 10.0),
                "met_on_min": bool(t_min <= 10.0),
            }
        )
        out.append(
            {
                "goal": f"mmlib GCCA fit peak memory <= 4 GiB ({label})",
                "measured": (
                    f"{harness.fmt_bytes(peak)} (the data: {harness.fmt_bytes(big['data_bytes'])})"
                ),
                "met": bool(peak <= 4 * harness.GIB),
                "met_on_min": None,
            }
        )
        out.append(
            {
                "goal": f"mmlib GCCA fit <= 3x one Gram pass X.T @ X ({label})",
                "measured": (
                    f"{t / floor:.2f}x ({harness.fmt_seconds(t)} / {harness.fmt_seconds(floor)})"
                ),
                "met": bool(t <= 3.0 * floor),
                "met_on_min": bool(t_min <= 3.0 * floor_min),
            }
        )
    else:
        out.append(
            {
                "goal": "mmlib GCCA at n = 1e6 in memory",
                "measured": f"failed: {big.get('reason')}",
                "met": False,
                "met_on_min": None,
            }
        )
    return out


def _short(text: str, width: int = 90) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _widths(w) -> str:
    return "/".join(map(str, w))


def _met(m, none: str = "not measured") -> str:
    return {True: "met", False: "**not met**", None: none}[m]


def markdown(doc: dict) -> str:
    head = doc["header"]
    busy = head.get("busy_mark", 0.1)
    k, rho = doc["k"], doc["rho"]
    lines = [
        "# Linear CCA and GCCA: mmlib against its peers",
        "",
        "Written by `benchmarks/run.py`" + (" (quick smoke test)." if head.get("quick") else "."),
        "",
        harness.header_markdown(head),
        "",
        "## Goals",
        "",
        harness.markdown_table(
            ["goal", "measured (medians)", "status", "with minimum times"],
            [
                [g["goal"], g["measured"], _met(g["met"]), _met(g.get("met_on_min"), "—")]
                for g in doc["goals"]
            ],
        ),
        "",
        "Status uses the median times, as the goals are stated; the last column repeats the check "
        "with each measurement's fastest repeat, which other processes on the machine cannot slow "
        "down as easily (see the † below).",
        "",
        "## What is measured",
        "",
        f"- Data: seeded Gaussian views whose population canonical correlations are "
        f"{', '.join(f'{r:g}' for r in rho)} between any two views (GCCA eigenvalues "
        f"1 + 2 rho for three views), mixed by well-conditioned matrices (condition number <= 4) "
        "and shifted by nonzero means (`benchmarks/synthetic.py`). CCA uses the first two views.",
        f"- Every implementation fits k = {k} components, float64, default settings otherwise.",
        "- Time: wall clock of `fit`, the median and the minimum of the repeats (at least 7 at "
        "n = 2e3 down to 3 at n = 2e5, more for short fits until they add up to 2 s), each "
        "measurement in a fresh process after a warm-up fit.",
        "- Peak memory: the larger of the tracemalloc peak (NumPy/Python buffers) and the growth "
        "of the resident set (kernel high-water mark) during one extra `fit`, inputs excluded.",
        "- Error (variates): max over the k components of |value - reference|, where the value "
        "is computed from the implementation's own training scores (CCA: correlation of each pair "
        "of variates; GCCA: |sum_j z_j|^2 / sum_j |z_j|^2, the eigenvalue an exact MAXVAR "
        "solution implies whatever its scaling). Error (reported): the same for the values the "
        "implementation reports itself (mmlib `canonical_correlations_` / `eigenvalues_`).",
        "- Reference: float64 QR of each centred view; CCA: singular values of Qx^T Qy; GCCA: "
        "squared singular values of [Q1 Q2 Q3] (`benchmarks/reference.py`).",
        f"- A peer whose time, extrapolated linearly in n from the previous size, exceeds "
        f"{SKIP_SECONDS:.0f} s is skipped.",
        "",
    ]
    for problem, title in (("cca", "CCA (two views)"), ("gcca", "GCCA / MCCA (three views)")):
        base = "mmlib CCA" if problem == "cca" else "mmlib GCCA"
        table = []
        for r in doc["rows"]:
            if r["problem"] != problem:
                continue
            if r.get("status") == "ok":
                mm = _find(doc["rows"], base, r["n"], r["widths"])
                ratio = (
                    f"{r['seconds'] / mm['seconds']:.1f}"
                    if mm is not None and mm.get("status") == "ok"
                    else "—"
                )
                reps = len(r["times"])
                mark = " †" if (r.get("others_cpu_share") or 0.0) > busy else ""
                table.append(
                    [
                        f"{r['n']:,}",
                        _widths(r["widths"]),
                        r["impl"],
                        f"{harness.fmt_seconds(r['seconds'])} "
                        f"({harness.fmt_seconds(r['min_seconds'])}, {reps}){mark}",
                        ratio,
                        harness.fmt_bytes(r["memory"]["peak"]),
                        harness.fmt_error(r.get("error_from_scores"))
                        if r.get("from_scores") is not None
                        else "n/a",
                        harness.fmt_error(r.get("error_reported")),
                    ]
                )
            else:
                reason = r.get("reason", r.get("status"))
                if r.get("status") == "failed":
                    reason = f"failed: {_short(reason)}"
                table.append(
                    [f"{r['n']:,}", _widths(r["widths"]), r["impl"], reason, "", "", "", ""]
                )
        lines += [
            f"## {title}",
            "",
            harness.markdown_table(
                [
                    "n",
                    "widths",
                    "implementation",
                    "fit time: median (min, repeats)",
                    f"time / {base}",
                    "peak memory",
                    "error (variates)",
                    "error (reported)",
                ],
                table,
            ),
            "",
        ]
    lines += [
        f"† Other processes used more than {busy:.0%} of the machine's CPUs during this "
        "measurement (`others_cpu_share` in the JSON), more than this run left free: its time is "
        "likely inflated.",
        "",
    ]
    failures = sorted(
        {(r["impl"], r["reason"]) for r in doc["rows"] if r.get("status") == "failed"}
    )
    if failures:
        lines += ["Failures, in full:", ""]
        lines += [f"- {a}: {b}" for a, b in failures]
        lines += [""]
    notes = sorted({(r["impl"], r["note"]) for r in doc["rows"]})
    lines += ["Methods: " + "; ".join(f"{a}: {b}" for a, b in notes) + ".", ""]
    warned = sorted(
        {(r["impl"], w) for r in doc["rows"] for w in r.get("memory", {}).get("warnings", [])}
    )
    if warned:
        lines += ["Warnings raised during the fits:", ""]
        lines += [f"- {a}: {w}" for a, w in warned]
        lines += [""]

    if doc.get("thread_sweep"):
        lines += _thread_sweep_markdown(doc["thread_sweep"], busy)

    big = doc["big"]
    lines += ["## mmlib GCCA at scale", ""]
    if big.get("seconds") is not None:
        cfg = big["config"]
        lines += [
            f"In memory: n = {cfg['n']:,}, three views of {cfg['widths'][0]} features "
            f"({harness.fmt_bytes(big['data_bytes'])} of data).",
            "",
            harness.markdown_table(
                ["quantity", "value"],
                [
                    [
                        "GCCA.fit time (median)",
                        f"{harness.fmt_seconds(big['seconds'])} ({len(big['times'])})",
                    ],
                    [
                        "peak memory of fit (traced / RSS growth)",
                        f"{harness.fmt_bytes(big['memory']['peak_traced'])} / {harness.fmt_bytes(big['memory']['peak_rss'])}",
                    ],
                    ["GCCA.fit time (min)", harness.fmt_seconds(big["min_seconds"])],
                    [
                        "floor: X.T @ X of the concatenated centred data (median / min)",
                        f"{harness.fmt_seconds(big['floor_seconds'])} / "
                        f"{harness.fmt_seconds(big['floor_min_seconds'])}",
                    ],
                    ["fit / floor", f"{big['seconds'] / big['floor_seconds']:.2f}x"],
                    [
                        f"partial_fit over {big['blocked']['chunks']} row blocks of the same data: time",
                        harness.fmt_seconds(big["blocked"]["seconds"]),
                    ],
                    [
                        "partial_fit over row blocks: peak memory",
                        harness.fmt_bytes(big["blocked"]["memory"]["peak"]),
                    ],
                    ["error of eigenvalues_ (fit)", harness.fmt_error(big["error_reported"])],
                    ["error from the scores (fit)", harness.fmt_error(big["error_from_scores"])],
                    [
                        "error of eigenvalues_ (partial_fit in blocks)",
                        harness.fmt_error(big["error_partial_fit"]),
                    ],
                    ["QR reference time", harness.fmt_seconds(big["reference_seconds"])],
                ],
            ),
            "",
            "Where the time of one `fit` goes (from a cProfile of one fit, so the parts follow "
            "whatever `mmlib.linear` does):",
            "",
            harness.markdown_table(
                ["step", "seconds", "share of fit"],
                [
                    [name, f"{s:.3f}", f"{100 * s / big['breakdown']['total (profiled fit)']:.0f}%"]
                    for name, s in big["breakdown"].items()
                ],
            ),
            "",
        ]
    else:
        lines += [f"In memory: failed: {big.get('reason')}", ""]
    stream = doc["stream"]
    if stream.get("partial_fit_seconds") is not None:
        cfg = stream["config"]
        lines += [
            f"Streaming: n = {cfg['n']:,} rows, three views of {cfg['widths'][0]} features, "
            f"through `partial_fit` in chunks of {cfg['chunk']:,} rows "
            f"({harness.fmt_bytes(stream['chunk_bytes'])} each) generated on the fly.",
            "",
            harness.markdown_table(
                ["quantity", "value"],
                [
                    [
                        "time in partial_fit (sum over chunks)",
                        harness.fmt_seconds(stream["partial_fit_seconds"]),
                    ],
                    ["time generating the chunks", harness.fmt_seconds(stream["generate_seconds"])],
                    [
                        "peak memory of the loop (traced / RSS growth)",
                        f"{harness.fmt_bytes(stream['memory']['peak_traced'])} / {harness.fmt_bytes(stream['memory']['peak_rss'])}",
                    ],
                    ["samples seen", f"{stream['n_samples_seen']:,}"],
                    [
                        "max |eigenvalue - population value| (sampling error, not exactness)",
                        f"{stream['max_abs_deviation_from_population']:.1e}",
                    ],
                ],
            ),
            "",
        ]
    else:
        lines += [f"Streaming: failed: {stream.get('reason')}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
