"""Fidelity and utility metrics: identical against shifted data, reference values, bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from causalsynth.errors import DataError, SpecError
from causalsynth.fidelity import (DETECTION_CLASSIFIERS, UTILITY_LEARNERS, column_distances,
                                  correlation_difference, detection, tstr, utility_scores)


def _table(n: int, *, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    x[:, 0] += shift
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["g"] = pd.Categorical(rng.choice(["u", "v", "w"], n))
    frame["flag"] = (x[:, 1] > 0).astype(int)
    frame["y"] = 2 * frame["a"] + frame["flag"] + rng.standard_normal(n)
    return frame


@pytest.fixture(scope="module")
def frames():
    return {"real": _table(1500, seed=1), "same": _table(1500, seed=2),
            "shifted": _table(1500, shift=1.0, seed=3)}


# ----------------------------------------------------------------------------- column distances
def test_column_distances_pick_the_metric_by_kind(frames):
    table = column_distances(frames["real"], frames["same"]).set_index("column")
    assert table.loc[["a", "b", "c", "y"], "metric"].eq("ks").all()
    assert table.loc[["g", "flag"], "metric"].eq("tv").all()  # categorical and binary
    assert (table["distance"] < 0.06).all()


def test_column_distances_see_the_shift(frames):
    same = column_distances(frames["real"], frames["same"]).set_index("column")["distance"]
    shifted = column_distances(frames["real"], frames["shifted"]).set_index("column")["distance"]
    # KS of N(0,1) against N(1,1) is 2 * Phi(1/2) - 1 = 0.383
    assert shifted["a"] == pytest.approx(2 * norm.cdf(0.5) - 1, abs=0.05)
    assert shifted["a"] > 5 * same["a"]
    assert shifted["b"] < 0.06


def test_column_distances_exact_values():
    # Setup
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "k": ["a", "a", "b", "b"]})
    synth = pd.DataFrame({"x": [5.0, 6.0, 7.0, 8.0], "k": ["a", "b", "b", "b"]})
    # Run
    table = column_distances(real, synth).set_index("column")["distance"]
    # Assert: disjoint supports give KS 1; TV of (1/2, 1/2) against (1/4, 3/4) is 1/4
    assert table["x"] == 1.0
    assert table["k"] == 0.25


def test_column_distances_compare_values_not_storage():
    real = pd.DataFrame({"x": np.arange(10.0), "flag": np.array([0, 1] * 5)})
    synth = real.assign(flag=real["flag"].astype(float))
    assert column_distances(real, synth)["distance"].max() == 0.0


# ----------------------------------------------------------------------------- correlations
def test_correlation_difference(frames):
    cols = ["a", "flag", "y"]  # corr(a, y) about 0.85, corr(flag, y) about 0.3
    real, same = frames["real"][cols], frames["same"][cols]
    assert correlation_difference(real, real) == 0.0
    broken = real.assign(y=np.random.default_rng(5).permutation(real["y"].to_numpy()))
    assert correlation_difference(real, same) < 0.05
    assert correlation_difference(real, broken) > 0.3


def test_correlation_difference_constant_column_counts_as_uncorrelated():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "z": [2.0, 4.0, 6.0, 9.0]})
    synth = real.assign(z=1.0)
    assert np.isfinite(correlation_difference(real, synth))


# ----------------------------------------------------------------------------- detection
@pytest.mark.parametrize("classifier", sorted(DETECTION_CLASSIFIERS))
def test_detection_identical_against_shifted(frames, classifier):
    same = detection(frames["real"], frames["same"], classifier=classifier, random_state=0)
    shifted = detection(frames["real"], frames["shifted"], classifier=classifier, random_state=0)
    assert abs(same.auc - 0.5) < 0.05
    assert same.chi2 < 0.15
    assert shifted.auc > 0.7
    assert shifted.chi2 > 1.0
    assert shifted.chi2 > 10 * same.chi2


def test_detection_chi2_reference_value():
    # Setup: N(0,1) real against N(0.5,1) synthetic, where the logistic classifier is exactly
    # specified: chi2(Q || P) = exp(0.5^2) - 1 = 0.284 and the AUC is Phi(0.5 / sqrt 2) = 0.638.
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.standard_normal(3000)})
    synth = pd.DataFrame({"x": rng.standard_normal(3000) + 0.5})
    # Run
    res = detection(real, synth, classifier="logistic", random_state=0)
    # Assert (sampling SD over seeds about 0.05 for chi2 and 0.01 for the AUC)
    assert res.chi2 == pytest.approx(np.exp(0.25) - 1, abs=0.15)
    assert res.auc == pytest.approx(norm.cdf(0.5 / np.sqrt(2)), abs=0.03)
    assert res.mean_ratio == pytest.approx(1.0, abs=0.05)


def test_detection_with_a_constant_classifier_is_exactly_null(frames):
    from sklearn.dummy import DummyClassifier
    res = detection(frames["real"], frames["same"].iloc[:1000], classifier=DummyClassifier(), random_state=0)
    assert res.auc == 0.5
    # c = n_s / (n_r + n_s) everywhere -> ratio = 1 -> chi2 = 0 (up to fold-size rounding)
    assert res.chi2 < 1e-4
    assert res.classifier == "DummyClassifier"


def test_detection_is_deterministic(frames):
    a = detection(frames["real"], frames["shifted"], random_state=3)
    b = detection(frames["real"], frames["shifted"], random_state=3)
    assert a == b


def test_detection_accepts_causaldata(lalonde):
    res = detection(lalonde, lalonde.subset(np.arange(200)), classifier="logistic", random_state=0)
    assert res.n_real == lalonde.n_obs and res.n_synthetic == 200


# ----------------------------------------------------------------------------- utility
def test_tstr_copy_matches_trtr_and_broken_target_has_no_utility(frames):
    real, test = frames["real"], _table(600, seed=9)
    copy = tstr(real, test, real, target="y", learners=list(UTILITY_LEARNERS), random_state=0)
    assert list(copy["learner"]) == list(UTILITY_LEARNERS)
    assert copy["metric"].eq("r2").all()
    assert np.allclose(copy["tstr"], copy["trtr"], atol=0.02)
    assert (copy["trtr"] > 0.7).all()
    broken = real.assign(y=np.random.default_rng(1).permutation(real["y"].to_numpy()))
    bad = tstr(real, test, broken, target="y", learners=["linear", "gbm"], random_state=0)
    assert (bad["tstr"] < 0.05).all()


def test_utility_binary_target_uses_auc(frames):
    real, test = frames["real"], _table(600, seed=9)
    table = tstr(real, test, frames["same"], target="flag", learners=["linear"], random_state=0)
    assert table.loc[0, "metric"] == "auc"
    assert 0.9 < table.loc[0, "tstr"] <= 1.0


def test_utility_constant_synthetic_target_is_nan(frames):
    real, test = frames["real"], _table(300, seed=9)
    scores = utility_scores(real.assign(flag=0), test, target="flag", learners=["linear"])
    assert np.isnan(scores["linear"])


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs(frames):
    real = frames["real"]
    with pytest.raises(DataError, match="lacks the real columns"):
        column_distances(real, real.drop(columns=["a"]))
    with pytest.raises(SpecError, match="DataFrame or a CausalData"):
        detection(real.to_numpy(), real)
    with pytest.raises(SpecError, match="classifier must be one of"):
        detection(real, real, classifier="svm")
    with pytest.raises(SpecError, match="n_folds"):
        detection(real, real, n_folds=1)
    with pytest.raises(SpecError, match="utility learners"):
        utility_scores(real, real, target="y", learners=["xgboost"])
    with pytest.raises(SpecError, match="target"):
        utility_scores(real, real, target="nope")
    with pytest.raises(DataError, match="at least 2 rows"):
        correlation_difference(real.iloc[:1], real)
