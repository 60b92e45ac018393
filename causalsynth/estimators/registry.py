"""The one registry of estimators: the built-in specs, the default panel and the estimand rule.

Adding an estimator is one function and one :class:`EstimatorSpec` passed to :func:`register`
(a built-in one: one more entry in the table below); :func:`causalsynth.estimate`,
:func:`~causalsynth.estimators.estimate_from_nuisance`, the simulation, the audit and the
positivity augmentation then run it::

    def difference_in_means(a, y, e, mu0, mu1, weights=None, **_):  # -> ArmEstimate
        ...
    register(EstimatorSpec(name="naive", function=difference_in_means,
                           description="difference in means", estimands=("ate",)))

The estimand rule, the same for every caller: an estimator named explicitly that cannot
target the estimand (or take the case weights) raises a :class:`~causalsynth.errors.SpecError`
naming it and the fix; the default panel (``estimators=None``) silently keeps those of
:data:`DEFAULT_ESTIMATORS` that can, and returns a note for each one left out.
"""
from __future__ import annotations

from collections.abc import Sequence

from .._checks import check_choice
from ..errors import Fix, SpecError
from .core import aipw_estimate, ipw_estimate, or_estimate, tmle_estimate
from .dml import dml_estimate
from .spec import CORE_ESTIMATORS, ESTIMANDS, ESTIMATORS, EstimatorSpec, register, registered, spec_of, unregister

__all__ = ["EstimatorSpec", "ESTIMATORS", "CORE_ESTIMATORS", "DEFAULT_ESTIMATORS", "register", "unregister",
           "spec_of", "registered", "check_estimators", "resolve_estimand", "select_estimators"]

#: The estimators run when none are named: those of them that can target the estimand.
DEFAULT_ESTIMATORS: tuple[str, ...] = ("or", "ipw", "aipw", "tmle")

for _spec in (
    EstimatorSpec(name="or", function=or_estimate,
                  description="outcome regression / g-computation (standardization)"),
    EstimatorSpec(name="ipw", function=ipw_estimate,
                  description="inverse probability weighting (normalized/Hajek; EstimateOptions(ipw_normalized=False) "
                              "for Horvitz-Thompson)"),
    EstimatorSpec(name="aipw", function=aipw_estimate,
                  description="augmented IPW, doubly robust, influence-function SE"),
    EstimatorSpec(name="tmle", function=tmle_estimate,
                  description="targeted maximum likelihood, logistic fluctuation on the scaled outcome",
                  estimands=("ate", "att", "atc", "trimmed"),
                  refusal="its weights e(1-e) depend on the propensity, which this TMLE does not target"),
    EstimatorSpec(name="dml", function=dml_estimate,
                  description="double machine learning, econml LinearDML (partially linear model, cross-fitted)",
                  estimands=("ate",), weights=False, own_nuisance=True,
                  refusal="econml's LinearDML estimates a partially linear (overlap-weighted) effect, not this one"),
):
    register(_spec)


def check_estimators(estimators: Sequence[str] | str) -> tuple[str, ...]:
    """Canonical estimator names, each once, in the order given."""
    if isinstance(estimators, str):
        estimators = [estimators]
    names = tuple(dict.fromkeys(str(e).lower() for e in estimators))  # once each, in order
    unknown = [e for e in names if e not in ESTIMATORS]
    if unknown or not names:
        raise SpecError(f"unknown estimator(s) {unknown or names}; choose from {list(ESTIMATORS)}")
    return names


def resolve_estimand(estimand: str, names: tuple, *, explicit: bool, weighted: bool = False) -> tuple[tuple, list[str]]:
    """The estimators of ``names`` that can target ``estimand`` (with case weights when
    ``weighted``); refused ones raise (``explicit``: the caller named them) or are dropped with
    a note (the default panel)."""
    check_choice("estimand", estimand, ESTIMANDS)
    why = {n: r for n in names if (r := spec_of(n).why_not(estimand, weighted=weighted))}
    if why and explicit:
        keep = tuple(n for n in names if n not in why)
        fix = ([Fix(f"leave {', '.join(why)} out: {{}}", "estimators", keep)] if keep else
               [Fix("name estimators that can"), Fix("leave {} unset for the default panel of those that can",
                                                     "estimators")])
        reasons = "; ".join(f"{k}: {v}" for k, v in why.items())
        if weighted and all(r == "it takes no case weights" for r in why.values()):
            able = [s.name for s in registered() if s.weights]
            raise SpecError(f"case-weighted estimation supports {', '.join(able[:-1])} and {able[-1]}; {reasons}.",
                            argument="estimators", fix=fix)
        raise SpecError(f"{{}} cannot be estimated by {reasons}.", argument="estimand", value=estimand, fix=fix)
    return tuple(n for n in names if n not in why), [f"{k} left out: {v}" for k, v in why.items()]


def select_estimators(estimators: Sequence[str] | str | None, estimand: str = "ate", *,
                      weighted: bool = False) -> tuple[tuple[str, ...], list[str]]:
    """The estimators to run and the notes on those left out: ``estimators`` checked against
    ``estimand`` (explicit names that cannot target it raise), or, for ``None``, the default
    panel's estimators that can (the others left out with a note)."""
    explicit = estimators is not None
    names = check_estimators(estimators if explicit else DEFAULT_ESTIMATORS)
    return resolve_estimand(estimand, names, explicit=explicit, weighted=weighted)
