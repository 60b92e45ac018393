"""CausalData validation: roles, kinds, codings and every data problem at once."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData, estimate
from causalsynth.errors import DataError, RoleError


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
