r"""The settings of a positivity augmentation: :class:`AugmentSpec` (issue 19).

One validated, frozen, keyword-only object that :func:`~causalsynth.positivity.augment_positivity`
takes, that :func:`~causalsynth.positivity.evaluate_augmentation` passes on unchanged, and that an
:class:`~causalsynth.positivity.AugmentationResult` keeps for its bootstrap.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from .._checks import check_choice, check_delta, check_int
from ..errors import SpecError

__all__ = ["AugmentSpec", "Generator", "Uncertainty", "IfRisky"]

Generator = Literal["local", "hybrid"]
Uncertainty = Literal["ensemble", "none"]
IfRisky = Literal["withhold", "warn", "refuse", "ignore"]


def _check_budget(budget: Any) -> int | str | None:
    if budget is None or budget == "auto":
        return budget
    return check_int("budget", budget, fix="It is the number of synthetic records; None adds one per "
                                           "low-overlap unit.")


@dataclass(frozen=True, kw_only=True)
class AugmentSpec:
    r"""How to augment: where overlap fails, how records are drawn, what to do when they are risky.

    budget : int, "auto" or None
        Most synthetic records to add. ``"auto"`` (default): one per low-overlap source unit,
        but at most half the size of the arm the records fill (stated in the result as
        ``budget_rule``). None: one per source unit, unbounded. When the budget is smaller than
        the number of sources, the sources with the largest score go first; when larger, the
        extra records go to the sources with the largest score, proportionally (largest
        remainder).
    delta : float in (0, 0.5), default 0.05
        Units with cross-fitted propensity outside :math:`[\delta, 1-\delta]` lack overlap.
    propensity, outcome : learner specifications (defaults: main-terms logistic and linear
        or logistic), as in :func:`causalsynth.estimate`.
    generator : "local" (source covariates plus Gaussian noise of ``bandwidth`` standard
        deviations on numeric columns, clipped to the observed range; binary and categorical
        values kept) or "hybrid" (the nearest unused rows of a Gaussian-copula sample, the
        hybrid synthesizer's covariate generator).
    n_folds : int >= 2, cross-fitting folds; a record completing a unit of fold k gets its
        outcome from models fitted on the other folds only.
    uncertainty : "ensemble" (default) scores each low-overlap unit by :math:`c_i \cdot s_i`,
        its fill-in mass times the standard deviation of ``n_models`` bootstrap refits of the
        missing arm's outcome model at its covariates; records' outcomes are drawn from the
        ensemble members in turn. "none" scores by :math:`c_i` alone and uses the fold's main model.
    n_models : ensemble size (bootstrap refits per fold and arm), >= 2.
    bandwidth : perturbation scale of the local generator, in standard deviations, in (0, 5].
    noise : add Gaussian noise with the arm's residual SD to continuous outcomes (binary
        outcomes are always Bernoulli draws).
    max_depth : depth of the diagnostic tree that names the regions.
    if_risky : what to do when the records are expected to hurt (see
        :func:`~causalsynth.positivity.augment_positivity`): "withhold" (default), "warn",
        "refuse" or "ignore".
    """

    budget: int | str | None = "auto"
    delta: float = 0.05
    propensity: Any = None
    outcome: Any = None
    generator: Generator = "local"
    n_folds: int = 5
    uncertainty: Uncertainty = "ensemble"
    n_models: int = 5
    bandwidth: float = 0.1
    noise: bool = True
    max_depth: int = 2
    if_risky: IfRisky = "withhold"

    def __post_init__(self) -> None:
        def put(name, value):
            object.__setattr__(self, name, value)
        put("budget", _check_budget(self.budget))
        put("delta", check_delta(self.delta))
        put("generator", check_choice("generator", self.generator, Generator))
        put("n_folds", check_int("n_folds", self.n_folds, 2))
        put("uncertainty", check_choice("uncertainty", self.uncertainty, Uncertainty))
        put("n_models", check_int("n_models", self.n_models, 2))
        if isinstance(self.bandwidth, bool) or not isinstance(self.bandwidth, (int, float)) \
                or not 0 < self.bandwidth <= 5:
            raise SpecError(f"bandwidth must be a number in (0, 5] (standard deviations); got {self.bandwidth!r}")
        if self.noise not in (True, False):
            raise SpecError(f"noise must be True or False; got {self.noise!r}")
        put("max_depth", check_int("max_depth", self.max_depth, 1))
        put("if_risky", check_choice("if_risky", self.if_risky, IfRisky))

    def check_arms(self, n_treated: int, n_control: int) -> None:
        """Refuse more folds than the smallest arm can fill (two rows per fold)."""
        smallest = min(n_treated, n_control)
        if smallest < 2 * self.n_folds:
            raise SpecError(f"n_folds={self.n_folds} is too many for the smallest arm ({smallest} rows); "
                            "use fewer folds.")

    def to_dict(self) -> dict:
        """The settings by name (learners as given)."""
        return asdict(self)
