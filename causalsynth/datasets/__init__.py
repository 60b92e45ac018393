"""Embedded real datasets (nothing is downloaded at run time) and simulation designs with known truth.

``_real.py`` loads the embedded NHEFS and LaLonde files (sources in ``data/SOURCES.md``);
``designs.py`` holds the simulation designs.
"""
from __future__ import annotations

from ._real import (
                    DATASETS,
                    LALONDE_DERIVED,
                    NHEFS_CATEGORICAL,
                    NHEFS_COVARIATES,
                    NHEFS_OUTCOME_FORMULA,
                    NHEFS_PROPENSITY_FORMULA,
                    load_dataset,
                    load_lalonde,
                    load_lalonde_cps,
                    load_nhefs,
                    load_nhefs_frame,
)
from .designs import (
                    ACIC2016,
                    ACIC_DEVELOPMENT,
                    DESIGNS,
                    KANG_SCHAFER_FORMULAS,
                    KangSchafer2007,
                    LimitedOverlapDesign,
                    IHDPSurfaceB,
                    LinearLogisticDesign,
                    NonlinearHeterogeneousDesign,
                    PoorOverlapDesign,
                    Xu2026Positivity,
)

__all__ = ["DATASETS", "load_dataset", "load_lalonde", "load_lalonde_cps", "load_nhefs", "load_nhefs_frame",
           "LALONDE_DERIVED",
           "NHEFS_COVARIATES", "NHEFS_CATEGORICAL", "NHEFS_PROPENSITY_FORMULA", "NHEFS_OUTCOME_FORMULA",
           "DESIGNS", "KANG_SCHAFER_FORMULAS", "KangSchafer2007", "LinearLogisticDesign",
           "LimitedOverlapDesign", "PoorOverlapDesign", "NonlinearHeterogeneousDesign", "IHDPSurfaceB",
           "Xu2026Positivity", "ACIC2016", "ACIC_DEVELOPMENT"]
