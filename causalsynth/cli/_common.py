"""What every subcommand shares: reading DATA, the data options, output of tables and JSON."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataFileError, SpecError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_table", "load_data_arg", "add_data_args", "data_from", "emit", "split_names",
           "add_estimand_args", "parse_bounds", "ESTIMAND_CHOICES",
           "write_table", "check_table_path", "one_line"]


# ---------------------------------------------------------------------------- data input
def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file, raising DataFileError with the reason on failure."""
    import pandas as pd
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
    from ..data import CausalData
    from ..datasets import DATASETS, load_dataset
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
        raise SpecError("--treatment and --outcome are required for a data file")
    return CausalData(read_table(source), treatment=treatment, outcome=outcome,
                      covariates=covariates, categorical=categorical, missing=missing)


ESTIMAND_CHOICES = ("ate", "att", "atc", "trimmed", "overlap")


def add_estimand_args(p: argparse.ArgumentParser) -> None:
    """--estimand, --trim-bounds and --propensity-bounds (estimate, simulate, demo)."""
    p.add_argument("--estimand", default="ate", choices=ESTIMAND_CHOICES,
                   help="ate | att (effect on the treated) | atc | trimmed (units with propensity inside "
                        "--trim-bounds, default the Crump et al. rule) | overlap (weights e(1-e)); default ate")
    p.add_argument("--trim-bounds", default=None, metavar="LO,HI",
                   help="propensity bounds of the trimmed estimand, e.g. 0.1,0.9 (default: Crump et al. rule)")
    p.add_argument("--propensity-bounds", default="0.01,0.99", metavar="LO,HI|adaptive",
                   help="clipping bounds of the estimated propensity, or 'adaptive' = 5/(sqrt(n) ln n); "
                        "default 0.01,0.99")


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
    p.add_argument("data", metavar="DATA", help="CSV/Parquet path, or an embedded dataset: nhefs, lalonde")
    p.add_argument("--treatment", "-a", help="binary treatment column")
    p.add_argument("--outcome", "-y", help="outcome column")
    p.add_argument("--covariates", "-w", help="comma-separated covariates (default: all other columns)")
    p.add_argument("--categorical", help="comma-separated integer-coded covariates to treat as categorical")
    p.add_argument("--drop-missing", action="store_true", help="keep complete cases instead of failing")


def data_from(args) -> object:
    """The CausalData that the data options of ``args`` name."""
    return load_data_arg(args.data, treatment=args.treatment, outcome=args.outcome,
                         covariates=split_names(args.covariates), categorical=split_names(args.categorical),
                         missing="drop" if args.drop_missing else "error")


# ---------------------------------------------------------------------------- output
def emit(args, payload: dict, text: str) -> None:
    """Print ``text``, or with ``--json`` one JSON document of ``payload``."""
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
    check_table_path(path)
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False)
