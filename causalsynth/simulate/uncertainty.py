"""Uncertainty about the generator itself: does the ranking survive refitting the synthesizer?

A simulation on one fitted synthesizer answers "which estimator wins on *this* generator".
The generator is itself an estimate from the real data. Refitting it on bootstrap resamples
of the real rows (stratified by arm) and rerunning the simulation on each refit shows
whether the winner is a property of data like the user's or an accident of one fit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._checks import check_int
from .._random import RandomState, as_seed_sequence
from .._resample import bootstrap_within_arms
from ..data import CausalData, check_data
from ..progress import progress
from .simulation import simulate
from .spec import SimulationSpec

__all__ = ["GeneratorUncertainty", "generator_uncertainty"]


@dataclass(frozen=True)
class GeneratorUncertainty:
    """RMSE of every method on each refitted generator, and how often each method wins."""

    table: pd.DataFrame = field(repr=False)  # generator, learner, estimator, rmse, bias, coverage, rank
    winners: pd.DataFrame = field(repr=False)  # learner, estimator, share_best
    original_best: tuple[str, str] = ("", "")

    @property
    def survival(self) -> float:
        """Share of refitted generators on which the original generator's winner is also best."""
        w = self.winners.set_index(["learner", "estimator"])["share_best"]
        return float(w.get(self.original_best, 0.0))

    def summary(self) -> pd.DataFrame:
        agg = (self.table.groupby(["learner", "estimator"], sort=False)
               .agg(rmse_mean=("rmse", "mean"), rmse_sd=("rmse", "std"), mean_rank=("rank", "mean"))
               .reset_index())
        return agg.merge(self.winners, on=["learner", "estimator"]).sort_values("mean_rank")

    def __str__(self) -> str:
        lrn, est = self.original_best
        n_gen = self.table["generator"].nunique() - 1
        verdict = ("the ranking survives" if self.survival >= 0.7 else
                   "the ranking is fragile" if self.survival >= 0.4 else "the ranking does not survive")
        summ = self.summary()
        spread = float(summ["rmse_mean"].max() - summ["rmse_mean"].min())
        if len(summ) > 1 and spread < float(summ["rmse_sd"].min()):
            verdict += (f"; the methods are indistinguishable in RMSE here (their mean RMSEs differ by "
                        f"{spread:.3g}, less than one refit-to-refit SD of {float(summ['rmse_sd'].min()):.3g}), "
                        "so choose on coverage and simplicity")
        return (f"Generator uncertainty over {n_gen} bootstrap refits of the synthesizer: "
                f"{est.upper()} ('{lrn}'), best on the original fit, is best on {100 * self.survival:.0f}% "
                f"of refits: {verdict}.\n" + self.summary().to_string(index=False, float_format=lambda v: f"{v:.4g}"))

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        return json_safe({"original_best": list(self.original_best), "survival": self.survival,
                          "summary": self.summary(), "per_generator": self.table})


def _resample(data: CausalData, rng: np.random.Generator) -> CausalData:
    return data.subset(np.sort(bootstrap_within_arms(data.a, rng, order=(1, 0))))


def generator_uncertainty(data: CausalData, synthesizer, *, n_generators: int = 5,
                          estimators=("or", "ipw", "aipw", "tmle"), n=None, n_reps: int = 100,
                          learners=None, n_jobs: int = 1, show_progress: bool | None = None,
                          random_state: RandomState = None, original=None) -> GeneratorUncertainty:
    """Refit ``synthesizer`` (an unfitted template, cloned) on ``n_generators`` bootstrap
    resamples of ``data``, simulate on each, and report how stable the ranking is.

    ``original``: an optional SimulationResult on the synthesizer fitted to the full data
    (computed here when None); it may hold more learner configurations than ``learners``,
    in which case only those in ``learners`` are compared.
    """
    check_data(data)
    check_int("n_generators", n_generators, 2)
    n = data.n_obs if n is None else n
    ss = as_seed_sequence(random_state)
    fit_seed, sim_seed, boot_seed = ss.spawn(3)
    kw = dict(estimators=estimators, n=n, n_reps=n_reps, learners=learners, n_jobs=n_jobs, show_progress=False)
    if original is None:
        gen0 = clone(synthesizer).set_params(random_state=fit_seed).fit(data)
        original = simulate(gen0, random_state=sim_seed, **kw)
    rows = []

    names = {c.name for c in SimulationSpec.build(learners=learners).learners}

    def collect(label, result):
        rank = result.ranking(n_boot=1)
        rank = rank[rank["learner"].isin(names)].reset_index(drop=True)
        rank["rank"] = np.arange(1, len(rank) + 1)
        summ = result.summary().set_index(["learner", "estimator"])
        for r in rank.itertuples():
            s = summ.loc[(r.learner, r.estimator)]
            rows.append({"generator": label, "learner": r.learner, "estimator": r.estimator, "rmse": s["rmse"],
                         "bias": s["bias"], "coverage": s["coverage"], "rank": r.rank})
    collect("original", original)
    rng = np.random.default_rng(boot_seed)
    children = boot_seed.spawn(n_generators)
    for g, child in progress(list(enumerate(children)), desc="generator refits", show=show_progress):
        f_seed, s_seed = child.spawn(2)
        resampled = _resample(data, rng)
        gen = clone(synthesizer).set_params(random_state=f_seed).fit(resampled)
        collect(f"refit {g + 1}", simulate(gen, random_state=s_seed, **kw))
    table = pd.DataFrame(rows)
    first = table[table["generator"] == "original"].sort_values("rank").iloc[0]
    refits = table[table["generator"] != "original"]
    best = refits[refits["rank"] == 1].groupby(["learner", "estimator"]).size() / n_generators
    methods = table[["learner", "estimator"]].drop_duplicates()
    winners = methods.merge(best.rename("share_best").reset_index(), how="left").fillna({"share_best": 0.0})
    return GeneratorUncertainty(table, winners, (first["learner"], first["estimator"]))
