"""Reproduce the estimand coverage table in docs/estimands.md.

    python docs/estimands.py [--reps 1000]

Design: LinearLogisticDesign(heterogeneity=1.0, confounding=1.5), n = 1000, main-terms
logistic propensity and linear outcome models (correctly specified: this checks the
estimators' influence functions, not the choice between learners).
"""
from __future__ import annotations

import argparse
import warnings

from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.report.render import markdown_table
from causalsynth import RunOptions
from causalsynth.simulate import SimulationOptions, simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    design = LinearLogisticDesign(heterogeneity=1.0, confounding=1.5)
    print(f"LinearLogisticDesign(heterogeneity=1, confounding=1.5), n=1000, {args.reps} replicates")
    print(f"population truths: ATE {design.population_ate_:.4f}, ATT {design.population_att_:.4f}, "
          f"ATC {design.population_atc_:.4f}, overlap {design.population_overlap_:.4f}")
    for estimand in ("ate", "att", "atc", "overlap", "trimmed"):
        estimators = ("or", "ipw", "aipw") if estimand == "overlap" else ("or", "ipw", "aipw", "tmle")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = simulate(design, n=1000, n_reps=args.reps, estimators=estimators,
                           learners={"glm": "logistic"}, random_state=12,
                           options=SimulationOptions(estimand=estimand), run=RunOptions(n_jobs=args.n_jobs))
        summ = res.summary()
        cols = ["estimator", "bias", "bias_mcse", "rmse", "coverage", "coverage_mcse", "se_sd_ratio"]
        cols = [c for c in cols if c in summ.columns]
        print(f"\n### {estimand}\n")
        print(markdown_table(summ[cols].round(4)))


if __name__ == "__main__":
    main()
