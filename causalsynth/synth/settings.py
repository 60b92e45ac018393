"""How the hybrid synthesizer fits, beyond the everyday choices: one frozen settings object.

``HybridSynthesizer(generator=..., propensity=..., outcome=..., noise=..., min_dcr=...,
n_reference=..., random_state=..., <knobs>)`` takes the everyday choices and the knobs
(``ate``, ``effect_scale``, ``overlap``, ``confounding``, ``treated_share``, ``noise_scale``)
by keyword; the fitting details below go in ``settings=SynthSettings(...)``::

    HybridSynthesizer(generator="ctgan", settings=SynthSettings(covariate_options={"epochs": 50},
                                                                 holdout=0.3, n_folds=10))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .._checks import check_bounds, check_choice, check_int, check_range
from ..errors import SpecError

__all__ = ["SynthSettings", "OUTCOME_MODELS"]

#: The values of ``outcome_model``.
OUTCOME_MODELS = ("auto", "mean", "two-part")


@dataclass(frozen=True, kw_only=True)
class SynthSettings:
    """The fitting details of :class:`~causalsynth.synth.hybrid.HybridSynthesizer`.

    covariate_options : keyword arguments for the named covariate generator (e.g.
        ``{"epochs": 300}`` for CTGAN).
    n_folds : folds for the out-of-fold residuals of the noise model (default 5, at least 2).
    holdout : share of real rows in [0, 0.5) kept out of the covariate generator, as the DCR
        baseline (default 0.2).
    propensity_bounds : clipping of the fitted propensity, ``(low, high)`` with
        ``0 <= low < 0.5 < high <= 1`` (default ``(0.001, 0.999)``).
    outcome_model : ``"auto"`` (default: the two-part model for a nonnegative, non-integer
        outcome with at least 5% exact zeros, such as earnings; the mean-plus-noise model
        otherwise, rounded for integer outcomes such as counts), ``"mean"`` or ``"two-part"``.
    outcome_bounds : bounds the drawn outcomes respect: ``"auto"`` (default: 0 below for a
        nonnegative outcome, none above), None, or a pair (None for an open end).
    derived : covariates that are functions of others, ``{"u74": "re74 == 0"}``, recomputed on
        every synthetic row; default: those the data declare.
    """

    covariate_options: dict | None = None
    n_folds: int = 5
    holdout: float = 0.2
    propensity_bounds: tuple[float, float] = (0.001, 0.999)
    outcome_model: Literal["auto", "mean", "two-part"] = "auto"
    outcome_bounds: Any = "auto"
    derived: dict | None = None

    def __post_init__(self) -> None:
        if self.covariate_options is not None and not isinstance(self.covariate_options, dict):
            raise SpecError(f"SynthSettings: covariate_options must be a dict of keyword arguments for the "
                            f"generator (e.g. {{'epochs': 300}}); got {type(self.covariate_options).__name__}")
        check_int("n_folds", self.n_folds, 2)
        check_range("holdout", self.holdout, 0.0, 0.5)
        object.__setattr__(self, "propensity_bounds", check_bounds(self.propensity_bounds))
        check_choice("outcome_model", self.outcome_model, OUTCOME_MODELS)
        bounds = self.outcome_bounds
        if not (bounds is None or bounds == "auto"):
            try:
                low, high = bounds
            except (TypeError, ValueError) as exc:
                raise SpecError(f"outcome_bounds must be 'auto', None or a pair (low, high); got {bounds!r}") from exc
            if low is not None and high is not None and not low < high:
                raise SpecError(f"outcome_bounds must have low < high; got {bounds!r}")
            object.__setattr__(self, "outcome_bounds", (low, high))
        if self.derived is not None and not isinstance(self.derived, dict):
            raise SpecError(f"derived must be a dict column -> expression (e.g. {{'u74': 're74 == 0'}}); "
                            f"got {type(self.derived).__name__}")
        # copies: a frozen object must not change when the caller later edits the dict it passed
        for name in ("covariate_options", "derived"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, dict(getattr(self, name)))

    def to_dict(self) -> dict:
        """The settings by name (what a saved synthesizer stores among its parameters)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
