r"""The outcome model and the noise of the hybrid synthesizer, as strategy objects.

The synthesizer picks them once, at ``fit``, from the user's strings
(``outcome_model=``, ``noise=``) and then only calls their methods:

* an outcome model (:class:`MeanPlusNoise`, or :class:`~causalsynth.synth.outcomes.TwoPartOutcome`)
  has ``name``, ``fit``, ``raw(W, template)`` (the conditional means of both arms at covariate
  rows), ``draw``, ``to_state(template)`` and ``from_state``;
* a noise kind (:class:`BernoulliNoise`, :class:`GaussianNoise`, :class:`ResidualNoise`,
  :class:`HeteroscedasticNoise`) has ``name``, ``fit`` (on out-of-fold residuals),
  ``draw(W, mu0, mu1, factors, rng)``, ``quantiles(W, arm, factor)`` (for the truth of a
  rounded or clipped outcome), ``to_state`` and ``from_state``.

Adding a noise kind is one class here and one entry of :data:`NOISE_KINDS`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._glm import GLMFit, fit_glm
from .._resample import make_folds
from ..data import CausalData, main_terms
from ..learners import FittedModel, Learner
from ..nuisance import cross_fit_outcome
from .outcomes import noise_quantiles, resample_residuals

__all__ = ["BernoulliNoise", "GaussianNoise", "ResidualNoise", "HeteroscedasticNoise", "NOISE_KINDS",
           "noise_from_state", "MeanPlusNoise"]

_LOG_CHI2_MEAN = 1.2703628454614782  # -E[log chi^2_1]: bias of log squared residuals


class BernoulliNoise:
    """A binary outcome: Y(a) = 1{U < mu_a}, one uniform for both arms (coupled outcomes)."""

    name = "bernoulli"

    def fit(self, data: CausalData, learner: Learner, n_folds: int, seed) -> BernoulliNoise:
        return self

    def draw(self, W, mu0, mu1, factors, rng) -> tuple[np.ndarray, np.ndarray]:
        u = rng.random(len(W))
        return (u < mu0).astype(float), (u < mu1).astype(float)

    def quantiles(self, W, arm: int, factor: float) -> np.ndarray:
        raise TypeError("a Bernoulli outcome is not rounded or clipped")

    def to_state(self) -> dict:
        return {"model": self.name}

    @classmethod
    def from_state(cls, state: dict, template: CausalData) -> BernoulliNoise:
        return cls()


class GaussianNoise:
    """One SD per arm, from the centred out-of-fold residuals; one normal draw for both arms."""

    name = "gaussian"

    def fit(self, data: CausalData, learner: Learner, n_folds: int, seed) -> GaussianNoise:
        a, y = data.a, data.y
        folds = make_folds(a, int(n_folds), seed)
        fits = cross_fit_outcome(learner, data, folds, seed.spawn(int(n_folds)), arm_seed_order=(1, 0))
        resid = y - np.where(a == 1, fits.mu1, fits.mu0)
        # centred, so that the drawn noise has mean zero and mu stays the conditional mean
        self.residuals_ = {arm: resid[a == arm] - np.mean(resid[a == arm]) for arm in (0, 1)}
        self.sd_ = {arm: float(np.std(r, ddof=1)) for arm, r in self.residuals_.items()}
        self._fit_more(data, resid)
        return self

    def _fit_more(self, data: CausalData, resid: np.ndarray) -> None:
        """What a kind fits beyond the residuals and SDs (nothing here)."""

    def draw(self, W, mu0, mu1, factors, rng) -> tuple[np.ndarray, np.ndarray]:
        z = rng.standard_normal(len(W))
        sd0, sd1 = self._sd(W)
        return mu0 + factors[0] * sd0 * z, mu1 + factors[1] * sd1 * z

    def _sd(self, W) -> tuple:
        return self.sd_[0], self.sd_[1]

    def quantiles(self, W, arm: int, factor: float) -> np.ndarray:
        return noise_quantiles(sd=factor * self._sd(W)[arm])

    def to_state(self) -> dict:
        return {"model": self.name, "residuals": {str(k): v for k, v in self.residuals_.items()},
                "sd": {str(k): v for k, v in self.sd_.items()}}

    @classmethod
    def from_state(cls, state: dict, template: CausalData):
        noise = cls()
        noise.residuals_ = {arm: state["residuals"][str(arm)] for arm in (0, 1)}
        noise.sd_ = {arm: float(state["sd"][str(arm)]) for arm in (0, 1)}
        if not all(isinstance(r, np.ndarray) and r.ndim == 1 and r.dtype == np.float64
                   for r in noise.residuals_.values()):
            raise ValueError("residuals must be 1-D float arrays")
        return noise

    def replaced(self, *, residuals: dict | None = None, sd: dict | None = None):
        """A copy with other residuals or SDs (what-if worlds; the fitted object is not changed)."""
        import copy
        new = copy.copy(self)
        if residuals is not None:
            new.residuals_ = dict(residuals)
        if sd is not None:
            new.sd_ = dict(sd)
        return new


class ResidualNoise(GaussianNoise):
    """Resampled centred out-of-fold residuals of each arm, one uniform for both arms."""

    name = "residuals"

    def draw(self, W, mu0, mu1, factors, rng) -> tuple[np.ndarray, np.ndarray]:
        u = rng.random(len(W))
        eps = [resample_residuals(self.residuals_[arm], u) for arm in (0, 1)]
        return mu0 + factors[0] * eps[0], mu1 + factors[1] * eps[1]

    def quantiles(self, W, arm: int, factor: float) -> np.ndarray:
        return noise_quantiles(residuals=factor * self.residuals_[arm])


class HeteroscedasticNoise(GaussianNoise):
    """Per-row SDs: log squared residuals regressed on the main terms of W, per arm."""

    name = "heteroscedastic"

    def _fit_more(self, data: CausalData, resid: np.ndarray) -> None:
        a, y = data.a, data.y
        X, names = data.design_matrix()
        self.template_ = data
        self.variance_models_ = {}
        for arm in (0, 1):
            rows = a == arm
            target = np.log(resid[rows] ** 2 + 1e-12 * np.var(y)) + _LOG_CHI2_MEAN
            self.variance_models_[arm] = fit_glm(X[rows], target, "gaussian", ridge=1e-6, names=names)

    def _sd(self, W) -> tuple:
        t = self.template_
        X, _ = main_terms(W, t.covariates, t.covariate_kinds)
        Xd = np.hstack([np.ones((len(W), 1)), X])
        return tuple(np.sqrt(np.exp(np.clip(self.variance_models_[arm].predict(Xd), -50, 50))) for arm in (0, 1))

    def to_state(self) -> dict:
        return {**super().to_state(),
                "variance_models": {str(k): g.to_state() for k, g in self.variance_models_.items()}}

    @classmethod
    def from_state(cls, state: dict, template: CausalData):
        noise = super().from_state(state, template)
        noise.template_ = template
        noise.variance_models_ = {arm: GLMFit.from_state(state["variance_models"][str(arm)]) for arm in (0, 1)}
        return noise


#: The noise kinds by the name ``noise=`` takes ("auto" is "gaussian"; binary outcomes are Bernoulli).
NOISE_KINDS = {k.name: k for k in (BernoulliNoise, GaussianNoise, ResidualNoise, HeteroscedasticNoise)}


def noise_from_state(state: dict, template: CausalData):
    kind = NOISE_KINDS.get(state["model"])
    if kind is None:
        raise ValueError(f"unknown noise model {state['model']!r}")
    return kind.from_state(state, template)


def _model_rows(key, data: CausalData) -> np.ndarray:
    """The rows an outcome model was fitted on: all for a pooled one, else its arm's."""
    return np.arange(data.n_obs) if key == "pooled" else np.flatnonzero(data.a == int(key))


class MeanPlusNoise:
    """Y(a) = mu_a(W) + noise: outcome regressions (pooled, or one per arm) and a noise kind."""

    name = "mean"

    def __init__(self, noise) -> None:
        self.noise = noise

    def fit(self, data: CausalData, learner: Learner, n_folds: int, s_out, s_noise) -> MeanPlusNoise:
        a, y = data.a, data.y
        rows = np.arange(data.n_obs)
        s1, s0, sp = s_out.spawn(3)
        self.learner_ = learner
        if learner.pooled:
            self.models_ = {"pooled": learner.fit(data, rows, y, sp)}
        else:
            r1, r0 = rows[a == 1], rows[a == 0]
            self.models_ = {1: learner.fit(data, r1, y[r1], s1), 0: learner.fit(data, r0, y[r0], s0)}
        self.noise.fit(data, learner, n_folds, s_noise)
        return self

    def raw(self, W: pd.DataFrame, template: CausalData) -> dict[str, np.ndarray]:
        if "pooled" in self.models_:
            m = self.models_["pooled"]
            mu1, mu0 = m.predict_frame(W, template, 1), m.predict_frame(W, template, 0)
        else:
            mu1 = self.models_[1].predict_frame(W, template)
            mu0 = self.models_[0].predict_frame(W, template)
        if template.outcome_type == "binary":
            mu0, mu1 = np.clip(mu0, 1e-6, 1 - 1e-6), np.clip(mu1, 1e-6, 1 - 1e-6)
        return {"mu0": mu0, "mu1": mu1}

    def to_state(self, template: CausalData) -> dict:
        models = {}
        for k, m in self.models_.items():
            try:
                models[str(k)] = m.to_state(template, _model_rows(k, template))
            except TypeError as exc:
                from ..errors import PickleRequiredError
                raise PickleRequiredError(f"the outcome model ({exc})") from exc
        return {"outcome_models": models, "outcome_order": [str(k) for k in self.models_],
                "noise": self.noise.to_state()}

    @classmethod
    def from_state(cls, state: dict, template: CausalData) -> MeanPlusNoise:
        order = state["outcome_order"]
        if order not in (["pooled"], ["1", "0"]):
            raise ValueError(f"outcome models must be pooled or per arm; got {order}")
        keys = ["pooled"] if order == ["pooled"] else [1, 0]
        model = cls(noise_from_state(state["noise"], template))
        model.models_ = {k: FittedModel.from_state(state["outcome_models"][str(k)], template, _model_rows(k, template))
                         for k in keys}
        model.learner_ = model.models_[keys[0]].learner
        for m in model.models_.values():  # one learner object, as after fit
            m.learner = model.learner_
        return model

