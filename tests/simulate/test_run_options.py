"""simulate / Simulation take the everyday settings as keywords, the rest in SimulationOptions and
how the work runs in RunOptions (issue 19); the 0.2 keywords are gone."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from causalsynth import RunOptions
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import SpecError
from causalsynth.simulate import Scenario, Simulation, SimulationOptions, simulate


def test_options_defaults_and_normalisation():
    opt = SimulationOptions(scenarios={"null": {"ate": 0.0}}, trim_bounds=[0.1, 0.9])
    assert opt.scenarios == (Scenario("null", {"ate": 0.0}),)
    assert opt.trim_bounds == (0.1, 0.9) and opt.propensity_bounds == (0.01, 0.99)
    assert (opt.estimand, opt.level, opt.batch_size, opt.generator) == ("ate", 0.95, None, "copula")
    assert SimulationOptions(propensity_bounds="adaptive").propensity_bounds == "adaptive"


def test_options_are_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        SimulationOptions(None, "att")
    with pytest.raises(dataclasses.FrozenInstanceError):
        SimulationOptions().level = 0.9


@pytest.mark.parametrize("kwargs, match", [
    ({"estimand": "late"}, "estimand must be one of"),
    ({"level": 95}, "level must be a number strictly between 0 and 1"),
    ({"trim_bounds": (0.9, 0.1)}, "bounds"),
    ({"propensity_bounds": 0.1}, "propensity_bounds must be a pair"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"scenarios": {}}, "scenarios is empty"),
    ({"generator": ""}, "generator must name"),
])
def test_each_option_is_checked_when_built(kwargs, match):
    with pytest.raises(SpecError, match=match):
        SimulationOptions(**kwargs)


def test_calls_take_the_objects():
    design = LinearLogisticDesign(n_features=3)
    with pytest.raises(SpecError, match="options must be a SimulationOptions"):
        Simulation(design, n=100, n_reps=2, options={"estimand": "att"})
    with pytest.raises(SpecError, match="run must be a RunOptions"):
        simulate(design, n=100, n_reps=2, run={"n_jobs": 2})
    with pytest.raises(TypeError, match="unexpected keyword argument 'wibble'"):
        simulate(design, n=100, n_reps=2, wibble=1)


def test_the_options_reach_the_grid():
    opt = SimulationOptions(estimand="att", level=0.9, batch_size=3, propensity_bounds=(0.05, 0.95))
    sim = Simulation(LinearLogisticDesign(n_features=3), n=100, n_reps=6, estimators=("ipw",), options=opt,
                     random_state=0)
    spec = sim.spec
    assert (spec.estimand, spec.level, spec.batch_size, spec.propensity_bounds) == ("att", 0.9, 3, (0.05, 0.95))
    assert sim.options is opt


@pytest.mark.parametrize("call, key", [
    ("simulate", "estimand"), ("simulate", "covariates"), ("simulate", "n_jobs"), ("simulate", "show_progress"),
    ("Simulation", "trim_bounds"), ("Simulation", "propensity_bounds"), ("run", "n_jobs"), ("run", "progress"),
])
def test_the_0_2_keywords_are_refused(call, key):
    # the transitional **legacy is gone: the settings live in SimulationOptions / RunOptions
    design = LinearLogisticDesign(n_features=3)
    value = {"estimand": "att", "covariates": "copula", "trim_bounds": (0.1, 0.9),
             "propensity_bounds": (0.05, 0.95)}.get(key, 1)
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{key}'"):
        if call == "simulate":
            simulate(design, n=100, n_reps=2, **{key: value})
        elif call == "Simulation":
            Simulation(design, n=100, n_reps=2, **{key: value})
        else:
            Simulation(design, n=100, n_reps=2).run(RunOptions(progress=False), **{key: value})
