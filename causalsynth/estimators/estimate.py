"""``estimate()``: the ATE by several estimators sharing one nuisance fit (OR, IPW, AIPW, TMLE, DML)."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

from .._checks import check_bounds, check_int, check_level
from .._random import RandomState, as_seed_sequence
from .._resample import bootstrap_within_arms
from ..data import CausalData, check_data
from ..errors import CausalSynthError, EstimationError, PositivityWarning, SpecError
from ..nuisance import NuisanceFit, fit_nuisance
from .core import CORE_ESTIMATORS, ArmEstimate
from .results import EstimateResult, EstimateRow

__all__ = ["ESTIMATORS", "estimate", "estimate_from_nuisance", "check_estimators", "positivity_message"]

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


def positivity_message(e: np.ndarray, lo: float, hi: float, separated: bool) -> str | None:
    n_low, n_high = int(np.sum(e < lo)), int(np.sum(e > hi))
    if not (n_low or n_high or separated):
        return None
    msg = (f"{n_low + n_high} of {len(e)} units have estimated propensity outside "
           f"[{lo:g}, {hi:g}] ({n_low} below, {n_high} above; min {e.min():.2g}, max {e.max():.2g}); "
           "they were clipped to the bounds.")
    if separated:
        msg = ("the propensity model separates the arms (perfect or quasi-complete separation): "
               "some covariate pattern predicts treatment exactly. " + msg)
    return msg + (" IPW and AIPW are unstable here. Consider restricting the sample to the region of "
                  "overlap, coarsening the covariates that separate the arms, a simpler propensity "
                  "model, or causalsynth.positivity to see where overlap fails.")


def estimate_from_nuisance(data: CausalData, fit: NuisanceFit, estimators: Sequence[str], *,
                           propensity_bounds=(0.01, 0.99), ipw_normalized: bool = True,
                           outcome_bounds=None, weights: np.ndarray | None = None) -> dict[str, ArmEstimate]:
    """Run the array-level estimators on a fitted nuisance (no DML); ``weights`` are case weights."""
    lo, hi = check_bounds(propensity_bounds)
    e = np.clip(fit.propensity, lo, hi)
    a, y = data.a, data.y
    out = {}
    for name in estimators:
        if name == "dml":
            continue
        out[name] = CORE_ESTIMATORS[name](
            a, y, e, fit.mu0, fit.mu1, or_correction=fit.or_correction,
            normalized=ipw_normalized, bounds=outcome_bounds, weights=weights)
    return out


def estimate(
    data: CausalData,
    *,
    estimators: Sequence[str] = ("or", "ipw", "aipw", "tmle"),
    propensity=None,
    outcome=None,
    n_folds: int | None = None,
    folds=None,
    level: float = 0.95,
    propensity_bounds: tuple[float, float] = (0.01, 0.99),
    ipw_normalized: bool = True,
    outcome_bounds: tuple[float, float] | None = None,
    se_method: Literal["influence", "bootstrap"] = "influence",
    n_bootstrap: int = 200,
    random_state: RandomState = None,
) -> EstimateResult:
    """Estimate the average treatment effect with several estimators sharing one nuisance fit.

    Parameters
    ----------
    data : CausalData
    estimators : names from :data:`ESTIMATORS`, default ``("or", "ipw", "aipw", "tmle")``.
    propensity, outcome : learner specifications: a preset (``"logistic"``, ``"linear"``,
        ``"gbm"``, ``"superlearner"``), a scikit-learn estimator, or a formula string.
        Defaults: logistic propensity; linear (continuous) or logistic (binary) outcome models.
    n_folds : cross-fitting folds shared by every estimator; ``None`` = 1 for parametric
        learners, 5 otherwise.
    folds : optional int array (n_obs,) of fold labels 0..K-1 to use instead of drawing them
        (for example to reproduce another library's sample splitting).
    level : confidence level of the intervals.
    propensity_bounds : estimated propensities are clipped to this interval before use; units
        outside it trigger a :class:`~causalsynth.errors.PositivityWarning`.
    ipw_normalized : Hajek (True, default) or Horvitz-Thompson (False) weighting.
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
    names = check_estimators(estimators)
    check_level(level)
    lo, hi = check_bounds(propensity_bounds)
    if se_method not in ("influence", "bootstrap"):
        raise SpecError(f"se_method must be 'influence' or 'bootstrap'; got {se_method!r}")
    ss = as_seed_sequence(random_state)
    nuis_seed, boot_seed, dml_seed = ss.spawn(3)
    fit = fit_nuisance(data, propensity=propensity, outcome=outcome, n_folds=n_folds,
                       folds=folds, random_state=nuis_seed)
    msg = positivity_message(fit.propensity, lo, hi, fit.separated)
    if msg:
        warnings.warn(msg, PositivityWarning, stacklevel=2)
    arms = estimate_from_nuisance(data, fit, names, propensity_bounds=(lo, hi),
                                  ipw_normalized=ipw_normalized, outcome_bounds=outcome_bounds)
    rows: dict[str, EstimateRow] = {}
    for name, est in arms.items():
        rows[name] = EstimateRow(name, est.ate, est.std_error, est.mu1, est.mu0, est.note)
    if "dml" in names:
        from .dml import dml_estimate
        ate, se, note = dml_estimate(data, propensity=propensity, outcome=outcome,
                                     n_folds=max(fit.n_folds, 2), seed=dml_seed)
        rows["dml"] = EstimateRow("dml", ate, se, float("nan"), float("nan"), note)
    if se_method == "bootstrap":
        rows = _bootstrap(data, rows, names, boot_seed, n_bootstrap, propensity=propensity,
                          outcome=outcome, n_folds=fit.n_folds, bounds=(lo, hi),
                          ipw_normalized=ipw_normalized, outcome_bounds=outcome_bounds)
    return EstimateResult(
        rows=tuple(rows[n] for n in names), level=float(level), n_obs=data.n_obs,
        n_treated=data.n_treated, treatment=data.treatment, outcome=data.outcome,
        outcome_type=data.outcome_type, propensity_learner=fit.propensity_learner,
        outcome_learner=fit.outcome_learner, n_folds=fit.n_folds,
        se_method="bootstrap" if se_method == "bootstrap" else "influence function",
        propensity=fit.propensity, n_clipped=int(np.sum((fit.propensity < lo) | (fit.propensity > hi))))


def _bootstrap(data, rows, names, seed, n_bootstrap, *, propensity, outcome, n_folds, bounds,
               ipw_normalized, outcome_bounds):
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
                res = estimate_from_nuisance(sub, bfit, list(draws), propensity_bounds=bounds,
                                             ipw_normalized=ipw_normalized, outcome_bounds=outcome_bounds)
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
