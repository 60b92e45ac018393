"""SimulationResult: the replicate rows of a simulation, their measures, ranking and recommendation.

The measures and their Monte Carlo standard errors are defined in
:mod:`causalsynth.simulate.metrics`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from .._random import as_generator
from .._checks import z_value
from ..errors import EstimationError, SpecError
from ..report.render import SummaryView, View
from .metrics import cell_metrics
from .spec import SimulationSpec

__all__ = ["SimulationResult", "cell_metrics"]

Truth = Literal["population", "sample"]
Target = Literal["ate", "mu1", "mu0"]
KEYS = ["world", "scenario", "n", "learner", "estimator"]


def _rank_cell(errs: list, paired: bool, metric: str, n_boot: int, rng):
    """Point scores, bootstrap wins, failure rates and scored replicates of the methods of a cell."""
    fail = np.array([np.mean(np.isnan(e)) if len(e) else 1.0 for e in errs])
    eligible = fail <= 0.5

    def score(cols):
        with np.errstate(invalid="ignore"):
            val = np.array([np.sqrt(np.mean(c ** 2)) if metric == "rmse" else abs(np.mean(c)) if len(c) else np.inf
                            for c in cols])
        return np.where(eligible, val, np.inf)
    wins = np.zeros(len(errs))
    if paired:
        E = np.column_stack(errs) if errs else np.zeros((0, 0))
        rows_ok = ~np.isnan(E[:, eligible]).any(axis=1) if eligible.any() else np.zeros(len(E), bool)
        Ec = E[rows_ok]
        R = Ec.shape[0]
        point = score(list(Ec.T)) if R else np.full(len(errs), np.inf)
        for _ in range(n_boot if R else 0):
            idx = rng.integers(0, R, R)
            wins[np.argmin(score(list(Ec[idx].T)))] += 1
        return point, wins, fail, np.full(len(errs), R)
    ok = [e[np.isfinite(e)] for e in errs]
    point = score(ok)
    for _ in range(n_boot if any(len(o) for o in ok) else 0):
        wins[np.argmin(score([o[rng.integers(0, len(o), len(o))] if len(o) else o for o in ok]))] += 1
    return point, wins, fail, np.array([len(o) for o in ok])


def _truth_column(rows: pd.DataFrame, truth: Truth, target: Target) -> pd.Series:
    if target == "ate":
        return rows["pate"] if truth == "population" else rows["sate"]
    if target == "mu1":
        if truth == "population":
            if rows["population_mu1"].isna().all():
                raise SpecError("this data-generating process has no population mu1; use truth='sample'")
            return rows["population_mu1"]
        return rows["sample_mu1"]
    if truth == "population":
        raise SpecError("population mu0 is not recorded; use truth='sample'")
    return rows["sample_mu0"]


@dataclass(frozen=True)
class SimulationResult(SummaryView):
    """Replicate-level results of a simulation and the measures computed from them.

    ``replicates`` has one row per (world, scenario, n, learner, estimator, rep); ``worlds``
    describes each world (what it is, its model classes, whether it decides the
    recommendation) and ``decision_worlds`` names the deciding ones.
    """

    spec: SimulationSpec
    replicates: pd.DataFrame = field(repr=False)
    population_ates: dict = field(default_factory=dict)
    elapsed_seconds: float = float("nan")
    backend: str = "joblib"
    n_jobs: int = 1
    n_resumed: int = 0
    worlds: list = field(default_factory=list, repr=False)
    decision_worlds: tuple = ()

    def __post_init__(self) -> None:
        if "world" not in self.replicates or self.replicates["world"].isna().all():
            # rows from before worlds existed: the single world
            object.__setattr__(self, "replicates", self.replicates.assign(world=self.spec.worlds[0]))

    # ------------------------------------------------------------------ measures
    def summary(self, *, truth: Truth = "population", target: Target = "ate") -> pd.DataFrame:
        """Per cell: bias, variance, RMSE, coverage, CI width, failure rate, run time, with MC SEs."""
        if truth not in ("population", "sample"):
            raise SpecError(f"truth must be 'population' or 'sample'; got {truth!r}")
        if target not in ("ate", "mu1", "mu0"):
            raise SpecError(f"target must be 'ate', 'mu1' or 'mu0'; got {target!r}")
        reps = self.replicates
        out = []
        for key, g in reps.groupby(KEYS, sort=False):
            ok = g.loc[~g["failed"]]
            est_col = {"ate": "ate", "mu1": "mu1", "mu0": "mu0"}[target]
            est = ok[est_col].to_numpy(dtype=float)
            tr = _truth_column(ok, truth, target).to_numpy(dtype=float)
            keep = np.isfinite(est) & np.isfinite(tr)
            has_ci = target == "ate"
            m = cell_metrics(est[keep], tr[keep],
                             ok["ci_lower"].to_numpy(dtype=float)[keep] if has_ci else None,
                             ok["ci_upper"].to_numpy(dtype=float)[keep] if has_ci else None,
                             ok["std_error"].to_numpy(dtype=float)[keep] if has_ci else None)
            fail = g["failed"].to_numpy(dtype=float)
            secs = (ok["seconds_nuisance"].fillna(0) / max(len(self.spec.estimators), 1)
                    + ok["seconds_estimator"].fillna(0)).to_numpy(dtype=float)
            out.append({**dict(zip(KEYS, key)), "truth": truth, "target": target, "n_reps": len(g),
                        "n_ok": int(keep.sum()), **m,
                        "failure_rate": float(fail.mean()),
                        "failure_rate_mcse": float(np.sqrt(max(fail.mean() * (1 - fail.mean()), 1e-12) / len(g))),
                        "seconds": float(secs.mean()) if len(secs) else np.nan,
                        "seconds_fit": float((ok["seconds_nuisance"].fillna(0)
                                              / max(len(self.spec.estimators), 1)).mean()) if len(ok) else np.nan,
                        "seconds_draw": float(ok["seconds_draw"].fillna(0).mean())
                        if "seconds_draw" in ok and len(ok) else np.nan,
                        "seconds_mcse": float(secs.std(ddof=1) / np.sqrt(len(secs))) if len(secs) > 1 else np.nan})
        return pd.DataFrame(out)

    def ranking(self, *, truth: Truth = "population", metric: Literal["rmse", "abs_bias"] = "rmse",
                n_boot: int = 1000, random_state=0) -> pd.DataFrame:
        """Rank methods (learner x estimator) within each world, scenario and n, with the share
        of bootstrap resamples of the replicates in which each is best.

        When every method ran on the same replicates, the comparison is paired: scores use the
        replicates on which every method succeeded (``n_scored``), so a method cannot win by
        failing on the hard ones. Configurations with their own replicate counts are scored
        on their own replicates and resampled independently. A method that fails in more than
        half its replicates is ranked last.
        """
        rng = as_generator(random_state)
        out = []
        for (world, scen, n), g in self.replicates.groupby(["world", "scenario", "n"], sort=False):
            errs = {}
            for (lrn, est), h in g.groupby(["learner", "estimator"], sort=False):
                h = h.sort_values("rep")
                err = h["ate"].to_numpy(dtype=float) - _truth_column(h, truth, "ate").to_numpy(dtype=float)
                err[h["failed"].to_numpy()] = np.nan
                errs[(lrn, est)] = pd.Series(err, index=h["rep"].to_numpy())
            methods = list(errs)
            paired = len({tuple(e.index) for e in errs.values()}) == 1
            point, wins, fail, scored = _rank_cell([errs[m].to_numpy() for m in methods], paired, metric,
                                                   n_boot, rng)
            order = np.argsort(point, kind="stable")
            for rank, j in enumerate(order, start=1):
                out.append({"world": world, "scenario": scen, "n": n, "rank": rank, "learner": methods[j][0],
                            "estimator": methods[j][1], metric: float(point[j]),
                            "p_best": wins[j] / n_boot if scored[j] else 0.0, "failure_rate": float(fail[j]),
                            "n_scored": int(scored[j])})
        return pd.DataFrame(out)

    def recommendations(self, *, truth: Truth = "population", n_boot: int = 500) -> list:
        """One :class:`~causalsynth.simulate.recommend.Recommendation` per (scenario, n)."""
        return [self.recommendation(scenario=scen, n=n, truth=truth, n_boot=n_boot)
                for scen, n in self.replicates[["scenario", "n"]].drop_duplicates().itertuples(index=False)]

    def recommendation(self, *, scenario: str | None = None, n: int | None = None, truth: Truth = "population",
                       n_boot: int = 500, coverage_allowance: dict | None = None):
        """The recommendation for one scenario and n (default: the first of each), as a
        :class:`~causalsynth.simulate.recommend.Recommendation`; ``str()`` renders it as
        sentences. See :mod:`causalsynth.simulate.recommend` for the rule (and
        ``coverage_allowance``)."""
        from .recommend import recommend
        reps = self.replicates
        scenario = reps["scenario"].iloc[0] if scenario is None else scenario
        n = reps["n"].iloc[0] if n is None else n
        rows = reps[(reps["scenario"] == scenario) & (reps["n"] == n)]
        if not len(rows):
            raise SpecError(f"no replicates for scenario {scenario!r}, n={n}")
        rows = rows.assign(_truth=_truth_column(rows, truth, "ate"))
        deciding = self.decision_worlds or tuple(dict.fromkeys(rows["world"]))
        rec = recommend(rows, scenario=scenario if len(self.spec.scenarios) > 1 else "", n=int(n),
                        level=self.spec.level, decision_worlds=deciding, truth_col="_truth", n_boot=n_boot,
                        multi_learner=len(self.spec.learners) > 1, coverage_allowance=coverage_allowance)
        first_error = self._first_error(scenario, n) if rec.choice is None else ""
        if first_error:  # no recommendation: say what went wrong most often
            rec = replace(rec, reason=f"{rec.reason} {first_error}")
        return rec

    def _first_error(self, scenario, n) -> str:
        r = self.replicates
        bad = r[(r["scenario"] == scenario) & (r["n"] == n) & r["failed"]]
        if not len(bad):
            return ""
        top = bad["error"].value_counts().index[0]
        return f"Most common error ({int((bad['error'] == top).sum())} of {len(r[(r['scenario'] == scenario) & (r['n'] == n)])} rows): {top}"

    def best(self, *, scenario: str | None = None, n: int | None = None, truth: Truth = "population") -> dict:
        """The recommended (learner, estimator) for one scenario and n (default: the first)."""
        rec = self.recommendation(scenario=scenario, n=n, truth=truth)
        if rec.choice is None:
            raise EstimationError(f"no best method for scenario {scenario!r}, n={n}: {rec.reason}")
        cfg = {c.name: c for c in self.spec.learners}[rec.choice[0]]
        return {"estimator": rec.choice[1], "learner": cfg, "p_best": float(rec.p_best), "recommendation": rec}

    # ------------------------------------------------------------------ output
    def recommendation_text(self, *, truth: Truth = "population") -> str:
        """Every (scenario, n)'s recommendation as sentences, one per line."""
        return "\n".join(str(r) for r in self.recommendations(truth=truth))

    @property
    def n_replicate_datasets(self) -> int:
        return int(self.replicates.groupby(["world", "scenario", "n", "rep"]).ngroups)

    def to_dict(self, *, truth: Truth = "population") -> dict:
        from ..report.render import json_safe
        recs = self.recommendations(truth=truth)
        return json_safe({
            "n_replicates": self.n_replicate_datasets,
            "elapsed_seconds": self.elapsed_seconds, "backend": self.backend, "n_jobs": self.n_jobs,
            "resumed_replicates": self.n_resumed, "level": self.spec.level, "truth": truth,
            "estimand": self.spec.estimand, "propensity_bounds": self.spec.propensity_bounds,
            "trim_bounds": self.spec.trim_bounds,
            "worlds": self.worlds, "decision_worlds": list(self.decision_worlds),
            "population_ate": {f"{w}/{s}": v for (w, s), v in self.population_ates.items()},
            "summary": self.summary(truth=truth), "ranking": self.ranking(truth=truth),
            "recommendations": [r.to_dict() for r in recs],
            "recommendation": "\n".join(str(r) for r in recs)})

    def _table(self) -> pd.DataFrame:
        cols = ["world", "scenario", "n", "learner", "estimator", "bias", "bias_mcse", "rmse", "rmse_mcse",
                "coverage", "coverage_mcse", "ci_width", "failure_rate"]
        table = self.summary()[cols]
        for col, many in (("world", len(self.spec.worlds)), ("scenario", len(self.spec.scenarios)),
                          ("learner", len(self.spec.learners))):
            if many == 1:
                table = table.drop(columns=col)
        return table

    def conf_int(self, level: float | None = None, *, truth: Truth = "population") -> pd.DataFrame:
        """Monte Carlo intervals per cell (world, scenario, n, learner, estimator) at ``level``
        (default: the simulation's): ``bias`` and ``coverage`` +- z times their Monte Carlo SE.
        They bound what a longer simulation (more replicates) would find; they are not the
        intervals of one replicate (those are in ``replicates``' ``ci_lower``/``ci_upper``)."""
        z = z_value(self.spec.level if level is None else level)
        s = self.summary(truth=truth)
        out = s[KEYS].copy()
        for m in ("bias", "coverage"):
            out[m] = s[m]
            out[f"{m}_lower"] = s[m] - z * s[f"{m}_mcse"]
            out[f"{m}_upper"] = s[m] + z * s[f"{m}_mcse"]
        return out

    def _view(self) -> View:
        """``print(result)``: the run, the main columns of summary(), the recommendation."""
        worlds = ", ".join(f"{w}{' (deciding)' if w in self.decision_worlds else ''}" for w in self.spec.worlds)
        return View(f"Simulation: {self.n_replicate_datasets} replicate datasets in {len(self.spec.worlds)} world(s) "
                    f"[{worlds}], {self.elapsed_seconds:.1f} s ({self.backend}, n_jobs={self.n_jobs}); truth: each "
                    "world's population ATE", (self._table(),), notes=("", self.recommendation_text()),
                    float_format=".4g", html_tables=(self.summary(),))

    def write_report(self, out_dir, *, title: str = "Estimator simulation", positivity=None,
                     provenance: dict | None = None) -> dict:
        """Write report.md / report.html / report.json (see :func:`~causalsynth.simulate.report.write_simulation_report`)."""
        from .report import write_simulation_report
        return write_simulation_report(self, out_dir, title=title, positivity=positivity, provenance=provenance)
