"""Reproduce the Kang-Schafer (2007) table in docs/simulation.md.

    python docs/kang_schafer.py [--reps 1000]

Target: the mean of the treated arm's potential outcome, mu1 = E[Y(1)] = 210, at n = 1000.
"""
from __future__ import annotations

import argparse

from causalsynth.datasets.designs import KANG_SCHAFER_FORMULAS as F
from causalsynth.datasets.designs import KangSchafer2007
from causalsynth.report.render import markdown_table
from causalsynth import RunOptions
from causalsynth.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    learners = {}
    for p in ("Z", "X"):
        for o in ("Z", "X"):
            learners[f"e:{p} mu:{o}"] = {"propensity": F[("propensity", p)], "outcome": F[("outcome", o)]}
    res = simulate(KangSchafer2007(), estimators=("or", "ipw", "aipw", "tmle"), n=1000, n_reps=args.reps,
                   learners=learners, random_state=2007, run=RunOptions(n_jobs=args.n_jobs))
    summ = res.summary(target="mu1")
    table = summ[["learner", "estimator", "bias", "bias_mcse", "rmse", "rmse_mcse"]].round(3)
    print(f"Kang-Schafer, n=1000, {args.reps} replicates, target mu1 = 210")
    print(markdown_table(table))


if __name__ == "__main__":
    main()
