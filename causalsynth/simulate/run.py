"""Run simulation tasks: in-process, on joblib worker processes, or on a Dask cluster.

Every task's seed is ``SeedSequence(entropy, spawn_key=(scenario, size, rep))`` (with the
world's index appended for every world after the first, so a single-world grid keeps the
streams it always had), so a task gives the same rows wherever and whenever it runs. Batches of tasks stream back to the
main process, which appends each finished batch to the checkpoint.
"""
from __future__ import annotations

import dataclasses
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from .._checks import resolve_bounds
from ..errors import EstimationError, SpecError
from ..estimators import EstimateOptions, estimate_from_nuisance, keep_mask, n_clipped_for
from ..nuisance import fit_nuisance
from ..sample import population_truth
from .spec import SimulationSpec, Task

__all__ = ["apply_knobs", "run_batch", "execute", "task_seed", "ROW_COLUMNS"]

ROW_COLUMNS = ["world", "scenario", "n", "learner", "estimator", "rep", "ate", "std_error", "ci_lower", "ci_upper",
               "mu1", "mu0", "sate", "pate", "sample_mu1", "sample_mu0", "population_mu1", "n_clipped",
               "seconds_draw", "seconds_nuisance", "seconds_estimator", "failed", "error"]


def apply_knobs(dgp, knobs: dict):
    """The data-generating process with a scenario's knob values."""
    if not knobs:
        return dgp
    if hasattr(dgp, "with_knobs"):
        return dgp.with_knobs(**knobs)
    if dataclasses.is_dataclass(dgp):
        fields = {f.name for f in dataclasses.fields(dgp)}
        unknown = sorted(set(knobs) - fields)
        if unknown:
            raise SpecError(f"{type(dgp).__name__} has no knob(s) {unknown}; it has {sorted(fields)}")
        return dataclasses.replace(dgp, **knobs)
    raise SpecError(f"{type(dgp).__name__} does not support scenario knobs (no with_knobs method)")


def task_seed(root, task: Task) -> np.random.SeedSequence:
    """``root`` is (entropy, spawn_key) of the simulation's seed sequence."""
    entropy, key = root
    if not isinstance(entropy, (int, np.integer)):
        entropy = [int(x) for x in entropy]
    world = (task.world,) if task.world else ()
    return np.random.SeedSequence(entropy, spawn_key=(*key, task.scenario, task.size, task.rep, *world))


def _one_task(dgp, spec: SimulationSpec, entropy, task: Task) -> list[dict]:
    scenario = spec.scenarios[task.scenario].name
    n = spec.sizes[task.size]
    draw_seed, est_seed = task_seed(entropy, task).spawn(2)
    base = {"world": spec.worlds[task.world], "scenario": scenario, "n": n, "rep": task.rep}
    # configurations with fewer replicates than the grid stop early; their seeds stay put
    active = [(lc, seed) for lc, seed in zip(spec.learners, est_seed.spawn(len(spec.learners)))
              if task.rep < spec.reps_of(lc)]
    t_draw = time.perf_counter()
    try:
        sample = dgp.sample(n, random_state=draw_seed)
    except Exception as exc:  # a failed draw fails every estimator of the task
        msg = f"data draw failed: {type(exc).__name__}: {exc}"
        return [{**base, "learner": lc.name, "estimator": e, "failed": True, "error": msg}
                for lc, _ in active for e in spec.estimators]
    # the draw's time, spread over the configurations' rows so that sums over rows add up
    draw_share = (time.perf_counter() - t_draw) / max(len(active) * len(spec.estimators), 1)
    common = {**base, **_truths(sample, dgp, spec.estimand), "seconds_draw": draw_share}
    rows = []
    for lc, seed in active:
        rows += _config_rows(sample, spec, lc, seed, common)
    return rows


def _truths(sample, dgp, estimand: str) -> dict:
    """The replicate's truths of the estimand: the population value and the sample value
    (the trimmed estimand's sample value depends on each configuration's trimming: set there)."""
    truth = sample.truth
    if estimand == "ate":
        pate = sample.population_ate if sample.population_ate is not None else getattr(dgp, "population_ate_", np.nan)
        sate = sample.sate
    else:
        pate = population_truth(dgp, estimand)
        sate = sample.truth_of(estimand) if estimand != "trimmed" else np.nan
    return {"sate": sate, "pate": pate, "sample_mu1": float(truth["mu1"].mean()),
            "sample_mu0": float(truth["mu0"].mean()), "population_mu1": float(getattr(dgp, "population_mu1_", np.nan))}


def _config_rows(sample, spec: SimulationSpec, lc, seed, common: dict) -> list[dict]:
    """Fit one learner configuration's nuisances on the replicate and run every estimator."""
    data = sample.data
    nuis_seed, dml_seed = seed.spawn(2)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_nuisance(data, propensity=lc.propensity, outcome=lc.outcome, n_folds=lc.n_folds,
                               random_state=nuis_seed)
            lo, hi = resolve_bounds(spec.bounds_of(lc), data.n_obs)
            keep, trim = keep_mask(fit.propensity, data.a, spec.estimand, spec.trim_bounds)
    except Exception as exc:
        msg = f"nuisance fit failed: {type(exc).__name__}: {exc}"
        return [{**common, "learner": lc.name, "estimator": e, "failed": True, "error": msg} for e in spec.estimators]
    t_fit = time.perf_counter() - t0
    here = dict(common)
    if keep is not None:  # the trimmed estimand: its truth is the mean CATE over the kept rows
        here["sate"] = here["pate"] = sample.truth_of("trimmed", keep)
    n_clipped = n_clipped_for(fit.propensity, lo, hi, spec.estimand)
    options = EstimateOptions(trim_bounds=trim)
    rows = []
    for name in spec.estimators:  # one at a time: each estimator's time and failure are its own
        t1 = time.perf_counter()
        row = {**here, "learner": lc.name, "estimator": name, "n_clipped": n_clipped,
               "seconds_nuisance": t_fit, "failed": False, "error": ""}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = estimate_from_nuisance(data, fit, (name,), estimand=spec.estimand, level=spec.level,
                                             propensity_bounds=(lo, hi), options=options, random_state=dml_seed)
            est, ci = res.row(name), res.conf_int().loc[name]
            if not (np.isfinite(est.ate) and np.isfinite(est.std_error)):
                raise EstimationError("non-finite estimate or standard error")
            row.update(ate=est.ate, std_error=est.std_error, ci_lower=ci["ci_lower"], ci_upper=ci["ci_upper"],
                       mu1=est.mu1, mu0=est.mu0)
        except Exception as exc:
            row.update(failed=True, error=f"{type(exc).__name__}: {exc}")
        row["seconds_estimator"] = time.perf_counter() - t1
        rows.append(row)
    return rows


def run_batch(dgps: Sequence, spec: SimulationSpec, entropy, tasks: Sequence[Task],
              limit_threads: bool = False) -> pd.DataFrame:
    """Run a batch of tasks and return their replicate rows (one per learner x estimator)."""
    if limit_threads:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1):
            return run_batch(dgps, spec, entropy, tasks, limit_threads=False)
    rows = []
    for task in tasks:
        try:
            rows += _one_task(dgps[task.world][task.scenario], spec, entropy, task)
        except Exception as exc:  # pragma: no cover - defensive: never lose the batch
            msg = f"internal error: {type(exc).__name__}: {exc} | {traceback.format_exc(limit=2)}"
            rows += [{"world": spec.worlds[task.world], "scenario": spec.scenarios[task.scenario].name,
                      "n": spec.sizes[task.size], "rep": task.rep, "learner": lc.name, "estimator": e,
                      "failed": True, "error": msg}
                     for lc in spec.learners if task.rep < spec.reps_of(lc) for e in spec.estimators]
    frame = pd.DataFrame(rows)
    for col in ROW_COLUMNS:
        if col not in frame:
            frame[col] = np.nan if col not in ("failed", "error") else (True if col == "failed" else "")
    frame["failed"] = frame["failed"].astype(bool)
    frame["error"] = frame["error"].fillna("").astype(str)
    return frame[ROW_COLUMNS]


def execute(dgps, spec: SimulationSpec, entropy, batches: list[list[Task]], *, n_jobs: int = 1,
            backend: str = "joblib", scheduler=None) -> Iterator[tuple[list[Task], pd.DataFrame]]:
    """Yield (batch, rows) as batches finish, in any order."""
    if not batches:
        return
    if backend == "dask":
        yield from _execute_dask(dgps, spec, entropy, batches, n_jobs=n_jobs, scheduler=scheduler)
        return
    if n_jobs == 1:
        for batch in batches:
            yield batch, run_batch(dgps, spec, entropy, batch)
        return
    from joblib import Parallel, delayed
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", backend="loky")
    results = parallel(delayed(_tagged)(dgps, spec, entropy, i, batch) for i, batch in enumerate(batches))
    for i, rows in results:
        yield batches[i], rows


def _tagged(dgps, spec, entropy, i, batch):
    return i, run_batch(dgps, spec, entropy, batch, limit_threads=True)


def _execute_dask(dgps, spec, entropy, batches, *, n_jobs, scheduler):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise SpecError("backend='dask' needs dask.distributed: pip install 'causalsynth[distributed]'") from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, n_jobs), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    elif hasattr(scheduler, "submit"):
        client = scheduler  # an existing Client
    else:
        client = Client(scheduler)
    try:
        shared = client.scatter(list(dgps), broadcast=True)
        futures = {client.submit(run_batch, shared, spec, entropy, batch, True, pure=False): i
                   for i, batch in enumerate(batches)}
        for fut in as_completed(futures):
            yield batches[futures[fut]], fut.result()
    finally:
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()
