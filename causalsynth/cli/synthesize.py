"""The ``causalsynth synthesize`` and ``causalsynth dcr`` subcommands."""
from __future__ import annotations

from ..errors import DataError, PickleRequiredError, SpecError
from ._common import (
    PLOT_SUFFIXES,
    SEED,
    add_command,
    add_deprecated_alias,
    add_data_args,
    add_force_arg,
    check_outputs,
    data_from,
    emit,
    min_dcr_value,
    number,
    read_table,
    share,
    whole,
    write_table,
)

__all__ = ["register", "cmd_synthesize", "cmd_dcr"]


def _check_n(args, data) -> None:
    """--n large enough for both arms (5 rows each) at the expected treated share, before fitting."""
    from ..data import MIN_ROWS_PER_ARM
    p = args.treated_share if args.treated_share is not None else data.n_treated / data.n_obs
    low = min(p, 1 - p)
    need = int(-(-MIN_ROWS_PER_ARM // low)) if low > 0 else None
    if need is not None and args.n < need:
        raise SpecError(f"--n {args.n} is too small: at a treated share of {p:.2f}, {args.n} rows give about "
                        f"{args.n * low:.0f} rows in the smaller arm, and each arm needs at least {MIN_ROWS_PER_ARM}. "
                        f"Fix: pass --n {max(need, 100)} or more")


def _sample(synth, args):
    """The synthetic rows; an arm too small for the data rules is reported against --n."""
    try:
        return synth.sample(args.n, random_state=args.seed + 1)
    except DataError as exc:
        if "too few rows" not in str(exc) and "empty arm" not in str(exc):
            raise
        raise SpecError(f"--n {args.n}: the synthetic rows drawn have an arm too small ({exc}). "
                        f"Fix: pass a larger --n (e.g. {max(10 * args.n, 100)})") from exc


def _model_key(args) -> str | None:
    """The secret named by ``--model-key`` (an environment variable), checked before fitting."""
    import os

    from ..synth.io import needs_key
    if args.model_key and not args.save_model:
        raise SpecError("--model-key signs the file written by --save-model; give --save-model too")
    if args.model_key:
        key = os.environ.get(args.model_key)
        if not key:
            raise SpecError(f"--model-key {args.model_key}: the environment variable {args.model_key!r} is "
                            "unset or empty; export a secret in it (e.g. python -c 'import secrets; "
                            "print(secrets.token_hex(32))')")
        return key
    reasons = needs_key(generator=args.generator, propensity=args.propensity, outcome=args.outcome_learner) \
        if args.save_model else []
    if reasons:
        raise SpecError(f"--save-model: {' and '.join(reasons)} can be saved only as a signed pickle; "
                        "pass --model-key VAR, VAR an environment variable holding a secret key")
    return None


def cmd_synthesize(args) -> int:
    from ..synth.hybrid import HybridSynthesizer, SynthSettings
    check_outputs(args, tables=[("--out", args.out), ("--truth-out", args.truth_out)],
                  files=[("--save-model", args.save_model)])
    key = _model_key(args)
    data = data_from(args)
    settings = SynthSettings(covariate_options={"epochs": args.epochs} if args.generator in ("ctgan", "tvae") else None,
                             holdout=args.holdout)
    synth = HybridSynthesizer(generator=args.generator, settings=settings,
                              propensity=args.propensity, outcome=args.outcome_learner, noise=args.noise,
                              min_dcr=args.min_dcr, ate=args.ate,
                              effect_scale=args.effect_scale, overlap=args.overlap,
                              confounding=args.confounding, treated_share=args.treated_share,
                              random_state=args.seed)  # checks the knobs
    _check_n(args, data)
    synth.fit(data)
    if args.save_model:  # first: a refused save leaves no output behind
        try:
            synth.save(args.save_model, key=key)
        except PickleRequiredError as exc:
            raise SpecError(f"--save-model: {exc}".split(" Fix:")[0] + " Fix: pass --model-key VAR, VAR an "
                            "environment variable holding a secret key.") from exc
    sample = _sample(synth, args)
    write_table(sample.data.frame, args.out)
    if args.truth_out:
        write_table(sample.truth, args.truth_out)
    report = synth.dcr_report(random_state=args.seed) if synth.real_holdout_ is not None else None
    payload = {"synthesizer": synth.to_dict(), "n": args.n, "sample_ate": sample.sate,
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
    emit(args, payload, "\n".join(text))
    return 0


def cmd_dcr(args) -> int:
    from ..privacy import dcr
    check_outputs(args, files=[("--plot", args.plot, PLOT_SUFFIXES)],
                  inputs=[("REAL", args.real), ("SYNTH", args.synthetic), ("--holdout", args.holdout)])
    real, synth = read_table(args.real), read_table(args.synthetic)
    holdout = read_table(args.holdout) if args.holdout else None
    cols = [c.strip() for c in args.columns.split(",")] if args.columns else list(real.columns)
    missing = {name: [c for c in cols if c not in f.columns]
               for name, f in (("REAL", real), ("SYNTH", synth), ("holdout", holdout)) if f is not None}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        raise DataError("columns missing: " + "; ".join(f"{k}: {v}" for k, v in missing.items())
                        + ". Fix: pass --columns with the columns the files share.")
    report = dcr(real[cols], synth[cols], holdout=None if holdout is None else holdout[cols],
                 random_state=args.seed)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        from ..report.writer import save_figure
        ax = report.plot()
        save_figure(ax.figure, args.plot, fmt=args.plot.rsplit(".", 1)[-1].lower(), what="--plot")
    emit(args, report.to_dict(), str(report))
    return 0


def register(sub) -> None:
    """Add the ``synthesize`` and ``dcr`` subparsers to ``sub``."""
    p = add_command(
        sub, "synthesize", help="hybrid synthetic data with its truth",
        description="Fit the hybrid synthesizer to DATA (covariates from a generator, watched by "
                    "distance-to-closest-record checks; treatment and outcome drawn from fitted nuisance "
                    "models) and write synthetic rows, optionally with their truth (y0, y1, mu0, mu1, "
                    "propensity, cate). Knobs change one thing each: --ate, --effect-scale, --overlap, "
                    "--confounding, --treated-share.",
        examples=["causalsynth synthesize nhefs --n 5000 --out synth.csv --truth-out truth.csv --min-dcr auto",
                  "causalsynth synthesize lalonde --n 2000 --out synth.parquet --overlap 2 --ate 1000",
                  "causalsynth synthesize nhefs --n 1000 --out s.csv --save-model nhefs.csz"])
    add_data_args(p)
    p.add_argument("--n", type=whole(1), required=True, help="number of synthetic rows (required)")
    p.add_argument("--out", required=True, metavar="FILE", help="output CSV or Parquet file (required)")
    p.add_argument("--truth-out", metavar="FILE",
                   help="file for the truth: y0, y1, mu0, mu1, propensity, cate (default: not written)")
    p.add_argument("--save-model", metavar="FILE",
                   help="save the fitted synthesizer here, as arrays and JSON (no pickle); read it with "
                        "HybridSynthesizer.load(path) (default: not saved)")
    p.add_argument("--model-key", metavar="VAR",
                   help="name of an environment variable holding a secret key: --save-model then signs the "
                        "file (HMAC-SHA256), and synthesizers with gbm/superlearner/flexible learners or "
                        "ctgan/tvae generators, which only a pickle can hold, are written as a signed pickle; "
                        "read it with HybridSynthesizer.load(path, key=...) (default: no key, unsigned arrays)")
    p.add_argument("--generator", default="copula", choices=("bootstrap", "copula", "ctgan", "tvae"),
                   help="covariate generator")
    p.add_argument("--epochs", type=whole(1), default=300, help="CTGAN/TVAE training epochs")
    p.add_argument("--propensity", default=None, metavar="LEARNER",
                   help="propensity model: logistic | gbm | superlearner | flexible | a formula (default: logistic)")
    p.add_argument("--outcome-learner", default=None, metavar="LEARNER",
                   help="outcome model: linear | logistic | gbm | superlearner | flexible | a formula "
                        "(default: linear for a continuous outcome, logistic for a binary one)")
    add_deprecated_alias(p, "--outcome-model", "--outcome-learner")
    p.add_argument("--noise", default="auto", choices=("auto", "gaussian", "heteroscedastic", "residuals"),
                   help="outcome noise (auto: gaussian for continuous outcomes, Bernoulli for binary ones)")
    p.add_argument("--holdout", type=share, default=0.2, help="share of real rows kept as the DCR baseline")
    p.add_argument("--min-dcr", type=min_dcr_value, default=None, metavar="NUMBER|auto",
                   help="privacy filter: redraw synthetic covariate rows closer than this to a real training "
                        "row; 'auto' = the 5%% quantile of real-holdout distances (default: no filter)")
    p.add_argument("--ate", type=number(), default=None,
                   help="target population ATE (default: the fitted models' own effect)")
    p.add_argument("--effect-scale", type=number(), default=1.0, help="heterogeneity around the mean effect")
    p.add_argument("--overlap", type=number(), default=1.0,
                   help="temper the propensity: below 1 better overlap, above 1 worse")
    p.add_argument("--confounding", type=number(), default=1.0, help="0 randomizes the treatment assignment")
    p.add_argument("--treated-share", type=number(0, 1, open_low=True, open_high=True), default=None,
                   help="share of treated rows (default: the real share)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_force_arg(p)
    p.set_defaults(func=cmd_synthesize)

    p = add_command(
        sub, "dcr", help="distance-to-closest-record privacy check",
        description="Distances from each synthetic row to the closest real training row, against the "
                    "baseline of real holdout rows the generator did not see: exact copies, the share of "
                    "synthetic rows closer to the training rows than the holdout is (ideal 0.5) and a "
                    "membership-inference AUC (ideal 0.5).",
        examples=["causalsynth dcr real.csv synth.csv --holdout holdout.csv --plot dcr.png",
                  "causalsynth dcr real.parquet synth.parquet --columns age,sex,wt71 --json"])
    p.add_argument("real", metavar="REAL", help="real training rows (CSV/Parquet)")
    p.add_argument("synthetic", metavar="SYNTH", help="synthetic rows (CSV/Parquet)")
    p.add_argument("--holdout", metavar="FILE",
                   help="real rows the generator did not see (default: none; no baseline)")
    p.add_argument("--columns", metavar="A,B,...", help="comma-separated columns to compare (default: REAL's columns)")
    p.add_argument("--plot", metavar="FILE", help="save a plot of the distance distributions (PNG; default: no plot)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_force_arg(p)
    p.set_defaults(func=cmd_dcr)
