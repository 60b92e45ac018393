r"""Targeted synthetic augmentation where overlap fails (see :mod:`causalsynth.positivity`).

The construction, for the estimated propensity :math:`\hat e` (cross-fitted) and a bound
:math:`\delta`. A unit with :math:`\hat e_i > 1-\delta` that is treated (or with
:math:`\hat e_i < \delta` and control) is a *source*: at its covariates the other arm, the
*missing arm*, is nearly empty. Each source gets :math:`k_i \ge 1` synthetic records in the
missing arm, with covariates near :math:`W_i` and outcomes drawn from an outcome model that
never saw the source's fold. Weights then split the source's unit mass:

.. math::
    \omega_i = 1 - c_i \text{ (source)},\quad \omega_t = c_i / k_i \text{ (each record)},\quad
    c_i = 1 - \tilde e_i / \hat e_i \ \text{(above)},\ \
    c_i = 1 - (1 - \tilde e_i)/(1 - \hat e_i)\ \text{(below)},

with :math:`\tilde e_i = \operatorname{clip}(\hat e_i, \delta, 1-\delta)`. Every other row
has weight 1, so the weights sum to :math:`n` and the weighted covariate law is the
original one (up to the small displacement of the records from their source). At a
selected location the treated share of the weighted data is exactly :math:`\tilde e`: a
unit there is treated with probability :math:`\hat e` (when the propensity model is right)
and keeps mass :math:`1-c`, so the
treated mass is :math:`\hat e(1-c) = \tilde e` and the rest, :math:`1 - \tilde e`, is the
real controls plus the synthetic fill-in. Weighted estimators that use :math:`\tilde e` as
the propensity therefore target the ATE over the original covariate law; the price is that
the fill-in share of the missing arm's mean there comes from the outcome model.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logit

from .._checks import check_int, check_level, resolve_bounds
from .._random import RandomState, as_seed_sequence
from .._resample import bootstrap_within_arms, make_folds
from ..data import check_data, main_terms
from ..errors import SpecError
from ..estimators import (DEFAULT_ESTIMATORS, EstimateOptions, EstimateResult, EstimateRow, estimate_from_nuisance,
                          select_estimators)
from ..report.render import SummaryView, View
from ..learners import resolve_learner
from ..nuisance import NuisanceFit
from .diagnose import PositivityReport, diagnose, propensity_out_of_fold
from .spec import AugmentSpec, Generator, Uncertainty
from .records import (_ArmModels, ensemble_spread, ext_ensemble, fit_fold_models, hybrid_covariates,
                      local_covariates, record_outcomes, select_sources, shift_metrics)

__all__ = ["augment_positivity", "AugmentationResult", "AugmentSpec", "Generator", "Uncertainty"]

MARKER_PREFIX = "aug_"
#: The default budget fills at most this share of the arm it fills with synthetic records.
MAX_FILL = 0.5
#: A source whose logit propensity is farther than this from that of every real unit of the arm
#: its records fill (an odds ratio of e^4, about 55) lies beyond that arm's support: its records'
#: outcomes are extrapolations of the outcome model. Data-only augmentation is risky when the
#: fill-in-weighted median source lies beyond it.
LOGIT_GAP = 4.0


def _weighted(names, data, e, mu0, mu1, weights, bounds, outcome_bounds, level: float = 0.95) -> EstimateResult:
    """The estimates of ``names`` on augmented rows with their case weights (``e`` unclipped)."""
    fit = NuisanceFit(propensity=e, mu0=mu0, mu1=mu1, folds=np.zeros(data.n_obs, dtype=int), n_folds=1,
                      or_correction=None, propensity_learner="", outcome_learner="")
    return estimate_from_nuisance(data, fit, names, level=level, propensity_bounds=bounds, weights=weights,
                                  options=EstimateOptions(outcome_bounds=outcome_bounds))


@dataclass(frozen=True, eq=False, kw_only=True)
class AugmentationResult(SummaryView):
    r"""Original data plus targeted synthetic records, with weights that restore the original law.

    Attributes
    ----------
    data : CausalData, the original rows (first ``n_original``) then the synthetic records.
    original : the input CausalData.
    added : DataFrame, one row per synthetic record: ``row`` (position in ``data``),
        ``synthetic`` (True), ``source_index`` (position of the completed unit in
        ``original``), ``arm`` (the missing arm filled), ``fold`` (the fold whose model
        produced the outcome: it was trained on ``training_rows[fold]``, which excludes the
        source), ``member`` (ensemble member, -1 = the fold's main model), ``region_id``,
        ``region`` (rule of the diagnostic tree's leaf holding the source), ``flagged_region``,
        ``weight``, ``pseudo_propensity``, ``source_propensity``, ``outcome_sd`` (ensemble
        disagreement at the source), ``prediction`` (model mean before noise).
    n_candidates : low-overlap units in their location's common arm (possible sources).
    weights : array (n_original + n_added,), :math:`\omega`; sums to ``n_original``.
    pseudo_propensity : array, :math:`\tilde e` for every row of ``data``.
    mu0, mu1 : arrays, cross-fitted outcome predictions for every row of ``data``.
    folds : array (n_original,), fold of each original row.
    training_rows : dict fold -> original rows that fold's outcome models were fitted on.
    original_fit : NuisanceFit of the original rows (same folds and models).
    diagnostics : PositivityReport of the original data.
    smd : DataFrame of standardized mean differences, augmented (and weighted) vs original.
    mmd : dict with ``unweighted``, ``weighted`` and ``reference`` (two random halves of the
        original) maximum mean discrepancies.
    spec : the :class:`~causalsynth.positivity.AugmentSpec` it was made with (``if_risky`` as
        the bootstrap must repeat it), and ``external`` the external data, if any.
    """

    data: Any
    original: Any
    added: pd.DataFrame = field(repr=False)
    weights: np.ndarray = field(repr=False)
    pseudo_propensity: np.ndarray = field(repr=False)
    mu0: np.ndarray = field(repr=False)
    mu1: np.ndarray = field(repr=False)
    folds: np.ndarray = field(repr=False)
    training_rows: dict = field(repr=False)
    original_fit: NuisanceFit = field(repr=False)
    diagnostics: PositivityReport = field(repr=False)
    smd: pd.DataFrame = field(repr=False)
    mmd: dict
    budget: int
    delta: float
    generator: str
    uncertainty: str
    n_candidates: int
    outcome_learner: str
    spec: AugmentSpec | None = field(default=None, repr=False)  # the settings, for the bootstrap
    external: Any = field(default=None, repr=False)  # augment_positivity's external data, for the bootstrap
    budget_rule: str = ""
    risk: dict = field(default_factory=dict)  # see _risk(): logit-propensity gap, extrapolated share, verdict
    outcome_source: str = "cross-fitted models of the original data"

    @property
    def n_original(self) -> int:
        return self.original.n_obs

    @property
    def n_added(self) -> int:
        return len(self.added)

    def frame(self) -> pd.DataFrame:
        """The augmented table with marker columns ``aug_synthetic``, ``aug_weight``,
        ``aug_pseudo_propensity``, ``aug_source_index``, ``aug_fold``, ``aug_region``."""
        out = self.data.frame
        n = self.n_original
        markers = {"synthetic": np.r_[np.zeros(n, bool), np.ones(self.n_added, bool)],
                   "weight": self.weights, "pseudo_propensity": self.pseudo_propensity,
                   "source_index": np.r_[np.full(n, -1), self.added["source_index"].to_numpy()],
                   "fold": np.r_[self.folds, self.added["fold"].to_numpy()],
                   "region": np.r_[np.full(n, ""), self.added["region"].to_numpy()].astype(object)}
        for key, values in markers.items():
            name = MARKER_PREFIX + key
            while name in out.columns:
                name = "_" + name
            out[name] = values
        return out

    def estimate(self, *, estimators=DEFAULT_ESTIMATORS, level: float = 0.95,
                 propensity_bounds=(0.01, 0.99), outcome_bounds=None, se_method: str = "influence",
                 n_bootstrap: int = 200, random_state: RandomState = None, progress: bool | None = None):
        r"""Weighted estimates of the ATE over the original covariate law.

        Uses :math:`\tilde e`, the cross-fitted outcome predictions and the weights
        :math:`\omega` (no refit).

        propensity_bounds : clipping of :math:`\tilde e`: a pair, or ``"adaptive"``
            (:math:`5/(\sqrt n \ln n)` for the ``n`` original rows).
        se_method : "influence" (default, instant) uses the weighted influence function and treats
            the synthetic outcomes as data, so it ignores the outcome model's uncertainty and
            is too small for the model-based estimators. "bootstrap" redoes the whole
            augmentation (folds, models, records, weights) on ``n_bootstrap`` resamples of the
            original rows, drawn within each arm, and reports the standard deviation of the
            estimates; intervals are estimate +- z SE. It costs ``n_bootstrap`` augmentations.
        random_state, progress : for the bootstrap (progress: show a bar; None: on a terminal).
        """
        names, _ = select_estimators(estimators, weighted=True)
        if se_method not in ("influence", "bootstrap"):
            raise SpecError(f"se_method must be 'influence' or 'bootstrap'; got {se_method!r}")
        check_level(level)
        lo, hi = resolve_bounds(propensity_bounds, self.n_original)
        d = self.data
        point = _weighted(names, d, self.pseudo_propensity, self.mu0, self.mu1, self.weights, (lo, hi),
                          outcome_bounds, level)
        if se_method == "bootstrap":
            boot_se, n_ok = self._bootstrap_se(names, n_bootstrap, (lo, hi), outcome_bounds, random_state,
                                               progress)
            note = f"weighted to the original covariate law; SE from {n_ok} bootstrap augmentations"
            method = (f"bootstrap of the whole augmentation ({n_ok} of {n_bootstrap} resamples within arms); "
                      "point estimates from the weighted rows")
            se = boot_se
        else:
            note = "weighted to the original covariate law; SE treats synthetic outcomes as data (too small)"
            method = (f"weighted influence function over {d.n_obs} rows ({self.n_added} synthetic; "
                      "treated as data, so too small)")
            se = {r.estimator: r.std_error for r in point.rows}
        rows = tuple(EstimateRow(estimator=r.estimator, ate=r.ate, std_error=se[r.estimator], mu1=r.mu1, mu0=r.mu0,
                                 note=note) for r in point.rows)
        o, pp = self.original, self.pseudo_propensity
        return EstimateResult(
            rows=rows, level=float(level), n_obs=o.n_obs, n_treated=o.n_treated, treatment=o.treatment,
            outcome=o.outcome, outcome_type=o.outcome_type, propensity_learner=self.original_fit.propensity_learner,
            outcome_learner=self.outcome_learner, n_folds=int(self.folds.max()) + 1, se_method=method,
            propensity=pp, n_clipped=int(np.sum((pp < lo) | (pp > hi))), propensity_bounds=(lo, hi))

    def _bootstrap_se(self, names, n_bootstrap, bounds, outcome_bounds, random_state, show):
        import warnings

        from ..errors import CausalSynthError, EstimationError
        from ..progress import progress
        n_bootstrap = check_int("n_bootstrap", n_bootstrap, 20)
        if self.spec is None:
            raise SpecError("this AugmentationResult does not carry its settings; rerun augment_positivity")
        o = self.original
        draws, failed = [], 0
        seeds = as_seed_sequence(random_state).spawn(n_bootstrap)
        for child in progress(seeds, desc="bootstrap augmentations", total=n_bootstrap, show=show):
            s_rows, s_aug = child.spawn(2)
            rows = bootstrap_within_arms(o.a, np.random.default_rng(s_rows), order=(0, 1))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # copies of a unit share a fold: cross-fitting stays out-of-unit
                    aug = augment_positivity(o.subset(rows), self.spec, external=self.external,
                                             random_state=s_aug, _groups=rows)
                    d, e, mu0, mu1, w = aug.data, aug.pseudo_propensity, aug.mu0, aug.mu1, aug.weights
                    if self.risk.get("withheld") is not None:  # as the point estimate: no records
                        f = aug.original_fit
                        d, e, mu0, mu1, w = aug.original, f.propensity, f.mu0, f.mu1, np.ones(aug.n_original)
                    res = _weighted(names, d, e, mu0, mu1, w, bounds, outcome_bounds)
                    draws.append([res[name] for name in names])
            except CausalSynthError:
                failed += 1
        if len(draws) < max(10, (n_bootstrap + 1) // 2):
            raise EstimationError(f"only {len(draws)} of {n_bootstrap} bootstrap augmentations succeeded; "
                                  "the data are too small or too separated for a bootstrap SE")
        if failed:
            warnings.warn(f"{failed} of {n_bootstrap} bootstrap augmentations failed and were dropped",
                          RuntimeWarning, stacklevel=3)
        sd = np.std(np.asarray(draws), axis=0, ddof=1)
        return dict(zip(names, map(float, sd))), len(draws)

    def summary(self) -> pd.DataFrame:
        a = self.data.a
        w = self.weights
        rows = [("n_original", self.n_original), ("n_candidates", self.n_candidates),
                ("budget", self.budget), ("budget_rule", self.budget_rule), ("n_added", self.n_added),
                ("outcome_source", self.outcome_source),
                ("extrapolated_share", self.risk.get("extrapolated_share", float("nan"))),
                ("median_logit_gap", self.risk.get("median_logit_gap", float("nan"))),
                ("verdict", self.risk.get("verdict", "")),
                ("n_sources", int(self.added["source_index"].nunique()) if self.n_added else 0),
                ("treated_share_original", float(self.original.a.mean())),
                ("treated_share_augmented", float(a.mean())),
                ("treated_share_weighted", float(np.sum(w * a) / np.sum(w))),
                ("max_abs_smd_augmented", float(self.smd["smd_augmented"].abs().max())),
                ("max_abs_smd_weighted", float(self.smd["smd_weighted"].abs().max())),
                ("mmd_augmented", self.mmd["unweighted"]), ("mmd_weighted", self.mmd["weighted"]),
                ("mmd_reference_halves", self.mmd["reference"])]
        return pd.DataFrame(rows, columns=["metric", "value"], dtype=object)

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        out = {r.metric: r.value for r in self.summary().itertuples()}
        regions = (self.added.groupby("region").size().rename("n_added").reset_index()
                   if self.n_added else pd.DataFrame(columns=["region", "n_added"]))
        out.update(withheld=int(self.risk.get("withheld", 0)), withheld_reason=self.risk.get("reason"))
        out.update(delta=self.delta, generator=self.generator, uncertainty=self.uncertainty,
                   outcome_learner=self.outcome_learner, added_by_region=regions, smd=self.smd,
                   estimand="ATE over the original covariate law (weighted); the unweighted "
                            "augmented rows target the ATE over the augmented covariate law")
        return json_safe(out)

    def _lines(self) -> list[str]:
        s = {r.metric: r.value for r in self.summary().itertuples()}
        lines = [f"Positivity augmentation: {self.n_added} synthetic records (budget {self.budget}) "
                 f"for {int(s['n_sources'])} of {self.n_candidates} candidate units; generator "
                 f"{self.generator}, allocation by {self.uncertainty}",
                 f"  treated share {s['treated_share_original']:.3f} -> {s['treated_share_augmented']:.3f} "
                 f"(weighted {s['treated_share_weighted']:.3f})",
                 f"  covariate shift: max |SMD| {s['max_abs_smd_augmented']:.3f} unweighted, "
                 f"{s['max_abs_smd_weighted']:.3f} weighted; MMD {s['mmd_augmented']:.4f} unweighted, "
                 f"{s['mmd_weighted']:.4f} weighted (scale: two random halves of the original differ by "
                 f"{s['mmd_reference_halves']:.4f})",
                 "  estimand: with .weights (AugmentationResult.estimate), the ATE over the original "
                 "covariate law; the unweighted rows target the ATE over the augmented law",
                 f"  budget: {self.budget_rule}" if self.budget_rule else "",
                 f"  record outcomes: {self.outcome_source}",
                 f"  expected effect: {self.risk.get('verdict', 'not assessed')}"
                 + (f" (fill-in-weighted median logit-propensity gap {self.risk['median_logit_gap']:.1f})"
                    if np.isfinite(self.risk.get("median_logit_gap", np.nan)) else ""),
                 f"  {self.risk['reason']}" if self.risk.get("reason") else ""]
        lines = [line for line in lines if line]
        if self.n_added:
            for region, count in self.added.groupby("region").size().items():
                lines.append(f"  {count} records for region {region}")
        return lines

    def _view(self) -> View:
        """``print(result)``: the numbers of summary() in words (:meth:`_lines`)."""
        lines = self._lines()
        return View(lines[0], lines=tuple(lines[1:]))

    def plot(self, ax: Any = None) -> Any:
        """Propensity against the tree's first split covariate: real rows and synthetic records."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.8))
        diag = self.diagnostics
        diag.plot_regions(ax=ax)
        if self.n_added and diag.covariate_name is not None:
            X, names = main_terms(self.data.frame.iloc[self.n_original:], self.original.covariates,
                                  self.original.covariate_kinds)
            x = X[:, names.index(diag.covariate_name)]
            ax.scatter(x, self.added["source_propensity"], marker="x", s=14, color="C3",
                       label=f"synthetic (n={self.n_added})")
            ax.legend()
        ax.set_title("Low-overlap units and synthetic records")
        return ax

    def sections(self) -> list:
        import matplotlib.pyplot as plt

        from ..report.render import Section
        fig, ax = plt.subplots(figsize=(6.5, 4))
        self.plot(ax=ax)
        est = self.estimate().summary().drop(columns="note")
        return [*self.diagnostics.sections(),
                Section("Augmentation", "\n".join(self._lines()), self.summary(), fig),
                Section("Covariate shift", "Standardized mean differences of the augmented data "
                        "against the original, without and with the augmentation weights.", self.smd),
                Section("Weighted estimates", "Estimators on the augmented data with the weights that "
                        "restore the original covariate law; their standard errors treat synthetic "
                        "outcomes as data and are too small.", est)]

    def write_report(self, out_dir, *, provenance: dict | None = None) -> dict:
        """Markdown, HTML, JSON and PNG files in ``out_dir`` (its positivity sections first);
        ``provenance`` from :func:`causalsynth.report.provenance` (default: "Python API")."""
        from ..report.render import write_report
        return write_report(out_dir, "Positivity augmentation", self.sections(), self.to_dict(),
                            stem="augmentation", provenance=provenance)


def augment_positivity(data, spec: AugmentSpec | None = None, *, external: Any = None,
                       random_state: RandomState = None, _groups: np.ndarray | None = None) -> AugmentationResult:
    r"""Add synthetic records in the missing arm near units that lack overlap.

    Parameters
    ----------
    data : CausalData
    spec : :class:`~causalsynth.positivity.AugmentSpec`, the settings: budget, ``delta``,
        learners, covariate generator, folds, ensemble, bandwidth, noise, tree depth and
        ``if_risky`` (default: ``AugmentSpec()``).
    external : a CausalData with the same roles and covariates, for example a randomized
        study: the records' outcomes come from outcome models fitted on it (and its ensemble
        refits) instead of on the original rows. This assumes the outcome regression
        transports from the external population to this one; the result states it.
    random_state : seeds folds, learners, covariates and outcome noise.

    The steps: :func:`_fit_original` (folds, cross-fitted propensity and outcome models, the
    diagnosis), :func:`_choose_sources` (low-overlap units, their scores, the budget),
    :func:`_draw_records` (covariates near each source, cross-fitted outcomes, weights), then
    :func:`_judge` (the risk verdict and what ``if_risky`` does with it).

    When the records are expected to hurt (data-only outcomes, with half the fill-in mass at
    units whose logit propensity is more than ``LOGIT_GAP`` (4) from that of every real unit
    of the arm they fill, so their outcomes are extrapolated), ``spec.if_risky`` decides:
    "withhold" (default) adds no record: the result holds the original data unchanged
    (``n_added == 0``, unit weights) with the reason in ``result.risk["reason"]`` and a
    PositivityWarning, so estimates on it are those of the original rows; "warn" adds the
    records with a PositivityWarning; "refuse" raises SpecError; "ignore" adds them silently.
    ``result.risk`` holds the diagnostics.

    Returns
    -------
    AugmentationResult
        Weighted estimators on it (:meth:`AugmentationResult.estimate`) target the ATE over
        the original covariate law; the unweighted augmented rows target the ATE over the
        augmented covariate law, which differs whenever the effect varies with the covariates.
    """
    data = check_data(data)
    spec = _as_spec(spec)
    spec.check_arms(data.n_treated, data.n_control)
    seeds = dict(zip(("fold", "prop", "out", "ens", "gen", "y", "mmd"), as_seed_sequence(random_state).spawn(7)))
    orig = _fit_original(data, spec, seeds, _groups)
    ext = _external_models(external, orig["learner"], data, orig["folds"], seeds["out"]) if external is not None else None
    chosen = _choose_sources(data, spec, orig, ext, seeds["ens"])
    rec = _draw_records(data, spec, orig, chosen, ext, seeds)
    return _judge(data, spec, orig, chosen, rec, external, seeds["mmd"])


def _as_spec(spec) -> AugmentSpec:
    if spec is None:
        return AugmentSpec()
    if not isinstance(spec, AugmentSpec):
        raise SpecError(f"spec must be an AugmentSpec; got {type(spec).__name__}. Build one with "
                        "causalsynth.positivity.AugmentSpec(budget=..., delta=...).")
    return spec


def _fit_original(data, spec: AugmentSpec, seeds: dict, groups) -> dict:
    """Folds, the cross-fitted propensity and outcome models of the original rows, the diagnosis."""
    folds = make_folds(data.a, spec.n_folds, seeds["fold"], groups=groups)
    e, p_desc = propensity_out_of_fold(data, spec.propensity, folds, seeds["prop"])
    diag = diagnose(data, e, delta=spec.delta, learner=p_desc, n_folds=spec.n_folds, max_depth=spec.max_depth)
    learner = resolve_learner(spec.outcome, role="outcome", data=data)
    models, sigma, training_rows, mu0, mu1 = fit_fold_models(learner, data, folds, seeds["out"])
    return {"folds": folds, "e": e, "p_desc": p_desc, "diag": diag, "learner": learner, "models": models,
            "sigma": sigma, "training_rows": training_rows, "mu0": mu0, "mu1": mu1}


def _choose_sources(data, spec: AugmentSpec, orig: dict, ext: dict | None, seed) -> dict:
    """Low-overlap units, the arm missing at each, their fill-in mass and score, the budget spent."""
    e, folds = orig["e"], orig["folds"]
    et, extreme, rare, c, eligible = _low_overlap(e, data.a, spec.delta)
    budget, rule = _budget(spec.budget, data, rare, eligible)
    if spec.uncertainty == "none":
        members, spread = {}, np.full(len(extreme), np.nan)
    elif ext:
        members, spread = ext_ensemble(ext, data, extreme, rare, folds, spec.n_models, seed)
    else:
        members, spread = ensemble_spread(orig["learner"], data, folds, orig["training_rows"], extreme, rare,
                                          spec.n_models, seed)
    score = np.nan_to_num(c * (spread if spec.uncertainty == "ensemble" else 1.0), nan=0.0)
    selected, src_pos, counts, budget_used = select_sources(score, eligible, budget)
    return {"et": et, "extreme": extreme, "rare": rare, "c": c, "eligible": eligible, "rule": rule,
            "members": members, "spread": spread, "selected": selected, "src_pos": src_pos,
            "counts": counts, "budget_used": budget_used}


def _draw_records(data, spec: AugmentSpec, orig: dict, chosen: dict, ext: dict | None, seeds: dict) -> dict:
    """Covariates near each chosen source, outcomes from models that never saw its fold, weights."""
    e, folds = orig["e"], orig["folds"]
    et, extreme, rare, c = chosen["et"], chosen["extreme"], chosen["rare"], chosen["c"]
    selected, src_pos, counts = chosen["selected"], chosen["src_pos"], chosen["counts"]
    pseudo = e.copy()
    pseudo[extreme[selected]] = et[extreme[selected]]
    weights = np.ones(data.n_obs)
    weights[extreme[src_pos]] = 1 - c[src_pos]
    rec_pos = np.repeat(src_pos, counts)  # position among `extreme`
    src = extreme[rec_pos]  # original row of each record's source
    Wt = _record_covariates(data, spec.generator, src, float(spec.bandwidth), seeds["gen"])
    rec_fold, rec_arm = folds[src], rare[rec_pos]
    y_rec, pred, member, rec_mu0, rec_mu1 = record_outcomes(
        data, Wt, ext["models"] if ext else orig["models"], chosen["members"], ext["sigma"] if ext else orig["sigma"],
        rec_fold, rec_arm, counts, spec.noise, np.random.default_rng(seeds["y"]))
    rec_weight = np.repeat(c[src_pos] / counts, counts) if len(src) else np.zeros(0)
    rec_frame = Wt.copy()
    rec_frame.insert(0, data.outcome, y_rec)
    rec_frame.insert(0, data.treatment, rec_arm.astype(np.int64))
    aug = data.with_frame(pd.concat([data.frame, rec_frame], ignore_index=True)) if len(src) else data
    rec_sd = chosen["spread"][rec_pos]
    added = _added_table(orig["diag"], data.n_obs, src, rec_arm, rec_fold, member, rec_weight, et, e, rec_sd, pred)
    return {"aug": aug, "added": added, "pseudo": pseudo, "weights": np.r_[weights, rec_weight], "src": src,
            "rec_arm": rec_arm, "rec_weight": rec_weight, "rec_sd": rec_sd, "rec_mu0": rec_mu0,
            "rec_mu1": rec_mu1, "Wt": Wt}


def _judge(data, spec: AugmentSpec, orig: dict, chosen: dict, rec: dict, external, mmd_seed) -> AugmentationResult:
    """The risk verdict, what ``if_risky`` does with it, and the result."""
    n, e, src = data.n_obs, orig["e"], rec["src"]
    aug, added, all_w, pseudo, budget_used = rec["aug"], rec["added"], rec["weights"], rec["pseudo"], chosen["budget_used"]
    rec_mu0, rec_mu1 = rec["rec_mu0"], rec["rec_mu1"]
    smd, shift = shift_metrics(data, rec["Wt"], all_w, mmd_seed)
    max_smd = float(smd["smd_augmented"].abs().max()) if len(smd) else 0.0
    risk = _risk(data, e, src, rec["rec_arm"], rec["rec_weight"], rec["rec_sd"], max_smd, external is not None)
    _act_on_risk(risk, spec.if_risky)
    kept = replace(spec, if_risky="ignore")  # the bootstrap re-augments with the verdict already taken
    if risk["verdict"].startswith("risky") and spec.if_risky == "withhold":
        # records expected to hurt are not handed back: the original rows, unit weights, the reason
        risk = {**risk, "withheld": int(len(src)), "reason": _withheld_reason(risk)}
        aug, added, all_w, pseudo, budget_used = data, added.iloc[:0], np.ones(n), e.copy(), 0
        src, rec_mu0, rec_mu1 = src[:0], rec_mu0[:0], rec_mu1[:0]
        smd, shift = shift_metrics(data, rec["Wt"].iloc[:0], all_w, mmd_seed)
        kept = spec
    source = (f"models fitted on the external data ({external.n_obs} rows; assumes the outcome regression "
              "transports from the external population to this one)" if external is not None
              else "cross-fitted models of the original data")
    fit = NuisanceFit(e, orig["mu0"], orig["mu1"], orig["folds"], spec.n_folds, None, orig["p_desc"],
                      orig["learner"].description)
    return AugmentationResult(
        data=aug, original=data, added=added, weights=all_w, pseudo_propensity=np.r_[pseudo, chosen["et"][src]],
        mu0=np.r_[orig["mu0"], rec_mu0], mu1=np.r_[orig["mu1"], rec_mu1], folds=orig["folds"],
        training_rows=orig["training_rows"], original_fit=fit, diagnostics=orig["diag"], smd=smd, mmd=shift,
        budget=int(budget_used), delta=spec.delta, generator=spec.generator, uncertainty=spec.uncertainty,
        n_candidates=int(chosen["eligible"].sum()), outcome_learner=orig["learner"].description,
        spec=kept, external=external, budget_rule=chosen["rule"], risk=risk, outcome_source=source)


def _budget(budget, data, rare: np.ndarray, eligible: np.ndarray) -> tuple[int | None, str]:
    """The budget to spend and the rule that set it."""
    if budget is None:
        return None, "one record per low-overlap unit (unbounded)"
    if budget != "auto":
        return int(budget), "given"
    caps = []
    for arm in (0, 1):
        size = int(np.sum(data.a == arm))
        caps.append(min(int(np.sum(eligible & (rare == arm))), int(MAX_FILL * size)))
    return int(sum(caps)), (f"one record per low-overlap unit, at most {MAX_FILL:.0%} of the arm it fills "
                            f"({data.n_control} controls, {data.n_treated} treated)")


def _external_models(external, learner, data, folds, seed) -> dict:
    """Outcome models fitted on external data, used for every record whatever its source's fold
    (no original row trains them, so no record comes from a model that saw its source)."""
    ext = _align(external, data)
    main = _ArmModels.fit(learner, ext, np.arange(ext.n_obs), seed.spawn(1)[0])
    W, a, y = ext.covariate_frame, ext.a, ext.y
    sd = {arm: float(np.std(y[a == arm] - main.predict(W[a == arm], arm), ddof=1)) for arm in (0, 1)}
    n_folds = int(folds.max()) + 1
    return {"data": ext, "learner": learner, "models": {k: main for k in range(n_folds)},
            "sigma": {(k, arm): sd[arm] for k in range(n_folds) for arm in (0, 1)}}


def _align(external, data):
    """The external data with the original roles, covariates and categories."""
    from ..data import CausalData
    if not isinstance(external, CausalData):
        raise SpecError(f"external must be a CausalData with the roles of the data; got {type(external).__name__}")
    missing = [c for c in (data.treatment, data.outcome, *data.covariates) if c not in external.frame.columns]
    if missing:
        raise SpecError(f"external lacks the columns {missing} of the data")
    frame = external.frame
    for col in data.categorical:
        cats = data.frame[col].cat.categories
        frame[col] = pd.Categorical(frame[col].astype(object), categories=cats)
        if frame[col].isna().any():
            raise SpecError(f"external column {col!r} holds categories the data lack; align them first")
    return CausalData(frame, treatment=data.treatment, outcome=data.outcome, covariates=list(data.covariates),
                      categorical=list(data.categorical), constant="keep", _derived=True)


def _risk(data, e: np.ndarray, src: np.ndarray, rec_arm: np.ndarray, rec_weight: np.ndarray,
          rec_sd: np.ndarray, max_smd: float, has_external: bool) -> dict:
    """Are the records expected to help? How far each source lies, in logit propensity, from
    the nearest real unit of the arm its records fill (the outcome model has seen no unit of
    that arm at such propensities, so it extrapolates there), the share of the fill-in mass
    beyond :data:`LOGIT_GAP`, the ensemble disagreement at the sources and the covariate shift.

    The verdict uses the fill-in-weighted median gap: on the designs of ``docs/positivity.md``
    it stayed near or below 3 where data-only records helped IPW (a gradual propensity,
    records next to real units of the filled arm) and above 7 where they hurt
    (near-deterministic treatment, Xu 2026). A heuristic calibrated on those designs, stated
    as such in the warning. The ensemble spread is reported, not used: bootstrap refits of one
    model class agree with each other exactly where none of them has data.
    """
    if not len(src):
        return {"n_records": 0, "extrapolated_share": 0.0, "median_logit_gap": float("nan"),
                "verdict": "nothing to add"}
    le = logit(np.clip(e, 1e-9, 1 - 1e-9))
    gap = np.empty(len(src))
    for arm in (0, 1):
        idx = np.flatnonzero(rec_arm == arm)
        if len(idx):
            ref = np.sort(le[data.a == arm])
            pos = np.clip(np.searchsorted(ref, le[src[idx]]), 1, len(ref) - 1)
            gap[idx] = np.minimum(np.abs(le[src[idx]] - ref[pos - 1]), np.abs(le[src[idx]] - ref[pos]))
    total = float(np.sum(rec_weight))
    share = float(np.sum(rec_weight[gap > LOGIT_GAP]) / total) if total > 0 else 0.0
    order = np.argsort(gap)
    cum = np.cumsum(rec_weight[order])
    median_gap = float(gap[order][np.searchsorted(cum, cum[-1] / 2)]) if total > 0 else float(np.median(gap))
    sd = rec_sd[np.isfinite(rec_sd)]
    if has_external:
        verdict = "outcomes from external data: expected to help if the outcome regression transports"
    elif median_gap > LOGIT_GAP:
        verdict = "risky: expected to hurt unless the outcome model extrapolates correctly"
    else:
        verdict = "expected to help: the records stay near real units of the arm they fill"
    return {"n_records": int(len(src)), "extrapolated_share": share, "median_logit_gap": median_gap,
            "logit_gap_threshold": LOGIT_GAP, "ensemble_sd": float(np.mean(sd)) if len(sd) else float("nan"),
            "max_abs_smd": float(max_smd), "verdict": verdict}


def _withheld_reason(risk: dict) -> str:
    return (f"{risk['n_records']} records withheld (if_risky='withhold', the default): the fill-in-weighted median "
            f"logit-propensity gap to the arm they fill is {risk['median_logit_gap']:.1f} > {LOGIT_GAP:g}, so their "
            "outcomes would be extrapolations expected to hurt the estimates; the data are returned unchanged. "
            "Pass if_risky='ignore' (CLI: --if-risky ignore) to add them anyway.")


def _act_on_risk(risk: dict, if_risky: str) -> None:
    if not risk.get("verdict", "").startswith("risky") or if_risky == "ignore":
        return
    import warnings

    from ..errors import PositivityWarning
    msg = (f"positivity augmentation is expected to hurt here: half the fill-in mass sits at units whose logit "
           f"propensity is more than {risk['median_logit_gap']:.1f} from that of every real unit of the arm it fills "
           f"({100 * risk['extrapolated_share']:.0f}% beyond {LOGIT_GAP:g}, an odds ratio of {np.exp(LOGIT_GAP):.0f}; a "
           "heuristic, see docs/positivity.md), so those records' outcomes are extrapolations of a model fitted on the same data (they add no "
           "information). Prefer estimand='trimmed', 'att' or 'overlap', or pass external= data (for "
           "example a randomized study) for the records' outcomes.")
    if if_risky == "refuse":
        raise SpecError(msg + " (if_risky='refuse'; pass if_risky='warn' to augment anyway)")
    if if_risky == "withhold":
        msg = ("no records added: " + msg + " The result holds the original data unchanged "
               "(if_risky='withhold', the default); pass if_risky='ignore' or 'warn' to add them anyway.")
    warnings.warn(msg, PositivityWarning, stacklevel=3)


def _low_overlap(e: np.ndarray, a: np.ndarray, delta: float):
    """Units outside [delta, 1 - delta], the arm missing at each, its fill-in mass c, eligibility."""
    et = np.clip(e, delta, 1 - delta)
    extreme = np.flatnonzero((e < delta) | (e > 1 - delta))
    rare = np.where(e[extreme] > 1 - delta, 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # np.where evaluates both branches
        c = np.where(rare == 0, 1 - et[extreme] / e[extreme], 1 - (1 - et[extreme]) / (1 - e[extreme]))
    return et, extreme, rare, c, a[extreme] != rare


def _record_covariates(data, generator: str, src: np.ndarray, bandwidth: float, seed) -> pd.DataFrame:
    W = data.covariate_frame
    if not len(src):
        return W.iloc[:0].copy()
    if generator == "local":
        return local_covariates(W, data.covariate_kinds, src, bandwidth, np.random.default_rng(seed))
    return hybrid_covariates(data, src, seed)


def _added_table(diag, n, src, rec_arm, rec_fold, member, rec_weight, et, e, outcome_sd, pred) -> pd.DataFrame:
    """One row per synthetic record: where it sits, where it came from, its weight and model."""
    m_total = len(src)
    leaves = diag.leaves.set_index("region_id")
    region_id = diag.leaf[src]
    return pd.DataFrame({
        "row": np.arange(n, n + m_total), "synthetic": True, "source_index": src, "arm": rec_arm,
        "fold": rec_fold, "member": member, "region_id": region_id,
        "region": leaves.loc[region_id, "rule"].to_numpy() if m_total else [],
        "flagged_region": leaves.loc[region_id, "flagged"].to_numpy() if m_total else [],
        "weight": rec_weight, "pseudo_propensity": et[src], "source_propensity": e[src],
        "outcome_sd": outcome_sd, "prediction": pred})
