"""The simulation grid: :class:`Simulation` (plan, then run), :func:`simulate` and the plan.

>>> sim = Simulation(data, worlds=("flexible", "glm", "gbm", "placebo"), n_reps=200,
...                  learners={"glm": "logistic", "gbm": "gbm"}, random_state=0)
>>> sim.plan()            # the grid and an estimate of its cost, before spending it
>>> result = sim.run(RunOptions(n_jobs=2, checkpoint="runs/nhefs"))   # resumable
>>> print(result.recommendation())
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._random import RandomState, as_seed_sequence, seed_key, seed_parts
from .._version import __version__
from ..data import CausalData
from ..errors import CheckpointError, Fix, SpecError
from ..progress import Progress, RunOptions, as_run_options
from ..sample import population_truth
from .costs import WorkModel, measured_seconds, spread
from .fingerprint import run_settings, settings_fingerprint
from .options import SimulationOptions
from .results import SimulationResult
from .run import apply_knobs, execute, run_batch
from .spec import SimulationSpec, Task
from .store import FORMAT, CheckpointStore
from .worlds import as_worlds, decision_worlds

__all__ = ["Simulation", "simulate", "SimulationPlan", "load_result", "BACKENDS"]

BACKENDS = ("joblib", "dask")


#: The learner label of the plan's cost rows for drawing replicate datasets (not a configuration).
DRAWS = "draws"


@dataclass(frozen=True)
class SimulationPlan:
    """The grid of a simulation and an estimate of its cost (from timed pilot replicates).

    ``costs`` has one row per (world, learner configuration): replicates, pilot seconds per
    replicate and the estimated seconds of one core, and one row per world for drawing the
    replicate datasets and their truth (learner ``"draws"``); ``world_fit_seconds`` the time each world
    took to fit (already spent).
    """

    grid: pd.DataFrame
    n_tasks: int
    n_fits: int
    seconds_per_task: dict
    estimated_seconds: float
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    world_fit_seconds: dict = field(default_factory=dict)

    def __str__(self) -> str:
        cells = len(self.grid)
        worlds = list(dict.fromkeys(self.grid["world"])) if "world" in self.grid else []
        lines = [f"{cells} cells (world x scenario x n x learner x estimator), {self.n_tasks} replicate "
                 f"datasets, {self.n_fits} nuisance fits (shared by the estimators)",
                 f"estimated cost: {self.estimated_seconds:.0f} s of one core "
                 f"({self.estimated_seconds / 60:.1f} min)"]
        if len(self.costs):
            for world in worlds:
                c = self.costs[self.costs["world"] == world]
                fit = self.world_fit_seconds.get(world, float("nan"))
                parts = ", ".join(f"{r.learner} {r.n_reps} x {r.seconds_per_replicate:.3f} s" for r in c.itertuples())
                lines.append(f"  world {world}: {c['estimated_seconds'].sum():.0f} s ({parts})"
                             + (f"; fitted in {fit:.1f} s" if np.isfinite(fit) else ""))
        else:
            for key, sec in self.seconds_per_task.items():
                lines.append(f"  pilot {key}: {sec:.3f} s per replicate")
        return "\n".join(lines)


def _check_source(source) -> None:
    if isinstance(source, (pd.DataFrame, pd.Series)):
        raise SpecError(
            f"dgp is a {type(source).__name__}, real data with no known truth; wrap it in a CausalData "
            "to fit the simulation worlds to it (Simulation(CausalData(frame, ...), worlds=...)) or fit a "
            "generator on it first: simulate(HybridSynthesizer().fit(data), ...)")


class Simulation:
    """A simulation grid over one or several data-generating processes with a known truth.

    Parameters
    ----------
    source : real data (a :class:`~causalsynth.CausalData`: the worlds are fitted to it), a
        fitted :class:`~causalsynth.HybridSynthesizer` or any object with
        ``sample(n, random_state=...) -> SyntheticSample`` (one world, "given"), or a mapping
        of world names to such objects.
    worlds : with real data, names from :data:`causalsynth.simulate.worlds.WORLDS` (default
        ``("flexible", "glm", "gbm", "placebo")``), or a mapping name -> world object. The
        recommendation is decided in the worlds that are home to no candidate (see
        :func:`~causalsynth.simulate.worlds.decision_worlds`).
    estimators : estimator names (see :data:`causalsynth.estimators.ESTIMATORS`); default those of
        :data:`causalsynth.estimators.DEFAULT_ESTIMATORS` that can target ``estimand`` (one named
        explicitly that cannot is refused).
    n : sample size or list of sizes (default: the real data's size, else 1000).
    n_reps : replicates per (world, scenario, n); a learner configuration's own ``n_reps``
        (``{"glm": {"propensity": "logistic", "n_reps": 400}}``) overrides it, so cheap
        configurations can take more replicates.
    learners : learner configurations: a dict name -> preset name, (propensity, outcome) pair,
        dict of ``propensity``/``outcome``/``n_folds``/``n_reps``, or :class:`LearnerConfig`.
        Default: one configuration with the default learners.
    options : :class:`~causalsynth.simulate.SimulationOptions`, the other settings of the grid:
        scenarios, estimand and ``trim_bounds``, ``propensity_bounds`` (a learner
        configuration's own overrides it, so truncation rules can be compared like any other
        configuration), ``level``, ``batch_size`` and the covariate ``generator`` of the hybrid
        worlds fitted here (default: ``SimulationOptions()``).
    random_state : one seed for the whole grid (each replicate's seed derives from it and
        the replicate's indices; the worlds are fitted from streams of their own).
    """

    def __init__(self, source, *, worlds=None, estimators=None, n=None, n_reps=200,
                 learners=None, options: SimulationOptions | None = None,
                 random_state: RandomState = None) -> None:
        _check_source(source)
        opt = _as_options(options)
        self.options = opt
        self._seed = as_seed_sequence(random_state)
        self.worlds = as_worlds(source, worlds, generator=opt.generator, random_state=self._seed)
        if n is None:
            n = source.n_obs if isinstance(source, CausalData) else 1000
        self.spec = SimulationSpec.build(estimators=estimators, n=n, n_reps=n_reps, learners=learners,
                                         scenarios=opt.scenarios, level=opt.level,
                                         propensity_bounds=opt.propensity_bounds, batch_size=opt.batch_size,
                                         worlds=tuple(self.worlds), estimand=opt.estimand,
                                         trim_bounds=opt.trim_bounds)
        self.decision_worlds = decision_worlds(self.worlds, [c.classes for c in self.spec.learners])
        self._dgps = None
        self._pilot: dict = defaultdict(list)  # seed_key -> [(tasks, rows)] of plan()'s replicates

    @property
    def dgp(self):
        """The first world's data-generating process (the only one of a single-world grid)."""
        return next(iter(self.worlds.values())).dgp

    def _world_dgps(self) -> list[list]:
        if self._dgps is None:
            self._dgps = [[apply_knobs(w.dgp, dict(s.knobs)) for s in self.spec.scenarios]
                          for w in self.worlds.values()]
        return self._dgps

    def world_table(self) -> pd.DataFrame:
        """One row per world: what it is, its model classes, whether it decides the recommendation."""
        return pd.DataFrame([{"world": name, "description": w.description,
                              "model_classes": ", ".join(sorted(w.classes)) or "unknown",
                              "decides": name in self.decision_worlds,
                              "fit_seconds": w.seconds_to_fit} for name, w in self.worlds.items()])

    def plan(self, *, pilot_reps: int = 2) -> SimulationPlan:
        """Show the grid and estimate its cost per world and configuration by timing
        ``pilot_reps`` replicates per (world, scenario, n)."""
        spec = self.spec
        dgps = self._world_dgps()
        per_task, costs = {}, []
        # the pilot replicates are the run's first ones (same seeds): run() reuses their rows
        entropy, key = seed_parts(self._seed), seed_key(self._seed)
        for w, world in enumerate(spec.worlds):
            for s in range(len(spec.scenarios)):
                for z in range(len(spec.sizes)):
                    tasks = [Task(s, z, r, w) for r in range(min(pilot_reps, spec.max_reps))]
                    t0 = time.perf_counter()
                    rows = run_batch(dgps, spec, entropy, tasks)
                    self._pilot[key].append((tasks, rows))
                    elapsed = (time.perf_counter() - t0) / max(len(tasks), 1)
                    per_task[f"{world}, {spec.scenarios[s].name}, n={spec.sizes[z]}"] = elapsed
                    fitted = 0.0
                    for lc in spec.learners:
                        r = rows[rows["learner"] == lc.name]
                        sec = float((r["seconds_nuisance"].fillna(0) / max(len(spec.estimators), 1)
                                     + r["seconds_estimator"].fillna(0)).sum()) / max(len(tasks), 1)
                        fitted += sec
                        costs.append({"world": world, "scenario": spec.scenarios[s].name, "n": spec.sizes[z],
                                      "learner": lc.name, "n_reps": spec.reps_of(lc),
                                      "seconds_per_replicate": sec, "estimated_seconds": sec * spec.reps_of(lc)})
                    # drawing the replicate and its truth: every task pays it once, whatever it fits
                    draw = max(elapsed - fitted, 0.0)
                    costs.append({"world": world, "scenario": spec.scenarios[s].name, "n": spec.sizes[z],
                                  "learner": DRAWS, "n_reps": spec.max_reps, "seconds_per_replicate": draw,
                                  "estimated_seconds": draw * spec.max_reps})
        costs = pd.DataFrame(costs)
        self._plan_costs = costs  # the run's progress weighs its replicates by these
        n_tasks = len(spec.tasks())
        n_fits = sum(spec.reps_of(lc) for lc in spec.learners) * len(spec.worlds) * len(spec.scenarios) * len(spec.sizes)
        return SimulationPlan(spec.grid(), n_tasks, n_fits, per_task, float(costs["estimated_seconds"].sum()),
                              costs, {name: w.seconds_to_fit for name, w in self.worlds.items()})

    def run(self, run: RunOptions | None = None, *, tracker: Progress | None = None, task_cost=None,
            work_model: WorkModel | None = None, work_later=None) -> SimulationResult:
        """Run the grid.

        Parameters
        ----------
        run : :class:`~causalsynth.progress.RunOptions`, how the work runs (default:
            ``RunOptions()``, this process, no checkpoint, a bar on a terminal); its settings:

            n_jobs : worker processes (joblib) or LocalCluster workers (dask); results do not
                depend on it.
            backend : "joblib" (local processes; n_jobs=1 runs in this process) or "dask".
            scheduler : with backend="dask": a scheduler address ("tcp://host:8786") or a
                ``dask.distributed.Client``; None starts a LocalCluster with ``n_jobs`` workers.
            checkpoint : folder where finished batches are written as Parquet parts (see
                :mod:`causalsynth.simulate.store`). A run holds the folder's lock while it writes:
                a second run on it is refused (:class:`~causalsynth.errors.CheckpointLockedError`).
            resume : continue the simulation in ``checkpoint`` (only unfinished replicates run). The
                checkpoint must have been written with the same settings: seed, ``n_reps``, worlds
                (their fitted state), grid and package version; otherwise a
                :class:`~causalsynth.errors.CheckpointMismatchError` names what differs.
                ``batch_size`` may differ: it changes neither the rows nor the checkpoint.
            progress : True/False shows/hides the run's bar (None: on a terminal).

        tracker : an open :class:`~causalsynth.progress.Progress` to report finished replicates
            to (work in seconds of one core), instead of a bar of the run's own: a caller that
            runs several simulations (the refits of :func:`generator_uncertainty`) shows one
            time left for all of them. ``task_cost(world, learners)`` gives the expected
            seconds of a replicate of ``world`` fitting the configurations ``learners``
            (default: the pilot timings of :meth:`plan`). The expected cost of the work left is
            re-estimated from the replicates measured so far (:mod:`causalsynth.simulate.costs`),
            in ``work_model`` when given (shared over several runs); ``work_later()`` adds the
            expected seconds of work the caller will run after this run.
        """
        run = as_run_options(run)
        options = {"n_jobs": int(run.n_jobs), "backend": run.backend, "scheduler": run.scheduler,
                   "show": run.progress, "tracker": tracker, "task_cost": task_cost,
                   "work_model": work_model, "work_later": work_later}
        if run.checkpoint is None:
            return self._run(None, pd.DataFrame(), **options)
        store = CheckpointStore(run.checkpoint)
        store.exists()  # a path that is a file is refused before the worlds are hashed
        meta = self._checkpoint_meta()
        with store.writing():  # one writer at a time; the lock goes however the run ends
            store.open(meta, resume=run.resume)
            done_rows = store.read(self.spec) if run.resume else pd.DataFrame()
            return self._run(store, done_rows, **options)

    def _checkpoint_meta(self) -> dict:
        """What a checkpoint records: the settings that decide the rows (see
        :mod:`causalsynth.simulate.fingerprint`; ``batch_size`` is not one) and their hash."""
        spec, seed = self.spec, self._seed
        settings = run_settings(spec, {name: w.dgp for name, w in self.worlds.items()}, seed)
        entropy, spawn_key = seed_parts(seed)
        return {"format": FORMAT, "fingerprint": settings_fingerprint(settings), "settings": settings,
                "version": __version__, "entropy": [entropy, spawn_key],
                "n_reps": spec.n_reps, "worlds": list(spec.worlds), "sizes": list(spec.sizes),
                "scenarios": [s.name for s in spec.scenarios], "batch_size": spec.batch_size,
                "note": "batch_size groups tasks only: it changes neither the rows nor the fingerprint"}

    def _run(self, store: CheckpointStore | None, done_rows: pd.DataFrame, *, n_jobs: int, backend: str,
             scheduler, show, tracker=None, task_cost=None, work_model=None,
             work_later=None) -> SimulationResult:
        spec = self.spec
        entropy = seed_parts(self._seed)
        t0 = time.perf_counter()
        dgps = self._world_dgps()
        done = _done_tasks(spec, done_rows)
        todo = [t for t in spec.tasks() if t not in done]
        parts = [done_rows] if len(done_rows) else []

        def finished(batch, rows):
            if store is not None:
                first = batch[0]
                store.write_part(f"{first.world:03d}-{first.scenario:03d}-{first.size:03d}-{first.rep:06d}", rows)
            parts.append(rows)
        piloted, open_tasks = set(), set(todo)
        for tasks, rows in self._pilot.get(seed_key(self._seed), []):
            if all(t in open_tasks for t in tasks):
                finished(tasks, rows)
                piloted.update(tasks)
                open_tasks.difference_update(tasks)
        # every kind of replicate (world, scenario, n, configurations fitted) spread evenly over
        # the run: the work measured early is a sample of the whole, so the time left is right
        # even where the pilot misjudged one kind. Each task has its own seed: the order changes no row.
        todo = spread(sorted((t for t in todo if t not in piloted), key=lambda t: (t.rep, t.world, t.scenario, t.size)),
                      lambda t: task_kind(spec, t))
        batches = [todo[i:i + spec.batch_size] for i in range(0, len(todo), spec.batch_size)]
        cost = self._task_costs(task_cost)
        kinds = {t: task_kind(spec, t) for t in todo}
        priors = {}
        for t in todo:
            priors.setdefault(kinds[t], cost(t))
        model = work_model or WorkModel(lambda kind: priors.get(kind, 1.0))
        remaining = Counter(kinds.values())
        own = tracker is None
        bar = Progress(len(todo), "replicates", show=show, work=model.left(remaining.items()),
                       work_seconds=True) if own else tracker
        try:
            for batch, rows in execute(dgps, spec, entropy, batches, n_jobs=n_jobs, backend=backend,
                                       scheduler=scheduler):
                finished(batch, rows)
                measured, work = measured_seconds(rows), 0.0
                for t in batch:
                    sec = measured.get((spec.worlds[t.world], spec.scenarios[t.scenario].name, spec.sizes[t.size], t.rep))
                    if sec is not None:
                        model.observe(kinds[t], sec)
                    work += sec if sec is not None else model.expect(kinds[t])
                    remaining[kinds[t]] -= 1
                bar.update(len(batch), work=work)
                # the work left, re-estimated from the replicates measured so far
                bar.expect_left(model.left(remaining.items()) + (work_later() if work_later else 0.0))
        finally:
            if own:
                bar.close()
        reps = _ordered(spec, pd.concat(parts, ignore_index=True) if parts else pd.DataFrame())
        pates = {(w, s.name): population_truth(d, spec.estimand) if spec.estimand != "ate"
                 else float(getattr(d, "population_ate_", np.nan))
                 for w, row in zip(spec.worlds, dgps) for s, d in zip(spec.scenarios, row)}
        return SimulationResult(spec, reps, pates, time.perf_counter() - t0, backend, n_jobs,
                                n_resumed=len(done) + len(piloted), worlds=self.world_table().to_dict(orient="records"),
                                decision_worlds=tuple(self.decision_worlds))


    def _task_costs(self, task_cost=None):
        """Expected cost of a task, for the time left in progress lines: the pilot seconds per
        replicate of the configurations the task still fits (from plan(); 1 each without it),
        or ``task_cost(world name, configuration names)`` when given."""
        spec = self.spec
        if task_cost is not None:
            return lambda t: task_cost(spec.worlds[t.world], tuple(lc.name for lc in spec.learners
                                                                    if t.rep < spec.reps_of(lc)))
        costs = getattr(self, "_plan_costs", None)
        table = {} if costs is None or not len(costs) else {
            (r.world, r.scenario, r.n, r.learner): max(float(r.seconds_per_replicate), 1e-6) for r in costs.itertuples()}

        def cost(t: Task) -> float:
            key = (spec.worlds[t.world], spec.scenarios[t.scenario].name, spec.sizes[t.size])
            return table.get((*key, DRAWS), 0.0) + sum(table.get((*key, lc.name), 1.0) for lc in spec.learners
                                                        if t.rep < spec.reps_of(lc))
        return cost


def task_kind(spec: SimulationSpec, t: Task) -> tuple:
    """What decides a replicate's cost: (world, scenario, n, the configurations it fits)."""
    return (spec.worlds[t.world], spec.scenarios[t.scenario].name, spec.sizes[t.size],
            tuple(lc.name for lc in spec.learners if t.rep < spec.reps_of(lc)))


def _done_tasks(spec: SimulationSpec, done_rows: pd.DataFrame) -> set:
    if not len(done_rows):
        return set()
    w_index = {w: i for i, w in enumerate(spec.worlds)}
    sc_index = {s.name: i for i, s in enumerate(spec.scenarios)}
    sz_index = {n: i for i, n in enumerate(spec.sizes)}
    return {Task(sc_index[r.scenario], sz_index[r.n], int(r.rep), w_index[r.world])
            for r in done_rows[["world", "scenario", "n", "rep"]].drop_duplicates().itertuples()}


def _ordered(spec: SimulationSpec, reps: pd.DataFrame) -> pd.DataFrame:
    """Replicate rows in grid order: world, scenario, n, learner, estimator, rep."""
    keys = {"_w": ("world", list(spec.worlds)), "_s": ("scenario", [s.name for s in spec.scenarios]),
            "_l": ("learner", [c.name for c in spec.learners]), "_e": ("estimator", list(spec.estimators))}
    reps = reps.assign(**{k: reps[col].map({v: i for i, v in enumerate(vals)}) for k, (col, vals) in keys.items()})
    return reps.sort_values(["_w", "_s", "n", "_l", "_e", "rep"]).drop(columns=list(keys)).reset_index(drop=True)


def simulate(dgp, *, worlds=None, estimators=None, n=None, n_reps=200, learners=None,
             options: SimulationOptions | None = None, run: RunOptions | None = None,
             random_state: RandomState = None) -> SimulationResult:
    """Build a :class:`Simulation` and run it: ``options`` (a :class:`SimulationOptions`) holds
    the grid's other settings, ``run`` (a :class:`~causalsynth.progress.RunOptions`) how the work
    runs (see :class:`Simulation` and :meth:`Simulation.run`)."""
    sim = Simulation(dgp, worlds=worlds, estimators=estimators, n=n, n_reps=n_reps, learners=learners,
                     options=options, random_state=random_state)
    return sim.run(run)


def _as_options(options) -> SimulationOptions:
    if options is None:
        return SimulationOptions()
    if not isinstance(options, SimulationOptions):
        raise SpecError(f"options must be a SimulationOptions; got {type(options).__name__}. Build one with "
                        "causalsynth.simulate.SimulationOptions(estimand=..., scenarios=...).")
    return options


def load_result(checkpoint, dgp=None) -> pd.DataFrame:
    """The replicate rows stored in a checkpoint folder (two parts holding one replicate are refused)."""
    store = CheckpointStore(Path(checkpoint))
    if not store.exists():
        raise CheckpointError(f"no checkpoint in {str(checkpoint)!r}: it has no meta.json; pass the folder given "
                              "as checkpoint= to the run")
    store.meta()
    return store.read()
