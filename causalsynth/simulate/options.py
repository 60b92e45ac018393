"""The less common settings of a simulation grid: :class:`SimulationOptions` (issue 19).

:func:`~causalsynth.simulate.simulate` and :class:`~causalsynth.simulate.Simulation` take the
everyday settings as keywords (``worlds``, ``estimators``, ``n``, ``n_reps``, ``learners``) and
the rest in one validated, frozen, keyword-only object; how the work runs (workers, checkpoint,
progress) is a :class:`~causalsynth.progress.RunOptions`::

    simulate(dgp, n_reps=500, options=SimulationOptions(estimand="att"), run=RunOptions(n_jobs=2))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._checks import check_bounds, check_choice, check_int, check_level, resolve_bounds
from ..errors import SpecError

__all__ = ["SimulationOptions", "ESTIMANDS"]

#: What every estimator of a simulation can target (see :func:`causalsynth.estimate`).
ESTIMANDS = ("ate", "att", "atc", "trimmed", "overlap")


@dataclass(frozen=True, kw_only=True)
class SimulationOptions:
    """Settings of a simulation grid besides its worlds, estimators, sizes, replicates and learners.

    scenarios : dict name -> knob values, e.g. ``{"poor overlap": {"overlap": 2.0}}`` (every
        world must support the knobs), or a list of :class:`~causalsynth.simulate.Scenario`;
        None: one scenario, the worlds as fitted.
    estimand : what every estimator targets and every truth measures: ``"ate"`` (default),
        ``"att"``, ``"atc"``, ``"trimmed"`` (``trim_bounds``, default the Crump et al. rule, per
        replicate and configuration) or ``"overlap"`` (see :func:`causalsynth.estimate`).
    trim_bounds : the trimmed estimand's propensity bounds (None: the Crump et al. rule).
    propensity_bounds : clipping bounds used by every estimator (a pair or ``"adaptive"``); a
        learner configuration's own ``propensity_bounds`` overrides it.
    level : confidence level of the intervals.
    batch_size : replicates per unit of work sent to a worker (None: from ``n_reps``); it
        changes neither the rows nor the checkpoint's fingerprint.
    generator : covariate generator of the hybrid worlds fitted to real data (``"copula"``,
        ``"bootstrap"``, ``"ctgan"``, ``"tvae"`` or a generator object).
    """

    scenarios: Any = None
    estimand: str = "ate"
    trim_bounds: Any = None
    propensity_bounds: Any = (0.01, 0.99)
    level: float = 0.95
    batch_size: int | None = None
    generator: Any = "copula"

    def __post_init__(self) -> None:
        check_choice("estimand", self.estimand, ESTIMANDS)
        object.__setattr__(self, "level", check_level(self.level))
        if self.trim_bounds is not None:
            object.__setattr__(self, "trim_bounds", check_bounds(self.trim_bounds))
        if self.propensity_bounds != "adaptive":
            object.__setattr__(self, "propensity_bounds", check_bounds(self.propensity_bounds))
        resolve_bounds(self.propensity_bounds, 100)
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, 1))
        if self.scenarios is not None:
            from .spec import SimulationSpec
            object.__setattr__(self, "scenarios", SimulationSpec.build(scenarios=self.scenarios).scenarios)
        if isinstance(self.generator, str) and not self.generator:
            raise SpecError("generator must name a covariate generator (e.g. 'copula'); got ''")
