"""Subcommands beyond ``estimate`` (kept apart so cli.py stays short)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


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
            from .errors import SpecError
            raise SpecError(f"unknown learner panel entry {name!r}; use glm, gbm or superlearner")
    return out


def _run_simulation(args, data, *, title: str):
    """Fit the hybrid synthesizer, check DCR, simulate, estimate the real ATE, write the report."""
    import time
    import warnings

    from .estimators import estimate
    from .report.render import Section
    from .simulate import simulate
    from .simulate.report import write_simulation_report
    from .simulate.uncertainty import generator_uncertainty
    from .synth.hybrid import HybridSynthesizer

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
        print(json.dumps(payload, default=str))
    else:
        print(f"report: {paths['html']} and {paths['markdown']} ({time.perf_counter() - t0:.0f} s)")
    return 0


def cmd_demo(args) -> int:
    from .datasets import load_nhefs
    args.learners = args.learners or "glm,gbm"
    args.n = None
    return _run_simulation(args, load_nhefs(),
                           title="causalsynth demo: which estimator for NHEFS (quitting smoking -> weight gain)?")


def cmd_simulate(args) -> int:
    from .cli import _data_from
    return _run_simulation(args, _data_from(args), title=f"Estimator simulation for {args.data}")


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


def register(sub, add_data_args) -> None:
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
    register_synth(sub, add_data_args)


TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst")


def check_table_path(path: str | None) -> None:
    """Refuse an output name we would not write faithfully, before any work is done."""
    from .errors import SpecError
    if path is None:
        return
    suffixes = "".join(Path(path).suffixes).lower()
    ok = suffixes.endswith(TABLE_SUFFIXES) or any(suffixes.endswith(".csv" + c) for c in COMPRESSIONS)
    if not ok:
        stem = Path(path).name.split(".")[0] or "table"
        raise SpecError(f"cannot write {path!r}: tables are written as .csv (optionally compressed, "
                        f"e.g. .csv.gz) or .parquet; got {Path(path).suffix.lower() or 'no suffix'!r}. "
                        f"Fix: name the file e.g. {stem}.csv")


def _write_table(frame, path: str) -> None:
    check_table_path(path)
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False)


def _parse_min_dcr(value):
    if value is None or value == "auto":
        return value
    return float(value)


def cmd_synthesize(args) -> int:
    from .cli import _data_from, _emit
    from .errors import SpecError
    from .synth.hybrid import HybridSynthesizer
    if args.n < 1:
        raise SpecError(f"--n must be a positive number of rows; got {args.n}")
    check_table_path(args.out)
    check_table_path(args.truth_out)
    data = _data_from(args)
    synth = HybridSynthesizer(covariates=args.generator,
                              covariate_options={"epochs": args.epochs} if args.generator in ("ctgan", "tvae") else None,
                              propensity=args.propensity, outcome=args.outcome_model, noise=args.noise,
                              holdout=args.holdout, min_dcr=_parse_min_dcr(args.min_dcr), ate=args.ate,
                              effect_scale=args.effect_scale, overlap=args.overlap,
                              confounding=args.confounding, treated_share=args.treated_share,
                              random_state=args.seed).fit(data)
    sample = synth.sample(args.n, random_state=args.seed + 1)
    _write_table(sample.data.frame, args.out)
    if args.truth_out:
        _write_table(sample.truth, args.truth_out)
    if args.save_model:
        synth.save(args.save_model)
    report = synth.dcr_report(random_state=args.seed) if synth.real_holdout_ is not None else None
    payload = {"synthesizer": synth.summary(), "n": args.n, "sample_ate": sample.sate,
               "n_replaced_by_privacy_filter": synth.last_n_replaced_, "out": args.out,
               "truth_out": args.truth_out, "dcr": report.to_dict() if report else None}
    text = [f"wrote {args.n} synthetic rows to {args.out}"
            + (f" and their truth to {args.truth_out}" if args.truth_out else ""),
            f"population ATE {synth.population_ate_:.4f} (MC SE {synth.population_ate_se_:.4f}); "
            f"sample ATE {sample.sate:.4f}"]
    if synth.min_dcr_ is not None:
        text.append(f"privacy filter min_dcr={synth.min_dcr_:.4g}: replaced {synth.last_n_replaced_} rows")
    if report is not None:
        text.append(str(report))
    _emit(args, payload, "\n".join(text))
    return 0


def cmd_dcr(args) -> int:
    from .cli import _emit, read_table
    from .privacy import dcr
    real, synth = read_table(args.real), read_table(args.synthetic)
    holdout = read_table(args.holdout) if args.holdout else None
    cols = [c.strip() for c in args.columns.split(",")] if args.columns else list(real.columns)
    missing = {name: [c for c in cols if c not in f.columns]
               for name, f in (("REAL", real), ("SYNTH", synth), ("holdout", holdout)) if f is not None}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        from .errors import DataError
        raise DataError("columns missing: " + "; ".join(f"{k}: {v}" for k, v in missing.items())
                        + ". Fix: pass --columns with the columns the files share.")
    report = dcr(real[cols], synth[cols], holdout=None if holdout is None else holdout[cols],
                 random_state=args.seed)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        ax = report.plot()
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
    _emit(args, report.to_dict(), str(report))
    return 0


def register_synth(sub, add_data_args) -> None:
    p = sub.add_parser("synthesize", help="hybrid synthetic data with its truth",
                       description="Fit the hybrid synthesizer (covariate generator + nuisance models) "
                                   "and write synthetic rows, optionally with their truth.")
    add_data_args(p)
    p.add_argument("--n", type=int, required=True, help="number of synthetic rows")
    p.add_argument("--out", required=True, help="output CSV or Parquet file")
    p.add_argument("--truth-out", help="file for the truth: y0, y1, mu0, mu1, propensity, cate")
    p.add_argument("--save-model", help="save the fitted synthesizer here")
    p.add_argument("--generator", default="copula", choices=("bootstrap", "copula", "ctgan", "tvae"))
    p.add_argument("--epochs", type=int, default=300, help="CTGAN/TVAE epochs")
    p.add_argument("--propensity", default=None)
    p.add_argument("--outcome-model", default=None)
    p.add_argument("--noise", default="auto", choices=("auto", "gaussian", "heteroscedastic", "residuals"))
    p.add_argument("--holdout", type=float, default=0.2, help="share of real rows kept as DCR baseline")
    p.add_argument("--min-dcr", default=None, help="privacy filter threshold: a number or 'auto'")
    p.add_argument("--ate", type=float, default=None, help="target population ATE")
    p.add_argument("--effect-scale", type=float, default=1.0)
    p.add_argument("--overlap", type=float, default=1.0)
    p.add_argument("--confounding", type=float, default=1.0)
    p.add_argument("--treated-share", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_synthesize)

    p = sub.add_parser("dcr", help="distance-to-closest-record privacy check",
                       description="Distances from synthetic rows to the closest real training row, "
                                   "against the real holdout baseline.")
    p.add_argument("real", metavar="REAL", help="real training rows (CSV/Parquet)")
    p.add_argument("synthetic", metavar="SYNTH", help="synthetic rows (CSV/Parquet)")
    p.add_argument("--holdout", help="real rows the generator did not see")
    p.add_argument("--columns", help="comma-separated columns to compare (default: REAL's columns)")
    p.add_argument("--plot", help="save a plot of the distance distributions (PNG)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dcr)
