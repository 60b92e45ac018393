r"""Simulation designs with deliberately poor overlap, for the positivity tools.

Same contract as :mod:`causalsynth.datasets.designs`: ``sample(n, *, random_state=None)``
returns a :class:`~causalsynth.sample.SyntheticSample` (data with its truth) and
``population_ate_`` is the population ATE. These designs also expose ``truth_at(frame)``,
the true nuisance functions at arbitrary covariate rows, so the truth of rows that
:func:`causalsynth.positivity.augment_positivity` adds can be scored.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from .._random import RandomState, as_generator
from ..data import CausalData
from ..errors import SpecError
from ..sample import SyntheticSample

__all__ = ["PoorOverlapDesign", "POSITIVITY_DESIGNS"]


@dataclass(frozen=True)
class PoorOverlapDesign:
    r"""A design where one covariate region is (almost) always treated.

    Constructed for this package (not taken from a paper); it follows the limited-overlap
    setting of Crump, Hotz, Imbens & Mitnik (2009), "Dealing with limited overlap in
    estimation of average treatment effects", *Biometrika* 96(1), and the practical
    positivity violations of Petersen, Porter, Gruber, Wang & van der Laan (2012),
    "Diagnosing and responding to violations in the positivity assumption", *Statistical
    Methods in Medical Research* 21(1).

    .. math::
        W_1 \sim \mathrm{Exp}(1),\quad W_2, \dots, W_p \sim N(0, 1)\ \text{(independent)};\\
        \operatorname{logit} e(W) = -1.5 + s\,W_1 + 0.4\,W_2 - 0.3\,W_3;\\
        \mu_0(W) = W_1 + 0.5\,W_2 - 0.5\,W_3 + 0.25\,W_4 + \nu\,(W_1^2 - 2);\\
        \tau(W) = \tau_0 + h\,(W_1 - 1);\quad
        Y(a) = \mu_0(W) + a\,\tau(W) + \sigma\varepsilon,\ \varepsilon \sim N(0, 1)

    (terms in :math:`W_3, W_4` are dropped when ``n_features`` is smaller), with slope
    :math:`s` = ``slope``, :math:`\nu` = ``nonlinearity``, :math:`\tau_0` = ``effect``,
    :math:`h` = ``heterogeneity`` and :math:`\sigma` = ``noise_sd``. Because
    :math:`E[W_1] = 1` and :math:`E[W_1^2] = 2`, the population ATE is exactly ``effect``
    and :math:`\nu` leaves the mean outcome unchanged.

    With the defaults (:math:`s = 2`), units with :math:`W_1` above about 2.2 (about 11% of
    the population) have :math:`e(W) > 0.95`: treated almost surely, with the control arm
    nearly empty there (see :meth:`threshold`). The effect grows with :math:`W_1`, so that
    region matters for the ATE. A main-terms logistic propensity model is correctly
    specified; a main-terms linear outcome model is correct when ``nonlinearity=0`` and
    extrapolates wrongly into the region otherwise.
    """

    n_features: int = 4
    slope: float = 2.0
    effect: float = 1.0
    heterogeneity: float = 0.5
    nonlinearity: float = 0.0
    noise_sd: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.n_features, (int, np.integer)) or self.n_features < 2:
            raise SpecError(f"n_features must be an integer >= 2; got {self.n_features!r}")
        for name in ("slope", "effect", "heterogeneity", "nonlinearity", "noise_sd"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.floating, np.integer)) or not np.isfinite(value):
                raise SpecError(f"{name} must be a finite number; got {value!r}")
        if self.slope <= 0 or self.noise_sd <= 0:
            raise SpecError(f"slope and noise_sd must be positive; got {self.slope!r}, {self.noise_sd!r}")

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    @property
    def covariates(self) -> list[str]:
        return [f"w{j + 1}" for j in range(int(self.n_features))]

    def threshold(self, delta: float = 0.05) -> float:
        """The :math:`W_1` above which :math:`e(W) > 1 - \\delta` when the other covariates are 0."""
        return float((logit(1.0 - delta) + 1.5) / self.slope)

    def truth_at(self, frame: pd.DataFrame) -> pd.DataFrame:
        """True ``mu0``, ``mu1``, ``propensity`` and ``cate`` at covariate rows ``w1..wp``."""
        W = frame[self.covariates].to_numpy(dtype=float)
        col = lambda j: W[:, j] if j < W.shape[1] else 0.0  # noqa: E731
        e = expit(-1.5 + self.slope * W[:, 0] + 0.4 * col(1) - 0.3 * col(2))
        mu0 = W[:, 0] + 0.5 * col(1) - 0.5 * col(2) + 0.25 * col(3) + self.nonlinearity * (W[:, 0] ** 2 - 2.0)
        mu0 = mu0 + np.zeros(len(W))
        cate = self.effect + self.heterogeneity * (W[:, 0] - 1.0)
        return pd.DataFrame({"mu0": mu0, "mu1": mu0 + cate, "propensity": e, "cate": cate})

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        if not isinstance(n, (int, np.integer)) or n < 20:
            raise SpecError(f"n must be an integer >= 20; got {n!r}")
        rng = as_generator(random_state)
        p = int(self.n_features)
        W = np.column_stack([rng.exponential(1.0, n), rng.standard_normal((n, p - 1))])
        frame = pd.DataFrame(W, columns=self.covariates)
        truth = self.truth_at(frame)
        a = (rng.random(n) < truth["propensity"].to_numpy()).astype(np.int64)
        noise = self.noise_sd * rng.standard_normal(n)
        y0 = truth["mu0"].to_numpy() + noise
        y1 = truth["mu1"].to_numpy() + noise
        frame.insert(0, "y", np.where(a == 1, y1, y0))
        frame.insert(0, "a", a)
        data = CausalData(frame, treatment="a", outcome="y", _derived=True)
        truth.insert(0, "y1", y1)
        truth.insert(0, "y0", y0)
        return SyntheticSample(data, truth[["y0", "y1", "mu0", "mu1", "propensity", "cate"]],
                               self.population_ate_)


#: Poor-overlap designs by name.
POSITIVITY_DESIGNS = {"poor_overlap": PoorOverlapDesign}
