r"""A design where a joint generator keeps predictive utility but misses the ATE.

:class:`LimitedOverlapDesign` has strong treatment imbalance, small overlap and a modest
constant effect:

.. math::
    W \sim N(0, I_4);\quad
    e(W) = \operatorname{expit}\{\gamma_0 + s\,(W_1 + 0.4\,W_2)\};\quad
    Y(a) = 3W_1 + 2W_2 + W_3 + \tau a + \varepsilon,\ \varepsilon \sim N(0, 1),

with :math:`\gamma_0 = -2`, selection strength :math:`s` (``imbalance``, default 2.5: about a
quarter treated, about half of the units with propensity below 0.1 or above 0.9) and effect
:math:`\tau` (``effect``, default 1, a quarter of the outcome's standard deviation of about 4). The
population ATE is :math:`\tau` exactly. Both nuisance models are correctly specified by the
``"logistic"`` and ``"linear"`` presets.

Why it separates the synthesizers: the covariates and the treatment explain about 94% of the
outcome's variance, so a generator of the joint (W, A, Y) predicts Y well; but the treatment contrast
is identified only where both arms occur. A least-squares fit of Y on (W, A) weighs unit
effects by :math:`e(W)\{1-e(W)\}` (Angrist 1998, Econometrica 66:249-288; Aronow & Samii 2016,
Am. J. Political Science 60:250-267), which here is small for most rows (limited overlap:
Crump, Hotz, Imbens & Mitnik 2009, Biometrika 96:187-199), so the contrast carries almost no
weight in a prediction loss and a joint generator is free to distort it. The structure (a
strongly prognostic linear outcome with logistic selection on the same covariates) follows
the simulation of Kang & Schafer (2007), Statistical Science 22:523-539, without its
misspecification twist.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from .._random import RandomState, as_generator
from ..data import CausalData
from ..errors import SpecError
from ..sample import SyntheticSample

__all__ = ["LimitedOverlapDesign"]


@dataclass(frozen=True)
class LimitedOverlapDesign:
    """Strong imbalance, small overlap, modest effect (see the module notes for the maths).

    ``sample(n, random_state=)`` returns a :class:`~causalsynth.sample.SyntheticSample` with
    columns ``w0..w3``, treatment ``a`` and outcome ``y``, and the truth per row.
    """

    effect: float = 1.0
    imbalance: float = 2.5
    intercept: float = -2.0
    noise_sd: float = 1.0

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 50:
            raise SpecError(f"n must be an integer >= 50; got {n!r}")
        rng = as_generator(random_state)
        W = rng.standard_normal((int(n), 4))
        e = expit(self.intercept + self.imbalance * (W[:, 0] + 0.4 * W[:, 1]))
        a = (rng.random(int(n)) < e).astype(np.int64)
        mu0 = 3.0 * W[:, 0] + 2.0 * W[:, 1] + W[:, 2]
        mu1 = mu0 + self.effect
        eps = self.noise_sd * rng.standard_normal(int(n))
        y0, y1 = mu0 + eps, mu1 + eps
        frame = pd.DataFrame(W, columns=[f"w{j}" for j in range(4)])
        frame["a"] = a
        frame["y"] = np.where(a == 1, y1, y0)
        truth = pd.DataFrame({"y0": y0, "y1": y1, "mu0": mu0, "mu1": mu1, "propensity": e,
                              "cate": mu1 - mu0})
        return SyntheticSample(CausalData(frame, treatment="a", outcome="y", _derived=True), truth, self.population_ate_)
