"""Simulation throughput: causalsynth's harness against the usual loop that fits each
estimator separately with zepid (IPTW, AIPTW, TMLE, g-formula), on the same replicates.

    python benchmarks/bench_simulate.py [--reps 200] [--peer-reps 20] [--n 2000] [--features 20]
    python benchmarks/bench_simulate.py --gbm      # gradient boosting, 5-fold cross-fitting
    python benchmarks/bench_simulate.py --gbm --pooled   # ... with zepid's pooled outcome model form
    python benchmarks/bench_simulate.py --quick

Both sides run in this one process on one core (n_jobs=1). Throughput = replicates per
second; the peer loop runs ``--peer-reps`` replicates (it is slow) and is compared per
replicate. Estimates are checked for equality on the replicates both sides ran.
Also reported: ``estimate()`` called once per dataset (no harness batching), and the floor
(nuisance fits alone, on the same replicates).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from causalsynth import estimate  # noqa: E402
from causalsynth.datasets.designs import LinearLogisticDesign  # noqa: E402
from causalsynth.nuisance import fit_nuisance  # noqa: E402
from causalsynth import RunOptions  # noqa: E402
from causalsynth.simulate import simulate  # noqa: E402
from causalsynth.simulate.run import task_seed  # noqa: E402
from causalsynth.simulate.spec import Task  # noqa: E402


def replicate_data(design, n, entropy, rep):
    """The dataset of replicate ``rep`` exactly as the harness draws it."""
    draw_seed, _ = task_seed(entropy, Task(0, 0, rep)).spawn(2)
    return design.sample(n, random_state=draw_seed).data


def _peer_boosters(booster: str):
    """The boosted models handed to zepid: its loop's own choice (scikit-learn's histogram
    gradient boosting, as before) or ours (the gbm preset's LightGBM settings)."""
    if booster == "ours":
        import lightgbm

        from causalsynth.learners import GBM_PARAMS
        opts = dict(GBM_PARAMS, n_jobs=1, deterministic=True, force_col_wise=True, verbose=-1, random_state=0)
        return lightgbm.LGBMClassifier(**opts), lightgbm.LGBMRegressor(**opts)
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    gbc = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                         early_stopping=False, random_state=0)
    gbr = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                        early_stopping=False, random_state=0)
    return gbc, gbr


def zepid_four(frame, covs, gbm: bool, booster: str = "hgb"):
    from zepid.causal.doublyrobust import AIPTW, TMLE, SingleCrossfitAIPTW, SingleCrossfitTMLE
    from zepid.causal.gformula import TimeFixedGFormula
    from zepid.causal.ipw import IPTW
    rhs = " + ".join(covs)
    inter = " + ".join(f"a:{c}" for c in covs)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not gbm:
            ipw = IPTW(frame, treatment="a", outcome="y")
            ipw.treatment_model(rhs, stabilized=True, print_results=False)
            ipw.marginal_structural_model("a")
            ipw.fit()
            out["ipw"] = float(ipw.average_treatment_effect["ATE"].iloc[1])
            g = TimeFixedGFormula(frame, exposure="a", outcome="y", outcome_type="normal")
            g.outcome_model(f"a + {rhs} + {inter}", print_results=False)
            g.fit(treatment="all")
            m1 = g.marginal_outcome
            g.fit(treatment="none")
            out["or"] = float(m1 - g.marginal_outcome)
            aipw = AIPTW(frame, exposure="a", outcome="y")
            aipw.exposure_model(rhs, print_results=False)
            aipw.outcome_model(f"a + {rhs} + {inter}", print_results=False)
            aipw.fit()
            out["aipw"] = float(aipw.average_treatment_effect)
            tmle = TMLE(frame, exposure="a", outcome="y")
            tmle.exposure_model(rhs, print_results=False)
            tmle.outcome_model(f"a + {rhs} + {inter}", print_results=False)
            tmle.fit()
            out["tmle"] = float(tmle.average_treatment_effect)
        else:
            gbc, gbr = _peer_boosters(booster)
            for name, cls in (("aipw", SingleCrossfitAIPTW), ("tmle", SingleCrossfitTMLE)):
                est = cls(frame, exposure="a", outcome="y")
                est.exposure_model(rhs, gbc, bound=0.01)
                est.outcome_model(f"a + {rhs}", gbr)
                est.fit(n_splits=5, n_partitions=1, random_state=0)
                out[name] = float(est.ace)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--peer-reps", type=int, default=20)
    parser.add_argument("--gbm", action="store_true", help="gradient boosting, 5-fold cross-fitting")
    parser.add_argument("--pooled", action="store_true",
                        help="with --gbm: one pooled outcome model (treatment as a feature), zepid's model form")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.pooled and not args.gbm:
        parser.error("--pooled goes with --gbm")
    if args.quick:
        args.reps, args.peer_reps = (10, 3) if args.gbm else (40, 5)
    elif args.gbm and args.reps == 200:
        args.reps, args.peer_reps = 20, 5
    design = LinearLogisticDesign(n_features=args.features, confounding=0.4)
    outcome = "pooled:gbm" if args.pooled else "gbm"
    learners = {"gbm": {"propensity": "gbm", "outcome": outcome, "n_folds": 5}} if args.gbm else {"glm": "logistic"}
    estimators = ("aipw", "tmle") if args.gbm else ("or", "ipw", "aipw", "tmle")
    seed = 2024
    # warm-up outside the timings (module imports, first-call costs), for both sides alike
    simulate(design, estimators=estimators, n=args.n, n_reps=2, learners=learners, random_state=seed + 1,
             run=RunOptions(progress=False))
    zepid_four(design.sample(args.n, random_state=0).data.frame, [f"w{j + 1}" for j in range(args.features)],
               args.gbm)
    if args.gbm:
        zepid_four(design.sample(args.n, random_state=0).data.frame, [f"w{j + 1}" for j in range(args.features)],
                   True, booster="ours")
    t0 = time.perf_counter()
    res = simulate(design, estimators=estimators, n=args.n, n_reps=args.reps, learners=learners,
                   random_state=seed, run=RunOptions(progress=False))
    t_ours = time.perf_counter() - t0
    entropy = (seed, ())
    lc = res.spec.learners[0]

    t0 = time.perf_counter()
    for rep in range(args.reps):
        data = replicate_data(design, args.n, entropy, rep)
        fit_nuisance(data, propensity=lc.propensity, outcome=lc.outcome, n_folds=lc.n_folds, random_state=rep)
    t_floor = time.perf_counter() - t0 - 0.0

    t0 = time.perf_counter()
    t_draw = 0.0
    for rep in range(args.reps):
        td = time.perf_counter()
        data = replicate_data(design, args.n, entropy, rep)
        t_draw += time.perf_counter() - td
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimate(data, estimators=estimators, propensity=lc.propensity, outcome=lc.outcome,
                     n_folds=lc.n_folds, random_state=rep)
    t_single = time.perf_counter() - t0

    covs = [f"w{j + 1}" for j in range(args.features)]
    diffs = []
    t_peer = 0.0
    ours = res.replicates.set_index(["rep", "estimator"])["ate"]
    t_peer_ours = 0.0  # --gbm: zepid's loop given our booster (the gbm preset's LightGBM)
    for rep in range(args.peer_reps):
        data = replicate_data(design, args.n, entropy, rep)
        frame = data.frame
        t0 = time.perf_counter()
        peer = zepid_four(frame, covs, args.gbm)
        t_peer += time.perf_counter() - t0
        if args.gbm:
            t0 = time.perf_counter()
            zepid_four(frame, covs, True, booster="ours")
            t_peer_ours += time.perf_counter() - t0
        if not args.gbm:
            diffs += [abs(peer[k] - ours[(rep, k)]) for k in peer]
    rate_ours = args.reps / t_ours
    rate_peer = args.peer_reps / t_peer
    rate_single = args.reps / t_single
    kind = "gradient boosting, 5-fold cross-fitting" if args.gbm else "parametric (GLM) nuisances"
    if args.pooled:
        kind += ", pooled outcome model"
    print(f"{kind}: n={args.n}, {args.features} covariates, estimators {', '.join(estimators)}")
    print(f"  causalsynth simulate():  {args.reps} reps in {t_ours:7.2f} s  = {rate_ours:8.2f} reps/s")
    print(f"  estimate() per dataset:  {args.reps} reps in {t_single:7.2f} s  = {rate_single:8.2f} reps/s")
    print(f"  floor (nuisance fits):   {args.reps} reps in {t_floor:7.2f} s  (simulate/floor = {t_ours / t_floor:.2f})")
    print(f"  zepid, one fit per estimator: {args.peer_reps} reps in {t_peer:7.2f} s = {rate_peer:8.2f} reps/s")
    print(f"  speed-up simulate vs zepid: {rate_ours / rate_peer:.1f}x;  estimate() vs zepid: {rate_single / rate_peer:.1f}x")
    if args.gbm:
        rate_peer_ours = args.peer_reps / t_peer_ours
        print(f"  zepid given our booster (LightGBM): {args.peer_reps} reps in {t_peer_ours:7.2f} s = "
              f"{rate_peer_ours:8.2f} reps/s;  speed-up simulate vs it: {rate_ours / rate_peer_ours:.1f}x")
    if diffs:
        print(f"  largest |ATE difference| vs zepid on {args.peer_reps} shared replicates: {max(diffs):.2e}")
    payload = {"kind": kind, "n": args.n, "features": args.features, "reps": args.reps,
               "peer_reps": args.peer_reps, "seconds_simulate": t_ours, "seconds_estimate_loop": t_single,
               "seconds_floor": t_floor, "seconds_peer": t_peer, "speedup_simulate_vs_zepid": rate_ours / rate_peer,
               "speedup_estimate_vs_zepid": rate_single / rate_peer, "simulate_over_floor": t_ours / t_floor,
               "max_abs_ate_difference": max(diffs) if diffs else None}
    if args.gbm:
        payload.update(seconds_peer_our_booster=t_peer_ours,
                       speedup_simulate_vs_zepid_our_booster=t_peer_ours / args.peer_reps / (t_ours / args.reps))
    name = ("simulate_gbm_pooled" if args.pooled else "simulate_gbm") if args.gbm else "simulate_glm"
    print(f"wrote {write(name + ('_quick' if args.quick else ''), payload)}")
    return payload


if __name__ == "__main__":
    main()
