"""Pre-analysis estimator selection: many synthetic replicates with a known truth.

>>> sim = Simulation(synth, estimators=("aipw", "tmle"), n=1566, n_reps=200,
...                  learners={"glm": "logistic", "gbm": "gbm"}, random_state=0)
>>> sim.plan()            # the grid and an estimate of its cost, before spending it
>>> result = sim.run(RunOptions(n_jobs=2, checkpoint="runs/nhefs"))   # resumable
>>> print(result.recommendation())

``simulation.py`` the grid and its run, ``options.py`` its less common settings
(:class:`SimulationOptions`), ``spec.py`` the validated specification, ``run.py``
the tasks and backends, ``store.py`` the checkpoints, ``results.py`` the measures and the
ranking, ``report.py`` plots and the report, ``uncertainty.py`` refits of the generator,
``difficulty.py`` world fidelity, ``select.py`` the whole workflow (:func:`select_estimator`).
"""
from __future__ import annotations

from .results import SimulationResult
from .select import Selection, SelectionOptions, select_estimator
from .options import SimulationOptions
from .simulation import Simulation, SimulationPlan, load_result, simulate
from .spec import LearnerConfig, Scenario, SimulationSpec
from .uncertainty import RefitOptions

__all__ = ["Simulation", "simulate", "SimulationOptions", "SimulationPlan", "SimulationResult", "SimulationSpec",
           "LearnerConfig", "Scenario", "load_result", "select_estimator", "Selection",
           "SelectionOptions", "RefitOptions"]
