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

from .errors import DataError, RoleError, SpecError

__all__ = ["CausalData", "MIN_ROWS_PER_ARM"]

#: Fewest rows each treatment arm must have; below this no nuisance model can be fitted.
MIN_ROWS_PER_ARM = 5
#: Largest magnitude accepted in a numeric column: squares must stay finite in float64.
HUGE = 1e150

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


def _binary_codes(series: pd.Series) -> np.ndarray | None:
    """Return 0/1 floats if ``series`` holds only 0/1 (ints, floats or booleans), else None."""
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(series):
        return None
    values = series.to_numpy(dtype=float)
    if np.all((values == 0.0) | (values == 1.0)):
        return values
    return None


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
        _derived: bool = False,
    ) -> None:
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
        covariates = [str(c) for c in covariates]
        categorical = [str(c) for c in (categorical or [])]

        problems: list[str] = []
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

        roles = [treatment, outcome, *covariates]
        work = frame[roles]

        n_dropped = 0
        na_counts = work.isna().sum()
        na_counts = na_counts[na_counts > 0]
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
                    f"{int(work.isna().any(axis=1).sum())} of {len(work)}). Fix: drop or impute "
                    "them yourself, or pass missing='drop' to keep the complete cases."
                )
        work = work.reset_index(drop=True)

        # Treatment -------------------------------------------------------------------
        a = None
        if treatment in work and not na_counts.get(treatment, 0):
            a = _binary_codes(work[treatment])
            if a is None:
                seen = pd.unique(work[treatment])[:6]
                problems.append(
                    f"treatment {treatment!r} must be binary coded 0/1 (ints, floats or booleans); "
                    f"found values {list(seen)}{'...' if work[treatment].nunique() > 6 else ''}. "
                    "Fix: recode it, e.g. frame[col] = (frame[col] == 'treated').astype(int)."
                )
            else:
                n1 = int(a.sum())
                n0 = len(a) - n1
                if n1 == 0 or n0 == 0:
                    problems.append(
                        f"treatment {treatment!r} has an empty arm ({n1} treated, {n0} control): "
                        "an effect needs both arms."
                    )
                elif min(n0, n1) < MIN_ROWS_PER_ARM:
                    problems.append(
                        f"too few rows: {n1} treated and {n0} control; each arm needs at least "
                        f"{MIN_ROWS_PER_ARM} rows to fit nuisance models."
                    )

        # Outcome ---------------------------------------------------------------------
        outcome_type: OutcomeType = "continuous"
        y = work[outcome]
        # user data only: subsets, resamples and synthetic samples of valid data (``_derived``)
        # may be constant by chance, and refusing them would break a bootstrap or a replicate
        constant_y = (not _derived and not na_counts.get(outcome, 0) and len(y) > 0
                      and y.nunique() < 2)
        if constant_y:
            problems.append(f"outcome {outcome!r} is constant (every value {y.iloc[0]}); "
                            "there is no effect to estimate.")
        elif pd.api.types.is_complex_dtype(y):
            problems.append(f"outcome {outcome!r} holds complex numbers; give it real values.")
        elif pd.api.types.is_bool_dtype(y):
            outcome_type = "binary"
        elif not pd.api.types.is_numeric_dtype(y):
            problems.append(
                f"outcome {outcome!r} must be numeric; it has dtype {y.dtype}. "
                "Fix: convert it with pandas.to_numeric or recode categories to 0/1."
            )
        elif not na_counts.get(outcome, 0) and len(y):
            if _binary_codes(y) is not None:
                outcome_type = "binary"
            elif y.nunique() < 2:
                problems.append(f"outcome {outcome!r} is constant; there is no effect to estimate.")
            elif not np.all(np.isfinite(y.to_numpy(dtype=float))):
                problems.append(f"outcome {outcome!r} has infinite values; remove or cap them.")
            elif np.max(np.abs(y.to_numpy(dtype=float))) > HUGE:
                problems.append(f"outcome {outcome!r} has values up to {np.max(np.abs(y.to_numpy(dtype=float))):.3g}; "
                                "their squares overflow. Fix: rescale it.")

        # Covariates ------------------------------------------------------------------
        kinds: dict[str, CovariateKind] = {}
        for name in covariates:
            col = work[name]
            if pd.api.types.is_complex_dtype(col):
                problems.append(f"covariate {name!r} holds complex numbers; give it real values.")
                continue
            if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
                problems.append(
                    f"covariate {name!r} is a date/time column; convert it to a number "
                    "(e.g. days since a reference date) first."
                )
                continue
            if col.dtype == object:
                odd = {type(v).__name__ for v in col.dropna()
                       if not isinstance(v, (str, bool, numbers.Number, np.generic))}
                if odd:
                    problems.append(f"covariate {name!r} holds unsupported objects ({sorted(odd)}); "
                                    "give it numbers or text.")
                    continue
            if constant == "error" and col.nunique(dropna=True) < 2 and len(col):
                problems.append(
                    f"covariate {name!r} is constant (value {col.dropna().iloc[0] if col.notna().any() else 'NaN'!r}); "
                    "it carries no information. Fix: leave it out of covariates."
                )
                continue
            if name in categorical or isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object \
                    or pd.api.types.is_string_dtype(col):
                if col.dtype == object and not all(isinstance(v, str) for v in col.dropna()):
                    mixed = {type(v).__name__ for v in col.dropna()}
                    if not mixed <= {"str", "int", "float", "bool"}:
                        problems.append(f"covariate {name!r} holds unsupported objects ({sorted(mixed)}).")
                        continue
                levels = col.nunique(dropna=True)
                if not _derived and levels > max(20, len(col) // 2):
                    problems.append(
                        f"covariate {name!r} is categorical with {levels} levels in {len(col)} rows "
                        "(an identifier, free text or dates?); one-hot coding would give nearly a "
                        "column per row. Fix: leave it out of covariates, or convert it to a number"
                        + (" (it holds dates: pandas.to_datetime, then e.g. days since a reference date)."
                           if _looks_like_dates(col) else ".")
                    )
                    continue
                kinds[name] = "categorical"
            elif pd.api.types.is_bool_dtype(col) or (_binary_codes(col.dropna()) is not None
                                                     and col.nunique(dropna=True) == 2):
                kinds[name] = "binary"
            elif pd.api.types.is_integer_dtype(col):
                kinds[name] = "integer"
            elif pd.api.types.is_float_dtype(col):
                values = col.to_numpy(dtype=float)
                if not np.all(np.isfinite(values[~np.isnan(values)])):
                    problems.append(f"covariate {name!r} has infinite values; remove or cap them.")
                    continue
                if np.nanmax(np.abs(values), initial=0.0) > HUGE:
                    problems.append(f"covariate {name!r} has values up to {np.nanmax(np.abs(values)):.3g}; "
                                    "their squares overflow. Fix: rescale it (e.g. divide by a power of 10).")
                    continue
                kinds[name] = "continuous"
            else:
                problems.append(f"covariate {name!r} has unsupported dtype {col.dtype}.")

        if problems:
            head = problems[0] if len(problems) == 1 else f"{len(problems)} problems with the data: " + \
                " | ".join(problems)
            raise DataError(head, problems)

        out = pd.DataFrame(index=work.index)
        out[treatment] = a.astype(np.int64)
        if outcome_type == "binary":
            out[outcome] = work[outcome].to_numpy(dtype=float)
        else:
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
        self._frame = out
        self.treatment = treatment
        self.outcome = outcome
        self.covariates: tuple[str, ...] = tuple(covariates)
        self.covariate_kinds: dict[str, CovariateKind] = kinds
        self.outcome_type: OutcomeType = outcome_type
        self.n_dropped = n_dropped
        self._design: tuple[np.ndarray, list[str]] | None = None

    # ------------------------------------------------------------------ accessors
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the validated role columns."""
        return self._frame.copy()

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
                          constant="keep", _derived=True)

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
