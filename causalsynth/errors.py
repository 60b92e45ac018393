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
    "CheckpointError",
    "CheckpointCorruptError",
    "CheckpointLockedError",
    "DiskFullError",
    "CheckpointMismatchError",
    "NotFittedError",
    "VersionMismatchError",
    "PickleRequiredError",
    "UntrustedFileError",
    "SignatureError",
    "EstimationError",
    "CausalSynthWarning",
    "PositivityWarning",
    "ConvergenceWarning",
    "PrivacyWarning",
    "TrustedPickleWarning",
    "SingularDesignWarning",
    "LeakageWarning",
    "OutputError",
    "OutputExistsError",
    "OutputDiskFullError",
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


class CheckpointError(DataFileError):
    """A simulation checkpoint folder cannot be used: its path, its permissions, a write.

    The message names the file and the fix.
    """


class CheckpointCorruptError(CheckpointError):
    """A checkpoint file is damaged or foreign: invalid ``meta.json``, an unreadable part, a
    part holding replicates outside the grid, or two parts holding the same replicate."""


class CheckpointLockedError(CheckpointError):
    """Another run is writing to the checkpoint folder (its lock file is held)."""


class DiskFullError(CheckpointError):
    """The disk holding a checkpoint is full (``errno`` is ``ENOSPC``); what was written is safe."""

    def __init__(self, message: str) -> None:
        import errno
        super().__init__(message)
        self.errno = errno.ENOSPC


class CheckpointMismatchError(SpecError):
    """Resuming a checkpoint written with other settings; ``differences`` lists
    ``(setting, in the checkpoint, in this run)``."""

    def __init__(self, message: str, differences: list[tuple[str, str, str]] | None = None) -> None:
        self.differences = list(differences or [])
        super().__init__(message)


class NotFittedError(CausalSynthError, AttributeError):
    """A method that needs ``fit`` was called on an unfitted object."""


class VersionMismatchError(CausalSynthError, ValueError):
    """A saved object was written by an incompatible version of causalsynth."""


class PickleRequiredError(CausalSynthError, TypeError):
    """An object holds parts (scikit-learn models, neural generators, user objects) that the
    array file format cannot store; only a signed pickle (``save(path, key=...)``) can."""


class UntrustedFileError(DataFileError):
    """A file holds a pickle and the caller neither gave the key it is signed with nor opted
    in with ``trust_pickle=True``: nothing was unpickled."""


class SignatureError(DataFileError):
    """A signed file does not verify with the given key (wrong key, or bytes changed since it
    was signed), or a key was given for a file that carries no signature: nothing was read."""


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


class TrustedPickleWarning(CausalSynthWarning):
    """A pickle was unpickled on the caller's word (``trust_pickle=True``), unverified."""


class SingularDesignWarning(CausalSynthWarning):
    """A GLM design is singular or nearly so (constant or collinear columns): some
    coefficients are not identified. The warning names the columns."""


class LeakageWarning(CausalSynthWarning):
    """A covariate copies the treatment or the outcome (equal to it, a one-to-one recoding of
    it, or perfectly correlated with it): adjusting for it leaks the answer. Drop it."""


class OutputError(DataFileError):
    """An output file cannot be written where asked: it would replace an input or another
    output of the same call, it exists and overwriting was not asked for (CLI: ``--force``),
    its folder is a file, or the write failed. Nothing was left at the target: the old file,
    if any, is untouched, and no partial file remains."""

    def __init__(self, message: str, *, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class OutputExistsError(OutputError):
    """The output file exists and overwriting it was not asked for (``force=True``, CLI ``--force``)."""


class OutputDiskFullError(OutputError):
    """The disk (or quota) filled while an output file was written (``errno`` is ``ENOSPC``):
    the target was not touched and the temporary file was removed."""

    def __init__(self, message: str) -> None:
        import errno
        super().__init__(message, errno=errno.ENOSPC)
