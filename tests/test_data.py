"""CausalData validation and bad-input handling of estimate()."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData, estimate
from causalsynth.errors import DataError, PositivityWarning, RoleError, SpecError


def make_frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    a = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    return pd.DataFrame({
        "a": a,
        "y": 1.0 + a + x + rng.standard_normal(n),
        "x": x,
        "k": rng.integers(0, 5, n),
        "grp": rng.choice(["north", "south", "east"], n),
    })


def test_roles_and_kinds():
    frame = make_frame()
    data = CausalData(frame, treatment="a", outcome="y")
    assert data.covariates == ("x", "k", "grp")
    assert data.covariate_kinds == {"x": "continuous", "k": "integer", "grp": "categorical"}
    assert data.outcome_type == "continuous"
    declared = CausalData(frame, treatment="a", outcome="y", categorical=["k"])
    assert declared.covariate_kinds["k"] == "categorical"
    X, names = declared.design_matrix()
    assert X.shape == (200, 1 + 4 + 2) and "k[1]" in names


def test_caller_frame_not_mutated():
    frame = make_frame()
    before = frame.copy()
    data = CausalData(frame, treatment="a", outcome="y")
    estimate(data, random_state=0)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("coding", ["int", "float", "bool"])
def test_treatment_codings_accepted(coding):
    frame = make_frame()
    frame["a"] = frame["a"].astype({"int": int, "float": float, "bool": bool}[coding])
    data = CausalData(frame, treatment="a", outcome="y")
    assert set(np.unique(data.a)) == {0.0, 1.0}


def test_wrong_column_names_suggest_fix():
    with pytest.raises(RoleError, match=r"treatment column 'treat' is not in the frame.*Did you mean 'a'|treatment column 'tret'.*'treat'") as info:
        CausalData(make_frame().rename(columns={"a": "treat"}), treatment="tret", outcome="y")
    assert "treat" in str(info.value)
    with pytest.raises(RoleError, match="outcome column 'Y' is not in the frame"):
        CausalData(make_frame(), treatment="a", outcome="Y")


def test_missing_values_reported_with_counts():
    frame = make_frame()
    frame.loc[[1, 2, 3], "x"] = np.nan
    frame.loc[[5], "y"] = np.nan
    with pytest.raises(DataError, match=r"missing values in y: 1, x: 3 .*missing='drop'"):
        CausalData(frame, treatment="a", outcome="y")
    data = CausalData(frame, treatment="a", outcome="y", missing="drop")
    assert data.n_obs == 196 and data.n_dropped == 4


def test_non_binary_treatment():
    frame = make_frame()
    frame["a"] = frame["a"] * 2 + 1
    with pytest.raises(DataError, match="treatment 'a' must be binary coded 0/1"):
        CausalData(frame, treatment="a", outcome="y")
    frame["a"] = np.where(frame["a"] > 2, "yes", "no")
    with pytest.raises(DataError, match="must be binary"):
        CausalData(frame, treatment="a", outcome="y")


def test_empty_arm():
    frame = make_frame().assign(a=1)
    with pytest.raises(DataError, match="empty arm"):
        CausalData(frame, treatment="a", outcome="y")


def test_too_few_rows():
    frame = make_frame(n=40)
    frame["a"] = 0
    frame.loc[:2, "a"] = 1
    with pytest.raises(DataError, match="too few rows: 3 treated"):
        CausalData(frame, treatment="a", outcome="y")


def test_constant_covariate_and_all_problems_at_once():
    frame = make_frame().assign(const=7.0)
    frame.loc[0, "x"] = np.nan
    with pytest.raises(DataError) as info:
        CausalData(frame, treatment="a", outcome="y")
    problems = info.value.problems
    assert any("constant" in p and "const" in p for p in problems)
    assert any("missing values in x: 1" in p for p in problems)


def test_non_numeric_outcome_and_dates():
    frame = make_frame().assign(y=lambda f: np.where(f["y"] > 1, "high", "low"))
    with pytest.raises(DataError, match="outcome 'y' must be numeric"):
        CausalData(frame, treatment="a", outcome="y")
    frame = make_frame().assign(when=pd.date_range("2020-01-01", periods=200))
    with pytest.raises(DataError, match="date/time column"):
        CausalData(frame, treatment="a", outcome="y")


def test_not_a_frame():
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        CausalData(np.zeros((10, 3)), treatment="a", outcome="y")


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
    boot = estimate(data, estimators=("aipw",), se_method="bootstrap", n_bootstrap=200,
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
    assert "ATE of qsmk on wt82_71" in str(res)
    assert "<table" in res._repr_html_()
    d = res.to_dict()
    assert d["n_obs"] == 1566 and len(d["estimates"]) == 4
    ax = res.plot()
    assert len(ax.get_yticklabels()) == 4
