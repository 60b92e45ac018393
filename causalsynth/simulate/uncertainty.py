"""Uncertainty about the worlds themselves: does the recommendation survive refitting them?

A simulation on worlds fitted to the real data answers "which estimator wins on *these*
worlds". The worlds are themselves estimates from the real data. Refitting every world on
bootstrap resamples of the real rows (within each arm) and rerunning the candidates on each
refit shows whether the choice is a property of data like the user's or an accident of one
fit. The refits are also extra worlds: the **robust choice** minimises the worst regret over
the original deciding worlds and all their refits (the rule of
:mod:`causalsynth.simulate.recommend`), and is what ``causalsynth simulate`` and ``demo``
report on the real data when the original choice does not survive.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._checks import check_int
from .._random import RandomState, as_seed_sequence
from .._resample import bootstrap_within_arms
from ..data import CausalData, check_data
from ..errors import SpecError
from ..progress import Progress, RunOptions, as_run_options
from ..report.render import SummaryView, View
from .costs import WorkModel
from .simulation import Simulation, task_kind
from .options import SimulationOptions
from .spec import SimulationSpec

__all__ = ["GeneratorUncertainty", "generator_uncertainty", "world_p_best", "RefitOptions"]


@dataclass(frozen=True, kw_only=True)
class RefitOptions:
    """How the worlds are refitted on bootstrap resamples of the real data.

    n_refits : bootstrap refits of the worlds (:func:`generator_uncertainty` needs at least 2;
        :func:`~causalsynth.simulate.select_estimator` runs none below 2).
    n_reps : replicates per world on each refit.
    recipe : the :class:`~causalsynth.simulate.worlds.WorldRecipe` every refit is fitted with
        (None: ``WorldRecipe()``, copula covariates, calibrated).
    options : the :class:`~causalsynth.simulate.SimulationOptions` of every refit's
        simulation (estimand, bounds, level). None: those of the ``original`` result passed to
        :func:`generator_uncertainty` (so the refits check the simulation they refit), else
        the defaults.
    """

    n_refits: int = 3
    n_reps: int = 100
    recipe: Any = None
    options: Any = None

    def __post_init__(self) -> None:
        from .worlds import WorldRecipe
        object.__setattr__(self, "n_refits", check_int("n_refits", self.n_refits, 0))
        object.__setattr__(self, "n_reps", check_int("n_reps", self.n_reps, 1))
        if self.options is not None and not isinstance(self.options, SimulationOptions):
            raise SpecError(f"RefitOptions: options must be a SimulationOptions; got {type(self.options).__name__}")
        if self.recipe is not None and not isinstance(self.recipe, WorldRecipe):
            raise SpecError(f"RefitOptions: recipe must be a WorldRecipe; got {type(self.recipe).__name__}. "
                            "Build one with WorldRecipe.of(generator, ...).")


@dataclass(frozen=True)
class GeneratorUncertainty(SummaryView):
    """Every configuration's performance on each refit of the worlds, and how often each wins.

    ``table``: generator ("original", "refit 1", ...), world, learner, estimator, rmse,
    regret, coverage, unfit. ``choices``: the recommendation on each generator.
    """

    table: pd.DataFrame = field(repr=False)
    choices: pd.DataFrame = field(repr=False)  # generator, learner, estimator
    original_best: tuple[str, str] = ("", "")
    robust_choice: tuple[str, str] | None = None
    deciding: tuple = ()
    recipes: tuple = ()  # the WorldRecipe each refit's worlds were fitted with
    p_best: pd.DataFrame | None = field(default=None, repr=False)  # generator, learner, estimator, p_best, p_best_worlds

    def ensemble_p_best(self) -> dict:
        """P(best) of each configuration over the ensemble of worlds: every (deciding world x
        generator) member weighs the same (the original fit and every refit; flexible,
        placebo, ...), and within a member the share of replicate-bootstrap resamples in which
        the configuration has the lowest RMSE (:func:`world_p_best`). It carries the Monte
        Carlo noise, the disagreement between world families and the uncertainty of the
        fitted worlds."""
        if self.p_best is None or not len(self.p_best):
            return {}
        col = "p_best_worlds" if "p_best_worlds" in self.p_best else "p_best"
        wide = self.p_best.pivot_table(index="generator", columns=["learner", "estimator"], values=col,
                                       aggfunc="first").fillna(0.0)
        return {tuple(k): float(v) for k, v in wide.mean(axis=0).items()}

    @property
    def winners(self) -> pd.DataFrame:
        refits = self.choices[self.choices["generator"] != "original"]
        share = refits.groupby(["learner", "estimator"]).size() / max(len(refits), 1)
        methods = self.table[["learner", "estimator"]].drop_duplicates()
        return methods.merge(share.rename("share_best").reset_index(), how="left").fillna({"share_best": 0.0})

    @property
    def survival(self) -> float:
        """Share of refits on which the original choice is chosen again."""
        w = self.winners.set_index(["learner", "estimator"])["share_best"]
        return float(w.get(self.original_best, 0.0))

    @property
    def verdict(self) -> str:
        return ("survives" if self.survival >= 0.7 else "fragile" if self.survival >= 0.4 else "does not survive")

    def summary(self) -> pd.DataFrame:
        t = self.table[self.table["world"].isin(self.deciding)]
        agg = (t.groupby(["learner", "estimator"], sort=False)
               .agg(worst_regret=("regret", "max"), mean_regret=("regret", "mean"), rmse_mean=("rmse", "mean"),
                    rmse_sd=("rmse", "std"), unfit_worlds=("unfit", "sum")).reset_index())
        return agg.merge(self.winners, on=["learner", "estimator"]).sort_values(["unfit_worlds", "worst_regret"])

    def _view(self) -> View:
        """``print(uncertainty)``: the verdict in words, then summary()."""
        lrn, est = self.original_best
        n_gen = self.choices["generator"].nunique() - 1
        text = [f"Generator uncertainty over {n_gen} bootstrap refits of the worlds ({', '.join(self.deciding)}): "
                f"{est.upper()} ('{lrn}'), chosen on the original fit, is chosen again on "
                f"{100 * self.survival:.0f}% of refits: the recommendation "
                f"{'is fragile' if self.verdict == 'fragile' else self.verdict}."]
        if self.robust_choice is not None and self.robust_choice != self.original_best:
            r_lrn, r_est = self.robust_choice
            text.append(f"Across the original worlds and every refit, {r_est.upper()} ('{r_lrn}') has the least "
                        "worst-case regret: it is the robust choice.")
        elif self.robust_choice is not None:
            text.append("It also has the least worst-case regret across the original worlds and every refit.")
        return View(" ".join(text), (self.summary(),), float_format=".4g")

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        return json_safe({"original_best": list(self.original_best), "survival": self.survival,
                          "verdict": self.verdict, "robust_choice": list(self.robust_choice or ()),
                          "summary": self.summary(), "per_generator": self.table, "choices": self.choices})


def world_p_best(rec) -> dict:
    """P(best) over the deciding worlds as an ensemble of equally plausible laws: per
    configuration, the mean over the deciding worlds of the share of replicate-bootstrap
    resamples in which it has the lowest RMSE in that world (``p_best_world``). Unlike the
    recommendation's own P(best) (how often the worst-regret rule picks it again, which stays
    high when the worlds disagree but one configuration is never far from the best), this is
    the chance that it is the lowest-RMSE configuration on a law drawn from the ensemble."""
    t = rec.table
    if t is None or not len(t):
        return {}
    t = t[t["decides"]]
    return {(k[0], k[1]): float(v) for k, v in
            t.groupby(["learner", "estimator"], sort=False)["p_best_world"].mean().fillna(0.0).items()}


def _resample(data: CausalData, rng: np.random.Generator) -> CausalData:
    return data.subset(np.sort(bootstrap_within_arms(data.a, rng, order=(1, 0))))


def _collect(label: str, result, rows: list, choices: list, p_best: list | None = None,
             allowance: dict | None = None) -> None:
    rec = result.recommendation(coverage_allowance=allowance)
    if p_best is not None and len(rec.scores):
        members = world_p_best(rec)
        for r in rec.scores.itertuples():
            p_best.append({"generator": label, "learner": r.learner, "estimator": r.estimator, "p_best": r.p_best,
                           "p_best_worlds": members.get((r.learner, r.estimator), 0.0)})
    for r in rec.table.itertuples():
        rows.append({"generator": label, "world": r.world, "learner": r.learner, "estimator": r.estimator,
                     "rmse": r.rmse, "regret": r.regret, "coverage": r.coverage, "unfit": bool(r.unfit)})
    if rec.choice is not None:
        choices.append({"generator": label, "learner": rec.choice[0], "estimator": rec.choice[1]})


def _robust_choice(table: pd.DataFrame, deciding) -> tuple | None:
    t = table[table["world"].isin(deciding)]
    if not len(t):
        return None
    agg = t.groupby(["learner", "estimator"], sort=False).agg(unfit=("unfit", "sum"), worst=("regret", "max"))
    agg = agg[np.isfinite(agg["worst"])]
    if not len(agg):
        return None
    return tuple(agg.sort_values(["unfit", "worst"], kind="stable").index[0])


def _options_of(original) -> SimulationOptions | None:
    """The estimand, bounds and level of the simulation ``original`` (None: the defaults)."""
    if original is None:
        return None
    spec = original.spec
    return SimulationOptions(estimand=spec.estimand, trim_bounds=spec.trim_bounds,
                             propensity_bounds=spec.propensity_bounds, level=spec.level)


def generator_uncertainty(data: CausalData, *, worlds: Any = ("flexible", "placebo"),
                          estimators=None, learners=None, n=None,
                          refits: RefitOptions | None = None, run: RunOptions | None = None,
                          random_state: RandomState = None, original=None,
                          coverage_allowance: dict | None = None) -> GeneratorUncertainty:
    """Refit the worlds on ``refits.n_refits`` bootstrap resamples of ``data``, simulate the
    candidates on each, and report how stable the recommendation is.

    Parameters
    ----------
    worlds : world names (fitted to each resample) of the simulation being checked, or an
        unfitted synthesizer template (cloned and fitted on each resample: one world, "given").
    learners : the candidate configurations (use the recommended one and its rivals).
    refits : :class:`RefitOptions`: how many refits, their replicates per world and the
        :class:`~causalsynth.simulate.worlds.WorldRecipe` every refit is fitted with
        (default ``RefitOptions()``: 3 refits of 100 replicates, copula covariates).
    run : :class:`~causalsynth.progress.RunOptions`: workers and the progress bar.
    original : the SimulationResult on the full data (computed here when None); only its
        configurations in ``learners`` are compared.
    coverage_allowance : passed to each recommendation (see
        :func:`~causalsynth.simulate.recommend.recommend`).
    """
    from .worlds import WorldRecipe, build_worlds
    refits = RefitOptions() if refits is None else refits
    if not isinstance(refits, RefitOptions):
        raise SpecError(f"refits must be a RefitOptions; got {type(refits).__name__}. Build one with "
                        "causalsynth.simulate.RefitOptions(n_refits=3, n_reps=100).")
    run = as_run_options(run)
    recipe = WorldRecipe() if refits.recipe is None else refits.recipe
    n_refits, n_reps = refits.n_refits, refits.n_reps
    check_data(data)
    check_int("n_refits", n_refits, 2)
    synthesizer = worlds if callable(getattr(worlds, "fit", None)) else None
    n = data.n_obs if n is None else n
    ss = as_seed_sequence(random_state)
    fit_seed, sim_seed, boot_seed = ss.spawn(3)
    options = refits.options if refits.options is not None else _options_of(original)
    kw = dict(estimators=estimators, n=n, n_reps=n_reps, learners=learners, options=options)
    quiet = RunOptions(n_jobs=run.n_jobs, backend=run.backend, scheduler=run.scheduler, progress=False)

    world_names = [] if synthesizer is not None else [worlds] if isinstance(worlds, str) else list(worlds)
    used = []

    def world_spec(frame: CausalData, seed):
        if synthesizer is None:
            built = build_worlds(frame, world_names, recipe=recipe, random_state=seed)
            used.append(recipe)
            return built, None, seed
        return clone(synthesizer).set_params(random_state=seed).fit(frame), None, seed

    if original is None:
        source, w, seed = world_spec(data, fit_seed)
        original = Simulation(source, worlds=w, random_state=sim_seed if synthesizer is not None else seed,
                              **kw).run(quiet)
    names = {c.name for c in SimulationSpec.build(learners=learners).learners}
    keep = original.replicates["learner"].isin(names)
    original = _restricted(original, keep)
    rows, choices, p_best = [], [], []
    _collect("original", original, rows, choices, p_best, coverage_allowance)
    rng = np.random.default_rng(boot_seed)
    fit_cost, task_cost = _refit_costs(original)
    kind_worlds = ("given",) if synthesizer is not None else tuple(world_names)
    spec = SimulationSpec.build(estimators=estimators, n=n, n_reps=n_reps, learners=learners, worlds=kind_worlds,
                                **({} if options is None else {"estimand": options.estimand}))
    refit_kinds = Counter(task_kind(spec, t) for t in spec.tasks())
    fits = Counter(("fit", w) for w in kind_worlds)
    # one time left for all the refits: world fits (in this process) and replicates (on the
    # workers), first from their cost in the original simulation, then as measured here
    model = WorkModel(lambda kind: fit_cost(kind[1]) if kind[0] == "fit" else task_cost(kind[0], kind[3]))

    def per_refit() -> float:
        return model.left(fits.items()) + model.left(refit_kinds.items())
    with Progress(n_refits * (len(kind_worlds) + len(spec.tasks())), "refit units (world fits and replicates)",
                  show=run.progress, work=n_refits * per_refit(), work_seconds=True) as bar:
        for g, child in enumerate(boot_seed.spawn(n_refits)):
            f_seed, s_seed = child.spawn(2)
            source, w, seed = world_spec(_resample(data, rng), f_seed)
            sim = Simulation(source, worlds=w, random_state=s_seed, **kw)
            later = n_refits - g - 1
            for name, world in sim.worlds.items():
                sec = world.seconds_to_fit if np.isfinite(world.seconds_to_fit) else fit_cost(name)
                model.observe(("fit", name), sec)
            bar.update(len(sim.worlds), work=sum(world.seconds_to_fit for world in sim.worlds.values()
                                                 if np.isfinite(world.seconds_to_fit)))
            result = sim.run(quiet, tracker=bar, task_cost=task_cost,
                             work_model=model, work_later=lambda: later * per_refit())
            _collect(f"refit {g + 1}", result, rows, choices, p_best, coverage_allowance)
    table, choices = pd.DataFrame(rows), pd.DataFrame(choices, columns=["generator", "learner", "estimator"])
    first = choices[choices["generator"] == "original"]
    best = (first["learner"].iloc[0], first["estimator"].iloc[0]) if len(first) else ("", "")
    deciding = tuple(original.decision_worlds) or tuple(dict.fromkeys(table["world"]))
    return GeneratorUncertainty(table, choices, best, _robust_choice(table, deciding), deciding,
                                tuple(used), pd.DataFrame(p_best, columns=["generator", "learner", "estimator", "p_best", "p_best_worlds"]))


def _refit_costs(original):
    """Expected seconds of one core, from the original simulation: of fitting a world
    (``fit_cost(world)``) and of one replicate of a world fitting some configurations
    (``task_cost(world, learners)``: drawing it plus the configurations' fits and estimators)."""
    reps = original.replicates
    fits = {r.get("world"): float(r.get("fit_seconds", 0.0) or 0.0) for r in (original.worlds or [])}
    cols = {"seconds_draw", "seconds_nuisance", "seconds_estimator"}
    draw, fit = {}, {}
    if len(reps) and cols <= set(reps.columns):
        # each row holds a share of its replicate's draw
        draw = reps.groupby(["world", "scenario", "n", "rep"])["seconds_draw"].sum().groupby("world").mean().to_dict()
        per = reps.groupby(["world", "learner", "scenario", "n", "rep"]).agg(
            nuisance=("seconds_nuisance", "first"), estimator=("seconds_estimator", "sum"))
        fit = (per["nuisance"].fillna(0) + per["estimator"].fillna(0)).groupby(["world", "learner"]).mean().to_dict()
    mean_fit = {}
    for (w, lc), sec in fit.items():
        mean_fit.setdefault(lc, []).append(sec)
    mean_fit = {lc: float(np.mean(v)) for lc, v in mean_fit.items()}
    mean_draw = float(np.mean(list(draw.values()))) if draw else 0.0

    def fit_cost(world: str) -> float:
        sec = fits.get(world, 0.0)
        return sec if np.isfinite(sec) else 0.0

    def task_cost(world: str, learners: tuple) -> float:
        return float(np.nan_to_num(draw.get(world, mean_draw))) + sum(
            float(np.nan_to_num(fit.get((world, lc), mean_fit.get(lc, 1.0)))) for lc in learners)
    return fit_cost, task_cost


def _restricted(result, keep):
    import dataclasses
    return dataclasses.replace(result, replicates=result.replicates[keep].reset_index(drop=True))
