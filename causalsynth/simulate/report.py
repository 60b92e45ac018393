"""Plots and the HTML/Markdown/JSON report of a simulation."""
from __future__ import annotations

import numpy as np

from ..report.render import Section, positivity_sections, write_report
from .metrics import wilson_interval

__all__ = ["plot_distributions", "plot_bias_rmse", "plot_coverage", "plot_regret", "write_simulation_report"]


def _label(row) -> str:
    return f"{row['estimator']} | {row['learner']}" if row.get("multi_learner") else str(row["estimator"])


def _cells(result, truth="population"):
    summ = result.summary(truth=truth)
    summ["multi_learner"] = len(result.spec.learners) > 1
    summ["label"] = summ.apply(_label, axis=1)
    return summ


def _where(result, world, scen, n) -> str:
    parts = [world] if len(result.spec.worlds) > 1 else []
    parts += [scen] if len(result.spec.scenarios) > 1 else []
    return ", ".join([*parts, f"n={n}"])


def plot_distributions(result, *, truth: str = "population"):
    """Sampling distributions of the estimates minus the truth, one panel per (world, scenario, n)."""
    import matplotlib.pyplot as plt
    reps = result.replicates.loc[~result.replicates["failed"]].copy()
    reps["err"] = reps["ate"] - (reps["pate"] if truth == "population" else reps["sate"])
    groups = list(reps.groupby(["world", "scenario", "n"], sort=False))
    cols = min(len(groups), 4)
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(5, 4.2 * cols), 4.0 * rows), squeeze=False)
    multi = len(result.spec.learners) > 1
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    for ax, ((world, scen, n), g) in zip(axes.ravel(), groups):
        labels, data = [], []
        for (lrn, est), h in g.groupby(["learner", "estimator"], sort=False):
            labels.append(f"{est}\n{lrn}" if multi else est)
            data.append(h["err"].to_numpy())
        ax.violinplot(data, showmedians=True)
        ax.axhline(0, color="C3", lw=1, ls="--", label="truth")
        ax.set_xticks(np.arange(1, len(labels) + 1), labels, fontsize=8, rotation=30, ha="right")
        ax.set_title(_where(result, world, scen, n))
        ax.set_ylabel(f"estimate - {truth} ATE")
    fig.suptitle("Sampling distributions of the ATE estimates around the truth")
    fig.tight_layout()
    return fig


def _names(result, summ) -> list[str]:
    many = len(result.spec.worlds) > 1 or len(result.spec.scenarios) > 1 or len(result.spec.sizes) > 1
    return [f"{r.label} ({_where(result, r.world, r.scenario, r.n)})" if many else r.label
            for r in summ.itertuples()]


def plot_regret(recommendation):
    """Regret (RMSE / the world's best RMSE) of every configuration in every world; x marks a
    configuration unfit there (coverage significantly below nominal); deciding worlds in bold."""
    import matplotlib.pyplot as plt
    t = recommendation.table
    worlds = list(dict.fromkeys(t["world"]))
    methods = list(dict.fromkeys(zip(t["learner"], t["estimator"])))
    grid = t.set_index(["world", "learner", "estimator"])
    values = np.array([[grid.loc[(w, *m), "regret"] for w in worlds] for m in methods], dtype=float)
    shown = np.log2(np.clip(np.where(np.isfinite(values), values, 8.0), 1.0, 8.0))
    fig, ax = plt.subplots(figsize=(1.5 * len(worlds) + 3.2, 0.42 * len(methods) + 1.6))
    ax.imshow(shown, cmap="Reds", vmin=0, vmax=3, aspect="auto")
    for i, m in enumerate(methods):
        for j, w in enumerate(worlds):
            mark = " x" if grid.loc[(w, *m), "unfit"] else ""
            text = f"{values[i, j]:.2f}{mark}" if np.isfinite(values[i, j]) else "failed"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 2 else "black")
    ax.set_xticks(range(len(worlds)), worlds)
    for label, w in zip(ax.get_xticklabels(), worlds):
        label.set_fontweight("bold" if w in recommendation.decision_worlds else "normal")
    ax.set_yticks(range(len(methods)), [f"{e} | {lrn}" for lrn, e in methods], fontsize=8)
    ax.set_title("Regret (RMSE / best RMSE in the world); x = unfit; bold = deciding world", fontsize=9)
    fig.tight_layout()
    return fig


def plot_bias_rmse(result, *, truth: str = "population"):
    """Bias and RMSE per method with 95% Monte Carlo error bars."""
    import matplotlib.pyplot as plt
    summ = _cells(result, truth)
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * len(summ) + 1.8), sharey=True)
    y = np.arange(len(summ))[::-1]
    names = _names(result, summ)
    axes[0].errorbar(summ["bias"], y, xerr=1.96 * summ["bias_mcse"], fmt="o", capsize=3)
    axes[0].axvline(0, color="grey", ls=":")
    axes[0].set_xlabel("bias (95% MC error bars)")
    axes[0].set_yticks(y, names, fontsize=8)
    axes[1].errorbar(summ["rmse"], y, xerr=1.96 * summ["rmse_mcse"], fmt="s", capsize=3, color="C1")
    axes[1].set_xlabel("RMSE (95% MC error bars)")
    fig.tight_layout()
    return fig


def plot_coverage(result, *, truth: str = "population"):
    """CI coverage per method with 95% Wilson intervals against the nominal level."""
    import matplotlib.pyplot as plt
    summ = _cells(result, truth)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(summ) + 1.8))
    y = np.arange(len(summ))[::-1]
    names = _names(result, summ)
    under = (summ["coverage"] + 2 * summ["coverage_mcse"]) < result.spec.level
    colors = np.where(under, "C3", "C0")
    # Wilson score intervals: stay inside [0, 1] and do not collapse at 0% or 100%
    p = summ["coverage"].to_numpy(dtype=float)
    lower, upper = wilson_interval(p, summ["n_ok"].to_numpy(dtype=float))
    for yy, c, lo, hi, col in zip(y, p, lower, upper, colors):
        ax.errorbar(c, yy, xerr=[[max(c - lo, 0)], [max(hi - c, 0)]], fmt="o", capsize=3, color=col)
    ax.axvline(result.spec.level, color="k", ls="--", lw=1, label=f"nominal {result.spec.level:g}")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("coverage (95% Wilson intervals over the replicates; red: under-covers)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def write_simulation_report(result, out_dir, *, title: str = "Estimator simulation", extra=None,
                            lead=None, positivity=None, provenance: dict | None = None) -> dict:
    """Write report.md / report.html / report.json (and PNG figures) for a simulation.

    ``lead`` sections follow the recommendation; ``extra`` sections close the report.
    ``positivity``: the real data's :func:`~causalsynth.positivity.diagnose_positivity` report
    (after the lead; without it the report says the overlap was not diagnosed); ``provenance``:
    from :func:`causalsynth.report.provenance` (default: "Python API").
    """
    import pandas as pd
    summ = result.summary()
    show = ["world", "scenario", "n", "learner", "estimator", "bias", "bias_mcse", "variance", "rmse", "rmse_mcse",
            "coverage", "coverage_mcse", "ci_width", "se_ratio", "failure_rate", "seconds"]
    recs = result.recommendations()
    # one sentence per list item, one list per scenario and size
    sections = [Section("Recommendation", "\n\n".join("\n".join("- " + s for s in r.sentences()) for r in recs)),
                *(lead or []),
                *positivity_sections(positivity, missing="The simulation was given no real data here, so its "
                                     "overlap is not in this report: run causalsynth diagnose DATA, or pass "
                                     "positivity=causalsynth.diagnose_positivity(data) to write_report.")]
    if result.worlds:
        sections.append(Section("Worlds", "Every configuration is simulated in each world; the recommendation is "
                                "decided in the worlds built from no candidate's model class.",
                                pd.DataFrame(result.worlds)))
    for rec in recs:
        if rec.choice is not None:
            sections.append(Section("Regret across worlds" + (f" ({rec.scenario}, n={rec.n})" if rec.scenario else ""),
                                    "Regret = RMSE / the lowest RMSE in the world; p_best = share of bootstrap "
                                    "resamples of the replicates in which the configuration is chosen.",
                                    rec.scores, figure=plot_regret(rec)))
    sections += [
        Section("Ranking",
                "Methods ranked by RMSE against each world's population ATE; p_best is the share of 1,000 "
                "bootstrap resamples of the replicates (paired across methods when they share replicates) "
                "in which the method has the lowest RMSE.", result.ranking()),
        Section("Performance with Monte Carlo standard errors",
                f"{result.n_replicate_datasets} replicate datasets; truth = each world's population ATE. Measures "
                "and MC SEs follow Morris, White & Crowther (2019). se_ratio = mean reported SE / empirical SD.",
                summ[show]),
        Section("Sampling distributions", "", figure=plot_distributions(result)),
        Section("Bias and RMSE", "", figure=plot_bias_rmse(result)),
        Section("Coverage", "", figure=plot_coverage(result)),
        *(extra or []),
    ]
    return write_report(out_dir, title, sections, result.to_dict(), provenance=provenance)
