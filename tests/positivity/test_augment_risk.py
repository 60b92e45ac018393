"""Augmentation that knows when it hurts: the default budget rule, outcomes from external
data, and the risk check on a near-deterministic design."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalsynth import AugmentSpec, CausalData, augment_positivity
from causalsynth.datasets import PoorOverlapDesign, Xu2026Positivity, load_lalonde_cps
from causalsynth.errors import PositivityWarning, SpecError


def _augment(data, spec=None, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = augment_positivity(data, spec, **kw)
    risky = [w for w in caught if issubclass(w.category, PositivityWarning) and "expected to hurt" in str(w.message)]
    return res, risky


@pytest.fixture(scope="module")
def xu():
    design = Xu2026Positivity()
    return design, design.sample(200, random_state=0).data


def test_data_only_augmentation_warns_on_the_near_deterministic_design(xu):
    _, data = xu
    res, risky = _augment(data, random_state=0)
    assert risky, "no warning on the design where data-only records are known to hurt"
    assert res.risk["verdict"].startswith("risky")
    assert res.risk["median_logit_gap"] > 4
    assert "expected effect: risky" in str(res)
    with pytest.raises(SpecError, match="if_risky='refuse'"):
        augment_positivity(data, AugmentSpec(if_risky="refuse"), random_state=0)


def test_no_warning_where_records_stay_near_the_filled_arm():
    data = PoorOverlapDesign().sample(1000, random_state=1).data
    res, risky = _augment(data, random_state=1)
    assert not risky
    assert res.risk["verdict"].startswith("expected to help")


def test_external_outcomes_are_used_and_the_assumption_stated(xu):
    design, data = xu
    external = design.randomized(1000, random_state=5).data
    res, risky = _augment(data, external=external, random_state=0)
    assert not risky
    assert "transports" in res.outcome_source and "1000 rows" in res.outcome_source
    # the records' outcome models saw only the external rows: their predictions at the records'
    # covariates are those of models fitted there, not of the same-data fold models
    own, _ = _augment(data, AugmentSpec(if_risky="ignore"), random_state=0)
    assert res.n_added == own.n_added
    assert not np.allclose(res.added["prediction"].to_numpy(), own.added["prediction"].to_numpy())
    with pytest.raises(SpecError, match="lacks the columns"):
        augment_positivity(data, external=CausalData(external.frame.drop(columns="w6"), treatment="a", outcome="y"))


def test_default_budget_fills_at_most_half_the_arm_and_says_so():
    data = load_lalonde_cps()
    res, _ = _augment(data, AugmentSpec(uncertainty="none", if_risky="ignore"), random_state=0)
    treated_records = int(np.sum(res.added["arm"].to_numpy() == 1))
    assert 0 < treated_records <= data.n_treated // 2
    assert "at most 50% of the arm it fills" in res.budget_rule
    assert f"budget: {res.budget_rule}" in str(res)
    unbounded, _ = _augment(data, AugmentSpec(budget=None, uncertainty="none", if_risky="ignore"), random_state=0)
    assert unbounded.n_added > 10 * res.n_added
