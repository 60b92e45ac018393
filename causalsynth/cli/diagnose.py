"""The ``causalsynth diagnose`` subcommand: positivity (overlap) diagnostics, without augmenting."""
from __future__ import annotations

from ._common import (
    PLOT_SUFFIXES,
    SEED,
    add_command,
    add_data_args,
    add_force_arg,
    check_outputs,
    data_from,
    emit,
    number,
    provenance_of,
    whole,
)

__all__ = ["register", "cmd_diagnose"]


def cmd_diagnose(args) -> int:
    import warnings

    from ..positivity import diagnose_positivity
    from ..progress import step
    check_outputs(args, files=[("--plot", args.plot, PLOT_SUFFIXES)],
                  folders=[("--report", args.report, "positivity")])
    data = data_from(args)
    with step("cross-fitting the propensity model"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the verdict below states it, once
        report = diagnose_positivity(data, propensity=args.propensity, delta=args.delta, n_folds=args.n_folds,
                                     max_depth=args.max_depth, random_state=args.seed)
    verdict = (f"verdict: overlap problem. {report.warning}" if report.warning else
               f"verdict: no practical positivity problem at delta={report.delta:g} (at most 1% of units "
               "outside the bounds and each arm's effective sample size at least 10% of its size)")
    payload = {"positivity": report.to_dict(), "verdict": verdict, "report": None, "plot": None}
    lines = [str(report), verdict]
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        from ..report.writer import save_figure
        ax = report.plot()
        save_figure(ax.figure, args.plot, fmt=args.plot.rsplit(".", 1)[-1].lower(), what="--plot")
        payload["plot"] = args.plot
        lines.append(f"wrote the propensity plot to {args.plot}")
    if args.report:
        paths = report.write_report(args.report, provenance=provenance_of(args, data))
        payload["report"] = {k: str(v) for k, v in paths.items() if k in ("markdown", "html", "json")}
        lines.append(f"wrote {paths['html']}, {paths['markdown']} and {paths['json']}")
    emit(args, payload, "\n".join(lines))
    return 0


def register(sub) -> None:
    """Add the ``diagnose`` subparser to ``sub`` (an argparse subparsers action)."""
    p = add_command(
        sub, "diagnose", help="positivity (overlap) diagnostics, without augmenting",
        description="Diagnose practical positivity from the cross-fitted estimated propensity: the share of "
                    "units outside [delta, 1-delta], the Kish effective sample size of the inverse-probability "
                    "weights per arm, the overlap coefficient of the two arms' propensity distributions, the "
                    "largest weights, and the covariate regions where overlap fails (leaves of a shallow "
                    "decision tree). Nothing is added to the data; see causalsynth augment for that.",
        examples=["causalsynth diagnose lalonde",
                  "causalsynth diagnose nhefs --delta 0.1 --propensity gbm --report positivity/ --plot overlap.png",
                  "causalsynth diagnose data.csv -a treat -y re78 --json"])
    add_data_args(p)
    p.add_argument("--delta", type=number(0, 0.5, open_low=True, open_high=True), default=0.05, help="overlap bound: units outside [delta, 1-delta]")
    p.add_argument("--propensity", default=None, metavar="LEARNER",
                   help="logistic | gbm | superlearner | a formula 'A ~ x1 + C(x2)' (default: main-terms logistic)")
    p.add_argument("--n-folds", type=whole(1), default=5, help="cross-fitting folds of the propensity (1 = in sample)")
    p.add_argument("--max-depth", type=whole(1), default=2, help="depth of the tree that describes the regions")
    p.add_argument("--report", default=None, metavar="DIR",
                   help="write the report (HTML, Markdown, PNG, JSON) here (default: no report)")
    p.add_argument("--plot", default=None, metavar="FILE",
                   help="save the propensity-by-arm plot (PNG; default: no plot)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed (folds and learner)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_force_arg(p)
    p.set_defaults(func=cmd_diagnose)
