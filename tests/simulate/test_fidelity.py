"""World fidelity: the quantities that decide estimator performance, real data against worlds."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalsynth.datasets import LinearLogisticDesign
from causalsynth.simulate.difficulty import (WorldFidelityWarning, check_fidelity, data_difficulty, expected_auc,
                                             fidelity_table, sample_difficulty)
from causalsynth.simulate.worlds import calibrate_world
from causalsynth.synth.hybrid import HybridSynthesizer, SynthSettings


@pytest.fixture(scope="module")
def data():
    return LinearLogisticDesign(confounding=2.0, noise_sd=1.0).sample(1000, random_state=3).data


@pytest.fixture(scope="module")
def real(data):
    return data_difficulty(data, random_state=0)


@pytest.fixture(scope="module")
def glm_world(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HybridSynthesizer(propensity="logistic", outcome=None, noise="residuals", settings=SynthSettings(holdout=0.0),
                                 n_reference=5000, random_state=0).fit(data)


def test_known_noise_variance_is_recovered_within_monte_carlo_error(real):
    # true noise variance 1 in both arms; ~500 rows an arm: SE of a variance about sqrt(2/500) = 0.063
    for arm in ("control", "treated"):
        assert abs(real[f"noise_var_{arm}"] - 1.0) < 4 * np.sqrt(2 / 500)
        assert real[f"noise_var_{arm}"] <= real[f"oof_var_{arm}"] + 1e-12
    # the truth's CATE variance is heterogeneity^2 * var(W1) = 0.25
    assert 0.0 <= real["cate_var"] < 0.6
    assert 0.5 < real["auc"] < 1 and 0 < real["ess_treated"] <= 1


def test_sample_difficulty_reports_the_known_truth():
    s = LinearLogisticDesign(noise_sd=2.0).sample(20_000, random_state=1)
    d = sample_difficulty(s)
    a, y = s.data.a, s.data.y
    mu = np.where(a == 1, s.truth["mu1"], s.truth["mu0"])
    assert d["noise_var_treated"] == pytest.approx(np.var((y - mu)[a == 1], ddof=1))
    assert d["noise_var_control"] == pytest.approx(4.0, rel=0.05)
    assert d["cate_var"] == pytest.approx(0.25, rel=0.05)
    # the expected AUC of Bernoulli(e) assignment equals the AUC of a realised assignment within MC error
    from sklearn.metrics import roc_auc_score
    e = s.truth["propensity"].to_numpy()
    assert expected_auc(e) == pytest.approx(roc_auc_score(a, e), abs=0.01)


def test_a_shrunk_propensity_world_is_flagged_easier_and_a_noisy_one_noisier(data, real, glm_world):
    shrunk = glm_world.with_knobs(overlap=0.3)
    noisy = glm_world.with_knobs(noise_scale=2.0)
    table = fidelity_table(data, {"shrunk": shrunk, "noisy": noisy, "fitted": glm_world}, real=real, n=5000)
    with pytest.warns(WorldFidelityWarning, match="world 'shrunk'"):
        issues = check_fidelity(table)
    kinds = {(i["world"], i["quantity"]) for i in issues}
    assert ("shrunk", "auc") in kinds and ("shrunk", "confounding") in kinds
    assert ("noisy", "noise_var_control") in kinds and ("noisy", "noise_var_treated") in kinds
    assert not any(w == "fitted" for w, _ in kinds)
    assert {i["kind"] for i in issues if i["world"] == "noisy"} == {"noisier"}


def test_calibration_restores_the_real_propensity_distribution_and_noise(data, real, glm_world):
    shrunk = glm_world.with_knobs(overlap=0.3, noise_scale=1.0)
    # an inflated noise: residuals twice as wide as the fitted model's
    shrunk.residuals_ = {k: 2.0 * v for k, v in glm_world.residuals_.items()}
    shrunk.noise_sd_ = {k: 2.0 * v for k, v in glm_world.noise_sd_.items()}
    fixed, info = calibrate_world(shrunk, real, n_like=data.n_obs)
    assert info["auc_before"] < real["auc"] - 0.1
    t = fidelity_table(data, {"fixed": fixed}, real=real, n=20_000).set_index("source")
    w, r = t.loc["fixed"], t.loc["real data (estimate)"]
    # stated tolerance: AUC within 0.02, median and 5%/95% propensity quantiles within 0.05
    assert abs(w["auc"] - r["auc"]) < 0.02
    for q in ("e_q05", "e_q50", "e_q95"):
        assert abs(w[q] - r[q]) < 0.05, q
    # the noise is brought back to the de-biased estimate (within 10%)
    for arm in ("control", "treated"):
        assert w[f"noise_var_{arm}"] == pytest.approx(r[f"noise_var_{arm}"], rel=0.1)
    assert not check_fidelity(t.reset_index(), warn=False)


def test_the_placebo_world_is_calibrated_too(data, real):
    from causalsynth.synth.placebo import PlaceboSynthesizer
    placebo = PlaceboSynthesizer(propensity="logistic", random_state=0).fit(data)
    shrunk = placebo.with_overlap(0.3)
    assert expected_auc(shrunk.propensity_) < real["auc"] - 0.1
    fixed, info = calibrate_world(shrunk, real)
    assert isinstance(fixed, PlaceboSynthesizer) and info["overlap"] > 1
    assert expected_auc(fixed.propensity_) == pytest.approx(real["auc"], abs=0.01)
    assert fixed.propensity_.mean() == pytest.approx(placebo.treated_share_, abs=1e-6)
