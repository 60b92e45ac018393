"""The ``causalsynth demo`` and ``causalsynth simulate`` subcommands: the main job.

1. fit the worlds (flexible, glm, gbm, placebo by default) to the real data and check the
   privacy of the flexible world's covariates;
2. print the plan (cost per world), simulate every candidate in every world, print the
   measures and the recommendation;
3. refit the deciding worlds on bootstrap resamples of the real data with the recommended
   configuration and its rivals: does the choice survive?
4. estimate the real ATE with the choice (the robust choice across refits when the original
   one does not survive), with the caveats the simulation supports.
"""
from __future__ import annotations

import json

from ..errors import SpecError
from ._common import (
    SEED,
    add_command,
    add_data_args,
    add_estimand_args,
    add_force_arg,
    check_outputs,
    data_from,
    n_jobs_value,
    parse_bounds,
    provenance_of,
    say_for,
    split_names,
    whole,
)

#: The command line's learner panel entries.
PANEL = {"glm": {"propensity": "logistic", "outcome": None},
         "gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 5},
         "superlearner": {"propensity": "superlearner", "outcome": "superlearner", "n_folds": 5}}


def _learner_panel(spec: str, reps: str | None = None) -> dict:
    """'glm,gbm' -> learner configurations (glm = logistic/linear GLMs without cross-fitting;
    gbm and superlearner cross-fitted with 5 folds); ``reps`` 'glm=200,gbm=40' sets their
    replicate counts."""
    out = {}
    for name in split_names(spec) or []:
        key = "glm" if name in ("logistic", "linear") else name
        if key not in PANEL:
            raise SpecError(f"unknown learner panel entry {name!r}; use {', '.join(PANEL)}")
        out[key] = dict(PANEL[key])
    for item in split_names(reps) or []:
        name, _, count = item.partition("=")
        if name not in out or not count.strip().isdigit():
            raise SpecError(f"--reps-per-config takes name=count for the panel {list(out)} (e.g. glm=200,gbm=40); "
                            f"got {item!r}")
        out[name]["n_reps"] = int(count)
    return out


def _check_args(args) -> None:
    """Every argument and output path checked before any work (a late refusal costs minutes)."""
    from ..estimators import check_estimators
    from ..simulate.worlds import WORLDS
    parse_bounds(args.trim_bounds, "--trim-bounds")
    parse_bounds(args.propensity_bounds, "--propensity-bounds")
    _learner_panel(args.learners, args.reps_per_config)
    try:
        check_estimators(split_names(args.estimators) or [])
    except SpecError as exc:
        raise SpecError(f"--estimators {args.estimators!r}: {exc}") from None
    names = split_names(args.worlds) or []
    unknown = [w for w in names if w not in WORLDS]
    if unknown or not names:
        raise SpecError(f"--worlds {args.worlds!r}: unknown world(s) {unknown or names}; choose from "
                        f"{', '.join(WORLDS)}")
    if args.resume and not args.checkpoint:
        raise SpecError("--resume continues the run in --checkpoint DIR; give --checkpoint too")
    if args.checkpoint:
        from ..report.writer import same_file
        from ..simulate.store import CheckpointStore
        if same_file(args.checkpoint, args.out):
            raise SpecError(f"--checkpoint and --out name the same folder {args.out!r}: the checkpoint holds only "
                            "its own files. Fix: give the report another folder")
        if CheckpointStore(args.checkpoint).exists() and not args.resume:
            raise SpecError(f"--checkpoint {args.checkpoint!r} already holds a simulation; pass --resume to "
                            "continue it, or choose another folder")
    check_outputs(args, folders=[("--out", args.out, "report")])


def _fit_worlds(args, data, say):
    """Step 1: the worlds, and the privacy check of the flexible world's covariates."""
    from ..progress import step
    from ..simulate.worlds import build_worlds
    names = split_names(args.worlds) or []
    say(args.data_line)
    say(f"[1/4] fitting {len(names)} world(s) to {data.n_obs} rows: {', '.join(names)} ...")
    if len(set(names)) != len(names) or not names:
        build_worlds(data, names)  # the library's message for an empty or repeated list
    worlds = {}
    for name in names:  # one at a time (each world has its own seed stream: the same worlds)
        with step(f"fitting world {name}"):
            worlds.update(build_worlds(data, [name], covariates=args.generator, holdout=0.2, min_dcr="auto",
                                       n_reference=100_000, random_state=args.seed))
    hybrid = next((w.dgp for w in worlds.values() if hasattr(w.dgp, "dcr_report")), None)
    with step("privacy check (distance to closest record)"):
        report = hybrid.dcr_report(random_state=args.seed) if hybrid is not None else None
    for w in worlds.values():
        say(f"      {w.name}: {w.description} (fitted in {w.seconds_to_fit:.1f} s)")
    if report is not None:
        say(f"      DCR of synthetic covariates: exact copies {report.exact_copy_share:.3f}, closer-to-train share "
            f"{report.closer_to_train_share:.3f} (ideal 0.5), membership AUC {report.membership_auc:.3f} (ideal 0.5)")
    return worlds, report


def _final_choice(result, unc, say):
    """Step 4's configuration: the recommendation, or the robust choice when it does not survive."""
    rec = result.recommendation()
    choice, why = rec.choice, "recommended"
    if unc is None or unc.verdict != "does not survive" or not unc.robust_choice:
        return rec, choice, why
    if tuple(unc.robust_choice) == tuple(rec.choice):
        say("      the recommendation is rarely chosen again on the refits of the worlds, but it keeps the least "
            "worst-case regret across the original worlds and every refit: step 4 keeps it (a fragile lead)")
        return rec, choice, "recommended (fragile across refits of the worlds)"
    choice, why = unc.robust_choice, "robust across refits of the worlds"
    say(f"      the recommendation does not survive refitting the worlds: step 4 uses the robust choice "
        f"{choice[1].upper()} ('{choice[0]}')")
    return rec, choice, why


def _real_estimate(args, data, result, rec, choice, why, say):
    import warnings

    from ..estimators import estimate
    cfg = {c.name: c for c in result.spec.learners}[choice[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = estimate(data, estimators=(choice[1],), propensity=cfg.propensity, outcome=cfg.outcome,
                        n_folds=cfg.n_folds, estimand=result.spec.estimand, trim_bounds=result.spec.trim_bounds,
                        propensity_bounds=result.spec.bounds_of(cfg), random_state=args.seed)
    row = real.summary().iloc[0]
    say(f"[4/4] real data, {why} {choice[1].upper()} ('{cfg.name}' learners): {real.estimand_label} "
        f"{row['ate']:.3f} (95% CI {row['ci_lower']:.3f} to {row['ci_upper']:.3f})")
    mine = rec.table[(rec.table["learner"] == choice[0]) & (rec.table["estimator"] == choice[1]) & rec.table["decides"]]
    caveats = []
    if mine["unfit"].any():
        caveats.append("its intervals under-covered significantly in the simulation (in "
                       f"{', '.join(mine.loc[mine['unfit'], 'world'])}): do not read this interval at face value.")
    if real.overlap and not real.overlap["intervals_trusted"]:
        from ..estimators import untrusted_message
        caveats.append(untrusted_message(real.overlap, real.estimand))
    elif real.n_clipped:
        lo, hi = real.propensity_bounds
        caveats.append(f"{real.n_clipped} real units had propensities clipped to [{lo:.3g}, {hi:.3g}]: see "
                       "the positivity section of the report (causalsynth diagnose) for where overlap fails.")
    for c in caveats:
        say("      caveat: " + c)
    return real, cfg, caveats


def _printers(args):
    """(say, show): ``say`` for the plan and progress (stderr with --json), ``show`` for results
    (nothing with --json: they are in the JSON document)."""
    return say_for(args), ((lambda *a: None) if args.json else (lambda *a: print(*a, flush=True)))


def _panel(args, data):
    learners = _learner_panel(args.learners, args.reps_per_config)
    estimators = tuple(split_names(args.estimators) or ())
    if args.estimand == "overlap" and "tmle" in estimators and args.estimators == "or,ipw,aipw,tmle":
        estimators = tuple(e for e in estimators if e != "tmle")  # the default panel: tmle cannot target it
    return learners, estimators, args.n or data.n_obs


def _simulate(args, data, worlds, learners, estimators, n, say, show):
    """Step 2: the plan and its ETA, printed before the run starts; then the run."""
    from ..progress import format_seconds, step
    from ..simulate import Simulation
    sim = Simulation(worlds, estimators=estimators, n=n, n_reps=args.n_reps, learners=learners,
                     estimand=args.estimand, trim_bounds=parse_bounds(args.trim_bounds, "--trim-bounds"),
                     propensity_bounds=parse_bounds(args.propensity_bounds, "--propensity-bounds"),
                     random_state=args.seed)
    with step("timing one pilot replicate per world and configuration"):
        plan = sim.plan(pilot_reps=1)
    say(f"[2/4] simulating {', '.join(estimators)} x learners {list(learners)} in {len(worlds)} world(s), "
        f"n={n}; deciding worlds: {', '.join(sim.decision_worlds)}")
    say("      plan: " + str(plan).replace("\n", "\n      "))
    jobs = max(args.n_jobs, 1)
    say(f"      ETA about {format_seconds(plan.estimated_seconds / jobs)} if the {jobs} worker(s) each get a whole core, "
        f"up to {format_seconds(plan.estimated_seconds)} on a busy machine; the progress lines (on stderr when it "
        "is not a terminal) give the time left at the workers' measured speed")
    result = sim.run(n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
                     checkpoint=args.checkpoint, resume=args.resume)
    show(str(result))
    return sim, plan, result


def _refit(args, data, sim, worlds, result, learners, estimators, n, say, show):
    """Step 3: does the choice survive refitting the deciding worlds? (None when skipped)"""
    from ..simulate.uncertainty import generator_uncertainty
    rec = result.recommendation()
    if args.generators <= 1 or rec.choice is None:
        return None
    keep = {rec.choice[0]} | ({rec.runner_up[0]} if rec.runner_up else set())
    # a configuration with its own replicate count keeps its ratio to --n-reps on the refits
    panel = {k: ({**v, "n_reps": max(args.refit_reps, round(v["n_reps"] * args.refit_reps / args.n_reps))}
                 if "n_reps" in v else dict(v)) for k, v in learners.items() if k in keep}
    deciding = [w for w in sim.decision_worlds if worlds[w].builder]
    say(f"[3/4] refitting the deciding worlds ({', '.join(deciding)}) on {args.generators} bootstrap resamples "
        f"of the real data, learners {list(panel)} ...")
    unc = generator_uncertainty(data, worlds=deciding, n_generators=args.generators, estimators=estimators,
                                n=n, n_reps=args.refit_reps, learners=panel, n_jobs=args.n_jobs,
                                covariates=args.generator, random_state=args.seed + 1, original=result)
    show(str(unc))
    return unc


def _real_positivity(args, data, cfg):
    """The real data's overlap, diagnosed with the chosen propensity learner (for the report)."""
    import warnings

    from ..positivity import diagnose_positivity
    from ..progress import step
    with step("positivity diagnostics of the real data"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report states the problem
        return diagnose_positivity(data, propensity=cfg.propensity, n_folds=5, random_state=args.seed)


def _report(args, data, title, result, dcr, unc, real, cfg, choice, why, caveats, positivity):
    from ..report.render import Section
    from ..simulate.report import write_simulation_report
    lead = [Section("Real-data estimate", f"{choice[1].upper()} with the '{cfg.name}' learners ({cfg.describe()}), "
                    f"{why}." + "".join(f"\n\nCaveat: {c}" for c in caveats), real.summary().drop(columns=["note"]))]
    extra = []
    if dcr is not None:
        extra.append(Section("Privacy: distance to closest record",
                             "Synthetic covariate rows against the real training rows, with a real holdout as baseline "
                             "(exact copies should be 0; closer-to-train share and membership AUC near 0.5).",
                             dcr.summary().reset_index().rename(columns={"index": "distances"}),
                             figure=dcr.plot().figure))
    if unc is not None:
        extra.append(Section("Generator uncertainty", str(unc).split("\n")[0], unc.summary()))
    return write_simulation_report(result, args.out, title=title, extra=extra, lead=lead, positivity=positivity,
                                   provenance=provenance_of(args, data))


def _run_simulation(args, data, *, title: str):
    """The four steps (see the module notes) and the report."""
    import time

    from ..report.render import json_safe

    t0 = time.perf_counter()
    say, show = _printers(args)
    learners, estimators, n = _panel(args, data)
    say(f"plan: fit {len(split_names(args.worlds) or [])} world(s), simulate {', '.join(estimators)} x learners "
        f"{list(learners)} ({args.n_reps} replicates per world), refit the deciding worlds "
        f"{args.generators if args.generators > 1 else 0} time(s), estimate on the real data; the ETA of the "
        "simulation follows the world fits")
    worlds, dcr = _fit_worlds(args, data, say)
    sim, plan, result = _simulate(args, data, worlds, learners, estimators, n, say, show)
    unc = _refit(args, data, sim, worlds, result, learners, estimators, n, say, show)
    rec = result.recommendation()
    if rec.choice is None:
        raise SpecError(f"no recommendation: {rec.reason}")
    rec, choice, why = _final_choice(result, unc, say)
    real, cfg, caveats = _real_estimate(args, data, result, rec, choice, why, show)
    positivity = _real_positivity(args, data, cfg)
    paths = _report(args, data, title, result, dcr, unc, real, cfg, choice, why, caveats, positivity)
    payload = {"data_source": args.data_source, "dcr": dcr.to_dict() if dcr is not None else None,
               "plan": str(plan), "worlds": result.worlds, "simulation": result.to_dict(),
               "generator_uncertainty": unc.to_dict() if unc else None, "positivity": positivity.to_dict(),
               "real_estimate": real.to_dict(), "recommended": {"estimator": choice[1], "learner": cfg.name,
                                                                "why": why, "caveats": caveats},
               "report": {k: str(v) for k, v in paths.items() if k in ("markdown", "html", "json")},
               "seconds": time.perf_counter() - t0}
    if args.json:
        print(json.dumps(json_safe(payload)))
    else:
        print(f"report: {paths['html']} and {paths['markdown']} ({time.perf_counter() - t0:.0f} s)")
    return 0


def cmd_demo(args) -> int:
    from ..datasets import load_nhefs
    _check_args(args)
    args.n = None
    data = load_nhefs()
    args.data_source = "embedded dataset 'nhefs'"
    args.data_line = (f"data: {args.data_source}, {data.n_obs} rows, treatment {data.treatment!r}, "
                      f"outcome {data.outcome!r}")
    return _run_simulation(args, data,
                           title="causalsynth demo: which estimator for NHEFS (quitting smoking -> weight gain)?")


def cmd_simulate(args) -> int:
    _check_args(args)
    data = data_from(args)
    return _run_simulation(args, data, title=f"Estimator simulation for {args.data}")


def _add_sim_args(p, *, reps: int, learners: str, reps_per_config: str | None, generators: int,
                  refit_reps: int) -> None:
    p.add_argument("--estimators", default="or,ipw,aipw,tmle", metavar="LIST",
                   help="comma-separated candidate estimators: or,ipw,aipw,tmle,dml")
    p.add_argument("--learners", default=learners, metavar="LIST",
                   help="learner panel: glm (logistic/linear GLMs), gbm and superlearner (5-fold cross-fitted)")
    p.add_argument("--worlds", default="flexible,glm,gbm,placebo", metavar="LIST",
                   help="worlds fitted to the data: flexible,glm,gbm,placebo (the recommendation is decided in the "
                        "worlds built from no candidate's class)")
    p.add_argument("--n-reps", type=whole(1), default=reps, help="synthetic replicates per world")
    p.add_argument("--reps-per-config", default=reps_per_config, metavar="NAME=N,...",
                   help="replicates of single configurations, e.g. glm=200,gbm=40 (cheap ones can take more; "
                        f"default: {reps_per_config or 'the --n-reps of every configuration'})")
    add_estimand_args(p)
    p.add_argument("--generator", default="copula", choices=("bootstrap", "copula", "ctgan", "tvae"),
                   help="covariate generator of the hybrid worlds")
    p.add_argument("--generators", type=whole(0), default=generators,
                   help="bootstrap refits of the deciding worlds (0 or 1 = skip)")
    p.add_argument("--refit-reps", type=whole(1), default=refit_reps,
                   help="replicates per world on each refit (configurations given their own count in "
                        "--reps-per-config keep its ratio to --n-reps)")
    p.add_argument("--n-jobs", type=n_jobs_value, default=2, help="worker processes")
    p.add_argument("--backend", default="joblib", choices=("joblib", "dask"), help="parallel backend")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address with --backend dask (default: a local cluster of --n-jobs workers)")
    p.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="folder for resumable results (default: none, nothing kept between runs)")
    p.add_argument("--resume", action="store_true", help="continue the run in --checkpoint")
    p.add_argument("--out", default="causalsynth-out", metavar="DIR", help="report folder")
    p.add_argument("--seed", type=SEED, default=0, help="random seed of the whole run")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document on stdout (the plan and progress go to stderr)")
    add_force_arg(p)


def register(sub) -> None:
    """Add the ``demo`` and ``simulate`` subparsers to ``sub``."""
    p = add_command(
        sub, "demo", help="the main job on embedded NHEFS",
        description="On embedded NHEFS (1,566 smokers; quitting smoking -> weight change): fit the simulation "
                    "worlds, check the privacy of their synthetic covariates (DCR), print the plan and its ETA, "
                    "simulate the estimator panel in every world, print the recommendation, check it on "
                    "refits of the worlds, estimate the real effect with it, and write the report (HTML, "
                    "Markdown, JSON) with the real data's positivity diagnostics.",
        examples=["causalsynth demo",
                  "causalsynth demo --n-reps 10 --reps-per-config glm=20 --generators 0 --out quick/",
                  "causalsynth demo --learners glm,gbm --n-jobs 4 --json > demo.json"])
    # sized to finish within 4 minutes on 2 cores (benchmarks/bench_demo.py); simulate takes more
    _add_sim_args(p, reps=20, learners="glm,gbm", reps_per_config="glm=160", generators=2, refit_reps=10)
    p.set_defaults(func=cmd_demo)
    p = add_command(
        sub, "simulate", help="choose an estimator on synthetic replicates with known truth",
        description="Fit the simulation worlds to DATA, print the plan and its ETA, simulate the estimators on "
                    "replicates drawn from each world, recommend the configuration with the least worst-case "
                    "regret across the deciding worlds, check it on refits of the worlds, and estimate the "
                    "real effect with it. The report (HTML, Markdown, JSON) holds the recommendation, the "
                    "measures with Monte Carlo errors, the privacy check and the real data's positivity "
                    "diagnostics.",
        examples=["causalsynth simulate lalonde --n-reps 50 --out lalonde-report/",
                  "causalsynth simulate nhefs --learners glm,gbm --n-reps 200 --checkpoint runs/nhefs",
                  "causalsynth simulate nhefs --learners glm,gbm --n-reps 200 --checkpoint runs/nhefs --resume"])
    add_data_args(p)
    p.add_argument("--n", type=whole(10), default=None, help="replicate size (default: the real n)")
    _add_sim_args(p, reps=100, learners="glm", reps_per_config=None, generators=3, refit_reps=20)
    p.set_defaults(func=cmd_simulate)
