r"""Simulation designs with known truth (cited, or constructed here and documented as such).

Each design is an object with ``sample(n, *, random_state=None) -> SyntheticSample`` and a
``population_ate_`` attribute, the same contract as a fitted
:class:`~causalsynth.HybridSynthesizer`, so :func:`causalsynth.simulate` accepts either.
Designs that can also evaluate their truth at covariate rows of yours expose
``truth_at(frame)``.

* :class:`LinearLogisticDesign`: well specified for main-terms GLMs;
* :class:`KangSchafer2007`: the double-robustness stress test of Kang & Schafer (2007);
* :class:`LimitedOverlapDesign`: strong imbalance, where joint generators miss the ATE (audit);
* :class:`PoorOverlapDesign`: a covariate region almost always treated (positivity);
* :class:`ACIC2016`: real covariates (Collaborative Perinatal Project) with the simulated
  treatment and potential-outcome means of the 2016 ACIC data challenge (causallib's copy).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from .._checks import check_int
from .._random import RandomState, as_generator
from ..data import CausalData
from ..errors import SpecError
from ..sample import SyntheticSample

__all__ = ["DESIGNS", "LinearLogisticDesign", "KangSchafer2007", "KANG_SCHAFER_FORMULAS",
           "LimitedOverlapDesign", "PoorOverlapDesign", "POSITIVITY_DESIGNS", "NonlinearHeterogeneousDesign",
           "IHDPSurfaceB", "Xu2026Positivity", "ACIC2016", "ACIC_DEVELOPMENT"]


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
    The population ATE is exactly ``effect`` (the W are centred); the ATT, ATC and
    overlap-weighted effects (``population_att_`` etc.) are computed by Gauss-Hermite
    quadrature to about 1e-12. Both nuisance models are correctly specified by the
    ``"logistic"`` and ``"linear"`` presets.
    """

    n_features: int = 5
    effect: float = 1.0
    heterogeneity: float = 0.5
    confounding: float = 1.0
    noise_sd: float = 1.0

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    def _coefficients(self):
        p = self.n_features
        signs = np.where(np.arange(p) % 2 == 0, 1.0, -1.0)
        return self.confounding * signs * np.linspace(0.5, 0.2, p), signs * np.linspace(1.0, 0.4, p)

    def _tilted(self, h) -> float:
        r""":math:`E[h(e)\tau]/E[h(e)]` exactly (to ~1e-12) by Gauss-Hermite quadrature over
        :math:`W_1` and :math:`V = \sum_{j \ge 2} \gamma_j W_j \sim N(0, \sum_{j\ge2}\gamma_j^2)`."""
        gamma, _ = self._coefficients()
        s = float(np.sqrt(np.sum(gamma[1:] ** 2)))
        x, w = np.polynomial.hermite_e.hermegauss(80)
        w = w / w.sum()
        w1, v = np.meshgrid(x, s * x, indexing="ij")
        weight = np.outer(w, w)
        e = expit(gamma[0] * w1 + v)
        tau = self.effect + self.heterogeneity * w1
        hv = h(e)
        return float(np.sum(weight * hv * tau) / np.sum(weight * hv))

    @property
    def population_att_(self) -> float:
        return self._tilted(lambda e: e)

    @property
    def population_atc_(self) -> float:
        return self._tilted(lambda e: 1 - e)

    @property
    def population_overlap_(self) -> float:
        return self._tilted(lambda e: e * (1 - e))

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        n = check_int("n", n, 20)
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
    ``"a ~ X1 + X2 + X3 + X4"`` (see :data:`KANG_SCHAFER_FORMULAS`), or keep only one set
    with ``observed="X"`` (what an analyst who observes only X1..X4 holds) or ``"Z"``.
    """

    effect: float = 0.0
    observed: str = "both"  # which covariates an analyst sees: "both" (Z and X), "X" (the misspecified ones) or "Z"

    def __post_init__(self) -> None:
        if self.observed not in ("both", "X", "Z"):
            raise SpecError(f"observed must be 'both', 'X' or 'Z'; got {self.observed!r}")

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    @property
    def population_mu1_(self) -> float:
        return 210.0

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        n = check_int("n", n, 20)
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
        if self.observed != "both":
            frame = frame[[f"{self.observed}{j}" for j in range(1, 5)]]
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

@dataclass(frozen=True)
class LimitedOverlapDesign:
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
        n = check_int("n", n, 50)
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
        n = check_int("n", n, 20)
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


@dataclass(frozen=True)
class NonlinearHeterogeneousDesign:
    r"""A nonlinear design with heterogeneous effects (constructed for causalsynth's selection study).

    .. math::
        W_1, \dots, W_4 \sim N(0, 1),\ W_5 \sim \mathrm{Bernoulli}(0.5),\ W_6 \sim U(-1, 1);\\
        \operatorname{logit} e(W) = -0.3 + 0.8\,W_1 - 0.5\,(W_2^2 - 1) + 0.6\,\sin(\pi W_3 / 2) + 0.5\,W_5
            + 0.4\,W_1 W_6;\\
        \mu_0(W) = \sin(\pi W_1 W_2) + 2\,(W_3 - 0.5)^2 + 0.5\,W_4 + W_5 + 1.5\,|W_6|;\\
        \tau(W) = \tau_0 + 0.8\,W_1 + 0.5\,(W_5 - 0.5) + 0.5\,\tanh(W_2) + 0.6\,(W_3^2 - 1);\quad
        Y(a) = \mu_0(W) + a\,\tau(W) + \sigma\varepsilon.

    Every term of :math:`\tau` except :math:`\tau_0` has mean zero, so the population ATE is
    exactly ``effect`` (default 1). Both nuisance functions are nonlinear with interactions:
    no main-terms GLM is correctly specified, confounding runs through :math:`W_1` (also an
    effect modifier), :math:`W_2^2` and :math:`W_3`, and overlap is moderate.
    """

    effect: float = 1.0
    noise_sd: float = 1.0

    @property
    def population_ate_(self) -> float:
        return float(self.effect)

    def truth_at(self, frame: pd.DataFrame) -> pd.DataFrame:
        W = frame[[f"w{j}" for j in range(1, 7)]].to_numpy(dtype=float)
        w1, w2, w3, w4, w5, w6 = W.T
        e = expit(-0.3 + 0.8 * w1 - 0.5 * (w2 ** 2 - 1) + 0.6 * np.sin(np.pi * w3 / 2) + 0.5 * w5 + 0.4 * w1 * w6)
        mu0 = np.sin(np.pi * w1 * w2) + 2 * (w3 - 0.5) ** 2 + 0.5 * w4 + w5 + 1.5 * np.abs(w6)
        cate = self.effect + 0.8 * w1 + 0.5 * (w5 - 0.5) + 0.5 * np.tanh(w2) + 0.6 * (w3 ** 2 - 1)
        return pd.DataFrame({"mu0": mu0, "mu1": mu0 + cate, "propensity": e, "cate": cate})

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        n = check_int("n", n, 20)
        rng = as_generator(random_state)
        W = np.column_stack([rng.standard_normal((n, 4)), rng.integers(0, 2, n), rng.uniform(-1, 1, n)])
        frame = pd.DataFrame(W, columns=[f"w{j}" for j in range(1, 7)])
        frame["w5"] = frame["w5"].astype(np.int64)
        truth = self.truth_at(frame)
        a = (rng.random(n) < truth["propensity"].to_numpy()).astype(np.int64)
        noise = self.noise_sd * rng.standard_normal(n)
        y0, y1 = truth["mu0"].to_numpy() + noise, truth["mu1"].to_numpy() + noise
        frame.insert(0, "y", np.where(a == 1, y1, y0))
        frame.insert(0, "a", a)
        truth.insert(0, "y1", y1)
        truth.insert(0, "y0", y0)
        data = CausalData(frame, treatment="a", outcome="y", _derived=True)
        return SyntheticSample(data, truth[["y0", "y1", "mu0", "mu1", "propensity", "cate"]], self.population_ate_)


@dataclass(frozen=True)
class IHDPSurfaceB:
    r"""Response surface B of Hill (2011), *Journal of Computational and Graphical Statistics*
    20(1):217-240, on the IHDP covariates that econml ships (``pip install econml``).

    The covariates and the treatment are those of the Infant Health and Development Program
    data as Hill used them (747 children: the treated with non-white mothers removed; 6
    continuous covariates standardized, 19 binary ones). With :math:`\beta` drawn once, by
    ``surface_seed``, from {0, 0.1, 0.2, 0.3, 0.4} with probabilities (0.6, 0.1, 0.1, 0.1, 0.1)
    for the intercept and every covariate,

    .. math::
        Y(0) = \exp\{(X + 0.5)\,\beta\} + \varepsilon_0,\quad Y(1) = X\beta - \omega + \varepsilon_1,
        \quad \varepsilon_a \sim N(0, 1),

    (the offset 0.5 on every covariate but the intercept) with :math:`\omega` set so that the
    effect on the treated is 4. The truth reported is the ATE over the 747 children (mean of
    :math:`\tau(X) = X\beta - \omega - \exp\{(X + 0.5)\beta\}`); a draw redraws the noise
    only, so ``sample(n)`` returns the 747 children whatever ``n`` is.
    """

    surface_seed: int = 0

    def _covariates(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        try:
            from importlib import resources
            path = resources.files("econml.data").joinpath("ihdp", "sim.csv")
            raw = pd.read_csv(path)
        except (ImportError, FileNotFoundError, ModuleNotFoundError) as exc:
            raise SpecError("IHDPSurfaceB reads the IHDP covariates shipped with econml: "
                            "pip install 'causalsynth[dml]'") from exc
        raw = raw[~((raw["treat"] == 1) & (raw["momwhite"] == 0))].reset_index(drop=True)
        names = ["bw", "b.head", "preterm", "birth.o", "nnhealth", "momage", "sex", "twin", "b.marr",
                 "mom.lths", "mom.hs", "mom.scoll", "cig", "first", "booze", "drugs", "work.dur",
                 "prenatal", "site1", "site2", "site3", "site4", "site5", "site6", "site7"]
        X = raw[names].to_numpy(dtype=float)
        X[:, :6] = (X[:, :6] - X[:, :6].mean(0)) / X[:, :6].std(0)
        X[:, 13] = X[:, 13] + 1  # 'first' coded 1/2, as in Hill's data
        return raw["treat"].to_numpy(dtype=np.int64), X, [c.replace(".", "_") for c in names]

    @property
    def population_ate_(self) -> float:
        return float(np.mean(self._surface()[2]))

    def _surface(self):
        a, X, names = self._covariates()
        rng = np.random.default_rng(self.surface_seed)
        Xi = np.column_stack([np.ones(len(X)), X])
        beta = rng.choice([0, 0.1, 0.2, 0.3, 0.4], size=Xi.shape[1], replace=True, p=[0.6, 0.1, 0.1, 0.1, 0.1])
        offset = np.column_stack([np.zeros(len(X)), np.full((len(X), X.shape[1]), 0.5)])
        mu0 = np.exp((Xi + offset) @ beta)
        lin = Xi @ beta
        omega = float(np.mean((lin - mu0)[a == 1]) - 4.0)
        mu1 = lin - omega
        return a, X, mu1 - mu0, mu0, mu1, names

    def sample(self, n: int | None = None, *, random_state: RandomState = None) -> SyntheticSample:
        a, X, cate, mu0, mu1, names = self._surface()
        rng = as_generator(random_state)
        y0 = mu0 + rng.standard_normal(len(a))
        y1 = mu1 + rng.standard_normal(len(a))
        frame = pd.DataFrame(X, columns=names)
        for c in names[6:]:
            frame[c] = frame[c].astype(np.int64)
        frame.insert(0, "y", np.where(a == 1, y1, y0))
        frame.insert(0, "a", a)
        data = CausalData(frame, treatment="a", outcome="y", _derived=True)
        truth = pd.DataFrame({"y0": y0, "y1": y1, "mu0": mu0, "mu1": mu1, "propensity": np.full(len(a), np.nan),
                              "cate": cate})
        return SyntheticSample(data, truth, float(np.mean(cate)))


@dataclass(frozen=True)
class Xu2026Positivity:
    r"""The near-deterministic positivity design of Xu (2026), "Generative synthetic data for
    causal inference: pitfalls, remedies, and opportunities" (arXiv:2604.23904), section on
    targeted augmentation (as in the author's code).

    .. math::
        W_1, W_2 \sim \mathrm{Bern}(0.5),\ W_3 \sim \mathrm{Bern}(0.3 + 0.175(W_1 + W_2)),\
        W_4, W_5 \sim N(0,1),\ W_6 = 0.5 W_4 + 0.5 W_5 + N(0,1);\\
        \operatorname{logit} e(W) = -30 + 16W_1 - 24W_2 + 12W_3 + 6W_4 - 10W_5 + 16W_6;\\
        \operatorname{logit} P(Y = 1 \mid A, W) = -0.5 + \tau(W) A + 0.5W_1 + W_2 - W_3 + 0.2W_4 - 0.3W_5 + 0.1W_6,\\
        \tau(W) = 2 + 0.5\sin W_1 + 0.3\log(|W_2| + 1) - 0.2 W_3^2 + 0.1 e^{W_4} - 0.3\tanh W_5 + 0.2\cos W_6.

    A binary outcome; the effect is the risk difference, about 0.418 over the population
    (``population_ate_``, by a seeded Monte Carlo of 2 million rows, standard error about
    2e-4). About 80% of units have :math:`e < 0.001` and 5-18% have :math:`e > 0.999`:
    overlap fails almost everywhere. :meth:`randomized` draws the external randomized study
    (:math:`A \sim \mathrm{Bern}(0.5)`, same covariates and outcome law) that the paper uses for
    the outcomes of augmented records.
    """

    def _covariates(self, n: int, rng) -> pd.DataFrame:
        w1, w2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
        w3 = (rng.random(n) < 0.3 + 0.35 * (w1 + w2) / 2).astype(np.int64)
        w4, w5 = rng.standard_normal(n), rng.standard_normal(n)
        w6 = 0.5 * w4 + 0.5 * w5 + rng.standard_normal(n)
        return pd.DataFrame({"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5": w5, "w6": w6})

    def truth_at(self, frame: pd.DataFrame) -> pd.DataFrame:
        w = {c: frame[c].to_numpy(dtype=float) for c in ("w1", "w2", "w3", "w4", "w5", "w6")}
        e = expit(-30 + 16 * w["w1"] - 24 * w["w2"] + 12 * w["w3"] + 6 * w["w4"] - 10 * w["w5"] + 16 * w["w6"])
        tau = (2 + 0.5 * np.sin(w["w1"]) + 0.3 * np.log(np.abs(w["w2"]) + 1) - 0.2 * w["w3"] ** 2
               + 0.1 * np.exp(w["w4"]) - 0.3 * np.tanh(w["w5"]) + 0.2 * np.cos(w["w6"]))
        base = -0.5 + 0.5 * w["w1"] + w["w2"] - w["w3"] + 0.2 * w["w4"] - 0.3 * w["w5"] + 0.1 * w["w6"]
        mu0, mu1 = expit(base), expit(base + tau)
        return pd.DataFrame({"mu0": mu0, "mu1": mu1, "propensity": e, "cate": mu1 - mu0})

    @property
    def population_ate_(self) -> float:
        return _xu2026_ate()

    def _draw(self, n: int, random_state, randomized: bool) -> SyntheticSample:
        n = check_int("n", n, 20)
        rng = as_generator(random_state)
        frame = self._covariates(n, rng)
        truth = self.truth_at(frame)
        e = np.full(n, 0.5) if randomized else truth["propensity"].to_numpy()
        a = (rng.random(n) < e).astype(np.int64)
        u = rng.random(n)  # coupled potential outcomes
        y0 = (u < truth["mu0"].to_numpy()).astype(float)
        y1 = (u < truth["mu1"].to_numpy()).astype(float)
        frame.insert(0, "y", np.where(a == 1, y1, y0))
        frame.insert(0, "a", a)
        truth["propensity"] = e
        truth.insert(0, "y1", y1)
        truth.insert(0, "y0", y0)
        data = CausalData(frame, treatment="a", outcome="y", _derived=True)
        return SyntheticSample(data, truth[["y0", "y1", "mu0", "mu1", "propensity", "cate"]], self.population_ate_)

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        return self._draw(n, random_state, randomized=False)

    def randomized(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        """An external randomized study of ``n`` units from the same population and outcome law."""
        return self._draw(n, random_state, randomized=True)


def _xu2026_ate(_cache: dict = {}) -> float:  # noqa: B006 - a deliberate one-entry memo
    if "ate" not in _cache:
        design = Xu2026Positivity()
        rng = np.random.default_rng(2604_23904)
        values = [float(design.truth_at(design._covariates(500_000, rng))["cate"].mean()) for _ in range(4)]
        _cache["ate"] = float(np.mean(values))
    return _cache["ate"]


#: Designs by name.
DESIGNS = {"linear_logistic": LinearLogisticDesign, "kang_schafer_2007": KangSchafer2007,
           "limited_overlap": LimitedOverlapDesign, "poor_overlap": PoorOverlapDesign,
           "nonlinear_heterogeneous": NonlinearHeterogeneousDesign, "ihdp_surface_b": IHDPSurfaceB,
           "xu_2026_positivity": Xu2026Positivity}

#: Poor-overlap designs by name (the positivity tools evaluate on these).
POSITIVITY_DESIGNS = {"poor_overlap": PoorOverlapDesign, "xu_2026_positivity": Xu2026Positivity}


#: ACIC 2016 instances used to develop the selection engine; the others are the unseen test.
ACIC_DEVELOPMENT = (2, 4, 5, 7)


@dataclass(frozen=True)
class ACIC2016:
    r"""An instance of the 2016 Atlantic Causal Inference Conference data challenge (Dorie,
    Hill, Shalit, Scott & Cervone 2019, *Statistical Science* 34(1):43-68), from the offline
    copy that causallib ships (``pip install causallib``; 4,802 rows, 58 covariates, 3 of
    them categorical; instances 1-10).

    A draw is ``n`` rows (default 1,000) sampled without replacement from the 4,802, keeping
    their covariates and treatment ``z``, with outcomes :math:`Y(a) = \mu_a + \varepsilon_a`,
    :math:`\varepsilon_a \sim N(0, 1)` drawn afresh around the file's ``mu0``/``mu1``. The truth
    is the ATE over the 4,802 rows (mean of ``mu1 - mu0``). Instances
    :data:`ACIC_DEVELOPMENT` (2, 4, 5, 7) are the development set of the selection engine;
    the others are kept as its unseen test.
    """

    instance: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.instance, (int, np.integer)) or not 1 <= int(self.instance) <= 10:
            raise SpecError(f"ACIC2016 instance must be an integer from 1 to 10; got {self.instance!r}")

    def _frames(self, _cache: dict = {}) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: B006 - a memo
        key = int(self.instance)
        if key not in _cache:
            try:
                from importlib import resources
                folder = resources.files("causallib.datasets").joinpath("data", "acic_challenge_2016")
                x = pd.read_csv(folder.joinpath("x.csv"))
                zymu = pd.read_csv(folder.joinpath(f"zymu_{key}.csv"))
            except (ImportError, FileNotFoundError, ModuleNotFoundError) as exc:
                raise SpecError("ACIC2016 reads the ACIC 2016 files shipped with causallib: pip install causallib") \
                    from exc
            _cache[key] = (x, zymu)
        return _cache[key]

    @property
    def population_ate_(self) -> float:
        zymu = self._frames()[1]
        return float(np.mean(zymu["mu1"] - zymu["mu0"]))

    def sample(self, n: int = 1000, *, random_state: RandomState = None) -> SyntheticSample:
        x, zymu = self._frames()
        n = min(check_int("n", n, 20), len(x))
        rng = as_generator(random_state)
        rows = np.sort(rng.choice(len(x), n, replace=False))
        mu0, mu1 = (zymu[c].to_numpy(dtype=float)[rows] for c in ("mu0", "mu1"))
        a = zymu["z"].to_numpy(dtype=np.int64)[rows]
        y0, y1 = mu0 + rng.standard_normal(n), mu1 + rng.standard_normal(n)
        frame = x.iloc[rows].reset_index(drop=True)
        categorical = [c for c in frame.columns if frame[c].dtype == object]
        frame.insert(0, "y", np.where(a == 1, y1, y0))
        frame.insert(0, "a", a)
        data = CausalData(frame, treatment="a", outcome="y", categorical=categorical, constant="keep", _derived=True)
        truth = pd.DataFrame({"y0": y0, "y1": y1, "mu0": mu0, "mu1": mu1, "propensity": np.full(n, np.nan),
                              "cate": mu1 - mu0})
        return SyntheticSample(data, truth, self.population_ate_)
