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

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import logit

from .._checks import check_choice, check_delta, check_int, check_level, resolve_bounds
from .._random import RandomState, as_seed_sequence
from .._resample import bootstrap_within_arms, make_folds
from ..data import check_data, main_terms
from ..errors import SpecError
from ..report.render import SummaryView, View
from ..estimators import check_estimators
from ..estimators.core import CORE_ESTIMATORS
from ..learners import resolve_learner
from ..nuisance import NuisanceFit
from .diagnose import PositivityReport, diagnose, propensity_out_of_fold
from .records import (_ArmModels, ensemble_spread, ext_ensemble, fit_fold_models, hybrid_covariates,
                      local_covariates, record_outcomes, select_sources, shift_metrics)

__all__ = ["augment_positivity", "AugmentationResult", "Generator", "Uncertainty"]

Generator = Literal["local", "hybrid"]
Uncertainty = Literal["ensemble", "none"]
IfRisky = Literal["withhold", "warn", "refuse", "ignore"]
MARKER_PREFIX = "aug_"
#: The default budget fills at most this share of the arm it fills with synthetic records.
MAX_FILL = 0.5
#: A source whose logit propensity is farther than this from that of every real unit of the arm
#: its records fill (an odds ratio of e^4, about 55) lies beyond that arm's support: its records'
#: outcomes are extrapolations of the outcome model. Data-only augmentation is risky when the
#: fill-in-weighted median source lies beyond it.
LOGIT_GAP = 4.0


def _weighted(name: str, data, e, mu0, mu1, weights, outcome_bounds):
    """(ate, std_error, mu1, mu0) of one estimator on augmented rows with their case weights."""
    est = CORE_ESTIMATORS[name](data.a, data.y, e, mu0, mu1, weights=weights, bounds=outcome_bounds)
    return est.ate, est.std_error, est.mu1, est.mu0


@dataclass(frozen=True, eq=False)
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
    settings: dict = field(default_factory=dict, repr=False)  # augment_positivity's arguments
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

    def estimate(self, *, estimators=("or", "ipw", "aipw", "tmle"), level: float = 0.95,
                 propensity_bounds=(0.01, 0.99), outcome_bounds=None, se_method: str = "influence",
                 n_bootstrap: int = 200, random_state: RandomState = None, show_progress: bool | None = None):
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
        random_state, show_progress : for the bootstrap.
        """
        from ..estimators.results import EstimateResult, EstimateRow
        names = check_estimators(estimators)
        if "dml" in names:
            raise SpecError("estimators for augmented data are or, ipw, aipw and tmle; dml has no weighted form here")
        if se_method not in ("influence", "bootstrap"):
            raise SpecError(f"se_method must be 'influence' or 'bootstrap'; got {se_method!r}")
        check_level(level)
        lo, hi = resolve_bounds(propensity_bounds, self.n_original)
        d = self.data
        e = np.clip(self.pseudo_propensity, lo, hi)
        point = {name: _weighted(name, d, e, self.mu0, self.mu1, self.weights, outcome_bounds)
                 for name in names}
        if se_method == "bootstrap":
            boot_se, n_ok = self._bootstrap_se(names, n_bootstrap, (lo, hi), outcome_bounds, random_state,
                                               show_progress)
            note = f"weighted to the original covariate law; SE from {n_ok} bootstrap augmentations"
            method = (f"bootstrap of the whole augmentation ({n_ok} of {n_bootstrap} resamples within arms); "
                      "point estimates from the weighted rows")
            rows = [EstimateRow(name, point[name][0], boot_se[name], point[name][2], point[name][3], note)
                    for name in names]
        else:
            rows = [EstimateRow(name, ate, s_, m1, m0, "weighted to the original covariate law; SE "
                                "treats synthetic outcomes as data (too small)")
                    for name, (ate, s_, m1, m0) in point.items()]
            method = (f"weighted influence function over {d.n_obs} rows ({self.n_added} synthetic; "
                      "treated as data, so too small)")
        o = self.original
        return EstimateResult(tuple(rows), float(level), o.n_obs, o.n_treated, o.treatment, o.outcome,
                              o.outcome_type, self.original_fit.propensity_learner, self.outcome_learner,
                              int(self.folds.max()) + 1, method, self.pseudo_propensity,
                              int(np.sum((self.pseudo_propensity < lo) | (self.pseudo_propensity > hi))))

    def _bootstrap_se(self, names, n_bootstrap, bounds, outcome_bounds, random_state, show_progress):
        import warnings

        from ..errors import CausalSynthError, EstimationError
        from ..progress import progress
        n_bootstrap = check_int("n_bootstrap", n_bootstrap, 20)
        if not self.settings:
            raise SpecError("this AugmentationResult does not carry its settings; rerun augment_positivity")
        o = self.original
        draws, failed = [], 0
        seeds = as_seed_sequence(random_state).spawn(n_bootstrap)
        for child in progress(seeds, desc="bootstrap augmentations", total=n_bootstrap, show=show_progress):
            s_rows, s_aug = child.spawn(2)
            rows = bootstrap_within_arms(o.a, np.random.default_rng(s_rows), order=(0, 1))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # copies of a unit share a fold: cross-fitting stays out-of-unit
                    aug = augment_positivity(o.subset(rows), random_state=s_aug, _groups=rows,
                                             **self.settings)
                    d, e, mu0, mu1, w = aug.data, aug.pseudo_propensity, aug.mu0, aug.mu1, aug.weights
                    if self.risk.get("withheld") is not None:  # as the point estimate: no records
                        f = aug.original_fit
                        d, e, mu0, mu1, w = aug.original, f.propensity, f.mu0, f.mu1, np.ones(aug.n_original)
                    e = np.clip(e, *bounds)
                    draws.append([_weighted(name, d, e, mu0, mu1, w, outcome_bounds)[0] for name in names])
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


def _check_budget(budget: Any) -> int | str | None:
    if budget is None or budget == "auto":
        return budget
    return check_int("budget", budget, fix="It is the number of synthetic records; None adds one per "
                                           "low-overlap unit.")


# long: one pass from folds to records, weights and the risk verdict (issue 19 moves its settings into a spec)
def augment_positivity(
    data,
    *,
    budget: int | str | None = "auto",
    delta: float = 0.05,
    propensity: Any = None,
    outcome: Any = None,
    generator: Generator = "local",
    n_folds: int = 5,
    uncertainty: Uncertainty = "ensemble",
    n_models: int = 5,
    bandwidth: float = 0.1,
    noise: bool = True,
    max_depth: int = 2,
    external: Any = None,
    if_risky: IfRisky = "withhold",
    random_state: RandomState = None,
    _groups: np.ndarray | None = None,
) -> AugmentationResult:
    r"""Add synthetic records in the missing arm near units that lack overlap.

    Parameters
    ----------
    data : CausalData
    budget : int, "auto" or None
        Most synthetic records to add. ``"auto"`` (default): one per low-overlap source unit,
        but at most half the size of the arm the records fill (stated in the result as
        ``budget_rule``): a few hundred real treated units are not completed by thousands of
        synthetic ones. None: one per source unit, unbounded. When the budget is smaller than
        the number of sources, the sources with the largest score go first; when larger, the
        extra records go to the sources with the largest score, proportionally (largest
        remainder).
    delta : float in (0, 0.5), default 0.05
        Units with cross-fitted propensity outside :math:`[\delta, 1-\delta]` lack overlap.
    propensity, outcome : learner specifications (defaults: main-terms logistic and linear
        or logistic), as in :func:`causalsynth.estimate`.
    generator : "local" (source covariates plus Gaussian noise of ``bandwidth`` standard
        deviations on numeric columns, clipped to the observed range; binary and categorical
        values kept) or "hybrid" (the nearest unused rows of a Gaussian-copula sample, the
        hybrid synthesizer's covariate generator).
    n_folds : int >= 2, cross-fitting folds; a record completing a unit of fold k gets its
        outcome from models fitted on the other folds only.
    uncertainty : "ensemble" (default) scores each low-overlap unit by
        :math:`c_i \cdot s_i`, its fill-in mass times the standard deviation of ``n_models``
        bootstrap refits of the missing arm's outcome model at its covariates, so records go
        where the model is least sure; records' outcomes are drawn from the ensemble members
        in turn. "none" scores by :math:`c_i` alone and uses the fold's main model.
    n_models : ensemble size (bootstrap refits per fold and arm).
    bandwidth : perturbation scale of the local generator, in standard deviations.
    noise : add Gaussian noise with the arm's residual SD to continuous outcomes (binary
        outcomes are always Bernoulli draws).
    max_depth : depth of the diagnostic tree that names the regions.
    external : a CausalData with the same roles and covariates, for example a randomized
        study: the records' outcomes come from outcome models fitted on it (and its ensemble
        refits) instead of on the original rows. This assumes the outcome regression
        transports from the external population to this one; the result states it.
    if_risky : what to do when the records are expected to hurt (data-only outcomes, with
        half the fill-in mass at units whose logit propensity is more than
        ``LOGIT_GAP`` (4) from that of every
        real unit of the arm they fill, so their outcomes are extrapolated):
        "withhold" (default) adds no record: the result holds the original data unchanged
        (``n_added == 0``, unit weights) with the reason in ``result.risk["reason"]`` and a
        PositivityWarning, so estimates on it are those of the original rows; "warn" adds the
        records with a PositivityWarning; "refuse" raises SpecError; "ignore" adds them
        silently. ``result.risk`` holds the diagnostics.
    random_state : seeds folds, learners, covariates and outcome noise.

    Returns
    -------
    AugmentationResult
        Weighted estimators on it (:meth:`AugmentationResult.estimate`) target the ATE over
        the original covariate law; the unweighted augmented rows target the ATE over the
        augmented covariate law, which differs whenever the effect varies with the covariates.
    """
    data = check_data(data)
    settings = _settings(data, budget=budget, delta=delta, propensity=propensity, outcome=outcome,
                         generator=generator, n_folds=n_folds, uncertainty=uncertainty, n_models=n_models,
                         bandwidth=bandwidth, noise=noise, max_depth=max_depth, if_risky=if_risky)
    delta = settings["delta"]
    s_fold, s_prop, s_out, s_ens, s_gen, s_y, s_mmd = as_seed_sequence(random_state).spawn(7)
    a, n = data.a, data.n_obs
    folds = make_folds(a, settings["n_folds"], s_fold, groups=_groups)
    e, p_desc = propensity_out_of_fold(data, propensity, folds, s_prop)
    diag = diagnose(data, e, delta=delta, learner=p_desc, n_folds=settings["n_folds"],
                    max_depth=settings["max_depth"])
    learner = resolve_learner(outcome, role="outcome", data=data)
    models, sigma, training_rows, mu0, mu1 = fit_fold_models(learner, data, folds, s_out)

    # low-overlap units, the arm missing at their location, and their fill-in mass c
    et, extreme, rare, c, eligible = _low_overlap(e, a, delta)
    budget, rule = _budget(settings["budget"], data, rare, eligible)
    ext = _external_models(external, learner, data, folds, s_out) if external is not None else None
    record_models = ext["models"] if ext else models
    record_sigma = ext["sigma"] if ext else sigma
    if uncertainty == "none":
        members, spread = {}, np.full(len(extreme), np.nan)
    elif ext:
        members, spread = ext_ensemble(ext, data, extreme, rare, folds, settings["n_models"], s_ens)
    else:
        members, spread = ensemble_spread(learner, data, folds, training_rows, extreme, rare,
                                          settings["n_models"], s_ens)
    score = np.nan_to_num(c * (spread if uncertainty == "ensemble" else 1.0), nan=0.0)
    selected, src_pos, counts, budget_used = select_sources(score, eligible, budget)

    # records: covariates near the source, cross-fitted outcomes, weights
    pseudo = e.copy()
    pseudo[extreme[selected]] = et[extreme[selected]]
    weights = np.ones(n)
    weights[extreme[src_pos]] = 1 - c[src_pos]
    rec_pos = np.repeat(src_pos, counts)  # position among `extreme`
    src = extreme[rec_pos]  # original row of each record's source
    Wt = _record_covariates(data, generator, src, float(bandwidth), s_gen)
    rec_fold, rec_arm = folds[src], rare[rec_pos]
    y_rec, pred, member, rec_mu0, rec_mu1 = record_outcomes(
        data, Wt, record_models, members, record_sigma, rec_fold, rec_arm, counts, noise, np.random.default_rng(s_y))
    rec_weight = np.repeat(c[src_pos] / counts, counts) if len(src) else np.zeros(0)
    rec_frame = Wt.copy()
    rec_frame.insert(0, data.outcome, y_rec)
    rec_frame.insert(0, data.treatment, rec_arm.astype(np.int64))
    aug = data.with_frame(pd.concat([data.frame, rec_frame], ignore_index=True)) if len(src) else data
    added = _added_table(diag, n, src, rec_arm, rec_fold, member, rec_weight, et, e, spread[rec_pos], pred)
    all_w = np.r_[weights, rec_weight]
    smd, shift = shift_metrics(data, Wt, all_w, s_mmd)
    fit = NuisanceFit(e, mu0, mu1, folds, settings["n_folds"], None, p_desc, learner.description)
    max_smd = float(smd["smd_augmented"].abs().max()) if len(smd) else 0.0
    risk = _risk(data, e, src, rec_arm, rec_weight, spread[rec_pos], max_smd, external is not None)
    _act_on_risk(risk, if_risky)
    keep = {**settings, "external": external, "if_risky": "ignore"}
    if risk["verdict"].startswith("risky") and if_risky == "withhold":
        # records expected to hurt are not handed back: the original rows, unit weights, the reason
        risk = {**risk, "withheld": int(len(src)), "reason": _withheld_reason(risk)}
        aug, added, all_w, pseudo, budget_used = data, added.iloc[:0], np.ones(n), e.copy(), 0
        src, rec_mu0, rec_mu1 = src[:0], rec_mu0[:0], rec_mu1[:0]
        smd, shift = shift_metrics(data, Wt.iloc[:0], all_w, s_mmd)
        keep["if_risky"] = "withhold"
    source = (f"models fitted on the external data ({external.n_obs} rows; assumes the outcome regression "
              "transports from the external population to this one)" if external is not None
              else "cross-fitted models of the original data")
    return AugmentationResult(aug, data, added, all_w, np.r_[pseudo, et[src]], np.r_[mu0, rec_mu0],
                              np.r_[mu1, rec_mu1], folds, training_rows, fit, diag, smd, shift,
                              int(budget_used), delta, generator, uncertainty, int(eligible.sum()),
                              learner.description, keep,
                              rule, risk, source)


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


def _settings(data, *, budget, delta, propensity, outcome, generator, n_folds, uncertainty, n_models,
              bandwidth, noise, max_depth, if_risky) -> dict:
    """The validated arguments of :func:`augment_positivity` (kept by the result for its bootstrap)."""
    n_folds = check_int("n_folds", n_folds, 2)
    if not isinstance(bandwidth, (int, float)) or not 0 < bandwidth <= 5:
        raise SpecError(f"bandwidth must be a number in (0, 5] (standard deviations); got {bandwidth!r}")
    smallest = min(data.n_treated, data.n_control)
    if smallest < 2 * n_folds:
        raise SpecError(f"n_folds={n_folds} is too many for the smallest arm ({smallest} rows); use fewer folds.")
    check_choice("if_risky", if_risky, IfRisky)
    return {"budget": _check_budget(budget), "delta": check_delta(delta), "propensity": propensity,
            "outcome": outcome, "generator": check_choice("generator", generator, Generator),
            "n_folds": n_folds, "uncertainty": check_choice("uncertainty", uncertainty, Uncertainty),
            "n_models": check_int("n_models", n_models, 2), "bandwidth": bandwidth, "noise": noise,
            "max_depth": check_int("max_depth", max_depth, 1)}


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
