"""The hybrid synthesizer: truth, knobs, privacy filter, determinism, persistence."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import estimate
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import (DataError, DataFileError, NotFittedError, PrivacyWarning, SpecError,
                                VersionMismatchError)
from causalsynth.privacy import MixedEncoder, nearest_distances
from causalsynth.synth.hybrid import HybridSynthesizer, SynthSettings
from causalsynth.synth.io import FORMAT_VERSION


@pytest.fixture(scope="module")
def design_data():
    return LinearLogisticDesign(n_features=4, effect=2.0, heterogeneity=0.5).sample(20_000, random_state=7)


@pytest.fixture(scope="module")
def fitted(design_data):
    return HybridSynthesizer(generator="copula", random_state=0, n_reference=100_000).fit(design_data.data)


def test_population_ate_matches_design(design_data, fitted):
    # Error sources: the outcome models' estimation error on the real sample (the OR SE on
    # these data) and the Monte Carlo error of the reference sample. Allow 4 combined SEs.
    res = estimate(design_data.data, estimators=("or",), random_state=0).summary().iloc[0]
    tol = 4 * np.hypot(res["std_error"], fitted.population_ate_se_)
    assert abs(fitted.population_ate_ - 2.0) < tol
    s = fitted.sample(50_000, random_state=1)
    assert abs(s.sate - fitted.population_ate_) < 4 * s.truth["cate"].std() / np.sqrt(50_000)


def test_truth_columns_consistent(fitted):
    s = fitted.sample(2000, random_state=3)
    t = s.truth
    assert list(t.columns) == ["y0", "y1", "mu0", "mu1", "propensity", "cate"]
    np.testing.assert_allclose(t["cate"], t["mu1"] - t["mu0"])
    y = s.data.y
    a = s.data.a
    np.testing.assert_allclose(y, np.where(a == 1, t["y1"], t["y0"]))
    assert s.sate == pytest.approx(t["cate"].mean())


def test_ate_knob_exact(design_data):
    h = HybridSynthesizer(ate=-1.5, random_state=0, n_reference=20_000).fit(design_data.data)
    assert h.population_ate_ == -1.5
    s = h.sample(100_000, random_state=2)
    assert abs(s.sate + 1.5) < 4 * s.truth["cate"].std() / np.sqrt(100_000) + 4 * h.population_ate_se_


def test_overlap_knob_monotone_and_share_kept(design_data):
    shares, extremes = [], []
    for s in (0.5, 1.0, 2.0, 3.0):
        h = HybridSynthesizer(overlap=s, random_state=0, n_reference=20_000).fit(design_data.data)
        e = h.reference_propensity_
        shares.append(e.mean())
        extremes.append(np.mean((e < 0.05) | (e > 0.95)))
    assert np.all(np.diff(extremes) > 0), extremes
    np.testing.assert_allclose(shares, design_data.data.a.mean(), atol=1e-8)


def test_confounding_zero_randomizes(design_data):
    h = HybridSynthesizer(confounding=0.0, treated_share=0.3, random_state=0, n_reference=20_000).fit(design_data.data)
    s = h.sample(40_000, random_state=5)
    np.testing.assert_allclose(s.truth["propensity"], 0.3)
    W = s.data.covariate_frame.to_numpy(dtype=float)
    corr = [np.corrcoef(s.data.a, W[:, j])[0, 1] for j in range(W.shape[1])]
    assert np.max(np.abs(corr)) < 4 / np.sqrt(40_000)
    assert abs(s.data.a.mean() - 0.3) < 4 * np.sqrt(0.21 / 40_000)


def test_effect_scale_changes_only_heterogeneity(design_data, fitted):
    h = HybridSynthesizer(effect_scale=2.0, random_state=0, n_reference=100_000).fit(design_data.data)
    a = fitted.sample(5000, random_state=9).truth["cate"]
    b = h.sample(5000, random_state=9).truth["cate"]
    assert h.population_ate_ == pytest.approx(fitted.population_ate_, abs=1e-9)
    assert b.std() == pytest.approx(2 * a.std(), rel=1e-6)


def test_noise_matches_out_of_fold_residuals(design_data, fitted):
    s = fitted.sample(50_000, random_state=4)
    resid = s.truth["y0"] - s.truth["mu0"]
    # real residual SD is 1 (design); out-of-fold estimate on 20,000 rows is within 2%
    assert resid.std() == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize("noise", ["heteroscedastic", "residuals"])
def test_other_noise_models(design_data, noise):
    h = HybridSynthesizer(noise=noise, random_state=0, n_reference=5000).fit(design_data.data)
    s = h.sample(20_000, random_state=1)
    resid = s.truth["y1"] - s.truth["mu1"]
    assert resid.std() == pytest.approx(1.0, rel=0.05)


def test_binary_outcome_and_ate_target(nhefs):
    frame = nhefs.frame.assign(gain=(nhefs.frame["wt82_71"] > 5).astype(int)).drop(columns="wt82_71")
    from causalsynth import CausalData
    data = CausalData(frame, treatment="qsmk", outcome="gain", categorical=["education", "exercise", "active"])
    h = HybridSynthesizer(ate=0.1, random_state=0, n_reference=20_000).fit(data)
    assert h.noise_ == "bernoulli"
    assert h.population_ate_ == pytest.approx(0.1, abs=1e-9)
    s = h.sample(3000, random_state=0)
    assert set(np.unique(s.data.y)) == {0.0, 1.0}


def test_nhefs_copula_keeps_ate_and_no_copies(nhefs):
    real = estimate(nhefs, random_state=0).summary().set_index("estimator").loc["aipw"]
    h = HybridSynthesizer(generator="copula", random_state=11).fit(nhefs)
    s = h.sample(nhefs.n_obs, random_state=12)
    synth = estimate(s.data, estimators=("aipw",), random_state=0).summary().iloc[0]
    assert real["ci_lower"] <= synth["ate"] <= real["ci_upper"]
    report = h.dcr_report(random_state=0)
    assert report.exact_copy_share == 0.0


def test_privacy_filter_guarantee(nhefs):
    h = HybridSynthesizer(min_dcr="auto", random_state=0, n_reference=5000).fit(nhefs)
    W = h.sample(4000, random_state=1).data.covariate_frame
    enc = MixedEncoder().fit(h.real_train_)
    d = nearest_distances(enc.transform(W), enc.transform(h.real_train_))
    assert h.last_n_replaced_ > 0
    assert d.min() >= h.min_dcr_


def test_bootstrap_with_filter_fails_clearly(nhefs):
    # a pilot draw at fit time finds that the bootstrap copies real rows, and says so
    with pytest.warns(PrivacyWarning), pytest.raises(DataError, match="out of reach.*copies real rows"):
        HybridSynthesizer(generator="bootstrap", min_dcr=0.01, random_state=0, n_reference=2000).fit(nhefs)


def test_filter_truth_matches_filtered_samples(nhefs):
    """With a strict filter the population ATE is computed over the filtered covariate law."""
    h = HybridSynthesizer(min_dcr=1.0, effect_scale=5.0, random_state=0, n_reference=50_000).fit(nhefs)
    s = h.sample(40_000, random_state=2)
    cate = s.truth["cate"]
    tol = 4 * np.hypot(cate.std() / np.sqrt(len(cate)), h.population_ate_se_)
    assert abs(s.sate - h.population_ate_) < tol


@pytest.mark.parametrize("generator, options", [
    ("bootstrap", None), ("copula", None),
    pytest.param("ctgan", {"epochs": 2, "batch_size": 100}, marks=pytest.mark.slow),
    pytest.param("tvae", {"epochs": 2, "batch_size": 100}, marks=pytest.mark.slow),
])
def test_same_seed_same_rows(nhefs, generator, options):
    small = nhefs.subset(np.arange(300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        h1 = HybridSynthesizer(generator=generator, settings=SynthSettings(covariate_options=options), random_state=3,
                               n_reference=2000).fit(small)
        h2 = HybridSynthesizer(generator=generator, settings=SynthSettings(covariate_options=options), random_state=3,
                               n_reference=2000).fit(small)
    f1 = h1.sample(200, random_state=4).frame(with_truth=True)
    f2 = h2.sample(200, random_state=4).frame(with_truth=True)
    pd.testing.assert_frame_equal(f1, f2)
    f3 = h1.sample(200, random_state=5).frame(with_truth=True)
    assert not f1.equals(f3)


def test_save_load_roundtrip(tmp_path, fitted):
    path = tmp_path / "synth.pkl"
    fitted.save(path)
    loaded = HybridSynthesizer.load(path)
    pd.testing.assert_frame_equal(loaded.sample(100, random_state=1).frame(with_truth=True),
                                  fitted.sample(100, random_state=1).frame(with_truth=True))
    raw = path.read_bytes().split(b"\n", 2)
    version = f'"format_version": {FORMAT_VERSION}'.encode()
    assert version in raw[1]
    path.write_bytes(raw[0] + b"\n" + raw[1].replace(version, b'"format_version": 99') + b"\n" + raw[2])
    with pytest.raises(VersionMismatchError, match="format 99"):
        HybridSynthesizer.load(path)
    (tmp_path / "junk.pkl").write_bytes(b"hello")
    with pytest.raises(DataFileError, match="not a causalsynth synthesizer file"):
        HybridSynthesizer.load(tmp_path / "junk.pkl")


def test_errors(design_data):
    with pytest.raises(NotFittedError, match="call fit"):
        HybridSynthesizer().sample(10)
    with pytest.raises(SpecError, match="overlap must be in"):
        HybridSynthesizer(overlap=-1).fit(design_data.data)
    with pytest.raises(SpecError, match="noise must be one of"):
        HybridSynthesizer(noise="laplace").fit(design_data.data)
    with pytest.raises(SpecError, match="holdout > 0"):
        HybridSynthesizer(min_dcr="auto", settings=SynthSettings(holdout=0.0)).fit(design_data.data)
    with pytest.raises(SpecError, match="CausalData"):
        HybridSynthesizer().fit(design_data.data.frame)
