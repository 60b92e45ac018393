"""CausalData: a frame with its causal roles, validated once at the boundary.

Downstream code receives plain arrays from a :class:`CausalData` and never checks the
user's frame again.
"""
from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ._checks import check_expression, evaluate_expression
from .errors import CausalSynthWarning, DataError, Fix, LeakageWarning, RoleError, SpecError

__all__ = ["CausalData", "MIN_ROWS_PER_ARM", "column_kind", "main_terms", "check_data"]

#: Fewest rows each treatment arm must have; below this no nuisance model can be fitted.
MIN_ROWS_PER_ARM = 5
#: Largest magnitude accepted in a numeric column: squares must stay finite in float64.
HUGE = 1e150
#: A numeric covariate whose |correlation| with the outcome exceeds this copies the outcome.
LEAK_CORRELATION = 1 - 1e-9

OutcomeType = Literal["binary", "continuous"]
CovariateKind = Literal["continuous", "integer", "binary", "categorical"]


def _looks_like_dates(col: pd.Series) -> bool:
    """Whether a text column's values parse as dates (checked on up to 20 of them)."""
    import warnings
    values = col.dropna().astype(str).head(20)
    if not len(values) or not values.str.contains(r"[-/:]").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        except (ValueError, TypeError):
            return False
    return bool(parsed.notna().all())


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=3, cutoff=0.6)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _categorical_binary(series: pd.Series) -> np.ndarray | None:
    """0/1 floats of a pandas ``category`` column whose levels are 0 and 1 (numbers or the
    strings '0'/'1'), else None: a categorical holding 0/1 is binary."""
    levels = series.cat.categories
    numbers = pd.to_numeric(pd.Series(levels.astype(str), dtype=object).str.strip(), errors="coerce").to_numpy()
    if not len(levels) or not np.all(np.isin(numbers, (0.0, 1.0))):
        return None
    codes = series.cat.codes.to_numpy()
    return np.where(codes < 0, np.nan, numbers[np.maximum(codes, 0)]).astype(float)


def _binary_codes(series: pd.Series) -> np.ndarray | None:
    """Return 0/1 floats if ``series`` holds only 0/1 (ints, floats, booleans, or a categorical
    with levels 0/1), else None."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _categorical_binary(series)
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(series):
        return None
    values = series.to_numpy(dtype=float)
    if np.all((values == 0.0) | (values == 1.0)):
        return values
    return None


def column_kind(dtype) -> str | None:
    """The kind of a column from its dtype alone: THE dtype -> kind map of causalsynth.

    ``"categorical"`` (pandas category, object, string), ``"binary"`` (bool), ``"integer"``,
    ``"continuous"`` (float), or None (complex, dates, times and anything else). CausalData
    refines it with the values (0/1 numbers are binary); privacy and fidelity metrics and the
    covariate generators use it as it is.
    """
    api = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if api.is_bool_dtype(dtype):
        return "binary"
    if api.is_integer_dtype(dtype):
        return "integer"
    if api.is_float_dtype(dtype):
        return "continuous"
    if api.is_object_dtype(dtype) or api.is_string_dtype(dtype):
        return "categorical"
    return None


def _normalize_inputs(frame, treatment, outcome, covariates, categorical, missing):
    """Step 1: a frame with string column names (a copy) and the role lists."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"frame must be a pandas DataFrame; got {type(frame).__name__}. "
            "Fix: wrap it with pandas.DataFrame(...) or read it with pandas.read_csv."
        )
    if missing not in ("error", "drop"):
        raise SpecError(f"missing must be 'error' or 'drop'; got {missing!r}")
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise RoleError(f"frame has duplicated column names {dup}; rename them first.")
    frame = frame.copy()
    frame.columns = columns
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if not isinstance(name, str):
            raise RoleError(f"{role} must be a column name (str); got {name!r}")
    if covariates is None:
        covariates = [c for c in columns if c not in (treatment, outcome)]
    elif isinstance(covariates, str):
        covariates = [covariates]
    return frame, [str(c) for c in covariates], [str(c) for c in (categorical or [])]


def _check_roles(frame, treatment, outcome, covariates, categorical) -> None:
    """Step 2: every named column exists, and no column has two roles."""
    problems: list[str] = []
    columns = list(frame.columns)
    for role, names in (("treatment", [treatment]), ("outcome", [outcome]),
                        ("covariate", covariates), ("categorical", categorical)):
        for name in names:
            if name not in frame.columns:
                problems.append(f"{role} column {name!r} is not in the frame.{_suggest(name, columns)}")
    if treatment == outcome:
        problems.append(f"treatment and outcome are the same column {treatment!r}.")
    for role_name in (treatment, outcome):
        if role_name in covariates:
            problems.append(f"column {role_name!r} is listed as a covariate and as treatment/outcome.")
    if len(set(covariates)) != len(covariates):
        problems.append("covariates lists a column twice.")
    if not covariates:
        problems.append("no covariates: name at least one covariate column.")
    for name in categorical:
        if name not in covariates and name in frame.columns:
            problems.append(f"categorical column {name!r} is not among the covariates.")
    if problems:
        raise RoleError("Invalid roles: " + " ".join(problems), problems)


#: The ways out of missing values (the command line spells the second ``--drop-missing``).
MISSING_FIXES = (Fix("drop or impute the missing values yourself"),
                 Fix("pass {} to keep the complete cases", "missing", "drop"))


def _handle_missing(work: pd.DataFrame, missing: str, problems: list[str]):
    """Step 3: report missing values, or keep the complete cases when ``missing="drop"``."""
    n_dropped = 0
    na_counts = work.isna().sum()
    na_counts = na_counts[na_counts > 0]
    empty = [str(c) for c, k in na_counts.items() if len(work) and k == len(work)]
    if empty:  # dropping incomplete rows would drop them all: the column is the problem
        problems.append(
            f"column(s) {empty} are empty on every row ({len(work)} rows), so dropping the rows with missing "
            "values would drop them all (a trailing comma on every line of a CSV file gives such a column). "
            "Fix: leave them out of the covariates, or remove them from the data."
        )
        return work.reset_index(drop=True), na_counts, n_dropped
    if len(na_counts):
        if missing == "drop":
            keep = work.notna().all(axis=1)
            n_dropped = int((~keep).sum())
            work = work.loc[keep]
            na_counts = na_counts.iloc[:0]  # none left: every check below runs on the kept rows
        else:
            listing = ", ".join(f"{c}: {int(n)}" for c, n in na_counts.items())
            problems.append(
                f"missing values in {listing} (rows with any missing: "
                f"{int(work.isna().any(axis=1).sum())} of {len(work)})." + _na_text_note(work, na_counts)
            )
    return work.reset_index(drop=True), na_counts, n_dropped


def _treatment_problem(col: pd.Series, treatment: str) -> str:
    """Why a treatment column is not a 0/1 code: its values, and its dtype where that is the cause."""
    seen = [v.item() if hasattr(v, "item") else v for v in pd.unique(col)[:6]]
    more = "..." if col.nunique() > 6 else ""
    if isinstance(col.dtype, pd.CategoricalDtype) or not (pd.api.types.is_numeric_dtype(col)
                                                          or pd.api.types.is_bool_dtype(col)):
        return (f"treatment {treatment!r} must be binary coded 0/1; it has dtype {col.dtype} with values "
                f"{seen}{more}, which are not the levels 0 and 1. Fix: recode it, e.g. "
                "frame[col] = (frame[col] == 'treated').astype(int).")
    return (f"treatment {treatment!r} must be binary coded 0/1 (ints, floats or booleans); "
            f"found values {seen}{more}. Fix: recode it, e.g. frame[col] = (frame[col] == 'treated').astype(int).")


def _na_text_note(work: pd.DataFrame, na_counts) -> str:
    """For text columns with missing values: a level spelled 'NA' may have been read as missing."""
    text = [c for c in na_counts.index if pd.api.types.is_object_dtype(work[c])
            or pd.api.types.is_string_dtype(work[c]) or isinstance(work[c].dtype, pd.CategoricalDtype)]
    if not text:
        return ""
    return (f" Note: pandas.read_csv reads cells such as 'NA', 'N/A', 'null' and 'nan' as missing by default; "
            f"if one is a level of {', '.join(repr(c) for c in text)}, read the file with keep_default_na=False, "
            "na_values=[''] (command line: --no-default-na).")


#: Integers up to this magnitude are exact in float64.
_EXACT_FLOAT_INT = 2 ** 53
#: A conversion to float64 may move an integer column's values by at most this share of its spread.
_FLOAT_INT_RTOL = 1e-9


def _is_wide_integer(col: pd.Series) -> bool:
    """Integers int64 cannot hold: unsigned 64-bit columns past 2**63 - 1, and object columns of
    Python integers (pandas leaves those beyond 64 bits as objects)."""
    if pd.api.types.is_unsigned_integer_dtype(col.dtype):
        return col.size > 0 and int(col.max()) > np.iinfo(np.int64).max
    if col.dtype == object and col.size:
        values = col.dropna()
        return (len(values) > 0 and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                                        for v in values)
                and any(not np.iinfo(np.int64).min <= int(v) <= np.iinfo(np.int64).max for v in values))
    return False


def _widen_integers(work: pd.DataFrame, columns: Sequence[str], problems: list[str]) -> pd.DataFrame:
    """Step 3b: integers that do not fit int64 become float64, never a wrapped int64; integers
    float64 cannot tell apart are refused.

    A cast of uint64 to int64 wraps values past 2**63 to negative ones; the column becomes
    float64 instead, exact to float precision. Where that rounding moves the values by more
    than ``_FLOAT_INT_RTOL`` of their spread (e.g. 2**63 + 1, 2**63 + 2, ...: float64 is exact
    only up to 2**53), the column is refused: its differences would be lost silently.
    """
    for name in columns:
        col = work[name]
        if col.isna().any():
            continue  # missing values are reported by step 3
        wide = _is_wide_integer(col)
        # int64 columns fit, but past 2**53 the float64 design matrices round them too
        if not wide and not (pd.api.types.is_signed_integer_dtype(col.dtype) and col.size
                             and max(abs(int(col.min())), abs(int(col.max()))) > _EXACT_FLOAT_INT):
            continue
        exact = [int(v) for v in col]
        floats = np.array([float(v) for v in exact])
        if np.max(np.abs(floats)) > HUGE:
            continue  # the continuous check reports it
        if np.max(np.abs(floats)) > _EXACT_FLOAT_INT:
            low = min(exact)
            spread = np.std([float(v - low) for v in exact])
            moved = np.max(np.abs([float(v - int(f)) for v, f in zip(exact, floats)]))
            if moved > _FLOAT_INT_RTOL * spread:
                problems.append(
                    f"column {name!r} holds integers up to {max(exact, key=abs):.4g}, beyond the 2**53 that a "
                    f"float64 holds exactly; as numbers its values would move by up to {moved:.3g} against a "
                    f"spread (SD) of {spread:.3g}, losing their differences. Fix: subtract a reference value "
                    f"(e.g. its minimum {low}) in integer arithmetic, or give it as text to use it as categorical.")
                continue
        if wide:
            work = work.assign(**{name: floats})
    return work


def _check_treatment(work: pd.DataFrame, treatment: str, na_counts, problems: list[str]):
    """Step 4: a 0/1 treatment with both arms large enough; returns the codes (or None)."""
    if treatment not in work or na_counts.get(treatment, 0):
        return None
    a = _binary_codes(work[treatment])
    if a is None:
        problems.append(_treatment_problem(work[treatment], treatment))
        return None
    n1 = int(a.sum())
    n0 = len(a) - n1
    if n1 == 0 or n0 == 0:
        problems.append(f"treatment {treatment!r} has an empty arm ({n1} treated, {n0} control): "
                        "an effect needs both arms.")
    elif min(n0, n1) < MIN_ROWS_PER_ARM:
        problems.append(f"too few rows: {n1} treated and {n0} control; each arm needs at least "
                        f"{MIN_ROWS_PER_ARM} rows to fit nuisance models.")
    return a


def _check_outcome(y: pd.Series, outcome: str, na_counts, derived: bool, problems: list[str]) -> str:
    """Step 5: a numeric, finite, non-constant outcome; returns "binary" or "continuous"."""
    # user data only: subsets, resamples and synthetic samples of valid data (``derived``)
    # may be constant by chance, and refusing them would break a bootstrap or a replicate
    if not derived and not na_counts.get(outcome, 0) and len(y) > 0 and y.nunique() < 2:
        problems.append(f"outcome {outcome!r} is constant (every value {y.iloc[0]}); "
                        "there is no effect to estimate.")
        return "continuous"
    if pd.api.types.is_complex_dtype(y):
        problems.append(f"outcome {outcome!r} holds complex numbers; give it real values.")
        return "continuous"
    if pd.api.types.is_bool_dtype(y):
        return "binary"
    if not pd.api.types.is_numeric_dtype(y):
        problems.append(
            f"outcome {outcome!r} must be numeric; it has dtype {y.dtype}. "
            "Fix: convert it with pandas.to_numeric or recode categories to 0/1."
        )
        return "continuous"
    if na_counts.get(outcome, 0) or not len(y):
        return "continuous"
    if _binary_codes(y) is not None:
        return "binary"
    values = y.to_numpy(dtype=float)
    if y.nunique() < 2:
        problems.append(f"outcome {outcome!r} is constant; there is no effect to estimate.")
    elif not np.all(np.isfinite(values)):
        problems.append(f"outcome {outcome!r} has infinite values; remove or cap them.")
    elif np.max(np.abs(values)) > HUGE:
        problems.append(f"outcome {outcome!r} has values up to {np.max(np.abs(values)):.3g}; "
                        "their squares overflow. Fix: rescale it.")
    return "continuous"


def _categorical_problem(col: pd.Series, name: str, derived: bool) -> str | None:
    """Why a categorical covariate cannot be used (mixed objects, an identifier), or None."""
    if col.dtype == object and not all(isinstance(v, str) for v in col.dropna()):
        mixed = {type(v).__name__ for v in col.dropna()}
        if not mixed <= {"str", "int", "float", "bool"}:
            return f"covariate {name!r} holds unsupported objects ({sorted(mixed)})."
    levels = col.nunique(dropna=True)
    if not derived and levels > max(20, len(col) // 2):
        return (f"covariate {name!r} is categorical with {levels} levels in {len(col)} rows "
                "(an identifier, free text or dates?); one-hot coding would give nearly a "
                "column per row. Fix: leave it out of covariates, or convert it to a number"
                + (" (it holds dates: pandas.to_datetime, then e.g. days since a reference date)."
                   if _looks_like_dates(col) else "."))
    return None


def _warn_numbers_as_text(col: pd.Series, name: str) -> None:
    """Say so when a text covariate holds numbers except for a few cells (an integer column with
    one '?' is read as text): it becomes categorical, which is rarely what was meant."""
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return
    present = col.dropna().astype(str).str.strip()
    numbers_ = pd.to_numeric(present, errors="coerce")
    odd = present[numbers_.isna()]
    distinct = sorted(set(odd))
    if not len(odd) or len(distinct) > 3 or numbers_.notna().sum() <= len(odd):
        return
    import warnings
    shown = distinct[0] if len(distinct) == 1 else distinct
    warnings.warn(CausalSynthWarning(
        f"covariate {name!r} holds numbers except {len(odd)} cell(s) {distinct}, so it is text and is treated as "
        f"categorical ({present.nunique()} levels).",
        fix=[Fix("read the file with {} (then drop or impute those rows)", "na_values", shown),
             Fix(f"convert it with pandas.to_numeric(frame[{name!r}], errors='coerce')"),
             Fix("pass it in categorical= if the levels are meant")]), stacklevel=4)


def _covariate_kind(col: pd.Series, name: str, declared_categorical: bool, constant: str,
                    derived: bool, problems: list[str]) -> str | None:
    """Step 6: the kind of one covariate (dtype refined by its values), or None and a problem."""
    base = column_kind(col.dtype)
    if pd.api.types.is_complex_dtype(col):
        problems.append(f"covariate {name!r} holds complex numbers; give it real values.")
        return None
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        problems.append(f"covariate {name!r} is a date/time column; convert it to a number "
                        "(e.g. days since a reference date) first.")
        return None
    if col.dtype == object:
        odd = {type(v).__name__ for v in col.dropna()
               if not isinstance(v, (str, bool, numbers.Number, np.generic))}
        if odd:
            problems.append(f"covariate {name!r} holds unsupported objects ({sorted(odd)}); "
                            "give it numbers or text.")
            return None
    if constant == "error" and col.nunique(dropna=True) < 2 and len(col):
        problems.append(
            f"covariate {name!r} is constant (value {col.dropna().iloc[0] if col.notna().any() else 'NaN'!r}); "
            "it carries no information. Fix: leave it out of covariates."
        )
        return None
    if declared_categorical or base == "categorical":
        problem = _categorical_problem(col, name, derived)
        if problem:
            problems.append(problem)
            return None
        if not derived and not declared_categorical:
            _warn_numbers_as_text(col, name)
        return "categorical"
    if base == "binary" or (_binary_codes(col.dropna()) is not None and col.nunique(dropna=True) == 2):
        return "binary"
    if base == "integer":
        return "integer"
    if base == "continuous":
        values = col.to_numpy(dtype=float)
        if not np.all(np.isfinite(values[~np.isnan(values)])):
            problems.append(f"covariate {name!r} has infinite values; remove or cap them.")
            return None
        if np.nanmax(np.abs(values), initial=0.0) > HUGE:
            problems.append(f"covariate {name!r} has values up to {np.nanmax(np.abs(values)):.3g}; "
                            "their squares overflow. Fix: rescale it (e.g. divide by a power of 10).")
            return None
        return "continuous"
    problems.append(f"covariate {name!r} has unsupported dtype {col.dtype}.")
    return None


def _check_derived(frame: pd.DataFrame, derived, covariates, *, check: bool) -> dict[str, str]:
    """Step 8: declared derived covariates name covariates whose values their expression gives."""
    if derived is None:
        return {}
    if not isinstance(derived, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in derived.items()):
        raise SpecError(f"derived must be a dict column -> expression, e.g. {{'u74': 're74 == 0'}}; got {derived!r}")
    for col, expr in derived.items():
        if col not in covariates:
            raise SpecError(f"derived column {col!r} is not a covariate; covariates are {list(covariates)}")
        what = f"derived column {col!r}: the expression"
        check_expression(expr, covariates, what=what)  # also on internal copies: a file may carry them
        if not check:
            continue
        values = evaluate_expression(expr, frame, what=what, columns=covariates)
        bad = int(np.sum(values.astype(float) != frame[col].to_numpy(dtype=float)))
        if bad:
            raise DataError(f"derived column {col!r} = {expr!r} disagrees with the data in {bad} of "
                            f"{len(frame)} rows; fix the expression or leave the column out of derived")
    return dict(derived)


def _canonical_frame(work, treatment, outcome, a, covariates, kinds) -> pd.DataFrame:
    """Step 7: the validated frame: 0/1 int treatment, float outcome, canonical covariate dtypes."""
    out = pd.DataFrame(index=work.index)
    out[treatment] = a.astype(np.int64)
    out[outcome] = work[outcome].to_numpy(dtype=float)
    for name in covariates:
        col = work[name]
        if kinds[name] == "categorical":
            if isinstance(col.dtype, pd.CategoricalDtype):
                out[name] = col.cat.remove_unused_categories()
            else:
                out[name] = pd.Categorical(col.astype(str) if col.dtype == object else col)
        elif kinds[name] == "binary":
            out[name] = col.astype(float).astype(np.int64)
        elif kinds[name] == "integer":
            out[name] = col.astype(np.int64)
        else:
            out[name] = col.astype(float)
    return out


def _recodes(col: pd.Series, target: np.ndarray) -> bool:
    """Whether ``col`` takes one value on each of the two values of ``target`` (0/1), and
    different ones: a one-to-one recoding of it (the column itself, ``treat * 5``, labels)."""
    codes = pd.factorize(col)[0]
    on1, on0 = codes[target == 1], codes[target == 0]
    return (len(on1) > 0 and len(on0) > 0 and on1.min() == on1.max() and on0.min() == on0.max()
            and on1[0] != on0[0])


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation, 0 when either side is constant (computed on rescaled values)."""
    sx, sy = np.max(np.abs(x), initial=0.0), np.max(np.abs(y), initial=0.0)
    if sx == 0 or sy == 0:
        return 0.0
    x, y = x / sx, y / sy
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / denom) if denom > 0 else 0.0


def _check_leaks(out: pd.DataFrame, treatment: str, outcome: str, outcome_type: str,
                 kinds: dict[str, str]) -> None:
    """Step 8 (user data only): warn on a covariate that copies the treatment or the outcome.

    Cheap checks: a covariate that maps one-to-one onto the treatment's two values (or a
    binary outcome's), or a numeric covariate with |correlation| above
    :data:`LEAK_CORRELATION` with the outcome (equal to it, or ``2 * Y + 1``).
    """
    import warnings
    a, y = out[treatment].to_numpy(dtype=float), out[outcome].to_numpy(dtype=float)
    for name, kind in kinds.items():
        col = out[name]
        found = None
        values = None if kind == "categorical" else col.to_numpy(dtype=float)
        if _recodes(col, a):
            found = ("treatment", treatment, "equals the treatment" if np.array_equal(values, a)
                     else "takes one value in each treatment arm (a recoding of the treatment)")
        elif outcome_type == "binary" and _recodes(col, y):
            found = ("outcome", outcome, "equals the outcome" if np.array_equal(values, y)
                     else "takes one value for each outcome value (a recoding of the outcome)")
        elif values is not None and outcome_type == "continuous":
            r = _correlation(values, y)
            if abs(r) > LEAK_CORRELATION:
                found = ("outcome", outcome, "equals the outcome" if np.array_equal(values, y)
                         else f"is a linear function of the outcome (correlation {r:.12g})")
        if found:
            role, target, how = found
            harm = ("no unit has a comparable one in the other arm" if role == "treatment"
                    else "adjusting for it removes the effect (an ATE near 0)")
            warnings.warn(f"covariate {name!r} {how}: it leaks the {role} {target!r} into the "
                          f"adjustment set ({harm}). Drop it from covariates.",
                          LeakageWarning, stacklevel=3)


class CausalData:
    """A table of covariates ``W``, a binary treatment ``A`` and an outcome ``Y``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; it is copied, never modified.
    treatment : str
        Column holding the treatment, coded 0/1 as integers, floats or booleans.
    outcome : str
        Numeric outcome column; an outcome holding only 0 and 1 is treated as binary.
    covariates : sequence of str, optional
        Covariate columns. Default: every other column.
    categorical : sequence of str, optional
        Integer-coded covariates to treat as categorical. String, boolean-free object and
        pandas ``category`` columns are categorical automatically.
    derived : dict, optional
        Covariates that are functions of others, ``{"u74": "re74 == 0"}``: expressions over the
        covariates in a closed vocabulary (column names, numbers, arithmetic, comparisons,
        ``& | ~``, ``and/or/not`` and the functions of :data:`causalsynth._checks.EXPR_FUNCTIONS`
        such as ``log``/``np.log``), evaluated by causalsynth itself, never as Python. Checked
        against the data; synthesizers recompute them on every synthetic row so that they stay
        consistent.
    missing : {"error", "drop"}, default "error"
        What to do with rows that have a missing value in a role column. ``"error"``
        reports the columns and counts; ``"drop"`` keeps the complete cases (the number
        dropped is stored in ``n_dropped``).

    Raises
    ------
    RoleError
        A named column is absent or used in two roles.
    DataError
        Any data rule is broken; every problem found is listed in ``problems``.

    Attributes
    ----------
    frame : DataFrame with only the role columns (treatment as 0/1 ints, categorical
        covariates as pandas categoricals).
    n_obs, n_treated, n_control : int
    outcome_type : "binary" or "continuous"
    covariate_kinds : dict column -> "continuous" | "integer" | "binary" | "categorical"
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        treatment: str,
        outcome: str,
        covariates: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        missing: Literal["error", "drop"] = "error",
        constant: Literal["error", "keep"] = "error",
        derived: dict | None = None,
        _derived: bool = False,
    ) -> None:
        # Validation in named steps; each adds to ``problems`` so one call reports them all.
        frame, covariates, categorical = _normalize_inputs(frame, treatment, outcome, covariates,
                                                           categorical, missing)
        _check_roles(frame, treatment, outcome, covariates, categorical)
        work = frame[[treatment, outcome, *covariates]]
        problems: list[str] = []
        work, na_counts, n_dropped = _handle_missing(work, missing, problems)
        work = _widen_integers(work, [outcome, *covariates], problems)
        a = _check_treatment(work, treatment, na_counts, problems)
        outcome_type = _check_outcome(work[outcome], outcome, na_counts, _derived, problems)
        kinds = {}
        for name in covariates:
            kind = _covariate_kind(work[name], name, name in categorical, constant, _derived, problems)
            if kind is not None:
                kinds[name] = kind
        if problems:
            head = problems[0] if len(problems) == 1 else f"{len(problems)} problems with the data: " + \
                " | ".join(problems)
            missing_fix = MISSING_FIXES if any(p.startswith("missing values in ") for p in problems) else None
            raise DataError(head, problems, fix=missing_fix)
        out = _canonical_frame(work, treatment, outcome, a, covariates, kinds)
        if not _derived:
            _check_leaks(out, treatment, outcome, outcome_type, kinds)
        self._frame = out
        self.treatment = treatment
        self.outcome = outcome
        self.covariates: tuple[str, ...] = tuple(covariates)
        self.covariate_kinds: dict[str, CovariateKind] = kinds
        self.outcome_type: OutcomeType = outcome_type
        self.n_dropped = n_dropped
        self.derived: dict[str, str] = _check_derived(out, derived, self.covariates, check=not _derived)
        self._design: tuple[np.ndarray, list[str]] | None = None

    # ------------------------------------------------------------------ accessors
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the validated role columns."""
        return self._frame.copy()

    def take(self, rows) -> pd.DataFrame:
        """The validated role columns at row positions ``rows`` (a new frame; the data are not
        changed): what learners and formula designs read, without copying every row first."""
        return self._frame.iloc[rows]

    @property
    def n_obs(self) -> int:
        return len(self._frame)

    @property
    def n_treated(self) -> int:
        return int(self._frame[self.treatment].sum())

    @property
    def n_control(self) -> int:
        return self.n_obs - self.n_treated

    @property
    def a(self) -> np.ndarray:
        """Treatment as a float array of 0/1, shape (n_obs,)."""
        return self._frame[self.treatment].to_numpy(dtype=float)

    @property
    def y(self) -> np.ndarray:
        """Outcome as a float array, shape (n_obs,)."""
        return self._frame[self.outcome].to_numpy(dtype=float)

    @property
    def covariate_frame(self) -> pd.DataFrame:
        """Covariates only, with their validated dtypes (a copy)."""
        return self._frame[list(self.covariates)].copy()

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c for c, k in self.covariate_kinds.items() if k == "categorical")

    def design_matrix(self) -> tuple[np.ndarray, list[str]]:
        """Main-terms design: numeric covariates as they are, categoricals one-hot (first level dropped).

        No intercept column. Returns the matrix, shape (n_obs, p), and the column names.
        """
        if self._design is None:
            self._design = main_terms(self._frame, self.covariates, self.covariate_kinds)
        return self._design

    def subset(self, rows: np.ndarray | Sequence[int]) -> CausalData:
        """A new CausalData holding the given rows (positions), re-validated."""
        return self.with_frame(self._frame.iloc[np.asarray(rows)])

    def with_frame(self, frame: pd.DataFrame) -> CausalData:
        """A new CausalData with the same roles over another frame."""
        return CausalData(frame, treatment=self.treatment, outcome=self.outcome,
                          covariates=list(self.covariates), categorical=list(self.categorical),
                          constant="keep", derived=self.derived or None, _derived=True)

    def __len__(self) -> int:
        return self.n_obs

    def __repr__(self) -> str:
        return (f"CausalData(n_obs={self.n_obs}, treatment={self.treatment!r} "
                f"({self.n_treated} treated), outcome={self.outcome!r} ({self.outcome_type}), "
                f"covariates={len(self.covariates)})")


def main_terms(frame: pd.DataFrame, covariates: Sequence[str],
               kinds: dict[str, str]) -> tuple[np.ndarray, list[str]]:
    """Numeric design of main terms with one-hot categoricals (reference level dropped)."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for name in covariates:
        col = frame[name]
        if kinds[name] == "categorical":
            cats = list(col.cat.categories)
            codes = col.cat.codes.to_numpy()
            for j, cat in enumerate(cats[1:], start=1):
                blocks.append((codes == j).astype(float)[:, None])
                names.append(f"{name}[{cat}]")
        else:
            blocks.append(col.to_numpy(dtype=float)[:, None])
            names.append(name)
    return np.hstack(blocks) if blocks else np.empty((len(frame), 0)), names


def check_data(data) -> CausalData:
    """``data`` itself when it is a :class:`CausalData`; a SpecError naming the fix otherwise."""
    if not isinstance(data, CausalData):
        raise SpecError(f"data must be a CausalData; got {type(data).__name__}. "
                        "Fix: CausalData(frame, treatment=..., outcome=...).")
    return data
