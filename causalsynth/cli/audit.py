"""The ``causalsynth audit`` subcommand."""
from __future__ import annotations

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
    say_for,
    share,
    split_names,
    whole,
)

__all__ = ["register", "cmd_audit", "SYNTHESIZER_NAMES", "DEFAULT_SYNTHESIZER_NAMES"]

#: ``causalsynth.audit.synthesizers.SYNTHESIZERS`` and ``DEFAULT_SYNTHESIZERS`` (a test keeps
#: them equal), named here so that ``--help`` does not import the audit and pandas.
SYNTHESIZER_NAMES = ("hybrid", "hybrid-bootstrap", "hybrid-ctgan", "hybrid-tvae", "copula", "ctgan", "tvae",
                     "bootstrap")
DEFAULT_SYNTHESIZER_NAMES = ("hybrid", "copula", "ctgan", "tvae", "bootstrap")


def _names(value: str) -> list[str]:
    return split_names(value) or []


def _positivity(args, data):
    """The real data's overlap for the report (the audit compares synthetic overlap with it)."""
    import warnings

    from ..positivity import diagnose_positivity
    from ..progress import step
    with step("positivity diagnostics of the real data"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report states the problem
        return diagnose_positivity(data, propensity=args.propensity, random_state=args.seed)


def cmd_audit(args) -> int:
    from ..audit import AuditConfig, audit
    from ..estimators import select_estimators
    check_outputs(args, folders=[("--out", args.out, "audit")])
    estimators, _ = select_estimators(split_names(args.estimators))  # None: the default panel
    data = data_from(args)
    say = say_for(args)
    names = _names(args.synthesizers)
    n_train = data.n_obs - round(args.holdout * data.n_obs)
    say(f"plan: {len(names)} synthesizer(s) ({', '.join(names)}) x {args.n_reps} repeat(s) = "
        f"{len(names) * args.n_reps} fits and draws of {args.n_synthetic or f'about {n_train}'} rows each, "
        f"estimators {','.join(estimators)}, utility learners {args.utility_learners}"
        + ("; ctgan/tvae train for --epochs " + str(args.epochs) + " each (the slow part)"
           if any(n.endswith(("ctgan", "tvae")) for n in names) else ""))
    config = AuditConfig(estimators=estimators, n_synthetic=args.n_synthetic, n_reps=args.n_reps,
                         epochs=args.epochs, propensity=args.propensity, outcome=args.outcome_learner,
                         utility_learners=_names(args.utility_learners), holdout=args.holdout, level=args.level)
    result = audit(data, config, synthesizers=names, random_state=args.seed)
    payload = result.to_dict()
    text = str(result)
    if args.out:
        positivity = _positivity(args, data)
        paths = result.write_report(args.out, positivity=positivity, provenance=provenance_of(args, data))
        payload["report"] = {k: str(v) for k, v in paths.items() if k in ("markdown", "html", "json")}
        payload["positivity"] = positivity.to_dict()
        text += f"\n\nwrote {paths['html']}, {paths['markdown']} and {paths['json']}"
    emit(args, payload, text)
    return 0


def register(sub) -> None:
    """Add the ``audit`` subparser to ``sub`` (an argparse subparsers action)."""
    p = add_command(
        sub, "audit", help="does synthetic data keep the treatment effect?",
        description="ATE preservation audit: fit each synthesizer several times, then compare the ATE on "
                    "synthetic data with the real estimate, beside predictive utility (train on synthetic, "
                    "test on real), fidelity, privacy (DCR) and overlap. The plan (synthesizers x repeats) is "
                    "printed first. Synthesizers: " + ", ".join(SYNTHESIZER_NAMES) + ".",
        examples=["causalsynth audit lalonde --synthesizers hybrid,copula --n-reps 3 --out audit/",
                  "causalsynth audit nhefs --synthesizers hybrid,copula,ctgan,tvae --n-reps 5 --epochs 300",
                  "causalsynth audit nhefs --synthesizers hybrid,bootstrap --n-reps 2 --json"])
    add_data_args(p)
    p.add_argument("--synthesizers", default=",".join(DEFAULT_SYNTHESIZER_NAMES), metavar="LIST",
                   help="comma-separated synthesizers")
    p.add_argument("--estimators", default=None, metavar="LIST",
                   help="comma-separated: or,ipw,aipw,tmle,dml (default: the library's default panel, "
                        "causalsynth.estimators.DEFAULT_ESTIMATORS)")
    p.add_argument("--n-synthetic", type=whole(1), default=None,
                   help="rows per synthetic draw (default: as many as the real training rows)")
    p.add_argument("--n-reps", type=whole(1), default=5, help="fits and draws per synthesizer")
    add_deprecated_alias(p, "--n-repeats", "--n-reps")
    p.add_argument("--epochs", type=whole(1), default=300, help="CTGAN/TVAE training epochs")
    p.add_argument("--propensity", default=None, metavar="LEARNER", help="propensity learner (default: logistic)")
    p.add_argument("--outcome-learner", default=None, metavar="LEARNER",
                   help="outcome learner (default: linear for a continuous outcome, logistic for a binary one)")
    add_deprecated_alias(p, "--outcome-model", "--outcome-learner")
    p.add_argument("--utility-learners", default="linear,gbm,forest,knn", metavar="LIST",
                   help="TSTR outcome learners; the first is reported")
    p.add_argument("--holdout", type=share, default=0.2, help="real holdout share")
    p.add_argument("--level", type=number(0, 1, open_low=True, open_high=True), default=0.95, help="confidence level")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write the report (HTML, Markdown, PNG, JSON) here (default: no report)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed")
    p.add_argument("--json", action="store_true", help="print one JSON document (the plan goes to stderr)")
    add_force_arg(p)
    p.set_defaults(func=cmd_audit)
