"""Scaling curves: cost against size for estimation, hybrid sampling, DCR and CTGAN/TVAE epochs.

    python benchmarks/bench_scaling.py [--quick]

Each workload is timed at increasing sizes, next to its alternative or its floor in the same
run; the script writes benchmarks/results/scaling.json and a log-log plot
benchmarks/results/scaling.png.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, compare, timed, write  # noqa: E402

from causalsynth import estimate  # noqa: E402
from causalsynth.datasets import load_nhefs  # noqa: E402
from causalsynth.datasets.designs import LinearLogisticDesign  # noqa: E402
from causalsynth.nuisance import fit_nuisance  # noqa: E402
from causalsynth.privacy import nearest_distances  # noqa: E402
from causalsynth.synth.hybrid import HybridSynthesizer  # noqa: E402


def _causallib_four(data):
    from bench_estimate import causallib_four
    X = pd.DataFrame(data.design_matrix()[0])
    return causallib_four(X, pd.Series(data.a.astype(int)), pd.Series(data.y))


def estimation(sizes, peer_max):
    rows = []
    for n in sizes:
        data = LinearLogisticDesign(n_features=20, confounding=0.4).sample(n, random_state=1).data
        reps = 3 if n <= 100_000 else 1
        fns = {"ours": lambda: estimate(data, propensity_bounds=(0.0, 1.0), random_state=0),
               "floor": lambda: fit_nuisance(data, random_state=0)}
        if n <= peer_max:
            fns["peer"] = lambda: _causallib_four(data)
        secs, _ = compare(fns, reps, warmup=1 if n <= 100_000 else 0)
        t_ours, t_floor, t_peer = secs["ours"], secs["floor"], secs.get("peer", np.nan)
        rows.append({"workload": "estimation (4 estimators, 20 covariates)", "size": n, "ours": t_ours,
                     "floor": t_floor, "alternative": t_peer, "alternative_name": "causallib x4"})
        print(f"estimation n={n:>8}: ours {t_ours:.3f}s floor {t_floor:.3f}s causallib {t_peer:.3f}s")
    return rows


def sampling(sizes):
    synth = HybridSynthesizer(random_state=0, n_reference=50_000).fit(load_nhefs())
    rows = []
    for n in sizes:
        t_all, _ = timed(lambda: synth.sample(n, random_state=1), 3 if n < 1_000_000 else 1)
        t_cov, _ = timed(lambda: synth.generator_.sample(n, random_state=1), 3 if n < 1_000_000 else 1)
        rows.append({"workload": "hybrid sampling (NHEFS, copula)", "size": n, "ours": t_all, "floor": t_cov,
                     "alternative": np.nan, "alternative_name": ""})
        print(f"sampling n={n:>8}: hybrid {t_all:.3f}s covariates {t_cov:.3f}s")
    return rows


def dcr_scaling(sizes, cols=30):
    from bench_dcr import floor_products
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        x = rng.standard_normal((n, cols)).astype(np.float32)
        y = rng.standard_normal((n, cols)).astype(np.float32)
        t_ours, _ = timed(lambda: nearest_distances(x, y), 3 if n <= 30_000 else 1)
        t_floor, _ = timed(lambda: floor_products(x, y, 4096, True), 3 if n <= 30_000 else 1)
        rows.append({"workload": f"DCR nearest distances ({cols} columns)", "size": n, "ours": t_ours,
                     "floor": t_floor, "alternative": np.nan, "alternative_name": ""})
        print(f"dcr n={n:>8}: ours {t_ours:.3f}s floor {t_floor:.3f}s")
    return rows


def deep_epochs(sizes, epochs):
    from causalsynth.synth.covariates import CTGANGenerator, TVAEGenerator
    base = load_nhefs().covariate_frame
    rows = []
    with warnings.catch_warnings():  # warm-up: torch and ctgan's first call pay one-off costs
        warnings.simplefilter("ignore")
        for cls in (CTGANGenerator, TVAEGenerator):
            cls(epochs=1, batch_size=100).fit(base.head(200), random_state=0)
    for n in sizes:
        frame = base.sample(n, replace=True, random_state=0).reset_index(drop=True)
        for name, cls in (("CTGAN", CTGANGenerator), ("TVAE", TVAEGenerator)):
            # per-epoch cost = difference of two fits, so the one-off data transformer
            # (a Bayesian GMM per continuous column) is not counted as training
            times = []
            for e in (5, 5 + epochs):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cls(epochs=e, batch_size=500).fit(frame, random_state=0)
                times.append(time.perf_counter() - t0)
            per_epoch = max(times[1] - times[0], 0.0) / epochs
            rows.append({"workload": f"{name} fit, seconds per epoch (9 columns)", "size": n, "ours": per_epoch,
                         "floor": np.nan, "alternative": np.nan, "alternative_name": "",
                         "one_off_seconds": times[0] - per_epoch})
            print(f"{name} n={n:>6}: {per_epoch:.3f} s/epoch, one-off {times[0] - per_epoch:.1f} s")
    return rows


def plot(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = list(frame.groupby("workload", sort=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.8), squeeze=False)
    for ax, (name, g) in zip(axes[0], groups):
        ax.loglog(g["size"], g["ours"], "o-", label="causalsynth")
        if g["floor"].notna().any():
            ax.loglog(g["size"], g["floor"], "s--", label="floor")
        if g["alternative"].notna().any():
            ax.loglog(g["size"], g["alternative"], "^:", label=g["alternative_name"].iloc[0])
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("rows")
        ax.set_ylabel("seconds")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        rows = (estimation([1_000, 10_000], 10_000) + sampling([1_000, 10_000, 100_000])
                + dcr_scaling([1_000, 5_000]) + deep_epochs([500], 2))
    else:
        rows = (estimation([1_000, 10_000, 100_000, 1_000_000], 100_000)
                + sampling([1_000, 10_000, 100_000, 1_000_000])
                + dcr_scaling([1_000, 3_000, 10_000, 30_000, 100_000])
                + deep_epochs([1_000, 4_000], 40))
    frame = pd.DataFrame(rows)
    name = "scaling" + ("_quick" if args.quick else "")
    plot(frame, RESULTS / f"{name}.png")
    print(f"wrote {write(name, {'rows': frame.to_dict(orient='records')})} and {RESULTS / (name + '.png')}")
    return {"rows": frame.to_dict(orient="records")}


if __name__ == "__main__":
    main()
