"""causalsynth: causal synthetic data and estimator simulation."""
from __future__ import annotations

from .data import CausalData
from .errors import (CausalSynthError, DataError, DataFileError, PositivityWarning, RoleError,
                     SpecError)
from .estimators import ESTIMATORS, EstimateResult, estimate

__version__ = "0.1.0"

__all__ = [
    "CausalData", "estimate", "EstimateResult", "ESTIMATORS",
    "CausalSynthError", "DataError", "DataFileError", "RoleError", "SpecError", "PositivityWarning",
    "__version__",
]
