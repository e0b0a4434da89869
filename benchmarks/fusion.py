"""Tensor Fusion vs Low-rank Multimodal Fusion: parameters and throughput as the width grows.

Usage (from the repository root)::

    python benchmarks/fusion.py               # the full sizes (a few minutes on 2 cores)
    python benchmarks/fusion.py --quick       # small sizes only, a smoke test (results/quick/)
    python benchmarks/fusion.py --threads 1   # one torch thread: stable times on a shared machine

Writes ``benchmarks/results/fusion.md`` and ``fusion.json``. For each size it builds a
:class:`mmlib.nets.TensorFusion` and a :class:`mmlib.nets.LowRankFusion` of the same modality
widths and output width and measures, on random inputs:

- **training throughput**: samples per second of ``zero_grad -> forward -> MSE -> backward ->
  Adam step`` on batches of ``batch`` samples;
- **inference throughput**: samples per second of the forward pass without gradient.

Each figure is the best of ``repeats`` timed blocks of at least ``min_time`` seconds, after one
untimed warm-up block. Liu et al. (2018) report that LMF trains about 3x faster than TFN on their model;
the "paper-like" row uses three modalities of widths (32, 32, 128), the order of the sizes of
their multimodal sentiment model (our choice of the exact numbers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks import harness  # noqa: E402
from mmlib.nets import LowRankFusion, TensorFusion  # noqa: E402

FULL = {
    "equal_widths": [8, 16, 32, 48, 64],
    "n_modalities": 3,
    "out_dim": 64,
    "rank": 4,
    "batch": 128,
    "paper_like": [32, 32, 128],
    "min_time": 0.5,
    "repeats": 5,
}
QUICK = {**FULL, "equal_widths": [4, 8, 16], "paper_like": [8, 8, 16], "min_time": 0.05}


def throughput(model, dims, batch: int, min_time: float, repeats: int, train: bool) -> float:
    """Samples per second: the best of ``repeats`` blocks of at least ``min_time`` seconds.

    The best block, not the median: on a shared machine other processes only ever slow a block
    down, so the fastest one is the least disturbed.
    """
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(batch, d, generator=g) for d in dims]
    target = torch.randn(batch, model.out_dim, generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def block() -> float:
        start, steps = time.perf_counter(), 0
        while steps == 0 or time.perf_counter() - start < min_time:
            steps += 1
            if train:
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.mse_loss(model(xs), target).backward()
                opt.step()
            else:
                with torch.no_grad():
                    model(xs)
        return steps * batch / (time.perf_counter() - start)

    block()  # warm-up: allocations, Adam's state
    return max(block() for _ in range(repeats))


def measure(dims, cfg: dict) -> dict:
    torch.manual_seed(0)
    row = {"dims": list(dims)}
    for name, model in (
        ("tfn", TensorFusion(dims, cfg["out_dim"])),
        ("lmf", LowRankFusion(dims, cfg["out_dim"], rank=cfg["rank"])),
    ):
        row[f"{name}_params"] = sum(p.numel() for p in model.parameters())
        for mode in ("train", "infer"):
            row[f"{name}_{mode}"] = throughput(
                model, dims, cfg["batch"], cfg["min_time"], cfg["repeats"], mode == "train"
            )
    row["train_ratio"] = row["lmf_train"] / row["tfn_train"]
    row["infer_ratio"] = row["lmf_infer"] / row["tfn_infer"]
    return row


def markdown(doc: dict) -> str:
    cfg = doc["config"]
    rows = [
        [
            " × ".join(str(d) for d in r["dims"])
            + (" (paper-like)" if r.get("paper_like") else ""),
            f"{r['tfn_params']:,}",
            f"{r['lmf_params']:,}",
            f"{r['tfn_train']:,.0f}",
            f"{r['lmf_train']:,.0f}",
            f"{r['train_ratio']:.1f}x",
            f"{r['tfn_infer']:,.0f}",
            f"{r['lmf_infer']:,.0f}",
            f"{r['infer_ratio']:.1f}x",
        ]
        for r in doc["rows"]
    ]
    return (
        "\n\n".join(
            [
                "# Tensor Fusion vs Low-rank Multimodal Fusion: parameters and throughput",
                "Written by `benchmarks/fusion.py`.",
                harness.header_markdown(doc["header"]),
                f"Set-up: {cfg['n_modalities']} modalities, output width {cfg['out_dim']}, "
                f"LMF rank {cfg['rank']}, batches of {cfg['batch']} random samples, "
                f"best of {cfg['repeats']} blocks of at least {cfg['min_time']} s after a warm-up; "
                "training = forward, MSE, backward, Adam step; inference = forward without gradient. "
                "Throughput in samples per second (higher is better); ratio = LMF / TFN.",
                harness.markdown_table(
                    [
                        "modality widths",
                        "TFN params",
                        "LMF params",
                        "TFN train/s",
                        "LMF train/s",
                        "train ratio",
                        "TFN infer/s",
                        "LMF infer/s",
                        "infer ratio",
                    ],
                    rows,
                ),
                "Liu et al. (2018) report about 3x faster training for LMF than for TFN on their "
                "whole model (modality sub-networks included); the ratio here is for the "
                "fusion layer alone, on this machine's CPU.",
            ]
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke test)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cfg = QUICK if args.quick else FULL
    out = args.out or ROOT / "benchmarks" / "results" / ("quick" if args.quick else "")
    head = harness.header(["torch", "numpy"])
    head["threads"] = args.threads
    start = time.perf_counter()
    rows = []
    for d in cfg["equal_widths"]:
        rows.append(measure([d] * cfg["n_modalities"], cfg))
        print(f"widths {d}: train ratio {rows[-1]['train_ratio']:.2f}", flush=True)
    paper = measure(cfg["paper_like"], cfg)
    paper["paper_like"] = True
    rows.append(paper)
    print(f"paper-like {cfg['paper_like']}: train ratio {paper['train_ratio']:.2f}", flush=True)
    head["wall_seconds"] = time.perf_counter() - start
    doc = {"header": head, "config": cfg, "rows": rows}
    for path in harness.write_results(out, "fusion", doc, markdown(doc)):
        print("wrote", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
