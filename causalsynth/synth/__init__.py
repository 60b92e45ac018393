"""Generators of synthetic data: covariates first, then treatment and outcome models.

``covariates.py`` the covariate generators (bootstrap, Gaussian copula, CTGAN, TVAE),
``hybrid.py`` the hybrid synthesizer with a known truth, ``joint.py`` the fully generative
baselines, ``io.py`` saving and loading.
"""
from __future__ import annotations

from ._deep import load_ctgan as require_deep

__all__ = ["require_deep"]
