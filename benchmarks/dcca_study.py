"""Why did mmlib's Deep CCA lose to cca-zoo's? The experiments behind DCCA's defaults.

The DCCA benchmark (``benchmarks/deep.py``: noisy digits, MLPs 256-256-256-k with the same
initial weights, Adam lr 1e-3, 40 epochs, batch 128, k = 10) is run with mmlib's estimator in
several settings and cca-zoo's ``DCCA``, **interleaved seed by seed in one process**, so that a
busy machine slows every variant alike and the times can be compared as ratios:

- the objective: ``"sum"`` (minus the sum of the k correlations, the trace norm) against
  ``"squared"`` (minus the sum of their squares, cca-zoo's loss);
- the ridge: mmlib's dimensionless ``reg`` 1e-3 (the old default) against 1e-6 (cca-zoo adds an
  absolute 1e-6 to covariances of outputs of variance ~1, about the same thing);
- the batch size relative to the output dimension (128 and 256 rows for o = 10);
- the final CCA: ``DCCA.score`` (directions from the training outputs, applied to the test
  outputs) next to the benchmark's score, the total correlation of the test outputs, which
  refits CCA on them and so does not depend on the final CCA.

Run: ``.venv-bench/bin/python benchmarks/dcca_study.py [--seeds 0 1 2] [--threads 1]
[--epochs 40] [--out benchmarks/results/dcca_study.md]``. Prints and writes a markdown table:
held-out total correlation (mean ± sd over seeds), ``DCCA.score``, median seconds per epoch and
its ratio to cca-zoo's in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import deep, harness  # noqa: E402

VARIANTS = {
    "mmlib sum, reg 1e-3": {"objective": "sum", "reg": 1e-3},
    "mmlib squared, reg 1e-3": {"objective": "squared", "reg": 1e-3},
    "mmlib sum, reg 1e-6": {"objective": "sum", "reg": 1e-6},
    "mmlib squared, reg 1e-6": {"objective": "squared", "reg": 1e-6},
    "mmlib sum, reg 1e-3, batch 256": {"objective": "sum", "reg": 1e-3, "batch_size": 256},
    "mmlib squared, reg 1e-3, batch 256": {
        "objective": "squared",
        "reg": 1e-3,
        "batch_size": 256,
    },
    "cca-zoo": None,
}


def _mmlib_with_score(cfg, seed, train, test):
    """deep._mmlib_dcca, plus DCCA.score (the final CCA from the training outputs)."""
    from mmlib.metrics import total_correlation

    model = deep.mmlib_dcca_model(cfg, seed).fit(train.views)
    z1, z2 = model.transform_views(test.views)
    return {
        "test_total_correlation": total_correlation(z1, z2, n_components=cfg["k"]),
        "score": model.score(test.views),
        "epoch_times": list(model.history_.epoch_time),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=deep.FULL["epochs"])
    parser.add_argument("--only", nargs="+", default=None, help="variant names to run")
    parser.add_argument("--out", default=None, help="markdown file to write")
    args = parser.parse_args(argv)
    import threadpoolctl
    import torch

    torch.set_num_threads(args.threads)
    threadpoolctl.threadpool_limits(args.threads)
    cfg = {**deep.FULL, "epochs": args.epochs}
    train, test = deep._data(cfg)
    variants = {k: v for k, v in VARIANTS.items() if args.only is None or k in args.only}
    deep._warm_up(cfg, train, test, print)
    runs = {name: [] for name in variants}
    for seed in args.seeds:
        for name, opts in variants.items():  # interleaved: each seed runs every variant
            start = time.perf_counter()
            with warnings.catch_warnings(), harness.OthersMonitor() as others:
                warnings.simplefilter("ignore")
                if opts is None:
                    res = deep._cczoo_dcca(cfg, seed, train, test)
                else:
                    res = _mmlib_with_score({**cfg, **opts}, seed, train, test)
            res["others_cpu_share"] = others.share
            runs[name].append(res)
            print(
                f"seed {seed} {name:<36} tc {res['test_total_correlation']:.3f} "
                f"{statistics.median(res['epoch_times']):.3f} s/epoch "
                f"({time.perf_counter() - start:.0f} s, others {others.share:.2f})",
                flush=True,
            )
    zoo = (
        statistics.median(t for r in runs.get("cca-zoo", []) for t in r["epoch_times"])
        if "cca-zoo" in runs
        else None
    )
    rows = []
    for name, rs in runs.items():
        tc = [r["test_total_correlation"] for r in rs]
        spe = statistics.median(t for r in rs for t in r["epoch_times"])
        score = [r["score"] for r in rs if "score" in r]
        rows.append(
            [
                name,
                f"{np.mean(tc):.3f} ± {np.std(tc):.3f}",
                f"{np.mean(score):.3f} ± {np.std(score):.3f}" if score else "—",
                f"{spe:.3f}",
                f"{spe / zoo:.2f}" if zoo else "—",
                ", ".join(f"{x:.3f}" for x in tc),
            ]
        )
    table = harness.markdown_table(
        [
            "variant",
            "held-out total correlation (mean ± sd)",
            "DCCA.score (final CCA from training outputs)",
            "s / epoch (median)",
            "s / epoch ÷ cca-zoo's",
            "per seed",
        ],
        rows,
    )
    head = harness.header(deep.PACKAGES)
    text = "\n".join(
        [
            "# Deep CCA: what makes the difference (benchmarks/dcca_study.py)",
            "",
            harness.header_markdown(head),
            f"- torch threads: {args.threads}; seeds {args.seeds}; {args.epochs} epochs; the "
            "variants ran interleaved seed by seed in one process (times comparable as ratios; "
            "the machine was shared with other jobs)",
            "",
            table,
            "",
        ]
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return runs


if __name__ == "__main__":
    main()
