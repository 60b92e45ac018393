"""ATE estimators sharing one nuisance fit: OR, IPW, AIPW, TMLE and DML (econml).

``estimate.py`` holds :func:`estimate` and the registry, ``core.py`` the estimators on
arrays (with optional case weights and the estimands ATE, ATT, ATC, trimmed and overlap),
``dml.py`` the econml adapter and ``results.py`` the immutable :class:`EstimateResult`.
"""
from __future__ import annotations

from .._checks import check_bounds
from .core import ESTIMANDS
from .estimate import (ESTIMATORS, check_estimators, estimate, estimate_from_nuisance, keep_mask, kish_ess, n_clipped_for,
                       overlap_fails, MIN_ESS_SHARE,
                       overlap_summary, positivity_message, resolve_estimand, untrusted_message)
from .results import EstimateResult, EstimateRow, z_value

__all__ = ["ESTIMATORS", "ESTIMANDS", "estimate", "EstimateResult", "EstimateRow", "estimate_from_nuisance",
           "check_estimators", "check_bounds", "positivity_message", "z_value", "kish_ess", "keep_mask",
           "overlap_summary", "overlap_fails", "MIN_ESS_SHARE", "untrusted_message", "resolve_estimand", "n_clipped_for"]
