r"""Outcome models of the hybrid synthesizer beyond "mean plus noise": semicontinuous outcomes
(a point mass at zero, like earnings), and outcomes kept integer and inside their bounds.

Two-part model (for a nonnegative outcome with a share of exact zeros). Per arm :math:`a`,

.. math::
    P(Y > 0 \mid A=a, W) = p_a(W), \qquad \log Y \mid Y > 0, A=a, W = \ell_a(W) + \varepsilon_a,

with :math:`p_a` a classifier of :math:`1\{Y > 0\}`, :math:`\ell_a` a regression of
:math:`\log Y` on the positive rows, and :math:`\varepsilon_a` resampled from its out-of-fold
residuals. The conditional mean, the truth a synthetic row carries, is exact:
:math:`\mu_a(W) = p_a(W)\, e^{\ell_a(W)}\, S_a` with the smearing factor
:math:`S_a = \overline{e^{\varepsilon_a}}` over the residuals (Duan 1983, JASA 78:605).
Draws are zero with probability :math:`1 - p_a`, positive otherwise: never negative, with the
real share of zeros in expectation.

Rounding and bounds (for the mean-plus-noise model): an integer outcome is drawn as
:math:`g(\mu + \varepsilon)` with :math:`g` = round (then clipped to the bounds), a bounded one
clipped; the truth is then :math:`E[g(\mu_a + \varepsilon_a)]`, computed by averaging
:math:`g` over ``K`` quantiles of the noise (midpoint rule), not :math:`\mu_a` itself.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._resample import make_folds
from ..data import CausalData
from ..learners import resolve_learner
from ..nuisance import cross_fit_predictions

__all__ = ["TwoPartOutcome", "wants_two_part", "ObservationTransform", "resample_residuals", "noise_quantiles"]

#: Share of exact zeros (and of positive values) from which "auto" picks the two-part model.
MIN_ZERO_SHARE = 0.05
#: Noise quantiles averaged to compute the truth of a rounded or clipped outcome.
N_QUANTILES = 64


def wants_two_part(y: np.ndarray) -> bool:
    """A nonnegative outcome with at least 5% exact zeros and 5% positive values."""
    zero = float(np.mean(y == 0))
    return bool(np.all(y >= 0) and MIN_ZERO_SHARE <= zero <= 1 - MIN_ZERO_SHARE)


def _with_outcome(data: CausalData, values: np.ndarray, rows: np.ndarray | None = None) -> CausalData:
    """``data`` (or its ``rows``) with the outcome column replaced by ``values``."""
    frame = data.frame if rows is None else data.frame.iloc[rows].reset_index(drop=True)
    frame[data.outcome] = values
    return CausalData(frame, treatment=data.treatment, outcome=data.outcome, covariates=list(data.covariates),
                      categorical=list(data.categorical), constant="keep", _derived=True)


def _part_rows(t: CausalData, arm: int, part: str) -> np.ndarray:
    """The rows a part's model of ``arm`` was fitted on (the positive rows for the level)."""
    rows = np.flatnonzero(t.a == arm)
    return rows if part == "zero" else rows[t.y[rows] > 0]


class TwoPartOutcome:
    """Per-arm models of P(Y > 0) and of log Y on the positive rows, with log-scale residuals.

    ``learner`` is the outcome learner specification of the synthesizer: its classifier form
    (the same preset, or a logistic GLM for GLM/formula learners) models the zero part.
    """

    name = "two-part"

    def __init__(self, learner, *, n_folds: int = 5) -> None:
        self.learner = learner
        self.n_folds = n_folds

    def fit(self, data: CausalData, seed: np.random.SeedSequence) -> TwoPartOutcome:
        a, y = data.a, data.y
        positive = y > 0
        s_zero, s_level, s_noise = seed.spawn(3)
        # the same rows and covariates throughout; only the outcome column changes (the level
        # model is fitted on the positive rows of each arm, its target the log outcome)
        zero_data, level_data = self.part_data(data)
        log_y = level_data.y
        spec = getattr(self.learner, "learner", self.learner)  # a pooled spec: per arm here
        if isinstance(spec, str) and spec.startswith("pooled:"):
            spec = spec.split(":", 1)[1]
        zero_learner = resolve_learner(spec, role="outcome", data=zero_data)
        level_learner = resolve_learner(spec, role="outcome", data=level_data)
        self.zero_, self.level_, self.residuals_ = {}, {}, {}
        folds = make_folds(a, self.n_folds, s_noise)
        for arm, sz, sl, sn in zip((0, 1), s_zero.spawn(2), s_level.spawn(2), s_noise.spawn(2)):
            rows = np.flatnonzero(a == arm)
            self.zero_[arm] = zero_learner.fit(zero_data, rows, positive[rows].astype(float), sz)
            pos = rows[positive[rows]]
            self.level_[arm] = level_learner.fit(level_data, pos, log_y[pos], sl)
            pred, _ = cross_fit_predictions(level_learner, level_data, folds, sn.spawn(self.n_folds), log_y, rows=pos)
            self.residuals_[arm] = log_y[pos] - pred[pos]
        self.smearing_ = {arm: float(np.mean(np.exp(r))) for arm, r in self.residuals_.items()}
        self.template_ = data
        self.zero_share_ = float(np.mean(~positive))
        return self

    @staticmethod
    def part_data(data: CausalData) -> tuple[CausalData, CausalData]:
        """The data of the two parts: the outcome replaced by 1{Y > 0}, and by log Y (0 where Y = 0;
        the level models only ever see the positive rows)."""
        y = data.y
        positive = y > 0
        return _with_outcome(data, positive.astype(float)), _with_outcome(data, np.log(np.where(positive, y, 1.0)))

    def components(self, W: pd.DataFrame) -> dict[str, np.ndarray]:
        """p0, p1 (probability of a positive outcome), l0, l1 (mean log outcome when positive)
        and mu0, mu1 (the conditional means) at covariate rows ``W``."""
        t = self.template_
        out = {}
        for arm in (0, 1):
            p = np.clip(self.zero_[arm].predict_frame(W, t), 0.0, 1.0)
            level = self.level_[arm].predict_frame(W, t)
            out[f"p{arm}"], out[f"l{arm}"] = p, level
            out[f"mu{arm}"] = p * np.exp(level) * self.smearing_[arm]
        return out

    def raw(self, W: pd.DataFrame, template: CausalData) -> dict[str, np.ndarray]:
        """The conditional means (and the components behind them) at covariate rows ``W``."""
        return self.components(W)

    def to_state(self, template: CausalData, scale: float) -> dict:
        """The fitted parts as JSON values and arrays; ``scale`` is the synthesizer's ``ate`` scale
        of the treated arm, stored beside them."""
        from ..errors import PickleRequiredError
        zero_data, level_data = self.part_data(template)
        out = {"zero": {}, "level": {}, "residuals": {}, "smearing": {}, "zero_share": self.zero_share_,
               "scale": float(scale), "n_folds": int(self.n_folds)}
        for arm in (0, 1):
            for part, models, data in (("zero", self.zero_, zero_data), ("level", self.level_, level_data)):
                try:
                    out[part][str(arm)] = models[arm].to_state(data, _part_rows(template, arm, part))
                except TypeError as exc:
                    raise PickleRequiredError(f"the two-part outcome model ({exc})") from exc
            out["residuals"][str(arm)] = self.residuals_[arm]
            out["smearing"][str(arm)] = float(self.smearing_[arm])
        return {"two_part": out, "outcome_models": {}, "outcome_order": [], "noise": {"model": self.name}}

    @classmethod
    def from_state(cls, state: dict, template: CausalData, learner) -> TwoPartOutcome:
        """Inverse of :meth:`to_state` (``learner``: the synthesizer's outcome specification)."""
        from ..learners import FittedModel
        st = state["two_part"]
        tp = cls(learner, n_folds=int(st["n_folds"]))
        zero_data, level_data = tp.part_data(template)
        tp.zero_ = {arm: FittedModel.from_state(st["zero"][str(arm)], zero_data, _part_rows(template, arm, "zero"))
                    for arm in (0, 1)}
        tp.level_ = {arm: FittedModel.from_state(st["level"][str(arm)], level_data,
                                                 _part_rows(template, arm, "level")) for arm in (0, 1)}
        tp.residuals_ = {arm: st["residuals"][str(arm)] for arm in (0, 1)}
        if not all(isinstance(r, np.ndarray) and r.ndim == 1 and r.dtype == np.float64 for r in tp.residuals_.values()):
            raise ValueError("two-part residuals must be 1-D float arrays")
        tp.smearing_ = {arm: float(st["smearing"][str(arm)]) for arm in (0, 1)}
        tp.template_, tp.zero_share_ = template, float(st["zero_share"])
        return tp

    def draw(self, comps: dict, scale1: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Coupled draws of Y(0), Y(1) (one uniform for the zero part, one for the residual);
        the treated arm's positive part is multiplied by ``scale1`` (the ``ate`` knob)."""
        n = len(comps["p0"])
        u, v = rng.random(n), rng.random(n)
        y = []
        for arm, scale in ((0, 1.0), (1, scale1)):
            eps = resample_residuals(self.residuals_[arm], v)
            y.append(np.where(u < comps[f"p{arm}"], scale * np.exp(comps[f"l{arm}"] + eps), 0.0))
        return y[0], y[1]


class ObservationTransform:
    """Rounding of an integer outcome and clipping to bounds, and the truth they imply."""

    def __init__(self, integer: bool, low: float | None, high: float | None) -> None:
        self.integer, self.low, self.high = integer, low, high

    @property
    def active(self) -> bool:
        return self.integer or self.low is not None or self.high is not None

    def __call__(self, y: np.ndarray) -> np.ndarray:
        out = np.rint(y) if self.integer else np.asarray(y, dtype=float)
        if self.low is not None or self.high is not None:
            out = np.clip(out, -np.inf if self.low is None else self.low, np.inf if self.high is None else self.high)
        return out

    def expected(self, mu: np.ndarray, noise_quantiles: np.ndarray) -> np.ndarray:
        """:math:`E[g(\\mu + \\varepsilon)]` by the midpoint rule over noise quantiles: a vector
        (the same noise law for every row) or a matrix (rows x quantiles, e.g. per-row SDs)."""
        q = np.asarray(noise_quantiles, dtype=float)
        grid = mu[:, None] + (q[None, :] if q.ndim == 1 else q)
        return self(grid).mean(axis=1)


def resample_residuals(residuals: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Residuals drawn with equal probability by inverting their empirical distribution at the
    uniforms ``u`` (monotone in ``u``, so one uniform couples the two arms). Unlike interpolated
    quantiles, the draw has exactly the residuals' law: :math:`E[f(\varepsilon)]` is the mean of
    ``f`` over the residuals, which the smearing factor and the noise mean rely on."""
    r = np.sort(np.asarray(residuals, dtype=float))
    return r[np.minimum((np.asarray(u) * len(r)).astype(np.int64), len(r) - 1)]


def noise_quantiles(residuals: np.ndarray | None = None, sd: float | np.ndarray | None = None,
                    k: int = N_QUANTILES) -> np.ndarray:
    """Midpoint quantiles of the noise: of resampled residuals, or of N(0, sd^2) (per row if sd
    is an array)."""
    probs = (np.arange(k) + 0.5) / k
    if residuals is not None:
        return np.quantile(residuals, probs)
    z = ndtri(probs)
    return np.outer(sd, z) if np.ndim(sd) else float(sd) * z
