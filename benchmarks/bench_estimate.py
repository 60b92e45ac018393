"""Four estimators on one dataset: causalsynth (one shared nuisance fit) against causallib
called once per estimator (each fitting its own models), same estimates, ratio printed.

    python benchmarks/bench_estimate.py [--n 100000] [--features 20] [--repeats 3] [--quick]

The floor is the time to fit the propensity and outcome models alone (the unavoidable work).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import compare, write  # noqa: E402

from causalsynth import estimate  # noqa: E402
from causalsynth.datasets.designs import LinearLogisticDesign  # noqa: E402
from causalsynth.nuisance import fit_nuisance  # noqa: E402


def causallib_four(X: pd.DataFrame, a: pd.Series, y: pd.Series) -> dict:
    from causallib.estimation import AIPW, IPW, TMLE, StratifiedStandardization
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def lr():
        return make_pipeline(StandardScaler(), LogisticRegression(penalty=None, max_iter=5000))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ipw = IPW(lr()).fit(X, a)
        pop = ipw.estimate_population_outcome(X, a, y)
        out["ipw"] = pop[1] - pop[0]
        std = StratifiedStandardization(LinearRegression()).fit(X, a, y)
        pop = std.estimate_population_outcome(X, a)
        out["or"] = pop[1] - pop[0]
        for name, cls, kw in (("aipw", AIPW, {}), ("tmle", TMLE, {"reduced": True})):
            m = cls(StratifiedStandardization(LinearRegression()), IPW(lr()), **kw).fit(X, a, y)
            pop = m.estimate_population_outcome(X, a, y)
            out[name] = pop[1] - pop[0]
    return {k: float(v) for k, v in out.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="n=50,000, 5 repeats")
    args = parser.parse_args(argv)
    n, repeats = (50_000, 5) if args.quick else (args.n, args.repeats)
    sample = LinearLogisticDesign(n_features=args.features, confounding=0.4).sample(n, random_state=1)
    data = sample.data
    X = pd.DataFrame(data.design_matrix()[0])
    a, y = pd.Series(data.a.astype(int)), pd.Series(data.y)

    # no clipping on either side, so the estimates are comparable
    # one warm-up call each, then interleaved rounds: first-call costs (lazy imports, caches)
    # and slow spells of a shared machine fall on every side alike
    secs, outs = compare({
        "ours": lambda: estimate(data, propensity_bounds=(0.0, 1.0), random_state=0),
        "floor": lambda: fit_nuisance(data, random_state=0),
        "peer": lambda: causallib_four(X, a, y)}, repeats)
    t_ours, t_floor, t_peer = secs["ours"], secs["floor"], secs["peer"]
    res, peer = outs["ours"], outs["peer"]
    ours = res.summary().set_index("estimator")["ate"].to_dict()
    max_diff = max(abs(ours[k] - peer[k]) for k in peer)
    ratio = t_peer / t_ours
    print(f"n={n}, {args.features} covariates, estimators or/ipw/aipw/tmle (median of {repeats})")
    print(f"  causalsynth (shared nuisance fit): {t_ours:8.3f} s")
    print(f"  floor (nuisance fits alone):       {t_floor:8.3f} s   ours/floor = {t_ours / t_floor:.2f}")
    print(f"  causallib, one call per estimator: {t_peer:8.3f} s   speed-up = {ratio:.1f}x")
    print(f"  largest |ATE difference| ours vs causallib: {max_diff:.2e}")
    payload = {"n": n, "features": args.features, "repeats": repeats, "seconds_ours": t_ours,
               "seconds_floor": t_floor, "seconds_causallib": t_peer, "speedup_vs_causallib": ratio,
               "ours_over_floor": t_ours / t_floor, "max_abs_ate_difference": max_diff,
               "ate_ours": ours, "ate_causallib": peer}
    print(f"wrote {write('estimate' + ('_quick' if args.quick else ''), payload)}")
    return payload


if __name__ == "__main__":
    main()
