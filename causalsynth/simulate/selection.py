r"""The engine scores itself: does the simulation pick the estimator that is best on the real law?

For a design with a known truth (anything with ``sample(n, random_state=)`` returning a
:class:`~causalsynth.sample.SyntheticSample` and a ``population_ate_``):

1. **real performance**: ``n_real`` independent draws of ``n`` rows from the design; every
   candidate configuration (learner x estimator) runs on each, giving its real RMSE and
   coverage against the design's population ATE (with Monte Carlo errors);
2. **the engine's prediction**: ``n_observed`` single draws, each treated as the one real
   dataset a study team holds: the worlds are fitted to it, the candidates simulated in them,
   and the recommendation made as :class:`~causalsynth.simulate.Simulation` makes it;
3. **scores**, per observed draw, then averaged:

   * regret :math:`= \mathrm{RMSE}_{real}(\text{recommended}) / \min_c \mathrm{RMSE}_{real}(c)`;
   * the Spearman rank correlation of the predicted RMSE (in the ``primary_world``) with the
     real RMSE across the candidates;
   * the coverage error :math:`|\text{predicted} - \text{real coverage}|`, averaged over the
     candidates (prediction in the ``primary_world``), and the same for the recommended
     configuration alone (the interval a study team will report);
   * the regret of fixed rules (by default "always AIPW-GBM" and "always TMLE-GBM").

Reproduce ``docs/selection.md``::

    python -m causalsynth.simulate.selection --design kang_schafer_x --n-real 200 --n-observed 5
"""
from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_int
from ..estimators import select_estimators
from .._random import RandomState, as_seed_sequence
from ..errors import SpecError
from ..progress import RunOptions, as_run_options, progress
from .select import SelectionOptions
from .simulation import simulate

__all__ = ["selection_study", "SelectionStudy", "StudyOptions", "DEFAULT_PANEL", "FIXED_RULES", "selection_designs"]

#: The candidate panel scored by default: main-terms GLMs, and gradient boosting cross-fitted.
DEFAULT_PANEL = {"glm": {"propensity": "logistic", "outcome": None},
                 "gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 5}}
#: Fixed rules the engine must beat: (learner, estimator).
FIXED_RULES = {"always AIPW-GBM": ("gbm", "aipw"), "always TMLE-GBM": ("gbm", "tmle")}


@dataclass(frozen=True, kw_only=True)
class StudyOptions:
    """How :func:`selection_study` measures the truth and scores the engine (issue 19).

    n_real : draws of the design that measure each candidate's real performance.
    n_observed : single draws the engine is run on (one recommendation each).
    primary_world : the world whose predictions are scored (default the first of ``worlds``
        when it is not one of them).
    rules : fixed rules the engine must beat, name -> (learner, estimator) (default
        :data:`FIXED_RULES`).
    real : the ``real`` table of an earlier study of the same design, n, panel and seed, reused.
    """

    n_real: int = 200
    n_observed: int = 5
    primary_world: str = "flexible"
    rules: dict | None = None
    real: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_real", check_int("n_real", self.n_real, 10))
        object.__setattr__(self, "n_observed", check_int("n_observed", self.n_observed, 1))
        if self.rules is not None and not isinstance(self.rules, dict):
            raise SpecError(f"StudyOptions: rules must be a dict name -> (learner, estimator); "
                            f"got {type(self.rules).__name__}")
        if self.rules is not None:  # a copy: later edits of the caller's dict do not reach a frozen object
            object.__setattr__(self, "rules", dict(self.rules))


@dataclass(frozen=True)
class SelectionStudy:
    """Real against predicted performance of every candidate, and the engine's scores.

    Attributes
    ----------
    real : per configuration: real rmse (with MC SE), bias, coverage over ``n_real`` draws.
    predicted : per observed draw, world and configuration: predicted rmse and coverage.
    draws : per observed draw: the recommendation, its regret, rank correlation, coverage
        error and the regret of each fixed rule.
    settings : the study's arguments.
    """

    real: pd.DataFrame
    predicted: pd.DataFrame = field(repr=False)
    draws: pd.DataFrame = field(repr=False)
    settings: dict = field(default_factory=dict)
    fidelity: pd.DataFrame | None = field(default=None, repr=False)  # per observed draw: real data vs each world

    def scores(self) -> pd.DataFrame:
        """Mean and SE over the observed draws of every score (one row per score)."""
        cols = [c for c in self.draws.columns if c.startswith(("regret", "rank_corr", "coverage_error"))]
        cols = sorted(cols, key=lambda c: (not c.startswith("regret"), c.startswith("regret "), c))
        d = self.draws[cols].astype(float)
        k = len(d)
        out = pd.DataFrame({"score": cols, "mean": d.mean().to_numpy(),
                            "se": (d.std(ddof=1) / np.sqrt(k)).to_numpy() if k > 1 else np.nan,
                            "worst": d.max().to_numpy()})
        if "truly_best" in self.draws:
            hit = self.draws["truly_best"].astype(float)
            names, means, ses = ["share_truly_best"], [hit.mean()], [hit.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan]
            for col, label in (("p_best", "p_best"), ("p_best_rule", "p_best_rule")):
                if col not in self.draws:
                    continue
                p = self.draws[col].astype(float)
                names += [label, f"{label}_calibration_error"]
                means += [p.mean(), abs(p.mean() - hit.mean())]
                ses += [p.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan, np.nan]
            out = pd.concat([out, pd.DataFrame({"score": names, "mean": means, "se": ses, "worst": np.nan})],
                            ignore_index=True)
        return out

    def __str__(self) -> str:
        s = self.scores().set_index("score")["mean"]
        rules = [c for c in self.draws.columns if c.startswith("regret ") and c != "regret"]
        best = self.real.sort_values("rmse").iloc[0]
        lines = [f"Selection study on {self.settings.get('design')}: n={self.settings.get('n')}, real performance from "
                 f"{self.settings.get('n_real')} draws, the engine run on {len(self.draws)} observed draw(s) "
                 f"(worlds {', '.join(self.settings.get('worlds', []))}).",
                 f"Truly best: {best['estimator'].upper()}-{best['learner']} (real RMSE {best['rmse']:.4g}).",
                 f"Engine: mean regret {s['regret']:.3f}; rank correlation {s['rank_corr']:.2f}; "
                 f"coverage error {s['coverage_error']:.3f} over the candidates, "
                 f"{s['coverage_error_recommended']:.3f} for the recommended one.",
                 f"P(best) of the choice {s.get('p_best', np.nan):.2f} on average; truly best in "
                 f"{s.get('share_truly_best', np.nan):.0%} of draws (calibration error "
                 f"{s.get('p_best_calibration_error', np.nan):.2f}; the worst-regret rule's own resampling P(best) "
                 f"{s.get('p_best_rule', np.nan):.2f}, error {s.get('p_best_rule_calibration_error', np.nan):.2f}).",
                 "Fixed rules: " + "; ".join(f"{r[len('regret '):]} regret {s[r]:.3f}" for r in rules) + ".",
                 "Recommended per draw: " + ", ".join(self.draws["recommended"]) + "."]
        return "\n".join(lines) + "\n\n" + self.real.to_string(index=False, float_format=lambda v: f"{v:.4g}")

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        return json_safe({"settings": self.settings, "scores": self.scores(), "real": self.real,
                          "draws": self.draws, "predicted": self.predicted, "fidelity": self.fidelity})


def _real_performance(design, *, n, n_real, learners, estimators, seed, run) -> pd.DataFrame:
    res = simulate(design, n=n, n_reps=n_real, learners=learners, estimators=estimators, run=run,
                   random_state=seed)
    summ = res.summary()
    return summ[["learner", "estimator", "bias", "rmse", "rmse_mcse", "coverage", "coverage_mcse", "n_ok"]]


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan")
    return float(spearmanr(x[ok], y[ok])[0])


def _score_draw(sel, result, real: pd.DataFrame, primary: str, rules: dict) -> tuple[dict, pd.DataFrame]:
    real_i = real.set_index(["learner", "estimator"])
    floor = float(real_i["rmse"].min())
    summ = result.summary()
    pred = summ[summ["world"] == primary].set_index(["learner", "estimator"]).reindex(real_i.index)
    rec = sel  # the Selection: its choice and ensemble P(best)
    row = {"recommended": f"{rec.choice[1]}-{rec.choice[0]}" if rec.choice else "none",
           "regret": float(real_i.loc[rec.choice, "rmse"] / floor) if rec.choice else np.nan,
           "truly_best": bool(rec.choice is not None and tuple(real_i["rmse"].idxmin()) == tuple(rec.choice)),
           "reliable": bool(sel.reliable), "n_defensible": len(sel.defensible),
           "rank_corr": _spearman(pred["rmse"], real_i["rmse"]),
           "coverage_error": float(np.nanmean(np.abs(pred["coverage"] - real_i["coverage"]))),
           "coverage_error_recommended": (float(abs(pred.loc[rec.choice, "coverage"] - real_i.loc[rec.choice, "coverage"]))
                                          if rec.choice else np.nan),
           "p_best": rec.p_best, "p_best_rule": float(rec.recommendation.p_best)}
    for name, cfg in rules.items():
        row[f"regret {name}"] = float(real_i.loc[cfg, "rmse"] / floor) if cfg in real_i.index else np.nan
    predicted = summ[["world", "learner", "estimator", "rmse", "coverage", "bias"]]
    return row, predicted


def selection_study(design: Any, *, n: int = 1000, learners: Any = None, estimators=None,
                    worlds=("flexible", "placebo"), n_reps: int = 100, study: StudyOptions | None = None,
                    engine: SelectionOptions | None = None, run: RunOptions | None = None,
                    random_state: RandomState = None) -> SelectionStudy:
    """Score the engine on ``design``: real performance from ``study.n_real`` draws against its
    recommendation from each of ``study.n_observed`` single draws (see the module notes).

    ``learners`` is the candidate panel (default :data:`DEFAULT_PANEL`, GLM and GBM);
    ``worlds`` the worlds the engine fits to each observed draw (the default engine's
    deciding worlds: the home worlds of the candidates do not change its choice, so they are
    left out here to save time); ``n_reps`` the replicates per world (a configuration's own
    ``n_reps`` in ``learners`` overrides it). ``study`` : a :class:`StudyOptions` (draws,
    primary world, fixed rules, a reused ``real`` table). The engine is
    :func:`~causalsynth.simulate.select_estimator` configured by ``engine``, a
    :class:`~causalsynth.simulate.SelectionOptions` (default: calibrated copula worlds, no
    refits: P(best) from the replicates only; ``n_refits`` bootstrap refits of the worlds of
    ``refit_reps`` replicates each give the ensemble P(best)); it never estimates on the
    draw. ``run`` : a :class:`~causalsynth.progress.RunOptions` (workers; ``progress`` shows
    the bar over the observed draws).
    """
    from .select import select_estimator
    check_int("n", n, 50)
    study = StudyOptions() if study is None else study
    if not isinstance(study, StudyOptions):
        raise SpecError(f"study must be a StudyOptions; got {type(study).__name__}. Build one with "
                        "causalsynth.simulate.selection.StudyOptions(n_real=200, n_observed=5).")
    if engine is None:
        engine = SelectionOptions(n_refits=0, refit_reps=max(n_reps // 2, 10))
    if not isinstance(engine, SelectionOptions):
        raise SpecError(f"engine must be a SelectionOptions; got {type(engine).__name__}. Build one with "
                        "causalsynth.simulate.SelectionOptions(n_refits=2, refit_reps=50).")
    engine = dataclasses.replace(engine, estimate_real=False)
    run = as_run_options(run)
    quiet = RunOptions(n_jobs=run.n_jobs, backend=run.backend, scheduler=run.scheduler, progress=False)
    n_observed, real = study.n_observed, study.real
    if not callable(getattr(design, "sample", None)):
        raise SpecError(f"design must have sample(n, random_state=); got {type(design).__name__}")
    learners = DEFAULT_PANEL if learners is None else learners
    estimators, _ = select_estimators(estimators)  # None: the default panel
    rules = FIXED_RULES if study.rules is None else study.rules
    names = [worlds] if isinstance(worlds, str) else list(worlds)
    primary_world = study.primary_world if study.primary_world in names else names[0]
    s_real, s_obs = as_seed_sequence(random_state).spawn(2)
    t0 = time.perf_counter()
    if real is None:
        real = _real_performance(design, n=n, n_real=study.n_real, learners=learners, estimators=estimators,
                                 seed=s_real, run=quiet)
    seconds_real = time.perf_counter() - t0
    rows, predicted, fidelity = [], [], []
    for k, child in enumerate(progress(s_obs.spawn(n_observed), desc="observed draws", total=n_observed,
                                       show=run.progress)):
        s_draw, s_engine = child.spawn(2)
        data = design.sample(n, random_state=s_draw).data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sel = select_estimator(data, worlds=names, learners=learners, estimators=estimators, n=n, n_reps=n_reps,
                                   select=engine, run=RunOptions(n_jobs=run.n_jobs), random_state=s_engine)
        row, pred = _score_draw(sel, sel.result, real, primary_world, rules)
        rows.append({"draw": k, **row})
        predicted.append(pred.assign(draw=k))
        if sel.fidelity is not None:
            fidelity.append(sel.fidelity.assign(draw=k))
    settings = {"design": repr(design), "n": n, "n_real": study.n_real, "n_observed": n_observed, "n_reps": n_reps,
                "worlds": names, "primary_world": primary_world, "estimators": list(estimators),
                "learners": {k: str(v) for k, v in (learners.items() if isinstance(learners, dict) else [])},
                "rules": {k: list(v) for k, v in rules.items()}, "seconds_real": seconds_real,
                "n_refits": engine.n_refits, "calibrate": engine.recipe is None or engine.recipe.calibrate,
                "seconds": time.perf_counter() - t0}
    return SelectionStudy(real.reset_index(drop=True), pd.concat(predicted, ignore_index=True),
                          pd.DataFrame(rows), settings, pd.concat(fidelity, ignore_index=True) if fidelity else None)


def selection_designs() -> dict:
    """The designs of docs/selection.md and the ACIC 2016 development instances, by command-line name:
    name -> (design, n)."""
    from ..datasets.designs import (ACIC2016, ACIC_DEVELOPMENT, IHDPSurfaceB, KangSchafer2007, LinearLogisticDesign,
                                    NonlinearHeterogeneousDesign, PoorOverlapDesign)
    designs = {"kang_schafer_x": (KangSchafer2007(effect=10, observed="X"), 1000),
               "poor_overlap": (PoorOverlapDesign(), 1000),
               "nonlinear": (NonlinearHeterogeneousDesign(), 1000),
               "linear_logistic": (LinearLogisticDesign(), 1000),
               "ihdp_b": (IHDPSurfaceB(), 747)}
    # ACIC 2016: the development instances only; the others are the engine's unseen test
    designs.update({f"acic_{i}": (ACIC2016(i), 1000) for i in ACIC_DEVELOPMENT})
    return designs


def main(argv: list[str] | None = None) -> int:
    """Run the selection study of docs/selection.md on one design and print (and save) it."""
    import argparse
    import json
    import os
    os.environ.setdefault("CAUSALSYNTH_PROGRESS", "0")
    designs = selection_designs()
    p = argparse.ArgumentParser(prog="python -m causalsynth.simulate.selection", description=main.__doc__)
    p.add_argument("--design", required=True, choices=sorted(designs))
    p.add_argument("--n-real", type=int, default=200)
    p.add_argument("--n-observed", type=int, default=5)
    p.add_argument("--n-reps", type=int, default=50, help="replicates per world of the GBM configuration")
    p.add_argument("--glm-reps", type=int, default=200, help="replicates per world of the GLM configuration")
    p.add_argument("--worlds", default="flexible,placebo")
    p.add_argument("--refits", "--generators", type=int, default=0, help="bootstrap refits of the worlds per draw")
    p.add_argument("--refit-reps", type=int, default=None, help="replicates per world on each refit")
    p.add_argument("--no-calibrate", action="store_true", help="worlds as fitted (the engine before issue 17's calibration)")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the study as JSON here")
    args = p.parse_args(argv)
    design, n = designs[args.design]
    panel = {"glm": {**DEFAULT_PANEL["glm"], "n_reps": args.glm_reps}, "gbm": dict(DEFAULT_PANEL["gbm"])}
    from .worlds import WorldRecipe
    engine = SelectionOptions(recipe=WorldRecipe(calibrate=not args.no_calibrate), n_refits=args.refits,
                              refit_reps=args.refit_reps or max(args.n_reps // 2, 10))
    study = selection_study(design, n=n, n_reps=args.n_reps, learners=panel, worlds=tuple(args.worlds.split(",")),
                            study=StudyOptions(n_real=args.n_real, n_observed=args.n_observed), engine=engine,
                            run=RunOptions(n_jobs=args.n_jobs), random_state=args.seed)
    print(study)
    print(study.scores().to_string(index=False))
    if args.json:
        from ..report.writer import write_text
        write_text(args.json, json.dumps(study.to_dict(), indent=1), what="--json")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())