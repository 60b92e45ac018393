r"""World fidelity: is each world as hard for the estimators as the real data?

A world that is easier than the real data flatters whatever wins there. What decides how
the candidates compare is measured the same way on the real data and on each world
(:func:`fidelity_table`), one row per source:

* **overlap**: the cross-fitted propensity :math:`\hat e` (for a world: the same cross-fit on a
  sample of the real data's size, so that both carry the same estimation noise; its true
  propensity's AUC is ``auc_true``): quantiles of :math:`\hat e`, the share outside [0.02, 0.98] and
  [0.05, 0.95], the AUC of :math:`\hat e` for the treatment, and the effective sample size
  of the inverse-probability weights per arm as a share of the arm,
  :math:`\mathrm{ESS}_1 = (\sum_{A=1} 1/\hat e)^2 / \sum_{A=1} \hat e^{-2} / n_1` (and with
  :math:`1-\hat e` for the controls);
* **noise**: the residual variance per arm *without* the model's own fitting error. On the
  real data it is estimated from out-of-fold residuals :math:`r_i` of the better of a
  main-terms GLM and gradient boosting (by out-of-fold error): out-of-fold residuals carry
  the fold models' prediction error, so the estimate is the smaller of their variance and
  the difference-based estimate :math:`\frac{1}{2n_a}\sum_i (r_i - r_{\nu(i)})^2` with
  :math:`\nu(i)` the nearest neighbour of :math:`i` in the same arm (standardized main
  terms), which removes the part of the fitting error that is smooth in the covariates, and
  the learning-curve estimate :math:`2 v(m) - v(m/2)` from the out-of-fold error at the full
  and at half the training size (:func:`learning_curve_noise`), which removes the fitting
  error that shrinks with more data (the part out-of-fold residuals carry with many
  covariates, where nearest neighbours are far apart); the estimate is the smallest of the three.
  For a world the noise is known: the variance of :math:`Y - \mu_A(W)` on its sample;
* **effect spread**: the variance of the CATE; on the real data an *estimate*, the variance
  of the cross-fitted T-learner contrast :math:`\hat\mu_1 - \hat\mu_0` minus the estimated
  prediction error of both arms (out-of-fold residual variance minus the noise estimate,
  floored at 0), as errors of the two arms' fits add to the contrast's spread;
* **confounding**: naive difference in means minus the adjusted effect (the cross-fitted
  AIPW estimate on the real data, the true sample ATE in a world), also divided by the
  outcome's SD.

:func:`check_fidelity` warns (:class:`WorldFidelityWarning`) when a world is materially
easier or noisier than the data, with the tolerances of :data:`TOLERANCES`.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._random import RandomState, as_seed_sequence
from .._resample import make_folds
from ..data import CausalData
from ..errors import CausalSynthWarning
from ..learners import resolve_learner
from ..nuisance import cross_fit_outcome, cross_fit_propensity

__all__ = ["WorldFidelityWarning", "TOLERANCES", "data_difficulty", "crossfit_propensity", "sample_difficulty", "world_difficulty",
           "fidelity_table", "check_fidelity", "expected_auc", "QUANTILES", "learning_curve_noise", "NOISE_FLOOR"]

#: Quantiles of the propensity reported.
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)

#: When a world is *materially* easier or noisier than the real data:
#: ``auc``: world AUC below the real one by more than this; ``tail``: world share outside
#: [0.05, 0.95] below this fraction of the real share (when the real share is at least
#: ``tail_floor``); ``ess``: world ESS share of an arm above the real one times this (when
#: the real one is below 0.8; the ESS of 1,000 rows hangs on a few extreme weights, hence the wide
#: tolerance); ``confounding``: world |standardized confounding| below this
#: fraction of the real one (when the real one is at least ``confounding_floor`` and twice its
#: standard error: an estimate indistinguishable from 0 says nothing); ``noise``:
#: world noise variance of an arm above the real estimate times this.
TOLERANCES = {"auc": 0.05, "tail": 0.5, "tail_floor": 0.02, "ess": 2.0, "confounding": 0.5,
              "confounding_floor": 0.05, "noise": 1.5}


class WorldFidelityWarning(CausalSynthWarning):
    """A world is materially easier (overlap, confounding) or noisier than the real data."""


def expected_auc(e: np.ndarray) -> float:
    r"""The AUC of the propensity :math:`e` for a treatment drawn as Bernoulli(e):
    :math:`\sum_{i \ne j} e_i (1-e_j) [e_i > e_j] / \sum_{i \ne j} e_i(1-e_j)` (ties count half)."""
    e = np.sort(np.asarray(e, dtype=float))
    c = 1.0 - e
    below = np.concatenate([[0.0], np.cumsum(c)[:-1]])  # sum of (1 - e_j) over j below i
    # ties: split evenly (rare with continuous propensities)
    num = float(np.sum(e * below))
    den = float(np.sum(e) * np.sum(c) - np.sum(e * c))
    return num / den if den > 0 else float("nan")


def _overlap(e: np.ndarray, a: np.ndarray | None) -> dict:
    e = np.clip(np.asarray(e, dtype=float), 1e-6, 1 - 1e-6)
    out = {f"e_q{int(round(100 * q)):02d}": float(np.quantile(e, q)) for q in QUANTILES}
    out["share_out_02"] = float(np.mean((e < 0.02) | (e > 0.98)))
    out["share_out_05"] = float(np.mean((e < 0.05) | (e > 0.95)))
    if a is None:  # the truth: expected AUC and ESS under Bernoulli(e) assignment
        out["auc"] = expected_auc(e)
        # expected weight sums over A: sum_i e_i / e_i = n and sum_i e_i / e_i^2; the arm holds sum_i e_i
        out["ess_treated"] = float(len(e) ** 2 / np.sum(1 / e) / np.sum(e)) if np.sum(e) else np.nan
        out["ess_control"] = float(len(e) ** 2 / np.sum(1 / (1 - e)) / np.sum(1 - e)) if np.sum(1 - e) else np.nan
    else:
        from sklearn.metrics import roc_auc_score
        out["auc"] = float(roc_auc_score(a, e)) if 0 < a.sum() < len(a) else np.nan
        for name, w in (("ess_treated", 1 / e[a == 1]), ("ess_control", 1 / (1 - e[a == 0]))):
            out[name] = float(np.sum(w) ** 2 / np.sum(w ** 2) / len(w)) if len(w) else np.nan
    return out


def _nn_difference(X: np.ndarray, r: np.ndarray) -> float:
    """Difference-based noise variance: half the mean squared difference to the nearest neighbour."""
    from sklearn.neighbors import NearestNeighbors
    if len(r) < 4:
        return float("nan")
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    idx = NearestNeighbors(n_neighbors=2).fit(Z).kneighbors(Z, return_distance=False)[:, 1]
    return float(np.mean((r - r[idx]) ** 2) / 2)


#: Floor of the learning-curve noise estimate, as a share of the out-of-fold residual variance
#: (a sampling accident can push ``2 v_oof - v_half`` to 0 or below).
NOISE_FLOOR = 0.1


def _half_training_mse(learner, data: CausalData, folds: np.ndarray, seed, arm: int) -> float:
    """Out-of-fold mean squared error of ``learner`` on arm ``arm`` when each fold's model
    learns from a random half of its training rows (the same test rows as the full cross-fit)."""
    a, y = data.a, data.y
    n_folds = int(folds.max()) + 1
    if getattr(learner, "pooled", False):
        return float("nan")
    err = np.full(len(y), np.nan)
    for k, child in enumerate(seed.spawn(n_folds)):
        s_rows, s_fit = child.spawn(2)
        train = np.flatnonzero((folds != k) & (a == arm))
        test = np.flatnonzero((folds == k) & (a == arm))
        if len(train) < 10 or not len(test):
            return float("nan")
        half = np.sort(np.random.default_rng(s_rows).permutation(train)[: len(train) // 2])
        model = learner.fit(data, half, y[half], s_fit)
        err[test] = y[test] - model.predict(data, test)
    return float(np.nanmean(err ** 2))


def learning_curve_noise(v_full: float, v_half: float) -> float:
    r"""Noise variance from the out-of-fold error at two training sizes: with a prediction
    error :math:`c\,m^{-lpha}` at training size :math:`m`,
    :math:`2 v(m) - v(m/2) = \sigma^2 + c\,m^{-lpha}(2 - 2^{lpha})`, which removes the whole
    fitting error at the parametric rate :math:`lpha = 1` and part of it at any slower rate
    (so it stays an upper estimate for :math:`lpha \le 1`, as out-of-fold residuals are, only
    less biased). Floored at :data:`NOISE_FLOOR` times ``v_full``; never above ``v_full``."""
    if not (np.isfinite(v_full) and np.isfinite(v_half)):
        return v_full
    return float(min(v_full, max(2.0 * v_full - v_half, NOISE_FLOOR * v_full)))


def crossfit_propensity(data: CausalData, folds: np.ndarray, seed) -> np.ndarray:
    """The out-of-fold propensity of the better (by out-of-fold log loss) of a main-terms
    logistic model and gradient boosting: what the candidates' own propensity fits see."""
    a = data.a
    best_e, best_loss = None, np.inf
    n_folds = int(folds.max()) + 1
    for spec in ("logistic", "gbm"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e, _ = cross_fit_propensity(resolve_learner(spec, role="propensity", data=data), data, folds,
                                        seed.spawn(n_folds))
        ec = np.clip(e, 1e-4, 1 - 1e-4)
        loss = -float(np.mean(a * np.log(ec) + (1 - a) * np.log(1 - ec)))
        if loss < best_loss:
            best_e, best_loss = e, loss
    return best_e


def data_difficulty(data: CausalData, *, n_folds: int = 5, random_state: RandomState = None) -> dict:
    """The difficulty quantities of real data (estimates; see the module notes), with the
    cross-fitted propensity itself under ``"_e"`` (for calibrating the worlds)."""
    s_fold, s_prop, s_out, s_curve = as_seed_sequence(random_state).spawn(4)
    a, y = data.a, data.y
    folds = make_folds(a, n_folds, s_fold)
    best_e = crossfit_propensity(data, folds, s_prop)
    out = _overlap(best_e, a)
    continuous = data.outcome_type != "binary"
    best, best_mse, best_learner = None, np.inf, None
    for spec in (None, "gbm"):
        learner = resolve_learner(spec, role="outcome", data=data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits = cross_fit_outcome(learner, data, folds, s_out.spawn(n_folds))
        mse = float(np.mean((y - np.where(a == 1, fits.mu1, fits.mu0)) ** 2))
        if mse < best_mse:
            best, best_mse, best_learner = fits, mse, learner
    X, _ = data.design_matrix()
    pred_error = 0.0
    for (arm, name), s_arm in zip(((0, "noise_var_control"), (1, "noise_var_treated")), s_curve.spawn(2)):
        rows = a == arm
        r = y[rows] - (best.mu1 if arm else best.mu0)[rows]
        v_oof = float(np.var(r, ddof=1))
        label = "treated" if arm else "control"
        v = float("nan")
        if continuous:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v_half = _half_training_mse(best_learner, data, folds, s_arm, arm)
            out[f"curve_var_{label}"] = learning_curve_noise(v_oof, v_half)
            out[f"nn_var_{label}"] = _nn_difference(X[rows], r)
            v = min(v_oof, out[f"nn_var_{label}"], out[f"curve_var_{label}"])
        out[name] = v
        out[f"oof_var_{label}"] = v_oof
        pred_error += max(v_oof - v, 0.0) if continuous else 0.0
    tau = best.mu1 - best.mu0
    out["cate_var"] = max(float(np.var(tau, ddof=1)) - pred_error, 0.0)
    ec = np.clip(best_e, 0.01, 0.99)
    phi = tau + a * (y - best.mu1) / ec - (1 - a) * (y - best.mu0) / (1 - ec)
    aipw = float(np.mean(phi))
    naive = float(y[a == 1].mean() - y[a == 0].mean())
    out["confounding"] = naive - aipw
    # its standard error: the influence function of naive minus AIPW
    p1 = float(a.mean())
    phi_naive = a * (y - y[a == 1].mean()) / p1 - (1 - a) * (y - y[a == 0].mean()) / (1 - p1)
    out["confounding_se"] = float(np.std(phi_naive - (phi - aipw), ddof=1) / np.sqrt(len(y)))
    out["confounding_std"] = out["confounding"] / float(np.std(y, ddof=1))
    out["_e"] = best_e
    return out


def sample_difficulty(sample, *, n_like: int | None = None, random_state: RandomState = 0) -> dict:
    """The difficulty quantities of a synthetic sample with its truth (the known values).

    With ``n_like``, the overlap quantities are those of the cross-fitted propensity on the
    sample's first ``n_like`` rows (the same procedure as :func:`data_difficulty` at the real
    data's size: estimation noise widens the tails of an estimated propensity, and the
    candidates see the estimated one), and ``auc_true`` is the AUC of the true propensity.
    """
    data, truth = sample.data, sample.truth
    a, y = data.a, data.y
    e = truth["propensity"].to_numpy(dtype=float)
    known_e = bool(np.all(np.isfinite(e)))
    if n_like is not None or not known_e:
        m = min(int(n_like or len(a)), len(a))
        part = data.subset(np.arange(m))
        s_fold, s_prop = as_seed_sequence(random_state).spawn(2)
        out = _overlap(crossfit_propensity(part, make_folds(part.a, 5, s_fold), s_prop), part.a)
    else:
        out = _overlap(e, None)
    out["auc_true"] = expected_auc(e) if known_e else float("nan")
    mu = np.where(a == 1, truth["mu1"].to_numpy(dtype=float), truth["mu0"].to_numpy(dtype=float))
    known = np.all(np.isfinite(mu)) and data.outcome_type != "binary"
    for arm, name in ((0, "noise_var_control"), (1, "noise_var_treated")):
        out[name] = float(np.var((y - mu)[a == arm], ddof=1)) if known else float("nan")
    out["cate_var"] = float(np.var(truth["cate"].to_numpy(dtype=float), ddof=1))
    naive = float(y[a == 1].mean() - y[a == 0].mean())
    out["confounding"] = naive - float(truth["cate"].mean())
    out["confounding_std"] = out["confounding"] / float(np.std(y, ddof=1))
    return out


def world_difficulty(dgp, *, n: int = 10_000, n_like: int | None = None, random_state: RandomState = 0) -> dict:
    """The difficulty quantities of a world, from one large sample of it with its truth
    (overlap from the cross-fitted propensity on ``n_like`` of its rows when given)."""
    return sample_difficulty(dgp.sample(n, random_state=random_state), n_like=n_like, random_state=random_state)


_COLUMNS = ("auc", "auc_true", "share_out_02", "share_out_05", "e_q01", "e_q05", "e_q50", "e_q95", "e_q99", "ess_treated",
            "ess_control", "noise_var_control", "noise_var_treated", "cate_var", "confounding", "confounding_se", "confounding_std")


def fidelity_table(data: CausalData, worlds: Mapping, *, real: dict | None = None, n: int = 10_000,
                   crossfit: bool = True, random_state: RandomState = 0) -> pd.DataFrame:
    """One row for the real data (estimates) and one per world (known values); ``worlds`` maps
    names to :class:`~causalsynth.simulate.worlds.World` objects or samplers. With
    ``crossfit`` (default) a world's overlap quantities come from the cross-fitted propensity
    on a sample of the real data's size, as the real ones do (``auc_true``: its true AUC)."""
    real = data_difficulty(data, random_state=random_state) if real is None else real
    rows = [{"source": "real data (estimate)", **{k: real.get(k, np.nan) for k in _COLUMNS}}]
    for name, world in worlds.items():
        dgp = getattr(world, "dgp", world)
        d = world_difficulty(dgp, n=max(n, data.n_obs), n_like=data.n_obs if crossfit else None,
                             random_state=random_state)
        rows.append({"source": str(name), **{k: d.get(k, np.nan) for k in _COLUMNS}})
    return pd.DataFrame(rows)


def check_fidelity(table: pd.DataFrame, *, warn: bool = True, tolerances: Mapping | None = None) -> list[dict]:
    """The material differences of each world from the real data (see :data:`TOLERANCES`):
    a list of {world, quantity, kind ("easier" or "noisier"), message}, each also warned as a
    :class:`WorldFidelityWarning` when ``warn``."""
    tol = {**TOLERANCES, **(tolerances or {})}
    real = table.iloc[0]
    issues = []

    def add(world, quantity, kind, text):
        issues.append({"world": world, "quantity": quantity, "kind": kind, "message": f"world {world!r}: {text}"})

    for _, w in table.iloc[1:].iterrows():
        name = w["source"]
        if np.isfinite(w["auc"]) and w["auc"] < real["auc"] - tol["auc"]:
            add(name, "auc", "easier", f"propensity AUC {w['auc']:.2f} against {real['auc']:.2f} in the real data "
                f"(tolerance {tol['auc']}): overlap is better than in the data")
        if real["share_out_05"] >= tol["tail_floor"] and w["share_out_05"] < tol["tail"] * real["share_out_05"]:
            add(name, "share_out_05", "easier", f"{w['share_out_05']:.1%} of propensities outside [0.05, 0.95] "
                f"against {real['share_out_05']:.1%} in the real data (tolerance: at least {tol['tail']:g} of it)")
        for arm in ("treated", "control"):
            r, v = real[f"ess_{arm}"], w[f"ess_{arm}"]
            if np.isfinite(v) and r < 0.8 and v > tol["ess"] * r:
                add(name, f"ess_{arm}", "easier", f"effective sample size of the {arm} {v:.0%} of the arm against "
                    f"{r:.0%} in the real data (tolerance x{tol['ess']:g})")
        rc, wc = abs(real["confounding_std"]), abs(w["confounding_std"])
        se = real.get("confounding_se", 0.0)
        significant = not (np.isfinite(se) and abs(real["confounding"]) < 2 * se)
        if significant and rc >= tol["confounding_floor"] and wc < tol["confounding"] * rc:
            add(name, "confounding", "easier", f"confounding (naive minus adjusted, in outcome SDs) {wc:.3f} "
                f"against {rc:.3f} in the real data (tolerance: at least {tol['confounding']:g} of it)")
        for arm in ("control", "treated"):
            r, v = real[f"noise_var_{arm}"], w[f"noise_var_{arm}"]
            if np.isfinite(v) and np.isfinite(r) and r > 0 and v > tol["noise"] * r:
                add(name, f"noise_var_{arm}", "noisier", f"noise variance of the {arm} {v:.4g} against an estimated "
                    f"{r:.4g} in the real data (tolerance x{tol['noise']:g})")
    if warn:
        for i in issues:
            warnings.warn(i["message"] + "; its ranking of the candidates may flatter some of them.",
                          WorldFidelityWarning, stacklevel=2)
    return issues
