"""Published NHEFS and LaLonde figures, reproduced through the public API.

Sources: Hernan & Robins, Causal Inference: What If (2020), Programs 12.2 and 13.2-13.3;
Dehejia & Wahba (1999) NSW experimental sample.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest

from causalsynth import CausalData, estimate
from causalsynth._glm import fit_glm
from causalsynth.datasets import load_nhefs_frame
from causalsynth.datasets import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA


@pytest.fixture(scope="module")
def book_result(nhefs):
    return estimate(nhefs, propensity=NHEFS_PROPENSITY_FORMULA, outcome=NHEFS_OUTCOME_FORMULA,
                    random_state=0)


def test_nhefs_sample_is_the_books(nhefs):
    assert nhefs.n_obs == 1566
    assert nhefs.n_treated == 403
    assert len(load_nhefs_frame(complete=False)) == 1629


def test_nhefs_ipw_matches_book(book_result):
    # Program 12.2: 3.4405, robust SE 0.5255 (95% CI 2.41 to 4.47)
    row = book_result.summary().set_index("estimator").loc["ipw"]
    assert row["ate"] == pytest.approx(3.4405, abs=1e-4)
    assert row["std_error"] == pytest.approx(0.5255, abs=1e-3)
    assert row["ci_lower"] == pytest.approx(2.41, abs=0.01)
    assert row["ci_upper"] == pytest.approx(4.47, abs=0.01)


def test_nhefs_standardization_matches_book_over_complete_cases(book_result):
    # Program 13.3 averaged over the 1,566 complete cases: 3.517
    assert book_result["or"] == pytest.approx(3.517, abs=5e-4)
    # the book's bootstrap 95% CI is 2.6 to 4.5; the delta-method interval agrees to 0.05
    row = book_result.summary().set_index("estimator").loc["or"]
    assert row["ci_lower"] == pytest.approx(2.6, abs=0.05)
    assert row["ci_upper"] == pytest.approx(4.5, abs=0.06)


def test_nhefs_standardization_over_all_1629():
    # Program 13.3: outcome model on complete cases, standardized over all 1,629: 3.5186
    full = load_nhefs_frame(complete=False)
    for col in ("education", "exercise", "active"):
        full[col] = pd.Categorical(full[col])
    complete = full.loc[full["wt82_71"].notna()]
    y, X = patsy.dmatrices(NHEFS_OUTCOME_FORMULA, complete, return_type="matrix")
    fit = fit_glm(np.asarray(X), np.asarray(y).ravel(), "gaussian", intercept=False)
    (X1,) = patsy.build_design_matrices([X.design_info], full.assign(qsmk=1))
    (X0,) = patsy.build_design_matrices([X.design_info], full.assign(qsmk=0))
    ate = float(np.mean(fit.predict(np.asarray(X1)) - fit.predict(np.asarray(X0))))
    assert len(full) == 1629
    assert ate == pytest.approx(3.5186, abs=1e-4)


def test_nhefs_unadjusted_difference(nhefs):
    # an intercept-only propensity model makes Hajek IPW the difference in means (book: 2.54)
    res = estimate(nhefs, estimators=("ipw",), propensity="qsmk ~ 1", random_state=0)
    assert res["ipw"] == pytest.approx(2.54, abs=0.005)


def test_lalonde_experimental_difference(lalonde):
    assert lalonde.n_obs == 445 and lalonde.n_treated == 185
    res = estimate(lalonde, estimators=("ipw",), propensity="treat ~ 1", random_state=0)
    assert res["ipw"] == pytest.approx(1794.34, abs=0.01)
    # adjusting for covariates in a randomized experiment moves the estimate by less than one SE
    adj = estimate(lalonde, random_state=0).summary().set_index("estimator")
    assert np.all(np.abs(adj["ate"] - 1794.34) < adj["std_error"])


def test_binary_outcome_gives_risk_difference(nhefs):
    frame = nhefs.frame.assign(gain=(nhefs.frame["wt82_71"] > 5).astype(int)).drop(columns="wt82_71")
    data = CausalData(frame, treatment="qsmk", outcome="gain", categorical=["education", "exercise", "active"])
    assert data.outcome_type == "binary"
    res = estimate(data, random_state=0).summary()
    assert set(res["estimator"]) == {"or", "ipw", "aipw", "tmle"}
    assert np.all(res[["mu0", "mu1"]].to_numpy() > 0) and np.all(res[["mu0", "mu1"]].to_numpy() < 1)
    assert np.all(np.abs(res["ate"]) < 1)
    # all four agree within a standard error on these data
    assert np.ptp(res["ate"]) < res["std_error"].min()
