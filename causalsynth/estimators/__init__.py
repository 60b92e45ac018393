"""ATE estimators sharing one nuisance fit: OR, IPW, AIPW, TMLE and DML (econml).

``estimate.py`` holds :func:`estimate` and the registry, ``core.py`` the estimators on
arrays (with optional case weights), ``dml.py`` the econml adapter and ``results.py`` the
immutable :class:`EstimateResult`.
"""
from __future__ import annotations

from .._checks import check_bounds
from .estimate import (
           ESTIMATORS,
           check_estimators,
           estimate,
           estimate_from_nuisance,
           positivity_message,
)
from .results import EstimateResult, EstimateRow, z_value

__all__ = ["ESTIMATORS", "estimate", "EstimateResult", "EstimateRow", "estimate_from_nuisance",
           "check_estimators", "check_bounds", "positivity_message", "z_value"]
