"""What every benchmark shares: timing, peak memory, the machine and versions, tables, files.

Time
    Wall-clock seconds of the call (``time.perf_counter``); the median of ``repeats`` runs, each
    after a ``gc.collect()``.
Peak memory
    Measured in one extra, untimed run of the same call, two ways:

    * ``peak_traced``: the peak of the memory traced by :mod:`tracemalloc` during the call. NumPy
      (and Python) report their buffers to tracemalloc, so this is the peak of the arrays the
      call allocates on top of what was already there (inputs excluded). Memory that BLAS/LAPACK
      or torch allocate themselves is not seen.
    * ``peak_rss``: growth of the process's resident set: the kernel's high-water mark
      (``VmHWM``, reset through ``/proc/self/clear_refs`` just before the call) minus the
      resident set at that moment. It sees every allocation, but can under-count when the call
      reuses memory that the allocator kept from earlier work.

    The reported figure (``peak``) is the larger of the two.
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib.metadata
import json
import os
import platform
import re
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MIB = 2**20
GIB = 2**30


# ------------------------------------------------------------------------------------------------
# time and memory
# ------------------------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+)\s+kB", text, flags=re.MULTILINE)
    return int(match.group(1)) if match else None


def _reset_rss_peak() -> int | None:
    """Reset the kernel's resident-set high-water mark; return the current resident set (bytes)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    rss = _status_kib("VmRSS")
    return None if rss is None else rss * 1024


def _rss_peak() -> int | None:
    hwm = _status_kib("VmHWM")
    return None if hwm is None else hwm * 1024


def measure_memory(fn: Callable[[], Any]) -> tuple[Any, dict]:
    """Run ``fn()`` once under tracemalloc and the RSS high-water mark.

    Returns ``fn``'s result and ``{"seconds", "peak_traced", "peak_rss", "peak", "warnings"}``
    (bytes; ``peak_rss`` is None where /proc is not available).
    """
    gc.collect()
    rss0 = _reset_rss_peak()
    tracemalloc.start()
    tracemalloc.reset_peak()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = _rss_peak()
    peak_rss = None if rss0 is None or hwm is None else max(hwm - rss0, 0)
    names = sorted(
        {f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}" for w in caught}
    )
    return out, {
        "seconds": seconds,
        "peak_traced": int(peak_traced),
        "peak_rss": peak_rss,
        "peak": int(max(peak_traced, peak_rss or 0)),
        "warnings": names,
    }


def measure_time(
    fn: Callable[[], Any], repeats: int, min_total: float = 0.0, max_repeats: int | None = None
) -> list[float]:
    """Wall-clock seconds of calls of ``fn()`` (warnings silenced).

    At least ``repeats`` calls, and more (up to ``max_repeats``) until they add up to
    ``min_total`` seconds: short calls are repeated many times, so that the median and the
    minimum are not at the mercy of one disturbed call.
    """
    most = max(repeats, max_repeats or repeats)
    times: list[float] = []
    while len(times) < repeats or (sum(times) < min_total and len(times) < most):
        gc.collect()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def repeats_for(first_seconds: float, most: int, budget: float = 30.0) -> int:
    """How many timed repeats: ``most``, fewer when one call is long (about ``budget`` s in all)."""
    if first_seconds <= 0:
        return most
    return max(1, min(most, int(budget // first_seconds)))


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_ticks() -> tuple[int, int] | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return sum(ticks), idle


def busy_fraction(seconds: float = 1.0) -> float | None:
    """Fraction of the machine's CPU time used by other processes over ``seconds``.

    Sampled from /proc/stat while this process sleeps, so it measures everything else that runs
    on the machine (None where /proc is not available).
    """
    a = _cpu_ticks()
    time.sleep(seconds)
    b = _cpu_ticks()
    if a is None or b is None or b[0] == a[0]:
        return None
    return round(1.0 - (b[1] - a[1]) / (b[0] - a[0]), 3)


def wait_for_quiet(max_wait: float = 60.0, threshold: float = 0.15) -> float | None:
    """Wait (at most ``max_wait`` s) until other processes use less than ``threshold`` of the CPUs.

    The benchmarks share the machine with whatever else runs on it, and multithreaded BLAS slows
    down by an order of magnitude when another process holds one of its cores; waiting for an
    idle moment keeps such noise out of the timings. Returns the last busy fraction seen (it is
    recorded next to each measurement).
    """
    if max_wait <= 0:
        return busy_fraction(0.2)
    deadline = time.monotonic() + max_wait
    busy = busy_fraction()
    while busy is not None and busy >= threshold and time.monotonic() < deadline:
        busy = busy_fraction()
    return busy


def spare_share(threads: int | None) -> float:
    """Share of the CPUs that a run with ``threads`` threads leaves to other processes."""
    cores = os.cpu_count() or 1
    return 0.0 if not threads else max(0.0, 1.0 - threads / cores)


def busy_mark(threads: int | None) -> float:
    """Share of the CPUs used by others above which a measurement counts as disturbed: 10%
    beyond what the run leaves free (0.1 with one thread per core; 0.6 with 1 thread of 2)."""
    return round(0.1 + spare_share(threads), 3)


class QuietGate:
    """:func:`wait_for_quiet` with a total budget, so a machine that never quiets down cannot
    stretch a run without bound. Waits until others leave the cores this run needs."""

    def __init__(self, per_call: float, total: float, threads: int | None = None):
        self.per_call = per_call
        self.left = total
        self.threshold = 0.15 + spare_share(threads)

    def wait(self, max_wait: float | None = None) -> float | None:
        start = time.monotonic()
        limit = self.per_call if max_wait is None else max_wait
        busy = wait_for_quiet(max_wait=min(limit, max(self.left, 0.0)), threshold=self.threshold)
        self.left -= time.monotonic() - start
        return busy


class OthersMonitor:
    """Share of the CPUs that *other* processes used while a child process was measured.

    ``with OthersMonitor() as m: subprocess.run(...)``; then ``m.share`` is the CPU time of the
    whole machine (from /proc/stat) minus that of this process and its children, divided by
    wall time x cores. A measurement with a large share was slowed by something else.
    """

    def __enter__(self):
        self.share = None
        self._ticks = _cpu_ticks()
        self._own = self._own_cpu()
        self._start = time.perf_counter()
        return self

    @staticmethod
    def _own_cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def __exit__(self, *exc):
        wall = time.perf_counter() - self._start
        ticks = _cpu_ticks()
        if self._ticks is None or ticks is None or wall <= 0:
            return False
        hz = os.sysconf("SC_CLK_TCK")
        busy = ((ticks[0] - ticks[1]) - (self._ticks[0] - self._ticks[1])) / hz
        own = self._own_cpu() - self._own
        cores = os.cpu_count() or 1
        self.share = round(min(max((busy - own) / (wall * cores), 0.0), 1.0), 3)
        return False


# ------------------------------------------------------------------------------------------------
# machine and versions
# ------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_ram_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, flags=re.MULTILINE)
    return None if match is None else round(int(match.group(1)) * 1024 / GIB, 1)


def machine() -> dict:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": cores,
        "ram_gib": total_ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def versions(packages: Sequence[str]) -> dict[str, str]:
    """Installed version of each distribution (``"not installed"`` when absent)."""
    out = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def source_hash(package_dir: Path) -> str:
    """Short SHA-256 of a package's ``*.py`` files, subpackages included: which code was measured."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(package_dir).rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def header(versions_of: Sequence[str]) -> dict:
    """Date, machine and library versions, for the top of every results file."""
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(versions_of),
        "load_average_at_start": load_average(),
    }


def header_markdown(head: dict) -> str:
    m = head["machine"]
    ram = f"{m['ram_gib']} GiB RAM" if m.get("ram_gib") else "RAM unknown"
    vers = ", ".join(f"{k} {v}" for k, v in head["versions"].items())
    lines = [
        f"- Date: {head['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {ram}; {m['os']}, Python {m['python']}",
        f"- Versions: {vers}",
    ]
    if head.get("load_average_at_start") is not None:
        lines.append(
            "- Load average (1, 5, 15 min) at the start: "
            + ", ".join(f"{x:.2f}" for x in head["load_average_at_start"])
        )
    blas = head.get("blas_threads")
    if "threads" in head:
        t = head["threads"]
        lines.append(
            "- Threads: "
            + (
                f"{t} (BLAS/OpenMP/torch capped with --threads {t})"
                if t
                else "library defaults (one per core)"
            )
            + (f"; BLAS: {', '.join(b['api'] for b in blas)}" if blas else "")
        )
    if head.get("wall_seconds") is not None:
        lines.append(f"- Whole suite: {head['wall_seconds']:.0f} s wall clock")
    if head.get("mmlib_source_sha256"):
        start, end = head["mmlib_source_sha256"], head.get("mmlib_source_sha256_at_end")
        line = f"- mmlib source (SHA-256 of mmlib/*.py): {start}"
        if end not in (None, start):
            line += f" at the start, {end} at the end: **mmlib changed during the run**"
            note = head.get("mmlib_change_note")
            line += f" ({note})" if note else ", rerun before trusting these tables"
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# formatting and files
# ------------------------------------------------------------------------------------------------


def report_opening(title: str, head: dict, writer: str = "benchmarks/run.py") -> list[str]:
    """A results file's first lines: its title, who wrote it, and the header's machine lines."""
    quick = " (quick smoke test)." if head.get("quick") else "."
    return [f"# {title}", "", f"Written by `{writer}`" + quick, "", header_markdown(head)]


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return "—"
    if b >= GIB:
        return f"{b / GIB:.2f} GiB"
    return f"{b / MIB:.1f} MiB"


def fmt_error(e: float | None) -> str:
    return "—" if e is None else f"{e:.1e}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|")

    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(directory: Path, stem: str, data: dict, markdown: str) -> tuple[Path, Path]:
    """Write ``stem.json`` and ``stem.md`` into ``directory`` (through a temporary file each)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = (directory / f"{stem}.json", directory / f"{stem}.md")
    for path, text in zip(
        paths, (json.dumps(data, indent=2, allow_nan=False) + "\n", markdown), strict=True
    ):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return paths
