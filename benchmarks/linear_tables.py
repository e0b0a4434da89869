"""The linear suite's report: each goal checked, and the markdown tables of ``linear.md``."""

from __future__ import annotations

from benchmarks import harness
from benchmarks.linear_peers import ERROR_GOAL, SKIP_SECONDS, K


def _find(rows, impl, n, widths=None):
    for r in rows:
        if r["impl"] == impl and r["n"] == n and (widths is None or r["widths"] == list(widths)):
            return r
    return None


def goals(doc: dict) -> list[dict]:
    """Each goal of the issue as ``{"goal", "measured", "met"}`` (met: True, False or None)."""
    rows = doc["rows"]
    ok = [r for r in rows if r.get("status") == "ok"]
    big = doc.get("big", {})
    out = [_exactness_goal(ok, big)]
    out += _cca_speed_goals(rows, ok)
    out += _gcca_speed_goals(ok)
    out += _fastest_exact_goals(ok)
    out += _scale_goals(big)
    return out


def _exactness_goal(ok: list[dict], big: dict) -> dict:
    """mmlib's largest error against the QR reference, over every size and the 1e6 fit."""
    mm = [r for r in ok if r["impl"] in ("mmlib CCA", "mmlib GCCA")]
    errs = [
        e
        for r in mm
        for e in (r.get("error_from_scores"), r.get("error_reported"))
        if e is not None
    ]
    for key in ("error_reported", "error_from_scores", "error_partial_fit"):
        if big.get(key) is not None:
            errs.append(big[key])
    worst = max(errs) if errs else None
    return {
        "goal": f"mmlib errors <= {ERROR_GOAL:.0e} (CCA and GCCA, every size)",
        "measured": f"max error {harness.fmt_error(worst)} over {len(errs)} checks",
        "met": None if worst is None else bool(worst <= ERROR_GOAL),
        "met_on_min": None,
    }


def _cca_speed_goals(rows: list[dict], ok: list[dict]) -> list[dict]:
    """mmlib CCA against cca-zoo's and scikit-learn's at the smallest n."""
    out = []
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
            f"{widths_text(r['widths'])}: {x:.1f}x"
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
    return out


def _gcca_speed_goals(ok: list[dict]) -> list[dict]:
    """mmlib GCCA against cca-zoo's GCCA at every size where both ran."""
    out = []
    pairs = [(r, _find(ok, "cca-zoo GCCA", r["n"], r["widths"])) for r in ok]
    pairs = [(r, p) for r, p in pairs if r["impl"] == "mmlib GCCA" and p is not None]
    ratio = {stat: [r[stat] / p[stat] for r, p in pairs] for stat in ("seconds", "min_seconds")}
    measured = "; ".join(
        f"n={r['n']:,} {widths_text(r['widths'])}: {x:.2f}"
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
    return out


def _fastest_exact_goals(ok: list[dict]) -> list[dict]:
    """mmlib against every peer that is exact too (error <= the goal), same size and widths."""
    out = []
    for base, problem in (("mmlib CCA", "cca"), ("mmlib GCCA", "gcca")):
        ratios: dict[str, list[float]] = {"seconds": [], "min_seconds": []}
        closest = None  # (ratio, label): the exact peer nearest to mmlib's time
        for r in (x for x in ok if x["impl"] == base):
            for p in ok:
                exact = (p.get("error_from_scores") or float("inf")) <= ERROR_GOAL
                same = p["n"] == r["n"] and p["widths"] == r["widths"]
                if p["problem"] != problem or p["impl"] == base or not (exact and same):
                    continue
                for stat, values in ratios.items():
                    values.append(p[stat] / r[stat])
                label = f"{p['impl']} at n={r['n']:,} {widths_text(r['widths'])}"
                if closest is None or p["seconds"] / r["seconds"] < closest[0]:
                    closest = (p["seconds"] / r["seconds"], label)
        measured = f"closest: {closest[1]}, {closest[0]:.2f}x mmlib's time" if closest else None
        out.append(
            {
                "goal": f"{base} the fastest exact solver (error <= {ERROR_GOAL:.0e}), every size",
                "measured": measured or "not measured",
                "met": all(x > 1.0 for x in ratios["seconds"]) if closest else None,
                "met_on_min": all(x > 1.0 for x in ratios["min_seconds"]) if closest else None,
            }
        )
    return out


def _scale_goals(big: dict) -> list[dict]:
    """mmlib GCCA at n = 1e6: time, memory and the ratio to one Gram pass."""
    out = []
    if big.get("seconds") is not None:
        cfg = big["config"]
        t, t_min = big["seconds"], big["min_seconds"]
        floor, floor_min = big["floor_seconds"], big["floor_min_seconds"]
        peak = big["memory"]["peak"]
        label = f"n = {cfg['n']:,}, views {widths_text(cfg['widths'])}"
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


def short_text(text: str, width: int = 90) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def widths_text(w) -> str:
    return "/".join(map(str, w))


def _met(m, none: str = "not measured") -> str:
    return {True: "met", False: "**not met**", None: none}[m]


def markdown(doc: dict) -> str:
    head = doc["header"]
    busy = head.get("busy_mark", 0.1)
    k, rho = doc["k"], doc["rho"]
    lines = [
        *harness.report_opening("Linear CCA and GCCA: mmlib against its peers", head),
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
    lines += _problem_tables(doc["rows"], busy)
    lines += _footnotes(doc["rows"], busy)
    if doc.get("thread_sweep"):
        lines += _thread_sweep_markdown(doc["thread_sweep"], busy)
    lines += _scale_markdown(doc["big"])
    lines += _stream_markdown(doc["stream"])
    return "\n".join(lines)


def _problem_tables(rows: list[dict], busy: float) -> list[str]:
    """The CCA table and the GCCA table: one line per implementation and size."""
    lines = []
    for problem, title in (("cca", "CCA (two views)"), ("gcca", "GCCA / MCCA (three views)")):
        base = "mmlib CCA" if problem == "cca" else "mmlib GCCA"
        table = []
        for r in rows:
            if r["problem"] != problem:
                continue
            if r.get("status") == "ok":
                mm = _find(rows, base, r["n"], r["widths"])
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
                        widths_text(r["widths"]),
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
                    reason = f"failed: {short_text(reason)}"
                table.append(
                    [f"{r['n']:,}", widths_text(r["widths"]), r["impl"], reason, "", "", "", ""]
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
    return lines


def _footnotes(rows: list[dict], busy: float) -> list[str]:
    """The dagger's meaning, failures in full, each implementation's method, warnings."""
    lines = [
        f"† Other processes used more than {busy:.0%} of the machine's CPUs during this "
        "measurement (`others_cpu_share` in the JSON), more than this run left free: its time is "
        "likely inflated.",
        "",
    ]
    failures = sorted({(r["impl"], r["reason"]) for r in rows if r.get("status") == "failed"})
    if failures:
        lines += ["Failures, in full:", ""]
        lines += [f"- {a}: {b}" for a, b in failures]
        lines += [""]
    notes = sorted({(r["impl"], r["note"]) for r in rows})
    lines += ["Methods: " + "; ".join(f"{a}: {b}" for a, b in notes) + ".", ""]
    warned = sorted({(r["impl"], w) for r in rows for w in r.get("memory", {}).get("warnings", [])})
    if warned:
        lines += ["Warnings raised during the fits:", ""]
        lines += [f"- {a}: {w}" for a, w in warned]
        lines += [""]
    return lines


def _scale_markdown(big: dict) -> list[str]:
    """mmlib GCCA at n = 1e6 in memory: time, memory, the Gram floor, where the time goes."""
    lines = ["## mmlib GCCA at scale", ""]
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
    return lines


def _stream_markdown(stream: dict) -> list[str]:
    """mmlib GCCA.partial_fit over rows generated chunk by chunk."""
    lines = []
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
    return lines


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
            table.append([widths_text(r["widths"]), str(r["threads"]), "failed", "", ""])
            continue
        ratio = peer["seconds"] / r["seconds"]
        ratios.setdefault(widths_text(r["widths"]), []).append((r["threads"], ratio))
        marks = [" †" if (x.get("others_cpu_share") or 0.0) > busy else "" for x in (r, peer)]
        table.append(
            [
                widths_text(r["widths"]),
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
    times = {(r["impl"], widths_text(r["widths"]), r["threads"]): r.get("seconds") for r in sweep}
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
