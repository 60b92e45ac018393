"""The ``causalsynth demo`` and ``causalsynth simulate`` subcommands: the main job."""
from __future__ import annotations

import json

from ..errors import SpecError
from ._common import add_data_args, data_from


def _learner_panel(spec: str) -> dict:
    """'glm,gbm' -> learner configurations (glm = logistic/linear GLMs without cross-fitting;
    gbm and superlearner cross-fitted with 5 folds)."""
    out = {}
    for name in [x.strip() for x in spec.split(",") if x.strip()]:
        if name in ("glm", "logistic", "linear"):
            out["glm"] = {"propensity": "logistic", "outcome": None}
        elif name in ("gbm", "superlearner"):
            out[name] = {"propensity": name, "outcome": name, "n_folds": 5}
        else:
            raise SpecError(f"unknown learner panel entry {name!r}; use glm, gbm or superlearner")
    return out


def _run_simulation(args, data, *, title: str):
    """Fit the hybrid synthesizer, check DCR, simulate, estimate the real ATE, write the report."""
    import time
    import warnings

    from ..estimators import estimate
    from ..report.render import Section, json_safe
    from ..simulate import simulate
    from ..simulate.report import write_simulation_report
    from ..simulate.uncertainty import generator_uncertainty
    from ..synth.hybrid import HybridSynthesizer

    t0 = time.perf_counter()
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    template = HybridSynthesizer(covariates=args.generator, min_dcr="auto", n_reference=100_000)
    synth = template.set_params(random_state=args.seed).fit(data)
    report = synth.dcr_report(random_state=args.seed)
    say(f"[1/4] hybrid synthesizer fitted on {data.n_obs} rows ({args.generator} covariates); "
        f"population ATE {synth.population_ate_:.3f}")
    say(f"      DCR: exact copies {report.exact_copy_share:.3f}, closer-to-train share "
        f"{report.closer_to_train_share:.3f} (ideal 0.5), membership AUC {report.membership_auc:.3f} (ideal 0.5)")
    learners = _learner_panel(args.learners)
    n = args.n or data.n_obs
    say(f"[2/4] simulating {', '.join(args.estimators.split(','))} x learners {list(learners)} "
        f"on {args.n_reps} synthetic replicates of n={n} ...")
    result = simulate(synth, estimators=tuple(args.estimators.split(",")), n=n, n_reps=args.n_reps,
                      learners=learners, n_jobs=args.n_jobs, backend=args.backend, scheduler=args.scheduler,
                      checkpoint=args.checkpoint, resume=args.resume, random_state=args.seed)
    say(str(result))
    unc = None
    if args.generators > 1:
        say(f"[3/4] refitting the synthesizer on {args.generators} bootstrap resamples of the real data ...")
        glm_only = {k: v for k, v in learners.items() if k == "glm"} or learners
        unc = generator_uncertainty(data, template, n_generators=args.generators, estimators=tuple(args.estimators.split(",")),
                                    n=n, n_reps=args.n_reps, learners=glm_only, n_jobs=args.n_jobs,
                                    random_state=args.seed + 1, original=result)
        say(str(unc))
    best = result.best()
    cfg = best["learner"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = estimate(data, estimators=(best["estimator"],), propensity=cfg.propensity, outcome=cfg.outcome,
                        n_folds=cfg.n_folds, random_state=args.seed)
    row = real.summary().iloc[0]
    say(f"[4/4] real data, recommended {best['estimator'].upper()} ('{cfg.name}' learners): ATE "
        f"{row['ate']:.3f} (95% CI {row['ci_lower']:.3f} to {row['ci_upper']:.3f})")
    lead = [Section("Real-data estimate with the recommended estimator",
                    f"{best['estimator'].upper()} with the '{cfg.name}' learners ({cfg.describe()}).",
                    real.summary().drop(columns=["note"]))]
    extra = [Section("Privacy: distance to closest record",
                     "Synthetic covariate rows against the real training rows, with a real holdout as "
                     "baseline (exact copies should be 0; closer-to-train share and membership AUC near 0.5).",
                     report.summary().reset_index().rename(columns={"index": "distances"}), figure=report.plot().figure)]
    if unc is not None:
        extra.append(Section("Generator uncertainty", str(unc).split("\n")[0], unc.summary()))
    paths = write_simulation_report(result, args.out, title=title, extra=extra, lead=lead)
    payload = {"dcr": report.to_dict(), "synthesizer": synth.summary(), "simulation": result.to_dict(),
               "generator_uncertainty": unc.to_dict() if unc else None,
               "real_estimate": real.to_dict(), "recommended": {"estimator": best["estimator"], "learner": cfg.name},
               "report": {k: str(v) for k, v in paths.items() if k in ("markdown", "html", "json")},
               "seconds": time.perf_counter() - t0}
    if args.json:
        print(json.dumps(json_safe(payload)))
    else:
        print(f"report: {paths['html']} and {paths['markdown']} ({time.perf_counter() - t0:.0f} s)")
    return 0


def cmd_demo(args) -> int:
    from ..datasets import load_nhefs
    args.learners = args.learners or "glm,gbm"
    args.n = None
    return _run_simulation(args, load_nhefs(),
                           title="causalsynth demo: which estimator for NHEFS (quitting smoking -> weight gain)?")


def cmd_simulate(args) -> int:
    return _run_simulation(args, data_from(args), title=f"Estimator simulation for {args.data}")


def _add_sim_args(p, *, reps: int, learners: str | None) -> None:
    p.add_argument("--estimators", default="or,ipw,aipw,tmle", help="comma-separated estimators")
    p.add_argument("--learners", default=learners, help="learner panel: glm,gbm,superlearner")
    p.add_argument("--n-reps", type=int, default=reps, help="synthetic replicates")
    p.add_argument("--generator", default="copula", choices=("bootstrap", "copula", "ctgan", "tvae"))
    p.add_argument("--generators", type=int, default=4, help="bootstrap refits of the synthesizer (0 = skip)")
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes")
    p.add_argument("--backend", default="joblib", choices=("joblib", "dask"))
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (backend dask)")
    p.add_argument("--checkpoint", default=None, help="folder for resumable results")
    p.add_argument("--resume", action="store_true", help="continue the run in --checkpoint")
    p.add_argument("--out", default="causalsynth-out", help="report folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")


def register(sub) -> None:
    """Add the ``demo`` and ``simulate`` subparsers to ``sub``."""
    p = sub.add_parser("demo", help="the main job on embedded NHEFS",
                       description="On embedded NHEFS: fit the hybrid synthesizer, check DCR, simulate the "
                                   "estimator panel, print the ranking, estimate the real ATE with the "
                                   "recommended estimator, and write the report.")
    _add_sim_args(p, reps=60, learners=None)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("simulate", help="choose an estimator on synthetic replicates with known truth",
                       description="Fit the hybrid synthesizer to DATA and simulate the estimators on "
                                   "replicates drawn from it; rank them and estimate the real ATE with the best.")
    add_data_args(p)
    p.add_argument("--n", type=int, default=None, help="replicate size (default: the real n)")
    _add_sim_args(p, reps=100, learners="glm")
    p.set_defaults(func=cmd_simulate)
