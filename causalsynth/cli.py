"""The ``causalsynth`` command.

Every subcommand has ``--help`` and ``--json`` (one JSON document on stdout), and exits with
status 2 and a one-line message on stderr when the input is bad (``--debug`` shows the
traceback instead).
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CausalSynthError, DataFileError, SpecError

__all__ = ["main", "read_table", "load_data_arg"]


# ---------------------------------------------------------------------------- data input
def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file, raising DataFileError with the reason on failure."""
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"file not found: {str(path)!r} (embedded datasets: nhefs, lalonde)")
    if p.is_dir():
        raise DataFileError(f"{str(path)!r} is a directory, not a CSV or Parquet file")
    suffixes = "".join(p.suffixes).lower()
    try:
        if suffixes.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        if suffixes.endswith((".csv", ".csv.gz", ".txt", ".tsv")) or not p.suffix:
            sep = "\t" if suffixes.endswith(".tsv") else ","
            with open(p, "rb") as fh:
                if fh.read(4) == b"PAR1":
                    raise DataFileError(f"{str(path)!r} is a Parquet file; name it .parquet")
            frame = pd.read_csv(p, sep=sep)
            if frame.shape[1] < 2:
                raise DataFileError(f"{str(path)!r} parsed into {frame.shape[1]} column(s); is it a CSV file?")
            if len(frame) == 0:
                raise DataFileError(f"{str(path)!r} has a header but no rows")
            names = pd.read_csv(p, sep=sep, header=None, nrows=1, dtype=str,
                                keep_default_na=False).iloc[0].tolist()
            dup = sorted({c for c in names if c.strip() and names.count(c) > 1})
            if dup:
                raise DataFileError(f"{str(path)!r} repeats column name(s) {dup} in its header; rename them")
            return frame
    except DataFileError:
        raise
    except Exception as exc:  # pandas and pyarrow raise many kinds
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataFileError(f"cannot read {str(path)!r}: {first}") from exc
    raise DataFileError(f"unsupported file type {p.suffix!r} for {str(path)!r}; use .csv or .parquet")


def load_data_arg(source: str, *, treatment=None, outcome=None, covariates=None, categorical=None,
                  missing="error"):
    """A CausalData from an embedded dataset name or a file path with roles."""
    from .data import CausalData
    from .datasets import DATASETS, load_dataset
    if source in DATASETS and not Path(source).exists():
        data = load_dataset(source)
        if treatment or outcome or covariates or categorical:
            t, o = treatment or data.treatment, outcome or data.outcome
            # the dataset's own covariates minus a column now used as treatment or outcome, and
            # its categorical columns among the covariates that remain
            covs = covariates or [c for c in data.covariates if c not in (t, o)]
            cats = categorical or [c for c in data.categorical if c in covs]
            return CausalData(data.frame, treatment=t, outcome=o, covariates=covs, categorical=cats,
                              missing=missing)
        return data
    if not treatment or not outcome:
        raise CausalSynthError("--treatment and --outcome are required for a data file")
    return CausalData(read_table(source), treatment=treatment, outcome=outcome,
                      covariates=covariates, categorical=categorical, missing=missing)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="CSV/Parquet path, or an embedded dataset: nhefs, lalonde")
    p.add_argument("--treatment", "-a", help="binary treatment column")
    p.add_argument("--outcome", "-y", help="outcome column")
    p.add_argument("--covariates", "-w", help="comma-separated covariates (default: all other columns)")
    p.add_argument("--categorical", help="comma-separated integer-coded covariates to treat as categorical")
    p.add_argument("--drop-missing", action="store_true", help="keep complete cases instead of failing")


def _data_from(args) -> object:
    return load_data_arg(args.data, treatment=args.treatment, outcome=args.outcome,
                         covariates=_split(args.covariates), categorical=_split(args.categorical),
                         missing="drop" if args.drop_missing else "error")


def _emit(args, payload: dict, text: str) -> None:
    if args.json:
        print(json.dumps(payload, default=_json_default))
    else:
        print(text)


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


# ---------------------------------------------------------------------------- commands
def cmd_estimate(args) -> int:
    from .estimators import estimate
    data = _data_from(args)
    propensity, outcome = args.propensity, args.outcome_model
    if args.book_models and (args.data != "nhefs" or Path(args.data).exists()):
        raise SpecError("--book-models applies to the embedded nhefs dataset only (the What If "
                        "book's formulas); give --propensity and --outcome-model for other data")
    if args.book_models and (args.treatment or args.outcome or args.covariates):
        raise SpecError("--book-models uses the book's roles; drop --treatment/--outcome/--covariates")
    if args.data == "nhefs" and args.book_models:
        from .datasets._real import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA
        propensity, outcome = NHEFS_PROPENSITY_FORMULA, NHEFS_OUTCOME_FORMULA
    result = estimate(data, estimators=_split(args.estimators), propensity=propensity,
                      outcome=outcome, n_folds=args.n_folds, level=args.level,
                      se_method=args.se, random_state=args.seed)
    _emit(args, result.to_dict(), str(result))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like every other bad input."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="causalsynth", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("estimate", help="estimate the ATE with OR/IPW/AIPW/TMLE/DML",
                       description="Estimate the average treatment effect; nuisance models are fitted "
                                   "once and shared by every estimator.")
    _add_data_args(p)
    p.add_argument("--estimators", default="or,ipw,aipw,tmle", help="comma-separated: or,ipw,aipw,tmle,dml")
    p.add_argument("--propensity", default=None,
                   help="logistic | gbm | superlearner | a formula 'A ~ x1 + C(x2)' (default logistic)")
    p.add_argument("--outcome-model", default=None,
                   help="linear | logistic | gbm | superlearner | pooled:<preset> (one model over both arms) | a formula (default linear/logistic)")
    p.add_argument("--book-models", action="store_true",
                   help="with DATA=nhefs, use Hernan & Robins' propensity and outcome formulas")
    p.add_argument("--n-folds", type=int, default=None, help="cross-fitting folds (default auto)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--se", choices=("influence", "bootstrap"), default="influence")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_estimate)

    from . import _cli_audit, _cli_augment, _cli_more
    _cli_more.register(sub, _add_data_args)
    _cli_audit.register(sub, _add_data_args)
    _cli_augment.register(sub, _add_data_args)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def _show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {category.__name__}: {message}", file=sys.stderr)

    warnings.showwarning = _show
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CausalSynthError, ValueError, TypeError, OSError, KeyError) as exc:
        if args.debug:
            raise
        print(f"causalsynth {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal error: still one line, with the way to see more
        if args.debug:
            raise
        print(f"causalsynth {args.command}: internal error ({type(exc).__name__}): {_one_line(exc)}; "
              "rerun with --debug for the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
