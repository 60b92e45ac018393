"""The ``causalsynth augment`` subcommand: positivity diagnostics and targeted augmentation."""
from __future__ import annotations

import warnings

from ..errors import PositivityWarning, SpecError
from ._common import (
    SEED,
    add_command,
    add_deprecated_alias,
    add_data_args,
    add_force_arg,
    check_outputs,
    data_from,
    emit,
    number,
    provenance_of,
    whole,
    write_table,
)

__all__ = ["register", "cmd_augment"]


def register(sub) -> None:
    """Add the ``augment`` subparser to ``sub`` (an argparse subparsers object)."""
    p = add_command(
        sub, "augment", help="positivity diagnostics and targeted synthetic augmentation",
        description="Find units whose estimated propensity lies outside [delta, 1-delta], describe "
                    "where overlap fails, and add synthetic records in the missing arm near them "
                    "(cross-fitted outcomes). The output file holds the original rows, then the "
                    "synthetic ones, with marker columns aug_synthetic, aug_weight (weights that "
                    "restore the original covariate law), aug_pseudo_propensity, aug_source_index, "
                    "aug_fold and aug_region. Exclude the aug_ columns from the covariates when you "
                    "reuse the file. To diagnose without augmenting, use causalsynth diagnose.",
        examples=["causalsynth augment lalonde --out augmented.csv --budget 100 --report positivity/",
                  "causalsynth augment nhefs --out augmented.parquet --delta 0.1 --bootstrap 200",
                  "causalsynth augment data.csv -a treat -y re78 --out aug.csv --generator hybrid --json"])
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="FILE", help="augmented CSV or Parquet file (required)")
    p.add_argument("--budget", type=whole(1), default=None,
                   help="most synthetic records to add (default: one per low-overlap unit)")
    p.add_argument("--delta", type=number(0, 0.5, open_low=True, open_high=True), default=0.05, help="overlap bound: units outside [delta, 1-delta]")
    p.add_argument("--generator", default="local", choices=("local", "hybrid"),
                   help="covariates of the records: local perturbation or the copula generator")
    p.add_argument("--propensity", default=None, metavar="LEARNER", help="propensity learner (default: logistic)")
    p.add_argument("--outcome-learner", default=None, metavar="LEARNER",
                   help="outcome learner (default: linear for a continuous outcome, logistic for a binary one)")
    add_deprecated_alias(p, "--outcome-model", "--outcome-learner")
    p.add_argument("--n-folds", type=whole(2), default=5, help="cross-fitting folds")
    p.add_argument("--if-risky", default="withhold", choices=("withhold", "warn", "refuse", "ignore"),
                   help="when the records are expected to hurt (data-only outcomes extrapolated far from "
                        "the arm they fill): withhold (default) writes the original rows only and says why; "
                        "warn adds them with a warning; refuse stops with an error; ignore adds them")
    p.add_argument("--bootstrap", type=whole(0), default=0, metavar="B",
                   help="also give standard errors of the augmented estimates from B bootstrap "
                        "augmentations (e.g. 200; costs B augmentations; default: 0, off)")
    p.add_argument("--report", default=None, metavar="DIR",
                   help="write a Markdown/HTML/JSON report here (default: no report)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_force_arg(p)
    p.set_defaults(func=cmd_augment)


def cmd_augment(args) -> int:
    from ..data import check_data
    from ..estimators import estimate_from_nuisance
    from ..positivity import AugmentSpec, augment_positivity
    if args.bootstrap and args.bootstrap < 20:
        raise SpecError(f"--bootstrap needs at least 20 resamples (200 is usual); got {args.bootstrap}")
    check_outputs(args, tables=[("--out", args.out)], folders=[("--report", args.report, "augmentation")])
    data = check_data(data_from(args))
    spec = AugmentSpec(budget=args.budget, delta=args.delta, generator=args.generator, propensity=args.propensity,
                       outcome=args.outcome_learner, n_folds=args.n_folds, if_risky=args.if_risky)
    result = augment_positivity(data, spec, random_state=args.seed)
    diag = result.diagnostics
    if diag.warning:
        warnings.warn(diag.warning, PositivityWarning, stacklevel=1)
    write_table(result.frame(), args.out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = estimate_from_nuisance(data, result.original_fit)  # the default panel
    weighted = result.estimate()
    report_paths = (result.write_report(args.report, provenance=provenance_of(args, data))
                    if args.report else None)
    estimates = [{"estimator": r.estimator, "ate_original": r.ate, "ate_augmented_weighted": weighted[r.estimator]}
                 for r in original.rows]
    if args.bootstrap:
        boot = result.estimate(se_method="bootstrap", n_bootstrap=args.bootstrap, random_state=args.seed + 1)
        table = boot.summary().set_index("estimator")
        for e in estimates:
            row = table.loc[e["estimator"]]
            e.update(se_bootstrap=float(row["std_error"]), ci_lower=float(row["ci_lower"]),
                     ci_upper=float(row["ci_upper"]))
    payload = {"diagnostics": diag.to_dict(), "augmentation": result.to_dict(), "estimates": estimates,
               "out": args.out, "report": str(args.report) if report_paths else None}
    lines = [str(diag), "", str(result), "", "ATE: original rows (propensity clipped to [0.01, 0.99]) "
             "vs augmented rows weighted to the original covariate law"]
    lines += [f"  {e['estimator']:<5} {e['ate_original']:.4f} -> {e['ate_augmented_weighted']:.4f}"
              + (f"  (bootstrap SE {e['se_bootstrap']:.4f}, 95% CI {e['ci_lower']:.4f} to {e['ci_upper']:.4f})"
                 if "se_bootstrap" in e else "")
              for e in estimates]
    if result.risk.get("reason"):
        r = result.risk
        lines.append(f"no synthetic records: {r['withheld']} were withheld (--if-risky withhold, the default) because "
                     f"their outcomes would be extrapolations expected to hurt the estimates (median logit-propensity "
                     f"gap {r['median_logit_gap']:.1f} > {r['logit_gap_threshold']:g}); the output holds the original "
                     "rows. Pass --if-risky ignore to add them anyway.")
    lines.append(f"wrote {data.n_obs + result.n_added} rows ({result.n_added} synthetic) to {args.out}"
                 + (f"; report in {args.report}" if report_paths else ""))
    emit(args, payload, "\n".join(lines))
    return 0
