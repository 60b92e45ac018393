"""estimate(): bad input, warnings, determinism, bootstrap SEs, DML, the result object, folds."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData, EstimateOptions, estimate
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import PositivityWarning, SpecError
from tests.test_data import make_frame


def test_bad_estimator_and_level():
    data = CausalData(make_frame(), treatment="a", outcome="y")
    with pytest.raises(SpecError, match="unknown estimator"):
        estimate(data, estimators=("ols",))
    with pytest.raises(SpecError, match="level must be a number strictly between 0 and 1"):
        estimate(data, level=95)
    with pytest.raises(SpecError, match="propensity_bounds"):
        estimate(data, propensity_bounds=(0.6, 0.9))
    with pytest.raises(SpecError, match="not a preset"):
        estimate(data, propensity="forest")
    with pytest.raises(SpecError, match="left-hand side is 'y'"):
        estimate(data, propensity="y ~ x")
    with pytest.raises(SpecError, match="must be a CausalData"):
        estimate(make_frame())


def test_perfect_separation_warns():
    frame = make_frame()
    frame["a"] = (frame["x"] > 0).astype(int)
    data = CausalData(frame, treatment="a", outcome="y")
    with pytest.warns(PositivityWarning, match="separates the arms.*clipped"):
        res = estimate(data, random_state=0)
    assert res.n_clipped > 0
    assert np.isfinite(res.summary()["ate"]).all()


def test_extreme_propensities_warn_with_counts():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(2000)
    a = (rng.random(2000) < 1 / (1 + np.exp(-4 * x))).astype(int)
    frame = pd.DataFrame({"a": a, "y": x + a + rng.standard_normal(2000), "x": x})
    data = CausalData(frame, treatment="a", outcome="y")
    with pytest.warns(PositivityWarning, match=r"\d+ of 2000 units have estimated propensity outside \[0.01, 0.99\]"):
        estimate(data, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PositivityWarning)
        estimate(data, propensity_bounds=(0.0, 1.0), random_state=0)  # nothing clipped: no warning


def test_determinism_of_crossfitting():
    data = CausalData(make_frame(), treatment="a", outcome="y")
    r1 = estimate(data, propensity="gbm", outcome="gbm", n_folds=3, random_state=5).summary()
    r2 = estimate(data, propensity="gbm", outcome="gbm", n_folds=3, random_state=5).summary()
    pd.testing.assert_frame_equal(r1, r2)


def test_bootstrap_se_close_to_influence():
    data = CausalData(make_frame(n=400), treatment="a", outcome="y")
    inf = estimate(data, estimators=("aipw",), random_state=0).summary().iloc[0]
    boot = estimate(data, estimators=("aipw",), options=EstimateOptions(se_method="bootstrap", n_bootstrap=200),
                    random_state=0).summary().iloc[0]
    assert boot["ate"] == inf["ate"]
    # bootstrap SE has relative error ~ 1/sqrt(2*200) = 5%; allow 4 of those
    assert abs(boot["std_error"] / inf["std_error"] - 1) < 0.2


def test_dml_and_presets_run(nhefs):
    res = estimate(nhefs, estimators=("aipw", "dml"), propensity="gbm", outcome="gbm",
                   random_state=0)
    table = res.summary().set_index("estimator")
    assert res.n_folds == 5
    # published NHEFS effect is about 3.4 (SE 0.5); flexible learners stay within 2 SE of it
    assert np.all(np.abs(table["ate"] - 3.44) < 2 * table["std_error"])
    assert "partially linear" in table.loc["dml", "note"]


def test_result_methods(nhefs):
    res = estimate(nhefs, random_state=0)
    ci90 = res.conf_int(level=0.90)
    ci95 = res.conf_int()
    assert np.all(ci90["ci_lower"] > ci95["ci_lower"])
    assert "ATE (mean difference) of qsmk on wt82_71" in str(res)
    assert "<table" in res._repr_html_()
    d = res.to_dict()
    assert d["n_obs"] == 1566 and len(d["estimates"]) == 4
    ax = res.plot()
    assert len(ax.get_yticklabels()) == 4


def test_outcome_bounds_must_contain_outcomes():
    data = LinearLogisticDesign().sample(300, random_state=1).data
    with pytest.raises(SpecError, match="do not contain the observed outcomes"):
        estimate(data, estimators=("tmle",), options=EstimateOptions(outcome_bounds=(0.0, 1.0)))
    wide = estimate(data, estimators=("tmle",), options=EstimateOptions(outcome_bounds=(-100, 100)))
    assert np.isfinite(wide["tmle"])


def test_user_folds_validated():
    data = LinearLogisticDesign().sample(300, random_state=1).data
    with pytest.raises(SpecError, match="labelled 0..K-1"):
        estimate(data, options=EstimateOptions(folds=np.where(np.arange(300) % 2, 0, -1)))
    with pytest.raises(SpecError, match="labelled 0..K-1"):
        estimate(data, options=EstimateOptions(folds=np.where(np.arange(300) % 2, 0, 2)))
    folds = np.where(data.a == 1, 0, 1)
    with pytest.raises(SpecError, match="only one treatment arm"):
        estimate(data, options=EstimateOptions(folds=folds))
