r"""The placebo world: real control units, a placebo treatment, a true effect of exactly zero.

The empirical Monte Carlo design of Huber, Lechner & Wunsch (2013), *Journal of
Econometrics* 175:1-21, studied by Advani, Kitagawa & Słoczyński (2019), *Journal of
Applied Econometrics* 34:893-910:

1. a propensity model :math:`\hat e(W)` is fitted on all real rows (treated and controls),
   out of fold (3 folds), so that each control's propensity comes from a model that did not
   see it;
2. the real treated rows are set aside; the controls, with their real covariates and real
   outcomes, are the population;
3. each replicate draws control rows and gives each a placebo treatment
   :math:`A^* \sim \text{Bernoulli}(e^*(W))` with
   :math:`\operatorname{logit} e^* = \operatorname{logit}\hat e + b`, the intercept :math:`b`
   solved so that the expected placebo share equals the real treated share;
4. as every outcome is a real untreated outcome, :math:`Y(1) = Y(0) = Y` and the effect is 0
   for every unit.

What it tests: how well each estimator removes the confounding that the propensity model
puts into the placebo assignment, with *real* outcomes (their real shape, noise and tails),
so an outcome model that is wrong about the real :math:`E[Y(0) \mid W]` shows its bias.
Its limits: it is blind to effect heterogeneity and to the treated arm's outcome model (only
:math:`Y(0)` enters); its confounding is only as realistic as the fitted propensity, and
its overlap can look better than the real one (placebo-treated units are controls, so there
are always comparable controls). Replicates draw without replacement (copies of a real unit
would leak into the training folds of its own cross-fitted prediction); a replicate has
``min(n, number of controls)`` rows, and when the controls are fewer than ``n`` every
replicate holds all of them and differs only in the placebo assignment.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.base import BaseEstimator

from .._random import RandomState, as_generator, as_seed_sequence
from .._resample import make_folds
from ..data import CausalData, check_data
from ..errors import DataError, NotFittedError
from ..learners import resolve_learner
from ..nuisance import cross_fit_propensity
from ..sample import SyntheticSample

__all__ = ["PlaceboSynthesizer"]

#: Folds of the out-of-fold propensity that assigns the placebo treatment.
N_FOLDS = 3


class PlaceboSynthesizer(BaseEstimator):
    """Real control rows with a placebo treatment drawn from the fitted propensity (effect 0).

    Parameters
    ----------
    propensity : learner specification of the placebo assignment (default ``"flexible"``:
        a stack that belongs to no candidate's class).
    propensity_bounds : the fitted propensity is kept inside these bounds.
    random_state : seeds the propensity fit.

    Attributes (after ``fit``)
    --------------------------
    n_controls_ : size of the control pool; replicates hold ``min(n, n_controls_)`` rows.
    treated_share_ : the real treated share, kept in expectation by every replicate.
    population_ate_ : 0.0 (exactly).
    """

    def __init__(self, *, propensity: Any = "flexible", propensity_bounds=(0.001, 0.999),
                 random_state: RandomState = None) -> None:
        self.propensity = propensity
        self.propensity_bounds = propensity_bounds
        self.random_state = random_state

    def fit(self, data: CausalData) -> PlaceboSynthesizer:
        check_data(data)
        learner = resolve_learner(self.propensity, role="propensity", data=data)
        controls = np.flatnonzero(data.a == 0)
        if len(controls) < 20:
            raise DataError(f"the placebo world needs at least 20 control rows; the data have {len(controls)}")
        # out-of-fold propensities: an in-sample flexible fit would push every control's
        # propensity towards its observed 0 and understate the confounding
        fold_seed, fit_seed = as_seed_sequence(self.random_state).spawn(2)
        folds = make_folds(data.a, N_FOLDS, fold_seed)
        e, _ = cross_fit_propensity(learner, data, folds, fit_seed.spawn(N_FOLDS))
        lo, hi = self.propensity_bounds
        score = logit(np.clip(e[controls], lo, hi))
        share = float(data.a.mean())
        shift = brentq(lambda b: float(np.mean(expit(score + b))) - share, -40, 40)
        self.propensity_ = np.clip(expit(score + shift), lo, hi)
        self.pool_ = data.frame.iloc[controls].reset_index(drop=True)  # real covariates and outcomes
        self.template_ = data
        self.n_controls_ = len(controls)
        self.treated_share_ = share
        self.propensity_learner_ = learner.description
        self.population_ate_ = 0.0
        self.population_att_ = self.population_atc_ = self.population_overlap_ = 0.0
        return self

    def with_overlap(self, overlap: float) -> PlaceboSynthesizer:
        """A copy whose placebo propensity's logit is stretched by ``overlap`` around its mean
        (above 1 worsens overlap, below 1 improves it), the intercept re-solved so the treated
        share is kept; used to match the real data's overlap (see
        :func:`causalsynth.simulate.worlds.calibrate_world`)."""
        import copy
        self._check_fitted()
        lo, hi = self.propensity_bounds
        score = logit(np.clip(self.propensity_, lo, hi))
        score = float(overlap) * (score - score.mean())
        shift = brentq(lambda b: float(np.mean(expit(score + b))) - self.treated_share_, -60, 60)
        new = copy.copy(self)
        new.propensity_ = np.clip(expit(score + shift), lo, hi)
        new.overlap_ = float(overlap) * getattr(self, "overlap_", 1.0)
        return new

    def _check_fitted(self) -> None:
        if not hasattr(self, "pool_"):
            raise NotFittedError("this PlaceboSynthesizer is not fitted yet: call fit(data) first")

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        """``min(n, n_controls_)`` control rows (without replacement) with a placebo treatment."""
        self._check_fitted()
        rng = as_generator(random_state)
        m = min(int(n), self.n_controls_)
        rows = np.sort(rng.choice(self.n_controls_, m, replace=False))
        e = self.propensity_[rows]
        a = (rng.random(m) < e).astype(np.int64)
        if a.sum() in (0, m):
            raise DataError(f"a placebo draw of {m} rows gave a single arm; the treated share "
                            f"{self.treated_share_:.3f} is too extreme for this pool")
        t = self.template_
        frame = self.pool_.iloc[rows].reset_index(drop=True)
        frame[t.treatment] = a
        data = CausalData(frame, treatment=t.treatment, outcome=t.outcome,
                          covariates=list(t.covariates), categorical=list(t.categorical),
                          constant="keep", _derived=True)
        y = data.y
        nan = np.full(m, np.nan)
        truth = pd.DataFrame({"y0": y, "y1": y, "mu0": nan, "mu1": nan, "propensity": e,
                              "cate": np.zeros(m)})
        return SyntheticSample(data, truth, 0.0)

    def summary(self) -> pd.DataFrame:
        """The fitted placebo world in one table (metric, value); :meth:`to_dict` as a dictionary."""
        return pd.DataFrame(list(self.to_dict().items()), columns=["metric", "value"], dtype=object)

    def to_dict(self) -> dict:
        """The fitted placebo world's settings and fitted values."""
        self._check_fitted()
        return {"world": "placebo", "n_controls": self.n_controls_, "treated_share": self.treated_share_,
                "propensity_learner": self.propensity_learner_, "population_ate": 0.0}
