r"""Positivity (overlap) diagnostics and targeted synthetic augmentation, with a known-truth evaluation.

Three steps, each a public function returning an immutable results object:

1. :func:`diagnose_positivity` -> :class:`PositivityReport`: the cross-fitted propensity by
   arm, the share of units outside :math:`[\delta, 1-\delta]`, the Kish effective sample
   size of the inverse-probability weights per arm, the largest weights, the overlap
   coefficient of the two arms' propensity distributions, and the covariate regions where
   overlap fails as readable rules of a shallow decision tree. A
   :class:`~causalsynth.errors.PositivityWarning` is issued when it matters.
2. :func:`augment_positivity` -> :class:`AugmentationResult`: synthetic records in the
   missing arm near units with :math:`\hat e \notin [\delta, 1-\delta]`, outcomes from
   cross-fitted outcome models (a record never comes from a model that saw its source
   unit), the budget spent where an ensemble of outcome models disagrees most, every record
   marked with its source, region, fold and ensemble member.
3. :func:`evaluate_augmentation` -> :class:`AugmentationEvaluation`: on designs with known
   truth, ATE error (bias, RMSE), CATE error (PEHE) and covariate shift (SMD, MMD) of the
   original against the augmented data over seeded repeats, with a verdict.

The estimand, precisely
-----------------------
Adding :math:`m` rows in the missing arm changes the empirical covariate law (more mass
where overlap fails) and the treated share. Estimators run on the augmented rows *as they
are* target :math:`\psi_{aug} = E_{P_{aug}}[\tau(W)]`, the ATE over the augmented
covariate law :math:`P_{aug} = (nP_n + mQ_m)/(n+m)`; it differs from the ATE of the
original population :math:`\psi = E_P[\tau(W)]` whenever the effect varies with the
covariates in the augmented region. :class:`AugmentationResult` therefore carries weights
:math:`\omega` (a source unit and its records share the source's unit mass) under which the
weighted covariate law is the original one and the treated share at each augmented location
is the clipped propensity :math:`\tilde e = \operatorname{clip}(\hat e, \delta, 1-\delta)`;
:meth:`AugmentationResult.estimate` runs weighted OR/IPW/AIPW/TMLE with :math:`\tilde e` and
targets :math:`\psi`. What it buys: inverse weights bounded by :math:`1/\delta` in the region
and no truncation bias *if the outcome model extrapolates correctly into the region*. What
it costs: the fill-in part of the missing arm's mean there comes from that model, so its
error becomes bias. Synthetic records add no information beyond the real data and the model.

Reproduce the evaluation table of ``docs/positivity.md``::

    python -m causalsynth.positivity --n 1000 --repeats 200 --seed 0
    python -m causalsynth.positivity --n 1000 --repeats 200 --seed 0 --nonlinearity 0.3

Modules: ``diagnose.py`` (the report), ``spec.py`` (:class:`AugmentSpec`, the settings), ``augment.py`` (the records and their weights),
``records.py`` (its building blocks), ``evaluate.py`` (the known-truth evaluation),
``shift.py`` (covariate-shift metrics), ``__main__.py`` (the command above).
"""
from __future__ import annotations

from ..datasets.designs import POSITIVITY_DESIGNS, PoorOverlapDesign
from ..estimators.core import CORE_ESTIMATORS
from .augment import AugmentationResult, Generator, Uncertainty, augment_positivity
from .diagnose import (
    PositivityReport,
    diagnose_positivity,
    kish_ess,
    overlap_coefficient,
)
from .evaluate import VARIANTS, AugmentationEvaluation, evaluate_augmentation
from .spec import AugmentSpec

#: The estimators that run on augmented data with case weights (the core family, ``weights=``).
WEIGHTED_ESTIMATORS = CORE_ESTIMATORS

__all__ = [
    "diagnose_positivity", "PositivityReport", "augment_positivity", "AugmentSpec", "AugmentationResult",
    "evaluate_augmentation", "AugmentationEvaluation", "PoorOverlapDesign", "POSITIVITY_DESIGNS",
    "VARIANTS", "WEIGHTED_ESTIMATORS", "Generator", "Uncertainty", "kish_ess", "overlap_coefficient",
]
