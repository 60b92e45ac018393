"""Building blocks of positivity augmentation: fold models, ensemble, selection, records, shift.

Helpers of :mod:`causalsynth.positivity.augment`; inputs are validated there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._resample import bootstrap_within_arms
from ..data import main_terms
from ..errors import EstimationError
from ..nuisance import cross_fit_outcome
from .shift import mmd, smd_table

__all__ = ["fit_fold_models", "ensemble_spread", "ext_ensemble", "select_sources", "local_covariates",
           "hybrid_covariates", "record_outcomes", "shift_metrics"]


class _ArmModels:
    """Fitted outcome model(s): ``{arm: model}`` or ``{None: pooled model}``."""

    def __init__(self, data, models: dict) -> None:
        self.data, self.models = data, models

    @classmethod
    def wrap(cls, data, fitted: dict) -> _ArmModels:
        """From the per-fold models of :func:`causalsynth.nuisance.cross_fit_outcome`."""
        return cls(data, {None: fitted["pooled"]} if "pooled" in fitted else dict(fitted))

    @classmethod
    def fit(cls, learner, data, rows: np.ndarray, seed, arm: int | None = None) -> _ArmModels:
        """Fit on ``rows``: both arms (``arm=None``) or one arm; a pooled learner fits once."""
        y = data.y
        if learner.pooled:
            return cls(data, {None: learner.fit(data, rows, y[rows], seed)})
        arms = (0, 1) if arm is None else (arm,)
        seeds = seed.spawn(2)
        fitted = {}
        for b in arms:
            r = rows[data.a[rows] == b]
            fitted[b] = learner.fit(data, r, y[r], seeds[b])
        return cls(data, fitted)

    def predict(self, frame: pd.DataFrame, arm: int) -> np.ndarray:
        pooled = None in self.models
        model = self.models[None] if pooled else self.models[arm]
        out = model.predict_frame(frame, self.data, arm if pooled else None)
        return np.clip(out, 0.0, 1.0) if self.data.outcome_type == "binary" else out


def _allocate(scores: np.ndarray, extra: int) -> np.ndarray:
    """Largest-remainder allocation of ``extra`` records proportional to ``scores``."""
    if extra <= 0 or len(scores) == 0:
        return np.zeros(len(scores), dtype=np.int64)
    s = scores if np.sum(scores) > 0 else np.ones(len(scores))
    quota = extra * s / np.sum(s)
    base = np.floor(quota).astype(np.int64)
    rest = extra - int(base.sum())
    base[np.argsort(-(quota - base), kind="stable")[:rest]] += 1
    return base


def local_covariates(W: pd.DataFrame, kinds: dict, src: np.ndarray, bandwidth: float, rng) -> pd.DataFrame:
    out = W.iloc[src].reset_index(drop=True).copy()
    for col, kind in kinds.items():
        if kind not in ("continuous", "integer"):
            continue  # binary and categorical covariates keep the source's value
        x = W[col].to_numpy(dtype=float)
        v = out[col].to_numpy(dtype=float) + bandwidth * np.std(x) * rng.standard_normal(len(out))
        v = np.clip(v, x.min(), x.max())
        out[col] = np.round(v).astype(W[col].dtype) if kind == "integer" else v
    return out


def hybrid_covariates(data, src: np.ndarray, seed, chunk: int = 256) -> pd.DataFrame:
    """Nearest unused rows of a Gaussian-copula sample (standardized design distance)."""
    from ..synth.covariates import make_covariate_generator
    W = data.covariate_frame
    s_fit, s_draw = seed.spawn(2)
    gen = make_covariate_generator("copula").fit(W, random_state=s_fit)
    pool = gen.sample(int(min(max(20 * len(src), 2000), 50_000)), random_state=s_draw)
    X, _ = data.design_matrix()
    scale = np.where(X.std(0) > 0, X.std(0), 1.0)
    P = main_terms(pool, data.covariates, data.covariate_kinds)[0] / scale
    Q = X[src] / scale
    used = np.zeros(len(P), dtype=bool)
    pick = np.empty(len(src), dtype=np.int64)
    for start in range(0, len(src), chunk):
        q = Q[start:start + chunk]
        d2 = np.sum(q ** 2, 1)[:, None] + np.sum(P ** 2, 1)[None, :] - 2 * q @ P.T
        for r in range(len(q)):
            d2[r, used] = np.inf
            j = int(np.argmin(d2[r]))
            pick[start + r], used[j] = j, True
            d2[:, j] = np.inf
    return pool.iloc[pick].reset_index(drop=True)


def fit_fold_models(learner, data, folds: np.ndarray, seed):
    """Main outcome models per fold, their residual SD per arm, training rows and
    out-of-fold predictions ``mu0``, ``mu1`` for every original row."""
    a, y = data.a, data.y
    W = data.covariate_frame
    fits = cross_fit_outcome(learner, data, folds, seed.spawn(int(folds.max()) + 1))
    models, sigma, training_rows = {}, {}, {}
    for k, (fitted, train) in enumerate(zip(fits.models, fits.training_rows)):
        training_rows[k] = train
        models[k] = _ArmModels.wrap(data, fitted)
        for arm in (0, 1):
            r = train[a[train] == arm]
            sigma[k, arm] = float(np.std(y[r] - models[k].predict(W.iloc[r], arm), ddof=1))
    if data.outcome_type == "binary":
        return models, sigma, training_rows, np.clip(fits.mu0, 0.0, 1.0), np.clip(fits.mu1, 0.0, 1.0)
    return models, sigma, training_rows, fits.mu0, fits.mu1


def ensemble_spread(learner, data, folds, training_rows, extreme, rare, n_models: int, seed):
    """Bootstrap refits of the missing arm's model on each fold's training rows, and their
    standard deviation at every low-overlap unit (members keyed by (fold, arm))."""
    a = data.a
    W = data.covariate_frame
    members: dict = {}
    spread = np.full(len(extreme), np.nan)
    for k, fold_seed in enumerate(seed.spawn(len(training_rows))):
        here = np.flatnonzero(folds[extreme] == k)
        arm_seeds = fold_seed.spawn(2)
        for arm in (int(x) for x in np.unique(rare[here])):
            idx = here[rare[here] == arm]
            fitted, preds = [], []
            for sb in arm_seeds[arm].spawn(n_models):
                rows = bootstrap_within_arms(a, np.random.default_rng(sb), rows=training_rows[k],
                                             order=(0, 1) if learner.pooled else (arm,))
                try:
                    m = _ArmModels.fit(learner, data, rows, sb, arm)
                except EstimationError:  # a resample without both classes: skip that member
                    continue
                fitted.append(m)
                preds.append(m.predict(W.iloc[extreme[idx]], arm))
            members[k, arm] = fitted
            spread[idx] = np.std(np.array(preds), axis=0, ddof=1) if len(preds) > 1 else 0.0
    return members, spread


def ext_ensemble(ext: dict, data, extreme, rare, folds, n_models: int, seed):
    """Bootstrap refits of the external data's outcome model of each missing arm, and their
    standard deviation at every low-overlap unit (the same members serve every fold)."""
    e_data, learner = ext["data"], ext["learner"]
    W = data.covariate_frame
    rows = np.arange(e_data.n_obs)
    members: dict = {}
    spread = np.full(len(extreme), np.nan)
    for arm, arm_seed in zip((0, 1), seed.spawn(2)):
        idx = np.flatnonzero(rare == arm)
        if not len(idx):
            continue
        fitted, preds = [], []
        for sb in arm_seed.spawn(n_models):
            boot = bootstrap_within_arms(e_data.a, np.random.default_rng(sb), rows=rows,
                                         order=(0, 1) if learner.pooled else (arm,))
            try:
                m = _ArmModels.fit(learner, e_data, boot, sb, arm)
            except EstimationError:
                continue
            fitted.append(m)
            preds.append(m.predict(W.iloc[extreme[idx]], arm))
        for k in range(int(folds.max()) + 1):
            members[k, arm] = fitted
        spread[idx] = np.std(np.array(preds), axis=0, ddof=1) if len(preds) > 1 else 0.0
    return members, spread


def select_sources(score: np.ndarray, eligible: np.ndarray, budget: int | None):
    """Which low-overlap units are completed and how many records each gets.

    Units are ranked by score; the selection runs down the ranking until it holds
    ``min(budget, n_eligible)`` eligible units (sources); rare-arm units ranked above that
    point are selected too (their pseudo-propensity is clipped). With budget for all
    eligible units every low-overlap unit is selected. Extra budget goes to sources in
    proportion to their score.
    """
    n_eligible = int(eligible.sum())
    budget_used = n_eligible if budget is None else budget
    n_sources = min(budget_used, n_eligible)
    order = np.argsort(-score, kind="stable")
    selected = np.zeros(len(score), dtype=bool)
    if n_sources == n_eligible:
        selected[:] = n_sources > 0
    elif n_sources:
        selected[order[:int(np.searchsorted(np.cumsum(eligible[order]), n_sources)) + 1]] = True
    src_pos = np.flatnonzero(selected & eligible)
    src_pos = src_pos[np.argsort(-score[src_pos], kind="stable")]
    counts = 1 + _allocate(score[src_pos], budget_used - n_sources) if n_sources else np.zeros(0, np.int64)
    return selected, src_pos, counts, budget_used


def record_outcomes(data, Wt, models, members, sigma, rec_fold, rec_arm, counts, noise: bool, rng):
    """Outcomes of the records from their source fold's models: ensemble members in turn
    (from a random offset per source) or the main model; plus main-model predictions."""
    m = len(rec_fold)
    member = np.full(m, -1)
    pred, mu0, mu1 = np.empty(m), np.empty(m), np.empty(m)
    n_members = max([len(v) for v in members.values()], default=1)
    offsets = np.repeat(rng.integers(0, n_members, size=len(counts)), counts)
    within = np.concatenate([np.arange(k) for k in counts]) if m else np.zeros(0, np.int64)
    for k, arm in {(int(f), int(r)) for f, r in zip(rec_fold, rec_arm)}:
        idx = np.flatnonzero((rec_fold == k) & (rec_arm == arm))
        frame = Wt.iloc[idx]
        mu0[idx], mu1[idx] = models[k].predict(frame, 0), models[k].predict(frame, 1)
        ens = members.get((k, arm), [])
        if ens:
            member[idx] = (offsets[idx] + within[idx]) % len(ens)
            for b in np.unique(member[idx]):
                j = idx[member[idx] == b]
                pred[j] = ens[b].predict(Wt.iloc[j], arm)
        else:
            pred[idx] = mu0[idx] if arm == 0 else mu1[idx]
    if data.outcome_type == "binary":
        return (rng.random(m) < pred).astype(float), pred, member, mu0, mu1
    sd = np.array([sigma[k, arm] for k, arm in zip(rec_fold, rec_arm)]) if m else np.zeros(0)
    return pred + (sd * rng.standard_normal(m) if noise else 0.0), pred, member, mu0, mu1


def shift_metrics(data, Wt: pd.DataFrame, weights: np.ndarray, seed):
    """SMD table and MMDs (unweighted, weighted, and two random halves of the original)."""
    X, names = data.design_matrix()
    n, m = len(X), len(Wt)
    Xt = main_terms(Wt, data.covariates, data.covariate_kinds)[0] if m else X[:0]
    Xa = np.vstack([X, Xt])
    scale = X.std(0)
    p_orig = np.r_[np.ones(n), np.zeros(m)]
    rng = np.random.default_rng(seed)
    unweighted, bw = mmd(Xa, p_orig, np.ones(n + m), scale=scale, rng=rng)
    weighted, _ = mmd(Xa, p_orig, weights, scale=scale, rng=rng, bandwidth=bw)
    half = rng.permutation(n) < n // 2
    reference, _ = mmd(X, half.astype(float), (~half).astype(float), scale=scale, rng=rng, bandwidth=bw)
    return smd_table(X, Xa, names, weights), {"unweighted": unweighted, "weighted": weighted,
                                              "reference": reference}
