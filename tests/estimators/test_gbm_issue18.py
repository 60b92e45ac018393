"""Issue 18: the gbm preset is LightGBM (one thread, deterministic), scikit-learn's stays as hgb."""
from __future__ import annotations

import builtins
import importlib

import numpy as np
import pytest

from causalsynth.errors import SpecError
from causalsynth.learners import FLEXIBLE_BOOST_PARAMS, GBM_PARAMS, LEARNER_PRESETS, learner_class, resolve_learner

learners = importlib.import_module("causalsynth.learners")


def _data(n=400, seed=0):
    import pandas as pd

    from causalsynth.data import CausalData
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    a = (rng.uniform(size=n) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    y = x[:, 1] + a + rng.normal(size=n)
    return CausalData(pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "a": a, "y": y}),
                      treatment="a", outcome="y")


def test_gbm_is_one_thread_deterministic_lightgbm_and_hgb_is_scikit_learn():
    data = _data()
    gbm = resolve_learner("gbm", role="propensity", data=data).make_estimator(3)
    assert type(gbm).__name__ == "LGBMClassifier"
    params = gbm.get_params()
    assert params["n_jobs"] == 1 and params["deterministic"] and params["random_state"] == 3
    assert {k: params[k] for k in GBM_PARAMS} == GBM_PARAMS
    hgb = resolve_learner("hgb", role="outcome", data=data).make_estimator(3)
    assert type(hgb).__name__ == "HistGradientBoostingRegressor" and hgb.max_iter == 200
    assert "hgb" in LEARNER_PRESETS and learner_class("hgb") == "gbm" and learner_class(gbm) == "gbm"


def test_gbm_fits_are_reproducible():
    data = _data()
    lrn = resolve_learner("gbm", role="propensity", data=data)
    rows = np.arange(data.n_obs)
    seed = np.random.SeedSequence(5)
    p1 = lrn.fit(data, rows, data.a, seed).predict(data, rows)
    p2 = lrn.fit(data, rows, data.a, np.random.SeedSequence(5)).predict(data, rows)
    assert np.array_equal(p1, p2) and 0 < p1.min() and p1.max() < 1


def test_flexible_world_boosts_with_other_settings_than_the_gbm_candidate():
    """A world must never share a candidate's model: its booster is LightGBM with its own settings."""
    stack = resolve_learner("flexible", role="propensity", data=_data()).make_estimator(0)
    boosting = dict(stack.estimators)["boosting"]
    assert type(boosting).__name__ == "LGBMClassifier"
    assert {k: boosting.get_params()[k] for k in FLEXIBLE_BOOST_PARAMS} == FLEXIBLE_BOOST_PARAMS
    assert any(FLEXIBLE_BOOST_PARAMS.get(k) != v for k, v in GBM_PARAMS.items())


def test_missing_lightgbm_is_a_clear_error(monkeypatch):
    real = builtins.__import__

    def no_lightgbm(name, *args, **kwargs):
        if name == "lightgbm":
            raise ImportError("No module named 'lightgbm'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_lightgbm)
    with pytest.raises(SpecError, match=r"pip install lightgbm.*'hgb'"):
        resolve_learner("gbm", role="propensity", data=_data()).make_estimator(0)


def test_gbm_simulation_does_not_depend_on_n_jobs():
    from causalsynth.datasets.designs import NonlinearHeterogeneousDesign
    from causalsynth import RunOptions
    from causalsynth.simulate import simulate
    kw = dict(n=300, n_reps=4, estimators=("or", "tmle"), random_state=2,
              learners={"gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 3}})
    one = simulate(NonlinearHeterogeneousDesign(), **kw, run=RunOptions(progress=False)).replicates
    two = simulate(NonlinearHeterogeneousDesign(), **kw, run=RunOptions(n_jobs=2, progress=False)).replicates
    cols = [c for c in one.columns if not c.startswith("seconds")]
    assert one[cols].equals(two[cols])
