"""Exception and warning classes of causalsynth.

Every error raised on user input derives from :class:`CausalSynthError` and from the
built-in class a caller would expect (``ValueError``, ``TypeError``, ``OSError``), so
``except ValueError`` keeps working.  Warnings are filterable by class.
"""
from __future__ import annotations

__all__ = [
    "CausalSynthError",
    "DataError",
    "RoleError",
    "SpecError",
    "DataFileError",
    "NotFittedError",
    "VersionMismatchError",
    "EstimationError",
    "CausalSynthWarning",
    "PositivityWarning",
    "ConvergenceWarning",
    "PrivacyWarning",
    "SingularDesignWarning",
    "LeakageWarning",
]


class CausalSynthError(Exception):
    """Base class of every error causalsynth raises on purpose."""


class DataError(CausalSynthError, ValueError):
    """The data violates a rule (missing values, non-binary treatment, empty arm, ...).

    ``problems`` lists every problem found, so one call reports them all.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


class RoleError(DataError):
    """A column named as treatment, outcome or covariate is absent or used twice."""


class SpecError(CausalSynthError, ValueError):
    """An argument has a value outside the allowed set or range."""


class DataFileError(CausalSynthError, OSError):
    """A data file could not be found, read or parsed."""


class NotFittedError(CausalSynthError, AttributeError):
    """A method that needs ``fit`` was called on an unfitted object."""


class VersionMismatchError(CausalSynthError, ValueError):
    """A saved object was written by an incompatible version of causalsynth."""


class EstimationError(CausalSynthError, RuntimeError):
    """An estimator could not produce a number (for example, a learner failed)."""


class CausalSynthWarning(UserWarning):
    """Base class of causalsynth's warnings."""


class PositivityWarning(CausalSynthWarning):
    """Estimated propensities close to 0 or 1: weights are extreme, estimates fragile."""


class ConvergenceWarning(CausalSynthWarning):
    """An iterative fit stopped before converging."""


class PrivacyWarning(CausalSynthWarning):
    """A generator or a synthetic set offers little protection for real records."""


class SingularDesignWarning(CausalSynthWarning):
    """A GLM design is singular or nearly so (constant or collinear columns): some
    coefficients are not identified. The warning names the columns."""


class LeakageWarning(CausalSynthWarning):
    """A covariate copies the treatment or the outcome (equal to it, a one-to-one recoding of
    it, or perfectly correlated with it): adjusting for it leaks the answer. Drop it."""
