"""Synthetic outcomes that respect the data: two-part earnings, integer and bounded outcomes,
derived indicator columns, and the truths each carries."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData, HybridSynthesizer
from causalsynth.datasets import LALONDE_DERIVED, load_lalonde_cps
from causalsynth.errors import DataError, SpecError
from causalsynth.synth import SynthSettings


def _fit(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bootstrap generator's privacy warning
        return HybridSynthesizer(generator="bootstrap", n_reference=20_000, **kw).fit(data)


@pytest.fixture(scope="module")
def cps():
    data = load_lalonde_cps()
    return data, _fit(data, random_state=1)


def test_synthetic_lalonde_earnings_are_nonnegative_with_the_real_share_of_zeros(cps):
    data, synth = cps
    assert synth.outcome_model_ == "two-part"
    f = synth.sample(20_000, random_state=2).frame()
    y, real = f["re78"].to_numpy(), data.y
    assert (y >= 0).all()
    # the criterion: within 2 points; the Monte Carlo SE of the synthetic share is
    # sqrt(0.137 * 0.863 / 20000) = 0.0024, so 2 points is about 8 SE of slack for model error
    assert abs(np.mean(y == 0) - np.mean(real == 0)) < 0.02
    # and within each arm (the treated arm has 185 real rows: its share's SE is about 0.03)
    for arm, slack in ((0, 0.02), (1, 4 * np.sqrt(0.25 / data.n_treated))):
        syn_arm = y[f["treat"].to_numpy() == arm]
        real_arm = real[data.a == arm]
        assert abs(np.mean(syn_arm == 0) - np.mean(real_arm == 0)) < slack


def test_declared_indicators_stay_consistent(cps):
    data, synth = cps
    assert data.derived == LALONDE_DERIVED
    f = synth.sample(5_000, random_state=3).frame()
    assert ((f["re74"] == 0) == (f["u74"] == 1)).all()
    assert ((f["re75"] == 0) == (f["u75"] == 1)).all()


def test_two_part_truth_is_the_mean_of_the_draws(cps):
    """The conditional means the rows carry are the expectations of the drawn outcomes: averaged
    over many rows, y1 - y0 matches the cate column within its Monte Carlo error."""
    _, synth = cps
    s = synth.sample(40_000, random_state=4)
    t = s.truth
    diff = (t["y1"] - t["y0"]).to_numpy() - t["cate"].to_numpy()
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert abs(diff.mean()) < 4 * se
    for arm in (0, 1):
        d = t[f"y{arm}"].to_numpy() - t[f"mu{arm}"].to_numpy()
        assert abs(d.mean()) < 4 * d.std(ddof=1) / np.sqrt(len(d))
    # the population ATT/ATE the synthesizer reports are those of its own rows' law
    e = t["propensity"].to_numpy()
    att = float(np.sum(e * t["cate"]) / np.sum(e))
    cate = t["cate"].to_numpy()
    se_att = np.std(e * (cate - att), ddof=1) / np.mean(e) / np.sqrt(len(e))
    assert abs(att - synth.population_att_) < 4 * se_att + 4 * synth.population_ate_se_


def test_ate_knob_scales_the_treated_positive_part(cps):
    data, _ = cps
    synth = _fit(data, ate=1000.0, random_state=5)
    assert synth.population_ate_ == pytest.approx(1000.0, rel=1e-6)
    t = synth.sample(40_000, random_state=6).truth
    d = (t["y1"] - t["y0"]).to_numpy()
    assert abs(d.mean() - 1000.0) < 4 * d.std(ddof=1) / np.sqrt(len(d)) + 4 * synth.population_ate_se_
    with pytest.raises(SpecError, match="effect_scale"):
        _fit(data, effect_scale=2.0, random_state=5)


def test_two_part_round_trips_through_the_safe_format(cps, tmp_path):
    _, synth = cps
    path = tmp_path / "cps.csz"
    synth.save(path)
    back = HybridSynthesizer.load(path)
    a = synth.sample(5000, random_state=7).frame(with_truth=True)
    b = back.sample(5000, random_state=7).frame(with_truth=True)
    pd.testing.assert_frame_equal(a, b)


def _counts(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    y = rng.poisson(np.exp(1.0 + 0.3 * x + 0.4 * a))
    return CausalData(pd.DataFrame({"a": a, "y": y, "x": x}), treatment="a", outcome="y")


def test_integer_outcomes_stay_integer_and_in_bounds_with_the_truth_of_the_rounded_law():
    data = _counts()
    assert np.mean(data.y == 0) > 0.05  # a count with zeros: still not "semicontinuous"
    synth = _fit(data, random_state=8)
    assert synth.outcome_model_ == "mean"
    s = synth.sample(30_000, random_state=9)
    y = s.data.y
    assert np.all(y == np.rint(y)) and y.min() >= 0
    t = s.truth
    for arm in (0, 1):
        d = t[f"y{arm}"].to_numpy() - t[f"mu{arm}"].to_numpy()
        assert abs(d.mean()) < 4 * d.std(ddof=1) / np.sqrt(len(d))


def test_user_bounds_are_honoured():
    data = _counts(seed=1)
    synth = _fit(data, settings=SynthSettings(outcome_bounds=(0, 6), outcome_model="mean"), random_state=10)
    y = synth.sample(5_000, random_state=11).data.y
    assert y.min() >= 0 and y.max() <= 6
    with pytest.raises(SpecError, match="low < high"):
        SynthSettings(outcome_bounds=(5, 1))


def test_derived_declarations_are_checked_against_the_data():
    data = load_lalonde_cps()
    with pytest.raises(DataError, match="disagrees with the data"):
        CausalData(data.frame, treatment="treat", outcome="re78", derived={"u74": "re75 == 0"})
    with pytest.raises(SpecError, match="not a covariate"):
        CausalData(data.frame, treatment="treat", outcome="re78", derived={"zz": "re75 == 0"})


def test_two_part_refused_for_an_outcome_without_zeros():
    data = _counts(seed=2)
    frame = data.frame.assign(y=data.y + 1)
    with pytest.raises(SpecError, match="two-part"):
        _fit(CausalData(frame, treatment="a", outcome="y"), settings=SynthSettings(outcome_model="two-part"), random_state=0)
