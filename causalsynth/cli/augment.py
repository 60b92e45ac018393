"""The ``causalsynth augment`` subcommand: positivity diagnostics and targeted augmentation."""
from __future__ import annotations

import warnings

from ..data import check_data
from ..errors import PositivityWarning, SpecError
from ._common import add_data_args, check_table_path, data_from, emit, write_table

__all__ = ["register", "cmd_augment"]


def register(sub) -> None:
    """Add the ``augment`` subparser to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "augment", help="positivity diagnostics and targeted synthetic augmentation",
        description="Find units whose estimated propensity lies outside [delta, 1-delta], describe "
                    "where overlap fails, and add synthetic records in the missing arm near them "
                    "(cross-fitted outcomes). The output file holds the original rows, then the "
                    "synthetic ones, with marker columns aug_synthetic, aug_weight (weights that "
                    "restore the original covariate law), aug_pseudo_propensity, aug_source_index, "
                    "aug_fold and aug_region. Exclude the aug_ columns from the covariates when you "
                    "reuse the file.")
    add_data_args(p)
    p.add_argument("--out", required=True, metavar="FILE", help="augmented CSV or Parquet file")
    p.add_argument("--budget", type=int, default=None,
                   help="most synthetic records to add (default: one per low-overlap unit)")
    p.add_argument("--delta", type=float, default=0.05, help="overlap bound (default 0.05)")
    p.add_argument("--generator", default="local", choices=("local", "hybrid"),
                   help="covariates of the records: local perturbation or the copula generator")
    p.add_argument("--propensity", default=None, help="propensity learner (default logistic)")
    p.add_argument("--outcome-model", default=None, help="outcome learner (default linear/logistic)")
    p.add_argument("--n-folds", type=int, default=5, help="cross-fitting folds (default 5)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="also give standard errors of the augmented estimates from B bootstrap "
                        "augmentations (e.g. 200; costs B augmentations; default off)")
    p.add_argument("--report", default=None, metavar="DIR", help="write a Markdown/HTML/JSON report here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_augment)


def cmd_augment(args) -> int:
    from ..estimators import estimate_from_nuisance
    from ..positivity import augment_positivity
    check_table_path(args.out)
    if args.bootstrap and args.bootstrap < 20:
        raise SpecError(f"--bootstrap needs at least 20 resamples (200 is usual); got {args.bootstrap}")
    data = check_data(data_from(args))
    result = augment_positivity(data, budget=args.budget, delta=args.delta, generator=args.generator,
                                propensity=args.propensity, outcome=args.outcome_model,
                                n_folds=args.n_folds, random_state=args.seed)
    diag = result.diagnostics
    if diag.warning:
        warnings.warn(diag.warning, PositivityWarning, stacklevel=1)
    write_table(result.frame(), args.out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = estimate_from_nuisance(data, result.original_fit, ["or", "ipw", "aipw", "tmle"])
    weighted = result.estimate()
    report_paths = result.write_report(args.report) if args.report else None
    estimates = [{"estimator": k, "ate_original": v.ate, "ate_augmented_weighted": weighted[k]}
                 for k, v in original.items()]
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
    lines.append(f"wrote {data.n_obs + result.n_added} rows ({result.n_added} synthetic) to {args.out}"
                 + (f"; report in {args.report}" if report_paths else ""))
    emit(args, payload, "\n".join(lines))
    return 0
