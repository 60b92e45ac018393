"""Pooled outcome learners (one model over both arms, treatment as a feature)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression

import causalsynth as cs
from causalsynth.datasets import load_nhefs
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.learners import resolve_learner
from causalsynth.nuisance import fit_nuisance


@pytest.fixture(scope="module")
def nhefs():
    return load_nhefs()


def test_pooled_linear_or_equals_ols_treatment_coefficient_and_hc0_se(nhefs):
    """Pooled main-terms linear g-computation is the OLS coefficient of the treatment; its
    delta-method SE is the HC0 sandwich SE of that coefficient (statsmodels, independent)."""
    sm = pytest.importorskip("statsmodels.api")
    X, _ = nhefs.design_matrix()
    ols = sm.OLS(nhefs.y, sm.add_constant(np.column_stack([X, nhefs.a]))).fit(cov_type="HC0")
    row = cs.estimate(nhefs, outcome="pooled:linear", estimators=("or",)).summary().iloc[0]
    assert row["ate"] == pytest.approx(ols.params[-1], abs=1e-8)
    assert row["std_error"] == pytest.approx(ols.bse[-1], rel=1e-6)


class _CountingRegressor(RegressorMixin, BaseEstimator):
    """A linear regressor that records how many times it was fitted and on how many columns."""

    calls: list = []

    def fit(self, X, y):
        type(self).calls.append(X.shape[1])
        self.model_ = LinearRegression().fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_pooled_fits_one_outcome_model_per_fold_with_the_treatment_column():
    data = LinearLogisticDesign(n_features=4).sample(600, random_state=3).data
    p = data.design_matrix()[0].shape[1]
    _CountingRegressor.calls = []
    nf = fit_nuisance(data, outcome=cs.pooled(_CountingRegressor()), n_folds=5, random_state=0)
    assert _CountingRegressor.calls == [p + 1] * 5   # one fit per fold, treatment appended
    _CountingRegressor.calls = []
    fit_nuisance(data, outcome=_CountingRegressor(), n_folds=5, random_state=0)
    assert _CountingRegressor.calls == [p] * 10           # per arm: two fits per fold
    # a linear pooled model has a constant contrast: mu1 - mu0 is the same for every row
    contrast = nf.mu1 - nf.mu0
    folds = nf.folds
    for k in range(5):
        assert np.ptp(contrast[folds == k]) < 1e-8


def test_pooled_gbm_aipw_recovers_the_truth_within_monte_carlo_error():
    """Seeded: AIPW with a pooled GBM outcome and a GBM propensity on a known design.
    Tolerance: 4 x the reported standard error (the interval is valid here)."""
    design = LinearLogisticDesign(n_features=4, confounding=0.4)
    sample = design.sample(3000, random_state=11)
    res = cs.estimate(sample.data, propensity="gbm", outcome="pooled:gbm", estimators=("aipw", "tmle"),
                      random_state=0).summary().set_index("estimator")
    for est in ("aipw", "tmle"):
        assert abs(res.loc[est, "ate"] - sample.sate) < 4 * res.loc[est, "std_error"]


def test_pooled_description_and_errors(nhefs):
    learner = resolve_learner("pooled:gbm", role="outcome", data=nhefs)
    assert learner.pooled and "pooled over arms" in learner.description
    assert repr(cs.pooled("gbm")) == "pooled('gbm')"
    assert cs.pooled(cs.pooled("gbm")) == cs.pooled("gbm")
    with pytest.raises(cs.SpecError, match="only the outcome learner"):
        cs.estimate(nhefs, propensity="pooled:gbm")
    with pytest.raises(cs.SpecError, match="right-hand side"):
        cs.estimate(nhefs, outcome=cs.pooled("wt82_71 ~ age"))
    with pytest.raises(cs.SpecError, match="not a preset"):
        cs.estimate(nhefs, outcome="pooled:forest")


def test_hybrid_and_positivity_accept_a_pooled_outcome(nhefs):
    # the hybrid's outcome model is fitted on all rows: its CATE is the OLS treatment coefficient
    X, _ = nhefs.design_matrix()
    beta = np.linalg.lstsq(np.column_stack([np.ones(nhefs.n_obs), X, nhefs.a]), nhefs.y, rcond=None)[0]
    synth = cs.HybridSynthesizer(outcome=cs.pooled(LinearRegression()), random_state=0).fit(nhefs)
    truth = synth.sample(400, random_state=1).truth
    np.testing.assert_allclose(truth["cate"], beta[-1], rtol=1e-8)
    # augmentation: each fold's pooled linear model has one treatment coefficient, so the
    # cross-fitted contrast mu1 - mu0 of the original rows is constant within a fold
    aug = cs.augment_positivity(nhefs, cs.AugmentSpec(outcome="pooled:linear", n_folds=2, n_models=2),
                                random_state=0)
    assert "pooled over arms" in aug.outcome_learner
    n = nhefs.n_obs
    contrast = aug.mu1[:n] - aug.mu0[:n]
    for k in (0, 1):
        assert np.ptp(contrast[aug.folds == k]) < 1e-8
    assert abs(contrast[aug.folds == 0][0] - contrast[aug.folds == 1][0]) > 1e-6  # two fits


def test_pooled_from_the_command_line_and_in_simulation_configs(capsys, nhefs):
    import json

    from causalsynth.cli import main
    from causalsynth.simulate import SimulationSpec
    assert main(["estimate", "nhefs", "--outcome-learner", "pooled:linear", "--estimators", "or", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    direct = cs.estimate(nhefs, outcome="pooled:linear", estimators=("or",)).summary().iloc[0]
    assert doc["estimates"][0]["ate"] == pytest.approx(direct["ate"], abs=1e-10)
    a, b = SimulationSpec.build(learners={"a": "pooled:gbm", "b": "pooled:logistic"}).learners
    assert (a.propensity, a.outcome) == ("gbm", "pooled:gbm")
    assert (b.propensity, b.outcome) == ("logistic", "pooled:linear")
