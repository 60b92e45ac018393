"""Fit the nuisance functions e(W), mu0(W), mu1(W) once, optionally cross-fitted.

Every estimator of one :func:`~causalsynth.estimate` call reuses the same fit and the same
folds.  With ``n_folds=K > 1`` the rows are split into K folds stratified by treatment;
the models used to predict a row never saw that row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._random import RandomState, as_seed_sequence
from .data import CausalData
from .errors import SpecError
from .learners import FittedModel, Learner, resolve_learner

__all__ = ["NuisanceFit", "fit_nuisance", "make_folds"]


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


def make_folds(a: np.ndarray, n_folds: int, seed: np.random.SeedSequence,
               groups: np.ndarray | None = None) -> np.ndarray:
    """Fold labels 0..K-1 stratified by treatment, balanced in size, seeded.

    ``groups`` (one label per row, e.g. the original row of a bootstrap copy) keeps rows of a
    group in one fold, so no copy of a unit is in the training rows of its own prediction.
    """
    if groups is not None:
        groups = np.asarray(groups)
        uniq, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
        return make_folds(a[first], n_folds, seed)[inverse]
    rng = np.random.default_rng(seed)
    folds = np.empty(len(a), dtype=np.int64)
    offset = 0
    for arm in (0.0, 1.0):
        idx = np.flatnonzero(a == arm)
        perm = rng.permutation(idx)
        folds[perm] = (np.arange(len(perm)) + offset) % n_folds
        offset += len(perm)
    return folds


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
    a, y = data.a, data.y
    n = data.n_obs
    if folds is not None:
        raw = np.asarray(folds)
        try:
            ints = raw.astype(np.int64)
            exact = bool(np.all(ints == raw))
        except (TypeError, ValueError):
            exact = False
        if not exact:
            raise SpecError(f"folds must be integer labels 0..K-1; got values such as "
                            f"{raw.ravel()[:3].tolist()}")
        raw = ints
        if n_folds is not None and n_folds != len(np.unique(raw)):
            raise SpecError(f"n_folds={n_folds} disagrees with the {len(np.unique(raw))} labels in folds; "
                            "give one of them")
        folds = raw.astype(np.int64)
        if folds.shape != (n,):
            raise SpecError(f"folds must have one label per row ({n}); got shape {folds.shape}")
        labels = np.unique(folds)
        if labels[0] != 0 or not np.array_equal(labels, np.arange(len(labels))):
            raise SpecError(f"folds must be labelled 0..K-1 with every label used; got labels {labels.tolist()[:10]}")
        n_folds = len(labels)
        if n_folds > 1:
            for k in range(n_folds):
                train_a = a[folds != k]
                if train_a.min() == train_a.max():
                    raise SpecError(f"the training rows of fold {k} hold only one treatment arm; "
                                    "every training fold needs both arms")
    else:
        if n_folds is None:
            n_folds = 1 if (p_learner.parametric and o_learner.parametric) else 5
        if not isinstance(n_folds, (int, np.integer)) or n_folds < 1:
            raise SpecError(f"n_folds must be a positive integer; got {n_folds!r}")
        smallest = min(int(a.sum()), n - int(a.sum()))
        if n_folds > 1 and smallest < 2 * n_folds:
            raise SpecError(
                f"n_folds={n_folds} is too many for the smallest arm ({smallest} rows); "
                "each training fold needs rows of both arms. Use fewer folds."
            )
        folds = make_folds(a, int(n_folds), fold_seed) if n_folds > 1 else np.zeros(n, dtype=np.int64)

    e = np.empty(n)
    mu0 = np.empty(n)
    mu1 = np.empty(n)
    separated = False
    fitted_last: dict[str, FittedModel] = {}
    p_seeds = p_seed.spawn(n_folds)
    o_seeds = o_seed.spawn(n_folds)
    all_rows = np.arange(n)
    for k in range(n_folds):
        test = np.flatnonzero(folds == k)
        train = all_rows if n_folds == 1 else np.flatnonzero(folds != k)
        pm = p_learner.fit(data, train, a[train], p_seeds[k])
        e[test] = pm.predict(data, test)
        separated |= bool(pm.glm is not None and pm.glm.separated)
        if o_learner.pooled:
            om = o_learner.fit(data, train, y[train], o_seeds[k])
            mu1[test] = om.predict(data, test, treatment_value=1)
            mu0[test] = om.predict(data, test, treatment_value=0)
            fitted_last = {"pooled": om}
        else:
            s0, s1 = o_seeds[k].spawn(2)
            tr1 = train[a[train] == 1]
            tr0 = train[a[train] == 0]
            m1 = o_learner.fit(data, tr1, y[tr1], s1)
            m0 = o_learner.fit(data, tr0, y[tr0], s0)
            mu1[test] = m1.predict(data, test)
            mu0[test] = m0.predict(data, test)
            fitted_last = {"m1": m1, "m0": m0}

    or_corr = None
    if n_folds == 1 and o_learner.parametric:
        or_corr = _or_correction(data, o_learner, fitted_last, y, a)
    return NuisanceFit(e, mu0, mu1, folds, int(n_folds), or_corr, p_learner.description,
                       o_learner.description, separated)


def _or_correction(data: CausalData, learner: Learner, models: dict[str, FittedModel],
                   y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """n * grad' IF_beta for each row: the delta-method part of g-computation's influence."""
    n = data.n_obs
    rows = np.arange(n)
    corr = np.zeros(n)
    if learner.pooled:
        m = models["pooled"]
        X1 = m.design(data, rows, 1)
        X0 = m.design(data, rows, 0)
        grad = (m.glm.mean_derivative(X1)[:, None] * X1 - m.glm.mean_derivative(X0)[:, None] * X0).mean(0)
        X = m.design(data, rows)
        corr = n * (m.glm.coef_influence(X, y) @ grad)
        return corr
    for key, sign, arm in (("m1", 1.0, 1.0), ("m0", -1.0, 0.0)):
        m = models[key]
        X_all = m.design(data, rows)
        grad = (m.glm.mean_derivative(X_all)[:, None] * X_all).mean(0)
        fit_rows = np.flatnonzero(a == arm)
        corr[fit_rows] += sign * n * (m.glm.coef_influence(X_all[fit_rows], y[fit_rows]) @ grad)
    return corr
