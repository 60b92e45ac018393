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

from .._checks import check_choice, check_int, check_range, evaluate_expression
from .._random import RandomState, as_seed_sequence
from ..data import CausalData
from ..errors import DataError, Fix, NotFittedError, PrivacyWarning, SpecError
from ..learners import resolve_learner
from ..sample import SyntheticSample
from .covariates import make_covariate_generator
from .dcr import DCRFiltered
from .models import NOISE_KINDS, MeanPlusNoise
from .outcomes import MIN_ZERO_SHARE, ObservationTransform, TwoPartOutcome, wants_two_part
from .settings import SynthSettings

__all__ = ["HybridSynthesizer", "NOISE_MODELS", "SynthSettings"]

NOISE_MODELS = ("auto", "gaussian", "heteroscedastic", "residuals")
_DEFAULT_SETTINGS = SynthSettings()


def _fitted_model_from_state(state: dict, t: CausalData):
    from ..learners import FittedModel
    return FittedModel.from_state(state, t, np.arange(t.n_obs))


def _pilot_seed(reference: np.random.SeedSequence) -> np.random.SeedSequence:
    """The privacy filter's pilot draws: a child key of the reference seed of its own (spawning
    a child would shift the reference draws)."""
    return np.random.SeedSequence(reference.entropy, spawn_key=(*reference.spawn_key, 2**31))


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
    generator : str or object, default "copula"
        The covariate generator: ``"bootstrap"``, ``"copula"``, ``"ctgan"``, ``"tvae"``, or an object with
        ``fit(frame, random_state=)`` and ``sample(n, random_state=)``.
    propensity, outcome : learner specifications (presets, scikit-learn estimators,
        formulas) as in :func:`causalsynth.estimate`.
    noise : {"auto", "gaussian", "heteroscedastic", "residuals"}
        Noise model of a continuous outcome ("auto" = "gaussian"); binary outcomes are Bernoulli.
    min_dcr : None, "auto" or float
        Privacy filter: synthetic covariate rows closer than this (in the DCR metric of
        :mod:`causalsynth.privacy`) to a real training row are rejected and redrawn
        (:class:`~causalsynth.synth.dcr.DCRFiltered` wraps the generator).
        ``"auto"`` uses the 5% quantile of holdout-to-train distances. Default None (off).
    n_reference : size of the Monte Carlo reference sample for the population truth.
    settings : :class:`~causalsynth.synth.settings.SynthSettings`, optional
        The fitting details: ``covariate_options``, ``n_folds``, ``holdout``,
        ``propensity_bounds``, ``outcome_model`` (``"auto"``, ``"mean"`` or ``"two-part"``, see
        :mod:`causalsynth.synth.outcomes`), ``outcome_bounds`` and ``derived`` (covariates that
        are functions of others, ``{"u74": "re74 == 0"}``: expressions in the closed vocabulary
        of :class:`~causalsynth.data.CausalData`, never evaluated as Python, recomputed on every
        synthetic row and checked against the real data at ``fit``; default: those the data
        declare). They are readable on the synthesizer by the same names.
    random_state : seeds the split, the generator, the learners and the reference sample.
    **knobs : ``ate``, ``effect_scale``, ``overlap``, ``confounding``, ``treated_share``,
        ``noise_scale``, by keyword: the knobs described above (:attr:`KNOBS`, the names
        :meth:`with_knobs` takes). Any other name raises :class:`~causalsynth.errors.SpecError`.
    """

    #: Knobs that the constructor and :meth:`with_knobs` take, with their defaults.
    KNOB_DEFAULTS = {"ate": None, "effect_scale": 1.0, "overlap": 1.0, "confounding": 1.0, "treated_share": None,
                     "noise_scale": 1.0}
    #: Knobs that :meth:`with_knobs` may change without refitting the models.
    KNOBS = tuple(KNOB_DEFAULTS)

    def __init__(self, generator: Any = "copula", *, propensity: Any = None, outcome: Any = None,
                 noise: Literal["auto", "gaussian", "heteroscedastic", "residuals"] = "auto",
                 min_dcr: float | str | None = None, n_reference: int = 200_000,
                 settings: SynthSettings | None = None, random_state: RandomState = None, **knobs: Any) -> None:
        unknown = sorted(set(knobs) - set(self.KNOBS))
        if "covariates" in unknown:
            raise SpecError("HybridSynthesizer takes the covariate generator as generator= (it was covariates= "
                            "before 0.3; covariates are the data's columns); got covariates=. Fix: "
                            f"HybridSynthesizer(generator={knobs['covariates']!r}, ...)")
        if unknown:
            moved = sorted(set(unknown) & set(SynthSettings.__dataclass_fields__))
            raise SpecError(f"HybridSynthesizer got unknown keyword(s) {unknown}; it takes the knobs "
                            f"{list(self.KNOBS)} by keyword" + (
                                f", and {moved} in settings=SynthSettings({moved[0]}=...)" if moved else ""))
        if settings is not None and not isinstance(settings, SynthSettings):
            raise SpecError(f"settings must be a SynthSettings (causalsynth.synth.settings); got "
                            f"{type(settings).__name__}. Fix: settings=SynthSettings(holdout=0.3, ...)")
        self.generator = generator
        self.propensity = propensity
        self.outcome = outcome
        self.noise = noise
        self.min_dcr = min_dcr
        self.n_reference = n_reference
        self.settings = settings
        self.random_state = random_state
        for name, default in self.KNOB_DEFAULTS.items():
            setattr(self, name, knobs.get(name, default))

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's named parameters and the knobs (scikit-learn's get_params,
        set_params and clone see them all)."""
        return sorted({*super()._get_param_names(), *cls.KNOBS})

    @property
    def _cfg(self) -> SynthSettings:
        return _DEFAULT_SETTINGS if self.settings is None else self.settings

    covariate_options = property(lambda self: self._cfg.covariate_options, doc="``settings.covariate_options``")
    n_folds = property(lambda self: self._cfg.n_folds, doc="``settings.n_folds``")
    holdout = property(lambda self: self._cfg.holdout, doc="``settings.holdout``")
    propensity_bounds = property(lambda self: self._cfg.propensity_bounds, doc="``settings.propensity_bounds``")
    outcome_model = property(lambda self: self._cfg.outcome_model, doc="``settings.outcome_model``")
    outcome_bounds = property(lambda self: self._cfg.outcome_bounds, doc="``settings.outcome_bounds``")
    derived = property(lambda self: self._cfg.derived, doc="``settings.derived``")

    # ------------------------------------------------------------------ fitting
    def _validate(self) -> None:
        """The settings that can change after construction (set_params, with_knobs)."""
        check_choice("noise", self.noise, NOISE_MODELS)
        check_range("effect_scale", self.effect_scale, 0.0, 100.0)
        check_range("overlap", self.overlap, 0.0, 20.0)
        check_range("confounding", self.confounding, 0.0, 1.0)
        check_range("treated_share", self.treated_share, 0.0, 1.0, low_open=True, high_open=True,
                    allow_none=True)
        check_range("ate", self.ate, -np.inf, np.inf, allow_none=True)
        for k in self._noise_factors():
            check_range("noise_scale", k, 0.0, 100.0)
        check_int("n_reference", self.n_reference, 1000)
        if self.min_dcr is not None and self.min_dcr != "auto":
            check_range("min_dcr", self.min_dcr, 0.0, np.inf)
        if self.settings is not None and not isinstance(self.settings, SynthSettings):
            raise SpecError(f"settings must be a SynthSettings; got {type(self.settings).__name__}")

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
        # 1. the covariate generator (wrapped by the privacy filter when min_dcr is set)
        gen = make_covariate_generator(self.generator, **(self.covariate_options or {}))
        self.generator_ = gen
        self.dcr_filter_ = None
        if self.min_dcr is not None:  # the reference sample goes through the same filter
            gen = self.dcr_filter_ = DCRFiltered(gen, self.min_dcr, holdout=self.real_holdout_, transform=self._coerce,
                                                 pilot_seed=_pilot_seed(s_ref), label=self.generator)
        with warnings.catch_warnings():  # a generator's own PrivacyWarning (bootstrap copies rows) always shows
            warnings.simplefilter("always", PrivacyWarning)
            self.generator_.fit(self.real_train_, random_state=s_gen)
        if self.dcr_filter_ is not None:  # its warnings follow the caller's filters
            self.dcr_filter_.fit_filter(self.real_train_)

        # 2. nuisance models on all rows
        p_learner = resolve_learner(self.propensity, role="propensity", data=data)
        o_learner = resolve_learner(self.outcome, role="outcome", data=data)
        self.propensity_model_ = p_learner.fit(data, np.arange(n), data.a, s_prop)
        self.outcome_type_ = data.outcome_type
        self.transform_ = self._observation_transform(data)
        # 3. the outcome model with its noise, chosen once from the settings
        self.outcome_ = self._outcome_strategy(data)
        if isinstance(self.outcome_, TwoPartOutcome):
            s_out.spawn(3)  # the mean model's three children: the two-part model takes the fourth
            self.outcome_.fit(data, s_out.spawn(1)[0])
        else:
            self.outcome_.fit(data, o_learner, int(self.n_folds), s_out, s_noise)

        # 4. knobs that need the covariate law: propensity intercept, effect centring, truth
        self._reference_seed = s_ref
        self._fit_truth(s_ref)
        return self

    def _outcome_strategy(self, data: CausalData):
        """The outcome model and its noise kind, from ``outcome_model=`` and ``noise=``."""
        if self._choose_outcome_model(data) == "two-part":
            return TwoPartOutcome(self.outcome, n_folds=int(self.n_folds))
        if data.outcome_type == "binary":
            if self.noise not in ("auto", "bernoulli"):
                warnings.warn(f"noise={self.noise!r} applies to continuous outcomes; the binary outcome "
                              f"{data.outcome!r} is drawn as Bernoulli(mu) instead", UserWarning, stacklevel=3)
            return MeanPlusNoise(NOISE_KINDS["bernoulli"]())
        return MeanPlusNoise(NOISE_KINDS["gaussian" if self.noise == "auto" else self.noise]())

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
                              "with the rounded mean-plus-noise model)", UserWarning, stacklevel=4)
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
            low, high = bounds  # a checked pair: SynthSettings validates it when built
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
        lo, hi = self.propensity_bounds
        e = np.clip(self.propensity_model_.predict_frame(W, t), lo, hi)
        return {"e": e, **self.outcome_.raw(W, t)}

    def _fit_truth(self, seed) -> None:
        g_seed, _ = seed.spawn(2)
        ref, _ = self._draw_covariates(int(self.n_reference), g_seed)
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
        elif isinstance(self.outcome_, TwoPartOutcome):
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
        elif isinstance(self.outcome_, TwoPartOutcome):
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
        return self.outcome_.noise.quantiles(W, arm, self._noise_factors()[arm])

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
        W, self.last_n_replaced_ = self._draw_covariates(int(n), random_state)
        return W

    def _draw_covariates(self, n: int, random_state) -> tuple[pd.DataFrame, int]:
        """Covariate rows (through the privacy filter when ``min_dcr`` is set; also used for the
        reference sample) and how many the filter replaced."""
        if self.dcr_filter_ is not None:
            return self.dcr_filter_.draw(n, random_state)
        first, _ = as_seed_sequence(random_state).spawn(2)
        return self._coerce(self.generator_.sample(int(n), random_state=first)), 0

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
        if isinstance(self.outcome_, TwoPartOutcome):
            return self.outcome_.draw(truth["_raw"], self._tp_scale, rng)
        mu0, mu1 = truth.get("_loc", (truth["mu0"], truth["mu1"]))
        y0, y1 = self.outcome_.noise.draw(W, mu0, mu1, self._noise_factors(), rng)
        if self.transform_.active:
            y0, y1 = self.transform_(y0), self.transform_(y1)
        return y0, y1

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

    # ------------------------------------------------------------------ the parts, by their old names
    @property
    def outcome_model_(self) -> str:
        """The outcome model's name: ``"mean"`` or ``"two-part"`` (the model is ``outcome_``)."""
        return self.outcome_.name

    @property
    def noise_(self) -> str:
        """The noise kind's name (``"bernoulli"``, ``"gaussian"``, ...; ``"two-part"`` for that model)."""
        return self.outcome_.noise.name if isinstance(self.outcome_, MeanPlusNoise) else self.outcome_.name

    @property
    def outcome_models_(self) -> dict:
        """The fitted outcome regressions of the mean-plus-noise model (pooled or per arm)."""
        return getattr(self.outcome_, "models_", {})

    @property
    def two_part_(self) -> TwoPartOutcome | None:
        return self.outcome_ if isinstance(self.outcome_, TwoPartOutcome) else None

    @property
    def residuals_(self) -> dict:
        """The centred out-of-fold residuals per arm of the mean-plus-noise model."""
        return self.outcome_.noise.residuals_

    @residuals_.setter
    def residuals_(self, value: dict) -> None:  # a what-if copy of the noise; the fitted one is shared
        self._replace_noise(residuals=value)

    @property
    def noise_sd_(self) -> dict:
        """The noise SD per arm of the mean-plus-noise model."""
        return self.outcome_.noise.sd_

    @noise_sd_.setter
    def noise_sd_(self, value: dict) -> None:
        self._replace_noise(sd=value)

    def _replace_noise(self, **changes) -> None:
        import copy
        outcome = copy.copy(self.outcome_)
        outcome.noise = outcome.noise.replaced(**changes)
        self.outcome_ = outcome

    @property
    def min_dcr_(self) -> float | None:
        """The privacy filter's threshold (None without a filter)."""
        return None if self.dcr_filter_ is None else self.dcr_filter_.threshold_

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict:
        """The fitted synthesizer as JSON values and numeric arrays (what an array file holds):
        each part writes its own state. PickleRequiredError for parts only a pickle holds."""
        from ..errors import PickleRequiredError
        from ._state import GENERATORS, params_state, seed_state, template_state
        t, gen = self.template_, self.generator_
        if type(gen) not in GENERATORS.values():
            raise PickleRequiredError(f"the covariate generator {type(gen).__name__}")
        try:
            propensity = self.propensity_model_.to_state(t, np.arange(t.n_obs))
        except TypeError as exc:
            raise PickleRequiredError(f"the propensity model ({exc})") from exc
        two_part = isinstance(self.outcome_, TwoPartOutcome)
        outcome = self.outcome_.to_state(t, self._tp_scale) if two_part else self.outcome_.to_state(t)
        tf = self.transform_
        return {
            "params": params_state(self), "template": template_state(t),
            "split": {"train_rows": self.train_rows_, "holdout_rows": self.holdout_rows_,
                      "has_holdout": self.real_holdout_ is not None},
            "generator": {"class": type(gen).__name__, "state": gen.to_state()},
            "propensity_model": propensity, **outcome, "outcome_type": self.outcome_type_,
            "privacy": {"min_dcr": None} if self.dcr_filter_ is None else self.dcr_filter_.to_state(),
            "calibration": {"treated_share": self.treated_share_, "logit_center": self._logit_center,
                            "prop_intercept": self._prop_intercept, "tau_bar_raw": self._tau_bar_raw,
                            "ate_shift": self._ate_shift, "logodds_shift": getattr(self, "_logodds_shift", None),
                            "population_ate": self.population_ate_, "population_ate_se": self.population_ate_se_,
                            "reference_propensity": self.reference_propensity_},
            "seeds": {"sample": seed_state(self._sample_seed), "reference": seed_state(self._reference_seed)},
            "counters": {"n_calls": getattr(self, "_n_calls", None),
                         "last_n_replaced": getattr(self, "last_n_replaced_", None)},
            "outcome": {"model": self.outcome_.name, "integer": bool(tf.integer),
                        "low": None if tf.low is None else float(tf.low),
                        "high": None if tf.high is None else float(tf.high)},
            "estimands": {k: float(getattr(self, f"population_{k}_")) for k in ("att", "atc", "overlap")},
            "derived": dict(self.derived_),
        }

    @classmethod
    def from_state(cls, state: dict) -> HybridSynthesizer:  # long: one line per stored part, in order
        """Inverse of :meth:`to_state` (ValueError or KeyError on a malformed state)."""
        from ._state import GENERATORS, check_rows, params_from_state, seed_from_state, template_from_state
        from .models import MeanPlusNoise
        t = template_from_state(state["template"])
        n = t.n_obs
        train, hold = check_rows(state["split"]["train_rows"], n), check_rows(state["split"]["holdout_rows"], n)
        W = t.covariate_frame
        real_train = W.iloc[train].reset_index(drop=True)
        generator = GENERATORS[state["generator"]["class"]].from_state(real_train, state["generator"]["state"])
        obj = cls(**params_from_state(state["params"], generator))
        derived = state["derived"]
        if not (isinstance(derived, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in derived.items())
                and set(derived) <= set(t.covariates)):
            raise ValueError("derived columns must map covariates to expressions")
        obj.template_, obj._w_dtypes, obj.derived_ = t, W.dtypes, derived
        obj.train_rows_, obj.holdout_rows_, obj.real_train_ = train, hold, real_train
        obj.real_holdout_ = W.iloc[hold].reset_index(drop=True) if state["split"]["has_holdout"] else None
        obj.generator_ = generator
        obj._sample_seed = seed_from_state(state["seeds"]["sample"])
        obj._reference_seed = seed_from_state(state["seeds"]["reference"])
        obj.dcr_filter_ = None
        if state["privacy"]["min_dcr"] is not None:
            obj.dcr_filter_ = DCRFiltered.from_state(
                generator, real_train, state["privacy"], min_dcr=obj.min_dcr, holdout=obj.real_holdout_,
                transform=obj._coerce, pilot_seed=_pilot_seed(obj._reference_seed), label=obj.generator)
        obj.propensity_model_ = _fitted_model_from_state(state["propensity_model"], t)
        out = state["outcome"]
        order = state["outcome_order"]
        if out["model"] not in ("mean", "two-part") or (order == []) != (out["model"] == "two-part"):
            raise ValueError(f"bad outcome model {out['model']!r} with outcome models {order}")
        if out["model"] == "two-part":
            obj.outcome_ = TwoPartOutcome.from_state(state, t, obj.outcome)
            obj._tp_scale = float(state["two_part"]["scale"])
        else:
            obj.outcome_ = MeanPlusNoise.from_state(state, t)
        obj.outcome_type_ = state["outcome_type"]
        obj.transform_ = ObservationTransform(bool(out["integer"]), out["low"], out["high"])
        for k, v in state["estimands"].items():
            setattr(obj, f"population_{k}_", float(v))
        cal = state["calibration"]
        obj.treated_share_, obj._logit_center = float(cal["treated_share"]), float(cal["logit_center"])
        obj._prop_intercept, obj._tau_bar_raw = float(cal["prop_intercept"]), float(cal["tau_bar_raw"])
        obj._ate_shift = float(cal["ate_shift"])
        if cal["logodds_shift"] is not None:
            obj._logodds_shift = float(cal["logodds_shift"])
        obj.population_ate_, obj.population_ate_se_ = float(cal["population_ate"]), float(cal["population_ate_se"])
        obj.reference_propensity_ = cal["reference_propensity"]
        if not (isinstance(obj.reference_propensity_, np.ndarray) and obj.reference_propensity_.ndim == 1):
            raise ValueError("the reference propensities must be a 1-D array")
        for attr, key in (("_n_calls", "n_calls"), ("last_n_replaced_", "last_n_replaced")):
            if state["counters"][key] is not None:
                setattr(obj, attr, int(state["counters"][key]))
        return obj

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
