"""ATE estimators sharing one nuisance fit: OR, IPW, AIPW, TMLE and DML (econml).

``registry.py`` is the one registry (an :class:`EstimatorSpec` per estimator, the default
panel, the estimand rule; ``spec.py`` its machinery), ``estimate.py`` holds :func:`estimate` and
:func:`estimate_from_nuisance` (one nuisance fit -> every estimator -> intervals), ``core.py``
the estimators on arrays (with optional case weights and the estimands ATE, ATT, ATC, trimmed
and overlap), ``dml.py`` the econml adapter and ``results.py`` the immutable
:class:`EstimateResult`.
"""
from __future__ import annotations

from .._checks import check_bounds
from .estimate import (EstimateOptions, estimate, estimate_from_nuisance, keep_mask, kish_ess, n_clipped_for,
                       MIN_ESS_SHARE, overlap_fails,
                       overlap_summary, positivity_message, untrusted_message)
from .registry import (CORE_ESTIMATORS, DEFAULT_ESTIMATORS, ESTIMATORS, EstimatorSpec, check_estimators, register,
                       registered, resolve_estimand, select_estimators, spec_of, unregister)
from .results import EstimateResult, EstimateRow, z_value
from .spec import ESTIMANDS

__all__ = ["ESTIMATORS", "ESTIMANDS", "CORE_ESTIMATORS", "DEFAULT_ESTIMATORS", "EstimatorSpec", "register",
           "unregister", "spec_of", "registered", "select_estimators", "estimate", "EstimateOptions",
           "EstimateResult", "EstimateRow", "estimate_from_nuisance", "check_estimators", "check_bounds",
           "positivity_message", "z_value", "kish_ess", "keep_mask", "overlap_summary", "untrusted_message",
           "resolve_estimand", "n_clipped_for", "overlap_fails", "MIN_ESS_SHARE"]
