"""The linear suite's measurements, each in a fresh Python process.

``python -m benchmarks.linear_workers SPEC_JSON OUT_JSON`` runs one worker (a fit of one
implementation at one size, the reference, mmlib at scale, or the stream) and writes its result;
:func:`call_worker` starts that process from the suite, so a peer that crashes, hangs or leaks
cannot disturb the others and every peak-memory figure starts from a clean process.
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
from benchmarks.linear_peers import IMPLEMENTATIONS, K, values_from_scores
from benchmarks.synthetic import ViewMaker

MIN_TOTAL, MAX_REPEATS = 2.0, 50  # short fits are repeated until they add up to 2 s (<= 50)
WORKER_TIMEOUT = 300
ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


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
            "update", "mmlib/_moments"
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


def _run_captured(cmd: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    """Run ``cmd`` from the repository root; its output captured, its exit code returned."""
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def call_worker(spec: dict, timeout: float = WORKER_TIMEOUT) -> dict:
    """Run one worker in a fresh process; a crash or timeout becomes ``{"status": "failed"}``.

    ``spec["threads"]``, when set, caps the BLAS/OpenMP threads of the worker.
    """
    env = dict(os.environ)
    if spec.get("threads"):
        for var in THREAD_VARS:
            env[var] = str(spec["threads"])
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "out.json"
        cmd = [sys.executable, "-m", "benchmarks.linear_workers", json.dumps(spec), str(out_path)]
        try:
            with harness.OthersMonitor() as others:
                proc = _run_captured(cmd, env, timeout)
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


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
