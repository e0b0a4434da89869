"""Deep CCA on the noisy-digits pair: mmlib.DCCA against cca-zoo's DCCA.

Both train the same networks (mmlib's MLP: the same widths and activation, and the same initial
weights, drawn from the same torch seed), on the same training split, for the same number of
epochs, batch size, learning rate (Adam) and number of components ``k``, on the CPU in float32.
Each keeps its own objective and its own defaults otherwise: mmlib minimises minus the sum of
the top-k canonical correlations with a dimensionless ridge of 1e-3; cca-zoo minimises minus the
squared Frobenius norm of the whitened cross-covariance with ``reg_covar=1e-6``, and trains through
a Lightning ``Trainer`` with a ``DataLoader`` (its documented usage).

The score is the held-out total correlation, ``mmlib.metrics.total_correlation`` of the two
networks' outputs on the test split (the sum of their ``k`` canonical correlations); the time is
seconds per epoch (median over the epochs) and the whole fit.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import harness

PACKAGES = ["mmlib", "torch", "numpy", "scikit-learn", "cca-zoo", "lightning"]

FULL = {
    "k": 10,
    "hidden": (256, 256),
    "activation": "relu",
    "epochs": 40,
    "batch_size": 128,
    "lr": 1e-3,
    "seeds": (0, 1, 2),
    "image_size": 16,
    "test_size": 0.25,
    "quiet_wait": 30.0,
    "quiet_total": 120.0,
}
QUICK = {**FULL, "epochs": 2, "seeds": (0,), "quiet_wait": 0.0, "quiet_total": 0.0}


def _data(cfg: dict):
    from mmlib.datasets import make_noisy_digits

    ds = make_noisy_digits(image_size=cfg["image_size"], random_state=0)
    return ds.train_test_split(test_size=cfg["test_size"], random_state=0)


def mmlib_dcca_model(cfg: dict, seed: int):
    """mmlib's DCCA as configured by ``cfg`` (unfitted), on the CPU, without a progress bar.

    The study (benchmarks/dcca_study.py) sets "objective" and "reg"; the benchmark keeps the
    defaults, so that it measures what a user gets.
    """
    from mmlib.models import DCCA

    options = {key: cfg[key] for key in ("objective", "reg") if key in cfg}
    names = {"n_components": "k", "hidden": "hidden", "activation": "activation"}
    names.update(epochs="epochs", batch_size="batch_size", lr="lr")
    settings = {arg: cfg[key] for arg, key in names.items()}
    return DCCA(**settings, device="cpu", random_state=seed, progress=False, **options)


def _mmlib_dcca(cfg: dict, seed: int, train, test) -> dict:
    from mmlib.metrics import total_correlation

    start = time.perf_counter()
    model = mmlib_dcca_model(cfg, seed).fit(train.views)
    fit_seconds = time.perf_counter() - start
    z1, z2 = model.transform_views(test.views)
    return {
        "test_total_correlation": total_correlation(z1, z2, n_components=cfg["k"]),
        "epoch_times": list(model.history_.epoch_time),
        "fit_seconds": fit_seconds,
    }


def _cczoo_dcca(cfg: dict, seed: int, train, test) -> dict:
    import logging

    import lightning.pytorch as pl
    import torch
    from cca_zoo.deep import DCCA, MultiviewDataset
    from torch.utils.data import DataLoader

    from mmlib.metrics import total_correlation
    from mmlib.nets import make_encoders

    class EpochTimer(pl.Callback):
        def __init__(self):
            self.times: list[float] = []
            self._start = 0.0

        def on_train_epoch_start(self, trainer, pl_module):
            self._start = time.perf_counter()

        def on_train_epoch_end(self, trainer, pl_module):
            self.times.append(time.perf_counter() - self._start)

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # no banners on stdout
    start = time.perf_counter()
    torch.manual_seed(seed)  # mmlib.DCCA seeds torch and builds these same encoders
    encoders = make_encoders(
        [v.shape[1] for v in train.views], cfg["k"], cfg["hidden"], cfg["activation"]
    )
    model = DCCA(n_components=cfg["k"], encoders=list(encoders), learning_rate=cfg["lr"])
    loader = DataLoader(
        MultiviewDataset(train.views),
        batch_size=cfg["batch_size"],
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    timer = EpochTimer()
    trainer = pl.Trainer(
        max_epochs=cfg["epochs"],
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[timer],
    )
    trainer.fit(model, loader)
    fit_seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        z1, z2 = model([torch.as_tensor(v, dtype=torch.float32) for v in test.views])
    return {
        "test_total_correlation": total_correlation(
            z1.double().numpy(), z2.double().numpy(), n_components=cfg["k"]
        ),
        "epoch_times": timer.times,
        "fit_seconds": fit_seconds,
    }


def _same_initial_weights(cfg: dict, train) -> bool:
    """Check that the cca-zoo encoders start from exactly mmlib.DCCA's initial weights."""
    import torch

    from mmlib.models import DCCAModule
    from mmlib.nets import make_encoders

    dims = [v.shape[1] for v in train.views]
    torch.manual_seed(0)
    module = DCCAModule(dims, cfg["k"], hidden=cfg["hidden"], activation=cfg["activation"])
    torch.manual_seed(0)
    encoders = make_encoders(dims, cfg["k"], cfg["hidden"], cfg["activation"])
    a = [p.detach() for p in (*module.f1.parameters(), *module.f2.parameters())]
    b = [p.detach() for p in encoders.parameters()]
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _mmlib_dcca_sum(cfg: dict, seed: int, train, test) -> dict:
    """mmlib's DCCA with the other objective, minus the sum of the correlations."""
    return _mmlib_dcca({**cfg, "objective": "sum"}, seed, train, test)


#: "mmlib DCCA" is the estimator with its defaults (objective="squared" since the study in
#: benchmarks/dcca_study.py); the "sum" row shows the other objective side by side.
IMPLEMENTATIONS: dict[str, Callable] = {
    "mmlib DCCA": _mmlib_dcca,
    "mmlib DCCA, objective='sum'": _mmlib_dcca_sum,
    "cca-zoo DCCA": _cczoo_dcca,
}


def _warm_up(cfg: dict, train, test, log: Callable[[str], None]) -> None:
    """One short fit of each (1 epoch, 256 samples): imports and torch's first-call set-up stay
    out of the measurements, whichever library runs first."""
    import warnings

    small = train.subset(np.arange(min(256, train.n_samples)))
    for name, fn in IMPLEMENTATIONS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn({**cfg, "epochs": 1}, 0, small, test)
        except Exception as err:  # the measured runs will fail the same way and say why
            log(f"dcca: warm-up of {name} failed: {type(err).__name__}")


def run(
    quick: bool = False, log: Callable[[str], None] = print, threads: int | None = None
) -> dict:
    """Run the Deep CCA suite; ``threads`` caps torch's and BLAS's threads (None: defaults)."""
    import threadpoolctl
    import torch

    if threads:
        torch.set_num_threads(threads)
        with threadpoolctl.threadpool_limits(threads):
            return _run(quick, log, threads)
    return _run(quick, log, threads)


def _run(quick: bool, log: Callable[[str], None], threads: int | None) -> dict:
    import logging
    import warnings

    import torch

    cfg = QUICK if quick else FULL
    wall = time.perf_counter()
    head = harness.header(PACKAGES)
    head["quick"] = quick
    head["torch_threads"] = torch.get_num_threads()
    head["threads"] = threads
    root = Path(__file__).resolve().parent.parent
    head["mmlib_source_sha256"] = harness.source_hash(root / "mmlib")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    train, test = _data(cfg)
    data = {
        "name": "noisy digits (mmlib.datasets.make_noisy_digits)",
        "n_train": train.n_samples,
        "n_test": test.n_samples,
        "features": train.n_features,
    }
    try:
        same_init = _same_initial_weights(cfg, train)
    except Exception as err:
        same_init = f"not checked: {type(err).__name__}: {err}"
    gate = harness.QuietGate(cfg["quiet_wait"], cfg["quiet_total"], threads)
    _warm_up(cfg, train, test, log)
    results = {}
    all_runs: dict[str, list] = {name: [] for name in IMPLEMENTATIONS}
    # interleaved, seed by seed: a busy machine slows every implementation alike
    for seed in cfg["seeds"]:
        for name, fn in IMPLEMENTATIONS.items():
            runs = all_runs[name]
            busy = gate.wait()
            try:
                with warnings.catch_warnings(), harness.OthersMonitor() as others:
                    warnings.simplefilter("ignore")
                    res = fn(cfg, seed, train, test)
                res["seed"] = seed
                res["status"] = "ok"
                res["busy_before"] = busy
                res["others_cpu_share"] = others.share
                log(
                    f"dcca: {name:<13} seed {seed}: test total correlation "
                    f"{res['test_total_correlation']:.3f}, "
                    f"{statistics.median(res['epoch_times']):.3f} s/epoch"
                )
            except Exception as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                res = {"seed": seed, "status": "failed", "reason": f"{type(err).__name__}: {first}"}
                log(f"dcca: {name} seed {seed}: failed: {res['reason']}")
            runs.append(res)
    for name, runs in all_runs.items():
        ok = [r for r in runs if r["status"] == "ok"]
        summary = {"runs": runs}
        if ok:
            tc = [r["test_total_correlation"] for r in ok]
            summary.update(
                status="ok",
                test_total_correlation_mean=float(np.mean(tc)),
                test_total_correlation_std=float(np.std(tc)),
                seconds_per_epoch=float(statistics.median(t for r in ok for t in r["epoch_times"])),
                fit_seconds_mean=float(np.mean([r["fit_seconds"] for r in ok])),
            )
        else:
            summary.update(status="failed", reason=runs[0].get("reason"))
        results[name] = summary
    head["wall_seconds"] = time.perf_counter() - wall
    head["mmlib_source_sha256_at_end"] = harness.source_hash(root / "mmlib")
    doc = {
        "header": head,
        "config": {**cfg, "hidden": list(cfg["hidden"]), "seeds": list(cfg["seeds"])},
        "others_cpu_share_max": max(
            (r.get("others_cpu_share") or 0.0 for v in results.values() for r in v["runs"]),
            default=None,
        ),
        "data": data,
        "same_initial_weights": same_init,
        "results": results,
    }
    doc["goals"] = goals(doc)
    return doc


def goals(doc: dict) -> list[dict]:
    mm, cz = doc["results"]["mmlib DCCA"], doc["results"]["cca-zoo DCCA"]
    out = []
    if mm["status"] == "ok" and cz["status"] == "ok":
        a, b = mm["test_total_correlation_mean"], cz["test_total_correlation_mean"]
        out.append(
            {
                "goal": "mmlib held-out total correlation >= cca-zoo's (mean over seeds)",
                "measured": f"{a:.3f} vs {b:.3f} ({a - b:+.3f})",
                "met": bool(a >= b),
            }
        )
        a, b = mm["seconds_per_epoch"], cz["seconds_per_epoch"]
        out.append(
            {
                "goal": "mmlib seconds per epoch <= cca-zoo's",
                "measured": f"{a:.3f} s vs {b:.3f} s "
                + (f"({b / a:.1f}x faster)" if a <= b else f"({a / b:.1f}x slower)"),
                "met": bool(a <= b),
            }
        )
    else:
        failed = [n for n, r in doc["results"].items() if r["status"] != "ok"]
        for name in failed:
            out.append(
                {
                    "goal": f"{name} runs",
                    "measured": f"failed: {doc['results'][name].get('reason')}",
                    "met": False,
                }
            )
    return out


def markdown(doc: dict) -> str:
    cfg, data, head = doc["config"], doc["data"], doc["header"]
    met = {True: "met", False: "**not met**", None: "not measured"}
    rows = []
    zoo = doc["results"].get("cca-zoo DCCA", {})
    zoo_spe = zoo.get("seconds_per_epoch") if zoo.get("status") == "ok" else None
    for name, r in doc["results"].items():
        if r["status"] == "ok":
            rows.append(
                [
                    name,
                    f"{r['test_total_correlation_mean']:.3f} ± {r['test_total_correlation_std']:.3f}",
                    f"{r['seconds_per_epoch']:.3f}",
                    f"{r['seconds_per_epoch'] / zoo_spe:.2f}" if zoo_spe else "—",
                    f"{r['fit_seconds_mean']:.1f}",
                    ", ".join(
                        f"{x['test_total_correlation']:.3f}"
                        for x in r["runs"]
                        if x["status"] == "ok"
                    ),
                ]
            )
        else:
            rows.append([name, f"failed: {r.get('reason')}", "—", "—", "—", "—"])
    lines = [
        *harness.report_opening("Deep CCA: mmlib against cca-zoo", head),
        f"- torch threads: {head.get('torch_threads')}; device: CPU",
        "",
        "## Goals",
        "",
        harness.markdown_table(
            ["goal", "measured", "status"],
            [[g["goal"], g["measured"], met[g["met"]]] for g in doc["goals"]],
        ),
        "",
        "## Results",
        "",
        harness.markdown_table(
            [
                "implementation",
                f"held-out total correlation (k = {cfg['k']}, mean ± sd)",
                "s / epoch (median)",
                "s / epoch ÷ cca-zoo's",
                "fit time, s (mean)",
                "per seed",
            ],
            rows,
        ),
        "",
        "## Set-up",
        "",
        f"- Data: {data['name']}, {data['features'][0]} + {data['features'][1]} pixels; "
        f"stratified split: {data['n_train']} training / {data['n_test']} test pairs.",
        f"- Networks: MLP {data['features'][0]} → {' → '.join(map(str, cfg['hidden']))} → "
        f"{cfg['k']} per view, {cfg['activation']}, float32; cca-zoo gets `mmlib.nets.MLP` "
        f"encoders built from the same torch seed (same initial weights: "
        f"{doc['same_initial_weights']}).",
        f"- Training: Adam, lr {cfg['lr']}, batch size {cfg['batch_size']}, {cfg['epochs']} "
        f"epochs, seeds {', '.join(map(str, cfg['seeds']))}; k = {cfg['k']} components.",
        "- Objectives: mmlib DCCA with its defaults (objective='squared': minus the sum of the "
        "squared canonical correlations, ridge reg=1e-3 in mmlib's dimensionless convention), "
        "and with objective='sum' (minus the sum of the correlations); cca-zoo: minus the "
        "squared Frobenius norm of Σ11^-1/2 Σ12 Σ22^-1/2 (the same quantity as 'squared' with "
        "k = o), reg_covar 1e-6, trained by a Lightning Trainer over a DataLoader. "
        "benchmarks/dcca_study.py holds the experiments behind the defaults.",
        "- The implementations run interleaved, seed by seed, in one process, so that a busy "
        "machine slows them alike: compare the times as ratios (the ÷ column).",
        "- Score: `mmlib.metrics.total_correlation` of the two networks' test outputs "
        f"(sum of their {cfg['k']} canonical correlations, at most {cfg['k']}).",
        "- Time per epoch: mmlib's `history_.epoch_time`; cca-zoo: a Lightning callback from "
        "train-epoch start to end. Fit time includes set-up (Lightning's Trainer for cca-zoo).",
        "",
    ]
    return "\n".join(lines)
