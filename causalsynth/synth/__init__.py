"""Generators of synthetic data: covariates first, then treatment and outcome models.

``covariates.py`` the covariate generators (bootstrap, Gaussian copula, CTGAN, TVAE),
``hybrid.py`` the hybrid synthesizer with a known truth, ``joint.py`` the fully generative
baselines, ``io.py`` saving and loading; ``settings.py`` :class:`SynthSettings` (the
synthesizer's fitting details), ``models.py`` the outcome models and noise kinds,
``dcr.py`` :class:`DCRFiltered` (the privacy filter as a generator wrapping another).
"""
from __future__ import annotations

from ._deep import load_ctgan as require_deep

__all__ = ["require_deep", "SynthSettings", "DCRFiltered"]


def __getattr__(name: str):
    """The settings object and the privacy filter, imported on first access (this package
    stays light to import)."""
    if name == "SynthSettings":
        from .settings import SynthSettings as value
    elif name == "DCRFiltered":
        from .dcr import DCRFiltered as value
    else:
        raise AttributeError(f"module 'causalsynth.synth' has no attribute {name!r}")
    globals()[name] = value
    return value
