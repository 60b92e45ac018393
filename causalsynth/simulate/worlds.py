r"""Worlds: several data-generating processes fitted to the same real data, each with its truth.

A simulation on one synthetic world built from main-terms GLMs makes every GLM estimator
correctly specified by construction: misspecification of the real data becomes invisible.
A candidate whose nuisance learners share the world's model class has a *home advantage*.
So the engine simulates the candidates in several worlds (:data:`WORLDS`):

* ``flexible`` (the default): the hybrid synthesizer with covariates from the generator and
  propensity and outcome models from a stack of gradient boosting and a spline-and-interaction
  GLM (the ``"flexible"`` learner preset, a class no candidate has), noise resampled from
  out-of-fold residuals;
* ``glm`` and ``gbm``: the hybrid with main-terms GLM or gradient-boosting nuisances, the home
  worlds of those candidates (shown so that a home advantage is visible);
* ``placebo``: the real control rows with a placebo treatment from the fitted propensity and
  a true effect of exactly 0 (:class:`~causalsynth.synth.placebo.PlaceboSynthesizer`): real
  outcomes, blind to effect heterogeneity;
* any object with ``sample(n, random_state=)`` returning a
  :class:`~causalsynth.sample.SyntheticSample` (your own design, a fitted synthesizer).

The recommendation is decided in the worlds that are home to no candidate (see
:func:`decision_worlds`); the home worlds are reported beside them.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._random import RandomState, as_seed_sequence, child_seed
from ..data import CausalData
from ..errors import CausalSynthWarning, SpecError
from ..learners import learner_class

__all__ = ["WORLDS", "DEFAULT_WORLDS", "World", "build_worlds", "as_worlds", "decision_worlds",
           "world_classes"]

#: World names and what each one is.
WORLDS: dict[str, str] = {
    "flexible": "hybrid: propensity and outcome from a stack of boosting and a spline/interaction GLM "
                "(no candidate's class), out-of-fold residual noise",
    "glm": "hybrid with main-terms GLM nuisances (home world of GLM candidates)",
    "gbm": "hybrid with gradient-boosting nuisances (home world of GBM candidates)",
    "placebo": "real control rows, placebo treatment from the fitted propensity, true effect 0 "
               "(real outcomes; blind to effect heterogeneity)",
}
DEFAULT_WORLDS = ("flexible", "glm", "gbm", "placebo")

_NUISANCE = {"flexible": ("flexible", "flexible"), "glm": ("logistic", None), "gbm": ("gbm", "gbm")}


@dataclass(frozen=True)
class World:
    """One data-generating process of a simulation, with what it is built from."""

    name: str
    dgp: Any = field(repr=False, compare=False)
    description: str = ""
    classes: frozenset = frozenset()  # model classes of its nuisance models (empty: unknown)
    builder: str | None = None  # the WORLDS name it was built from, if any (refits use it)
    seconds_to_fit: float = float("nan")


def world_classes(dgp: Any) -> frozenset:
    """Model classes a fitted synthesizer's nuisance models belong to (empty if unknown)."""
    classes = set()
    for attr in ("propensity", "outcome"):
        if hasattr(dgp, attr) and hasattr(dgp, "fit"):
            classes.add(learner_class(getattr(dgp, attr)))
    return frozenset(classes)


def _build_one(name: str, data: CausalData, seed, *, covariates, covariate_options, n_reference, holdout,
               min_dcr):
    import time

    from ..synth.hybrid import HybridSynthesizer
    from ..synth.placebo import PlaceboSynthesizer
    start = time.perf_counter()
    if name == "placebo":
        dgp = PlaceboSynthesizer(propensity="flexible", random_state=seed).fit(data)
        classes = frozenset({"flexible"})
    else:
        propensity, outcome = _NUISANCE[name]
        # three folds for the out-of-fold residuals: the flexible stack is costly
        dgp = HybridSynthesizer(covariates=covariates, covariate_options=covariate_options,
                                propensity=propensity, outcome=outcome, noise="residuals", n_folds=3,
                                holdout=holdout, min_dcr=min_dcr, n_reference=n_reference,
                                random_state=seed).fit(data)
        classes = frozenset({learner_class(propensity), learner_class(outcome)})
    return World(name, dgp, WORLDS[name], classes, name, time.perf_counter() - start)


def build_worlds(data: CausalData, worlds: Sequence[str] = DEFAULT_WORLDS, *, covariates: Any = "copula",
                 covariate_options: dict | None = None, n_reference: int = 50_000, holdout: float = 0.0,
                 min_dcr: Any = None, random_state: RandomState = None) -> dict[str, World]:
    """Fit the named worlds (:data:`WORLDS`) to ``data``; each draws from its own seed stream.

    ``covariates`` and ``covariate_options`` choose the covariate generator of the hybrid
    worlds (the placebo world keeps the real covariates); ``holdout`` and ``min_dcr`` are
    passed to them (default: the generator sees every row and no privacy filter, as the
    worlds are simulated, never released).
    """
    names = [worlds] if isinstance(worlds, str) else list(worlds)
    unknown = [w for w in names if w not in WORLDS]
    if unknown or not names:
        raise SpecError(f"unknown world(s) {unknown or names}; choose from {list(WORLDS)} or pass "
                        "{name: object with sample(n, random_state=)}")
    if len(set(names)) != len(names):
        raise SpecError(f"worlds lists a name twice: {names}")
    ss = as_seed_sequence(random_state)
    out = {}
    for name in names:
        seed = child_seed(ss, 0x3021D, list(WORLDS).index(name))
        out[name] = _build_one(name, data, seed, covariates=covariates, covariate_options=covariate_options,
                               n_reference=n_reference, holdout=holdout, min_dcr=min_dcr)
    return out


def _check_dgp(name: str, dgp: Any) -> None:
    if isinstance(dgp, CausalData) or hasattr(dgp, "iloc"):
        raise SpecError(f"world {name!r} is real data with no known truth; fit a generator on it first "
                        "(or give the data itself and name the worlds to build)")
    if not callable(getattr(dgp, "sample", None)):
        what = "dgp" if name == "given" else f"world {name!r}"
        raise SpecError(f"{what} must have sample(n, random_state=...) returning a SyntheticSample "
                        f"(a fitted synthesizer or a design from causalsynth.datasets.designs); "
                        f"got {type(dgp).__name__}")
    if hasattr(dgp, "_check_fitted"):
        dgp._check_fitted()


def as_worlds(source: Any, worlds: Any, *, covariates: Any = "copula", random_state: RandomState = None,
              n_reference: int = 50_000) -> dict[str, World]:
    """The worlds of a simulation from its first argument and ``worlds=``.

    * a fitted synthesizer or design, ``worlds=None``: one world named ``"given"``;
    * real data (CausalData): the named worlds, fitted here (default :data:`DEFAULT_WORLDS`);
    * ``worlds`` a mapping name -> synthesizer/design/World, or a sequence mixing names (built
      from ``source`` when it is real data) and such objects.
    """
    if isinstance(source, Mapping) and worlds is None:
        source, worlds = None, source
    if worlds is None:
        if isinstance(source, CausalData):
            worlds = DEFAULT_WORLDS
        else:
            _check_dgp("given", source)
            return {"given": World("given", source, "the data-generating process given", world_classes(source))}
    items = list(worlds.items()) if isinstance(worlds, Mapping) else \
        [(w, w) if isinstance(w, str) else (getattr(w, "name", type(w).__name__), w)
         for w in ([worlds] if isinstance(worlds, str) else worlds)]
    names = [w for w, spec in items if isinstance(spec, str)]
    built = {}
    if names:
        if not isinstance(source, CausalData):
            raise SpecError(f"worlds {names} are built from real data: pass the CausalData as the first "
                            "argument (or pass fitted worlds as {name: synthesizer})")
        built = build_worlds(source, [spec for _, spec in items if isinstance(spec, str)],
                             covariates=covariates, random_state=random_state, n_reference=n_reference)
    out = {}
    for name, spec in items:
        if isinstance(spec, str):
            world = built[spec]
            out[str(name)] = World(str(name), world.dgp, world.description, world.classes, world.builder,
                                   world.seconds_to_fit)
        elif isinstance(spec, World):
            out[str(name)] = spec
        else:
            _check_dgp(str(name), spec)
            out[str(name)] = World(str(name), spec, f"user world ({type(spec).__name__})", world_classes(spec))
    if not out:
        raise SpecError("worlds is empty")
    return out


def decision_worlds(worlds: Mapping[str, World], config_classes: Sequence[frozenset]) -> tuple[str, ...]:
    """The worlds that are home to no candidate (none of its nuisance classes is a candidate's).

    When every world is some candidate's home, all of them decide and a warning says so.
    """
    used = frozenset().union(*config_classes) if config_classes else frozenset()
    neutral = tuple(name for name, w in worlds.items() if not (w.classes & used))
    if neutral:
        return neutral
    if len(worlds) == 1:
        name, world = next(iter(worlds.items()))
        warnings.warn(f"the only world simulated ({name!r}) is built from the model class "
                      f"{sorted(world.classes & used)} that candidate learners share: their home advantage "
                      "makes misspecification of the real data invisible. Add worlds=('flexible', 'placebo') "
                      "(Simulation(data, worlds=...)) to see it.", CausalSynthWarning, stacklevel=3)
    else:
        warnings.warn("every world is built from a candidate's model class; the recommendation uses "
                      "them all and favours the home candidates. Add the 'flexible' or 'placebo' world.",
                      CausalSynthWarning, stacklevel=3)
    return tuple(worlds)
