"""The ``causalsynth audit`` subcommand."""
from __future__ import annotations

from ..errors import SpecError
from ._common import add_data_args, data_from, emit, split_names

__all__ = ["register", "cmd_audit"]


def _names(value: str) -> list[str]:
    return split_names(value) or []


def cmd_audit(args) -> int:
    from ..audit import audit
    data = data_from(args)
    if args.n_repeats < 1:
        raise SpecError(f"--n-repeats must be >= 1; got {args.n_repeats}")
    result = audit(data, synthesizers=_names(args.synthesizers), estimators=_names(args.estimators),
                   n_synthetic=args.n_synthetic, n_repeats=args.n_repeats, epochs=args.epochs,
                   propensity=args.propensity, outcome=args.outcome_model,
                   utility_learners=_names(args.utility_learners), holdout=args.holdout,
                   level=args.level, random_state=args.seed)
    payload = result.to_dict()
    text = str(result)
    if args.out:
        paths = result.write_report(args.out)
        payload["report"] = {k: str(v) for k, v in paths.items() if k in ("markdown", "html", "json")}
        text += f"\n\nwrote {paths['html']}, {paths['markdown']} and {paths['json']}"
    emit(args, payload, text)
    return 0


def register(sub) -> None:
    """Add the ``audit`` subparser to ``sub`` (an argparse subparsers action)."""
    from ..audit.synthesizers import DEFAULT_SYNTHESIZERS, SYNTHESIZERS
    p = sub.add_parser(
        "audit", help="does synthetic data keep the treatment effect?",
        description="ATE preservation audit: fit each synthesizer several times, then compare the "
                    "ATE on synthetic data with the real estimate, beside predictive utility, "
                    "fidelity, privacy and overlap. Synthesizers: " + ", ".join(SYNTHESIZERS) + ".")
    add_data_args(p)
    p.add_argument("--synthesizers", default=",".join(DEFAULT_SYNTHESIZERS),
                   help=f"comma-separated (default {','.join(DEFAULT_SYNTHESIZERS)})")
    p.add_argument("--estimators", default="or,ipw,aipw,tmle", help="comma-separated: or,ipw,aipw,tmle,dml")
    p.add_argument("--n-synthetic", type=int, default=None,
                   help="rows per synthetic draw (default: as many as the real training rows)")
    p.add_argument("--n-repeats", type=int, default=5, help="fits and draws per synthesizer (default 5)")
    p.add_argument("--epochs", type=int, default=300, help="CTGAN/TVAE training epochs (default 300)")
    p.add_argument("--propensity", default=None, help="propensity learner (default logistic)")
    p.add_argument("--outcome-model", default=None, help="outcome learner (default linear/logistic)")
    p.add_argument("--utility-learners", default="linear,gbm,forest,knn",
                   help="TSTR outcome learners; the first is reported (default linear,gbm,forest,knn)")
    p.add_argument("--holdout", type=float, default=0.2, help="real holdout share (default 0.2)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--out", default=None, help="write the report (HTML, Markdown, PNG, JSON) here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_audit)
