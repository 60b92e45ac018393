"""The hybrid synthesizer's parts as objects (issue 19): the outcome model and the noise chosen
once from the user's strings, the privacy filter as a covariate generator wrapping another,
and the constructor's settings object."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone

from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import PrivacyWarning, SpecError
from causalsynth.privacy import MixedEncoder, nearest_distances
from causalsynth.synth import DCRFiltered, SynthSettings
from causalsynth.synth.covariates import GaussianCopulaGenerator
from causalsynth.synth.hybrid import HybridSynthesizer
from causalsynth.synth.models import (BernoulliNoise, GaussianNoise, HeteroscedasticNoise, MeanPlusNoise,
                                      ResidualNoise)
from causalsynth.synth.outcomes import TwoPartOutcome


@pytest.fixture(scope="module")
def data():
    return LinearLogisticDesign().sample(300, random_state=0).data


@pytest.mark.parametrize("noise, kind", [("auto", GaussianNoise), ("gaussian", GaussianNoise),
                                         ("residuals", ResidualNoise), ("heteroscedastic", HeteroscedasticNoise)])
def test_the_noise_kind_is_chosen_once_from_its_name(data, noise, kind):
    synth = HybridSynthesizer(noise=noise, n_reference=1000, random_state=0).fit(data)
    assert isinstance(synth.outcome_, MeanPlusNoise) and type(synth.outcome_.noise) is kind
    assert synth.noise_ == kind.name and synth.outcome_model_ == "mean"
    assert set(synth.outcome_models_) == {0, 1}


def test_binary_and_two_part_outcomes_get_their_own_strategies(data):
    frame = data.frame
    binary = data.with_frame(frame.assign(y=(frame["y"] > frame["y"].median()).astype(int)))
    synth = HybridSynthesizer(n_reference=1000, random_state=0).fit(binary)
    assert type(synth.outcome_.noise) is BernoulliNoise and synth.noise_ == "bernoulli"
    semi = data.with_frame(frame.assign(y=np.where(frame["y"] > frame["y"].quantile(0.3), np.exp(frame["y"] / 4), 0.0)))
    synth = HybridSynthesizer(n_reference=1000, random_state=0).fit(semi)
    assert isinstance(synth.outcome_, TwoPartOutcome) and synth.two_part_ is synth.outcome_
    assert synth.noise_ == synth.outcome_model_ == "two-part" and synth.outcome_models_ == {}


def test_a_what_if_noise_leaves_the_fitted_one_alone(data):
    synth = HybridSynthesizer(noise="residuals", n_reference=1000, random_state=0).fit(data)
    before = dict(synth.noise_sd_)
    copy = synth.with_knobs(overlap=1.0)
    copy.noise_sd_ = {k: 2 * v for k, v in before.items()}
    assert copy.noise_sd_ == {k: 2 * v for k, v in before.items()} and synth.noise_sd_ == before


def test_the_privacy_filter_is_a_generator_wrapping_another(data):
    train = data.covariate_frame.iloc[:240].reset_index(drop=True)
    holdout = data.covariate_frame.iloc[240:].reset_index(drop=True)
    filtered = DCRFiltered(GaussianCopulaGenerator(), "auto", holdout=holdout).fit(train, random_state=1)
    rows, replaced = filtered.draw(500, random_state=2)
    enc = MixedEncoder().fit(train)
    assert filtered.threshold_ > 0 and replaced > 0
    assert nearest_distances(enc.transform(rows), enc.transform(train)).min() >= filtered.threshold_
    again = DCRFiltered(GaussianCopulaGenerator(), "auto", holdout=holdout).fit(train, random_state=1)
    assert again.sample(500, random_state=2).equals(rows)  # same seed, same rows
    # it fits where any covariate generator fits: the synthesizer's covariates=
    synth = HybridSynthesizer(generator=DCRFiltered(GaussianCopulaGenerator(), filtered.threshold_),
                              n_reference=1000, random_state=0).fit(data)
    assert synth.sample(200, random_state=3).data.n_obs == 200


def test_the_synthesizer_filter_draws_what_its_sample_covariates_draws(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        synth = HybridSynthesizer(min_dcr="auto", n_reference=1000, random_state=0).fit(data)
    assert isinstance(synth.dcr_filter_, DCRFiltered) and synth.dcr_filter_.generator is synth.generator_
    assert synth.min_dcr_ == synth.dcr_filter_.threshold_
    assert synth.sample_covariates(300, random_state=4).equals(synth.dcr_filter_.sample(300, random_state=4))


def test_settings_and_knobs(data):
    synth = HybridSynthesizer(ate=2.0, overlap=1.5, settings=SynthSettings(holdout=0.3, n_folds=3), random_state=0)
    assert synth.holdout == 0.3 and synth.n_folds == 3 and synth.ate == 2.0
    params = synth.get_params()
    assert params["overlap"] == 1.5 and params["settings"] == SynthSettings(holdout=0.3, n_folds=3)
    twin = clone(synth)
    assert twin.ate == 2.0 and twin.overlap == 1.5 and twin.settings == synth.settings
    assert HybridSynthesizer().set_params(confounding=0.5).confounding == 0.5
    with pytest.raises(SpecError, match=r"unknown keyword\(s\) \['holdout'\].*settings=SynthSettings\(holdout=\.\.\.\)"):
        HybridSynthesizer(holdout=0.3)
    with pytest.raises(SpecError, match="holdout"):
        SynthSettings(holdout=0.9)
    with pytest.raises(SpecError, match="settings must be a SynthSettings"):
        HybridSynthesizer(settings={"holdout": 0.3})
    with pytest.raises(AttributeError):
        SynthSettings().holdout = 0.1  # frozen
