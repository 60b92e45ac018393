"""What an estimator is (:class:`EstimatorSpec`) and the live table of the registered ones.

This module holds the registry's machinery and nothing else, so that every estimator module
can read it; :mod:`causalsynth.estimators.registry` registers the built-in estimators and
states the estimand rules. ``ESTIMATORS`` (name -> description) and ``CORE_ESTIMATORS`` (name
-> array-level function) are read-only views of the table: registering a spec updates both.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from ..errors import SpecError

__all__ = ["EstimatorSpec", "ESTIMANDS", "ESTIMATORS", "CORE_ESTIMATORS", "register", "unregister", "spec_of",
           "registered"]

#: The estimands an estimator may target (see :mod:`causalsynth.estimators.core`).
ESTIMANDS = ("ate", "att", "atc", "trimmed", "overlap")


@dataclass(frozen=True, kw_only=True)
class EstimatorSpec:
    """One estimator: its name, its function and what it can do.

    name : the canonical (lower-case) name, as in ``estimators=("aipw",)``.
    function : array-level estimators (``own_nuisance=False``) are called as
        ``function(a, y, e, mu0, mu1, *, or_correction, normalized, bounds, weights, estimand, keep)``
        on the shared nuisance fit (``e`` already clipped for the estimand) and return an
        :class:`~causalsynth.estimators.core.ArmEstimate`; accept ``**_`` for the keywords you
        ignore. Estimators with ``own_nuisance=True`` are called as ``function(data, *,
        propensity, outcome, n_folds, seed)`` and return ``(ate, std_error, note)``.
    description : one line, listed by :data:`causalsynth.ESTIMATORS`.
    estimands : the estimands it can target.
    weights : whether it takes case weights (the augmented rows of :mod:`causalsynth.positivity`).
    own_nuisance : whether it fits its own nuisance models (DML) instead of the shared fit.
    influence_se : whether its standard error comes from an influence function.
    refusal : why it cannot target the estimands it leaves out (shown when one is asked for).
    """

    name: str
    function: Callable
    description: str
    estimands: tuple[str, ...] = ESTIMANDS
    weights: bool = True
    own_nuisance: bool = False
    influence_se: bool = True
    refusal: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or self.name != self.name.lower():
            raise SpecError(f"EstimatorSpec name must be a non-empty lower-case string; got {self.name!r}")
        if not callable(self.function):
            raise SpecError(f"EstimatorSpec {self.name!r}: function must be callable; got "
                            f"{type(self.function).__name__}")
        object.__setattr__(self, "estimands", tuple(self.estimands))
        bad = [e for e in self.estimands if e not in ESTIMANDS]
        if bad or not self.estimands:
            raise SpecError(f"EstimatorSpec {self.name!r}: estimands must be a non-empty subset of "
                            f"{list(ESTIMANDS)}; got {list(self.estimands)}")

    def why_not(self, estimand: str, *, weighted: bool = False) -> str | None:
        """Why this estimator cannot serve ``estimand`` (with case weights when ``weighted``);
        None when it can."""
        if estimand not in self.estimands:
            return self.refusal or f"it targets {', '.join(self.estimands)} only"
        if weighted and not self.weights:
            return "it takes no case weights"
        return None


_SPECS: dict[str, EstimatorSpec] = {}


def register(spec: EstimatorSpec, *, replace: bool = False) -> EstimatorSpec:
    """Add ``spec`` to the registry (``replace=True`` to overwrite a spec of that name)."""
    if not isinstance(spec, EstimatorSpec):
        raise SpecError(f"register takes an EstimatorSpec; got {type(spec).__name__}")
    if spec.name in _SPECS and not replace:
        raise SpecError(f"an estimator named {spec.name!r} is already registered. Fix: choose another name, "
                        "or pass replace=True to overwrite it.")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> EstimatorSpec:
    """Remove the estimator ``name`` from the registry and return its spec."""
    if name not in _SPECS:
        raise SpecError(f"no estimator named {name!r} is registered; have {list(_SPECS)}")
    return _SPECS.pop(name)


def spec_of(name: str) -> EstimatorSpec:
    """The spec of a registered estimator."""
    if name not in _SPECS:
        raise SpecError(f"unknown estimator {name!r}; choose from {list(_SPECS)}")
    return _SPECS[name]


def registered() -> tuple[EstimatorSpec, ...]:
    """Every registered spec, in registration order."""
    return tuple(_SPECS.values())


class _View(Mapping):
    """A read-only view of the registry: ``pick(spec)`` of the specs ``keep(spec)`` accepts."""

    def __init__(self, pick: Callable, keep: Callable = lambda s: True) -> None:
        self._pick, self._keep = pick, keep

    def __getitem__(self, name: str):
        spec = _SPECS.get(name)
        if spec is None or not self._keep(spec):
            raise KeyError(name)
        return self._pick(spec)

    def __iter__(self) -> Iterator[str]:
        return iter([n for n, s in _SPECS.items() if self._keep(s)])

    def __len__(self) -> int:
        return sum(1 for s in _SPECS.values() if self._keep(s))

    def __repr__(self) -> str:
        return repr(dict(self))


#: Canonical estimator names and a one-line description (the registry the docs list).
ESTIMATORS: Mapping[str, str] = _View(lambda s: s.description)
#: Array-level estimators (those on the shared nuisance fit) by canonical name.
CORE_ESTIMATORS: Mapping[str, Callable] = _View(lambda s: s.function, lambda s: not s.own_nuisance)
