"""``estimate()``: the ATE by several estimators sharing one nuisance fit (OR, IPW, AIPW, TMLE, DML)."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

from .._checks import check_bounds, check_choice, check_int, check_level, resolve_bounds
from .._random import RandomState, as_seed_sequence
from .._resample import bootstrap_within_arms
from ..data import CausalData, check_data
from ..errors import CausalSynthError, EstimationError, Fix, PositivityWarning, SpecError
from ..nuisance import NuisanceFit, fit_nuisance
from .core import CORE_ESTIMATORS, ESTIMANDS, ArmEstimate, crump_bounds
from .results import EstimateResult, EstimateRow

__all__ = ["ESTIMATORS", "ESTIMANDS", "DEFAULT_ESTIMATORS", "estimate", "estimate_from_nuisance",
           "check_estimators", "positivity_message", "kish_ess", "overlap_summary", "untrusted_message", "clip_for",
           "resolve_estimand", "keep_mask"]

DEFAULT_ESTIMATORS = ("or", "ipw", "aipw", "tmle")

#: Canonical estimator names and a one-line description (the registry the docs list).
ESTIMATORS: dict[str, str] = {
    "or": "outcome regression / g-computation (standardization)",
    "ipw": "inverse probability weighting (normalized/Hajek; ipw_normalized=False for Horvitz-Thompson)",
    "aipw": "augmented IPW, doubly robust, influence-function SE",
    "tmle": "targeted maximum likelihood, logistic fluctuation on the scaled outcome",
    "dml": "double machine learning, econml LinearDML (partially linear model, cross-fitted)",
}


def check_estimators(estimators: Sequence[str] | str) -> tuple[str, ...]:
    """Canonical estimator names, each once, in the order given."""
    if isinstance(estimators, str):
        estimators = [estimators]
    names = tuple(dict.fromkeys(str(e).lower() for e in estimators))  # once each, in order
    unknown = [e for e in names if e not in ESTIMATORS]
    if unknown or not names:
        raise SpecError(f"unknown estimator(s) {unknown or names}; choose from {list(ESTIMATORS)}")
    return names


#: Where to see the overlap (the command line says ``causalsynth diagnose``).
OVERLAP_TOOL = Fix("use {} to see where overlap fails", "causalsynth.positivity")


def positivity_message(e: np.ndarray, lo: float, hi: float, separated: bool,
                       estimand: str = "ate") -> PositivityWarning | None:
    """The warning for propensities the estimand's weights clip (none for a harmless side: the
    ATT does not clip small propensities, the ATC large ones, overlap weights neither)."""
    n_low = int(np.sum(e < lo)) if estimand not in ("att", "overlap") else 0
    n_high = int(np.sum(e > hi)) if estimand not in ("atc", "overlap") else 0
    if not (n_low or n_high or separated):
        return None
    msg = (f"{n_low + n_high} of {len(e)} units have estimated propensity outside "
           f"[{lo:g}, {hi:g}] ({n_low} below, {n_high} above; min {e.min():.2g}, max {e.max():.2g}); "
           "they were clipped to the bounds.")
    if separated:
        msg = ("the propensity model separates the arms (perfect or quasi-complete separation): "
               "some covariate pattern predicts treatment exactly. " + msg)
    return PositivityWarning(msg + " IPW and AIPW are unstable here.", fix=[
        Fix("restrict the sample to the region of overlap"), Fix("coarsen the covariates that separate the arms"),
        Fix("use a simpler propensity model"), OVERLAP_TOOL])


def kish_ess(w: np.ndarray) -> float:
    """Kish effective sample size :math:`(\\sum w)^2 / \\sum w^2` of weights ``w``."""
    return float(np.sum(w) ** 2 / np.sum(w ** 2)) if len(w) else 0.0


#: Below this share of an arm, the effective sample size of the inverse-probability weights
#: makes influence-function intervals untrustworthy.
MIN_ESS_SHARE = 0.1


def clip_for(e: np.ndarray, lo: float, hi: float, estimand: str = "ate") -> np.ndarray:
    """The propensity clipped where the estimand's weights need it. The ATE's weights 1/e and
    1/(1-e) need both bounds; the ATT's control weights e/(1-e) only the upper one (raising a
    near-zero propensity to ``lo`` would give thousands of irrelevant controls a weight they do
    not have); the ATC's treated weights (1-e)/e only the lower one; overlap weights none."""
    if estimand == "att":
        return np.minimum(e, hi)
    if estimand == "atc":
        return np.maximum(e, lo)
    if estimand == "overlap":
        return np.asarray(e, dtype=float)
    return np.clip(e, lo, hi)


def n_clipped_for(e: np.ndarray, lo: float, hi: float, estimand: str = "ate") -> int:
    """How many propensities :func:`clip_for` changes for this estimand (the ATT counts only
    those above ``hi``, the ATC only those below ``lo``, overlap weights none)."""
    e = np.asarray(e, dtype=float)
    return int(np.sum(clip_for(e, lo, hi, estimand) != e))


def overlap_summary(e: np.ndarray, a: np.ndarray, lo: float, hi: float, estimand: str = "ate",
                    keep: np.ndarray | None = None) -> dict:
    """Share of the units that matter lying outside the bounds that matter, and the Kish ESS of
    each arm's weights, with a verdict: are influence-function intervals to be trusted?

    ATE (and trimmed, on the kept units): weights 1/e, 1/(1-e); units outside [lo, hi]. ATT:
    the controls' weights e/(1-e), their ESS over the number of treated (the controls must
    stand in for the treated), units above ``hi``. ATC: the mirror image. Overlap weights are
    bounded: always trusted."""
    e, a = np.asarray(e, dtype=float), np.asarray(a)
    if keep is not None:
        e, a = e[keep], a[keep]
    ec = clip_for(e, lo, hi, estimand)
    n1, n0 = int(np.sum(a == 1)), int(np.sum(a == 0))
    if estimand == "att":
        w0 = ec[a == 0] / (1 - ec[a == 0])
        share = {1: 1.0, 0: min(kish_ess(w0) / max(n1, 1), 1.0)}
        outside = float(np.mean(e > hi))
    elif estimand == "atc":
        w1 = (1 - ec[a == 1]) / ec[a == 1]
        share = {1: min(kish_ess(w1) / max(n0, 1), 1.0), 0: 1.0}
        outside = float(np.mean(e < lo))
    elif estimand == "overlap":
        w1, w0 = 1 - ec[a == 1], ec[a == 0]
        share = {1: kish_ess(w1) / max(n1, 1), 0: kish_ess(w0) / max(n0, 1)}
        outside = 0.0
    else:
        w1, w0 = 1 / ec[a == 1], 1 / (1 - ec[a == 0])
        share = {1: kish_ess(w1) / max(n1, 1), 0: kish_ess(w0) / max(n0, 1)}
        outside = float(np.mean((e < lo) | (e > hi)))
    trusted = estimand == "overlap" or (min(share.values()) >= MIN_ESS_SHARE and outside <= 0.5)
    return {"share_outside_bounds": outside, "ess_share_treated": share[1], "ess_share_control": share[0],
            "intervals_trusted": bool(trusted), "estimand": estimand}


def untrusted_message(summary: dict, estimand: str) -> PositivityWarning:
    """Why the influence-function intervals are not to be trusted, and the ways out (``str()`` of
    it is the text)."""
    others = [f"'{x}'" for x in ("trimmed", "att", "overlap") if x != estimand]
    if estimand == "att":
        ess = (f"the weighted controls are worth {100 * summary['ess_share_control']:.0f}% of the treated "
               f"(Kish effective sample size) and {100 * summary['share_outside_bounds']:.0f}% of units lie above "
               "the upper propensity bound")
    elif estimand == "atc":
        ess = (f"the weighted treated are worth {100 * summary['ess_share_treated']:.0f}% of the controls "
               f"(Kish effective sample size) and {100 * summary['share_outside_bounds']:.0f}% of units lie below "
               "the lower propensity bound")
    else:
        ess = (f"{100 * summary['share_outside_bounds']:.0f}% of units lie outside the propensity bounds and the "
               f"effective sample size of the weights is {100 * summary['ess_share_treated']:.0f}% of the treated and "
               f"{100 * summary['ess_share_control']:.0f}% of the controls")
    first, rest = others[0].strip("'"), others[1:]
    return PositivityWarning(f"the influence-function intervals are not to be trusted here: {ess}.", fix=[
        Fix(f"use {{}}{', ' + ', '.join(rest[:-1]) if rest[:-1] else ''} or {rest[-1]} instead of {estimand!r} "
            "(trimmed: the ATE where both arms occur)", "estimand", first),
        Fix("use {}", "se_method", "bootstrap"), OVERLAP_TOOL])


def resolve_estimand(estimand: str, names: tuple, *, explicit: bool) -> tuple[tuple, list[str]]:
    """The estimators that can target ``estimand``; refused ones raise (explicitly asked) or
    are dropped with a note (the default panel)."""
    check_choice("estimand", estimand, ESTIMANDS)
    why = {}
    if estimand == "overlap" and "tmle" in names:
        why["tmle"] = "its weights e(1-e) depend on the propensity, which this TMLE does not target"
    if estimand != "ate" and "dml" in names:
        why["dml"] = "econml's LinearDML estimates a partially linear (overlap-weighted) effect, not this one"
    if why and explicit:
        raise SpecError(f"estimand={estimand!r} cannot be estimated by " + "; ".join(f"{k}: {v}" for k, v in why.items())
                        + ". Leave them out (e.g. estimators=('or', 'ipw', 'aipw')).")
    return tuple(n for n in names if n not in why), [f"{k} left out: {v}" for k, v in why.items()]


def keep_mask(e: np.ndarray, a: np.ndarray, estimand: str, trim_bounds) -> tuple[np.ndarray | None, tuple | None]:
    """The kept units of the trimmed estimand (Crump et al. rule, or ``trim_bounds``)."""
    if estimand != "trimmed":
        return None, None
    lo, hi = crump_bounds(e) if trim_bounds is None else check_bounds(trim_bounds)
    keep = (e >= lo) & (e <= hi)
    n1 = int(np.sum(a[keep] == 1))
    if min(n1, int(keep.sum()) - n1) < 5:
        raise EstimationError(f"trimming to propensities in [{lo:.3g}, {hi:.3g}] keeps {n1} treated and "
                              f"{int(keep.sum()) - n1} control units; too few to estimate an effect")
    return keep, (lo, hi)


def estimate_from_nuisance(data: CausalData, fit: NuisanceFit, estimators: Sequence[str], *,
                           propensity_bounds=(0.01, 0.99), ipw_normalized: bool = True,
                           outcome_bounds=None, weights: np.ndarray | None = None, estimand: str = "ate",
                           trim_bounds=None) -> dict[str, ArmEstimate]:
    """Run the array-level estimators on a fitted nuisance (no DML); ``weights`` are case weights,
    ``estimand`` the target (the trimmed one keeps the units whose estimated propensity lies in
    ``trim_bounds``, default the Crump et al. rule)."""
    lo, hi = resolve_bounds(propensity_bounds, data.n_obs)
    e = clip_for(fit.propensity, lo, hi, estimand)
    keep, _ = keep_mask(fit.propensity, data.a, estimand, trim_bounds)
    a, y = data.a, data.y
    out = {}
    for name in estimators:
        if name == "dml":
            continue
        out[name] = CORE_ESTIMATORS[name](
            a, y, e, fit.mu0, fit.mu1, or_correction=fit.or_correction,
            normalized=ipw_normalized, bounds=outcome_bounds, weights=weights, estimand=estimand, keep=keep)
    return out


def estimate(
    data: CausalData,
    *,
    estimators: Sequence[str] | None = None,
    estimand: str = "ate",
    propensity=None,
    outcome=None,
    n_folds: int | None = None,
    folds=None,
    level: float = 0.95,
    propensity_bounds: tuple[float, float] | str = (0.01, 0.99),
    trim_bounds: tuple[float, float] | None = None,
    ipw_normalized: bool = True,
    outcome_bounds: tuple[float, float] | None = None,
    se_method: Literal["influence", "bootstrap"] = "influence",
    n_bootstrap: int = 200,
    random_state: RandomState = None,
) -> EstimateResult:
    """Estimate a treatment effect with several estimators sharing one nuisance fit.

    Parameters
    ----------
    data : CausalData
    estimators : names from :data:`ESTIMATORS`, default ``("or", "ipw", "aipw", "tmle")`` (those
        that can target ``estimand``; an estimator named explicitly that cannot is refused).
    estimand : ``"ate"`` (default), ``"att"`` (effect on the treated), ``"atc"`` (on the
        controls), ``"trimmed"`` (the ATE over the units whose estimated propensity lies in
        ``trim_bounds``, default the optimal rule of Crump et al. 2009; the bounds and the
        number of units kept are reported) or ``"overlap"`` (overlap weights e(1-e), Li,
        Morgan & Zaslavsky 2018). See :mod:`causalsynth.estimators.core`.
    propensity, outcome : learner specifications: a preset (``"logistic"``, ``"linear"``,
        ``"gbm"``, ``"superlearner"``, ``"flexible"``), a scikit-learn estimator, or a formula.
        Defaults: logistic propensity; linear (continuous) or logistic (binary) outcome models.
    n_folds : cross-fitting folds shared by every estimator; ``None`` = 1 for parametric
        learners, 5 otherwise.
    folds : optional int array (n_obs,) of fold labels 0..K-1 to use instead of drawing them
        (for example to reproduce another library's sample splitting).
    level : confidence level of the intervals.
    propensity_bounds : estimated propensities are clipped to this interval before use; units
        outside it trigger a :class:`~causalsynth.errors.PositivityWarning`. ``"adaptive"``
        uses :math:`[\\delta_n, 1-\\delta_n]` with :math:`\\delta_n = 5/(\\sqrt n \\ln n)` (Gruber,
        Phillips, Lee & van der Laan 2022).
    ipw_normalized : Hajek (True, default) or Horvitz-Thompson (False) weighting (ATE only).
    outcome_bounds : bounds used by TMLE to scale a continuous outcome to [0, 1]; default the
        observed minimum and maximum.
    se_method : ``"influence"`` (default) or ``"bootstrap"`` (refits every nuisance model on
        ``n_bootstrap`` resamples; the SE is the standard deviation of the estimates).
    random_state : seeds folds, learners and bootstrap resamples.

    Returns
    -------
    EstimateResult
    """
    check_data(data)
    names, dropped = resolve_estimand(estimand, check_estimators(estimators or DEFAULT_ESTIMATORS),
                                      explicit=estimators is not None)
    check_level(level)
    lo, hi = resolve_bounds(propensity_bounds, data.n_obs)
    check_choice("se_method", se_method, ("influence", "bootstrap"))
    ss = as_seed_sequence(random_state)
    nuis_seed, boot_seed, dml_seed = ss.spawn(3)
    fit = fit_nuisance(data, propensity=propensity, outcome=outcome, n_folds=n_folds,
                       folds=folds, random_state=nuis_seed)
    msg = positivity_message(fit.propensity, lo, hi, fit.separated, estimand)
    if msg:
        warnings.warn(msg, stacklevel=2)
    keep, used_trim = keep_mask(fit.propensity, data.a, estimand, trim_bounds)
    overlap = overlap_summary(fit.propensity, data.a, lo, hi, estimand, keep)
    if not overlap["intervals_trusted"]:
        warnings.warn(untrusted_message(overlap, estimand), stacklevel=2)
    kw = dict(propensity_bounds=(lo, hi), ipw_normalized=ipw_normalized, outcome_bounds=outcome_bounds,
              estimand=estimand, trim_bounds=used_trim)
    arms = estimate_from_nuisance(data, fit, names, **kw)
    rows: dict[str, EstimateRow] = {n: EstimateRow(n, est.ate, est.std_error, est.mu1, est.mu0, est.note)
                                    for n, est in arms.items()}
    if "dml" in names:
        from .dml import dml_estimate
        ate, se, note = dml_estimate(data, propensity=propensity, outcome=outcome,
                                     n_folds=max(fit.n_folds, 2), seed=dml_seed)
        rows["dml"] = EstimateRow("dml", ate, se, float("nan"), float("nan"), note)
    if se_method == "bootstrap":
        # a trimmed estimand redraws its trimming set on every resample unless the user fixed the bounds
        rows = _bootstrap(data, rows, names, boot_seed, n_bootstrap, propensity=propensity,
                          outcome=outcome, n_folds=fit.n_folds, **{**kw, "trim_bounds": trim_bounds})
    return EstimateResult(
        rows=tuple(rows[n] for n in names), level=float(level), n_obs=data.n_obs,
        n_treated=data.n_treated, treatment=data.treatment, outcome=data.outcome,
        outcome_type=data.outcome_type, propensity_learner=fit.propensity_learner,
        outcome_learner=fit.outcome_learner, n_folds=fit.n_folds,
        se_method="bootstrap" if se_method == "bootstrap" else "influence function",
        propensity=fit.propensity, n_clipped=n_clipped_for(fit.propensity, lo, hi, estimand),
        estimand=estimand, trim_bounds=used_trim, n_kept=int(keep.sum()) if keep is not None else data.n_obs,
        propensity_bounds=(lo, hi), overlap=overlap, notes=tuple(dropped))


def _bootstrap(data, rows, names, seed, n_bootstrap, *, propensity, outcome, n_folds, propensity_bounds,
               ipw_normalized, outcome_bounds, estimand, trim_bounds):
    check_int("n_bootstrap", n_bootstrap, 20)
    from ..progress import progress
    rng = np.random.default_rng(seed)
    draws = {n: [] for n in names if n != "dml"}
    failures = 0
    for child in progress(seed.spawn(n_bootstrap), desc="bootstrap", total=n_bootstrap):
        # resample within arms so both arms keep their sizes
        sub = data.subset(bootstrap_within_arms(data.a, rng, order=(1, 0)))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bfit = fit_nuisance(sub, propensity=propensity, outcome=outcome, n_folds=n_folds,
                                    random_state=child)
                # a trimmed estimand redraws its trimming set on every resample (data-adaptive)
                res = estimate_from_nuisance(sub, bfit, list(draws), propensity_bounds=propensity_bounds,
                                             ipw_normalized=ipw_normalized, outcome_bounds=outcome_bounds,
                                             estimand=estimand, trim_bounds=trim_bounds)
        except CausalSynthError:  # e.g. a resample without both outcome classes in an arm
            failures += 1
            continue
        for n in draws:
            draws[n].append(res[n].ate)
    out = dict(rows)
    for n, values in draws.items():
        if len(values) < 10:
            raise EstimationError(f"bootstrap failed: only {len(values)} of {n_bootstrap} resamples could be fitted")
        r = rows[n]
        note = f"bootstrap SE over {len(values)} resamples" + (f" ({failures} failed)" if failures else "")
        out[n] = EstimateRow(n, r.ate, float(np.std(values, ddof=1)), r.mu1, r.mu0, note)
    return out
