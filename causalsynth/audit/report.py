"""The sections of an audit report (rendered by :func:`causalsynth.report.write_report`).

The result is taken duck-typed (an :class:`~causalsynth.audit.AuditResult`), so this module
never imports the result class and the two cannot form an import cycle.
"""
from __future__ import annotations

from typing import Any

from .._checks import z_value
from ..report import Section

__all__ = ["report_sections"]


def _verdicts(result: Any) -> str:
    s = result.summary()
    lines = []
    for row in s.itertuples():
        if row.n_ok == 0:
            lines.append(f"{row.synthesizer}: every repeat failed.")
            continue
        keep = "keeps" if row.ate_preserved else "does NOT keep"
        lines.append(
            f"{row.synthesizer} ({row.kind}) {keep} the ATE: mean {row.estimator} {row.ate_mean:.4g} against "
            f"real {row.real_ate:.4g}, mean absolute error {row.ate_error:.4g} ({row.z_error:.2f} real SEs), "
            f"intervals overlap in {100 * row.ci_overlap:.0f}% of {row.n_ok} repeats; "
            f"utility {row.utility:.3f} (train on real {row.utility_trtr:.3f}), "
            f"detection AUC {row.detection_auc:.3f}.")
    return "\n\n".join(lines)


def report_sections(result: Any) -> list[Section]:
    st = result.settings
    z = z_value(result.level)
    intro = (
        f"Treatment {st['treatment']}, outcome {st['outcome']} ({st['outcome_type']}). The real data "
        f"({st['n_obs']} rows) was split once into {st['n_train']} training rows, which every "
        f"synthesizer and the real reference see, and {st['n_holdout']} holdout rows, the test set of "
        f"train-on-synthetic-test-on-real utility and the privacy baseline. Each synthesizer was fitted "
        f"{st['n_reps']} times and drew {st['n_synthetic']} rows each time. Estimators: "
        f"{', '.join(st['estimators'])} (primary: {result.primary_estimator}); propensity model: "
        f"{st['propensity_learner']}; outcome model: {st['outcome_learner']}.\n\n"
        f"A synthesizer keeps the ATE here when its mean absolute ATE error is below {z:.2f} real "
        "standard errors, i.e. on average its estimate falls inside the real interval.")
    summary = result.summary()
    main_cols = ["synthesizer", "kind", "n_ok", "n_failed", "real_ate", "ate_mean", "ate_sd", "ate_error",
                 "ate_error_se", "z_error", "ci_overlap", "sign_agree", "utility", "utility_trtr",
                 "detection_auc", "chi2"]
    fig_ate = result.plot_ate().figure
    fig_util = result.plot_utility_vs_error().figure
    fid_cols = ["synthesizer", "detection_auc", "chi2", "detection_auc_full", "chi2_full", "corr_diff",
                "max_column_distance"]
    base = result.baseline
    fid_text = (
        "Detection AUC and the chi-squared divergence are computed on the covariates (the law a "
        "downstream model is trained on) and on the full (W, A, Y) table (_full). The same metrics for "
        f"two random halves of the real training rows give the noise floor: detection AUC "
        f"{base['detection_auc']:.3f}, chi-squared {base['chi2']:.3f} (full table: "
        f"{base['detection_auc_full']:.3f}, {base['chi2_full']:.3f}), largest column distance "
        f"{base['max_column_distance']:.3f}.")
    priv_cols = ["synthesizer", "exact_copy_share", "closer_to_train_share", "membership_auc", "dcr_median"]
    nuis_cols = ["synthesizer", "treated_share", "propensity_ks", "overlap"]
    nuis_text = (f"Propensity models fitted on each synthetic draw against the real one: the KS distance "
                 f"between the two propensity distributions and the share of rows with propensity in "
                 f"[0.1, 0.9] (real: {base['overlap']:.3f}; real treated share {base['treated_share']:.3f}).")
    sub = result.subgroups()
    fig_sub = result.plot_subgroups().figure if len(sub) else None
    sections = [
        Section("Setting", intro),
        Section("Verdict", _verdicts(result), summary[main_cols]),
        Section("ATE by synthesizer", "Each point is one repeat with its interval; diamonds are means; the "
                "band is the real interval.", result.ate_table(), fig_ate),
        Section("Utility against ATE error", "Points far right and high up predict the outcome well and still "
                "miss the effect.", None, fig_util),
        Section("Fidelity", fid_text, summary[fid_cols]),
        Section("Per-column distances", "Kolmogorov-Smirnov statistic (numeric columns) or total "
                "variation (categorical and binary columns), mean over repeats.", result.column_fidelity()),
        Section("Privacy (distance to closest record, covariates)",
                "Exact copies of training rows, the share of synthetic rows closer to the training rows "
                "than to the holdout (ideal 0.5) and the membership-inference AUC (ideal 0.5).",
                summary[priv_cols]),
        Section("Nuisance adequacy", nuis_text, summary[nuis_cols]),
        Section("Subgroups", "Group effects as means of AIPW pseudo-outcomes; 'truth_mean' is the hybrid's "
                "own conditional effect averaged over the group; 'flagged' is the share of repeats whose "
                "group estimate lies outside the real group interval.", sub, fig_sub),
        Section("Model-comparison consistency", "Spearman rank correlation of the outcome learners' "
                "utility (synthetic-trained against real-trained) and of the estimators' ATEs.",
                result.consistency()),
    ]
    fails = result.failures()
    if len(fails):
        sections.append(Section("Failed repeats", "", fails))
    return sections
