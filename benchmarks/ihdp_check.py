"""IHDP surface B held-out check of estimate(propensity="logistic", outcome="gbm", n_folds=5).

Twenty noise draws of Hill's (2011) surface B on the 747 IHDP children (surface_seed 0); for
each draw the estimate of AIPW and TMLE (and OR, IPW) is compared with the truth: the
conditional ATE over the children (mean of tau(X), the target of a draw that keeps the
covariates) and the sample effect mean(Y1 - Y0) of the draw. Run per setting of the
propensity bounds:

    PYTHONPATH=. python benchmarks/ihdp_check.py --bounds 0.01,0.99 --bounds adaptive

It runs on any checkout that has IHDPSurfaceB (commit 6142fd6 onwards) and prints one JSON
line per setting with the mean absolute error (and its Monte Carlo SE) of each estimator.
See docs/ihdp_check.md for the figures.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings

from pathlib import Path

import numpy as np
import pandas as pd


def draws(seeds: int) -> list[tuple[pd.DataFrame, float, float]]:
    """The noise draws: (frame with a, y and the covariates, conditional ATE, sample ATE)."""
    try:
        from causalsynth.datasets import IHDPSurfaceB
    except ImportError:  # older checkouts export it from the module only
        from causalsynth.datasets.designs import IHDPSurfaceB
    design = IHDPSurfaceB()
    out = []
    for seed in range(seeds):
        s = design.sample(random_state=seed)
        out.append((s.data.frame, float(s.truth["cate"].mean()), float((s.truth["y1"] - s.truth["y0"]).mean())))
    return out


def run(bounds, data: list) -> dict:
    from causalsynth import CausalData, estimate

    errs: dict[str, list] = {}
    sate_errs: dict[str, list] = {}
    for seed, (frame, cate, sate) in enumerate(data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kw = {} if bounds is None else {"propensity_bounds": bounds}
            d = CausalData(frame, treatment="a", outcome="y")
            res = estimate(d, propensity="logistic", outcome="gbm", n_folds=5, random_state=seed, **kw)
        for row in res.rows:
            errs.setdefault(row.estimator, []).append(row.ate - cate)
            sate_errs.setdefault(row.estimator, []).append(row.ate - sate)
    out = {}
    for k, v in errs.items():
        v = np.asarray(v)
        w = np.asarray(sate_errs[k])
        out[k] = {"mae_cate": float(np.mean(np.abs(v))), "mc_se": float(np.std(np.abs(v), ddof=1) / np.sqrt(len(v))),
                  "bias": float(v.mean()), "sd": float(np.std(v, ddof=1)), "mae_sate": float(np.mean(np.abs(w))),
                  "errors": [round(float(x), 6) for x in v]}
    return out


def paired(first: dict, other: dict) -> dict:
    """Mean paired difference of |error| (first minus other) per estimator, with its SE."""
    out = {}
    for k in first:
        d = np.abs(first[k]["errors"]) - np.abs(other[k]["errors"])
        out[k] = {"mean": float(d.mean()), "se": float(d.std(ddof=1) / np.sqrt(len(d)))}
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--bounds", action="append", default=None,
                   help="'lo,hi', 'adaptive' or 'default' (repeatable)")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--data", default=None,
                   help="pickle of the draws: written if absent, read if present (to score older "
                        "checkouts, without IHDPSurfaceB, on the same draws)")
    args = p.parse_args()
    if args.data and Path(args.data).exists():
        data = pd.read_pickle(args.data)
    else:
        data = draws(args.seeds)
        if args.data:
            pd.to_pickle(data, args.data)
    results = {}
    for b in args.bounds or ["default"]:
        bounds = None if b == "default" else (b if b == "adaptive" else tuple(float(x) for x in b.split(",")))
        t = time.perf_counter()
        results[b] = res = run(bounds, data)
        print(json.dumps({"bounds": b, "seconds": round(time.perf_counter() - t, 1), "result": res}), flush=True)
    first, *others = list(results)
    for b in others:  # positive: the first setting's error is larger on average
        print(json.dumps({"paired_abs_error_difference": f"{first} minus {b}",
                          "result": paired(results[first], results[b])}), flush=True)


if __name__ == "__main__":
    main()
