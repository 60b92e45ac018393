"""Cost per replicate of the ``gbm`` preset (LightGBM) against the ``hgb`` preset (scikit-learn's
histogram gradient boosting, the gbm preset before issue 18), side by side in one run.

    python benchmarks/bench_gbm_cost.py            # n=2,000, 20 covariates, 5 folds, 6 reps a side, 3 rounds
    python benchmarks/bench_gbm_cost.py --quick    # 2 reps a side, 3 rounds

Both sides simulate the same seeded replicates of LinearLogisticDesign(20 covariates) with
OR/IPW/AIPW/TMLE and 5-fold cross-fitted propensity and per-arm outcome models (15 fits a
replicate), one core, interleaved rounds (benchmarks/_common.compare). The ratio gbm / hgb is
the figure `run_all.py --check` bounds (target: at most one third).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import compare, write  # noqa: E402

from causalsynth.datasets.designs import LinearLogisticDesign  # noqa: E402
from causalsynth import RunOptions  # noqa: E402
from causalsynth.simulate import simulate  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.reps = 2
    design = LinearLogisticDesign(n_features=args.features, confounding=0.4)

    def side(preset):
        learners = {preset: {"propensity": preset, "outcome": preset, "n_folds": 5}}
        return lambda: simulate(design, n=args.n, n_reps=args.reps, learners=learners, random_state=7,
                                run=RunOptions(progress=False))
    times, out = compare({"gbm": side("gbm"), "hgb": side("hgb")}, repeats=args.rounds)
    per = {k: v / args.reps for k, v in times.items()}
    ratio = per["gbm"] / per["hgb"]
    print(f"n={args.n}, {args.features} covariates, 5 folds, OR/IPW/AIPW/TMLE: seconds per replicate "
          f"(median of {args.rounds} interleaved rounds of {args.reps} reps)")
    print(f"  gbm (LightGBM): {per['gbm']:.3f} s   hgb (scikit-learn): {per['hgb']:.3f} s   gbm/hgb = {ratio:.3f}")
    payload = {"n": args.n, "features": args.features, "reps": args.reps, "rounds": args.rounds,
               "seconds_per_rep_gbm": per["gbm"], "seconds_per_rep_hgb": per["hgb"], "gbm_over_hgb": ratio}
    print(f"wrote {write('gbm_cost' + ('_quick' if args.quick else ''), payload)}")
    return payload


if __name__ == "__main__":
    main()
