"""causalsynth: causal synthetic data and estimator simulation.

Estimate (``estimate``), synthesize with a known truth (``HybridSynthesizer``), check privacy
(``dcr``), choose an estimator on synthetic replicates (``simulate``), audit ATE
preservation (``audit``) and diagnose positivity (``diagnose_positivity``,
``augment_positivity``).
"""
from __future__ import annotations

from ._version import __version__
from .audit import audit
from .data import CausalData
from .errors import (
                     CausalSynthError,
                     DataError,
                     DataFileError,
                     EstimationError,
                     LeakageWarning,
                     NotFittedError,
                     PositivityWarning,
                     PrivacyWarning,
                     RoleError,
                     SingularDesignWarning,
                     SpecError,
                     VersionMismatchError,
)
from .estimators import ESTIMATORS, EstimateResult, estimate
from .learners import pooled
from .positivity import augment_positivity, diagnose_positivity
from .privacy import dcr
from .sample import SyntheticSample
from .simulate import Simulation, SimulationResult, simulate
from .synth.hybrid import HybridSynthesizer

__all__ = [
    "CausalData", "estimate", "EstimateResult", "ESTIMATORS", "pooled",
    "HybridSynthesizer", "SyntheticSample", "dcr",
    "simulate", "Simulation", "SimulationResult",
    "audit", "diagnose_positivity", "augment_positivity",
    "CausalSynthError", "DataError", "DataFileError", "RoleError", "SpecError", "NotFittedError",
    "EstimationError",
    "VersionMismatchError", "PositivityWarning", "PrivacyWarning", "LeakageWarning",
    "SingularDesignWarning",
    "__version__",
]
