r"""Covariate-shift metrics of augmented data against the original.

Standardized mean differences per design column,
:math:`(\bar x_{aug} - \bar x_{orig}) / \sqrt{(s^2_{orig} + s^2_{aug})/2}`, and the maximum
mean discrepancy with a Gaussian kernel on standardized columns, bandwidth by the median
heuristic (Gretton et al. 2012, JMLR 13), :math:`\mathrm{MMD} = \sqrt{d^\top K d}` with
:math:`d` the difference of the two empirical measures on the union of rows.

(The weighted OR/IPW/AIPW/TMLE that augmented data need live beside the unweighted ones in
:mod:`causalsynth.estimators.core`: ``weights=`` of every estimator there.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["smd_table", "mmd"]


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
