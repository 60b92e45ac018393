"""What every subcommand shares: reading DATA, the data options, help, output of tables and JSON.

Nothing heavy is imported at module level (numpy, pandas, scikit-learn load inside the
functions that need them), so ``causalsynth --help`` starts fast.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataFileError, SpecError
from ._csv import na_options, read_csv_checked

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_table", "load_data_arg", "add_data_args", "data_from", "emit", "split_names",
           "add_estimand_args", "parse_bounds", "ESTIMAND_CHOICES", "EMBEDDED", "embedded_name",
           "describe_source", "HelpFormatter", "add_command", "say_for", "provenance_of",
           "write_table", "check_table_path", "one_line", "add_force_arg", "check_outputs", "report_names",
           "whole", "number", "share", "min_dcr_value", "n_jobs_value", "SEED", "PLOT_SUFFIXES",
           "add_deprecated_alias"]

#: The embedded datasets (``causalsynth.datasets.DATASETS``; a test keeps the two equal). Named
#: here so that ``--help`` needs no import of the datasets, which load pandas.
EMBEDDED = ("nhefs", "lalonde", "lalonde_cps")

#: How DATA is read, for --help.
DATA_RULE = ("DATA is an embedded dataset (nhefs, lalonde, lalonde_cps) or a CSV/Parquet file. A bare embedded "
             "name means the embedded dataset even when a file or folder of that name exists here; "
             "anything with a path separator or a suffix is a path (write ./nhefs for a local file "
             "called nhefs). The output says which one was used.")


# ---------------------------------------------------------------------------- help
class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (they are wrapped by :func:`add_command`), and the
    default of every option: "(default: X)", "(default: off)" for a flag, or the help's own
    words when it explains a default it cannot print (e.g. "default: all other columns")."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (not action.option_strings or action.required or action.default is argparse.SUPPRESS
                or "default" in text.lower()):
            return text
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return text + " (default: off)" if action.default is False else text + " (default: on)"
        if action.default is None:
            return text + " (default: not set)"
        return text + " (default: %(default)s)"


def add_deprecated_alias(p: argparse.ArgumentParser, old: str, new: str) -> None:
    """Accept the old option ``old`` for ``new`` (already added to ``p``): hidden from --help,
    it stores into ``new``'s destination and prints a one-line deprecation note on stderr
    (names per concept: docs/glossary.md)."""
    target = next(a for a in p._actions if new in a.option_strings)

    class _Deprecated(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            print(f"note: {old} is deprecated and will be removed; use {new}", file=sys.stderr)
            setattr(namespace, self.dest, values)

    p.add_argument(old, dest=target.dest, type=target.type, choices=target.choices, metavar=target.metavar,
                   action=_Deprecated, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_command(sub, name: str, *, help: str, description: str, examples: list[str]):
    """A subparser with the shared formatter, a wrapped description and an examples epilog."""
    desc = "\n\n".join(textwrap.fill(par, 88) for par in description.split("\n\n"))
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    return sub.add_parser(name, help=help, description=desc, epilog=epilog, formatter_class=HelpFormatter)


def say_for(args):
    """A print for progress and plans: stdout, or stderr with ``--json`` (stdout holds the JSON)."""
    stream = sys.stderr if getattr(args, "json", False) else None

    def say(*parts) -> None:
        print(*parts, file=stream or sys.stdout, flush=True)
    return say


def provenance_of(args, data=None, *, data_name: str | None = None) -> dict:
    """The provenance block of a report written by the command (see ``report.render.provenance``)."""
    from ..report.render import provenance
    return provenance(command=getattr(args, "command_line", None) or "causalsynth " + str(args.command),
                      seed=getattr(args, "seed", None), data=data,
                      data_name=data_name or getattr(args, "data_source", None) or getattr(args, "data", None))


# ---------------------------------------------------------------------------- data input
def read_table(path: str | Path, *, na: dict | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file, raising DataFileError with the reason on failure; ``na``:
    ``pandas.read_csv`` keywords from :func:`causalsynth.cli._csv.na_options` (CSV only)."""
    import pandas as pd
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"file not found: {str(path)!r} (embedded datasets: nhefs, lalonde, lalonde_cps)")
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
            frame = read_csv_checked(p, sep, na)
            if frame.shape[1] < 2:
                raise DataFileError(f"{str(path)!r} parsed into {frame.shape[1]} column(s); is it a CSV file?")
            if len(frame) == 0:
                raise DataFileError(f"{str(path)!r} has a header but no rows")
            names = pd.read_csv(p, sep=sep, header=None, nrows=1, dtype=str,
                                keep_default_na=False).iloc[0].tolist()
            dup = sorted({c for c in names if c.strip() and names.count(c) > 1})
            if dup:
                raise DataFileError(f"{str(path)!r} repeats column name(s) {dup} in its header; rename them")
            return _integers_beyond_int64(frame)
    except DataFileError:
        raise
    except Exception as exc:  # pandas and pyarrow raise many kinds
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataFileError(f"cannot read {str(path)!r}: {first}") from exc
    raise DataFileError(f"unsupported file type {p.suffix!r} for {str(path)!r}; use .csv or .parquet")


def _integers_beyond_int64(frame):
    """pandas leaves a CSV column of integers beyond 64 bits as text; give them back as Python
    integers, which CausalData turns into float64 (or refuses where float64 would lose them)."""
    import re
    pattern = re.compile(r"[+-]?[0-9]+")
    for name in frame.columns[frame.dtypes == object]:
        values = frame[name].dropna()
        if len(values) and all(isinstance(v, str) and pattern.fullmatch(v.strip()) for v in values):
            frame[name] = frame[name].map(lambda v: v if not isinstance(v, str) else int(v)).astype(object)
    return frame


def _looks_like_path(source: str) -> bool:
    seps = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(c in source for c in seps) or bool(Path(source).suffix) or source.startswith(("~", "."))


def embedded_name(source: str) -> str | None:
    """``source`` when it names an embedded dataset (a bare name such as ``nhefs``), else None:
    the embedded name wins over a local file or folder of the same name; a path never names one."""
    return source if source in EMBEDDED and not _looks_like_path(source) else None


def describe_source(source: str) -> str:
    """Which DATA was used, in words (printed by the commands and kept in their JSON)."""
    if embedded_name(source):
        shadow = Path(source).exists()
        return (f"embedded dataset {source!r}"
                + (f" (not the local {'folder' if Path(source).is_dir() else 'file'} {source!r}: write "
                   f"./{source} to read that)" if shadow else ""))
    return f"file {str(Path(source))!r}"


def load_data_arg(source: str, *, treatment=None, outcome=None, covariates=None, categorical=None,
                  missing="error", na: dict | None = None):
    """A CausalData from an embedded dataset name or a file path with roles (see :data:`DATA_RULE`)."""
    from ..data import CausalData
    from ..datasets import load_dataset
    if embedded_name(source):
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
        hint = (f" ({source!r} is read as a path; the embedded dataset is named {Path(source).name!r})"
                if Path(source).name in EMBEDDED else "")
        raise SpecError("--treatment and --outcome are required for a data file" + hint)
    return CausalData(read_table(source, na=na), treatment=treatment, outcome=outcome,
                      covariates=covariates, categorical=categorical, missing=missing)


ESTIMAND_CHOICES = ("ate", "att", "atc", "trimmed", "overlap")


def add_estimand_args(p: argparse.ArgumentParser) -> None:
    """--estimand, --trim-bounds and --propensity-bounds (estimate, simulate, demo)."""
    p.add_argument("--estimand", default="ate", choices=ESTIMAND_CHOICES,
                   help="ate | att (effect on the treated) | atc (on the controls) | trimmed (units with "
                        "propensity inside --trim-bounds) | overlap (weights e(1-e))")
    p.add_argument("--trim-bounds", default=None, metavar="LO,HI",
                   help="propensity bounds of the trimmed estimand, e.g. 0.1,0.9 (default: the Crump et al. "
                        "2009 rule)")
    p.add_argument("--propensity-bounds", default="0.01,0.99", metavar="LO,HI|adaptive",
                   help="clipping bounds of the estimated propensity, or 'adaptive' = 5/(sqrt(n) ln n)")


def parse_bounds(value: str | None, option: str):
    """'0.1,0.9' -> (0.1, 0.9); 'adaptive' kept; None kept; anything else refused naming the option."""
    if value is None or value == "adaptive":
        return value
    try:
        lo, hi = (float(v) for v in value.split(","))
    except ValueError:
        raise SpecError(f"{option} takes two numbers 'low,high' (e.g. 0.01,0.99)"
                        + (" or 'adaptive'" if option == "--propensity-bounds" else "") + f"; got {value!r}") from None
    return lo, hi


def split_names(value: str | None) -> list[str] | None:
    """'a, b,c' -> ['a', 'b', 'c'] (None or '' -> None)."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def add_data_args(p: argparse.ArgumentParser) -> None:
    """DATA and its roles: --treatment, --outcome, --covariates, --categorical, --drop-missing."""
    p.add_argument("data", metavar="DATA",
                   help="embedded dataset (nhefs, lalonde, lalonde_cps) or a CSV/Parquet file; a bare embedded name "
                        "wins over a local file or folder of that name (write ./nhefs for the file)")
    p.add_argument("--treatment", "-a", metavar="COLUMN",
                   help="binary treatment column (default: the embedded dataset's; required for a file)")
    p.add_argument("--outcome", "-y", metavar="COLUMN",
                   help="outcome column (default: the embedded dataset's; required for a file)")
    p.add_argument("--covariates", "-w", metavar="A,B,...",
                   help="comma-separated covariates (default: all other columns)")
    p.add_argument("--categorical", metavar="A,B,...",
                   help="comma-separated integer-coded covariates to treat as categorical (default: none; "
                        "string and category columns are categorical anyway)")
    p.add_argument("--drop-missing", action="store_true",
                   help="keep the complete cases instead of failing on missing values")
    p.add_argument("--na-values", metavar="S,T,...", default=None,
                   help="comma-separated strings read as missing values in a CSV file, e.g. '?' (default: none "
                        "beyond pandas' own)")
    p.add_argument("--no-default-na", action="store_true",
                   help="in a CSV file, read 'NA', 'N/A', 'null', 'nan' and the like as text (a level), not as "
                        "missing values; only empty cells (and --na-values) are then missing")


def data_from(args) -> object:
    """The CausalData that the data options of ``args`` name; ``args.data_source`` says which."""
    data = load_data_arg(args.data, treatment=args.treatment, outcome=args.outcome,
                         covariates=split_names(args.covariates), categorical=split_names(args.categorical),
                         missing="drop" if args.drop_missing else "error",
                         na=na_options(no_default_na=getattr(args, "no_default_na", False),
                                       na_values=split_names(getattr(args, "na_values", None))))
    args.data_source = describe_source(args.data)
    dropped = getattr(data, "n_dropped", 0)
    args.data_line = (f"data: {args.data_source}, {data.n_obs} rows"
                      + (f" ({dropped} with missing values dropped)" if dropped else "")
                      + f", treatment {data.treatment!r}, outcome {data.outcome!r}")
    return data


# ---------------------------------------------------------------------------- output
def emit(args, payload: dict, text: str) -> None:
    """Print ``text``, or with ``--json`` one JSON document of ``payload``; both say which DATA
    was used when the command read one (``data_source``)."""
    if getattr(args, "data_source", None):
        payload = {**payload, "data_source": args.data_source}
        text = f"{args.data_line}\n{text}"
    if args.json:
        from ..report.render import json_safe
        print(json.dumps(json_safe(payload)))
    else:
        print(text)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst")


def check_table_path(path: str | None) -> None:
    """Refuse an output name we would not write faithfully, before any work is done."""
    if path is None:
        return
    suffixes = "".join(Path(path).suffixes).lower()
    ok = suffixes.endswith(TABLE_SUFFIXES) or any(suffixes.endswith(".csv" + c) for c in COMPRESSIONS)
    if not ok:
        stem = Path(path).name.split(".")[0] or "table"
        raise SpecError(f"cannot write {path!r}: tables are written as .csv (optionally compressed, "
                        f"e.g. .csv.gz) or .parquet; got {Path(path).suffix.lower() or 'no suffix'!r}. "
                        f"Fix: name the file e.g. {stem}.csv")


def write_table(frame, path: str) -> None:
    """``frame`` to ``path`` (CSV or Parquet) through the one writer: atomically, never half a
    file (the command checked the path with :func:`check_outputs` before its work)."""
    from ..report.writer import write_table as _write
    check_table_path(path)
    _write(frame, path, what="output")


# ---------------------------------------------------------------------------- outputs, checked first
#: Figure files the commands write (matplotlib formats).
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def add_force_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="replace output files that exist already (an input of the command is never replaced)")


def report_names(stem: str) -> dict:
    """The files a report of ``stem`` writes in its folder (see ``report.render.write_report``)."""
    return {"names": (f"{stem}.md", f"{stem}.html", f"{stem}.json"), "patterns": (f"{stem}-*.png",)}


def check_outputs(args, *, files=(), tables=(), folders=(), inputs=()) -> None:
    """Check every output of the command before any work: none is DATA or another input, none
    is another output, folders are folders, and an existing file needs ``--force``.

    ``tables``/``files``: (option, path[, suffixes]); ``folders``: (option, path, stem of the
    report written there); ``inputs``: (label, path). DATA is an input when it is a file.
    """
    from ..report.writer import OutputPlan
    plan = OutputPlan(force=getattr(args, "force", False))
    data = getattr(args, "data", None)
    if data and not embedded_name(data):
        plan.input(data, "DATA")
    for label, path in inputs:
        plan.input(path, label)
    for label, path in tables:
        check_table_path(path)
        plan.file(path, label)
    for label, path, *suffixes in files:
        plan.file(path, label, suffixes=suffixes[0] if suffixes else None)
    for label, path, stem in folders:
        plan.folder(path, label, **report_names(stem))
    plan.check()


# ---------------------------------------------------------------------------- argument types
def _typed(kind, ok, rule: str, name: str):
    """An argparse type: ``kind(text)`` that passes ``ok``, else a message with the rule and the value."""
    def parse(text):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {rule}; got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {rule}; got {text!r}")
        return value
    parse.__name__ = name
    return parse


def _finite(text: str) -> float:
    import math
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def whole(low: int = 1):
    """An integer >= ``low``."""
    return _typed(int, lambda v: v >= low, f"a whole number >= {low}", "whole number")


def number(low: float | None = None, high: float | None = None, *, open_low: bool = False,
           open_high: bool = False):
    """A finite number, optionally in a range (closed unless ``open_*``)."""
    lo_ok = (lambda v: True) if low is None else ((lambda v: v > low) if open_low else (lambda v: v >= low))
    hi_ok = (lambda v: True) if high is None else ((lambda v: v < high) if open_high else (lambda v: v <= high))
    if low is None and high is None:
        rule = "a finite number"
    elif high is None:
        rule = f"a number {'>' if open_low else '>='} {low:g}"
    elif low is None:
        rule = f"a number {'<' if open_high else '<='} {high:g}"
    else:
        rule = (f"a number in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}")
    return _typed(_finite, lambda v: lo_ok(v) and hi_ok(v), rule, "number")


def share(text: str) -> float:
    """A share in [0, 1)."""
    return number(0.0, 1.0, open_high=True)(text)


def min_dcr_value(text: str):
    """'auto' or a distance >= 0."""
    if text == "auto":
        return text
    return _typed(_finite, lambda v: v >= 0, "a distance >= 0 or 'auto'", "number or 'auto'")(text)


def n_jobs_value(text: str) -> int:
    """Worker processes: >= 1, or -1 for one per CPU core."""
    return _typed(int, lambda v: v >= 1 or v == -1, "a whole number >= 1 (or -1: one per CPU core)",
                  "whole number")(text)


#: Seeds: non-negative integers (numpy's seed sequences take no negative entropy).
SEED = _typed(int, lambda v: v >= 0, "a whole number >= 0", "seed")
