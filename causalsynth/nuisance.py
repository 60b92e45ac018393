"""Fit the nuisance functions e(W), mu0(W), mu1(W) once, optionally cross-fitted.

Every estimator of one :func:`~causalsynth.estimate` call reuses the same fit and the same
folds.  With ``n_folds=K > 1`` the rows are split into K folds stratified by treatment;
the models used to predict a row never saw that row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import check_int
from ._random import RandomState, as_seed_sequence
from ._resample import make_folds
from .data import CausalData
from .errors import SpecError
from .learners import FittedModel, Learner, resolve_learner

__all__ = ["NuisanceFit", "fit_nuisance", "make_folds", "cross_fit_propensity", "cross_fit_outcome",
           "cross_fit_predictions", "OutcomeFits"]


@dataclass(frozen=True)
class NuisanceFit:
    """Predicted nuisance functions for every row of one dataset.

    Attributes
    ----------
    propensity : array (n,) unclipped estimates of P(A=1 | W)
    mu0, mu1 : arrays (n,) estimates of E[Y | A=a, W]
    folds : int array (n,) fold of each row (all zeros without cross-fitting)
    n_folds : int
    or_correction : array (n,) or None
        Coefficient-estimation part of the influence function of g-computation, available
        when the outcome model is a GLM fitted without cross-fitting (delta method).
    propensity_learner, outcome_learner : str descriptions
    separated : bool, the propensity GLM showed (quasi-)complete separation
    learners : the (propensity, outcome) specifications the fit was made with; estimators that
        fit their own nuisance models (DML) use them
    """

    propensity: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    folds: np.ndarray
    n_folds: int
    or_correction: np.ndarray | None
    propensity_learner: str
    outcome_learner: str
    separated: bool = False
    learners: tuple[Any, Any] = field(default=(None, None), repr=False, compare=False)


@dataclass(frozen=True)
class OutcomeFits:
    """Out-of-fold outcome predictions and the models that made them.

    ``models[k]`` holds fold k's fitted models, ``{"pooled": m}`` or ``{0: m0, 1: m1}``;
    ``training_rows[k]`` the rows they were fitted on.
    """

    mu0: np.ndarray
    mu1: np.ndarray
    models: list
    training_rows: list


def _train_rows(folds: np.ndarray, k: int, n_folds: int) -> np.ndarray:
    return np.arange(len(folds)) if n_folds == 1 else np.flatnonzero(folds != k)


def cross_fit_predictions(learner: Learner, data: CausalData, folds: np.ndarray, seeds: list,
                          target: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, list]:
    """Out-of-fold predictions of one learner for ``target`` (in-sample with one fold), and the
    fold models. ``seeds[k]`` seeds fold k's model; with ``rows``, only those rows train and
    are predicted (the others stay NaN)."""
    n_folds = int(folds.max()) + 1
    rows = np.arange(data.n_obs) if rows is None else np.asarray(rows)
    pred = np.full(data.n_obs, np.nan)
    models = []
    for k in range(n_folds):
        test = rows[folds[rows] == k]
        train = rows if n_folds == 1 else rows[folds[rows] != k]
        model = learner.fit(data, train, target[train], seeds[k])
        pred[test] = model.predict(data, test)
        models.append(model)
    return pred, models


def cross_fit_propensity(learner: Learner, data: CausalData, folds: np.ndarray,
                         seeds: list) -> tuple[np.ndarray, bool]:
    """Out-of-fold propensities (in-sample with one fold) and whether a GLM separated the arms.

    ``seeds[k]`` seeds fold k's model.
    """
    e, models = cross_fit_predictions(learner, data, folds, seeds, data.a)
    return e, any(bool(m.glm is not None and m.glm.separated) for m in models)


def cross_fit_outcome(learner: Learner, data: CausalData, folds: np.ndarray, seeds: list, *,
                      arm_seed_order: tuple[int, int] = (0, 1)) -> OutcomeFits:
    """Out-of-fold predictions of both arms' outcome regressions (in-sample with one fold).

    A pooled learner fits one model per fold with ``seeds[k]``; otherwise fold k's seed is
    split in two and arm ``arm_seed_order[j]`` gets the j-th child (callers keep the order
    that gives their published figures).
    """
    a, y = data.a, data.y
    n_folds = int(folds.max()) + 1
    mu0, mu1 = np.empty(data.n_obs), np.empty(data.n_obs)
    models, training = [], []
    for k in range(n_folds):
        test, train = np.flatnonzero(folds == k), _train_rows(folds, k, n_folds)
        if learner.pooled:
            m = learner.fit(data, train, y[train], seeds[k])
            mu1[test] = m.predict(data, test, treatment_value=1)
            mu0[test] = m.predict(data, test, treatment_value=0)
            fitted = {"pooled": m}
        else:
            children = dict(zip(arm_seed_order, seeds[k].spawn(2)))
            fitted = {}
            for arm, out in ((1, mu1), (0, mu0)):
                rows = train[a[train] == arm]
                fitted[arm] = learner.fit(data, rows, y[rows], children[arm])
                out[test] = fitted[arm].predict(data, test)
        models.append(fitted)
        training.append(train)
    return OutcomeFits(mu0, mu1, models, training)


def _check_folds(folds, n_folds, a: np.ndarray) -> np.ndarray:
    """User-given fold labels: integers 0..K-1, one per row, both arms in every training part."""
    n = len(a)
    raw = np.asarray(folds)
    try:
        ints = raw.astype(np.int64)
        exact = bool(np.all(ints == raw))
    except (TypeError, ValueError):
        exact = False
    if not exact:
        raise SpecError(f"folds must be integer labels 0..K-1; got values such as "
                        f"{raw.ravel()[:3].tolist()}")
    if n_folds is not None and n_folds != len(np.unique(ints)):
        raise SpecError(f"n_folds={n_folds} disagrees with the {len(np.unique(ints))} labels in folds; "
                        "give one of them")
    if ints.shape != (n,):
        raise SpecError(f"folds must have one label per row ({n}); got shape {ints.shape}")
    labels = np.unique(ints)
    if labels[0] != 0 or not np.array_equal(labels, np.arange(len(labels))):
        raise SpecError(f"folds must be labelled 0..K-1 with every label used; got labels {labels.tolist()[:10]}")
    if len(labels) > 1:
        for k in range(len(labels)):
            train_a = a[ints != k]
            if train_a.min() == train_a.max():
                raise SpecError(f"the training rows of fold {k} hold only one treatment arm; "
                                "every training fold needs both arms")
    return ints


def _draw_folds(n_folds, a: np.ndarray, parametric: bool, seed) -> np.ndarray:
    if n_folds is None:
        n_folds = 1 if parametric else 5
    n_folds = check_int("n_folds", n_folds)
    smallest = min(int(a.sum()), len(a) - int(a.sum()))
    if n_folds > 1 and smallest < 2 * n_folds:
        raise SpecError(
            f"n_folds={n_folds} is too many for the smallest arm ({smallest} rows); "
            "each training fold needs rows of both arms. Use fewer folds."
        )
    return make_folds(a, n_folds, seed) if n_folds > 1 else np.zeros(len(a), dtype=np.int64)


def fit_nuisance(
    data: CausalData,
    *,
    propensity=None,
    outcome=None,
    n_folds: int | None = None,
    folds: np.ndarray | None = None,
    random_state: RandomState = None,
) -> NuisanceFit:
    """Fit propensity and outcome models on ``data``.

    Parameters
    ----------
    propensity, outcome : learner specifications (see :mod:`causalsynth.learners`).
    n_folds : int or None
        Number of cross-fitting folds; 1 fits on all rows and predicts the same rows.
        ``None`` picks 1 when both learners are parametric (GLM presets or formulas) and 5
        otherwise.
    folds : optional int array (n,) of fold labels to use instead of drawing them.
    random_state : seeds the folds and the learners.
    """
    p_learner = resolve_learner(propensity, role="propensity", data=data)
    o_learner = resolve_learner(outcome, role="outcome", data=data)
    ss = as_seed_sequence(random_state)
    fold_seed, p_seed, o_seed = ss.spawn(3)
    if folds is not None:
        folds = _check_folds(folds, n_folds, data.a)
    else:
        folds = _draw_folds(n_folds, data.a, p_learner.parametric and o_learner.parametric, fold_seed)
    n_folds = int(folds.max()) + 1
    e, separated = cross_fit_propensity(p_learner, data, folds, p_seed.spawn(n_folds))
    outcome_fits = cross_fit_outcome(o_learner, data, folds, o_seed.spawn(n_folds))
    mu0, mu1 = outcome_fits.mu0, outcome_fits.mu1
    y, a = data.y, data.a
    fitted_last = outcome_fits.models[-1]
    or_corr = None
    if n_folds == 1 and o_learner.parametric:
        or_corr = _or_correction(data, o_learner, fitted_last, y, a)
    return NuisanceFit(propensity=e, mu0=mu0, mu1=mu1, folds=folds, n_folds=n_folds, or_correction=or_corr,
                       propensity_learner=p_learner.description, outcome_learner=o_learner.description,
                       separated=separated, learners=(propensity, outcome))


def _or_correction(data: CausalData, learner: Learner, models: dict[str, FittedModel],
                   y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """n * grad' IF_beta for each row: the delta-method part of g-computation's influence,
    computed by each GLM on its own standardized design (so it does not depend on the location
    or unit of any covariate)."""
    n = data.n_obs
    rows = np.arange(n)
    corr = np.zeros(n)
    if learner.pooled:
        m = models["pooled"]
        targets = ((1.0, m.design(data, rows, 1)), (-1.0, m.design(data, rows, 0)))
        return n * m.glm.delta_influence(m.design(data, rows), y, targets)
    for key, sign, arm in ((1, 1.0, 1.0), (0, -1.0, 0.0)):
        m = models[key]
        X_all = m.design(data, rows)
        fit_rows = np.flatnonzero(a == arm)
        corr[fit_rows] += sign * n * m.glm.delta_influence(X_all[fit_rows], y[fit_rows], ((1.0, X_all),))
    return corr
