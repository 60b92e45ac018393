"""Double machine learning through econml's LinearDML.

With no effect modifiers (``X=None``) LinearDML fits the partially linear model
``Y = theta * A + g(W) + noise`` by residual-on-residual regression with cross-fitted
``E[Y|W]`` and ``E[A|W]`` (Chernozhukov et al. 2018).  Under effect heterogeneity theta is an
overlap-weighted average effect, not the ATE: the row's note says so.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._random import seed_int
from ..data import CausalData
from ..errors import EstimationError
from ..learners import resolve_learner

__all__ = ["dml_estimate"]


def _sklearn_for(spec, role, data, seed):
    """A scikit-learn estimator equivalent to a causalsynth learner spec."""
    from sklearn.linear_model import LinearRegression, LogisticRegression
    learner = resolve_learner(spec, role=role, data=data)
    binary = learner.family == "binomial"
    if learner.kind == "sklearn" and learner.estimator is not None:
        from sklearn.base import clone
        return clone(learner.estimator), ""
    if learner.kind == "sklearn":
        return learner.make_estimator(seed), ""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    note = "" if learner.kind == "glm" else "formula learner replaced by a main-terms GLM for econml"
    # standardized first, as causalsynth's own GLMs: the (tiny) penalty and the solver's
    # tolerance then act on unit-free coefficients, so no covariate's location or unit matters
    glm = LogisticRegression(C=1e6, max_iter=5000) if binary else LinearRegression()
    return make_pipeline(StandardScaler(), glm), note


def dml_estimate(data: CausalData, *, propensity, outcome, n_folds: int,
                 seed: np.random.SeedSequence) -> tuple[float, float, str]:
    """Return (theta, standard error, note) from econml LinearDML."""
    try:
        from econml.dml import LinearDML
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EstimationError(
            "the 'dml' estimator needs econml: pip install 'causalsynth[dml]'") from exc
    s = seed_int(seed)
    model_t, note_t = _sklearn_for(propensity, "propensity", data, s)
    model_y, note_y = _sklearn_for(outcome, "outcome", data, s)
    X, _ = data.design_matrix()
    binary_y = data.outcome_type == "binary"
    est = LinearDML(model_y=model_y, model_t=model_t, discrete_treatment=True,
                    discrete_outcome=binary_y and hasattr(model_y, "predict_proba"),
                    cv=n_folds, random_state=s)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(data.y, data.a.astype(int), X=None, W=X)
            inf = est.intercept__inference()
            theta = float(np.ravel(inf.point_estimate)[0])
            se = float(np.ravel(inf.stderr)[0])
    except Exception as exc:  # econml raises many kinds
        raise EstimationError(f"econml LinearDML failed: {exc}") from exc
    notes = [n for n in (note_t, note_y) if n]
    notes.append("partially linear effect (overlap-weighted under heterogeneity)")
    return theta, se, "; ".join(notes)
