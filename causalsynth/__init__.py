"""causalsynth: causal synthetic data and estimator simulation.

Estimate (``estimate``), synthesize with a known truth (``HybridSynthesizer``), check privacy
(``dcr``), choose an estimator on synthetic replicates (``simulate``), audit ATE
preservation (``audit``) and diagnose positivity (``diagnose_positivity``,
``augment_positivity``).

The public names are imported on first use (PEP 562 ``__getattr__``), so importing the
package, or ``causalsynth.cli`` to print ``--help``, does not load numpy, pandas or
scikit-learn; ``from causalsynth import estimate`` works as always.
"""
from __future__ import annotations

import importlib
import sys
import types

from ._version import __version__
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
from .progress import RunOptions

__all__ = [
    "CausalData", "estimate", "EstimateOptions", "EstimateResult", "ESTIMATORS", "pooled",
    "HybridSynthesizer", "SyntheticSample", "dcr",
    "simulate", "Simulation", "SimulationResult", "select_estimator", "Selection", "RunOptions",
    "audit", "AuditConfig", "diagnose_positivity", "augment_positivity", "AugmentSpec", "SimulationOptions",
    "CausalSynthError", "DataError", "DataFileError", "RoleError", "SpecError", "NotFittedError",
    "EstimationError",
    "VersionMismatchError", "PositivityWarning", "PrivacyWarning", "LeakageWarning",
    "SingularDesignWarning",
    "__version__",
]


#: Public subpackages and modules, imported on first attribute access as in scipy
#: (``cs.datasets.load_nhefs()`` works after a bare ``import causalsynth``).
#: ``simulate`` and ``audit`` are the functions; their subpackages are imported by name.
_SUBMODULES = ("audit", "cli", "data", "datasets", "errors", "estimators", "fidelity", "learners", "nuisance",
              "positivity", "privacy", "progress", "report", "sample", "simulate", "synth")


def __getattr__(name: str):
    """Import a heavy public name or a subpackage on first access (and keep it, so this runs
    once per name)."""
    if name in _SUBMODULES and name not in ("simulate", "audit"):
        return importlib.import_module(f"{__name__}.{name}")  # the import binds it here
    if name == "CausalData":
        from .data import CausalData as value
    elif name == "estimate":
        from .estimators import estimate as value
    elif name == "EstimateResult":
        from .estimators import EstimateResult as value
    elif name == "EstimateOptions":
        from .estimators import EstimateOptions as value
    elif name == "ESTIMATORS":
        from .estimators import ESTIMATORS as value
    elif name == "pooled":
        from .learners import pooled as value
    elif name == "HybridSynthesizer":
        from .synth.hybrid import HybridSynthesizer as value
    elif name == "SyntheticSample":
        from .sample import SyntheticSample as value
    elif name == "dcr":
        from .privacy import dcr as value
    elif name == "simulate":
        from .simulate import simulate as value
    elif name == "Simulation":
        from .simulate import Simulation as value
    elif name == "SimulationResult":
        from .simulate import SimulationResult as value
    elif name == "select_estimator":
        from .simulate import select_estimator as value
    elif name == "Selection":
        from .simulate import Selection as value
    elif name == "audit":
        from .audit import audit as value
    elif name == "AuditConfig":
        from .audit import AuditConfig as value
    elif name == "AugmentSpec":
        from .positivity import AugmentSpec as value
    elif name == "SimulationOptions":
        from .simulate import SimulationOptions as value
    elif name == "diagnose_positivity":
        from .positivity import diagnose_positivity as value
    elif name == "augment_positivity":
        from .positivity import augment_positivity as value
    else:
        raise AttributeError(f"module 'causalsynth' has no attribute {name!r}")
    if name in ("simulate", "audit"):
        _mirror_submodules(sys.modules[f"{__name__}.{name}"], value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


class _Face(types.ModuleType):
    """The package module: the functions ``simulate`` and ``audit`` share their names with
    subpackages, and importing a subpackage binds it on its parent; keep the functions."""

    def __setattr__(self, name: str, value) -> None:
        if name in ("simulate", "audit") and isinstance(value, types.ModuleType):
            return  # the import system binding causalsynth.simulate/.audit: the function stays
        super().__setattr__(name, value)


class _Mirrored(types.ModuleType):
    """The subpackages ``simulate`` and ``audit``: a submodule bound on the package is bound on
    the function of the same name too, so ``import causalsynth.simulate.select as sel`` works.

    That statement looks ``select`` up on ``causalsynth.simulate``, which is the function
    (the face keeps it, see :class:`_Face`); Python's fallback for a missing attribute
    searches ``sys.modules`` under the *function's* ``__name__`` ("simulate"), which is not
    the package's name. Holding the submodules as attributes of the function answers the
    first look-up."""

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        function = getattr(self, "_face_function", None)
        if function is not None and isinstance(value, types.ModuleType):
            setattr(function, name, value)


def _mirror_submodules(package: types.ModuleType, function) -> None:
    """Bind ``package``'s submodules, those imported now and later, on ``function``."""
    prefix = package.__name__ + "."
    for full, module in list(sys.modules.items()):
        if full.startswith(prefix) and "." not in full[len(prefix):] and module is not None:
            setattr(function, full[len(prefix):], module)
    if not isinstance(package, _Mirrored):
        package.__class__ = _Mirrored
    object.__setattr__(package, "_face_function", function)


sys.modules[__name__].__class__ = _Face
