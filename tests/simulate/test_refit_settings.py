"""The refits of the worlds simulate with the settings of the simulation they check (estimand,
bounds, level): a review found them running with the defaults (an ATT selection refitted as
ATE), which mixed two estimands in one P(best)."""
from __future__ import annotations

import warnings

import pytest

import causalsynth as cs
from causalsynth.simulate import Simulation, SimulationOptions
from causalsynth.simulate import uncertainty
from causalsynth.simulate.uncertainty import RefitOptions, generator_uncertainty

OPTIONS = SimulationOptions(estimand="att", propensity_bounds=(0.05, 0.95), level=0.9)


@pytest.fixture(scope="module")
def seen():
    """The options every Simulation built by generator_uncertainty received, for an original
    ATT simulation passed in and for explicit refit options."""
    data = cs.datasets.load_lalonde()
    kw = dict(worlds=("glm",), estimators=("ipw", "aipw"), n=200, learners="glm")
    calls = []

    class Recording(Simulation):
        def __init__(self, *args, **kwargs):
            calls.append(kwargs.get("options"))
            super().__init__(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(uncertainty, "Simulation", Recording)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            original = Simulation(data, worlds=("glm",), estimators=("ipw", "aipw"), n=200, n_reps=4,
                                  learners="glm", options=OPTIONS, random_state=1).run()
            from_original = list(calls)
            res = generator_uncertainty(data, refits=RefitOptions(n_refits=2, n_reps=4), original=original,
                                        random_state=2, **kw)
            from_original = calls[len(from_original):]
            calls.clear()
            generator_uncertainty(data, refits=RefitOptions(n_refits=2, n_reps=4, options=OPTIONS), random_state=3, **kw)
            explicit = list(calls)
    finally:
        mp.undo()
    return from_original, explicit, res


def test_refits_take_the_original_simulations_settings(seen):
    from_original, _, res = seen
    assert len(from_original) == 2  # one simulation per refit
    for opts in from_original:
        assert (opts.estimand, tuple(opts.propensity_bounds), opts.level) == ("att", (0.05, 0.95), 0.9)
    assert list(dict.fromkeys(res.table["generator"])) == ["original", "refit 1", "refit 2"]


def test_explicit_refit_options_reach_every_simulation(seen):
    _, explicit, _ = seen
    assert len(explicit) == 3  # the original (computed here) and two refits
    assert all(opts is OPTIONS for opts in explicit)


def test_refit_options_are_checked():
    with pytest.raises(cs.SpecError, match="options must be a SimulationOptions"):
        RefitOptions(options={"estimand": "att"})
