"""Simulation specifications: learner configurations, scenarios and the grid.

A simulation grid is worlds x scenarios x sample sizes x learner configurations x
estimators x replicates. One *task* is one (world, scenario, sample size, replicate): it
draws one dataset and, for each learner configuration that still needs that replicate (a
configuration may have fewer replicates than the grid), fits the nuisance models once and
runs every estimator on them. Each task's seed is a pure function of ``random_state`` and the task's indices, so
results do not depend on execution order, backend or worker count.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_bounds, check_int, check_level, is_int, resolve_bounds
from ..errors import SpecError
from ..estimators import DEFAULT_ESTIMATORS, check_estimators, resolve_estimand, select_estimators
from .fingerprint import grid_settings, settings_fingerprint

__all__ = ["LearnerConfig", "Scenario", "SimulationSpec", "Task"]


@dataclass(frozen=True)
class LearnerConfig:
    """Nuisance learners shared by every estimator of one configuration.

    ``propensity`` / ``outcome`` take what :func:`causalsynth.estimate` takes (presets,
    scikit-learn estimators, formulas); ``n_folds`` None = 1 for parametric learners, else 5.
    """

    name: str
    propensity: Any = None
    outcome: Any = None
    n_folds: int | None = None
    n_reps: int | None = None  # replicates of this configuration (None: the simulation's n_reps)
    propensity_bounds: Any = None  # its truncation rule: a pair or "adaptive" (None: the simulation's)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise SpecError(f"a learner configuration needs a non-empty name; got {self.name!r}")
        if self.n_folds is not None and (not isinstance(self.n_folds, (int, np.integer)) or self.n_folds < 1):
            raise SpecError(f"n_folds of learner config {self.name!r} must be a positive integer or None")
        if self.n_reps is not None:
            check_int(f"n_reps of learner config {self.name!r}", self.n_reps, 2)
        if self.propensity_bounds is not None:
            resolve_bounds(self.propensity_bounds, 100)
        from ..learners import check_learner_spec
        try:
            check_learner_spec(self.propensity, role="propensity")
            check_learner_spec(self.outcome, role="outcome")
        except SpecError as exc:
            raise SpecError(f"learner config {self.name!r}: {exc}") from exc

    def describe(self) -> str:
        def d(x):
            return x if isinstance(x, str) or x is None else type(x).__name__
        return f"propensity={d(self.propensity) or 'logistic'}, outcome={d(self.outcome) or 'default'}"

    @property
    def classes(self) -> frozenset:
        """Model classes of its two nuisance learners (see :func:`causalsynth.learners.learner_class`)."""
        from ..learners import learner_class
        return frozenset({learner_class(self.propensity), learner_class(self.outcome)})


@dataclass(frozen=True)
class Scenario:
    """Knob values applied to the data-generating process (empty = as fitted)."""

    name: str
    knobs: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise SpecError(f"a scenario needs a non-empty name; got {self.name!r}")


@dataclass(frozen=True)
class Task:
    scenario: int
    size: int
    rep: int
    world: int = 0


def _as_learners(learners) -> tuple[LearnerConfig, ...]:
    if learners is None:
        return (LearnerConfig("default"),)
    if isinstance(learners, LearnerConfig):
        return (learners,)
    if isinstance(learners, Mapping):
        out = []
        for name, value in learners.items():
            if isinstance(value, LearnerConfig):
                out.append(dataclasses.replace(value, name=str(name)))
            elif isinstance(value, str):
                # a preset names both models; "logistic"/"linear" mean the main-terms GLMs;
                # "pooled:gbm" = a gbm propensity and one pooled gbm outcome model
                base = value.split(":", 1)[1].strip() if value.startswith("pooled:") else value
                glm = base in ("logistic", "linear", "glm")  # "glm": the command line's panel name
                outcome = (f"pooled:{'linear' if glm else base}" if base != value
                           else None if glm else value)
                out.append(LearnerConfig(str(name), "logistic" if glm else base, outcome))
            elif isinstance(value, Mapping):
                extra = set(value) - {"propensity", "outcome", "n_folds", "n_reps", "propensity_bounds"}
                if extra:
                    raise SpecError(f"learner config {name!r} has unknown keys {sorted(extra)}")
                out.append(LearnerConfig(str(name), **value))
            elif isinstance(value, (tuple, list)) and len(value) == 2:
                out.append(LearnerConfig(str(name), value[0], value[1]))
            else:
                raise SpecError(f"learner config {name!r} must be a preset name, a (propensity, outcome) "
                                f"pair, a dict or a LearnerConfig; got {type(value).__name__}")
        if not out:
            raise SpecError("learners is empty")
        return tuple(out)
    if isinstance(learners, Sequence) and not isinstance(learners, str):
        return tuple(_as_learners({(c.name if isinstance(c, LearnerConfig) else str(c)): c for c in learners}))
    if isinstance(learners, str):
        return _as_learners({learners: learners})
    raise SpecError(f"learners must be a dict, a list of presets or LearnerConfigs; got {type(learners).__name__}")


def _as_scenarios(scenarios) -> tuple[Scenario, ...]:
    if scenarios is None:
        return (Scenario("base"),)
    if isinstance(scenarios, Mapping):
        out = [s if isinstance(s, Scenario) else Scenario(str(k), dict(s or {})) for k, s in scenarios.items()]
    else:
        out = list(scenarios)
        if not all(isinstance(s, Scenario) for s in out):
            raise SpecError("scenarios must be a dict name -> {knob: value} or a list of Scenario")
    if not out:
        raise SpecError("scenarios is empty")
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise SpecError(f"scenario names must be unique; got {names}")
    return tuple(out)


@dataclass(frozen=True)
class SimulationSpec:
    """A validated simulation grid (see module docstring)."""

    estimators: tuple[str, ...] = DEFAULT_ESTIMATORS
    sizes: tuple[int, ...] = (1000,)
    n_reps: int = 200
    learners: tuple[LearnerConfig, ...] = (LearnerConfig("default"),)
    scenarios: tuple[Scenario, ...] = (Scenario("base"),)
    level: float = 0.95
    propensity_bounds: tuple[float, float] = (0.01, 0.99)
    batch_size: int = 10  # tasks per unit of work: changes neither rows nor fingerprint
    worlds: tuple[str, ...] = ("given",)
    estimand: str = "ate"
    trim_bounds: tuple | None = None  # the trimmed estimand's bounds (None: the Crump et al. rule)

    @classmethod
    def build(cls, *, estimators=None, n=1000, n_reps=200, learners=None,
              scenarios=None, level=0.95, propensity_bounds=(0.01, 0.99), batch_size=None,
              worlds=("given",), estimand="ate", trim_bounds=None) -> SimulationSpec:
        names, _ = select_estimators(estimators, estimand)  # None: the default panel's that can target it
        if is_int(n):
            sizes = (int(n),)
        elif (isinstance(n, (Sequence, range, np.ndarray)) and not isinstance(n, (str, bytes))
              and len(n) and all(is_int(s) for s in n)):
            sizes = tuple(int(s) for s in n)
        else:
            raise SpecError(f"n must be an integer sample size or a list of them; got {n!r}")
        reps = int(n_reps) if isinstance(n_reps, (int, np.integer)) else n_reps
        if batch_size is None:
            batch_size = max(1, min(25, reps // 8 if isinstance(reps, int) else 10))
        level = check_level(level)
        bounds = propensity_bounds if propensity_bounds == "adaptive" else check_bounds(propensity_bounds)
        if not isinstance(batch_size, (int, np.integer)):
            raise SpecError(f"batch_size must be a positive integer; got {batch_size!r}")
        return cls(names, sizes, reps, _as_learners(learners), _as_scenarios(scenarios), float(level),
                   bounds, int(batch_size), tuple(str(w) for w in worlds), estimand,
                   None if trim_bounds is None else check_bounds(trim_bounds))

    def __post_init__(self):
        object.__setattr__(self, "estimators", check_estimators(self.estimators))
        resolve_estimand(self.estimand, self.estimators, explicit=True)  # the one estimand rule
        if not self.sizes or any(s < 20 for s in self.sizes):
            raise SpecError(f"sample sizes n must be integers >= 20; got {list(self.sizes)}")
        if not isinstance(self.n_reps, int) or self.n_reps < 2:
            raise SpecError(f"n_reps must be an integer >= 2; got {self.n_reps!r}")
        if not (0 < self.level < 1):
            raise SpecError(f"level must be strictly between 0 and 1; got {self.level!r}")
        resolve_bounds(self.propensity_bounds, 100)
        names = [c.name for c in self.learners]
        if len(set(names)) != len(names):
            raise SpecError(f"learner configuration names must be unique; got {names}")
        if self.batch_size < 1:
            raise SpecError("batch_size must be >= 1")
        if not self.worlds or len(set(self.worlds)) != len(self.worlds):
            raise SpecError(f"world names must be unique and at least one; got {list(self.worlds)}")

    # ------------------------------------------------------------------ grid
    def bounds_of(self, config: LearnerConfig):
        """The truncation rule of one configuration (its own, else the simulation's)."""
        return self.propensity_bounds if config.propensity_bounds is None else config.propensity_bounds

    def reps_of(self, config: LearnerConfig) -> int:
        """Replicates of one learner configuration (its own ``n_reps``, else the simulation's)."""
        return self.n_reps if config.n_reps is None else int(config.n_reps)

    @property
    def max_reps(self) -> int:
        return max(self.reps_of(c) for c in self.learners)

    def tasks(self) -> list[Task]:
        """One task per (world, scenario, size, replicate); a task fits the configurations that
        still need that replicate."""
        return [Task(s, z, r, w) for w in range(len(self.worlds)) for s in range(len(self.scenarios))
                for z in range(len(self.sizes)) for r in range(self.max_reps)]

    def grid(self) -> pd.DataFrame:
        """One row per cell (world x scenario x n x learner x estimator)."""
        rows = [{"world": w, "scenario": sc.name, "n": n, "learner": lc.name, "estimator": e,
                 "n_reps": self.reps_of(lc)}
                for w in self.worlds for sc in self.scenarios for n in self.sizes for lc in self.learners
                for e in self.estimators]
        return pd.DataFrame(rows)

    def fingerprint(self) -> str:
        """A stable hash of the grid's settings that change the replicates (see
        :func:`~causalsynth.simulate.fingerprint.grid_settings`; ``batch_size`` is not one of
        them). A checkpoint adds the seed, the worlds' fitted state and the package version."""
        return settings_fingerprint(grid_settings(self))
