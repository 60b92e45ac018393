"""SimulationResult: the replicate rows of a simulation, their measures, ranking and recommendation.

The measures and their Monte Carlo standard errors are defined in
:mod:`causalsynth.simulate.metrics`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import EstimationError, SpecError
from .metrics import cell_metrics
from .spec import SimulationSpec

__all__ = ["SimulationResult", "cell_metrics"]

Truth = Literal["population", "sample"]
Target = Literal["ate", "mu1", "mu0"]
KEYS = ["scenario", "n", "learner", "estimator"]


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
class SimulationResult:
    """Replicate-level results of a simulation and the measures computed from them.

    ``replicates`` has one row per (scenario, n, learner, estimator, rep).
    """

    spec: SimulationSpec
    replicates: pd.DataFrame = field(repr=False)
    population_ates: dict = field(default_factory=dict)
    elapsed_seconds: float = float("nan")
    backend: str = "joblib"
    n_jobs: int = 1
    n_resumed: int = 0

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
                        "seconds_mcse": float(secs.std(ddof=1) / np.sqrt(len(secs))) if len(secs) > 1 else np.nan})
        return pd.DataFrame(out)

    def ranking(self, *, truth: Truth = "population", metric: Literal["rmse", "abs_bias"] = "rmse",
                n_boot: int = 1000, random_state=0) -> pd.DataFrame:
        """Rank methods (learner x estimator) within each scenario and n, with the share of
        bootstrap resamples of the replicates (paired across methods) in which each is best.

        Scores use the replicates on which every method succeeded (``n_scored``); a method
        that fails in more than half the replicates is ranked last.
        """
        reps = self.replicates
        rng = np.random.default_rng(random_state)
        out = []
        for (scen, n), g in reps.groupby(["scenario", "n"], sort=False):
            wide_err = {}
            for (lrn, est), h in g.groupby(["learner", "estimator"], sort=False):
                h = h.sort_values("rep")
                err = h["ate"].to_numpy(dtype=float) - _truth_column(h, truth, "ate").to_numpy(dtype=float)
                err[h["failed"].to_numpy()] = np.nan
                wide_err[(lrn, est)] = pd.Series(err, index=h["rep"].to_numpy())
            frame = pd.DataFrame(wide_err)
            methods = list(frame.columns)
            E = frame.to_numpy()
            fail = np.mean(np.isnan(E), axis=0)
            # Paired comparison: score every method on the replicates where all the methods
            # still in the running succeeded, so a method cannot win by failing on the hard
            # replicates. Methods failing in more than half the replicates are ranked last.
            eligible = fail <= 0.5
            rows_ok = ~np.isnan(E[:, eligible]).any(axis=1) if eligible.any() else np.zeros(len(E), bool)
            Ec = E[rows_ok]

            def score(M):
                with np.errstate(invalid="ignore"):
                    val = (np.sqrt(np.mean(M ** 2, axis=0)) if metric == "rmse" else np.abs(np.mean(M, axis=0)))
                return np.where(eligible, val, np.inf)
            R = Ec.shape[0]
            point = score(Ec) if R else np.full(len(methods), np.inf)
            wins = np.zeros(len(methods))
            for _ in range(n_boot if R else 0):
                idx = rng.integers(0, R, R)
                wins[np.argmin(score(Ec[idx]))] += 1
            order = np.argsort(point, kind="stable")
            for rank, j in enumerate(order, start=1):
                out.append({"scenario": scen, "n": n, "rank": rank, "learner": methods[j][0],
                            "estimator": methods[j][1], metric: float(point[j]),
                            "p_best": wins[j] / n_boot if R else 0.0, "failure_rate": float(fail[j]),
                            "n_scored": int(R)})
        return pd.DataFrame(out)

    def recommendation(self, *, truth: Truth = "population") -> str:
        """A plain-language recommendation per scenario and sample size."""
        summ = self.summary(truth=truth).set_index(["scenario", "n", "learner", "estimator"])
        rank = self.ranking(truth=truth)
        nominal = self.spec.level
        lines = []
        for (scen, n), g in rank.groupby(["scenario", "n"], sort=False):
            best = g.iloc[0]
            m = summ.loc[(scen, n, best["learner"], best["estimator"])]
            where = f"scenario '{scen}', n={n}" if len(self.spec.scenarios) > 1 else f"n={n}"
            if not np.isfinite(best["rmse"]):
                lines.append(f"{where}: no recommendation: no method succeeded in at least half the "
                             f"replicates. {self._first_error(scen, n)}")
                continue
            lines.append(
                f"{where}: {best['estimator'].upper()} with the '{best['learner']}' learners has the lowest "
                f"RMSE ({m['rmse']:.3g} +- {m['rmse_mcse']:.2g}) and is best in {100 * best['p_best']:.0f}% "
                f"of bootstrap resamples of the replicates; its {100 * nominal:g}% intervals cover "
                f"{100 * m['coverage']:.1f}% +- {100 * m['coverage_mcse']:.1f}%.")
            if best["n_scored"] < g["n_scored"].max() or (g["failure_rate"] > 0).any():
                lines.append(f"  Ranked on the {int(best['n_scored'])} replicates where every method succeeded.")
            runner = g.iloc[1] if len(g) > 1 else None
            if runner is not None and best["p_best"] < 0.8:
                lines.append(f"  The choice is uncertain: {runner['estimator'].upper()} "
                             f"('{runner['learner']}') is best in {100 * runner['p_best']:.0f}% of resamples.")
            sub = summ.loc[(scen, n)]
            bad = sub[(sub["coverage"] + 2 * sub["coverage_mcse"]) < nominal]
            for (lrn, est), r in bad.iterrows():
                lines.append(f"  {est.upper()} ('{lrn}') under-covers: {100 * r['coverage']:.1f}% +- "
                             f"{100 * r['coverage_mcse']:.1f}% against the nominal {100 * nominal:g}%.")
            over = sub[(sub["coverage"] - 2 * sub["coverage_mcse"]) > nominal]
            for (lrn, est), r in over.iterrows():
                lines.append(f"  {est.upper()} ('{lrn}') over-covers ({100 * r['coverage']:.1f}%): its intervals are "
                             "conservative (wider than needed).")
            failing = sub[sub["failure_rate"] > 0]
            for (lrn, est), r in failing.iterrows():
                lines.append(f"  {est.upper()} ('{lrn}') failed in {100 * r['failure_rate']:.1f}% of replicates.")
        return "\n".join(lines)

    def _first_error(self, scenario, n) -> str:
        r = self.replicates
        bad = r[(r["scenario"] == scenario) & (r["n"] == n) & r["failed"]]
        if not len(bad):
            return ""
        top = bad["error"].value_counts().index[0]
        return f"Most common error ({int((bad['error'] == top).sum())} of {len(r[(r['scenario'] == scenario) & (r['n'] == n)])} rows): {top}"

    def best(self, *, scenario: str | None = None, n: int | None = None, truth: Truth = "population") -> dict:
        """The top-ranked (learner, estimator) for one scenario and n (default: the first)."""
        rank = self.ranking(truth=truth)
        scenario = rank["scenario"].iloc[0] if scenario is None else scenario
        n = rank["n"].iloc[0] if n is None else n
        top = rank[(rank["scenario"] == scenario) & (rank["n"] == n)].iloc[0]
        if not np.isfinite(top["rmse"]):
            raise EstimationError(f"no best method for scenario {scenario!r}, n={n}: no method succeeded "
                                  f"in at least half the replicates. {self._first_error(scenario, n)}")
        cfg = {c.name: c for c in self.spec.learners}[top["learner"]]
        return {"estimator": top["estimator"], "learner": cfg, "p_best": float(top["p_best"])}

    # ------------------------------------------------------------------ output
    def to_dict(self, *, truth: Truth = "population") -> dict:
        from ..report.render import json_safe
        return json_safe({
            "n_replicates": int(self.replicates.groupby(["scenario", "n", "rep"]).ngroups),
            "elapsed_seconds": self.elapsed_seconds, "backend": self.backend, "n_jobs": self.n_jobs,
            "resumed_replicates": self.n_resumed, "level": self.spec.level, "truth": truth,
            "population_ate": self.population_ates,
            "summary": self.summary(truth=truth), "ranking": self.ranking(truth=truth),
            "recommendation": self.recommendation(truth=truth)})

    def __str__(self) -> str:
        cols = ["scenario", "n", "learner", "estimator", "bias", "bias_mcse", "rmse", "rmse_mcse",
                "coverage", "coverage_mcse", "ci_width", "failure_rate"]
        table = self.summary()[cols]
        if len(self.spec.scenarios) == 1:
            table = table.drop(columns="scenario")
        if len(self.spec.learners) == 1:
            table = table.drop(columns="learner")
        return (f"Simulation: {self.replicates.groupby(['scenario', 'n', 'rep']).ngroups} replicates, "
                f"{self.elapsed_seconds:.1f} s ({self.backend}, n_jobs={self.n_jobs}); truth: population ATE\n"
                + table.to_string(index=False, float_format=lambda v: f"{v:.4g}") + "\n\n" + self.recommendation())

    def _repr_html_(self) -> str:
        return (f"<pre>{self.recommendation()}</pre>"
                + self.summary().to_html(index=False, float_format=lambda v: f"{v:.4g}"))

    def write_report(self, out_dir, *, title: str = "Estimator simulation") -> dict:
        from .report import write_simulation_report
        return write_simulation_report(self, out_dir, title=title)
