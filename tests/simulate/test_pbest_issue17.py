"""Issue 17: P(best) over the ensemble of worlds (deciding worlds x fits x replicate resamples)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalsynth.simulate.recommend import recommend
from causalsynth.simulate.selection import SelectionStudy
from causalsynth.simulate.uncertainty import GeneratorUncertainty, world_p_best


def _rows(errors: dict) -> pd.DataFrame:
    out = []
    for (world, lrn, est), err in errors.items():
        for rep, e in enumerate(err):
            out.append({"world": world, "scenario": "base", "n": 100, "learner": lrn, "estimator": est, "rep": rep,
                        "ate": e, "pate": 0.0, "ci_lower": e - 10.0, "ci_upper": e + 10.0, "failed": False})
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def disagreeing():
    # "a" is clearly best in w1 and poor in w2, "b" the reverse; "c" is second in both, so the
    # worst-regret rule picks "c" on every resample although it is best in neither world
    rng = np.random.default_rng(0)
    z = rng.standard_normal(300)
    sd = {("w1", "a"): 1.0, ("w1", "b"): 2.0, ("w1", "c"): 1.3, ("w2", "a"): 2.0, ("w2", "b"): 1.0, ("w2", "c"): 1.3}
    rows = _rows({(w, "x", m): s * z * (1 + 0.01 * rng.standard_normal(300)) for (w, m), s in sd.items()})
    return recommend(rows, scenario="", n=100, level=0.95, decision_worlds=("w1", "w2"), n_boot=100)


def test_rule_p_best_is_confident_where_the_worlds_disagree(disagreeing):
    rec = disagreeing
    assert rec.choice == ("x", "c") and rec.p_best == pytest.approx(1.0)


def test_ensemble_p_best_is_the_share_of_worlds_where_a_configuration_is_best(disagreeing):
    p = world_p_best(disagreeing)
    assert p[("x", "a")] == pytest.approx(0.5) and p[("x", "b")] == pytest.approx(0.5)
    assert p[("x", "c")] == pytest.approx(0.0)
    assert sum(p.values()) == pytest.approx(1.0)


def test_ensemble_over_refits_weighs_every_fit_the_same():
    table = pd.DataFrame([
        {"generator": g, "learner": "x", "estimator": m, "p_best": pr, "p_best_worlds": pw}
        for g, m, pr, pw in [("original", "a", 1.0, 0.8), ("original", "b", 0.0, 0.2),
                             ("refit 1", "a", 0.0, 0.3), ("refit 1", "b", 1.0, 0.7)]])
    unc = GeneratorUncertainty(pd.DataFrame(), pd.DataFrame(columns=["generator", "learner", "estimator"]),
                               p_best=table)
    ens = unc.ensemble_p_best()
    assert ens[("x", "a")] == pytest.approx(0.55) and ens[("x", "b")] == pytest.approx(0.45)


def test_study_scores_report_the_calibration_of_both_p_best():
    draws = pd.DataFrame({"regret": [1.0, 1.2, 1.0, 1.1], "rank_corr": 0.5, "coverage_error": 0.1,
                          "coverage_error_recommended": 0.0, "truly_best": [True, False, True, False],
                          "p_best": [0.6, 0.4, 0.5, 0.5], "p_best_rule": [1.0, 0.9, 0.8, 0.9], "recommended": "or-glm"})
    s = SelectionStudy(pd.DataFrame(), pd.DataFrame(), draws).scores().set_index("score")["mean"]
    assert s["share_truly_best"] == pytest.approx(0.5)
    assert s["p_best_calibration_error"] == pytest.approx(0.0)
    assert s["p_best_rule_calibration_error"] == pytest.approx(0.4)


def test_verdict_names_the_defensible_set_and_a_choice_kept_for_coverage():
    from causalsynth.simulate.select import Selection
    p = {("d", "or"): 0.5, ("d", "tmle"): 0.38, ("d", "aipw"): 0.12, ("d", "ipw"): 0.0}
    sel = Selection(("d", "ipw"), "robust across refits of the worlds", 0.0, p, False,
                    (("d", "or"), ("d", "tmle"), ("d", "aipw"), ("d", "ipw")), None, None, {})
    text = sel.verdict()
    assert text.startswith("No configuration is reliably best")
    assert "OR ('d') 0.50, TMLE ('d') 0.38" in text
    assert "kept for the coverage of its intervals" in text and "likeliest best is OR ('d')" in text
