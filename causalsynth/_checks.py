"""The one home of argument validators (``check_data``, which must know the class it checks,
lives beside it in :mod:`causalsynth.data`).

Every public entry point checks its arguments with these functions, so a rule is written
once and its message reads the same everywhere: the parameter, the rule, the value received
and, where it helps, the fix. Each returns the value in its canonical type.
"""
from __future__ import annotations

import numbers
from typing import Any, get_args

import numpy as np

from .errors import SpecError

__all__ = ["is_int", "check_int", "check_range", "check_choice", "check_bounds", "adaptive_bound", "resolve_bounds",
           "check_level", "z_value", "check_delta"]


def is_int(value: Any) -> bool:
    """True for Python and numpy integers, False for booleans and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, low: int = 1, *, fix: str = "") -> int:
    """An integer ``>= low`` (booleans refused); ``fix`` is appended to the message."""
    if not is_int(value) or value < low:
        rule = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise SpecError(f"{name} must be {rule}; got {value!r}." + (f" {fix}" if fix else ""))
    return int(value)


def check_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
                high_open: bool = False, allow_none: bool = False) -> float | None:
    """A finite real number in the interval from ``low`` to ``high`` (ends open on request)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (str, bytes, bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise SpecError(f"{name} must be a number; got {value!r}")
    v = float(value)
    finite_only = not np.isfinite(low) and not np.isfinite(high)
    bound = ("a finite number" if finite_only else
             f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")
    if not np.isfinite(v):
        raise SpecError(f"{name} must be {bound}; got {value!r} (a finite number is needed: not infinity or NaN)")
    if v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise SpecError(f"{name} must be {bound}; got {value!r}")
    return v


def check_choice(name: str, value: Any, options: Any) -> Any:
    """One of ``options`` (a sequence, or a ``typing.Literal`` whose arguments are the options)."""
    allowed = get_args(options) or tuple(options)
    if value not in allowed:
        raise SpecError(f"{name} must be one of {list(allowed)}; got {value!r}")
    return value


def check_bounds(propensity_bounds: Any) -> tuple[float, float]:
    """Propensity clipping bounds ``(low, high)`` with ``0 <= low < 0.5 < high <= 1``."""
    try:
        lo, hi = (float(b) for b in propensity_bounds)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"propensity_bounds must be a pair (low, high); got {propensity_bounds!r}") from exc
    if not (0 <= lo < 0.5 < hi <= 1):
        raise SpecError(f"propensity_bounds must satisfy 0 <= low < 0.5 < high <= 1; got {(lo, hi)}")
    return lo, hi


def adaptive_bound(n: int) -> float:
    """The data-adaptive propensity truncation :math:`5/(\\sqrt n \\ln n)` (Gruber, Phillips, Lee &
    van der Laan 2022, "Data-adaptive selection of the propensity score truncation level")."""
    return float(5.0 / (np.sqrt(n) * np.log(n)))


def resolve_bounds(propensity_bounds: Any, n: int) -> tuple[float, float]:
    """Propensity clipping bounds: a checked pair, or ``"adaptive"`` resolved for ``n`` rows."""
    if isinstance(propensity_bounds, str):
        if propensity_bounds != "adaptive":
            raise SpecError(f"propensity_bounds must be a pair (low, high) or 'adaptive'; got {propensity_bounds!r}")
        delta = min(adaptive_bound(max(int(n), 3)), 0.49)
        return delta, 1.0 - delta
    return check_bounds(propensity_bounds)


def check_level(level: Any) -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(level, (str, bytes, bool, np.bool_)) or not isinstance(level, numbers.Real) \
            or not 0 < float(level) < 1:
        raise SpecError(f"level must be a number strictly between 0 and 1 (e.g. 0.95); got {level!r}")
    return float(level)


def z_value(level: Any) -> float:
    """The two-sided normal critical value of ``level`` (1.96 for 0.95)."""
    from scipy.stats import norm
    return float(norm.ppf(0.5 + check_level(level) / 2))


def check_delta(delta: Any) -> float:
    """An overlap bound in (0, 0.5)."""
    try:
        d = float(delta)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"delta must be a number in (0, 0.5); got {delta!r}") from exc
    if not (0 < d < 0.5):
        raise SpecError(f"delta must be in (0, 0.5), e.g. 0.05; got {delta!r}")
    return d
