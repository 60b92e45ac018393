r"""The hybrid synthesizer: covariates from a generator, treatment and outcome from nuisance models.

Fitting on real data :math:`(W, A, Y)`:

1. a covariate generator (bootstrap, Gaussian copula, CTGAN, TVAE, or yours) learns the law
   of :math:`W` on a training part of the rows; the other rows (``holdout``) are kept apart
   as the baseline of the distance-to-closest-record (DCR) checks;
2. a propensity model :math:`\hat e(W)` and outcome models :math:`\hat\mu_0(W), \hat\mu_1(W)`
   are fitted on all rows;
3. a noise model is fitted to out-of-fold residuals (cross-fitting, so the noise is not
   underestimated by in-sample residuals): ``"gaussian"`` (one SD per arm),
   ``"heteroscedastic"`` (log squared residuals regressed on W per arm) or ``"residuals"``
   (resampled out-of-fold residuals of the arm). Binary outcomes are Bernoulli.

Sampling draws :math:`W^*` from the generator, then :math:`A^* \sim \text{Bernoulli}(e^*(W^*))`
and :math:`Y^*(a) = \mu^*_a(W^*) + \varepsilon_a`, so every row carries its truth.

Knobs (each changes one thing):

* ``overlap`` :math:`s`: :math:`\operatorname{logit} e^* = b + s\,(\operatorname{logit}\hat e - m)`
  (below 1 improves overlap, above 1 worsens it), with the intercept :math:`b` solved so the
  treated share stays fixed;
* ``confounding`` :math:`c`: :math:`e^{**} = c\,e^* + (1-c)\,\pi` with :math:`\pi` the treated
  share (0 = randomized assignment, 1 = the fitted propensity);
* ``treated_share`` :math:`\pi`: default the real share;
* ``effect_scale`` :math:`k`: :math:`\tau^* = \bar\tau + k(\tau - \bar\tau)` (heterogeneity
  around the mean effect; continuous outcomes);
* ``noise_scale``: multiplies the drawn noise of a continuous mean-plus-noise outcome, one
  factor or a pair (control, treated); the worlds of :mod:`causalsynth.simulate` set it
  below 1 to remove the out-of-fold fitting error that the resampled residuals carry;
* ``ate``: shifts :math:`\mu_1` so the population ATE equals the target (continuous: an
  additive shift; binary: a shift of the treated arm's log-odds solved numerically).

Truth accounting: the population ATE is the mean of :math:`\tau^*` over a large Monte Carlo
reference sample of the covariate generator (``n_reference`` rows drawn at fit), reported
with its Monte Carlo standard error; each sample's SATE is the mean of :math:`\tau^*` over its
own rows. With ``ate=`` the reference-sample mean equals the target exactly.
"""
from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.base import BaseEstimator

from .._checks import check_bounds, check_choice, check_int, check_range, evaluate_expression
from .._random import RandomState, as_seed_sequence
from .._resample import make_folds
from ..data import CausalData, main_terms
from ..errors import DataError, Fix, NotFittedError, PrivacyWarning, SpecError
from ..learners import resolve_learner
from ..nuisance import cross_fit_outcome
from ..sample import SyntheticSample
from .covariates import make_covariate_generator
from .outcomes import (MIN_ZERO_SHARE, ObservationTransform, TwoPartOutcome, noise_quantiles, resample_residuals,
                       wants_two_part)

__all__ = ["HybridSynthesizer", "NOISE_MODELS"]

NOISE_MODELS = ("auto", "gaussian", "heteroscedastic", "residuals")
_LOG_CHI2_MEAN = 1.2703628454614782  # -E[log chi^2_1]: bias of log squared residuals


def _integer_valued(y: np.ndarray) -> bool:
    """An outcome with integer values only (and more than two of them: not a binary outcome)."""
    return bool(np.all(y == np.rint(y)) and len(np.unique(y)) > 2)


def _short_number(x: float) -> float | int:
    """``x`` to 3 significant digits, an integer when whole (``min_dcr=100``, not ``100.0``)."""
    v = float(f"{x:.3g}")
    return int(v) if v.is_integer() else v


class HybridSynthesizer(BaseEstimator):
    """Synthesize (W, A, Y) with a covariate generator and fitted nuisance models.

    Parameters
    ----------
    covariates : str or object, default "copula"
        ``"bootstrap"``, ``"copula"``, ``"ctgan"``, ``"tvae"``, or an object with
        ``fit(frame, random_state=)`` and ``sample(n, random_state=)``.
    covariate_options : dict, optional
        Keyword arguments for the named generator (e.g. ``{"epochs": 300}`` for CTGAN).
    propensity, outcome : learner specifications (presets, scikit-learn estimators,
        formulas) as in :func:`causalsynth.estimate`.
    noise : {"auto", "gaussian", "heteroscedastic", "residuals"}
        Noise model of a continuous outcome ("auto" = "gaussian"); binary outcomes are Bernoulli.
    n_folds : folds for the out-of-fold residuals of the noise model (default 5).
    holdout : float in [0, 0.5), default 0.2
        Share of real rows kept out of the covariate generator, as the DCR baseline.
    min_dcr : None, "auto" or float
        Privacy filter: synthetic covariate rows closer than this (in the DCR metric of
        :mod:`causalsynth.privacy`) to a real training row are rejected and redrawn.
        ``"auto"`` uses the 5% quantile of holdout-to-train distances. Default None (off).
    ate, effect_scale, overlap, confounding, treated_share : the knobs described above.
    outcome_model : ``"auto"`` (default: the two-part model for a nonnegative, non-integer
        outcome with at least 5% exact zeros, such as earnings; the mean-plus-noise model
        otherwise, rounded for integer outcomes such as counts),
        ``"mean"`` or ``"two-part"`` (see :mod:`causalsynth.synth.outcomes`).
    outcome_bounds : bounds the drawn outcomes respect (clipped; the truth accounts for it):
        ``"auto"`` (default: 0 below for a nonnegative outcome, none above), None, or a pair
        (None for an open end). An integer-valued outcome is drawn as integers.
    derived : covariates that are functions of others, ``{"u74": "re74 == 0"}`` (expressions
        over the covariates in the closed vocabulary of :class:`~causalsynth.data.CausalData`,
        never evaluated as Python), recomputed on every synthetic row so that
        they stay consistent; checked against the real data at ``fit``. Default: those the
        data declare (``CausalData(..., derived=...)``).
    n_reference : size of the Monte Carlo reference sample for the population truth.
    random_state : seeds the split, the generator, the learners and the reference sample.
    """

    def __init__(self, *, covariates: Any = "copula", covariate_options: dict | None = None,
                 propensity: Any = None, outcome: Any = None,
                 noise: Literal["auto", "gaussian", "heteroscedastic", "residuals"] = "auto",
                 n_folds: int = 5, holdout: float = 0.2, min_dcr: float | str | None = None,
                 ate: float | None = None, effect_scale: float = 1.0, overlap: float = 1.0,
                 confounding: float = 1.0, treated_share: float | None = None, noise_scale: Any = 1.0,
                 propensity_bounds: tuple[float, float] = (0.001, 0.999),
                 outcome_model: Literal["auto", "mean", "two-part"] = "auto",
                 outcome_bounds: Any = "auto", derived: dict | None = None,
                 n_reference: int = 200_000, random_state: RandomState = None) -> None:
        self.covariates = covariates
        self.covariate_options = covariate_options
        self.propensity = propensity
        self.outcome = outcome
        self.noise = noise
        self.n_folds = n_folds
        self.holdout = holdout
        self.min_dcr = min_dcr
        self.ate = ate
        self.effect_scale = effect_scale
        self.overlap = overlap
        self.confounding = confounding
        self.treated_share = treated_share
        self.noise_scale = noise_scale
        self.propensity_bounds = propensity_bounds
        self.outcome_model = outcome_model
        self.outcome_bounds = outcome_bounds
        self.derived = derived
        self.n_reference = n_reference
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _validate(self) -> None:
        check_choice("noise", self.noise, NOISE_MODELS)
        check_range("holdout", self.holdout, 0.0, 0.5)
        check_range("effect_scale", self.effect_scale, 0.0, 100.0)
        check_range("overlap", self.overlap, 0.0, 20.0)
        check_range("confounding", self.confounding, 0.0, 1.0)
        check_range("treated_share", self.treated_share, 0.0, 1.0, low_open=True, high_open=True,
                    allow_none=True)
        check_range("ate", self.ate, -np.inf, np.inf, allow_none=True)
        check_bounds(self.propensity_bounds)
        for k in self._noise_factors():
            check_range("noise_scale", k, 0.0, 100.0)
        check_int("n_folds", self.n_folds, 2)
        check_int("n_reference", self.n_reference, 1000)
        if self.min_dcr is not None and self.min_dcr != "auto":
            check_range("min_dcr", self.min_dcr, 0.0, np.inf)
        check_choice("outcome_model", self.outcome_model, ("auto", "mean", "two-part"))
        if self.derived is not None and not isinstance(self.derived, dict):
            raise SpecError(f"derived must be a dict column -> expression (e.g. {{'u74': 're74 == 0'}}); "
                            f"got {type(self.derived).__name__}")

    def fit(self, data: CausalData) -> HybridSynthesizer:
        """Fit the covariate generator, the nuisance models and the noise model on ``data``."""
        if not isinstance(data, CausalData):
            raise SpecError(f"fit needs a CausalData; got {type(data).__name__}")
        self._validate()
        if self.min_dcr == "auto" and self.holdout == 0:
            raise SpecError("{} derives the threshold from a real holdout", argument="min_dcr", value="auto",
                            fix=Fix("set {} > 0", "holdout"))
        ss = as_seed_sequence(self.random_state)
        s_split, s_gen, s_prop, s_out, s_noise, s_ref, s_sample = ss.spawn(7)
        self.template_ = data
        self._sample_seed = s_sample
        self._check_derived(data)
        n = data.n_obs
        # 1. train / holdout split for the covariate generator and the DCR baseline
        rng = np.random.default_rng(s_split)
        perm = rng.permutation(n)
        n_hold = int(round(self.holdout * n))
        self.holdout_rows_ = np.sort(perm[:n_hold])
        self.train_rows_ = np.sort(perm[n_hold:])
        W = data.covariate_frame
        self._w_dtypes = W.dtypes
        self.real_train_ = W.iloc[self.train_rows_].reset_index(drop=True)
        self.real_holdout_ = W.iloc[self.holdout_rows_].reset_index(drop=True) if n_hold else None
        gen = make_covariate_generator(self.covariates, **(self.covariate_options or {}))
        with warnings.catch_warnings():
            warnings.simplefilter("always", PrivacyWarning)
            gen.fit(self.real_train_, random_state=s_gen)
        self.generator_ = gen

        # 2. nuisance models on all rows
        p_learner = resolve_learner(self.propensity, role="propensity", data=data)
        o_learner = resolve_learner(self.outcome, role="outcome", data=data)
        a, y = data.a, data.y
        rows = np.arange(n)
        self.propensity_model_ = p_learner.fit(data, rows, a, s_prop)
        s1, s0, sp = s_out.spawn(3)
        self.outcome_learner_ = o_learner
        self.outcome_type_ = data.outcome_type
        self.outcome_model_ = self._choose_outcome_model(data)
        self.transform_ = self._observation_transform(data)
        if self.outcome_model_ == "two-part":
            # 2b-3. the zero part and the log level, with log-scale out-of-fold residuals
            self.outcome_models_ = {}
            self.two_part_ = TwoPartOutcome(self.outcome, n_folds=int(self.n_folds)).fit(data, s_out.spawn(1)[0])
            self.noise_ = "two-part"
        else:
            if o_learner.pooled:
                self.outcome_models_ = {"pooled": o_learner.fit(data, rows, y, sp)}
            else:
                r1, r0 = rows[a == 1], rows[a == 0]
                self.outcome_models_ = {1: o_learner.fit(data, r1, y[r1], s1), 0: o_learner.fit(data, r0, y[r0], s0)}
            # 3. noise model from out-of-fold residuals
            self._fit_noise(data, o_learner, s_noise)

        # 4. knobs that need the covariate law: propensity intercept, effect centring, truth
        self._reference_seed = s_ref
        self._fit_privacy()  # before the truth: the reference sample goes through the same filter
        self._fit_truth(s_ref)
        return self

    def _fit_noise(self, data: CausalData, learner, seed) -> None:
        self.noise_ = "bernoulli" if data.outcome_type == "binary" else (
            "gaussian" if self.noise == "auto" else self.noise)
        if data.outcome_type == "binary" and self.noise not in ("auto", "bernoulli"):
            warnings.warn(f"noise={self.noise!r} applies to continuous outcomes; the binary outcome "
                          f"{data.outcome!r} is drawn as Bernoulli(mu) instead", UserWarning, stacklevel=3)
        if self.noise_ == "bernoulli":
            return
        a, y = data.a, data.y
        folds = make_folds(a, int(self.n_folds), seed)
        fits = cross_fit_outcome(learner, data, folds, seed.spawn(int(self.n_folds)), arm_seed_order=(1, 0))
        oof = np.where(a == 1, fits.mu1, fits.mu0)
        resid = y - oof
        # centred, so that the drawn noise has mean zero and mu stays the conditional mean
        self.residuals_ = {arm: resid[a == arm] - np.mean(resid[a == arm]) for arm in (0, 1)}
        self.noise_sd_ = {arm: float(np.std(r, ddof=1)) for arm, r in self.residuals_.items()}
        if self.noise_ == "heteroscedastic":
            from .._glm import fit_glm
            X, names = data.design_matrix()
            self._var_models = {}
            for arm in (0, 1):
                rows = a == arm
                target = np.log(resid[rows] ** 2 + 1e-12 * np.var(y)) + _LOG_CHI2_MEAN
                self._var_models[arm] = fit_glm(X[rows], target, "gaussian", ridge=1e-6, names=names)

    def _choose_outcome_model(self, data: CausalData) -> str:
        if data.outcome_type == "binary":
            return "mean"
        if self.outcome_model == "two-part":
            if not wants_two_part(data.y):
                raise SpecError(f"outcome_model='two-part' needs a nonnegative outcome with both exact zeros and "
                                f"positive values (at least {MIN_ZERO_SHARE:.0%} each); {data.outcome!r} has "
                                f"{np.mean(data.y == 0):.1%} zeros and minimum {data.y.min():.4g}")
            if _integer_valued(data.y):
                warnings.warn(f"outcome_model='two-part' draws continuous positive values; the integer outcome "
                              f"{data.outcome!r} will not stay integer (the default 'auto' keeps counts integer "
                              "with the rounded mean-plus-noise model)", UserWarning, stacklevel=3)
            return "two-part"
        # a count with zeros is not semicontinuous: the rounded mean-plus-noise model keeps it integer
        auto = self.outcome_model == "auto" and wants_two_part(data.y) and not _integer_valued(data.y)
        return "two-part" if auto else "mean"

    def _observation_transform(self, data: CausalData) -> ObservationTransform:
        """Rounding (integer outcomes) and the bounds draws respect."""
        y = data.y
        if data.outcome_type == "binary":
            return ObservationTransform(False, None, None)
        integer = _integer_valued(y)
        bounds = self.outcome_bounds
        if bounds == "auto":
            low, high = (0.0 if y.min() >= 0 else None), None
        elif bounds is None:
            low, high = None, None
        else:
            try:
                low, high = bounds
            except (TypeError, ValueError) as exc:
                raise SpecError(f"outcome_bounds must be 'auto', None or a pair (low, high); got {bounds!r}") from exc
            if low is not None and high is not None and not low < high:
                raise SpecError(f"outcome_bounds must have low < high; got {bounds!r}")
        return ObservationTransform(integer, low, high)

    def _check_derived(self, data: CausalData) -> None:
        """The derived covariates: this synthesizer's own, else the data's (checked on the data)."""
        if self.derived is not None:
            data.with_frame(data.frame)  # the roles still hold
            CausalData(data.frame, treatment=data.treatment, outcome=data.outcome, covariates=list(data.covariates),
                       categorical=list(data.categorical), constant="keep", derived=self.derived)
        self.derived_ = dict(self.derived if self.derived is not None else data.derived)

    def _raw_nuisance(self, W: pd.DataFrame) -> dict[str, np.ndarray]:
        t = self.template_
        e = self.propensity_model_.predict_frame(W, t)
        lo, hi = self.propensity_bounds
        if self.outcome_model_ == "two-part":
            comps = self.two_part_.components(W)
            return {"e": np.clip(e, lo, hi), **comps}
        if "pooled" in self.outcome_models_:
            m = self.outcome_models_["pooled"]
            mu1, mu0 = m.predict_frame(W, t, 1), m.predict_frame(W, t, 0)
        else:
            mu1 = self.outcome_models_[1].predict_frame(W, t)
            mu0 = self.outcome_models_[0].predict_frame(W, t)
        if self.outcome_type_ == "binary":
            mu0, mu1 = np.clip(mu0, 1e-6, 1 - 1e-6), np.clip(mu1, 1e-6, 1 - 1e-6)
        return {"e": np.clip(e, lo, hi), "mu0": mu0, "mu1": mu1}

    def _fit_truth(self, seed) -> None:
        g_seed, _ = seed.spawn(2)
        ref = self._draw_covariates(int(self.n_reference), g_seed)
        raw = self._raw_nuisance(ref)
        share = float(np.mean(self.template_.a)) if self.treated_share is None else float(self.treated_share)
        self.treated_share_ = share
        le = logit(raw["e"])
        self._logit_center = float(np.mean(le))
        s = float(self.overlap)
        dev = s * (le - self._logit_center)
        self._prop_intercept = brentq(lambda b: float(np.mean(expit(b + dev))) - share, -40, 40)
        tau = raw["mu1"] - raw["mu0"]
        self._tau_bar_raw = float(np.mean(tau))
        self._ate_shift = 0.0
        if self.outcome_type_ == "binary":
            self._logodds_shift = 0.0
            if self.ate is not None:
                mu0_mean = float(np.mean(raw["mu0"]))
                lmu1 = self._binary_mu1_logit(raw)
                f = lambda d: float(np.mean(expit(lmu1 + d))) - mu0_mean - float(self.ate)  # noqa: E731
                if f(-40) > 0 or f(40) < 0:
                    raise SpecError(f"ate={self.ate} is not reachable for a binary outcome with "
                                    f"control risk {mu0_mean:.3f}")
                self._logodds_shift = brentq(f, -40, 40)
        elif self.outcome_model_ == "two-part":
            self._fit_two_part_knobs(raw)
        elif self.ate is not None:
            self._ate_shift = float(self.ate) - self._tau_bar_raw
        truth = self._truth(ref, raw)
        cate = truth["cate"]
        e = truth["propensity"]
        for name, h in (("att", e), ("atc", 1 - e), ("overlap", e * (1 - e))):
            setattr(self, f"population_{name}_", float(np.sum(h * cate) / np.sum(h)))
        self.population_ate_ = float(np.mean(cate))
        self.population_ate_se_ = float(np.std(cate, ddof=1) / np.sqrt(len(cate)))
        self.reference_propensity_ = truth["propensity"]
        if self.ate is not None and self.outcome_type_ != "binary" and not self.transform_.active:
            self.population_ate_ = float(self.ate)  # exact on the reference sample (up to float rounding)

    def _fit_two_part_knobs(self, raw) -> None:
        """The two-part model's knobs: ``ate`` scales the treated arm's positive part (solved in
        closed form on the reference sample); effect_scale has no meaning here."""
        self._tp_scale = 1.0
        if float(self.effect_scale) != 1.0:
            raise SpecError("effect_scale applies to the mean-plus-noise outcome model; the two-part model "
                            f"of {self.template_.outcome!r} supports ate= only (or pass outcome_model='mean')")
        if self.ate is not None:
            scale = (float(self.ate) + float(np.mean(raw["mu0"]))) / float(np.mean(raw["mu1"]))
            if scale <= 0:
                raise SpecError(f"ate={self.ate} is not reachable by scaling the treated arm's positive outcomes "
                                f"(control mean {float(np.mean(raw['mu0'])):.4g})")
            self._tp_scale = scale

    def _binary_mu1_logit(self, raw) -> np.ndarray:
        l0, l1 = logit(raw["mu0"]), logit(raw["mu1"])
        return l0 + float(self.effect_scale) * (l1 - l0)

    def _truth(self, W: pd.DataFrame, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        le = logit(raw["e"])
        e = expit(self._prop_intercept + float(self.overlap) * (le - self._logit_center))
        c = float(self.confounding)
        e = c * e + (1 - c) * self.treated_share_
        mu0 = raw["mu0"]
        if self.outcome_type_ == "binary":
            mu1 = expit(self._binary_mu1_logit(raw) + self._logodds_shift)
        elif self.outcome_model_ == "two-part":
            mu1 = raw["mu1"] * self._tp_scale
            return {"propensity": e, "mu0": mu0, "mu1": mu1, "cate": mu1 - mu0, "_raw": raw}
        else:
            tau = raw["mu1"] - mu0
            tau = self._tau_bar_raw + float(self.effect_scale) * (tau - self._tau_bar_raw) + self._ate_shift
            mu1 = mu0 + tau
            if self.transform_.active:  # the truth of a rounded or clipped outcome: E[g(mu + noise)]
                m0, m1 = (self.transform_.expected(m, self._noise_quantiles(W, arm)) for arm, m in ((0, mu0), (1, mu1)))
                return {"propensity": e, "mu0": m0, "mu1": m1, "cate": m1 - m0, "_loc": (mu0, mu1)}
        return {"propensity": e, "mu0": mu0, "mu1": mu1, "cate": mu1 - mu0}

    def _noise_factors(self) -> tuple[float, float]:
        """``noise_scale`` as (control, treated) factors."""
        k = self.noise_scale
        if np.ndim(k) == 0:
            return float(k), float(k)
        if len(k) != 2:
            raise SpecError(f"noise_scale must be a number or a pair (control, treated); got {k!r}")
        return float(k[0]), float(k[1])

    def _noise_quantiles(self, W: pd.DataFrame, arm: int) -> np.ndarray:
        k = self._noise_factors()[arm]
        if self.noise_ == "residuals":
            return noise_quantiles(residuals=k * self.residuals_[arm])
        if self.noise_ == "gaussian":
            return noise_quantiles(sd=k * self.noise_sd_[arm])
        return noise_quantiles(sd=k * self._row_sd(W)[arm])

    def _fit_privacy(self) -> None:
        from ..privacy import MixedEncoder, default_min_dcr
        self.min_dcr_ = None
        self._encoder = None
        if self.min_dcr is None:
            return
        self._encoder = MixedEncoder().fit(self.real_train_)
        self._train_encoded = self._encoder.transform(self.real_train_)
        self.min_dcr_ = (default_min_dcr(self.real_train_, self.real_holdout_) if self.min_dcr == "auto"
                         else float(self.min_dcr))
        # a pilot draw: refuse an unreachable threshold now, not after minutes of redraws
        from ..privacy import nearest_distances
        ref = self._reference_seed  # a child key of its own: spawning would shift the reference draws
        pilot_seed = np.random.SeedSequence(ref.entropy, spawn_key=(*ref.spawn_key, 2**31))
        pilot = self._coerce(self.generator_.sample(500, random_state=pilot_seed))
        d = nearest_distances(self._encoder.transform(pilot), self._train_encoded)
        share = float(np.mean(d >= self.min_dcr_))
        self._pilot_share_ = max(share, 0.05)
        if self.min_dcr == "auto" and self.min_dcr_ <= 0.0:
            self._warn_zero_threshold(d)
        if share < 0.05:
            fixes = ([Fix("lower {}", "min_dcr"), Fix("use {} (set from the real holdout)", "min_dcr", "auto")]
                     if self.min_dcr != "auto" else [Fix("pass a lower {} yourself", "min_dcr")])
            if self.covariates == "bootstrap":
                fixes.append(Fix("use another generator (the 'bootstrap' generator copies real rows)"))
            raise DataError(
                f"{{}} is out of reach: {share:.1%} of 500 pilot draws of the "
                f"{self.covariates!r} generator lie that far from every real training row (their "
                f"nearest distances: median {np.median(d):.3g}, 99th percentile {np.quantile(d, 0.99):.3g}).",
                argument="min_dcr", value=_short_number(self.min_dcr_), fix=fixes)

    def _warn_zero_threshold(self, pilot_distances: np.ndarray) -> None:
        """min_dcr='auto' came out 0 (at least 5% of the real holdout rows are exact copies of
        training rows: tied or duplicate rows): the filter would redraw nothing, so say so."""
        copies = float(np.mean(pilot_distances == 0.0))
        positive = pilot_distances[pilot_distances > 0]
        suggestion = f" (e.g. {float(np.quantile(positive, 0.05)):.3g}, the 5% quantile of the positive pilot distances)" \
            if len(positive) else ""
        warnings.warn(PrivacyWarning(
            f"{{}} is 0 here: at least 5% of the real holdout rows are exact copies of real "
            f"training rows (tied or duplicate rows), so the privacy filter removes nothing and "
            f"{copies:.1%} of 500 pilot draws of the {self.covariates!r} generator are exact copies of real "
            "training rows.", argument="min_dcr", value="auto",
            fix=[Fix(f"pass a positive {{}}{suggestion} to redraw exact copies", "min_dcr"),
                 Fix("accept them if these covariates are coarse enough that copies disclose nothing")]),
            stacklevel=4)

    def _coerce(self, W: pd.DataFrame) -> pd.DataFrame:
        """Give generated covariates the real data's dtypes (and categories)."""
        W = W[list(self.template_.covariates)].copy()
        for col, dtype in self._w_dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                W[col] = pd.Categorical(W[col].astype(object), categories=dtype.categories)
                if W[col].isna().any():
                    raise DataError(f"the covariate generator produced unseen categories in {col!r}")
            elif W[col].dtype != dtype:
                W[col] = W[col].astype(dtype)
        for col, expr in getattr(self, "derived_", {}).items():  # functions of other covariates stay consistent
            values = evaluate_expression(expr, W, what=f"derived column {col!r}: the expression",
                                         columns=self.template_.covariates)
            W[col] = values.astype(self._w_dtypes[col])
        return W.reset_index(drop=True)

    # ------------------------------------------------------------------ sampling
    def _check_fitted(self) -> None:
        if not hasattr(self, "population_ate_"):
            raise NotFittedError("this HybridSynthesizer is not fitted yet: call fit(data) first")

    def truth_at(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The true ``propensity``, ``mu0``, ``mu1`` and ``cate`` at covariate rows of your own
        (for example records added by :mod:`causalsynth.positivity`), one row each."""
        self._check_fitted()
        W = self._coerce(frame)
        truth = self._truth(W, self._raw_nuisance(W))
        return pd.DataFrame({k: v for k, v in truth.items() if not k.startswith("_")})

    def sample_covariates(self, n: int, *, random_state: RandomState = None) -> pd.DataFrame:
        """Draw ``n`` covariate rows, applying the privacy filter when ``min_dcr`` is set."""
        self._check_fitted()
        check_int("n", n)
        W, self.last_n_replaced_ = self._draw_covariates(int(n), random_state, count=True)
        return W

    def _draw_covariates(self, n: int, random_state, *, count: bool = False):
        """Generator draws, filtered by ``min_dcr`` when set (also used for the reference sample)."""
        ss = as_seed_sequence(random_state)
        first, rest = ss.spawn(2)
        W = self._coerce(self.generator_.sample(int(n), random_state=first))
        if self.min_dcr_ is None:
            return (W, 0) if count else W
        from ..privacy import nearest_distances
        d = nearest_distances(self._encoder.transform(W), self._train_encoded)
        bad = np.flatnonzero(d < self.min_dcr_)
        replaced = len(bad)
        for attempt, child in enumerate(rest.spawn(50)):
            if not len(bad):
                break
            # enough draws to replace every rejected row at the pilot's pass rate (twice the
            # rejected count when most draws pass, as before), at most 2 million a round
            k = min(max(len(bad) * 2, int(np.ceil(1.25 * len(bad) / getattr(self, "_pilot_share_", 0.5))), 64), 2_000_000)
            extra = self._coerce(self.generator_.sample(k, random_state=child))
            de = nearest_distances(self._encoder.transform(extra), self._train_encoded)
            good = extra.loc[de >= self.min_dcr_]
            take = min(len(good), len(bad))
            W.iloc[bad[:take]] = good.iloc[:take].to_numpy()
            bad = bad[take:]
        if len(bad):
            raise DataError(
                f"the privacy filter could not find {len(bad)} covariate rows at distance >= "
                f"{self.min_dcr_:.3g} from every real training row after 50 redraws (for a draw of "
                f"{n} rows). Lower min_dcr or use another generator.")
        W = self._coerce(W)
        return (W, replaced) if count else W

    def sample(self, n: int, *, random_state: RandomState = None) -> SyntheticSample:
        """Draw ``n`` synthetic rows with their truth.

        ``random_state=None`` draws from a stream derived from the synthesizer's seed and a
        counter, so repeated calls give different rows but a fixed seed reproduces them.
        """
        self._check_fitted()
        if random_state is None:
            self._n_calls = getattr(self, "_n_calls", 0) + 1
            random_state = np.random.SeedSequence(self._sample_seed.entropy,
                                                  spawn_key=(*self._sample_seed.spawn_key, 10_000 + self._n_calls))
        s_w, s_a, s_y = as_seed_sequence(random_state).spawn(3)
        W = self.sample_covariates(n, random_state=s_w)
        truth = self._truth(W, self._raw_nuisance(W))
        rng_a, rng_y = np.random.default_rng(s_a), np.random.default_rng(s_y)
        a = (rng_a.random(n) < truth["propensity"]).astype(np.int64)
        y0, y1 = self._draw_outcomes(W, truth, rng_y)
        y = np.where(a == 1, y1, y0)
        t = self.template_
        frame = W.copy()
        frame.insert(0, t.outcome, y)
        frame.insert(0, t.treatment, a)
        if int(a.sum()) in (0, n):
            raise DataError(f"a sample of n={n} drew a single arm; increase n or treated_share")
        data = CausalData(frame, treatment=t.treatment, outcome=t.outcome,
                          covariates=list(t.covariates), categorical=list(t.categorical),
                          constant="keep", _derived=True)
        truth_frame = pd.DataFrame({"y0": y0, "y1": y1, "mu0": truth["mu0"], "mu1": truth["mu1"],
                                    "propensity": truth["propensity"], "cate": truth["cate"]})
        return SyntheticSample(data, truth_frame, self.population_ate_)

    def _draw_outcomes(self, W, truth, rng) -> tuple[np.ndarray, np.ndarray]:
        if self.noise_ == "two-part":
            return self.two_part_.draw(truth["_raw"], self._tp_scale, rng)
        y0, y1 = self._draw_mean_plus_noise(W, truth, rng)
        if self.transform_.active:
            y0, y1 = self.transform_(y0), self.transform_(y1)
        return y0, y1

    def _row_sd(self, W) -> list[np.ndarray]:
        """Per-row noise SD of each arm under the heteroscedastic model."""
        X, _ = main_terms(W, self.template_.covariates, self.template_.covariate_kinds)
        Xd = np.hstack([np.ones((len(W), 1)), X])
        return [np.sqrt(np.exp(np.clip(self._var_models[arm].predict(Xd), -50, 50))) for arm in (0, 1)]

    def _draw_mean_plus_noise(self, W, truth, rng) -> tuple[np.ndarray, np.ndarray]:
        n = len(W)
        mu0, mu1 = truth.get("_loc", (truth["mu0"], truth["mu1"]))
        if self.noise_ == "bernoulli":
            u = rng.random(n)  # one uniform for both arms: coupled potential outcomes
            return (u < mu0).astype(float), (u < mu1).astype(float)
        k0, k1 = self._noise_factors()
        if self.noise_ == "residuals":
            u = rng.random(n)
            eps = [resample_residuals(self.residuals_[arm], u) for arm in (0, 1)]
            return mu0 + k0 * eps[0], mu1 + k1 * eps[1]
        z = rng.standard_normal(n)
        if self.noise_ == "gaussian":
            return mu0 + k0 * self.noise_sd_[0] * z, mu1 + k1 * self.noise_sd_[1] * z
        sd = self._row_sd(W)
        return mu0 + k0 * sd[0] * z, mu1 + k1 * sd[1] * z

    #: Knobs that :meth:`with_knobs` may change without refitting the models.
    KNOBS = ("ate", "effect_scale", "overlap", "confounding", "treated_share", "noise_scale")

    def with_knobs(self, **knobs) -> HybridSynthesizer:
        """A copy sharing the fitted generator and nuisance models, with other knob values.

        Only the calibration that depends on the knobs (propensity intercept, effect
        centring, reference truth) is recomputed, from the same reference seed.
        """
        import copy
        self._check_fitted()
        unknown = sorted(set(knobs) - set(self.KNOBS))
        if unknown:
            raise SpecError(f"unknown knob(s) {unknown}; knobs are {list(self.KNOBS)}")
        new = copy.copy(self)
        for k, v in knobs.items():
            setattr(new, k, v)
        new._validate()
        new._fit_truth(self._reference_seed)
        return new

    # ------------------------------------------------------------------ diagnostics
    def dcr_report(self, n: int | None = None, *, random_state: RandomState = 0):
        """DCR of ``n`` synthetic covariate rows (default: as many as the training rows)
        against the real training rows, with the real holdout as baseline."""
        from ..privacy import dcr
        self._check_fitted()
        n = len(self.real_train_) if n is None else n
        W = self.sample_covariates(n, random_state=random_state)
        return dcr(self.real_train_, W, holdout=self.real_holdout_, random_state=random_state)

    def summary(self) -> pd.DataFrame:
        """The fitted synthesizer in one table: one row per setting or fitted value (metric, value);
        :meth:`to_dict` gives the same as a dictionary."""
        return pd.DataFrame(list(self.to_dict().items()), columns=["metric", "value"], dtype=object)

    def to_dict(self) -> dict:
        """The fitted synthesizer's settings and fitted values (JSON-safe scalars)."""
        self._check_fitted()
        return {
            "covariate_generator": type(self.generator_).__name__,
            "n_train": int(len(self.train_rows_)), "n_holdout": int(len(self.holdout_rows_)),
            "outcome_type": self.outcome_type_, "noise": self.noise_,
            "population_ate": self.population_ate_, "population_ate_se": self.population_ate_se_,
            "treated_share": self.treated_share_, "overlap": float(self.overlap),
            "confounding": float(self.confounding), "effect_scale": float(self.effect_scale),
            "ate_target": None if self.ate is None else float(self.ate), "min_dcr": self.min_dcr_,
        }

    # ------------------------------------------------------------------ persistence
    def save(self, path, *, key: bytes | str | None = None) -> None:
        """Save the fitted synthesizer to ``path`` (missing folders are created; written atomically).

        Without ``key``: arrays and JSON, never a pickle; a synthesizer with scikit-learn
        learners, CTGAN/TVAE or your own generator raises
        :class:`~causalsynth.errors.PickleRequiredError`. With ``key`` (a secret, bytes or str)
        the file is signed with HMAC-SHA256, and such synthesizers are written as a signed
        pickle. See :mod:`causalsynth.synth.io`.
        """
        from .io import save_synthesizer
        self._check_fitted()
        save_synthesizer(self, path, key=key)

    @classmethod
    def load(cls, path, *, key: bytes | str | None = None, trust_pickle: bool = False) -> HybridSynthesizer:
        """Load a synthesizer saved by :meth:`save`.

        Array files are read without unpickling anything. ``key`` verifies a signed file
        before its payload is read (a wrong key raises
        :class:`~causalsynth.errors.SignatureError`); an unsigned pickle is read only with
        ``trust_pickle=True``.
        """
        from .io import load_synthesizer
        return load_synthesizer(path, expected=cls, key=key, trust_pickle=trust_pickle)
