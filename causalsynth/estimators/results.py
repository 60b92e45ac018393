"""EstimateResult: the immutable outcome of one :func:`causalsynth.estimate` call."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._checks import z_value
from ..errors import SpecError
from ..report.render import SummaryView, View

__all__ = ["EstimateResult", "EstimateRow", "z_value"]


@dataclass(frozen=True, kw_only=True)
class EstimateRow:
    estimator: str
    ate: float
    std_error: float
    mu1: float
    mu0: float
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class EstimateResult(SummaryView):
    """ATE estimates of several estimators on one dataset, sharing one nuisance fit.

    Use :meth:`summary` for a DataFrame, :meth:`conf_int` for intervals at another level.
    """

    rows: tuple[EstimateRow, ...]
    level: float
    n_obs: int
    n_treated: int
    treatment: str
    outcome: str
    outcome_type: str
    propensity_learner: str
    outcome_learner: str
    n_folds: int
    se_method: str
    propensity: np.ndarray = field(repr=False, compare=False)
    n_clipped: int = 0
    estimand: str = "ate"
    trim_bounds: tuple | None = None  # the trimmed estimand's propensity bounds
    n_kept: int | None = None  # units in the trimmed population
    propensity_bounds: tuple = (0.01, 0.99)
    overlap: dict = field(default_factory=dict, repr=False)  # see estimators.estimate.overlap_summary
    notes: tuple = ()

    @property
    def estimand_label(self) -> str:
        """What is estimated, in words (the trimmed population stated)."""
        scale = "risk difference" if self.outcome_type == "binary" else "mean difference"
        label = {"ate": "ATE", "att": "ATT (effect on the treated)", "atc": "ATC (effect on the controls)",
                 "overlap": "overlap-weighted effect (weights e(1-e))",
                 "trimmed": "trimmed ATE"}[self.estimand]
        if self.estimand == "trimmed" and self.trim_bounds:
            label += (f" over the {self.n_kept} of {self.n_obs} units with estimated propensity in "
                      f"[{self.trim_bounds[0]:.3g}, {self.trim_bounds[1]:.3g}]")
        return f"{label} ({scale})"

    def row(self, estimator: str) -> EstimateRow:
        """The row of one estimator (ate, std_error, mu1, mu0, note)."""
        return self._row(estimator)

    def _row(self, estimator: str) -> EstimateRow:
        for row in self.rows:
            if row.estimator == estimator:
                return row
        raise SpecError(f"no estimator {estimator!r} in this result; have {[r.estimator for r in self.rows]}")

    def __getitem__(self, estimator: str) -> float:
        """The ATE of one estimator: ``result["aipw"]``."""
        return self._row(estimator).ate

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Wald intervals ``ate +- z * std_error`` at ``level`` (default: the result's level)."""
        z = z_value(self.level if level is None else level)
        return pd.DataFrame(
            {"ci_lower": [r.ate - z * r.std_error for r in self.rows],
             "ci_upper": [r.ate + z * r.std_error for r in self.rows]},
            index=pd.Index([r.estimator for r in self.rows], name="estimator"))

    def summary(self) -> pd.DataFrame:
        """One row per estimator: estimator, ate, std_error, ci_lower, ci_upper, mu1, mu0, note."""
        ci = self.conf_int()
        return pd.DataFrame({
            "estimator": [r.estimator for r in self.rows],
            "ate": [r.ate for r in self.rows],
            "std_error": [r.std_error for r in self.rows],
            "ci_lower": ci["ci_lower"].to_numpy(),
            "ci_upper": ci["ci_upper"].to_numpy(),
            "mu1": [r.mu1 for r in self.rows],
            "mu0": [r.mu0 for r in self.rows],
            "note": [r.note for r in self.rows],
        })

    def to_dict(self) -> dict:
        """A JSON-safe dictionary of the result (no per-row arrays)."""
        table = self.summary()
        records = json.loads(table.to_json(orient="records"))
        return {
            "n_obs": self.n_obs, "n_treated": self.n_treated, "treatment": self.treatment,
            "outcome": self.outcome, "outcome_type": self.outcome_type, "level": self.level,
            "estimand": self.estimand, "estimand_label": self.estimand_label,
            "trim_bounds": list(self.trim_bounds) if self.trim_bounds else None, "n_kept": self.n_kept,
            "propensity_bounds": list(self.propensity_bounds), "overlap": self.overlap,
            "notes": list(self.notes),
            "propensity_learner": self.propensity_learner, "outcome_learner": self.outcome_learner,
            "n_folds": self.n_folds, "se_method": self.se_method,
            "n_propensity_clipped": self.n_clipped, "estimates": records,
        }

    def _view(self) -> View:
        """``print(result)``: the setting, the summary() table (its notes listed below it)."""
        pct = f"{100 * self.level:g}%"
        lines = [
            f"propensity: {self.propensity_learner}",
            f"outcome:    {self.outcome_learner}",
            f"cross-fitting folds: {self.n_folds}",
        ]
        if self.overlap:
            o = self.overlap
            lo, hi = self.propensity_bounds
            if self.estimand == "att":
                where = f"above {hi:.3g}"
                ess = (f"ESS of the control weights {100 * o['ess_share_control']:.0f}% of the "
                       f"{self.n_treated} treated they stand in for")
            elif self.estimand == "atc":
                where = f"below {lo:.3g}"
                ess = (f"ESS of the treated weights {100 * o['ess_share_treated']:.0f}% of the "
                       f"{self.n_obs - self.n_treated} controls they stand in for")
            else:
                where = f"outside [{lo:.3g}, {hi:.3g}]"
                ess = (f"weight ESS {100 * o['ess_share_treated']:.0f}% of treated, "
                       f"{100 * o['ess_share_control']:.0f}% of controls")
            lines.append(f"positivity: {100 * o['share_outside_bounds']:.1f}% of units {where}; {ess}"
                         + ("" if o["intervals_trusted"] else " -- influence-function intervals NOT to be trusted"))
        notes = [f"  {r.estimator}: {r.note}" for r in self.rows if r.note] + [f"  {n}" for n in self.notes]
        return View(f"{self.estimand_label} of {self.treatment} on {self.outcome}, "
                    f"n={self.n_obs} ({self.n_treated} treated), {pct} CI, SE: {self.se_method}",
                    (self.summary().drop(columns=["note"]),), tuple(lines), tuple(["notes:", *notes] if notes else []))

    def plot(self, ax=None):
        """Forest plot of the estimates with their intervals."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.6 * len(self.rows) + 1.2))
        table = self.summary()
        ypos = np.arange(len(table))[::-1]
        ax.errorbar(table["ate"], ypos, xerr=[table["ate"] - table["ci_lower"],
                                               table["ci_upper"] - table["ate"]],
                    fmt="o", capsize=4)
        ax.set_yticks(ypos, table["estimator"])
        ax.axvline(0, color="grey", lw=0.8, ls=":")
        ax.set_xlabel(f"ATE of {self.treatment} on {self.outcome} ({100 * self.level:g}% CI)")
        return ax
