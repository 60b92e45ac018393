"""AuditResult: the immutable outcome of :func:`causalsynth.audit.audit`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import z_value
from ..errors import SpecError
from ..report.render import SummaryView, View

__all__ = ["AuditResult"]


def _se(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


@dataclass(frozen=True, eq=False)
class AuditResult(SummaryView):
    """ATE preservation audit of several synthesizers against one real dataset.

    The tidy tables hold one row per (synthesizer, repeat[, estimator | subgroup | learner |
    column]); the methods aggregate them over the repeats that succeeded.

    Attributes
    ----------
    synthesizers : labels in the order given; ``kinds`` maps each to "hybrid" or "joint".
    estimators, primary_estimator : the ATE estimators; the primary one (AIPW when present)
        feeds :meth:`summary` and the plots.
    real : the real reference (estimator, ate, std_error, ci_lower, ci_upper on the real
        training rows; ``ate_all_rows`` on every real row).
    runs : per (synthesizer, repeat): status, error, seconds and the scalar metrics.
    estimates, subgroup_estimates, utility_scores, column_scores : the tidy detail tables.
    baseline : the same fidelity metrics for two random halves of the real training rows (the
        noise floor: about what a synthesizer drawing fresh rows from the real law would score),
        the real overlap and treated share, and the TRTR utility of every learner.
    settings : sizes, roles, learners and options of the audit.
    """

    synthesizers: tuple[str, ...]
    kinds: dict[str, str]
    estimators: tuple[str, ...]
    primary_estimator: str
    level: float
    real: pd.DataFrame
    runs: pd.DataFrame = field(repr=False)
    estimates: pd.DataFrame = field(repr=False)
    subgroup_estimates: pd.DataFrame = field(repr=False)
    utility_scores: pd.DataFrame = field(repr=False)
    column_scores: pd.DataFrame = field(repr=False)
    baseline: dict = field(repr=False)
    settings: dict = field(repr=False)

    # ------------------------------------------------------------------ tables
    def _ok(self, frame: pd.DataFrame) -> pd.DataFrame:
        ok = self.runs.loc[self.runs["status"] == "ok", ["synthesizer", "repeat"]]
        return frame.merge(ok, on=["synthesizer", "repeat"])

    def _order(self, frame: pd.DataFrame) -> pd.DataFrame:
        key = {s: i for i, s in enumerate(self.synthesizers)}
        return frame.sort_values("synthesizer", key=lambda s: s.map(key), kind="stable").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per synthesizer: the primary estimator's ATE error beside utility, fidelity,
        privacy, nuisance adequacy and consistency (means over the successful repeats).

        ``ate_error`` is the mean absolute difference from the real estimate, ``ate_error_se``
        its standard error over repeats, ``z_error`` the mean absolute difference in real
        standard errors, ``ate_preserved`` whether ``z_error`` is below the critical value
        of ``level`` (on average the synthetic ATE falls inside the real interval). ``sate`` is
        the hybrid's own sample ATE (mean conditional effect of its rows; NaN for joint
        baselines, which carry no truth).
        """
        est = self._ok(self.estimates)
        est = est[est["estimator"] == self.primary_estimator]
        runs = self.runs
        z = z_value(self.level)
        metrics = ["utility", "detection_auc", "chi2", "detection_auc_full",
                   "chi2_full", "corr_diff", "max_column_distance", "exact_copy_share",
                   "closer_to_train_share", "membership_auc", "dcr_median", "propensity_ks",
                   "overlap", "treated_share", "learner_rank_corr", "estimator_rank_corr",
                   "worst_subgroup_z", "sate"]
        real = self.real.set_index("estimator").loc[self.primary_estimator]
        rows = []
        for name in self.synthesizers:
            r = runs[runs["synthesizer"] == name]
            ok = r[r["status"] == "ok"]
            e = est[est["synthesizer"] == name]
            err = e["diff"].abs()
            row = {"synthesizer": name, "kind": self.kinds[name], "n_ok": len(ok),
                   "n_failed": int((r["status"] != "ok").sum()), "estimator": self.primary_estimator,
                   "real_ate": float(real["ate"]), "ate_mean": e["ate"].mean(), "ate_sd": e["ate"].std(ddof=1),
                   "ate_error": err.mean(), "ate_error_se": _se(err),
                   "rel_error": e["rel_error"].mean(), "z_error": e["z"].abs().mean(),
                   "ci_overlap": e["ci_overlap"].mean(), "sign_agree": e["sign_agree"].mean()}
            row["ate_preserved"] = bool(row["z_error"] < z) if len(e) else False
            for m in metrics:
                row[m] = ok[m].mean() if m in ok else np.nan
                if m == "utility":
                    row["utility_trtr"] = self.baseline["utility_trtr"]
            rows.append(row)
        return pd.DataFrame(rows)

    def ate_table(self) -> pd.DataFrame:
        """Per synthesizer and estimator: the real estimate and interval beside the synthetic
        ATE's mean and spread, bias, mean absolute error (with its SE), RMSE, relative error,
        mean z, share of overlapping intervals and of agreeing signs."""
        est = self._ok(self.estimates)
        real = self.real.set_index("estimator")
        g = est.groupby(["synthesizer", "estimator"], sort=False)
        out = g.agg(n=("ate", "size"), ate_mean=("ate", "mean"), ate_sd=("ate", "std"),
                    bias=("diff", "mean"), ci_overlap=("ci_overlap", "mean"),
                    sign_agree=("sign_agree", "mean"), z=("z", "mean"),
                    rel_error=("rel_error", "mean")).reset_index()
        out["abs_error"] = g["diff"].apply(lambda d: d.abs().mean()).to_numpy()
        out["abs_error_se"] = g["diff"].apply(lambda d: _se(d.abs())).to_numpy()
        out["rmse"] = g["diff"].apply(lambda d: float(np.sqrt(np.mean(d ** 2)))).to_numpy()
        for j, c in enumerate(("ate", "std_error", "ci_lower", "ci_upper")):
            out.insert(2 + j, f"real_{c}", real.loc[out["estimator"], c].to_numpy())
        return self._order(out)

    def subgroups(self) -> pd.DataFrame:
        """Per synthesizer and subgroup: the real group effect against the synthetic estimate
        and (hybrid) the synthetic truth; ``flagged`` is the share of repeats whose group
        estimate lies outside the real group interval."""
        sub = self._ok(self.subgroup_estimates)
        z = z_value(self.level)
        sub = sub.assign(flag=sub["z"].abs() > z, abs_z=sub["z"].abs())
        out = sub.groupby(["synthesizer", "subgroup"], sort=False).agg(
            real_n=("real_n", "first"), real_ate=("real_ate", "first"),
            real_std_error=("real_std_error", "first"), n=("n", "mean"), ate_mean=("ate", "mean"),
            truth_mean=("truth", "mean"), diff_mean=("diff", "mean"), abs_z=("abs_z", "mean"),
            flagged=("flag", "mean")).reset_index()
        return self._order(out)

    def consistency(self) -> pd.DataFrame:
        """Per synthesizer: Spearman rank correlation of the outcome learners' utility (TSTR
        against TRTR) and of the estimators' ATEs (synthetic against real), mean and SD over
        repeats; NaN with fewer than three learners or estimators."""
        ok = self.runs[self.runs["status"] == "ok"]
        out = ok.groupby("synthesizer", sort=False).agg(
            learner_rank_corr=("learner_rank_corr", "mean"),
            learner_rank_corr_sd=("learner_rank_corr", "std"),
            estimator_rank_corr=("estimator_rank_corr", "mean"),
            estimator_rank_corr_sd=("estimator_rank_corr", "std"), n=("repeat", "size")).reset_index()
        return self._order(out)

    def column_fidelity(self) -> pd.DataFrame:
        """Per column (rows) and synthesizer (columns): the mean marginal distance over repeats
        (KS for numeric columns, total variation for categorical and binary ones)."""
        cols = self._ok(self.column_scores)
        if not len(cols):
            return pd.DataFrame(columns=["column", "metric"])
        out = cols.pivot_table(index=["column", "metric"], columns="synthesizer", values="distance",
                               aggfunc="mean", sort=False)
        return out.reindex(columns=[s for s in self.synthesizers if s in out.columns]).reset_index()

    def failures(self) -> pd.DataFrame:
        """The repeats that failed, with the reason."""
        return self.runs.loc[self.runs["status"] != "ok", ["synthesizer", "repeat", "error"]]

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dictionary of the settings, the real reference and every aggregate."""
        from ..report.render import json_safe
        return json_safe({
            "settings": self.settings, "primary_estimator": self.primary_estimator,
            "level": self.level, "real": self.real, "baseline": self.baseline,
            "summary": self.summary(), "ate_table": self.ate_table(),
            "subgroups": self.subgroups(), "consistency": self.consistency(),
            "failures": self.failures()})

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Per synthesizer, the interval of its mean ATE error over repeats at ``level`` (default:
        the audit's): ``ate_error`` +- z times ``ate_error_se`` (NaN with fewer than 2 repeats)."""
        z = z_value(self.level if level is None else level)
        s = self.summary()
        return pd.DataFrame({"synthesizer": s["synthesizer"], "ate_error": s["ate_error"],
                             "ci_lower": s["ate_error"] - z * s["ate_error_se"],
                             "ci_upper": s["ate_error"] + z * s["ate_error_se"]})

    def _view(self) -> View:
        """``print(result)``: the setting, the real estimate, the main columns of summary(), failures."""
        s = self.settings
        table = self.summary()[["synthesizer", "n_ok", "ate_mean", "ate_error", "z_error",
                                "ci_overlap", "utility", "detection_auc", "chi2"]]
        real = self.real.set_index("estimator").loc[self.primary_estimator]
        fails = self.failures()
        notes = ([f"{len(fails)} failed repeat(s): " + "; ".join(
            f"{r.synthesizer}#{r.repeat}: {r.error}" for r in fails.head(5).itertuples())] if len(fails) else [])
        return View(f"ATE preservation audit: {s['treatment']} -> {s['outcome']}, {s['n_train']} real "
                    f"training rows, {s['n_holdout']} holdout, {s['n_reps']} repeats of "
                    f"{s['n_synthetic']} synthetic rows",
                    (table,), (f"real {self.primary_estimator}: {real['ate']:.4f} (SE {real['std_error']:.4f}); "
                               f"utility = TSTR {s['utility_metric']} of {s['utility_learners'][0]} "
                               f"(TRTR {self.baseline['utility_trtr']:.3f})",),
                    tuple(notes), float_format=".4g", html_tables=(self.summary(),))

    # ------------------------------------------------------------------ plots
    def _estimator(self, estimator: str | None) -> str:
        estimator = estimator or self.primary_estimator
        if estimator not in self.estimators:
            raise SpecError(f"estimator {estimator!r} is not in this audit; have {list(self.estimators)}.")
        return estimator

    def plot_ate(self, ax: Any = None, *, estimator: str | None = None) -> Any:
        """Synthetic ATEs (one point and interval per repeat, diamond = mean) by synthesizer,
        against the real estimate (line) and its interval (band)."""
        import matplotlib.pyplot as plt
        estimator = self._estimator(estimator)
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.7 * len(self.synthesizers) + 1.6))
        real = self.real.set_index("estimator").loc[estimator]
        ax.axvspan(real["ci_lower"], real["ci_upper"], color="0.85", label=f"real {100 * self.level:g}% CI")
        ax.axvline(real["ate"], color="k", lw=1.2, label=f"real {estimator} {real['ate']:.3g}")
        est = self._ok(self.estimates)
        est = est[est["estimator"] == estimator]
        for i, name in enumerate(self.synthesizers):
            e = est[est["synthesizer"] == name]
            y = len(self.synthesizers) - 1 - i
            off = np.linspace(-0.25, 0.25, max(len(e), 1)) if len(e) > 1 else np.zeros(len(e))
            color = "C0" if self.kinds[name] == "hybrid" else "C3"
            ax.errorbar(e["ate"], y + off, xerr=[e["ate"] - e["ci_lower"], e["ci_upper"] - e["ate"]],
                        fmt="o", ms=3.5, lw=0.8, color=color, alpha=0.7)
            if len(e):
                ax.plot([e["ate"].mean()], [y], "D", color=color, ms=8, mec="k")
        ax.set_yticks(range(len(self.synthesizers)), list(self.synthesizers)[::-1])
        ax.set_xlabel(f"ATE ({estimator}) on synthetic data, {100 * self.level:g}% intervals")
        ax.set_title("ATE by synthesizer against the real estimate")
        ax.legend(loc="best", fontsize=8)
        return ax

    def plot_utility_vs_error(self, ax: Any = None, *, estimator: str | None = None) -> Any:
        """Predictive utility (TSTR) against ATE error in real standard errors, one point per
        repeat: "good prediction, bad ATE" shows as points to the right and high up."""
        import matplotlib.pyplot as plt
        estimator = self._estimator(estimator)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.5))
        est = self._ok(self.estimates)
        est = est[est["estimator"] == estimator][["synthesizer", "repeat", "z"]]
        pts = est.merge(self.runs[["synthesizer", "repeat", "utility"]], on=["synthesizer", "repeat"])
        markers = "osD^vP*X"
        for i, name in enumerate(self.synthesizers):
            p = pts[pts["synthesizer"] == name]
            ax.scatter(p["utility"], p["z"].abs(), marker=markers[i % len(markers)], s=36,
                       label=name, color=f"C{i}", alpha=0.8)
        ax.axvline(self.baseline["utility_trtr"], color="k", ls=":", lw=1, label="train on real")
        ax.axhline(z_value(self.level), color="C3", ls="--", lw=1,
                   label=f"outside real {100 * self.level:g}% CI")
        ax.set_xlabel(f"utility: TSTR {self.settings['utility_metric']} ({self.settings['utility_learners'][0]})")
        ax.set_ylabel(f"|ATE error| in real SEs ({estimator})")
        ax.set_ylim(bottom=0)
        ax.set_title("Predictive utility against ATE error")
        ax.legend(fontsize=8, loc="best")
        return ax

    def plot_subgroups(self, ax: Any = None) -> Any:
        """Real subgroup effects (black, with intervals) against each synthesizer's mean."""
        import matplotlib.pyplot as plt
        sub = self.subgroups()
        groups = list(dict.fromkeys(sub["subgroup"]))
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.32 * len(groups) + 1.6))
        if not groups:
            ax.set_title("no subgroups")
            return ax
        z = z_value(self.level)
        first = sub.drop_duplicates("subgroup").set_index("subgroup").loc[groups]
        y = np.arange(len(groups))[::-1]
        ax.errorbar(first["real_ate"], y, xerr=z * first["real_std_error"], fmt="s", color="k",
                    ms=4, lw=1, label="real")
        for i, name in enumerate(self.synthesizers):
            s = sub[sub["synthesizer"] == name].set_index("subgroup").reindex(groups)
            ax.plot(s["ate_mean"], y + 0.12 * (i + 1) - 0.06 * len(self.synthesizers), "o", ms=4,
                    color=f"C{i}", label=name)
        ax.set_yticks(y, groups, fontsize=7)
        ax.set_xlabel("group ATE (AIPW pseudo-outcome mean)")
        ax.set_title("Subgroup effects: real against synthetic")
        ax.legend(fontsize=7, loc="best")
        return ax

    # ------------------------------------------------------------------ report
    def write_report(self, out_dir: Any, *, stem: str = "audit", positivity: Any = None,
                     provenance: dict | None = None) -> dict:
        """Write Markdown (with PNG plots), self-contained HTML and JSON into ``out_dir``.

        ``positivity``: the real data's :func:`~causalsynth.positivity.diagnose_positivity` report,
        shown beside the synthetic overlap (without it the report says it was not diagnosed);
        ``provenance``: from :func:`causalsynth.report.provenance` (default: "Python API").
        """
        from ..report import positivity_sections, write_report
        from .report import report_sections
        return write_report(out_dir, "ATE preservation audit",
                            report_sections(self) + positivity_sections(positivity), self.to_dict(),
                            stem=stem, provenance=provenance)
