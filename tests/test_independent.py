"""AIPW and TMLE agree with independent implementations given the same nuisance models and folds.

causallib's TMLE with ``reduced=False`` uses one clever covariate per arm, as causalsynth does.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalsynth import EstimateOptions, estimate
from causalsynth.nuisance import make_folds


def _logit():
    # scaling inside the pipeline makes the unpenalized fit converge fast; both sides get it
    return make_pipeline(StandardScaler(), LogisticRegression(penalty=None, max_iter=5000))


@pytest.fixture(scope="module")
def design(nhefs):
    X, names = nhefs.design_matrix()
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])


def test_aipw_matches_doubleml_crossfitted(nhefs, design):
    doubleml = pytest.importorskip("doubleml")
    folds = make_folds(nhefs.a, 5, np.random.SeedSequence(11))
    df = design.assign(y=nhefs.y, d=nhefs.a)
    dml_data = doubleml.DoubleMLData(df, y_col="y", d_cols="d", x_cols=list(design.columns))
    model = doubleml.DoubleMLIRM(dml_data, ml_g=LinearRegression(), ml_m=_logit(), n_folds=5,
                                 score="ATE", normalize_ipw=False, trimming_threshold=1e-12,
                                 draw_sample_splitting=False)
    model.set_sample_splitting(all_smpls=[(np.flatnonzero(folds != k), np.flatnonzero(folds == k))
                                          for k in range(5)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit()
    ours = estimate(nhefs, estimators=("aipw",), propensity=_logit(), outcome=LinearRegression(),
                    options=EstimateOptions(folds=folds), propensity_bounds=(1e-12, 1 - 1e-12)).summary().iloc[0]
    assert ours["ate"] == pytest.approx(float(model.coef[0]), abs=1e-3)
    assert ours["std_error"] == pytest.approx(float(model.se[0]), abs=1e-3)


@pytest.mark.parametrize("name", ["aipw", "tmle"])
def test_matches_causallib(nhefs, design, name):
    est = pytest.importorskip("causallib.estimation")
    outcome_model = est.StratifiedStandardization(LinearRegression())
    weight_model = est.IPW(_logit())
    model = (est.AIPW(outcome_model, weight_model) if name == "aipw"
             else est.TMLE(outcome_model, weight_model, reduced=False))
    a = pd.Series(nhefs.a.astype(int))
    y = pd.Series(nhefs.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(design, a, y)
        pop = model.estimate_population_outcome(design, a, y)
    ours = estimate(nhefs, estimators=(name,), propensity=_logit(), outcome=LinearRegression(),
                    n_folds=1).summary().iloc[0]
    assert ours["ate"] == pytest.approx(float(pop[1] - pop[0]), abs=1e-3)
    assert ours["mu1"] == pytest.approx(float(pop[1]), abs=1e-3)
    assert ours["mu0"] == pytest.approx(float(pop[0]), abs=1e-3)


def test_internal_glm_equals_statsmodels(nhefs):
    """The numpy GLMs behind the presets give statsmodels' maximum-likelihood fits."""
    import statsmodels.api as sm
    from causalsynth._glm import fit_glm
    X, _ = nhefs.design_matrix()
    Xc = sm.add_constant(X)
    ref = sm.GLM(nhefs.a, Xc, family=sm.families.Binomial()).fit()
    ours = fit_glm(X, nhefs.a, "binomial")
    np.testing.assert_allclose(ours.predict(Xc), ref.fittedvalues, atol=1e-8)
    ref_lin = sm.OLS(nhefs.y, Xc).fit()
    np.testing.assert_allclose(fit_glm(X, nhefs.y, "gaussian").coef, ref_lin.params, atol=1e-8)
