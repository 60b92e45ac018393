r"""The whole selection workflow as one call: :func:`select_estimator` -> :class:`Selection`.

1. fit the worlds to the real data with one :class:`~causalsynth.simulate.worlds.WorldRecipe`
   (calibrated to the data's overlap and noise), and measure each world's fidelity against
   the data (:mod:`causalsynth.simulate.difficulty`): worlds materially easier or noisier
   than the data are warned about and judge coverage against a lower level
   (:data:`COVERAGE_ALLOWANCE`);
2. simulate every candidate in every world and recommend (:mod:`~causalsynth.simulate.recommend`);
3. refit the deciding worlds on bootstrap resamples of the real data *with the same recipe
   object* and rerun the choice and its runner-up: P(best) over this ensemble of worlds
   carries the uncertainty of the worlds as well as the Monte Carlo noise. When no
   configuration is reliably best (ensemble P(best) below :data:`RELIABLE`), the selection
   says so and names the defensible set (P(best) at least :data:`DEFENSIBLE`);
4. estimate the real effect with the chosen configuration (the robust choice across refits
   when the original one does not survive them).

The command line's ``simulate`` and ``demo`` call this and only print.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..estimators import select_estimators
from .._random import RandomState, as_seed_sequence, child_seed
from ..data import CausalData, check_data
from .._checks import check_int
from ..errors import SpecError
from ..progress import RunOptions, as_run_options
from ..report.render import View, view_html
from .options import SimulationOptions

__all__ = ["Selection", "SelectionOptions", "select_estimator", "COVERAGE_ALLOWANCE", "RELIABLE", "DEFENSIBLE"]

#: How far below the nominal level coverage may fall in a world flagged by the fidelity check.
COVERAGE_ALLOWANCE = 0.10
#: Ensemble P(best) from which the choice is called reliable.
RELIABLE = 0.6
#: Ensemble P(best) from which a configuration belongs to the defensible set.
DEFENSIBLE = 0.1


def _quiet(*_a) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class SelectionOptions:
    """How :func:`select_estimator` fits its worlds, checks them and reports (issue 19).

    recipe : the :class:`~causalsynth.simulate.worlds.WorldRecipe` of the worlds and of every
        refit (None: ``WorldRecipe()``, copula covariates, calibrated).
    n_refits : bootstrap refits of the deciding worlds (below 2: none); ``refit_reps`` their
        replicates per world.
    privacy_check : measure the distance to closest record of the hybrid world's covariates
        (with a recipe holding out real rows).
    estimate_real : estimate the effect on the real data with the chosen configuration.
    fidelity_n : size of each world's sample in the fidelity table.
    say, show : callables for progress lines and results (the command line prints with them);
        ``on_plan(simulation)`` is called before the run (the command line prints the plan and
        its ETA there).
    """

    recipe: Any = None
    n_refits: int = 3
    refit_reps: int = 50
    privacy_check: bool = False
    estimate_real: bool = True
    fidelity_n: int = 10_000
    say: Callable = _quiet
    show: Callable = _quiet
    on_plan: Callable | None = None

    def __post_init__(self) -> None:
        from .worlds import WorldRecipe
        if self.recipe is not None and not isinstance(self.recipe, WorldRecipe):
            raise SpecError(f"SelectionOptions: recipe must be a WorldRecipe; got {type(self.recipe).__name__}. "
                            "Build one with WorldRecipe.of(generator, ...).")
        object.__setattr__(self, "n_refits", check_int("n_refits", self.n_refits, 0))
        object.__setattr__(self, "refit_reps", check_int("refit_reps", self.refit_reps, 1))
        object.__setattr__(self, "fidelity_n", check_int("fidelity_n", self.fidelity_n, 100))
        for name in ("say", "show", "on_plan"):
            value = getattr(self, name)
            if not callable(value) and not (name == "on_plan" and value is None):
                raise SpecError(f"SelectionOptions: {name} must be a callable; got {type(value).__name__}")


@dataclass(frozen=True)
class Selection:
    """The outcome of :func:`select_estimator`.

    choice : (learner, estimator) used on the real data; ``why`` says how it was chosen.
    p_best : the choice's P(best) over the ensemble of worlds: the share of (deciding world x
        fit of the worlds x replicate-bootstrap resample) members in which it has the lowest
        RMSE; ``p_best_all`` the same for every configuration; ``recommendation.p_best`` is
        the older, narrower figure (how often the worst-regret rule picks it again on
        resampled replicates); ``reliable`` whether it reaches
        :data:`RELIABLE`; ``defensible`` the configurations with P(best) >= :data:`DEFENSIBLE`.
    fidelity : real data vs each world (see :mod:`causalsynth.simulate.difficulty`);
        ``fidelity_issues`` the material differences (also warned).
    """

    choice: tuple
    why: str
    p_best: float
    p_best_all: dict
    reliable: bool
    defensible: tuple
    recommendation: Any = field(repr=False)
    result: Any = field(repr=False)
    worlds: dict = field(repr=False)
    recipe: Any = None
    fidelity: pd.DataFrame = field(default=None, repr=False)
    fidelity_issues: tuple = ()
    uncertainty: Any = field(default=None, repr=False)
    real_estimate: Any = field(default=None, repr=False)
    caveats: tuple = ()
    dcr: Any = field(default=None, repr=False)
    plan: Any = field(default=None, repr=False)
    seconds: float = float("nan")

    @property
    def config(self):
        """The chosen configuration's learner settings."""
        return {c.name: c for c in self.result.spec.learners}[self.choice[0]]

    def _name(self, m) -> str:
        return f"{m[1].upper()} ('{m[0]}')"

    def verdict(self) -> str:
        if self.reliable:
            return (f"{self._name(self.choice)} is reliably best: P(best) {self.p_best:.2f}, the share of the "
                    "ensemble of worlds (deciding worlds x refits x replicate resamples) in which it has the lowest RMSE.")
        text = (f"No configuration is reliably best (the choice {self._name(self.choice)} has the lowest RMSE in a "
                f"share {self.p_best:.2f} of the ensemble of worlds: deciding worlds x refits x replicate "
                "resamples); the defensible set (P(best) at least "
                f"{DEFENSIBLE:g}) is "
                + ", ".join(f"{self._name(m)} {self.p_best_all.get(m, 0):.2f}" for m in self.defensible) + ".")
        if self.p_best < DEFENSIBLE and self.p_best_all:
            top = max(self.p_best_all, key=lambda m: self.p_best_all[m])
            text += (f" The choice is kept for the coverage of its intervals, not for its RMSE (see the configurations "
                     f"excluded as unfit); by RMSE alone the likeliest best is {self._name(top)}.")
        return text

    def fidelity_text(self) -> str:
        if self.fidelity is None:
            return ""
        t = self.fidelity.set_index("source").T
        text = "World fidelity (real data: cross-fitted estimates; worlds: known values on a large sample):\n"
        text += t.to_string(float_format=lambda v: f"{v:.3g}")
        if self.fidelity_issues:
            text += "\n" + "\n".join("  warning: " + i["message"] for i in self.fidelity_issues)
        return text

    def summary(self) -> pd.DataFrame:
        """One row per configuration (learner, estimator): P(best) over the ensemble of worlds
        (original fit and refits), whether it is in the defensible set and whether it is the choice."""
        rows = [{"learner": m[0], "estimator": m[1], "p_best": p, "defensible": m in self.defensible,
                 "chosen": m == self.choice} for m, p in self.p_best_all.items()]
        out = pd.DataFrame(rows, columns=["learner", "estimator", "p_best", "defensible", "chosen"])
        return out.sort_values("p_best", ascending=False, kind="stable").reset_index(drop=True)

    def _repr_html_(self) -> str:
        lines = str(self).split("\n\n")[0].splitlines()
        return view_html(View(lines[0], (self.summary(),), tuple(lines[1:]), notes=(self.fidelity_text(),)))

    def __str__(self) -> str:
        """The selection in sentences and the world-fidelity table (summary() has P(best) per configuration)."""
        lines = [str(self.recommendation), self.verdict()]
        if self.real_estimate is not None:
            row = self.real_estimate.summary().iloc[0]
            lines.append(f"Real data, {self.why} {self._name(self.choice)}: {self.real_estimate.estimand_label} "
                         f"{row['ate']:.3f} (95% CI {row['ci_lower']:.3f} to {row['ci_upper']:.3f}).")
        lines += ["Caveat: " + c for c in self.caveats]
        return "\n".join(lines) + "\n\n" + self.fidelity_text()

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        return json_safe({
            "choice": {"learner": self.choice[0], "estimator": self.choice[1], "why": self.why},
            "p_best": self.p_best, "reliable": self.reliable, "verdict": self.verdict(),
            "p_best_rule": self.recommendation.p_best if self.recommendation is not None else None,
            "p_best_ensemble": [{"learner": k[0], "estimator": k[1], "p_best": v} for k, v in self.p_best_all.items()],
            "defensible": [list(m) for m in self.defensible], "recipe": repr(self.recipe),
            "fidelity": self.fidelity, "fidelity_issues": list(self.fidelity_issues), "caveats": list(self.caveats),
            "recommendation": self.recommendation.to_dict() if self.recommendation is not None else None,
            "generator_uncertainty": self.uncertainty.to_dict() if self.uncertainty is not None else None,
            "real_estimate": self.real_estimate.to_dict() if self.real_estimate is not None else None,
            "seconds": self.seconds})


def _final_choice(rec, unc, say):
    """The recommendation, or the robust choice when it does not survive the refits."""
    choice, why = rec.choice, "recommended"
    if unc is None or unc.verdict != "does not survive" or not unc.robust_choice:
        return choice, why
    if tuple(unc.robust_choice) == tuple(rec.choice):
        say("      the recommendation is rarely chosen again on the refits of the worlds, but it keeps the least "
            "worst-case regret across the original worlds and every refit: it is kept (a fragile lead)")
        return choice, "recommended (fragile across refits of the worlds)"
    say(f"      the recommendation does not survive refitting the worlds: the real estimate uses the robust choice "
        f"{unc.robust_choice[1].upper()} ('{unc.robust_choice[0]}')")
    return tuple(unc.robust_choice), "robust across refits of the worlds"


def _real_estimate(data, result, rec, choice, seed):
    from ..estimators import EstimateOptions, estimate
    cfg = {c.name: c for c in result.spec.learners}[choice[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = estimate(data, estimators=(choice[1],), propensity=cfg.propensity, outcome=cfg.outcome,
                        n_folds=cfg.n_folds, estimand=result.spec.estimand,
                        options=EstimateOptions(trim_bounds=result.spec.trim_bounds),
                        propensity_bounds=result.spec.bounds_of(cfg), random_state=seed)
    mine = rec.table[(rec.table["learner"] == choice[0]) & (rec.table["estimator"] == choice[1]) & rec.table["decides"]]
    caveats = []
    if mine["unfit"].any():
        caveats.append("its intervals under-covered significantly in the simulation (in "
                       f"{', '.join(mine.loc[mine['unfit'], 'world'])}): do not read this interval at face value.")
    if real.overlap and not real.overlap["intervals_trusted"]:
        from ..estimators import untrusted_message
        caveats.append(str(untrusted_message(real.overlap, real.estimand)))
    elif real.n_clipped:
        lo, hi = real.propensity_bounds
        caveats.append(f"{real.n_clipped} real units had propensities clipped to [{lo:.3g}, {hi:.3g}]: see "
                       "the positivity section of the report (causalsynth diagnose) for where overlap fails.")
    return real, caveats


def _ensemble(rec, unc) -> dict:
    """P(best) of every configuration over the ensemble: deciding worlds x refits x replicate
    bootstrap (see :func:`~causalsynth.simulate.uncertainty.world_p_best`)."""
    from .uncertainty import world_p_best
    own = world_p_best(rec)
    own = {(r.learner, r.estimator): own.get((r.learner, r.estimator), 0.0) for r in rec.scores.itertuples()}
    if unc is None:
        return own
    ens = unc.ensemble_p_best()
    return {m: ens.get(m, 0.0) for m in own} if ens else own


def select_estimator(data: CausalData, *, worlds=("flexible", "glm", "gbm", "placebo"),
                     estimators=None, learners=None, n: int | None = None,
                     n_reps: int = 200, options: SimulationOptions | None = None,
                     select: SelectionOptions | None = None, run: RunOptions | None = None,
                     random_state: RandomState = None) -> Selection:
    """Choose an estimator configuration for ``data`` (see the module notes) and return the
    :class:`Selection`.

    ``options`` : a :class:`~causalsynth.simulate.SimulationOptions` for the simulation
    (``estimand``, ``trim_bounds``, ``propensity_bounds``, ``level``, ``scenarios``,
    ``batch_size``); the worlds' covariate generator is the recipe's, not ``options.generator``.
    ``select`` : a :class:`SelectionOptions`: the world recipe (default: copula covariates,
    calibrated; the worlds and every refit are fitted with this one object), the refits
    (``n_refits``, ``refit_reps``), the privacy check, the real estimate, the fidelity sample
    and the ``say``/``show``/``on_plan`` callbacks. ``run`` : a
    :class:`~causalsynth.progress.RunOptions` (workers, backend, checkpoint of the simulation;
    None: this process). ``random_state`` an int seeds everything.
    """
    from .difficulty import check_fidelity, data_difficulty, fidelity_table
    from .simulation import Simulation
    from .uncertainty import RefitOptions, generator_uncertainty
    from .worlds import WorldRecipe, build_worlds
    select = SelectionOptions() if select is None else select
    if not isinstance(select, SelectionOptions):
        raise SpecError(f"select must be a SelectionOptions; got {type(select).__name__}. Build one with "
                        "causalsynth.simulate.SelectionOptions(n_refits=3, ...).")
    options = SimulationOptions() if options is None else options
    if not isinstance(options, SimulationOptions):
        raise SpecError(f"options must be a SimulationOptions; got {type(options).__name__}. Build one with "
                        "causalsynth.simulate.SimulationOptions(estimand=..., propensity_bounds=...).")
    select_estimators(estimators, options.estimand)  # refuse a panel the estimand excludes before any fit
    recipe, say, show, on_plan = select.recipe, select.say, select.show, select.on_plan
    generators, refit_reps = select.n_refits, select.refit_reps
    check_data(data)
    run = as_run_options(run)
    t0 = time.perf_counter()
    recipe = WorldRecipe() if recipe is None else recipe
    names = [worlds] if isinstance(worlds, str) else list(worlds)
    seed = random_state if isinstance(random_state, (int, np.integer)) else None
    ss = as_seed_sequence(random_state)
    seed_worlds = seed if seed is not None else child_seed(ss, 1)
    real_diff = data_difficulty(data, random_state=child_seed(ss, 0x3021D, 99) if seed is None else seed)
    built = {}
    for name in names:  # one at a time: each world has its own seed stream, so the same worlds
        built.update(build_worlds(data, [name], recipe=recipe, real=real_diff, random_state=seed_worlds))
        say(f"      {name}: {built[name].description} (fitted in {built[name].seconds_to_fit:.1f} s)")
    if len(set(names)) != len(names) or not names:
        build_worlds(data, names)  # the library's message for an empty or repeated list
    dcr = None
    hybrid = next((w.dgp for w in built.values() if hasattr(w.dgp, "dcr_report")), None)
    if select.privacy_check and hybrid is not None and recipe.holdout > 0:
        dcr = hybrid.dcr_report(random_state=seed if seed is not None else 0)
    table = fidelity_table(data, built, real=real_diff, n=select.fidelity_n)
    issues = tuple(check_fidelity(table))
    allowance = {i["world"]: COVERAGE_ALLOWANCE for i in issues}
    sim = Simulation(built, estimators=estimators, n=n or data.n_obs, n_reps=n_reps, learners=learners,
                     options=options, random_state=seed if seed is not None else child_seed(ss, 2))
    plan = on_plan(sim) if on_plan is not None else None
    result = sim.run(run)
    show(str(result))
    rec = result.recommendation(coverage_allowance=allowance)
    if rec.choice is None:
        raise SpecError(f"no recommendation: {rec.reason}")
    unc = None
    deciding = [w for w in sim.decision_worlds if built.get(w) is not None and built[w].builder]
    if generators > 1 and deciding:
        keep = {rec.choice[0]} | ({rec.runner_up[0]} if rec.runner_up else set())
        panel_in = learners if isinstance(learners, dict) else None
        panel = None
        if panel_in is not None:  # a configuration with its own count keeps its ratio to n_reps on the refits
            panel = {k: ({**v, "n_reps": max(refit_reps, round(v["n_reps"] * refit_reps / n_reps))}
                         if isinstance(v, dict) and "n_reps" in v else v) for k, v in panel_in.items() if k in keep}
        say(f"[3/4] refitting the deciding worlds ({', '.join(deciding)}) on {generators} bootstrap resamples "
            f"of the real data (the same world recipe), learners {sorted(keep)} ...")
        unc = generator_uncertainty(data, worlds=deciding, estimators=sim.spec.estimators, n=n or data.n_obs,
                                    learners=panel, refits=RefitOptions(n_refits=generators, n_reps=refit_reps,
                                                                        recipe=recipe, options=options),
                                    run=run.replace(checkpoint=None, resume=False),
                                    random_state=(seed + 1) if seed is not None else child_seed(ss, 3),
                                    original=result,
                                    coverage_allowance={w: a for w, a in allowance.items() if w in deciding})
        show(str(unc))
    choice, why = _final_choice(rec, unc, say)
    p_all = _ensemble(rec, unc)
    p = float(p_all.get(tuple(choice), 0.0))
    defensible = tuple(sorted({m for m, v in p_all.items() if v >= DEFENSIBLE} | {tuple(choice)},
                              key=lambda m: -p_all.get(m, 0.0)))
    real, caveats = (None, [])
    if select.estimate_real:
        real, caveats = _real_estimate(data, result, rec, choice, seed if seed is not None else child_seed(ss, 4))
    return Selection(tuple(choice), why, p, p_all, p >= RELIABLE, defensible, rec, result, built, recipe, table,
                     issues, unc, real, tuple(caveats), dcr, plan, time.perf_counter() - t0)
