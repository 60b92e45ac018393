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

__all__ = ["WORLDS", "DEFAULT_WORLDS", "World", "WorldRecipe", "build_worlds", "as_worlds", "decision_worlds",
           "world_classes", "calibrate_world"]

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
class WorldRecipe:
    """How worlds are fitted: one object, so that refits of the worlds (bootstrap resamples,
    :mod:`causalsynth.simulate.uncertainty`) are built exactly as the worlds they check.

    generator, covariate_options : the covariate generator of the hybrid worlds (``"copula"``,
        ``"bootstrap"``, ``"ctgan"``, ``"tvae"`` or a generator object) and its keyword arguments.
    n_reference : size of the reference sample of each world's truth.
    holdout, min_dcr : the generator's real holdout and privacy filter (see
        :class:`~causalsynth.synth.hybrid.HybridSynthesizer`).
    calibrate : match each hybrid world's propensity to the real cross-fitted one (AUC, keeping
        the treated share) and remove the out-of-fold fitting error from its noise (see
        :func:`calibrate_world`). Uses the treatment and the outcome's residual noise only:
        no candidate estimator ever runs on the real outcomes.
    """

    generator: Any = "copula"
    covariate_options: tuple = ()  # sorted (key, value) pairs: hashable, comparable
    n_reference: int = 50_000
    holdout: float = 0.0
    min_dcr: Any = None
    calibrate: bool = True

    @classmethod
    def of(cls, generator: Any = "copula", covariate_options: dict | None = None, **kw) -> WorldRecipe:
        return cls(generator, tuple(sorted((covariate_options or {}).items())), **kw)


@dataclass(frozen=True)
class World:
    """One data-generating process of a simulation, with what it is built from."""

    name: str
    dgp: Any = field(repr=False, compare=False)
    description: str = ""
    classes: frozenset = frozenset()  # model classes of its nuisance models (empty: unknown)
    builder: str | None = None  # the WORLDS name it was built from, if any (refits use it)
    seconds_to_fit: float = float("nan")
    recipe: WorldRecipe | None = field(default=None, compare=False)  # how it was fitted (None: given)
    calibration: dict = field(default_factory=dict, compare=False, repr=False)


def world_classes(dgp: Any) -> frozenset:
    """Model classes a fitted synthesizer's nuisance models belong to (empty if unknown)."""
    classes = set()
    for attr in ("propensity", "outcome"):
        if hasattr(dgp, attr) and hasattr(dgp, "fit"):
            classes.add(learner_class(getattr(dgp, attr)))
    return frozenset(classes)


def calibrate_world(dgp: Any, real: dict, *, n_like: int | None = None, random_state: RandomState = 0
                    ) -> tuple[Any, dict]:
    """A hybrid world calibrated to the real data's difficulty (``real``: the output of
    :func:`~causalsynth.simulate.difficulty.data_difficulty`), and what was changed.

    * propensity: a stacked model fitted on all rows is shrunk toward the middle (its fitted
      propensities are smoother than the truth), so the world's overlap is better than the
      data's. The world's logit propensity is stretched by the factor ``overlap`` (the
      intercept re-solved so the treated share is kept) chosen so that the world's expected
      AUC equals the AUC of the real cross-fitted propensity; with ``n_like`` (the real
      size) one correction step follows: the world's own cross-fitted AUC on a sample of that
      size is measured and the target moved by its gap to the real one, so that the
      cross-fitted distributions (what the candidates see) match, not only the truths.
    * noise: resampled out-of-fold residuals carry the fold models' prediction error, so the
      world is noisier than the data. Each arm's noise is scaled to the de-biased real noise
      variance (never up: the factor is at most 1).
    Only the treatment and the outcome residuals are used; no estimator runs on the outcomes.
    """
    from scipy.optimize import brentq
    from scipy.special import expit, logit

    from .difficulty import expected_auc
    placebo = hasattr(dgp, "with_overlap")
    if not placebo and (not hasattr(dgp, "with_knobs") or not hasattr(dgp, "reference_propensity_")):
        return dgp, {}
    if placebo:  # the placebo world: its propensity over the real control rows
        dgp = _PlaceboKnobs(dgp)
    e_ref = np.asarray(dgp.reference_propensity_, dtype=float)[:20_000]
    le = logit(np.clip(e_ref, 1e-6, 1 - 1e-6))
    le = le - le.mean()
    share = float(dgp.treated_share_)

    def auc_at(s: float) -> float:
        b = brentq(lambda b: float(np.mean(expit(b + s * le))) - share, -60, 60)
        return expected_auc(np.clip(expit(b + s * le), 1e-6, 1 - 1e-6))

    target = float(real["auc"])
    base = float(dgp.overlap)  # the reference propensity already carries it: s below is relative to it
    info = {"auc_target": target, "auc_before": auc_at(1.0)}
    knobs = {}
    s = 1.0
    if np.isfinite(target) and target > 0.5:
        lo, hi = 0.05 / max(base, 1e-3), 20.0 / max(base, 1e-3)
        if auc_at(lo) > target:
            s = lo
        elif auc_at(hi) < target:
            s = hi
        else:
            s = brentq(lambda s: auc_at(s) - target, lo, hi, xtol=1e-3)
        knobs["overlap"] = float(min(base * s, 20.0))
    if "overlap" in knobs and n_like is not None:
        from .._resample import make_folds
        from .difficulty import crossfit_propensity
        try:
            part = dgp.with_knobs(overlap=knobs["overlap"]).sample(int(n_like), random_state=random_state).data
            s_fold, s_prop = as_seed_sequence(random_state).spawn(2)
            e_cf = crossfit_propensity(part, make_folds(part.a, 5, s_fold), s_prop)
            from sklearn.metrics import roc_auc_score
            gap = target - float(roc_auc_score(part.a, e_cf))
            info["auc_crossfit_first"] = target - gap
            target2 = float(np.clip(target + gap, 0.501, 0.995))
            lo, hi = 0.05 / max(base, 1e-3), 20.0 / max(base, 1e-3)
            s = lo if auc_at(lo) > target2 else hi if auc_at(hi) < target2 else brentq(
                lambda s: auc_at(s) - target2, lo, hi, xtol=1e-3)
            knobs["overlap"] = float(min(base * s, 20.0))
            info["auc_true_target"] = target2
        except (ValueError, RuntimeError) as exc:  # a draw with one arm, a failed fit: keep the first step
            info["correction_failed"] = str(exc)
    info["overlap"] = knobs.get("overlap", base)
    if getattr(dgp, "noise_", None) in ("residuals", "gaussian", "heteroscedastic") and hasattr(dgp, "noise_sd_"):
        factors = []
        for arm, key in ((0, "noise_var_control"), (1, "noise_var_treated")):
            v_world = float(dgp.noise_sd_[arm]) ** 2
            v_real = float(real.get(key, np.nan))
            factors.append(float(np.sqrt(min(1.0, v_real / v_world))) if v_world > 0 and np.isfinite(v_real) else 1.0)
        knobs["noise_scale"] = tuple(factors)
        info["noise_scale"] = tuple(factors)
    if not knobs:
        return (dgp.inner if placebo else dgp), info
    new = dgp.with_knobs(**knobs)
    info["auc_after"] = auc_at(s)
    return (new.inner if placebo else new), info


class _PlaceboKnobs:
    """The placebo world seen through the hybrid's knob interface (overlap only)."""

    def __init__(self, inner):
        self.inner = inner
        self.reference_propensity_ = inner.propensity_
        self.treated_share_ = inner.treated_share_
        self.overlap = 1.0
        self.noise_ = None

    def with_knobs(self, overlap: float = 1.0, **_ignored):
        return _PlaceboKnobs(self.inner.with_overlap(overlap))

    def sample(self, n, *, random_state=None):
        return self.inner.sample(n, random_state=random_state)


def _build_one(name: str, data: CausalData, seed, recipe: WorldRecipe, real: dict | None):
    import time

    from ..synth.hybrid import HybridSynthesizer, SynthSettings
    from ..synth.placebo import PlaceboSynthesizer
    start = time.perf_counter()
    if name == "placebo":
        dgp = PlaceboSynthesizer(propensity="flexible", random_state=seed).fit(data)
        classes = frozenset({"flexible"})
    else:
        propensity, outcome = _NUISANCE[name]
        # three folds for the out-of-fold residuals: the flexible stack is costly
        settings = SynthSettings(covariate_options=dict(recipe.covariate_options) or None, n_folds=3,
                                 holdout=recipe.holdout)
        dgp = HybridSynthesizer(generator=recipe.generator, settings=settings,
                                propensity=propensity, outcome=outcome, noise="residuals",
                                min_dcr=recipe.min_dcr, n_reference=recipe.n_reference,
                                random_state=seed).fit(data)
        classes = frozenset({learner_class(propensity), learner_class(outcome)})
    calibration = {}
    if recipe.calibrate and real is None:
        from .difficulty import data_difficulty
        real = data_difficulty(data, random_state=child_seed(seed, 99))
    if recipe.calibrate:
        dgp, calibration = calibrate_world(dgp, real, n_like=data.n_obs, random_state=child_seed(seed, 7))
    return World(name, dgp, WORLDS[name], classes, name, time.perf_counter() - start, recipe, calibration)


def build_worlds(data: CausalData, worlds: Sequence[str] = DEFAULT_WORLDS, *, generator: Any = "copula",
                 covariate_options: dict | None = None, n_reference: int = 50_000, holdout: float = 0.0,
                 min_dcr: Any = None, random_state: RandomState = None, recipe: WorldRecipe | None = None,
                 real: dict | None = None) -> dict[str, World]:
    """Fit the named worlds (:data:`WORLDS`) to ``data``; each draws from its own seed stream.

    ``recipe`` (a :class:`WorldRecipe`) says how; without it, one is made from
    ``generator`` and ``covariate_options`` (the covariate generator of the hybrid worlds;
    the placebo world keeps the real covariates), ``holdout`` and ``min_dcr`` (default: the
    generator sees every row and no privacy filter, as the worlds are simulated, never
    released) and ``n_reference``. ``real``: the data's difficulty
    (:func:`~causalsynth.simulate.difficulty.data_difficulty`), computed here when the
    recipe calibrates and it is not given.
    """
    if recipe is None:
        recipe = WorldRecipe.of(generator, covariate_options, n_reference=n_reference, holdout=holdout,
                                min_dcr=min_dcr)
    names = [worlds] if isinstance(worlds, str) else list(worlds)
    unknown = [w for w in names if w not in WORLDS]
    if unknown or not names:
        raise SpecError(f"unknown world(s) {unknown or names}; choose from {list(WORLDS)} or pass "
                        "{name: object with sample(n, random_state=)}")
    if len(set(names)) != len(names):
        raise SpecError(f"worlds lists a name twice: {names}")
    ss = as_seed_sequence(random_state)
    if recipe.calibrate and real is None:
        from .difficulty import data_difficulty
        real = data_difficulty(data, random_state=child_seed(ss, 0x3021D, 99))
    out = {}
    for name in names:
        seed = child_seed(ss, 0x3021D, list(WORLDS).index(name))
        out[name] = _build_one(name, data, seed, recipe, real)
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


def as_worlds(source: Any, worlds: Any, *, generator: Any = "copula", random_state: RandomState = None,
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
                             generator=generator, random_state=random_state, n_reference=n_reference)
    out = {}
    for name, spec in items:
        if isinstance(spec, str):
            world = built[spec]
            out[str(name)] = World(str(name), world.dgp, world.description, world.classes, world.builder,
                                   world.seconds_to_fit, world.recipe, world.calibration)
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
