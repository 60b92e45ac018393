"""The simulation grid: :class:`Simulation` (plan, then run), :func:`simulate` and the plan.

>>> sim = Simulation(synth, estimators=("or", "ipw", "aipw", "tmle"), n=1566, n_reps=200,
...                  learners={"glm": "logistic", "gbm": "gbm"}, random_state=0)
>>> sim.plan()            # the grid and an estimate of its cost, before spending it
>>> result = sim.run(n_jobs=2, checkpoint="runs/nhefs")   # resumable
>>> print(result.recommendation())
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import check_int
from .._random import RandomState, as_seed_sequence
from ..errors import SpecError
from ..progress import progress
from .results import SimulationResult
from .run import apply_knobs, execute, run_batch
from .spec import SimulationSpec, Task
from .store import CheckpointStore

__all__ = ["Simulation", "simulate", "SimulationPlan", "load_result", "BACKENDS"]

BACKENDS = ("joblib", "dask")


@dataclass(frozen=True)
class SimulationPlan:
    """The grid of a simulation and an estimate of its cost (from timed pilot replicates)."""

    grid: pd.DataFrame
    n_tasks: int
    n_fits: int
    seconds_per_task: dict
    estimated_seconds: float

    def __str__(self) -> str:
        cells = len(self.grid)
        lines = [f"{cells} cells (scenario x n x learner x estimator), {self.n_tasks} replicate datasets, "
                 f"{self.n_fits} nuisance fits (shared by the estimators)",
                 f"estimated cost: {self.estimated_seconds:.0f} s of one core "
                 f"({self.estimated_seconds / 60:.1f} min)"]
        for key, s in self.seconds_per_task.items():
            lines.append(f"  pilot {key}: {s:.3f} s per replicate")
        return "\n".join(lines)


def _check_dgp(dgp) -> None:
    import pandas as pd

    from ..data import CausalData
    if isinstance(dgp, (pd.DataFrame, pd.Series, CausalData)):
        raise SpecError(
            f"dgp is a {type(dgp).__name__}, real data with no known truth; fit a generator on it "
            "first: simulate(HybridSynthesizer().fit(data), ...)")
    if not callable(getattr(dgp, "sample", None)):
        raise SpecError(
            f"dgp must have sample(n, random_state=...) returning a SyntheticSample (a fitted "
            f"HybridSynthesizer or a design from causalsynth.datasets.designs); got {type(dgp).__name__}")
    if hasattr(dgp, "_check_fitted"):
        dgp._check_fitted()


class Simulation:
    """A simulation grid over a data-generating process with a known truth.

    Parameters
    ----------
    dgp : a fitted :class:`~causalsynth.HybridSynthesizer` or any object with
        ``sample(n, random_state=...) -> SyntheticSample`` (see ``causalsynth.datasets.designs``).
    estimators : estimator names (see :data:`causalsynth.estimators.ESTIMATORS`).
    n : sample size or list of sizes.
    n_reps : replicates per (scenario, n).
    learners : learner configurations: a dict name -> preset name, (propensity, outcome) pair,
        dict of ``propensity``/``outcome``/``n_folds``, or :class:`LearnerConfig`. Default:
        one configuration with the default learners.
    scenarios : dict name -> knob values, e.g. ``{"poor overlap": {"overlap": 2.0}}``.
    level : confidence level of the intervals.
    propensity_bounds : clipping bounds used by every estimator.
    random_state : one seed for the whole grid (each replicate's seed derives from it and
        the replicate's indices).
    """

    def __init__(self, dgp, *, estimators=("or", "ipw", "aipw", "tmle"), n=1000, n_reps=200,
                 learners=None, scenarios=None, level: float = 0.95,
                 propensity_bounds=(0.01, 0.99), batch_size: int | None = None,
                 random_state: RandomState = None) -> None:
        _check_dgp(dgp)
        self.dgp = dgp
        self.spec = SimulationSpec.build(estimators=estimators, n=n, n_reps=n_reps, learners=learners,
                                         scenarios=scenarios, level=level,
                                         propensity_bounds=propensity_bounds, batch_size=batch_size)
        self._seed = as_seed_sequence(random_state)
        self._dgps = None

    def _scenario_dgps(self) -> list:
        if self._dgps is None:
            self._dgps = [apply_knobs(self.dgp, dict(s.knobs)) for s in self.spec.scenarios]
        return self._dgps

    def plan(self, *, pilot_reps: int = 2) -> SimulationPlan:
        """Show the grid and estimate its cost by timing ``pilot_reps`` replicates per (scenario, n)."""
        spec = self.spec
        dgps = self._scenario_dgps()
        per_task = {}
        total = 0.0
        pilot_entropy = (12345, ())
        for s in range(len(spec.scenarios)):
            for z in range(len(spec.sizes)):
                tasks = [Task(s, z, r) for r in range(pilot_reps)]
                t0 = time.perf_counter()
                run_batch(dgps, spec, pilot_entropy, tasks)
                sec = (time.perf_counter() - t0) / pilot_reps
                per_task[f"{spec.scenarios[s].name}, n={spec.sizes[z]}"] = sec
                total += sec * spec.n_reps
        n_tasks = len(spec.scenarios) * len(spec.sizes) * spec.n_reps
        return SimulationPlan(spec.grid(), n_tasks, n_tasks * len(spec.learners), per_task, total)

    def run(self, *, n_jobs: int = 1, backend: str = "joblib", scheduler=None, checkpoint=None,
            resume: bool = False, show_progress: bool | None = None) -> SimulationResult:
        """Run the grid.

        Parameters
        ----------
        n_jobs : worker processes (joblib) or LocalCluster workers (dask); results do not
            depend on it.
        backend : "joblib" (local processes; n_jobs=1 runs in this process) or "dask".
        scheduler : with backend="dask": a scheduler address ("tcp://host:8786") or a
            ``dask.distributed.Client``; None starts a LocalCluster with ``n_jobs`` workers.
        checkpoint : folder where finished batches are written as Parquet parts.
        resume : continue the simulation in ``checkpoint`` (only unfinished replicates run).
        """
        if backend not in BACKENDS:
            raise SpecError(f"backend must be one of {BACKENDS}; got {backend!r}")
        check_int("n_jobs", n_jobs)
        if resume and checkpoint is None:
            raise SpecError("resume=True needs the checkpoint folder of the interrupted run")
        spec = self.spec
        entropy = (self._seed.entropy, tuple(self._seed.spawn_key))
        store = None
        done_rows = pd.DataFrame()
        if checkpoint is not None:
            store = CheckpointStore(checkpoint)
            meta = {"fingerprint": spec.fingerprint(), "entropy": [entropy[0], list(entropy[1])],
                    "n_reps": spec.n_reps,
                    "sizes": list(spec.sizes), "scenarios": [s.name for s in spec.scenarios]}
            store.open(meta, resume=resume)
            entropy = (meta["entropy"][0], tuple(meta["entropy"][1]))
            if resume:
                done_rows = store.read()
        t0 = time.perf_counter()
        dgps = self._scenario_dgps()
        tasks = spec.tasks()
        done = set()
        if len(done_rows):
            sc_index = {s.name: i for i, s in enumerate(spec.scenarios)}
            sz_index = {n: i for i, n in enumerate(spec.sizes)}
            done = {Task(sc_index[r.scenario], sz_index[r.n], int(r.rep))
                    for r in done_rows[["scenario", "n", "rep"]].drop_duplicates().itertuples()}
        todo = [t for t in tasks if t not in done]
        batches = [todo[i:i + spec.batch_size] for i in range(0, len(todo), spec.batch_size)]
        parts = [done_rows] if len(done_rows) else []
        bar = progress(range(len(todo)), desc="replicates", total=len(todo), show=show_progress)
        bar_iter = iter(bar)
        for batch, rows in execute(dgps, spec, entropy, batches, n_jobs=int(n_jobs), backend=backend,
                                   scheduler=scheduler):
            if store is not None:
                first = batch[0]
                store.write_part(f"{first.scenario:03d}-{first.size:03d}-{first.rep:06d}", rows)
            parts.append(rows)
            for _ in batch:
                next(bar_iter, None)
        for _ in bar_iter:  # close the bar
            pass
        reps = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        order = {s.name: i for i, s in enumerate(spec.scenarios)}
        lorder = {c.name: i for i, c in enumerate(spec.learners)}
        eorder = {e: i for i, e in enumerate(spec.estimators)}
        reps = (reps.assign(_s=reps["scenario"].map(order), _l=reps["learner"].map(lorder),
                            _e=reps["estimator"].map(eorder))
                .sort_values(["_s", "n", "_l", "_e", "rep"]).drop(columns=["_s", "_l", "_e"])
                .reset_index(drop=True))
        pates = {s.name: float(getattr(d, "population_ate_", np.nan)) for s, d in zip(spec.scenarios, dgps)}
        return SimulationResult(spec, reps, pates, time.perf_counter() - t0, backend, int(n_jobs),
                                n_resumed=len(done))


def simulate(dgp, *, estimators=("or", "ipw", "aipw", "tmle"), n=1000, n_reps=200, learners=None,
             scenarios=None, level: float = 0.95, propensity_bounds=(0.01, 0.99), n_jobs: int = 1,
             backend: str = "joblib", scheduler=None, checkpoint=None, resume: bool = False,
             batch_size: int | None = None, show_progress: bool | None = None,
             random_state: RandomState = None) -> SimulationResult:
    """Build a :class:`Simulation` and run it (see there for the parameters)."""
    sim = Simulation(dgp, estimators=estimators, n=n, n_reps=n_reps, learners=learners, scenarios=scenarios,
                     level=level, propensity_bounds=propensity_bounds, batch_size=batch_size,
                     random_state=random_state)
    return sim.run(n_jobs=n_jobs, backend=backend, scheduler=scheduler, checkpoint=checkpoint,
                   resume=resume, show_progress=show_progress)


def load_result(checkpoint, dgp=None) -> pd.DataFrame:
    """The replicate rows stored in a checkpoint folder."""
    return CheckpointStore(Path(checkpoint)).read()
