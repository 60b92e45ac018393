"""simulate/fingerprint.py: stable hashes of a simulation's settings and worlds, what counts and
what does not, and the differences a resume names (issue 19: tests mirror the packages)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np

from causalsynth.simulate.fingerprint import (
    describe,
    grid_settings,
    run_settings,
    setting_differences,
    settings_fingerprint,
    state_hash,
)
from causalsynth.simulate.spec import SimulationSpec


class _Process:
    def __init__(self, scale):
        self.scale = scale
        self.coef_ = np.arange(3.0) * scale
        self.last_draw = None  # a diagnostic of the last draw: not part of the state


@dataclasses.dataclass
class _Design:
    n: int
    effect: float


def test_equal_state_equal_hash_other_state_other_hash():
    assert state_hash(_Process(1.0)) == state_hash(_Process(1.0))
    assert state_hash(_Process(1.0)) != state_hash(_Process(2.0))
    assert state_hash(_Design(10, 1.0)) == state_hash(_Design(10, 1.0)) != state_hash(_Design(10, 1.5))
    assert state_hash([1, 2]) != state_hash([2, 1]) and state_hash({"a": 1, "b": 2}) == state_hash({"b": 2, "a": 1})
    assert len(state_hash(None)) == 20


def test_last_draw_diagnostics_and_generator_state_are_left_out():
    a, b = _Process(1.0), _Process(1.0)
    b.last_draw = np.ones(5)
    assert state_hash(a) == state_hash(b)
    g1, g2 = np.random.default_rng(0), np.random.default_rng(0)
    g2.random(10)  # advanced: same generator, other state
    assert state_hash(g1) == state_hash(g2)


def test_the_hash_is_stable_across_interpreters():
    code = ("import numpy as np; from causalsynth.simulate.fingerprint import state_hash; "
            "print(state_hash({'x': np.arange(4.0), 'y': [1, 'a', None]}))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
            for _ in range(2)}
    assert len(runs) == 1 and len(runs.pop().strip()) == 20


def test_describe_hides_memory_addresses_and_shortens():
    assert describe(object()) == "object()"
    assert describe("glm") == "'glm'" and describe(3) == "3" and describe(None) == "None"
    assert len(describe(list(range(200)), width=40)) == 40


def test_grid_settings_name_what_decides_the_rows():
    spec = SimulationSpec.build(estimators=("ipw", "aipw"), n=100, n_reps=5)
    g = grid_settings(spec)
    assert {"n_reps", "n", "estimators", "worlds", "learners", "level", "propensity_bounds"} <= set(g)
    assert g["n_reps"]["text"] == "n_reps=5" and g["estimators"]["text"] == "estimators=ipw, aipw"
    again = grid_settings(SimulationSpec.build(estimators=("ipw", "aipw"), n=100, n_reps=5))
    assert settings_fingerprint(g) == settings_fingerprint(again)


def test_differences_name_the_setting_that_changed():
    old = grid_settings(SimulationSpec.build(estimators=("ipw", "aipw"), n=100, n_reps=5))
    new = grid_settings(SimulationSpec.build(estimators=("ipw", "aipw"), n=100, n_reps=6))
    diff = setting_differences(old, new)
    assert diff == [("n_reps", "n_reps=5", "n_reps=6")]
    assert settings_fingerprint(old) != settings_fingerprint(new)
    assert setting_differences(old, old) == []


def test_run_settings_hold_version_seed_and_worlds():
    spec = SimulationSpec.build(estimators=("ipw",), n=50, n_reps=2)
    seed = np.random.SeedSequence(7)
    a = run_settings(spec, {"w": _Process(1.0)}, seed)
    b = run_settings(spec, {"w": _Process(2.0)}, seed)
    assert {"version", "seed", "world 'w'"} <= set(a) and a["seed"]["text"] == "seed 7"
    name, ta, tb = setting_differences(a, b)[0]
    assert name == "world 'w'" and "fitted state" in ta and ta != tb  # same text, other state: the hashes show
