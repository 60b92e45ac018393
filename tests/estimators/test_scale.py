"""Estimates do not depend on the unit a covariate is measured in.

The GLMs behind the presets and the formula learners fit on an internally standardized
design and report back on the user's columns, so multiplying a covariate by 1e-8 or 1e8
(cents, epoch seconds) leaves every ATE, SE, prediction and influence contribution as it was.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from causalsynth import CausalData, estimate
from causalsynth._glm import SEPARATION_ETA, fit_glm
from causalsynth.cli import main
from causalsynth.datasets import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA
from causalsynth.errors import SingularDesignWarning

SCALES = (1e-8, 1e8)
RTOL = 1e-6


def _rescaled(data: CausalData, column: str, factor: float) -> CausalData:
    frame = data.frame
    frame[column] = frame[column] * factor
    return CausalData(frame, treatment=data.treatment, outcome=data.outcome,
                      categorical=list(data.categorical))


def _numbers(data: CausalData, **learners) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingularDesignWarning)
        table = estimate(data, random_state=0, **learners).summary().set_index("estimator")
    return table.loc[["or", "ipw", "aipw", "tmle"], ["ate", "std_error", "mu1", "mu0"]].to_numpy()


@pytest.fixture(scope="module")
def unscaled(nhefs, lalonde):
    return {"nhefs": _numbers(nhefs), "lalonde": _numbers(lalonde),
            "book": _numbers(nhefs, propensity=NHEFS_PROPENSITY_FORMULA, outcome=NHEFS_OUTCOME_FORMULA),
            "pooled": _numbers(nhefs, outcome="pooled:linear")}


@pytest.mark.parametrize("factor", SCALES)
@pytest.mark.parametrize("dataset, column", [("nhefs", "wt71"), ("nhefs", "age"),
                                             ("nhefs", "smokeintensity"), ("lalonde", "re74")])
def test_default_learners_ignore_the_unit_of_a_covariate(dataset, column, factor, unscaled, request):
    data = request.getfixturevalue(dataset)
    np.testing.assert_allclose(_numbers(_rescaled(data, column, factor)), unscaled[dataset], rtol=RTOL)


@pytest.mark.parametrize("factor", SCALES)
@pytest.mark.parametrize("column", ["wt71", "age", "smokeintensity"])
def test_formula_learners_ignore_the_unit_of_a_covariate(nhefs, column, factor, unscaled):
    # the book's formulas square age, smokeintensity, smokeyrs and wt71 (terms up to 1e20)
    # and interact smokeintensity with the treatment; patsy's intercept is a design column
    got = _numbers(_rescaled(nhefs, column, factor), propensity=NHEFS_PROPENSITY_FORMULA,
                   outcome=NHEFS_OUTCOME_FORMULA)
    np.testing.assert_allclose(got, unscaled["book"], rtol=RTOL)


@pytest.mark.parametrize("factor", SCALES)
def test_pooled_design_ignores_the_unit_of_a_covariate(nhefs, factor, unscaled):
    got = _numbers(_rescaled(nhefs, "wt71", factor), outcome="pooled:linear")
    np.testing.assert_allclose(got, unscaled["pooled"], rtol=RTOL)


def _cli_numbers(path, capsys) -> np.ndarray:
    code = main(["estimate", str(path), "-a", "qsmk", "-y", "wt82_71", "--categorical",
                 "education,exercise,active", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    return np.array([[r["ate"], r["std_error"]] for r in doc["estimates"]])


@pytest.mark.parametrize("factor", SCALES)
def test_cli_gives_the_same_numbers_on_a_rescaled_column(nhefs, tmp_path, capsys, factor):
    frame = nhefs.frame
    frame.to_csv(tmp_path / "plain.csv", index=False)
    frame.assign(wt71=frame["wt71"] * factor).to_csv(tmp_path / "scaled.csv", index=False)
    np.testing.assert_allclose(_cli_numbers(tmp_path / "scaled.csv", capsys),
                               _cli_numbers(tmp_path / "plain.csv", capsys), rtol=RTOL)


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
@pytest.mark.parametrize("intercept", [True, False])
def test_glm_predictions_and_influence_are_scale_free(nhefs, family, intercept):
    X, _ = nhefs.design_matrix()
    if not intercept:  # a formula design carries its intercept as a column
        X = np.hstack([np.ones((len(X), 1)), X])
    y = nhefs.a if family == "binomial" else nhefs.y
    j = X.shape[1] - 1  # wt71, the last main term
    scaled = X.copy()
    scaled[:, j] *= 1e8
    ref, fit = fit_glm(X, y, family, intercept=intercept), fit_glm(scaled, y, family, intercept=intercept)
    Xd, Sd = (np.hstack([np.ones((len(X), 1)), M]) if intercept else M for M in (X, scaled))
    np.testing.assert_allclose(fit.predict(Sd), ref.predict(Xd), rtol=1e-10)
    np.testing.assert_allclose(fit.mean_derivative(Sd), ref.mean_derivative(Xd), rtol=1e-10)
    # what _or_correction uses: grad' IF_beta, a scalar per row whatever the parametrization
    grad_ref = (ref.mean_derivative(Xd)[:, None] * Xd).mean(0)
    grad_fit = (fit.mean_derivative(Sd)[:, None] * Sd).mean(0)
    np.testing.assert_allclose(fit.coef_influence(Sd, y) @ grad_fit,
                               ref.coef_influence(Xd, y) @ grad_ref, rtol=1e-8, atol=1e-12)
    k = j + 1 if intercept else j
    assert fit.coef[k] == pytest.approx(ref.coef[k] / 1e8, rel=1e-10)
    assert fit.bread[k, k] == pytest.approx(ref.bread[k, k] / 1e16, rel=1e-10)


def test_glm_agrees_with_qr_least_squares_on_badly_scaled_data(lalonde):
    # earnings in dollars make the raw X'X ill-conditioned (~1e10); the fit does not notice
    X, _ = lalonde.design_matrix()
    Xd = np.hstack([np.ones((len(X), 1)), X])
    q, r = np.linalg.qr(Xd)
    ref = Xd @ np.linalg.solve(r, q.T @ lalonde.y)
    fit = fit_glm(X, lalonde.y, "gaussian")
    np.testing.assert_allclose(fit.predict(Xd), ref, rtol=1e-12, atol=1e-9)
    assert fit.condition < 100


def test_separation_is_detected_whatever_the_scale():
    rng = np.random.default_rng(3)
    x, z = rng.normal(size=400), rng.normal(size=400)
    a = (x > 0).astype(float)
    for factor in (1e-8, 1.0, 1e8):
        fit = fit_glm(np.column_stack([x * factor, z]), a, "binomial")
        assert fit.separated
        assert np.max(np.abs(fit.linear_predictor(np.column_stack([np.ones(400), x * factor, z])))) > SEPARATION_ETA


def test_singular_design_warns_naming_the_columns():
    rng = np.random.default_rng(4)
    x, z = rng.normal(size=300), rng.normal(size=300)
    y = x + z + rng.normal(size=300)
    X = np.column_stack([x, 2 * x + 1, z, np.zeros(300)])
    with pytest.warns(SingularDesignWarning, match=r"'zero' is constant.*'x', 'x_twice' are \(nearly\) collinear"):
        fit = fit_glm(X, y, "gaussian", names=["x", "x_twice", "z", "zero"])
    Xd = np.hstack([np.ones((300, 1)), X])
    q, r = np.linalg.qr(Xd[:, [0, 1, 3]])  # the fitted values are unique: those of the full-rank part
    np.testing.assert_allclose(fit.predict(Xd), q @ (q.T @ y), rtol=1e-10)


def test_singular_design_warns_through_estimate(nhefs):
    frame = nhefs.frame.assign(wt71_copy=lambda f: f["wt71"] * 2.2046)  # kilograms and pounds
    data = CausalData(frame, treatment="qsmk", outcome="wt82_71", categorical=list(nhefs.categorical))
    with pytest.warns(SingularDesignWarning, match="'wt71', 'wt71_copy'"):
        estimate(data, estimators=("or",))


def test_ordinary_data_fit_without_a_singular_design_warning(nhefs, lalonde):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingularDesignWarning)
        for data in (nhefs, lalonde):
            estimate(data, estimators=("or", "aipw"))
