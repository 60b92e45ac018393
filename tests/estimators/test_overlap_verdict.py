"""One home for the Kish ESS and the overlap verdict: the estimators' overlap_summary and the
positivity diagnosis call the same functions (issue 19)."""
from __future__ import annotations

import numpy as np
import pytest

from causalsynth.datasets.designs import PoorOverlapDesign
from causalsynth.estimators import MIN_ESS_SHARE, kish_ess, overlap_fails, overlap_summary
from causalsynth.positivity import diagnose_positivity
from causalsynth.positivity import kish_ess as positivity_kish_ess


def test_kish_ess_has_one_definition():
    assert positivity_kish_ess is kish_ess
    assert kish_ess(np.ones(10)) == pytest.approx(10.0)
    assert kish_ess(np.array([1.0, 3.0])) == pytest.approx(16 / 10)
    assert kish_ess(np.zeros(0)) == 0.0


@pytest.mark.parametrize("outside, shares, max_outside, fails", [
    (0.0, (0.5, 0.5), 0.01, False),
    (0.02, (0.5, 0.5), 0.01, True),        # too many units outside
    (0.0, (0.5, MIN_ESS_SHARE / 2), 0.5, True),  # an arm's weights too concentrated
    (0.5, (MIN_ESS_SHARE, 1.0), 0.5, False),  # both limits are inclusive
])
def test_the_rule(outside, shares, max_outside, fails):
    assert overlap_fails(outside, shares, max_outside=max_outside) is fails


def test_both_callers_follow_the_rule():
    data = PoorOverlapDesign().sample(800, random_state=3).data
    with pytest.warns(Warning):
        report = diagnose_positivity(data, random_state=0)
    assert (report.warning is not None) == overlap_fails(report.share_outside, report.ess_share.values(),
                                                         max_outside=0.01)
    e = report.propensity
    summary = overlap_summary(e, data.a, 0.01, 0.99)
    shares = (summary["ess_share_treated"], summary["ess_share_control"])
    assert summary["intervals_trusted"] is not overlap_fails(summary["share_outside_bounds"], shares, max_outside=0.5)
