"""Exception and warning classes of causalsynth.

Every error raised on user input derives from :class:`CausalSynthError` and from the
built-in class a caller would expect (``ValueError``, ``TypeError``, ``OSError``), so
``except ValueError`` keeps working.  Warnings are filterable by class.

Errors and warnings carry structured fields besides their words, so that an interface can say
the same thing in its own terms without parsing the words (the command line renders them with
its option names, see ``causalsynth.cli.app.render_error``):

* ``argument``: the library parameter the problem is about (``"n_reps"``), and ``value`` the
  setting of it that the words refer to (``True`` for ``resume=True``);
* ``fixes``: the ways out, each a :class:`Fix` (what to do, and the parameter and value to
  set, if any).

The words (``message``) and a fix's ``text`` mark where the setting goes with their first ``{}``:
``SpecError("{} needs a checkpoint folder", argument="resume", value=True)`` reads
"resume=True needs a checkpoint folder" in Python, "--resume needs a checkpoint folder" on
the command line. ``str(error)`` is the Python form: the message, then "; fix: " and the
fixes joined with "; or ".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = [
    "Fix",
    "NO_VALUE",
    "StructuredMessage",
    "python_setting",
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


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"

    def __reduce__(self) -> str:
        return "NO_VALUE"  # one instance, across pickling (errors travel back from worker processes)


#: The ``value`` of a field that names a parameter but no value for it ("lower min_dcr").
NO_VALUE: Any = _NoValue()


def python_setting(argument: str | None, value: Any = NO_VALUE) -> str:
    """How Python code spells a setting: ``name=value`` (``missing='drop'``) or the bare name."""
    if argument is None:
        return ""
    return argument if value is NO_VALUE else f"{argument}={value!r}"


@dataclass(frozen=True)
class Fix:
    """One way out of a problem: ``text`` says what to do; ``{}`` in it marks the setting of
    ``argument`` (a library parameter or tool, e.g. ``"causalsynth.positivity"``) to
    ``value`` (omitted: the parameter itself, as in "lower {}")."""

    text: str
    argument: str | None = None
    value: Any = NO_VALUE

    def render(self, setting: Callable[[str | None, Any], str] = python_setting) -> str:
        """The fix in words, the setting spelled by ``setting(argument, value)``."""
        return fill(self.text, setting(self.argument, self.value)) if self.argument else self.text


def fill(text: str, setting: str) -> str:
    """``text`` with its first ``{}`` replaced by ``setting`` (no other brace is touched: a
    value quoted later in the text may hold braces)."""
    return text.replace("{}", setting, 1)


class StructuredMessage:
    """The structured fields shared by errors and warnings (see the module docstring)."""

    message: str = ""
    argument: str | None = None
    value: Any = NO_VALUE
    fixes: tuple[Fix, ...] = ()

    def _set_fields(self, message: str, argument: str | None, value: Any, fix) -> None:
        self.message = str(message)
        self.argument = argument
        self.value = value
        if fix is None:
            fixes: tuple = ()
        elif isinstance(fix, (Fix, str)):
            fixes = (fix,)
        else:
            fixes = tuple(fix)
        self.fixes = tuple(Fix(f) if isinstance(f, str) else f for f in fixes)

    def render(self, setting: Callable[[str | None, Any], str] = python_setting) -> str:
        """The message and its fixes, every setting spelled by ``setting(argument, value)``."""
        text = fill(self.message, setting(self.argument, self.value)) if self.argument else self.message
        if self.fixes:
            text = text.rstrip().rstrip(".") + "; fix: " + "; or ".join(f.render(setting) for f in self.fixes)
        return text

    def __str__(self) -> str:
        return self.render() if self.__dict__.get("message") is not None else super().__str__()


class CausalSynthError(StructuredMessage, Exception):
    """Base class of every error causalsynth raises on purpose.

    ``CausalSynthError(message, argument=..., value=..., fix=...)``: ``fix`` is a :class:`Fix`,
    a string or a list of them (see the module docstring)."""

    def __init__(self, message: str = "", *args: Any, argument: str | None = None,
                 value: Any = NO_VALUE, fix: Fix | str | list | tuple | None = None) -> None:
        super().__init__(message, *args)
        self._set_fields(message, argument, value, fix)


class DataError(CausalSynthError, ValueError):
    """The data violates a rule (missing values, non-binary treatment, empty arm, ...).

    ``problems`` lists every problem found, so one call reports them all.
    """

    def __init__(self, message: str, problems: list[str] | None = None, **fields: Any) -> None:
        self.problems = list(problems) if problems else [message]
        super().__init__(message, **fields)


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

    def __init__(self, message: str, **fields: Any) -> None:
        import errno
        super().__init__(message, **fields)
        self.errno = errno.ENOSPC


class CheckpointMismatchError(SpecError):
    """Resuming a checkpoint written with other settings; ``differences`` lists
    ``(setting, in the checkpoint, in this run)``."""

    def __init__(self, message: str, differences: list[tuple[str, str, str]] | None = None,
                 **fields: Any) -> None:
        self.differences = list(differences or [])
        super().__init__(message, **fields)


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


class CausalSynthWarning(StructuredMessage, UserWarning):
    """Base class of causalsynth's warnings; ``warnings.warn(PositivityWarning(message,
    fix=...))`` carries the same structured fields as an error."""

    def __init__(self, message: str = "", *args: Any, argument: str | None = None,
                 value: Any = NO_VALUE, fix: Fix | str | list | tuple | None = None) -> None:
        super().__init__(message, *args)
        self._set_fields(message, argument, value, fix)


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

    def __init__(self, message: str, *, errno: int | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.errno = errno


class OutputExistsError(OutputError):
    """The output file exists and overwriting it was not asked for (``force=True``, CLI ``--force``)."""


class OutputDiskFullError(OutputError):
    """The disk (or quota) filled while an output file was written (``errno`` is ``ENOSPC``):
    the target was not touched and the temporary file was removed."""

    def __init__(self, message: str, **fields: Any) -> None:
        import errno
        super().__init__(message, errno=errno.ENOSPC, **fields)
