"""ACIC 2016 as a design with known truth (causallib's offline copy)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("causallib", reason="ACIC2016 reads the ACIC 2016 files shipped with causallib")

from causalsynth.datasets import ACIC2016, ACIC_DEVELOPMENT  # noqa: E402
from causalsynth.errors import SpecError  # noqa: E402


def _zymu(instance):
    from importlib import resources

    import pandas as pd
    return pd.read_csv(resources.files("causallib.datasets").joinpath("data", "acic_challenge_2016",
                                                                      f"zymu_{instance}.csv"))


@pytest.mark.parametrize("instance", ACIC_DEVELOPMENT)
def test_truth_is_the_ate_over_all_rows(instance):
    z = _zymu(instance)
    assert len(z) == 4802
    assert ACIC2016(instance).population_ate_ == pytest.approx(float((z["mu1"] - z["mu0"]).mean()))


def test_a_draw_is_1000_rows_with_fresh_unit_noise_around_the_means():
    design = ACIC2016(2)
    s = design.sample(1000, random_state=0)
    assert s.data.n_obs == 1000 and len(s.data.covariates) == 58 and set(s.data.categorical) == {"x_2", "x_21", "x_24"}
    assert s.population_ate == design.population_ate_
    a, y = s.data.a, s.data.y
    mu = np.where(a == 1, s.truth["mu1"], s.truth["mu0"])
    resid = y - mu
    assert abs(resid.mean()) < 4 / np.sqrt(1000) and abs(resid.var() - 1) < 4 * np.sqrt(2 / 1000)
    # rows are a subset of the file's, treatment kept
    z = _zymu(2)
    assert set(np.round(s.truth["mu0"], 8)) <= set(np.round(z["mu0"], 8))
    again = design.sample(1000, random_state=0)
    assert np.array_equal(again.data.y, y)
    assert not np.array_equal(design.sample(1000, random_state=1).data.y, y)


def test_instance_is_checked():
    with pytest.raises(SpecError, match="instance"):
        ACIC2016(11)


def test_the_selection_study_lists_the_development_instances_only():
    from causalsynth.simulate.selection import selection_designs
    names = set(selection_designs())
    assert {f"acic_{i}" for i in ACIC_DEVELOPMENT} <= names
    assert not {f"acic_{i}" for i in set(range(1, 11)) - set(ACIC_DEVELOPMENT)} & names
