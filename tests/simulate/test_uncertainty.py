"""simulate/uncertainty.py: the survival of a recommendation over refits of the worlds, its
verdict thresholds, the robust choice and the ensemble P(best) (issue 19: tests mirror the
packages). The arithmetic is checked on hand-made tables; one small seeded run checks the
whole path end to end and its determinism."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalsynth as cs
from causalsynth.simulate.uncertainty import GeneratorUncertainty, RefitOptions, generator_uncertainty


def _made(winners: list[tuple[str, str]], p_best=None) -> GeneratorUncertainty:
    gens = ["original"] + [f"refit {i}" for i in range(1, len(winners))]
    choices = pd.DataFrame([{"generator": g, "learner": w[0], "estimator": w[1]} for g, w in zip(gens, winners)])
    table = pd.DataFrame([{"generator": g, "world": "w", "learner": "glm", "estimator": e,
                           "rmse": 1.0 if (("glm", e) == w) else 2.0, "regret": 1.0 if (("glm", e) == w) else 2.0,
                           "coverage": 0.95, "unfit": False}
                          for g, w in zip(gens, winners) for e in ("aipw", "ipw")])
    return GeneratorUncertainty(table=table, choices=choices, original_best=winners[0],
                                robust_choice=("glm", "aipw"), deciding=("w",), p_best=p_best)


@pytest.mark.parametrize("n_same, verdict", [(10, "survives"), (7, "survives"), (6, "fragile"),
                                             (4, "fragile"), (3, "does not survive")])
def test_survival_and_verdict_thresholds(n_same, verdict):
    # the original and ten refits; the refits choose AIPW n_same times
    winners = [("glm", "aipw")] + [("glm", "aipw")] * n_same + [("glm", "ipw")] * (10 - n_same)
    u = _made(winners)
    assert u.survival == pytest.approx(n_same / 10) and u.verdict == verdict
    w = u.winners.set_index("estimator")["share_best"]
    assert w["aipw"] + w["ipw"] == pytest.approx(1.0)


def test_summary_is_a_dataframe_and_printing_comes_from_it():
    u = _made([("glm", "aipw")] * 3 + [("glm", "ipw")])
    s = u.summary()
    assert isinstance(s, pd.DataFrame)
    assert {"learner", "estimator", "worst_regret", "mean_regret", "share_best"} <= set(s.columns)
    text = str(u)
    assert "chosen again on 67% of refits" in text and "AIPW" in text and "share_best" in text
    assert "<table" in u._repr_html_()


def test_ensemble_p_best_is_the_mean_over_generators():
    p = pd.DataFrame([{"generator": g, "learner": "glm", "estimator": e, "p_best": v}
                      for g, vals in (("original", (0.8, 0.2)), ("refit 1", (0.4, 0.6)))
                      for e, v in zip(("aipw", "ipw"), vals)])
    u = _made([("glm", "aipw"), ("glm", "ipw")], p_best=p)
    assert u.ensemble_p_best() == pytest.approx({("glm", "aipw"): 0.6, ("glm", "ipw"): 0.4})
    assert _made([("glm", "aipw")] * 2).ensemble_p_best() == {}


def test_at_least_two_generators():
    with pytest.raises(cs.SpecError, match="n_refits"):
        generator_uncertainty(cs.datasets.load_lalonde(), refits=RefitOptions(n_refits=1))


@pytest.fixture(scope="module")
def small_run():
    data = cs.datasets.load_lalonde()
    kw = dict(worlds=("glm",), refits=RefitOptions(n_refits=2, n_reps=4), estimators=("ipw", "aipw"), n=200,
              learners="glm", random_state=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return generator_uncertainty(data, **kw), generator_uncertainty(data, **kw)


def test_a_small_run_end_to_end_is_seeded(small_run):
    a, b = small_run
    assert list(dict.fromkeys(a.table["generator"])) == ["original", "refit 1", "refit 2"]
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.original_best == b.original_best and a.original_best[1] in ("ipw", "aipw")
    assert 0.0 <= a.survival <= 1.0 and a.verdict in ("survives", "fragile", "does not survive")
    assert np.isfinite(a.table["rmse"]).all()
