"""Subgroups of an audit: named rules over the covariates, and the default quartile groups."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import evaluate_expression
from ..data import CausalData
from ..errors import SpecError

__all__ = ["Subgroup", "resolve_subgroups", "MIN_DEFAULT_GROUP"]

#: Smallest default (quartile) subgroup kept, in real training rows.
MIN_DEFAULT_GROUP = 20


@dataclass(frozen=True)
class Subgroup:
    """A named rule mapping a frame with the covariates to a boolean mask."""

    name: str
    rule: Callable[[pd.DataFrame], np.ndarray]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        m = np.asarray(self.rule(frame))
        if m.shape != (len(frame),) or m.dtype != bool:
            raise SpecError(f"subgroup {self.name!r} must give one True/False per row; got "
                            f"dtype {m.dtype}, shape {m.shape}.")
        return m


def _numeric_groups(col: str, values: np.ndarray) -> list[Subgroup]:
    cuts = np.unique(np.quantile(values, [0.25, 0.5, 0.75]))
    edges = [-np.inf, *cuts, np.inf]
    if len(cuts) and cuts[-1] >= values.max():
        edges = edges[:-1]  # the top cut is the maximum: no rows above it
    groups = []
    for j, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        label = (f"{col} <= {hi:.4g}" if j == 0 else f"{col} > {lo:.4g}" if not np.isfinite(hi)
                 else f"{col} in ({lo:.4g}, {hi:.4g}]")

        def rule(f, c=col, lo=lo, hi=hi):
            x = f[c].to_numpy(dtype=float)
            return (x > lo) & (x <= hi)
        groups.append(Subgroup(label, rule))
    return groups


def _level_groups(col: str, series: pd.Series) -> list[Subgroup]:
    def rule_for(level: str) -> Callable[[pd.DataFrame], np.ndarray]:
        return lambda f: f[col].astype(object).astype(str).to_numpy() == level
    levels = pd.unique(series.astype(object).astype(str))
    return [Subgroup(f"{col} = {lev}", rule_for(lev)) for lev in sorted(levels)]


def _query(name: str, expr: str) -> Callable[[pd.DataFrame], np.ndarray]:
    """A rule from an expression in the closed vocabulary of derived columns (never Python)."""
    what = f"subgroup {name!r}: the expression"
    return lambda f: evaluate_expression(expr, f, what=what).astype(bool)


def _column_groups(data: CausalData, col: str) -> list[Subgroup]:
    kind = data.covariate_kinds[col]
    series = data.frame[col]
    if kind in ("categorical", "binary") or series.nunique() <= 4:
        return _level_groups(col, series)
    return _numeric_groups(col, series.to_numpy(dtype=float))


def resolve_subgroups(spec: Any, data: CausalData) -> list[Subgroup]:
    """Subgroups from ``spec``: None (quartiles of every numeric covariate with at least five
    values; ties can make a quartile group small, and groups under ``MIN_DEFAULT_GROUP`` real
    rows are left out), covariate names (levels of categorical/binary ones, quartiles of numeric ones), or
    a mapping name -> callable(frame) -> bool array, or name -> expression string (the closed
    vocabulary of derived columns: names, numbers, arithmetic, comparisons, & | ~, log, ...)."""
    if spec is None:
        frame = data.frame
        cols = [c for c, k in data.covariate_kinds.items()
                if k in ("continuous", "integer") and frame[c].nunique() >= 5]
        groups = [g for c in cols for g in _numeric_groups(c, frame[c].to_numpy(dtype=float))]
        return [g for g in groups if g.mask(frame).sum() >= MIN_DEFAULT_GROUP]
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Mapping):
        groups = []
        for name, rule in spec.items():
            if isinstance(rule, str):
                groups.append(Subgroup(str(name), _query(str(name), rule)))
            elif callable(rule):
                groups.append(Subgroup(str(name), rule))
            else:
                raise SpecError(f"subgroup {name!r} must be a callable or a query string; got "
                                f"{type(rule).__name__}.")
        for g in groups:  # fail now, on the real data, not inside every repeat
            try:
                g.mask(data.frame)
            except SpecError as exc:
                if "the expression" not in str(exc):
                    raise
                raise SpecError(f"subgroup {g.name!r} cannot be evaluated on the data: {exc}") from None
            except Exception as exc:  # a user's callable or query can raise anything
                raise SpecError(f"subgroup {g.name!r} cannot be evaluated on the data: {exc}") from exc
        return groups
    if isinstance(spec, Sequence):
        bad = [c for c in spec if c not in data.covariates]
        if bad:
            raise SpecError(f"subgroup columns {bad} are not covariates; choose from {list(data.covariates)}.")
        return [g for c in spec for g in _column_groups(data, c)]
    raise SpecError(f"subgroups must be None, covariate names or a mapping; got {type(spec).__name__}.")
