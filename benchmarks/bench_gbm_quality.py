"""Are the ``gbm`` preset's estimates as good as the ``hgb`` preset's (scikit-learn, the old gbm)?

    python benchmarks/bench_gbm_quality.py --reps 120    # two designs of docs/selection.md

Both presets run on the *same* seeded replicate datasets (one simulation, two learner
configurations), so the difference in squared error and in coverage is paired: its Monte
Carlo error is much smaller than either figure's. Prints per design and estimator the RMSE
and coverage of each preset with MC errors, and the paired differences with theirs; writes
results/gbm_quality.json. A difference within 2 MC errors counts as "as good".
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def compare(design_name: str, reps: int, n_jobs: int, seed: int) -> dict:
    from causalsynth import RunOptions
    from causalsynth.simulate import simulate
    from causalsynth.simulate.selection import selection_designs
    design, n = selection_designs()[design_name]
    panel = {"hgb": {"propensity": "hgb", "outcome": "hgb", "n_folds": 5},
             "gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 5}}
    t0 = time.perf_counter()
    res = simulate(design, n=n, n_reps=reps, learners=panel, random_state=seed,
                   run=RunOptions(n_jobs=n_jobs, progress=False))
    seconds = time.perf_counter() - t0
    rep = res.replicates
    secs = rep.drop_duplicates(["learner", "rep"]).groupby("learner")["seconds_nuisance"].mean()
    out = {"design": design_name, "n": n, "reps": reps, "seconds": seconds, "estimators": {},
           "nuisance_seconds_per_rep": {k: float(v) for k, v in secs.items()}}
    for est, g in rep.groupby("estimator"):
        w = {lrn: gg.sort_values("rep").set_index("rep") for lrn, gg in g.groupby("learner")}
        ok = {lrn: ww[~ww["failed"].astype(bool)] for lrn, ww in w.items()}
        common = ok["hgb"].index.intersection(ok["gbm"].index)
        a, b = w["hgb"].loc[common], w["gbm"].loc[common]
        t = a["pate"]  # the design's population ATE
        ea, eb = (a["ate"] - t) ** 2, (b["ate"] - t) ** 2
        ca = ((a["ci_lower"] <= t) & (t <= a["ci_upper"])).astype(float)
        cb = ((b["ci_lower"] <= t) & (t <= b["ci_upper"])).astype(float)
        k = len(common)

        def rmse_se(e):
            return float(np.sqrt(e.mean())), float(e.std(ddof=1) / np.sqrt(k) / (2 * np.sqrt(e.mean())))
        ra, rb = rmse_se(ea), rmse_se(eb)
        d = eb - ea  # paired difference of squared errors -> delta method on RMSE
        drmse_se = float(d.std(ddof=1) / np.sqrt(k) / (2 * np.sqrt(ea.mean())))
        dc = cb - ca
        out["estimators"][est] = {
            "n_pairs": k, "rmse_hgb": ra[0], "rmse_hgb_se": ra[1], "rmse_gbm": rb[0], "rmse_gbm_se": rb[1],
            "rmse_diff": rb[0] - ra[0], "rmse_diff_se": drmse_se,
            "coverage_hgb": float(ca.mean()), "coverage_hgb_se": float(ca.std(ddof=1) / np.sqrt(k)),
            "coverage_gbm": float(cb.mean()), "coverage_gbm_se": float(cb.std(ddof=1) / np.sqrt(k)),
            "coverage_diff": float(dc.mean()), "coverage_diff_se": float(dc.std(ddof=1) / np.sqrt(k))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", default="kang_schafer_x,nonlinear")
    ap.add_argument("--reps", type=int, default=120)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    docs = [compare(d, args.reps, args.n_jobs, args.seed) for d in args.designs.split(",")]
    for doc in docs:
        print(f"\n{doc['design']} (n={doc['n']}, {doc['reps']} paired replicates, {doc['seconds']:.0f} s)")
        print("nuisance seconds per replicate:", doc["nuisance_seconds_per_rep"])
        print("estimator | RMSE hgb | RMSE gbm | diff (MC SE) | coverage hgb | coverage gbm | diff (MC SE)")
        for est, r in doc["estimators"].items():
            print(f"{est} | {r['rmse_hgb']:.4g} ({r['rmse_hgb_se']:.2g}) | {r['rmse_gbm']:.4g} ({r['rmse_gbm_se']:.2g}) "
                  f"| {r['rmse_diff']:+.4g} ({r['rmse_diff_se']:.2g}) | {r['coverage_hgb']:.3f} | {r['coverage_gbm']:.3f} "
                  f"| {r['coverage_diff']:+.3f} ({r['coverage_diff_se']:.3f})")
    out = HERE / "results" / "gbm_quality.json"
    out.write_text(json.dumps(docs, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
