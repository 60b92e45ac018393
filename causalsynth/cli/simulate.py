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
    add_deprecated_alias,
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
    from ..estimators import select_estimators
    from ..simulate.worlds import WORLDS
    parse_bounds(args.trim_bounds, "--trim-bounds")
    parse_bounds(args.propensity_bounds, "--propensity-bounds")
    _learner_panel(args.learners, args.reps_per_config)
    try:
        select_estimators(split_names(args.estimators), args.estimand)
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


def _printers(args):
    """(say, show): ``say`` for the plan and progress (stderr with --json), ``show`` for results
    (nothing with --json: they are in the JSON document)."""
    return say_for(args), ((lambda *a: None) if args.json else (lambda *a: print(*a, flush=True)))


def _panel(args, data):
    learners = _learner_panel(args.learners, args.reps_per_config)
    from ..estimators import select_estimators
    # no --estimators: the default panel's estimators that can target the estimand (the one rule)
    estimators, _ = select_estimators(split_names(args.estimators), args.estimand)
    return learners, estimators, args.n or data.n_obs


def _plan_printer(args, estimators, learners, n, say):
    """Step 2's plan and its ETA, printed before the run starts (called by select_estimator)."""
    def on_plan(sim):
        from ..progress import format_seconds, step
        with step("timing one pilot replicate per world and configuration"):
            plan = sim.plan(pilot_reps=1)
        say(f"[2/4] simulating {', '.join(estimators)} x learners {list(learners)} in {len(sim.worlds)} world(s), "
            f"n={n}; deciding worlds: {', '.join(sim.decision_worlds)}")
        say("      plan: " + str(plan).replace("\n", "\n      "))
        jobs = max(args.n_jobs, 1)
        say(f"      ETA about {format_seconds(plan.estimated_seconds / jobs)} if the {jobs} worker(s) each get a "
            f"whole core, up to {format_seconds(plan.estimated_seconds)} on a busy machine; the progress lines (on "
            "stderr when it is not a terminal) give the time left at the workers' measured speed")
        return plan
    return on_plan


def _real_positivity(args, data, cfg):
    """The real data's overlap, diagnosed with the chosen propensity learner (for the report)."""
    import warnings

    from ..positivity import diagnose_positivity
    from ..progress import step
    with step("positivity diagnostics of the real data"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report states the problem
        return diagnose_positivity(data, propensity=cfg.propensity, n_folds=5, random_state=args.seed)


def _report(args, data, title, sel, positivity):
    from ..report.render import Section
    from ..simulate.report import write_simulation_report
    result, dcr, unc, real, cfg = sel.result, sel.dcr, sel.uncertainty, sel.real_estimate, sel.config
    choice, why, caveats = sel.choice, sel.why, sel.caveats
    lead = [Section("Real-data estimate", f"{choice[1].upper()} with the '{cfg.name}' learners ({cfg.describe()}), "
                    f"{why}. {sel.verdict()}" + "".join(f"\n\nCaveat: {c}" for c in caveats),
                    real.summary().drop(columns=["note"]))]
    extra = [Section("World fidelity", "The quantities that decide estimator performance, on the real data "
                     "(cross-fitted estimates) and on each world (known values on a large sample); warnings name "
                     "worlds materially easier or noisier than the data."
                     + "".join(f"\n\nWarning: {i['message']}." for i in sel.fidelity_issues),
                     sel.fidelity.set_index("source").T.reset_index().rename(columns={"index": "quantity"}))]
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
    """The four steps (see the module notes, run by :func:`causalsynth.select_estimator`) and the report."""
    import time

    from ..report.render import json_safe
    from ..progress import RunOptions
    from ..simulate import SelectionOptions, SimulationOptions, select_estimator
    from ..simulate.worlds import WorldRecipe

    t0 = time.perf_counter()
    say, show = _printers(args)
    learners, estimators, n = _panel(args, data)
    names = split_names(args.worlds) or []
    say(f"plan: fit {len(names)} world(s), simulate {', '.join(estimators)} x learners "
        f"{list(learners)} ({args.n_reps} replicates per world), refit the deciding worlds "
        f"{args.refits if args.refits > 1 else 0} time(s), estimate on the real data; the ETA of the "
        "simulation follows the world fits")
    say(args.data_line)
    say(f"[1/4] fitting {len(names)} world(s) to {data.n_obs} rows: {', '.join(names)} ...")
    # one recipe for the worlds and their refits: the same generator, holdout, privacy filter and reference size
    recipe = WorldRecipe.of(args.generator, holdout=0.2, min_dcr="auto", n_reference=100_000)
    options = SimulationOptions(estimand=args.estimand, trim_bounds=parse_bounds(args.trim_bounds, "--trim-bounds"),
                                propensity_bounds=parse_bounds(args.propensity_bounds, "--propensity-bounds"))
    select = SelectionOptions(recipe=recipe, n_refits=args.refits, refit_reps=args.refit_reps, privacy_check=True,
                              say=say, show=show, on_plan=_plan_printer(args, estimators, learners, n, say))
    sel = select_estimator(data, worlds=names, estimators=estimators, learners=learners, n=n, n_reps=args.n_reps,
                           options=options, select=select,
                           run=RunOptions(n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
                                          checkpoint=args.checkpoint, resume=args.resume),
                           random_state=args.seed)
    if sel.dcr is not None:
        r = sel.dcr
        say(f"      DCR of synthetic covariates: exact copies {r.exact_copy_share:.3f}, closer-to-train share "
            f"{r.closer_to_train_share:.3f} (ideal 0.5), membership AUC {r.membership_auc:.3f} (ideal 0.5)")
    show(sel.fidelity_text())
    show(sel.verdict())
    real, cfg = sel.real_estimate, sel.config
    row = real.summary().iloc[0]
    show(f"[4/4] real data, {sel.why} {sel.choice[1].upper()} ('{cfg.name}' learners): {real.estimand_label} "
         f"{row['ate']:.3f} (95% CI {row['ci_lower']:.3f} to {row['ci_upper']:.3f})")
    for c in sel.caveats:
        show("      caveat: " + c)
    positivity = _real_positivity(args, data, cfg)
    paths = _report(args, data, title, sel, positivity)
    unc, result, dcr = sel.uncertainty, sel.result, sel.dcr
    payload = {"data_source": args.data_source, "dcr": dcr.to_dict() if dcr is not None else None,
               "plan": str(sel.plan), "worlds": result.worlds, "simulation": result.to_dict(),
               "generator_uncertainty": unc.to_dict() if unc else None, "positivity": positivity.to_dict(),
               "real_estimate": real.to_dict(), "recommended": {"estimator": sel.choice[1], "learner": cfg.name,
                                                                "why": sel.why, "caveats": list(sel.caveats)},
               "selection": {"p_best": sel.p_best, "reliable": sel.reliable, "verdict": sel.verdict(),
                             "defensible": [list(m) for m in sel.defensible], "recipe": repr(sel.recipe)},
               "fidelity": sel.fidelity, "fidelity_issues": list(sel.fidelity_issues),
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


def _add_sim_args(p, *, reps: int, learners: str, reps_per_config: str | None, refits: int,
                  refit_reps: int) -> None:
    p.add_argument("--estimators", default=None, metavar="LIST",
                   help="comma-separated candidate estimators: or,ipw,aipw,tmle,dml (default: the library's "
                        "default panel, those of them that can target the estimand)")
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
    p.add_argument("--refits", type=whole(0), default=refits,
                   help="bootstrap refits of the deciding worlds (0 or 1 = skip)")
    add_deprecated_alias(p, "--generators", "--refits")
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
                  "causalsynth demo --n-reps 10 --reps-per-config glm=20 --refits 0 --out quick/",
                  "causalsynth demo --learners glm,gbm --n-jobs 4 --json > demo.json"])
    # sized to finish within 4 minutes on 2 cores (benchmarks/bench_demo.py); simulate takes more
    _add_sim_args(p, reps=20, learners="glm,gbm", reps_per_config="glm=160", refits=2, refit_reps=10)
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
    _add_sim_args(p, reps=100, learners="glm", reps_per_config=None, refits=3, refit_reps=20)
    p.set_defaults(func=cmd_simulate)
