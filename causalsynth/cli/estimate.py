"""The ``causalsynth estimate`` subcommand."""
from __future__ import annotations

from ..errors import SpecError
from ._common import (
    SEED,
    add_command,
    add_deprecated_alias,
    add_data_args,
    add_estimand_args,
    data_from,
    embedded_name,
    emit,
    number,
    parse_bounds,
    split_names,
    whole,
)

__all__ = ["register", "cmd_estimate"]


def cmd_estimate(args) -> int:
    from ..estimators import EstimateOptions, estimate
    data = data_from(args)
    propensity, outcome = args.propensity, args.outcome_learner
    if args.book_models and embedded_name(args.data) != "nhefs":
        raise SpecError("--book-models applies to the embedded nhefs dataset only (the What If "
                        "book's formulas); give --propensity and --outcome-learner for other data")
    if args.book_models and (args.treatment or args.outcome or args.covariates):
        raise SpecError("--book-models uses the book's roles; drop --treatment/--outcome/--covariates")
    if args.book_models:
        from ..datasets import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA
        propensity, outcome = NHEFS_PROPENSITY_FORMULA, NHEFS_OUTCOME_FORMULA
    options = EstimateOptions(trim_bounds=parse_bounds(args.trim_bounds, "--trim-bounds"), se_method=args.se)
    result = estimate(data, estimators=split_names(args.estimators) if args.estimators else None,
                      estimand=args.estimand,
                      propensity_bounds=parse_bounds(args.propensity_bounds, "--propensity-bounds"),
                      propensity=propensity, outcome=outcome, n_folds=args.n_folds, level=args.level,
                      options=options, random_state=args.seed)
    emit(args, result.to_dict(), str(result))
    return 0


def register(sub) -> None:
    """Add the ``estimate`` subparser to ``sub`` (an argparse subparsers action)."""
    p = add_command(
        sub, "estimate", help="estimate the ATE with OR/IPW/AIPW/TMLE/DML",
        description="Estimate the average treatment effect (or the ATT, ATC, a trimmed or the overlap "
                    "estimand) of the binary treatment on the outcome with outcome regression "
                    "(g-computation), IPW, AIPW, TMLE and DML. The propensity and outcome models are fitted "
                    "once and shared by every estimator; standard errors come from the influence function "
                    "(or a bootstrap). The output has one row per estimator: estimate, standard error, "
                    "confidence interval, the arm means and a note, and an overlap verdict.",
        examples=["causalsynth estimate nhefs --book-models",
                  "causalsynth estimate lalonde --estimators aipw,tmle,dml --propensity gbm --json",
                  "causalsynth estimate data.csv -a treat -y re78 --estimand att --se bootstrap"])
    add_data_args(p)
    p.add_argument("--estimators", default=None, metavar="LIST",
                   help="comma-separated: or,ipw,aipw,tmle,dml (default: or,ipw,aipw,tmle, those of them that "
                        "can target the estimand)")
    add_estimand_args(p)
    p.add_argument("--propensity", default=None, metavar="LEARNER",
                   help="logistic | gbm | superlearner | a formula 'A ~ x1 + C(x2)' (default: logistic)")
    p.add_argument("--outcome-learner", default=None, metavar="LEARNER",
                   help="linear | logistic | gbm | superlearner | pooled:<preset> (one model over both arms) | "
                        "a formula (default: linear for a continuous outcome, logistic for a binary one)")
    add_deprecated_alias(p, "--outcome-model", "--outcome-learner")
    p.add_argument("--book-models", action="store_true",
                   help="with DATA=nhefs, use Hernan & Robins' propensity and outcome formulas")
    p.add_argument("--n-folds", type=whole(1), default=None,
                   help="cross-fitting folds (default: 1 for parametric learners, 5 for flexible ones)")
    p.add_argument("--level", type=number(0, 1, open_low=True, open_high=True), default=0.95, help="confidence level")
    p.add_argument("--se", choices=("influence", "bootstrap"), default="influence",
                   help="standard errors from the influence function or a bootstrap")
    p.add_argument("--seed", type=SEED, default=0, help="random seed (folds, learners, bootstrap)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_estimate)
