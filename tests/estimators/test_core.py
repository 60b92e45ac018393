"""The estimators on arrays: TMLE's targeting step and the case-weighted family."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from causalsynth.estimators.core import CORE_ESTIMATORS, fluctuate, tmle_estimate


def _poor_overlap_binary(seed):
    rng = np.random.default_rng(seed)
    n = 300
    x = rng.standard_normal(n)
    e = expit(3.5 * x)
    a = (rng.random(n) < e).astype(float)
    y = (rng.random(n) < expit(0.5 * a + x - 0.8 * x ** 2)).astype(float)
    e_hat = np.clip(e, 0.01, 0.99)
    mu1 = np.full(n, y[a == 1].mean())  # a deliberately wrong (constant) outcome model
    mu0 = np.full(n, y[a == 0].mean())
    return a, y, e_hat, mu0, mu1


@pytest.mark.parametrize("seed", range(40))
def test_tmle_solves_each_arms_score_equation(seed):
    a, y, e, mu0, mu1 = _poor_overlap_binary(seed)
    est = tmle_estimate(a, y, e, mu0, mu1)
    # recompute the update
    q1, q0 = np.clip(mu1, 1e-5, 1 - 1e-5), np.clip(mu0, 1e-5, 1 - 1e-5)
    # the targeted arm means equal the IPW-augmented means of the updated model exactly when the
    # score holds: mu1_tmle = mean(Q1*) and sum a/e (y - Q1*) = 0
    t1, t0 = a == 1, a == 0
    eps1 = fluctuate(y[t1], logit(q1[t1]), 1 / e[t1])
    eps0 = fluctuate(y[t0], logit(q0[t0]), 1 / (1 - e[t0]))
    q1s = expit(logit(q1) + eps1 / e)
    q0s = expit(logit(q0) + eps0 / (1 - e))
    assert abs(np.sum(t1 / e * (y - q1s))) < 1e-7 * len(y)
    assert abs(np.sum(t0 / (1 - e) * (y - q0s))) < 1e-7 * len(y)
    assert est.mu1 == pytest.approx(q1s.mean(), abs=1e-12)


def _arrays(seed=0, n=400):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    e = np.clip(expit(1.2 * x), 0.02, 0.98)
    a = (rng.random(n) < e).astype(float)
    y = 1.0 + a * (1 + 0.5 * x) + x + rng.standard_normal(n)
    mu0, mu1 = 1.0 + x + 0.1, 2.0 + 1.5 * x - 0.1  # slightly wrong outcome models
    return a, y, e, mu0, mu1


@pytest.mark.parametrize("name", list(CORE_ESTIMATORS))
def test_unit_weights_give_the_unweighted_estimate(name):
    a, y, e, mu0, mu1 = _arrays()
    plain = CORE_ESTIMATORS[name](a, y, e, mu0, mu1)
    ones = CORE_ESTIMATORS[name](a, y, e, mu0, mu1, weights=np.ones(len(a)))
    for attr in ("ate", "mu1", "mu0", "std_error"):
        assert getattr(ones, attr) == pytest.approx(getattr(plain, attr), rel=1e-12, abs=1e-12), attr


@pytest.mark.parametrize("name", list(CORE_ESTIMATORS))
def test_integer_weights_equal_duplicated_rows(name):
    # weight k on a row gives the estimate of k copies of it (up to rounding). The SEs differ
    # on purpose: a weighted row is one unit (its influence enters squared with w^2), copies are
    # k independent units.
    a, y, e, mu0, mu1 = _arrays(1, 300)
    w = np.random.default_rng(2).integers(1, 4, len(a)).astype(float)
    rep = np.repeat(np.arange(len(a)), w.astype(int))
    weighted = CORE_ESTIMATORS[name](a, y, e, mu0, mu1, weights=w)
    copies = CORE_ESTIMATORS[name](a[rep], y[rep], e[rep], mu0[rep], mu1[rep])
    for attr in ("ate", "mu1", "mu0"):
        assert getattr(weighted, attr) == pytest.approx(getattr(copies, attr), rel=1e-9), attr


def test_horvitz_thompson_weighted_equals_duplicated_rows():
    from causalsynth.estimators.core import ipw_estimate
    a, y, e, mu0, mu1 = _arrays(3, 300)
    w = np.random.default_rng(4).integers(1, 4, len(a)).astype(float)
    rep = np.repeat(np.arange(len(a)), w.astype(int))
    weighted = ipw_estimate(a, y, e, normalized=False, weights=w)
    copies = ipw_estimate(a[rep], y[rep], e[rep], normalized=False)
    assert weighted.ate == pytest.approx(copies.ate, rel=1e-12)
