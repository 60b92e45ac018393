"""Reading a CSV file without silent surprises: what pandas does quietly is said or refused.

* a separator after the last value of every row (a trailing comma): pandas would make the first
  column the index and shift every value one column left; the empty last field is ignored,
  with a warning; an extra non-empty field is refused;
* a column with no header name that is empty on every row (a trailing comma in the header too):
  dropped, with a warning naming it;
* cells such as ``NA``, ``N/A`` or ``null`` that pandas reads as missing by default: a warning
  names the column, the strings and the option that keeps them (``--no-default-na``);
* a numeric column with a few non-numbers (``?``) is read as text; CausalData warns when such
  a covariate becomes categorical, and ``--na-values ?`` reads those cells as missing.

pandas is imported inside the functions (``--help`` does not load it).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CausalSynthWarning, DataFileError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["na_options", "read_csv_checked"]

def na_options(*, no_default_na: bool = False, na_values=None) -> dict:
    """``pandas.read_csv`` keywords: with ``no_default_na`` only empty cells (and ``na_values``)
    are missing; ``na_values`` adds strings read as missing (e.g. ``["?"]``)."""
    extra = [str(v) for v in (na_values or [])]
    if no_default_na:
        return {"keep_default_na": False, "na_values": ["", *extra]}
    return {"na_values": extra} if extra else {}


def read_csv_checked(p: Path, sep: str, options: dict | None = None) -> pd.DataFrame:
    """Read ``p`` and say (warn) or refuse what pandas would do silently (see the module notes)."""
    import pandas as pd
    options = dict(options or {})
    frame = pd.read_csv(p, sep=sep, **options)
    if not isinstance(frame.index, pd.RangeIndex):  # one more field per row than the header
        frame = _trailing_separator(p, sep, options, frame)
    names = pd.read_csv(p, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
    _say_default_na(frame, p, sep, options)
    frame = _drop_empty_unnamed(frame, names, p)
    return frame


def _trailing_separator(p: Path, sep: str, options: dict, shifted: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd
    n_names = shifted.shape[1]
    if not shifted.iloc[:, -1].isna().all():
        raise DataFileError(f"{str(p)!r}: the rows have one more field than the header's {n_names} names, so "
                            "the columns would be shifted. Fix: add the missing name to the header or remove "
                            "the extra field from the rows.")
    warnings.warn(f"{str(p)!r}: the rows end with a separator after their last value (trailing comma?); the "
                  "empty last field was ignored", CausalSynthWarning, stacklevel=4)
    return pd.read_csv(p, sep=sep, index_col=False, **options)


def _drop_empty_unnamed(frame: pd.DataFrame, names: list, p: Path) -> pd.DataFrame:
    """Drop columns without a header name that are empty on every row, saying which."""
    empty = [i for i, name in enumerate(names)
             if i < frame.shape[1] and not str(name).strip() and frame.iloc[:, i].isna().all()]
    if not empty:
        return frame
    listing = ", ".join(str(i + 1) for i in empty)
    warnings.warn(f"{str(p)!r}: column {listing} has no name and is empty on every row (trailing comma?); it "
                  "was dropped", CausalSynthWarning, stacklevel=4)
    return frame.drop(columns=[frame.columns[i] for i in empty])


def _say_default_na(frame: pd.DataFrame, p: Path, sep: str, options: dict) -> None:
    """Warn when non-empty cells (``NA``, ``null``, ...) were read as missing by pandas' default."""
    import pandas as pd
    if options.get("keep_default_na") is False or not frame.isna().any().any():
        return
    raw = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                      index_col=False, usecols=list(range(frame.shape[1])))
    if raw.shape != frame.shape:
        return
    extra = set(options.get("na_values") or [])
    found = []
    for i, name in enumerate(frame.columns):
        cells = raw.iloc[:, i].str.strip()
        spelled = cells[frame.iloc[:, i].isna().to_numpy() & cells.ne("").to_numpy() & ~cells.isin(extra).to_numpy()]
        if len(spelled):
            counts = spelled.value_counts()
            found.append(f"{name!r} ({', '.join(f'{int(n)} x {s!r}' for s, n in counts.items())})")
    if found:
        warnings.warn(f"{str(p)!r}: cells spelled like missing values were read as missing in column(s) "
                      f"{'; '.join(found)}: strings such as 'NA', 'N/A', 'null' and 'nan' are missing values by "
                      "default. If one is a real level, pass --no-default-na (only empty cells are then missing).",
                      CausalSynthWarning, stacklevel=4)
