r"""The ATE estimators on plain arrays of nuisance predictions.

All functions take the treatment ``a`` (0/1), outcome ``y``, the propensity ``e`` (already
clipped to its bounds) and outcome predictions ``mu0``, ``mu1``, and return an
:class:`ArmEstimate` with the ATE, the two arm means and the per-row influence function,
from which the standard error is :math:`\sqrt{\sum_i \phi_i^2} / n`.

* ``or``: g-computation, :math:`\hat\psi = n^{-1}\sum_i \{\hat\mu_1(W_i) - \hat\mu_0(W_i)\}`.
  Its influence function adds the delta-method term of the outcome model's coefficients
  when the outcome model is a GLM fitted without cross-fitting; otherwise the AIPW
  influence function is used as a (conservative under correct specification) substitute.
* ``ipw``: normalized (Hajek) inverse probability weighting by default, Horvitz-Thompson
  on request. The influence function treats the weights as known, which gives the robust
  (sandwich) standard error of a weighted marginal structural model and is conservative for
  estimated propensities (Hernan & Robins, What If, ch. 12).
* ``aipw``: augmented IPW (Robins, Rotnitzky & Zhao 1994), efficient influence function.
* ``tmle``: targeted maximum likelihood (van der Laan & Rubin 2006); the outcome is scaled
  to [0, 1] by its bounds, the initial predictions are fluctuated along the clever covariates
  :math:`H_1 = A/e` and :math:`H_0 = (1-A)/(1-e)` by a logistic regression with offset
  (Gruber & van der Laan 2010), one parameter per arm so both arm means are targeted, and
  the standard error comes from the efficient influence function at the update.

Case weights. Every estimator also takes ``weights`` :math:`\omega_i \ge 0` (for example
the augmentation weights of :mod:`causalsynth.positivity`, which restore the original
covariate law): means become :math:`\Omega^{-1}\sum_i \omega_i(\cdot)` with
:math:`\Omega = \sum_i \omega_i`, the TMLE fluctuation is a weighted quasi-likelihood fit,
the influence function of row i is multiplied by :math:`\omega_i` and the standard error is
:math:`\sqrt{\sum_i \mathrm{IF}_i^2}/\Omega`. ``weights=None`` runs the unweighted
arithmetic (not a vector of ones), so unweighted results are exactly those of the plain
formulas. Weighted OR has no delta-method term and uses the weighted AIPW influence function.

Estimands. ``estimand`` chooses the target :math:`\psi_h = E[h\,\tau(W)]/E[h]`:
``"ate"`` (:math:`h = 1`), ``"att"`` (:math:`h = e`, the effect on the treated), ``"atc"``
(:math:`h = 1 - e`), ``"overlap"`` (:math:`h = e(1-e)`, the overlap-weighted effect of Li,
Morgan & Zaslavsky 2018, JASA 113:390) and ``"trimmed"`` (:math:`h = 1\{i \in S\}`, the
ATE over the units ``keep`` whose estimated propensity lies inside the trimming bounds,
Crump, Hotz, Imbens & Mitnik 2009). AIPW is the one-step estimator solving
:math:`\sum_i h_i(\phi_i - \psi) + h'_i(A_i - e_i)(\hat\tau_i - \psi) = 0` with :math:`\phi`
the AIPW pseudo-outcome (for the ATT this is the usual doubly robust
:math:`\sum_i [A_i(Y_i - \hat\mu_0) - (1-A_i)e_i(Y_i - \hat\mu_0)/(1-e_i)]/\sum_i A_i`), and its
influence function is the efficient one, the :math:`h'` term included. IPW uses the tilted
Hajek weights :math:`A h/e` and :math:`(1-A)h/(1-e)`; OR averages :math:`\hat\tau` with
weights :math:`h` (imputing only the missing potential outcome for the ATT and ATC), with the
AIPW influence function of the estimand as its (conservative) SE. TMLE targets the ATT by one
fluctuation of the control arm with clever covariate :math:`e/(1-e)` (and the ATC
symmetrically) and the trimmed ATE on the kept units; it refuses the overlap estimand, whose
weights depend on the propensity (use AIPW). Case weights combine with the ATE only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from .spec import CORE_ESTIMATORS, ESTIMANDS

__all__ = ["ArmEstimate", "or_estimate", "ipw_estimate", "aipw_estimate", "tmle_estimate",
           "CORE_ESTIMATORS", "aipw_pseudo_outcomes", "check_weights", "check_propensity", "fluctuate", "ESTIMANDS", "tilt",
           "crump_bounds", "Q_CLIP"]


@dataclass(frozen=True)
class ArmEstimate:
    ate: float
    mu1: float
    mu0: float
    influence: np.ndarray  # (n,), centred (and multiplied by the case weights, if any)
    note: str = ""
    total_weight: float | None = None  # sum of the case weights; None = unweighted (n)

    def __post_init__(self) -> None:
        if not (np.isfinite(self.ate) and np.all(np.isfinite(self.influence))):
            from ..errors import EstimationError
            raise EstimationError(
                f"the estimate came out non-finite (ATE {self.ate}, {int(np.sum(~np.isfinite(self.influence)))} "
                "non-finite influence values): some inverse-probability weight or prediction overflowed. Check the "
                "propensities (propensity_bounds=(0.01, 0.99) or 'adaptive') and the outcome predictions.")

    @property
    def std_error(self) -> float:
        n = self.influence.shape[0] if self.total_weight is None else self.total_weight
        return float(np.sqrt(np.sum(self.influence ** 2)) / n)


def _mean(x: np.ndarray, w: np.ndarray | None, total: float | None) -> float:
    """Plain mean, or the case-weighted mean with ``total = sum(w)``."""
    return float(x.mean()) if w is None else float(np.sum(w * x) / total)


def _total(weights) -> float | None:
    return None if weights is None else np.sum(weights)


def check_weights(weights, n: int, a=None) -> np.ndarray | None:
    """Case weights: None, or ``n`` finite non-negative numbers with a positive total in each
    arm of ``a`` (the one validator of every estimator's ``weights=``)."""
    from ..errors import SpecError
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"weights must be an array of numbers, one per row; got {type(weights).__name__}") from exc
    if w.shape != (n,):
        raise SpecError(f"weights must hold one number per row: shape ({n},); got shape {w.shape}. "
                        "Fix: pass the case weights of these rows, in their order.")
    bad = ~np.isfinite(w)
    if bad.any():
        raise SpecError(f"weights must be finite; {int(bad.sum())} of {n} are NaN or infinite (first at row "
                        f"{int(np.flatnonzero(bad)[0])}). Fix: drop those rows or give them a weight.")
    if (w < 0).any():
        raise SpecError(f"weights must be >= 0 (case weights count rows); {int(np.sum(w < 0))} of {n} are "
                        f"negative (min {w.min():.4g}). Fix: give those rows weight 0 or drop them.")
    arms = ((None, "all rows"),) if a is None else ((1, "the treated"), (0, "the controls"))
    for arm, label in arms:
        total = w.sum() if arm is None else w[np.asarray(a) == arm].sum()
        if not total > 0:
            raise SpecError(f"weights of {label} sum to {total:g}; each arm needs a positive total weight "
                            "to estimate its mean. Fix: give some of its rows a positive weight.")
    return w


def check_propensity(e, a) -> None:
    """Propensities the inverse weights can use: one per row, strictly between 0 and 1 (an
    exact 0 or 1, from a separating propensity model left unclipped, makes every estimate NaN)."""
    from ..errors import EstimationError
    e = np.asarray(e, dtype=float)
    if e.shape != np.shape(a):
        raise EstimationError(f"the propensity has shape {e.shape}, the treatment {np.shape(a)}; one per row")
    bad = ~((e > 0) & (e < 1))
    if bad.any():
        raise EstimationError(
            f"{int(bad.sum())} of {len(e)} units have an estimated propensity (after clipping) of exactly 0 or 1 "
            f"(or NaN) (min {np.nanmin(e) if (~np.isnan(e)).any() else float('nan'):.3g}, max "
            f"{np.nanmax(e) if (~np.isnan(e)).any() else float('nan'):.3g}): their inverse-probability weights "
            "1/e or 1/(1-e) are infinite and the estimates would be NaN. The propensity model likely separates "
            "the arms. Fix: clip with propensity_bounds=(0.01, 0.99) or 'adaptive' (not (0, 1)), coarsen the "
            "separating covariate, or restrict the sample to the region of overlap.")


def _check(estimand: str, weights, keep, a=None, e=None) -> np.ndarray | None:
    """Validate the estimand, the case weights (returned as floats) and, when given, the propensity."""
    from ..errors import SpecError
    if estimand not in ESTIMANDS:
        raise SpecError(f"estimand must be one of {list(ESTIMANDS)}; got {estimand!r}")
    if estimand != "ate" and weights is not None:
        raise SpecError(f"case weights combine with estimand='ate' only (they restore the ATE's covariate "
                        f"law); got estimand={estimand!r}")
    if estimand == "trimmed" and keep is None:
        raise SpecError("estimand='trimmed' needs the mask of kept units (keep=)")
    if e is not None:  # every row: pseudo-outcomes are formed on all rows, also those the estimand drops
        check_propensity(e, a)
    return None if a is None else check_weights(weights, len(a), a)


def tilt(estimand: str, a, e, keep=None) -> tuple[np.ndarray, np.ndarray]:
    """The tilting function :math:`h` of an estimand and its derivative in the propensity."""
    if estimand == "att":
        return e.copy(), np.ones_like(e)
    if estimand == "atc":
        return 1 - e, -np.ones_like(e)
    if estimand == "overlap":
        return e * (1 - e), 1 - 2 * e
    if estimand == "trimmed":
        return keep.astype(float), np.zeros_like(e)
    return np.ones_like(e), np.zeros_like(e)


def _one_step(a, y, e, mu0, mu1, estimand, keep) -> ArmEstimate:
    """The doubly robust one-step estimator of a tilted estimand, with its efficient IF."""
    h, dh = tilt(estimand, a, e, keep)
    p1, p0 = aipw_pseudo_outcomes(a, y, e, mu0, mu1)
    tau = mu1 - mu0
    norm = h + dh * (a - e)
    scale = float(norm.mean())
    psi = float(np.sum(h * (p1 - p0) + dh * (a - e) * tau) / np.sum(norm))
    infl = (h * (p1 - p0 - psi) + dh * (a - e) * (tau - psi)) / scale
    m1 = float(np.sum(h * p1 + dh * (a - e) * mu1) / np.sum(norm))
    return ArmEstimate(psi, m1, m1 - psi, infl)


def aipw_pseudo_outcomes(a, y, e, mu0, mu1):
    """The AIPW pseudo-outcomes of each arm, whose difference has mean the AIPW estimate."""
    p1 = mu1 + a * (y - mu1) / e
    p0 = mu0 + (1 - a) * (y - mu0) / (1 - e)
    return p1, p0


def aipw_estimate(a, y, e, mu0, mu1, weights=None, estimand: str = "ate", keep=None, **_) -> ArmEstimate:
    weights = _check(estimand, weights, keep, a, e)
    if estimand != "ate":
        return _one_step(a, y, e, mu0, mu1, estimand, keep)
    p1, p0 = aipw_pseudo_outcomes(a, y, e, mu0, mu1)
    psi = p1 - p0
    total = _total(weights)
    ate = _mean(psi, weights, total)
    infl = psi - ate if weights is None else weights * (psi - ate)
    return ArmEstimate(ate, _mean(p1, weights, total), _mean(p0, weights, total), infl,
                       total_weight=total)


def _or_tilted(a, y, e, mu0, mu1, estimand, keep) -> ArmEstimate:
    if estimand == "att":
        n1 = a.sum()
        psi = float(np.sum(a * (y - mu0)) / n1)
        m1 = float(np.sum(a * y) / n1)
    elif estimand == "atc":
        n0 = (1 - a).sum()
        psi = float(np.sum((1 - a) * (mu1 - y)) / n0)
        m1 = float(np.sum((1 - a) * mu1) / n0)
    else:
        h, _ = tilt(estimand, a, e, keep)
        psi = float(np.sum(h * (mu1 - mu0)) / np.sum(h))
        m1 = float(np.sum(h * mu1) / np.sum(h))
    infl = _one_step(a, y, e, mu0, mu1, estimand, keep).influence
    return ArmEstimate(psi, m1, m1 - psi, infl, "SE from the AIPW influence function of the estimand "
                                                "(conservative substitute)")


def or_estimate(a, y, e, mu0, mu1, or_correction=None, weights=None, estimand: str = "ate", keep=None,
                **_) -> ArmEstimate:
    uses_e = estimand != "ate" or or_correction is None or weights is not None
    weights = _check(estimand, weights, keep, a, e if uses_e else None)
    if estimand != "ate":
        return _or_tilted(a, y, e, mu0, mu1, estimand, keep)
    tau = mu1 - mu0
    total = _total(weights)
    ate = _mean(tau, weights, total)
    if or_correction is not None and weights is None:
        infl = tau - ate + or_correction
        note = ""
    else:
        infl = aipw_estimate(a, y, e, mu0, mu1, weights=weights).influence
        note = "" if weights is not None else "SE from the AIPW influence function (conservative substitute)"
    return ArmEstimate(ate, _mean(mu1, weights, total), _mean(mu0, weights, total), infl, note,
                       total_weight=total)


def _ipw_tilted(a, y, e, estimand, keep) -> ArmEstimate:
    h, _ = tilt(estimand, a, e, keep)
    w1, w0 = a * h / e, (1 - a) * h / (1 - e)
    m1 = float(np.sum(w1 * y) / np.sum(w1))
    m0 = float(np.sum(w0 * y) / np.sum(w0))
    infl = w1 * (y - m1) / w1.mean() - w0 * (y - m0) / w0.mean()
    return ArmEstimate(m1 - m0, m1, m0, infl)


def ipw_estimate(a, y, e, mu0=None, mu1=None, normalized: bool = True, weights=None, estimand: str = "ate",
                 keep=None, **_) -> ArmEstimate:
    weights = _check(estimand, weights, keep, a, e)
    if estimand != "ate":
        if not normalized:
            from ..errors import SpecError
            raise SpecError(f"Horvitz-Thompson weighting (ipw_normalized=False) estimates the ATE only; "
                            f"estimand={estimand!r} uses the normalized (Hajek) weights")
        return _ipw_tilted(a, y, e, estimand, keep)
    total = _total(weights)
    w1 = (a if weights is None else weights * a) / e
    w0 = (1 - a if weights is None else weights * (1 - a)) / (1 - e)
    if normalized:
        s1, s0 = (w1.mean(), w0.mean()) if weights is None else (np.sum(w1) / total, np.sum(w0) / total)
        m1 = float(np.sum(w1 * y) / np.sum(w1))
        m0 = float(np.sum(w0 * y) / np.sum(w0))
        infl = w1 * (y - m1) / s1 - w0 * (y - m0) / s0
    else:
        t1, t0 = w1 * y, w0 * y
        if weights is None:
            m1, m0 = float(t1.mean()), float(t0.mean())
            infl = (t1 - m1) - (t0 - m0)
        else:
            m1, m0 = float(np.sum(t1) / total), float(np.sum(t0) / total)
            infl = (t1 - weights * m1) - (t0 - weights * m0)
    return ArmEstimate(m1 - m0, m1, m0, infl, total_weight=total)


def fluctuate(ys, off, h, w=None) -> float:
    """Maximum-likelihood epsilon of logit E[y*] = off + eps * h (quasi-binomial, no intercept;
    optional case weights ``w``).

    The score ``sum h (y* - expit(off + eps h))`` is strictly decreasing in eps for h > 0, so
    its root is bracketed by doubling and found by Brent's method (Newton steps alone can
    oscillate when some ``h = 1/e`` are large). If the score keeps its sign up to
    ``|eps| = 1e4`` (all outcomes at a bound), that end is returned with a warning.
    """
    import warnings

    from scipy.optimize import brentq

    from ..errors import ConvergenceWarning

    hw = h if w is None else h * w

    def score(eps: float) -> float:
        return float(np.sum(hw * (ys - expit(off + eps * h))))

    s0 = score(0.0)
    if s0 == 0.0 or len(ys) == 0:
        return 0.0
    step = 1.0 if s0 > 0 else -1.0
    a, b = 0.0, step
    while np.sign(score(b)) == np.sign(s0):
        a, b = b, 2 * b
        if abs(b) > 1e4:
            warnings.warn("TMLE fluctuation has no finite solution (outcomes at a bound); "
                          "the update stops at |epsilon| = 1e4", ConvergenceWarning, stacklevel=4)
            return b
    lo, hi = (a, b) if a < b else (b, a)
    return float(brentq(score, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500))


def _outcome_scale(y: np.ndarray, bounds) -> tuple[float, float]:
    """The bounds that scale the outcome to [0, 1]: the observed range, or checked user bounds."""
    if bounds is None:
        return float(np.min(y)), float(np.max(y))
    lo, hi = float(bounds[0]), float(bounds[1])
    from ..errors import SpecError
    if not lo < hi:
        raise SpecError(f"outcome_bounds must be (low, high) with low < high; got {bounds!r}")
    if np.min(y) < lo - 1e-12 * abs(lo) or np.max(y) > hi + 1e-12 * abs(hi):
        raise SpecError(
            f"outcome_bounds {tuple(bounds)!r} do not contain the observed outcomes "
            f"[{np.min(y):.4g}, {np.max(y):.4g}]; TMLE would clip real outcomes. Widen the bounds "
            "or leave outcome_bounds=None (the observed range).")
    return lo, hi


def _tmle_treated_or_controls(a, y, e, mu0, mu1, estimand, bounds, q_clip) -> ArmEstimate:
    """TMLE of the ATT (fluctuate the control arm's regression with clever covariate e/(1-e))
    or the ATC (the treated arm's with (1-e)/e); the plug-in then imputes the missing arm."""
    lo, hi = _outcome_scale(y, bounds)
    span = hi - lo if hi > lo else 1.0
    ys = np.clip((y - lo) / span, 0.0, 1.0)
    att = estimand == "att"
    target, mu = (a == 0, mu0) if att else (a == 1, mu1)
    weight = e / (1 - e) if att else (1 - e) / e
    q = np.clip((mu - lo) / span, q_clip, 1 - q_clip)
    eps = fluctuate(ys[target], logit(q[target]), weight[target])
    qs = expit(logit(q) + eps * weight)
    group = a == 1 if att else a == 0  # the units the effect is averaged over
    p = float(group.mean())
    if att:
        psi_s = float(np.mean(ys[group] - qs[group]))
        core = (group * (ys - qs - psi_s) - target * weight * (ys - qs)) / p
        m1 = lo + span * float(ys[group].mean())
    else:
        psi_s = float(np.mean(qs[group] - ys[group]))
        core = (group * (qs - ys - psi_s) + target * weight * (ys - qs)) / p
        m1 = lo + span * float(qs[group].mean())
    return ArmEstimate(psi_s * span, m1, m1 - psi_s * span, span * core)


#: TMLE keeps the scaled initial predictions inside [Q_CLIP, 1 - Q_CLIP] before taking logits.
Q_CLIP = 1e-5


def tmle_estimate(a, y, e, mu0, mu1, bounds: tuple[float, float] | None = None,
                  weights=None, estimand: str = "ate", keep=None, **_) -> ArmEstimate:
    """TMLE with one fluctuation parameter per arm.

    The clever covariates :math:`H_1 = A/e` and :math:`H_0 = (1-A)/(1-e)` enter one logistic
    regression with offset; as their supports are disjoint, it splits into one
    one-dimensional fit per arm. Each arm's score equation then holds, so the targeted arm
    means ``mu1`` and ``mu0`` (not only their difference) are doubly robust, as in the
    ``tmle`` R package (Gruber & van der Laan 2012).
    """
    q_clip = Q_CLIP
    weights = _check(estimand, weights, keep, a, e)
    if estimand == "overlap":
        from ..errors import SpecError
        raise SpecError("tmle does not target the overlap estimand: its weights e(1-e) depend on the "
                        "propensity, which this TMLE does not target; use aipw (one-step, efficient IF) or ipw")
    if estimand in ("att", "atc"):
        return _tmle_treated_or_controls(a, y, e, mu0, mu1, estimand, bounds, q_clip)
    if estimand == "trimmed":
        # the ATE over the kept units: the same TMLE on them; outside them the IF is 0
        rows = np.flatnonzero(keep)
        sub = tmle_estimate(a[rows], y[rows], e[rows], mu0[rows], mu1[rows], bounds)
        infl = np.zeros(len(a))
        infl[rows] = sub.influence * len(a) / len(rows)
        return ArmEstimate(sub.ate, sub.mu1, sub.mu0, infl)
    lo, hi = _outcome_scale(y, bounds)
    span = hi - lo if hi > lo else 1.0
    ys = np.clip((y - lo) / span, 0.0, 1.0)
    q1 = np.clip((mu1 - lo) / span, q_clip, 1 - q_clip)
    q0 = np.clip((mu0 - lo) / span, q_clip, 1 - q_clip)
    t1, t0 = a == 1, a == 0
    w1, w0 = (None, None) if weights is None else (weights[t1], weights[t0])
    eps1 = fluctuate(ys[t1], logit(q1[t1]), 1.0 / e[t1], w1)
    eps0 = fluctuate(ys[t0], logit(q0[t0]), 1.0 / (1 - e[t0]), w0)
    q1s = expit(logit(q1) + eps1 / e)
    q0s = expit(logit(q0) + eps0 / (1 - e))
    qas = np.where(t1, q1s, q0s)
    h = a / e - (1 - a) / (1 - e)
    total = _total(weights)
    psi_s = _mean(q1s - q0s, weights, total)
    core = h * (ys - qas) + (q1s - q0s) - psi_s
    infl = span * core if weights is None else weights * span * core
    return ArmEstimate(psi_s * span, lo + span * _mean(q1s, weights, total),
                       lo + span * _mean(q0s, weights, total), infl, total_weight=total)


def crump_bounds(e: np.ndarray) -> tuple[float, float]:
    r"""The optimal trimming bounds :math:`[\alpha, 1-\alpha]` of Crump, Hotz, Imbens & Mitnik
    (2009), Biometrika 96:187-199, from estimated propensities.

    With :math:`g = 1/\{e(1-e)\}`: no trimming when :math:`\max g \le 2\,\bar g`; otherwise
    :math:`\gamma` solves :math:`\gamma = 2\,E[g \mid g \le \gamma]` on the sample and
    :math:`\alpha = 1/2 - \sqrt{1/4 - 1/\gamma}`.
    """
    e = np.clip(np.asarray(e, dtype=float), 1e-12, 1 - 1e-12)
    g = np.sort(1.0 / (e * (1 - e)))
    if g[-1] <= 2 * g.mean():
        return 0.0, 1.0
    running = np.cumsum(g) / np.arange(1, len(g) + 1)
    ok = np.flatnonzero(g <= 2 * running)
    gamma = 2 * running[ok[-1]] if len(ok) else 4.0
    alpha = 0.5 - np.sqrt(max(0.25 - 1.0 / gamma, 0.0))
    return float(alpha), float(1 - alpha)
