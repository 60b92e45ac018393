r"""Fidelity and utility of a synthetic table measured against the real one.

* :func:`column_distances`: one distance per column, the Kolmogorov-Smirnov statistic for
  numeric columns and the total variation distance for categorical and binary ones.
* :func:`correlation_difference`: mean absolute difference of the two Pearson correlation
  matrices on a numeric encoding (numbers as they are, categories one-hot).
* :func:`detection`: how well a classifier tells real from synthetic rows (cross-validated
  AUC), and the chi-squared divergence of the synthetic from the real law estimated from the
  same classifier's density ratio.
* :func:`utility_scores` and :func:`tstr`: train-on-synthetic-test-on-real (TSTR) against
  train-on-real-test-on-real (TRTR) for several outcome learners: :math:`R^2` for a continuous
  target, AUC for a binary one.

Every function takes pandas DataFrames with the same columns (a :class:`~causalsynth.CausalData`
is accepted too and contributes its role columns); the real frame decides each column's kind.

The chi-squared divergence
--------------------------
Let :math:`P` be the real law and :math:`Q` the synthetic one, on the encoded rows :math:`x`.
A probabilistic classifier trained to tell the two samples apart (label 1 = synthetic,
:math:`n_s` synthetic and :math:`n_r` real rows) estimates
:math:`c(x) = P(\text{synthetic} \mid x) = n_s q(x) / \{n_s q(x) + n_r p(x)\}`, so the density
ratio is :math:`r(x) = q(x)/p(x) = \frac{c(x)}{1-c(x)}\frac{n_r}{n_s}` (the probabilistic-
classification method of density-ratio estimation; Qin 1998, Biometrika 85:619-630; Sugiyama,
Suzuki & Kanamori 2012, *Density Ratio Estimation in Machine Learning*, ch. 4). The estimate is

.. math::
    \widehat{\chi^2}(Q \,\|\, P) = \frac{1}{n_r}\sum_{i \in \text{real}} \{\hat r(x_i) - 1\}^2,
    \qquad \chi^2(Q\,\|\,P) = \int \Big(\frac{q}{p} - 1\Big)^2 p\,dx = E_P[(r-1)^2],

with :math:`\hat c` the out-of-fold prediction (K-fold cross-fitting, so no row is scored by
a model that saw it) clipped to ``[clip, 1 - clip]``. It is 0 when the laws agree and grows
without bound as synthetic mass moves where real data is rare. A classifier's noise makes
:math:`\hat r` scatter around 1 even for identical laws, so the estimate is biased upwards
by about the variance of :math:`\hat r`; compare it with the same estimate for a real
holdout against the real training rows (the audit reports that floor).

Why it matters for utility: for any loss :math:`\ell` with finite variance under :math:`P`,
Cauchy-Schwarz gives
:math:`|E_Q \ell - E_P \ell| = |E_P[(r-1)(\ell - E_P\ell)]| \le \sqrt{\chi^2(Q\|P)\,\mathrm{Var}_P\,\ell}`,
so the chi-squared divergence bounds how far any risk computed on synthetic data can be from
the real one; this is the fidelity term in the utility bounds of Xu, Sun & Cheng (2023),
*Utility Theory of Synthetic Data Generation*, arXiv:2305.10015 (who bound the generalization
gap between models trained on synthetic and on real data by a distributional distance of the
feature laws plus estimation and specification terms).
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._checks import check_int
from ._random import RandomState, as_seed_sequence, seed_int
from .data import column_kind
from .errors import DataError, SpecError
from .privacy import MixedEncoder, rank_auc

__all__ = ["column_distances", "correlation_difference", "detection", "DetectionResult",
           "utility_scores", "tstr", "check_learners", "DETECTION_CLASSIFIERS", "UTILITY_LEARNERS"]

#: Classifiers for :func:`detection`, by name.
DETECTION_CLASSIFIERS: dict[str, str] = {
    "gbm": "histogram gradient boosting (100 trees of 8 leaves, >= 50 rows a leaf, L2 penalty 1)",
    "logistic": "L2-penalized logistic regression on the standardized encoding",
}

#: Outcome learners for :func:`utility_scores`, by name.
UTILITY_LEARNERS: dict[str, str] = {
    "gbm": "histogram gradient boosting",
    "linear": "least squares (continuous) or logistic regression (binary)",
    "forest": "random forest, 100 trees, >= 5 rows a leaf",
    "knn": "15 nearest neighbours on the standardized encoding",
}


def _frame(obj: Any, what: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        if obj.shape[0] < 2 or obj.shape[1] < 1:
            raise DataError(f"{what} must have at least 2 rows and 1 column; got shape {obj.shape}.")
        return obj
    if all(hasattr(obj, a) for a in ("frame", "covariates", "treatment", "outcome")):
        return obj.frame[[*obj.covariates, obj.treatment, obj.outcome]]
    raise SpecError(f"{what} must be a pandas DataFrame or a CausalData; got {type(obj).__name__}.")


def _pair(real: Any, synthetic: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    real, synthetic = _frame(real, "real"), _frame(synthetic, "synthetic")
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise DataError(f"synthetic lacks the real columns {missing}; both frames need the same "
                        "columns. Select the shared columns first.")
    return real, synthetic[list(real.columns)]


def _is_discrete(col: pd.Series) -> bool:
    """Categorical, boolean, string, or numeric with at most two distinct values (binary)."""
    if column_kind(col.dtype) not in ("integer", "continuous"):
        return True
    return col.nunique(dropna=True) <= 2


def _labels(col: pd.Series) -> pd.Series:
    """Values comparable across storages: floats for numbers, strings otherwise."""
    if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype) \
            and not pd.api.types.is_bool_dtype(col):
        return pd.Series(col.to_numpy(dtype=float))
    return pd.Series(col.astype(object).astype(str).to_numpy())


def ks_statistic(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic :math:`\\sup_t |F_x(t) - F_y(t)|`."""
    x, y = np.sort(x), np.sort(y)
    grid = np.concatenate([x, y])
    fx = np.searchsorted(x, grid, side="right") / len(x)
    fy = np.searchsorted(y, grid, side="right") / len(y)
    return float(np.max(np.abs(fx - fy)))


def column_distances(real: Any, synthetic: Any) -> pd.DataFrame:
    """Distance between the real and synthetic marginal of every column.

    Returns
    -------
    DataFrame with one row per real column: ``column``, ``metric`` (``"ks"``: the two-sample
    Kolmogorov-Smirnov statistic, numeric columns with more than two values; ``"tv"``: total
    variation :math:`\\tfrac12\\sum_v |p_v - q_v|`, categorical, boolean and binary columns)
    and ``distance`` in [0, 1] (0 = identical marginals).
    """
    real, synthetic = _pair(real, synthetic)
    rows = []
    for name in real.columns:
        r, s = real[name], synthetic[name]
        if _is_discrete(r):
            p = _labels(r).value_counts(normalize=True)
            q = _labels(s).value_counts(normalize=True)
            p, q = p.align(q, fill_value=0.0)
            rows.append((name, "tv", float(0.5 * np.abs(p - q).sum())))
        else:
            rows.append((name, "ks", ks_statistic(r.to_numpy(dtype=float), s.to_numpy(dtype=float))))
    return pd.DataFrame(rows, columns=["column", "metric", "distance"])


def _correlation(X: np.ndarray) -> np.ndarray:
    Xc = X - X.mean(axis=0)
    sd = np.sqrt(np.mean(Xc ** 2, axis=0))
    Z = np.divide(Xc, sd, out=np.zeros_like(Xc), where=sd > 1e-12)  # constant -> 0
    return (Z.T @ Z) / len(Z)


def correlation_difference(real: Any, synthetic: Any) -> float:
    """Mean absolute difference between the real and synthetic correlation matrices.

    Both frames are encoded by one :class:`~causalsynth.privacy.MixedEncoder` fitted on
    ``real`` (numeric columns standardized, categorical and boolean columns one-hot over the
    real categories); the mean is over the pairs above the diagonal. A column that is constant
    in one frame has correlation 0 there. Range [0, 2]; 0 = the same linear dependence.
    """
    real, synthetic = _pair(real, synthetic)
    enc = MixedEncoder().fit(real)
    cr = _correlation(enc.transform(real).astype(float))
    cs = _correlation(enc.transform(synthetic).astype(float))
    upper = np.triu_indices(cr.shape[0], k=1)
    return float(np.mean(np.abs(cr - cs)[upper])) if len(upper[0]) else 0.0


@dataclass(frozen=True)
class DetectionResult:
    """Real-versus-synthetic classification (see the module notes for the estimator).

    Attributes
    ----------
    auc : cross-validated AUC of telling synthetic (positive) from real rows; 0.5 = the
        classifier cannot tell them apart, 1 = it always can.
    chi2 : estimate of :math:`\\chi^2(Q\\|P)`, synthetic against real law.
    mean_ratio : mean of the estimated ratio over the real rows (1 for a calibrated classifier).
    n_real, n_synthetic, n_folds : int
    classifier : str
    """

    auc: float
    chi2: float
    mean_ratio: float
    n_real: int
    n_synthetic: int
    n_folds: int
    classifier: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _detector(classifier: Any, seed: int) -> Any:
    from sklearn.base import clone
    if isinstance(classifier, str):
        if classifier == "gbm":
            from sklearn.ensemble import HistGradientBoostingClassifier
            # strongly regularized: overconfident probabilities inflate the ratio's variance
            return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05, max_leaf_nodes=8,
                                                  min_samples_leaf=50, l2_regularization=1.0,
                                                  early_stopping=False, random_state=seed)
        if classifier == "logistic":
            from sklearn.linear_model import LogisticRegression
            return LogisticRegression(C=1.0, max_iter=2000)
        raise SpecError(f"classifier must be one of {sorted(DETECTION_CLASSIFIERS)} or a scikit-learn "
                        f"classifier with predict_proba; got {classifier!r}.")
    if not (hasattr(classifier, "fit") and hasattr(classifier, "predict_proba")):
        raise SpecError(f"classifier must be one of {sorted(DETECTION_CLASSIFIERS)} or a scikit-learn "
                        f"classifier with predict_proba; got {type(classifier).__name__}.")
    est = clone(classifier)
    if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
        est.set_params(random_state=seed)
    return est


def detection(real: Any, synthetic: Any, *, classifier: Any = "gbm", n_folds: int = 5,
              clip: float = 1e-3, random_state: RandomState = None) -> DetectionResult:
    """Detection AUC and chi-squared divergence from a real-versus-synthetic classifier.

    Parameters
    ----------
    real, synthetic : DataFrames with the same columns (or CausalData), shapes (n_r, p), (n_s, p).
    classifier : ``"gbm"`` (default), ``"logistic"`` or a scikit-learn classifier (cloned).
    n_folds : folds of the stratified cross-validation giving out-of-fold probabilities (>= 2).
    clip : the predicted probability is clipped to ``[clip, 1 - clip]`` before the ratio.
    random_state : seeds the folds and the classifier.

    Returns
    -------
    DetectionResult
    """
    from sklearn.model_selection import StratifiedKFold
    real, synthetic = _pair(real, synthetic)
    check_int("n_folds", n_folds, 2)
    if not (isinstance(clip, numbers.Real) and 0 < clip < 0.5):
        raise SpecError(f"clip must be a number in (0, 0.5); got {clip!r}.")
    n_r, n_s = len(real), len(synthetic)
    if min(n_r, n_s) < n_folds:
        raise DataError(f"detection needs at least n_folds={n_folds} rows in each frame; got "
                        f"{n_r} real and {n_s} synthetic.")
    seed = seed_int(as_seed_sequence(random_state))
    enc = MixedEncoder().fit(real)
    X = np.vstack([enc.transform(real), enc.transform(synthetic)]).astype(float)
    label = np.concatenate([np.zeros(n_r, dtype=int), np.ones(n_s, dtype=int)])
    prob = np.empty(len(label))
    folds = StratifiedKFold(int(n_folds), shuffle=True, random_state=seed)
    for train, test in folds.split(X, label):
        model = _detector(classifier, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[train], label[train])
        prob[test] = model.predict_proba(X[test])[:, 1]
    c = np.clip(prob[:n_r], clip, 1 - clip)
    ratio = c / (1 - c) * (n_r / n_s)
    name = classifier if isinstance(classifier, str) else type(classifier).__name__
    return DetectionResult(auc=rank_auc(prob[label == 1], prob[label == 0]), chi2=float(np.mean((ratio - 1.0) ** 2)),
                           mean_ratio=float(ratio.mean()), n_real=n_r, n_synthetic=n_s,
                           n_folds=int(n_folds), classifier=name)


# ----------------------------------------------------------------------------- utility
def _learner(name: str, binary: bool, seed: int) -> Any:
    if name == "gbm":
        from sklearn.ensemble import (
            HistGradientBoostingClassifier,
            HistGradientBoostingRegressor,
        )
        cls = HistGradientBoostingClassifier if binary else HistGradientBoostingRegressor
        return cls(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
                   early_stopping=False, random_state=seed)
    if name == "linear":
        from sklearn.linear_model import LinearRegression, LogisticRegression
        return LogisticRegression(C=1e4, max_iter=5000) if binary else LinearRegression()
    if name == "forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        cls = RandomForestClassifier if binary else RandomForestRegressor
        return cls(n_estimators=100, min_samples_leaf=5, random_state=seed, n_jobs=1)
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    return (KNeighborsClassifier if binary else KNeighborsRegressor)(n_neighbors=15)


def check_learners(learners: Any) -> tuple[str, ...]:
    """Validate utility learner names (a name or a sequence of names)."""
    names = (learners,) if isinstance(learners, str) else tuple(learners)
    unknown = [n for n in names if n not in UTILITY_LEARNERS]
    if unknown or not names:
        raise SpecError(f"utility learners must be names from {list(UTILITY_LEARNERS)}; got "
                        f"{list(names)!r}.")
    return names


def _is_binary_target(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


def utility_scores(train: Any, test: Any, *, target: str, learners: Any = ("gbm", "linear"),
                   encoder: MixedEncoder | None = None,
                   random_state: RandomState = None) -> dict[str, float]:
    """Fit each learner on ``train`` to predict ``target`` and score it on ``test``.

    The features are every other column, encoded by ``encoder`` (default: a
    :class:`~causalsynth.privacy.MixedEncoder` fitted on ``test``'s features, so synthetic and
    real training sets share one encoding). The score is :math:`R^2` on ``test`` for a
    continuous target and the AUC for a binary (0/1) one; NaN when the training target is
    constant or a learner fails.
    """
    names = check_learners(learners)
    train, test = _frame(train, "train"), _frame(test, "test")
    if target not in test.columns or target not in train.columns:
        raise SpecError(f"target {target!r} is not a column of both frames.")
    features = [c for c in test.columns if c != target]
    enc = encoder if encoder is not None else MixedEncoder().fit(test[features])
    X_tr = enc.transform(train[features]).astype(float)
    X_te = enc.transform(test[features]).astype(float)
    y_tr = train[target].to_numpy(dtype=float)
    y_te = test[target].to_numpy(dtype=float)
    binary = _is_binary_target(y_te)
    seeds = as_seed_sequence(random_state).spawn(len(names))
    out: dict[str, float] = {}
    for name, s in zip(names, seeds):
        if np.unique(y_tr).size < 2:
            out[name] = float("nan")
            continue
        model = _learner(name, binary, seed_int(s))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X_tr, y_tr.astype(int) if binary else y_tr)
                if binary:
                    score, label = model.predict_proba(X_te)[:, 1], y_te.astype(int)
                    out[name] = rank_auc(score[label == 1], score[label == 0]) \
                        if 0 < y_te.sum() < len(y_te) else float("nan")
                else:
                    pred = model.predict(X_te)
                    out[name] = float(1.0 - np.sum((y_te - pred) ** 2) / np.sum((y_te - y_te.mean()) ** 2))
        except (ValueError, np.linalg.LinAlgError):
            out[name] = float("nan")
    return out


def tstr(real_train: Any, real_test: Any, synthetic: Any, *, target: str,
         learners: Any = ("gbm", "linear"), random_state: RandomState = None) -> pd.DataFrame:
    """Train-on-synthetic-test-on-real against train-on-real-test-on-real.

    Parameters
    ----------
    real_train : the real rows the generator was fitted on (the TRTR training set).
    real_test : real rows neither saw (the test set of both).
    synthetic : the synthetic rows (the TSTR training set).
    target : the column to predict from all others.
    learners : names from :data:`UTILITY_LEARNERS`.

    Returns
    -------
    DataFrame with one row per learner: ``learner``, ``metric`` (``"r2"`` or ``"auc"``),
    ``tstr``, ``trtr`` and ``ratio = tstr / trtr``.
    """
    real_train, real_test = _frame(real_train, "real_train"), _frame(real_test, "real_test")
    real_train, synthetic = _pair(real_train, synthetic)
    s_real, s_syn = as_seed_sequence(random_state).spawn(2)
    features = [c for c in real_train.columns if c != target]
    if target not in real_train.columns:
        raise SpecError(f"target {target!r} is not a column of the real frame.")
    enc = MixedEncoder().fit(real_train[features])
    trtr = utility_scores(real_train, real_test, target=target, learners=learners, encoder=enc,
                          random_state=s_real)
    syn = utility_scores(synthetic, real_test, target=target, learners=learners, encoder=enc,
                         random_state=s_syn)
    metric = "auc" if _is_binary_target(real_test[target].to_numpy(dtype=float)) else "r2"
    rows = [(n, metric, syn[n], trtr[n], syn[n] / trtr[n] if trtr[n] else float("nan")) for n in trtr]
    return pd.DataFrame(rows, columns=["learner", "metric", "tstr", "trtr", "ratio"])
