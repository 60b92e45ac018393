r"""Cited simulation designs with known truth.

Each design is an object with ``sample(n, *, random_state=None) -> SyntheticSample`` and a
``population_ate_`` attribute, the same contract as a fitted
:class:`~causalsynth.HybridSynthesizer`, so :func:`causalsynth.simulate` accepts either.
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

__all__ = ["DESIGNS", "LinearLogisticDesign", "KangSchafer2007"]


def _check_n(n) -> int:
    if not isinstance(n, (int, np.integer)) or n < 20:
        raise SpecError(f"n must be an integer >= 20; got {n!r}")
    return int(n)


@dataclass(frozen=True)
class LinearLogisticDesign:
    r"""A well-specified design: main-terms logistic propensity and linear outcomes.

    .. math::
        W_j \sim N(0, 1),\ j=1..p;\quad
        e(W) = \operatorname{expit}(\gamma_0 + \gamma^\top W);\quad
        Y(a) = \beta_0 + \beta^\top W + a\,(\tau + \delta^\top W) + \varepsilon,\
        \varepsilon \sim N(0, \sigma^2)

    with :math:`\gamma_j = \text{confounding}\cdot(0.5, -0.4, 0.3, \dots)`,
    :math:`\beta_j = (1, 0.8, -0.6, \dots)` and heterogeneity :math:`\delta_1 = \text{heterogeneity}`.
    The population ATE is exactly ``effect`` (the W are centred). Both nuisance models are
    correctly specified by the ``"logistic"`` and ``"linear"`` presets.
    """

    n_features: int = 5
    effect: float = 1.0
    heterogeneity: float = 0.5
    confounding: float = 1.0
    noise_sd: float = 1.0

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        n = _check_n(n)
        rng = as_generator(random_state)
        p = self.n_features
        W = rng.standard_normal((n, p))
        signs = np.where(np.arange(p) % 2 == 0, 1.0, -1.0)
        gamma = self.confounding * signs * np.linspace(0.5, 0.2, p)
        beta = signs * np.linspace(1.0, 0.4, p)
        e = expit(W @ gamma)
        a = (rng.random(n) < e).astype(int)
        mu0 = W @ beta
        cate = self.effect + self.heterogeneity * W[:, 0]
        mu1 = mu0 + cate
        noise = self.noise_sd * rng.standard_normal(n)
        y0, y1 = mu0 + noise, mu1 + noise
        y = np.where(a == 1, y1, y0)
        frame = pd.DataFrame(W, columns=[f"w{j + 1}" for j in range(p)])
        frame.insert(0, "y", y)
        frame.insert(0, "a", a)
        data = CausalData(frame, treatment="a", outcome="y", _derived=True)
        truth = pd.DataFrame({"y0": y0, "y1": y1, "mu0": mu0, "mu1": mu1, "propensity": e, "cate": cate})
        return SyntheticSample(data, truth, self.population_ate_)


@dataclass(frozen=True)
class KangSchafer2007:
    r"""Kang and Schafer (2007), "Demystifying double robustness", Statistical Science 22(4).

    .. math::
        Z_1..Z_4 \sim N(0,1);\quad
        Y = 210 + 27.4 Z_1 + 13.7 (Z_2 + Z_3 + Z_4) + \varepsilon,\ \varepsilon \sim N(0,1);\\
        P(A = 1 \mid Z) = \operatorname{expit}(-Z_1 + 0.5 Z_2 - 0.25 Z_3 - 0.1 Z_4);\\
        X_1 = \exp(Z_1/2),\ X_2 = Z_2/(1 + \exp(Z_1)) + 10,\
        X_3 = (Z_1 Z_3/25 + 0.6)^3,\ X_4 = (Z_2 + Z_4 + 20)^2.

    In the original, ``A`` is the indicator that ``Y`` is observed and the target is
    :math:`E[Y] = 210`. Here ``Y(1) = Y`` and ``Y(0) = Y - effect`` (default ``effect=0``), so
    the mean of the treated arm's potential outcome, ``mu1``, is the original target (210)
    and the ATE is ``effect``. The data carry both Z1..Z4 (correct) and X1..X4 (the observed,
    misspecified covariates); choose per nuisance model with formulas such as
    ``"a ~ X1 + X2 + X3 + X4"`` (see :data:`KANG_SCHAFER_FORMULAS`).
    """

    effect: float = 0.0

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    @property
    def population_mu1_(self) -> float:
        return 210.0

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        n = _check_n(n)
        rng = as_generator(random_state)
        Z = rng.standard_normal((n, 4))
        e = expit(-Z[:, 0] + 0.5 * Z[:, 1] - 0.25 * Z[:, 2] - 0.1 * Z[:, 3])
        a = (rng.random(n) < e).astype(int)
        mu1 = 210 + 27.4 * Z[:, 0] + 13.7 * (Z[:, 1] + Z[:, 2] + Z[:, 3])
        y1 = mu1 + rng.standard_normal(n)
        mu0 = mu1 - self.effect
        y0 = y1 - self.effect
        X = np.column_stack([np.exp(Z[:, 0] / 2), Z[:, 1] / (1 + np.exp(Z[:, 0])) + 10,
                             (Z[:, 0] * Z[:, 2] / 25 + 0.6) ** 3, (Z[:, 1] + Z[:, 3] + 20) ** 2])
        frame = pd.DataFrame(np.hstack([Z, X]), columns=["Z1", "Z2", "Z3", "Z4", "X1", "X2", "X3", "X4"])
        frame.insert(0, "y", np.where(a == 1, y1, y0))
        frame.insert(0, "a", a)
        data = CausalData(frame, treatment="a", outcome="y", _derived=True)
        truth = pd.DataFrame({"y0": y0, "y1": y1, "mu0": mu0, "mu1": mu1, "propensity": e,
                              "cate": mu1 - mu0})
        return SyntheticSample(data, truth, self.population_ate_)


#: Formulas selecting the correct (Z) or misspecified (X) covariates in Kang-Schafer.
KANG_SCHAFER_FORMULAS = {
    ("propensity", "Z"): "a ~ Z1 + Z2 + Z3 + Z4",
    ("propensity", "X"): "a ~ X1 + X2 + X3 + X4",
    ("outcome", "Z"): "y ~ Z1 + Z2 + Z3 + Z4",
    ("outcome", "X"): "y ~ X1 + X2 + X3 + X4",
}

#: Designs by name.
DESIGNS = {"linear_logistic": LinearLogisticDesign, "kang_schafer_2007": KangSchafer2007}
