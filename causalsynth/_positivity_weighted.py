r"""Weighted ATE estimators and covariate-shift metrics for augmented data.

Private helpers of :mod:`causalsynth.positivity`.

Weighted estimators take per-row weights :math:`\omega_i` (the augmentation weights that
restore the original covariate law) and reduce exactly to the unweighted estimators of
:mod:`causalsynth.estimators.core` when every :math:`\omega_i = 1`. With
:math:`\Omega = \sum_i \omega_i`:

* OR: :math:`\Omega^{-1}\sum_i \omega_i\{\hat\mu_1(W_i) - \hat\mu_0(W_i)\}`;
* IPW (Hajek): :math:`\sum_i \omega_i A_i Y_i/e_i \big/ \sum_i \omega_i A_i/e_i` minus the
  control analogue;
* AIPW: :math:`\Omega^{-1}\sum_i \omega_i \phi_i` with the usual pseudo-outcome
  :math:`\phi_i`;
* TMLE: one logistic fluctuation per arm (as in the unweighted TMLE), fitted by weighted
  quasi-likelihood.

Standard errors are :math:`\sqrt{\sum_i \mathrm{IF}_i^2}/\Omega` with weighted influence
functions; they treat synthetic outcomes as data and so ignore the uncertainty of the
model that produced them (too small; use Monte Carlo spread, as the evaluation does).

Shift metrics compare the original covariate law :math:`P_n` with the augmented one:
standardized mean differences per design column,
:math:`(\bar x_{aug} - \bar x_{orig}) / \sqrt{(s^2_{orig} + s^2_{aug})/2}`, and the maximum
mean discrepancy with a Gaussian kernel on standardized columns, bandwidth by the median
heuristic (Gretton et al. 2012, JMLR 13), :math:`\mathrm{MMD} = \sqrt{d^\top K d}` with
:math:`d` the difference of the two empirical measures on the union of rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from .estimators.core import _fluctuate, _aipw_pseudo

__all__ = ["weighted_estimate", "WEIGHTED_ESTIMATORS", "smd_table", "mmd"]


def _or(a, y, e, mu0, mu1, w, **_):
    tau = mu1 - mu0
    ate = float(np.sum(w * tau) / np.sum(w))
    infl = _aipw(a, y, e, mu0, mu1, w)[3]
    return ate, float(np.sum(w * mu1) / np.sum(w)), float(np.sum(w * mu0) / np.sum(w)), infl


def _ipw(a, y, e, mu0, mu1, w, **_):
    total = np.sum(w)
    w1, w0 = w * a / e, w * (1 - a) / (1 - e)
    m1, m0 = float(np.sum(w1 * y) / np.sum(w1)), float(np.sum(w0 * y) / np.sum(w0))
    infl = w1 * (y - m1) / (np.sum(w1) / total) - w0 * (y - m0) / (np.sum(w0) / total)
    return m1 - m0, m1, m0, infl


def _aipw(a, y, e, mu0, mu1, w, **_):
    p1, p0 = _aipw_pseudo(a, y, e, mu0, mu1)
    total = np.sum(w)
    ate = float(np.sum(w * (p1 - p0)) / total)
    return ate, float(np.sum(w * p1) / total), float(np.sum(w * p0) / total), w * (p1 - p0 - ate)


def _tmle(a, y, e, mu0, mu1, w, bounds=None, q_clip=1e-5, **_):
    # one fluctuation per arm, as in causalsynth.estimators.core.tmle_estimate, with weights
    lo, hi = (float(np.min(y)), float(np.max(y))) if bounds is None else bounds
    span = hi - lo if hi > lo else 1.0
    ys = np.clip((y - lo) / span, 0.0, 1.0)
    q1 = np.clip((mu1 - lo) / span, q_clip, 1 - q_clip)
    q0 = np.clip((mu0 - lo) / span, q_clip, 1 - q_clip)
    t1, t0 = a == 1, a == 0
    eps1 = _fluctuate(ys[t1], logit(q1[t1]), 1.0 / e[t1], w[t1])
    eps0 = _fluctuate(ys[t0], logit(q0[t0]), 1.0 / (1 - e[t0]), w[t0])
    q1s, q0s = expit(logit(q1) + eps1 / e), expit(logit(q0) + eps0 / (1 - e))
    h = a / e - (1 - a) / (1 - e)
    total = np.sum(w)
    psi = float(np.sum(w * (q1s - q0s)) / total)
    infl = w * span * (h * (ys - np.where(t1, q1s, q0s)) + (q1s - q0s) - psi)
    return (psi * span, lo + span * float(np.sum(w * q1s) / total),
            lo + span * float(np.sum(w * q0s) / total), infl)


#: Weighted array-level estimators by canonical name.
WEIGHTED_ESTIMATORS = {"or": _or, "ipw": _ipw, "aipw": _aipw, "tmle": _tmle}


def weighted_estimate(name: str, a, y, e, mu0, mu1, w, *, bounds=None) -> tuple[float, float, float, float]:
    """(ate, std_error, mu1, mu0) of one weighted estimator."""
    ate, m1, m0, infl = WEIGHTED_ESTIMATORS[name](a, y, e, mu0, mu1, w, bounds=bounds)
    return ate, float(np.sqrt(np.sum(infl ** 2)) / np.sum(w)), m1, m0


# ------------------------------------------------------------------------- shift metrics
def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = w / np.sum(w)
    m = w @ x
    return m, w @ (x - m) ** 2


def smd_table(x_orig: np.ndarray, x_aug: np.ndarray, names: list[str],
              w_aug: np.ndarray) -> pd.DataFrame:
    """SMD of every design column: augmented vs original, unweighted and weighted."""
    m0, v0 = _wmean_var(x_orig, np.ones(len(x_orig)))
    m1, v1 = _wmean_var(x_aug, np.ones(len(x_aug)))
    mw, vw = _wmean_var(x_aug, w_aug)

    def smd(m, v):
        s = np.sqrt((v0 + v) / 2)
        return np.where(s > 0, (m - m0) / np.where(s > 0, s, 1), 0.0)

    return pd.DataFrame({"covariate": names, "mean_original": m0, "mean_augmented": m1,
                         "smd_augmented": smd(m1, v1), "smd_weighted": smd(mw, vw)})


def mmd(x: np.ndarray, p: np.ndarray, q: np.ndarray, *, scale: np.ndarray, rng: np.random.Generator,
        max_rows: int = 2000, bandwidth: float | None = None) -> tuple[float, float]:
    """MMD between measures ``p`` and ``q`` (masses on the rows of ``x``); returns (mmd, bandwidth).

    Above ``max_rows`` rows, a uniform random subset of rows is used (every row has the same
    inclusion rate, so renormalizing the masses on the subset keeps both measures unbiased).
    """
    n = len(x)
    keep = np.arange(n)
    if n > max_rows:
        keep = np.sort(rng.choice(n, max_rows, replace=False))
    z = x[keep] / np.where(scale > 0, scale, 1.0)
    p, q = p[keep], q[keep]
    p, q = p / p.sum(), q / q.sum()
    sq = np.sum(z ** 2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * z @ z.T, 0.0)
    if bandwidth is None:
        off = d2[np.triu_indices(len(z), 1)]
        bandwidth = float(np.sqrt(np.median(off[off > 0]) / 2)) if np.any(off > 0) else 1.0
    k = np.exp(-d2 / (2 * bandwidth ** 2))
    d = p - q
    return float(np.sqrt(max(float(d @ k @ d), 0.0))), bandwidth
