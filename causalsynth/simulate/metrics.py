r"""Performance measures of a simulation cell with their Monte Carlo standard errors.

For a cell (scenario, n, learner configuration, estimator) with R successful replicates
:math:`\hat\theta_r` and truth :math:`\theta_r` (the population value, or each replicate's
sample value), following Morris, White & Crowther (2019), *Using simulation studies to
evaluate statistical methods*, Statistics in Medicine 38:2074-2102, Table 6:

* bias :math:`= \bar e`, with :math:`e_r = \hat\theta_r - \theta_r`; MC SE :math:`s_e/\sqrt R`
* variance :math:`= s^2_{\hat\theta}`; MC SE :math:`s^2\sqrt{2/(R-1)}`
* RMSE :math:`= \sqrt{\overline{e^2}}`; MC SE by the delta method from the SE of
  :math:`\overline{e^2}`: :math:`\mathrm{sd}(e^2)/(2\,\mathrm{RMSE}\sqrt R)`
* coverage :math:`= \overline{1[\ell_r \le \theta_r \le u_r]}`; MC SE :math:`\sqrt{p(1-p)/R}`
* CI width mean and its MC SE; mean reported SE against the empirical SD (``se_ratio``)
* failure rate and mean run time per replicate, with MC SEs.
"""
from __future__ import annotations

import numpy as np

__all__ = ["cell_metrics", "wilson_interval"]


def wilson_interval(p, n, z: float = 1.96):
    """Wilson score interval of a proportion ``p`` observed in ``n`` trials (arrays allowed).

    Stays inside [0, 1] and does not collapse at 0% or 100% (Wilson 1927, JASA 22:209).
    """
    p = np.asarray(p, dtype=float)
    n = np.maximum(np.asarray(n, dtype=float), 1)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def cell_metrics(est: np.ndarray, truth: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None,
                 se: np.ndarray | None) -> dict[str, float]:
    """Performance measures and their Monte Carlo SEs for one cell's successful replicates."""
    R = len(est)
    out = {k: np.nan for k in ("bias", "bias_mcse", "variance", "variance_mcse", "rmse", "rmse_mcse",
                               "coverage", "coverage_mcse", "ci_width", "ci_width_mcse", "mean_se", "se_ratio")}
    if R < 2:
        return out
    e = est - truth
    out["bias"] = float(e.mean())
    out["bias_mcse"] = float(e.std(ddof=1) / np.sqrt(R))
    var = float(est.var(ddof=1))
    out["variance"] = var
    out["variance_mcse"] = var * np.sqrt(2.0 / (R - 1))
    mse = float(np.mean(e ** 2))
    out["rmse"] = np.sqrt(mse)
    out["rmse_mcse"] = float(np.std(e ** 2, ddof=1) / np.sqrt(R) / (2 * np.sqrt(mse))) if mse > 0 else 0.0
    if lower is not None and upper is not None:
        cover = (lower <= truth) & (truth <= upper)
        p = float(cover.mean())
        out["coverage"] = p
        out["coverage_mcse"] = float(np.sqrt(max(p * (1 - p), 1e-12) / R))
        width = upper - lower
        out["ci_width"] = float(width.mean())
        out["ci_width_mcse"] = float(width.std(ddof=1) / np.sqrt(R))
    if se is not None:
        out["mean_se"] = float(np.mean(se))
        out["se_ratio"] = float(np.mean(se) / np.sqrt(var)) if var > 0 else np.nan
    return out
