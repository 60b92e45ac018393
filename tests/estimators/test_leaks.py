"""The outcome or the treatment leaking into the adjustment set is refused or named."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData, estimate
from causalsynth.errors import LeakageWarning, SpecError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    n = 400
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    a = (rng.random(n) < 0.5).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "A": a, "Y": x1 + a + rng.normal(size=n)})


@pytest.fixture(scope="module")
def data(frame) -> CausalData:
    return CausalData(frame, treatment="A", outcome="Y")


@pytest.mark.parametrize("formula", ["Y ~ x1 + Y", "Y ~ x1 + I(Y**2)", "Y ~ A * Y + x2", "Y ~ np.log(Y + 10)"])
def test_outcome_on_the_right_of_the_outcome_formula_is_refused(data, formula):
    with pytest.raises(SpecError, match=rf"outcome formula '{re.escape(formula)}' uses the outcome 'Y'.*Fix: remove 'Y'"):
        estimate(data, outcome=formula)


@pytest.mark.parametrize("formula, what", [("A ~ x1 + A", "treatment 'A'"), ("A ~ x1 + Y", "outcome 'Y'")])
def test_propensity_formula_uses_neither_treatment_nor_outcome(data, formula, what):
    with pytest.raises(SpecError, match=rf"propensity formula '{re.escape(formula)}' uses the {what}.*Fix: remove"):
        estimate(data, propensity=formula)


def test_names_containing_the_outcome_are_not_the_outcome(frame):
    # whole words only: Y_lag and Y2 are covariates, not the outcome
    d = CausalData(frame.assign(Y_lag=np.sin(frame["x2"]), Y2=frame["x1"] ** 2), treatment="A", outcome="Y")
    assert np.isfinite(estimate(d, outcome="Y ~ x1 + Y_lag + Y2", estimators=("or",))["or"])


@pytest.mark.parametrize("name, column", [
    ("copy of the outcome", lambda f: f["Y"]),
    ("affine function of the outcome", lambda f: 2 * f["Y"] + 1),
    ("negated outcome in cents", lambda f: -100 * f["Y"]),
    ("copy of the treatment", lambda f: f["A"]),
    ("treatment times five", lambda f: f["A"] * 5),
    ("treatment as labels", lambda f: np.where(f["A"] == 1, "treated", "control")),
    ("treatment as a float", lambda f: f["A"] * 0.5 - 3.0),
])
def test_a_covariate_copying_treatment_or_outcome_warns(frame, name, column):
    leaked = frame.assign(leak=column(frame))
    role = "treatment 'A'" if "treatment" in name else "outcome 'Y'"
    with pytest.warns(LeakageWarning, match=rf"covariate 'leak' .*leaks the {role}.*Drop it"):
        CausalData(leaked, treatment="A", outcome="Y")


def test_a_covariate_copying_a_binary_outcome_warns(frame):
    f = frame.assign(Y=(frame["Y"] > 0.5).astype(int))
    with pytest.warns(LeakageWarning, match="covariate 'leak' equals the outcome: it leaks the outcome 'Y'"):
        CausalData(f.assign(leak=f["Y"]), treatment="A", outcome="Y")
    with pytest.warns(LeakageWarning, match="'leak' takes one value for each outcome value"):
        CausalData(f.assign(leak=np.where(f["Y"] == 1, "yes", "no")), treatment="A", outcome="Y")


def test_ordinary_and_derived_data_do_not_warn(frame, nhefs, lalonde):
    from causalsynth.datasets import load_lalonde, load_nhefs
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeakageWarning)
        load_nhefs()
        load_lalonde()
        CausalData(nhefs.frame, treatment="qsmk", outcome="wt82_71", categorical=list(nhefs.categorical))
        CausalData(lalonde.frame, treatment=lalonde.treatment, outcome=lalonde.outcome)
        CausalData(frame, treatment="A", outcome="Y")
        kept = frame.assign(zero=0.0, one=1)  # constant columns kept on request: no leak, no 0/0
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            CausalData(kept, treatment="A", outcome="Y", constant="keep")
        # resamples and subsets are the user's data again: checked once, at the boundary
        CausalData(frame.assign(leak=frame["Y"]), treatment="A", outcome="Y", _derived=True)
