"""``estimate()``: the ATE by several estimators sharing one nuisance fit (OR, IPW, AIPW, TMLE, DML), and
:func:`estimate_from_nuisance`, the one loop "nuisance fit -> every estimator -> intervals" that
``estimate()``, the simulation, the audit and the positivity augmentation share."""
from __future__ import annotations

import dataclasses
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
from .core import ESTIMANDS, crump_bounds
from .registry import DEFAULT_ESTIMATORS, ESTIMATORS, check_estimators, resolve_estimand, select_estimators, spec_of
from .results import EstimateResult, EstimateRow

__all__ = ["ESTIMATORS", "ESTIMANDS", "DEFAULT_ESTIMATORS", "EstimateOptions", "estimate", "estimate_from_nuisance",
           "check_estimators", "positivity_message", "kish_ess", "overlap_summary", "untrusted_message", "clip_for",
           "resolve_estimand", "keep_mask"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class EstimateOptions:
    """The rarely changed settings of :func:`estimate` and :func:`estimate_from_nuisance`.

    folds : int array (n_obs,) of fold labels 0..K-1 for the nuisance fit instead of drawing them
        (for example to reproduce another library's sample splitting); read by ``estimate()``.
    trim_bounds : the trimmed estimand's propensity bounds; default the rule of Crump et al. 2009.
    ipw_normalized : Hajek (True, default) or Horvitz-Thompson (False) weighting (ATE only).
    outcome_bounds : bounds used by TMLE to scale a continuous outcome to [0, 1]; default the
        observed minimum and maximum.
    se_method : ``"influence"`` (default) or ``"bootstrap"`` (``estimate()`` refits every nuisance
        model on ``n_bootstrap`` resamples; the SE is the standard deviation of the estimates).
    n_bootstrap : bootstrap resamples (at least 20).
    """

    folds: np.ndarray | None = None
    trim_bounds: tuple[float, float] | None = None
    ipw_normalized: bool = True
    outcome_bounds: tuple[float, float] | None = None
    se_method: Literal["influence", "bootstrap"] = "influence"
    n_bootstrap: int = 200

    def __post_init__(self) -> None:
        if self.trim_bounds is not None:
            try:
                object.__setattr__(self, "trim_bounds", check_bounds(self.trim_bounds))
            except SpecError:
                raise SpecError(f"trim_bounds must be a pair (low, high) of propensities with 0 <= low < 0.5 < high "
                                f"<= 1; got {self.trim_bounds!r}. Fix: e.g. trim_bounds=(0.1, 0.9), or None for "
                                "the rule of Crump et al.") from None
        if not isinstance(self.ipw_normalized, (bool, np.bool_)):
            raise SpecError(f"ipw_normalized must be True (Hajek) or False (Horvitz-Thompson); "
                            f"got {self.ipw_normalized!r}")
        check_choice("se_method", self.se_method, ("influence", "bootstrap"))
        check_int("n_bootstrap", self.n_bootstrap, 20)
        if self.folds is not None:  # a read-only copy: the frozen options cannot change under a run
            folds = np.array(self.folds, copy=True)
            folds.setflags(write=False)
            object.__setattr__(self, "folds", folds)


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


def overlap_fails(share_outside: float, ess_shares, *, max_outside: float,
                  min_ess_share: float = MIN_ESS_SHARE) -> bool:
    """The overlap verdict, one rule for the estimators and the positivity diagnosis: overlap
    fails when more than ``max_outside`` of the units lie outside the bounds or when an arm's
    Kish effective sample size is below ``min_ess_share`` of its size (``ess_shares``: the
    shares of the arms)."""
    return bool(share_outside > max_outside or min(ess_shares) < min_ess_share)


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
    trusted = estimand == "overlap" or not overlap_fails(outside, share.values(), max_outside=0.5)
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


def estimate_from_nuisance(data: CausalData, fit: NuisanceFit, estimators: Sequence[str] | str | None = None, *,
                           estimand: str = "ate", level: float = 0.95,
                           propensity_bounds: tuple[float, float] | str = (0.01, 0.99),
                           weights: np.ndarray | None = None, options: EstimateOptions | None = None,
                           random_state: RandomState = None) -> EstimateResult:
    """Run the requested estimators on one fitted nuisance and return their estimates with
    influence-function intervals (the loop ``estimate()``, the simulation, the audit and the
    positivity augmentation share; no warnings, no refit of the shared nuisance).

    estimators : names from :data:`ESTIMATORS`; ``None`` runs the default panel's estimators that
        can target ``estimand`` (an estimator named explicitly that cannot is refused).
    weights : case weights, one per row (estimators whose spec takes weights; ATE only).
    options : :class:`EstimateOptions` (``trim_bounds``, ``ipw_normalized``, ``outcome_bounds``;
        the bootstrap needs refits: use :func:`estimate`).
    random_state : the seed of the estimators that fit their own nuisance models (DML), which
        refit with ``fit.learners``.
    """
    opts = options if options is not None else EstimateOptions()
    if not isinstance(opts, EstimateOptions):
        raise SpecError(f"options must be an EstimateOptions; got {type(opts).__name__}")
    if opts.se_method != "influence":
        raise SpecError("estimate_from_nuisance gives influence-function standard errors; the bootstrap refits the "
                        "nuisance models. Fix: use estimate(..., options=EstimateOptions(se_method='bootstrap'))")
    names, notes = select_estimators(estimators, estimand, weighted=weights is not None)
    level = check_level(level)
    lo, hi = resolve_bounds(propensity_bounds, data.n_obs)
    e = clip_for(fit.propensity, lo, hi, estimand)
    keep, used_trim = keep_mask(fit.propensity, data.a, estimand, opts.trim_bounds)
    rows = []
    for name in names:
        spec = spec_of(name)
        if spec.own_nuisance:
            propensity, outcome = fit.learners
            ate, se, note = spec.function(data, propensity=propensity, outcome=outcome,
                                          n_folds=max(fit.n_folds, 2), seed=as_seed_sequence(random_state))
            rows.append(EstimateRow(estimator=name, ate=ate, std_error=se, mu1=float("nan"), mu0=float("nan"),
                                    note=note))
            continue
        est = spec.function(data.a, data.y, e, fit.mu0, fit.mu1, or_correction=fit.or_correction,
                            normalized=opts.ipw_normalized, bounds=opts.outcome_bounds, weights=weights,
                            estimand=estimand, keep=keep)
        rows.append(EstimateRow(estimator=name, ate=est.ate, std_error=est.std_error, mu1=est.mu1, mu0=est.mu0,
                                note=est.note))
    # the Kish ESS of unweighted inverse-probability weights says nothing about case-weighted rows
    overlap = {} if weights is not None else overlap_summary(fit.propensity, data.a, lo, hi, estimand, keep)
    return EstimateResult(
        rows=tuple(rows), level=level, n_obs=data.n_obs, n_treated=data.n_treated, treatment=data.treatment,
        outcome=data.outcome, outcome_type=data.outcome_type, propensity_learner=fit.propensity_learner,
        outcome_learner=fit.outcome_learner, n_folds=fit.n_folds, se_method="influence function",
        propensity=fit.propensity, n_clipped=n_clipped_for(fit.propensity, lo, hi, estimand), estimand=estimand,
        trim_bounds=used_trim, n_kept=int(keep.sum()) if keep is not None else data.n_obs,
        propensity_bounds=(lo, hi), overlap=overlap, notes=tuple(notes))


def estimate(
    data: CausalData,
    *,
    estimators: Sequence[str] | None = None,
    estimand: str = "ate",
    propensity=None,
    outcome=None,
    n_folds: int | None = None,
    level: float = 0.95,
    propensity_bounds: tuple[float, float] | str = (0.01, 0.99),
    options: EstimateOptions | None = None,
    random_state: RandomState = None,
) -> EstimateResult:
    """Estimate a treatment effect with several estimators sharing one nuisance fit.

    Parameters
    ----------
    data : CausalData
    estimators : names from :data:`ESTIMATORS`; default those of :data:`DEFAULT_ESTIMATORS` (OR,
        IPW, AIPW, TMLE) that can target ``estimand`` (an estimator named explicitly that cannot
        is refused with a :class:`~causalsynth.errors.SpecError`).
    estimand : ``"ate"`` (default), ``"att"`` (effect on the treated), ``"atc"`` (on the
        controls), ``"trimmed"`` (the ATE over the units whose estimated propensity lies in
        ``options.trim_bounds``, default the optimal rule of Crump et al. 2009; the bounds and
        the number of units kept are reported) or ``"overlap"`` (overlap weights e(1-e), Li,
        Morgan & Zaslavsky 2018). See :mod:`causalsynth.estimators.core`.
    propensity, outcome : learner specifications: a preset (``"logistic"``, ``"linear"``,
        ``"gbm"``, ``"superlearner"``, ``"flexible"``), a scikit-learn estimator, or a formula.
        Defaults: logistic propensity; linear (continuous) or logistic (binary) outcome models.
    n_folds : cross-fitting folds shared by every estimator; ``None`` = 1 for parametric
        learners, 5 otherwise.
    level : confidence level of the intervals.
    propensity_bounds : estimated propensities are clipped to this interval before use; units
        outside it trigger a :class:`~causalsynth.errors.PositivityWarning`. ``"adaptive"``
        uses :math:`[\\delta_n, 1-\\delta_n]` with :math:`\\delta_n = 5/(\\sqrt n \\ln n)` (Gruber,
        Phillips, Lee & van der Laan 2022).
    options : :class:`EstimateOptions`, the rare settings: ``folds``, ``trim_bounds``,
        ``ipw_normalized``, ``outcome_bounds``, ``se_method`` (``"bootstrap"`` refits every
        nuisance model on ``n_bootstrap`` resamples) and ``n_bootstrap``.
    random_state : seeds folds, learners and bootstrap resamples.

    Returns
    -------
    EstimateResult
    """
    check_data(data)
    opts = options if options is not None else EstimateOptions()
    if not isinstance(opts, EstimateOptions):
        raise SpecError(f"options must be an EstimateOptions; got {type(opts).__name__}. "
                        "Fix: options=EstimateOptions(se_method='bootstrap', ...)")
    names, _ = select_estimators(estimators, estimand)  # refused before any fit
    check_level(level)
    lo, hi = resolve_bounds(propensity_bounds, data.n_obs)
    ss = as_seed_sequence(random_state)
    nuis_seed, boot_seed, dml_seed = ss.spawn(3)
    fit = fit_nuisance(data, propensity=propensity, outcome=outcome, n_folds=n_folds,
                       folds=opts.folds, random_state=nuis_seed)
    msg = positivity_message(fit.propensity, lo, hi, fit.separated, estimand)
    if msg:
        warnings.warn(msg, stacklevel=2)
    influence = dataclasses.replace(opts, se_method="influence")
    result = estimate_from_nuisance(data, fit, estimators, estimand=estimand, level=level, propensity_bounds=(lo, hi),
                                    options=influence, random_state=dml_seed)
    if not result.overlap["intervals_trusted"]:
        warnings.warn(untrusted_message(result.overlap, estimand), stacklevel=2)
    if opts.se_method == "bootstrap":
        result = _bootstrap(data, result, boot_seed, opts.n_bootstrap, propensity=propensity, outcome=outcome,
                            n_folds=fit.n_folds, options=influence)
    return result


def _bootstrap(data, result: EstimateResult, seed, n_bootstrap, *, propensity, outcome, n_folds,
               options: EstimateOptions) -> EstimateResult:
    from ..progress import progress
    rng = np.random.default_rng(seed)
    names = tuple(r.estimator for r in result.rows if not spec_of(r.estimator).own_nuisance)
    draws = {n: [] for n in names}
    failures = 0
    for child in progress(seed.spawn(n_bootstrap), desc="bootstrap", total=n_bootstrap):
        # resample within arms so both arms keep their sizes
        sub = data.subset(bootstrap_within_arms(data.a, rng, order=(1, 0)))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bfit = fit_nuisance(sub, propensity=propensity, outcome=outcome, n_folds=n_folds,
                                    random_state=child)
                # a trimmed estimand redraws its trimming set on every resample unless the user fixed the bounds
                res = estimate_from_nuisance(sub, bfit, names, estimand=result.estimand, level=result.level,
                                             propensity_bounds=result.propensity_bounds, options=options)
        except CausalSynthError:  # e.g. a resample without both outcome classes in an arm
            failures += 1
            continue
        for n in draws:
            draws[n].append(res[n])
    rows = []
    for r in result.rows:
        values = draws.get(r.estimator)
        if values is None:  # an estimator with its own nuisance keeps its own standard error
            rows.append(r)
            continue
        if len(values) < 10:
            raise EstimationError(f"bootstrap failed: only {len(values)} of {n_bootstrap} resamples could be fitted")
        note = f"bootstrap SE over {len(values)} resamples" + (f" ({failures} failed)" if failures else "")
        rows.append(dataclasses.replace(r, std_error=float(np.std(values, ddof=1)), note=note))
    return dataclasses.replace(result, rows=tuple(rows), se_method="bootstrap")
