r"""The work of an audit: the real reference once, then one synthetic draw at a time.

Estimates on every dataset share one nuisance fit (:func:`~causalsynth.nuisance.fit_nuisance`)
between the ATE estimators and the subgroup effects. A subgroup effect is the mean of the
AIPW pseudo-outcome

.. math:: \hat\psi_i = \hat\mu_1(W_i) - \hat\mu_0(W_i) + \frac{A_i(Y_i - \hat\mu_1(W_i))}{\hat e(W_i)}
          - \frac{(1-A_i)(Y_i - \hat\mu_0(W_i))}{1-\hat e(W_i)}

over the group's rows, with standard error :math:`\mathrm{sd}(\hat\psi)/\sqrt{n_g}` (the
doubly robust group-average effect of Semenova & Chernozhukov 2021, Econometrics Journal
24:264-289), so no model is refitted inside a group.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_bounds, check_int, check_level, check_range
from .._resample import split_holdout
from ..data import MIN_ROWS_PER_ARM, CausalData
from ..errors import DataError, PositivityWarning, SpecError
from ..estimators import (
    DEFAULT_ESTIMATORS,
    estimate_from_nuisance,
    positivity_message,
    select_estimators,
)
from ..estimators.core import aipw_pseudo_outcomes
from ..fidelity import (
    DETECTION_CLASSIFIERS,
    check_learners,
    column_distances,
    correlation_difference,
    detection,
    ks_statistic,
    utility_scores,
)
from ..nuisance import fit_nuisance
from ..privacy import MixedEncoder, dcr
from .subgroups import resolve_subgroups

__all__ = ["AuditConfig", "Reference", "make_reference", "run_repeat", "OVERLAP_BOUNDS", "RUN_METRICS"]

#: Propensity range counted as overlap (Crump, Hotz, Imbens & Mitnik 2009, Biometrika 96:187).
OVERLAP_BOUNDS = (0.1, 0.9)
#: The scalar metrics :func:`run_repeat` reports for one draw (columns of ``AuditResult.runs``).
RUN_METRICS = (
    "n_synthetic", "treated_share", "sate", "utility", "utility_trtr", "detection_auc", "chi2",
    "detection_auc_full", "chi2_full", "corr_diff", "mean_column_distance", "max_column_distance",
    "exact_copy_share", "closer_to_train_share", "membership_auc", "dcr_median",
    "dcr_holdout_median", "propensity_ks", "overlap", "learner_rank_corr", "estimator_rank_corr",
    "worst_subgroup_z", "ate_error")


@dataclass(frozen=True, kw_only=True)
class AuditConfig:
    """Validated settings of one audit (see :func:`causalsynth.audit.audit`).

    estimators : ATE estimators (:data:`causalsynth.ESTIMATORS`); the primary one, used by
        :meth:`AuditResult.summary` and the plots, is ``"aipw"`` when present.
    propensity, outcome, n_folds : nuisance learners (as in :func:`causalsynth.estimate`) used
        for every estimate, real and synthetic, and by the named hybrid synthesizers.
    n_synthetic : rows per synthetic draw (default: as many as the real training rows).
    n_reps : fits and draws per synthesizer (default 5), giving every figure a spread.
    holdout : share of real rows (within each arm) kept apart for TSTR and the DCR baseline.
    utility_learners : outcome learners for TSTR/TRTR utility (:data:`causalsynth.fidelity.
        UTILITY_LEARNERS`); the first is the one :meth:`AuditResult.summary` reports.
    detection_classifier, detection_folds : real-versus-synthetic classifier and its folds.
    epochs : training epochs of CTGAN and TVAE (default 300); ``generator_options`` adds
        other keyword arguments of those generators (e.g. ``{"batch_size": 100}``).
    level : confidence level of every interval.
    propensity_bounds : propensities are clipped to this range inside the estimators.
    """

    estimators: tuple[str, ...] = DEFAULT_ESTIMATORS
    propensity: Any = None
    outcome: Any = None
    n_folds: int | None = None
    n_synthetic: int | None = None
    n_reps: int = 5
    holdout: float = 0.2
    utility_learners: tuple[str, ...] = ("linear", "gbm", "forest", "knn")
    detection_classifier: Any = "gbm"
    detection_folds: int = 5
    epochs: int = 300
    generator_options: dict = field(default_factory=dict)
    level: float = 0.95
    propensity_bounds: tuple[float, float] = (0.01, 0.99)

    def __post_init__(self) -> None:
        object.__setattr__(self, "estimators", select_estimators(self.estimators)[0])  # the ATE: all can
        object.__setattr__(self, "utility_learners", check_learners(self.utility_learners))
        check_int("n_reps", self.n_reps, 1)
        check_int("epochs", self.epochs, 1)
        check_int("detection_folds", self.detection_folds, 2)
        if self.n_synthetic is not None:
            check_int("n_synthetic", self.n_synthetic, 20)
        check_range("holdout", self.holdout, 0.05, 0.5)
        check_level(self.level)
        object.__setattr__(self, "propensity_bounds", check_bounds(self.propensity_bounds))
        if isinstance(self.detection_classifier, str) and self.detection_classifier not in DETECTION_CLASSIFIERS:
            raise SpecError(f"detection_classifier must be one of {list(DETECTION_CLASSIFIERS)} or a "
                            f"scikit-learn classifier; got {self.detection_classifier!r}.")
        if not isinstance(self.generator_options, Mapping):
            raise SpecError(f"generator_options must be a dict; got {type(self.generator_options).__name__}.")
        object.__setattr__(self, "generator_options", dict(self.generator_options))

    @property
    def primary_estimator(self) -> str:
        return "aipw" if "aipw" in self.estimators else self.estimators[0]

    @property
    def synth_options(self) -> dict:
        return {"propensity": self.propensity, "outcome": self.outcome,
                "deep": {"epochs": self.epochs, **dict(self.generator_options)}}


# ----------------------------------------------------------------------------- estimation
@dataclass(frozen=True)
class Fitted:
    table: pd.DataFrame  # estimator, ate, std_error, ci_lower, ci_upper
    psi: np.ndarray  # AIPW pseudo-outcomes, (n,)
    propensity: np.ndarray  # unclipped estimates, (n,)


def estimate_all(data: CausalData, cfg: AuditConfig, seed: np.random.SeedSequence) -> Fitted:
    s_fit, s_dml = seed.spawn(2)
    fit = fit_nuisance(data, propensity=cfg.propensity, outcome=cfg.outcome, n_folds=cfg.n_folds,
                       random_state=s_fit)
    # own-nuisance estimators (DML) keep the stream they had when they ran through estimate()
    res = estimate_from_nuisance(data, fit, cfg.estimators, level=cfg.level, propensity_bounds=cfg.propensity_bounds,
                                 random_state=s_dml.spawn(3)[2])
    table = res.summary()[["estimator", "ate", "std_error", "ci_lower", "ci_upper"]]
    p1, p0 = aipw_pseudo_outcomes(data.a, data.y, np.clip(fit.propensity, *cfg.propensity_bounds), fit.mu0, fit.mu1)
    return Fitted(table, p1 - p0, fit.propensity)


def _group_effect(psi: np.ndarray, mask: np.ndarray) -> tuple[int, float, float]:
    n = int(mask.sum())
    if n < 2:
        return n, float("nan"), float("nan")
    return n, float(psi[mask].mean()), float(psi[mask].std(ddof=1) / np.sqrt(n))


# ----------------------------------------------------------------------------- reference
@dataclass(frozen=True)
class Reference:
    """What every repeat is compared with: the real training rows' results."""

    train: CausalData
    holdout: CausalData
    fit: Fitted
    ate_all_rows: dict
    trtr: dict
    encoder: MixedEncoder
    groups: list
    group_rows: pd.DataFrame  # subgroup, real_n, real_ate, real_std_error
    baseline: dict


def _table(data: CausalData) -> pd.DataFrame:
    return data.frame[[*data.covariates, data.treatment, data.outcome]]


def make_reference(data: CausalData, cfg: AuditConfig, subgroups: Any,
                   seed: np.random.SeedSequence) -> Reference:
    s_split, s_fit, s_all, s_util, s_det, s_det_w, s_half = seed.spawn(7)
    train_rows, hold_rows = split_holdout(data.a, float(cfg.holdout), s_split)
    for name, rows in (("real holdout", hold_rows), ("training part", train_rows)):
        n1 = int(data.a[rows].sum())
        if min(n1, len(rows) - n1) < MIN_ROWS_PER_ARM:
            raise DataError(
                f"the {name} ({cfg.holdout:.0%} of {data.n_obs} rows held out for utility and privacy "
                f"checks) has {n1} treated and {len(rows) - n1} control rows; each arm needs at least "
                f"{MIN_ROWS_PER_ARM}. Fix: change holdout (now {cfg.holdout}) or audit more data.")
    train, hold = data.subset(train_rows), data.subset(hold_rows)
    fit = estimate_all(train, cfg, s_fit)
    msg = positivity_message(fit.propensity, *cfg.propensity_bounds, False)
    if msg:
        warnings.warn(PositivityWarning("real data: " + msg.message, fix=msg.fixes), stacklevel=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ate_all = dict(zip(cfg.estimators, estimate_all(data, cfg, s_all).table["ate"]))
    features = [*train.covariates, train.treatment]
    enc = MixedEncoder().fit(train.frame[features])
    trtr = utility_scores(_table(train), _table(hold), target=train.outcome,
                          learners=cfg.utility_learners, encoder=enc, random_state=s_util)
    groups = resolve_subgroups(subgroups, train)
    cov = train.covariate_frame
    grows = [(g.name, *_group_effect(fit.psi, g.mask(cov))) for g in groups]
    # noise floor: the same metrics for two random halves of the real training rows (same law,
    # equal sizes, as a synthetic draw of the training size has)
    half = np.random.default_rng(s_half).permutation(train.n_obs)
    first, second = np.sort(half[: train.n_obs // 2]), np.sort(half[train.n_obs // 2:])
    full_t, cov_t = _table(train), train.covariate_frame
    det = detection(full_t.iloc[first], full_t.iloc[second], classifier=cfg.detection_classifier,
                    n_folds=cfg.detection_folds, random_state=s_det)
    det_w = detection(cov_t.iloc[first], cov_t.iloc[second], classifier=cfg.detection_classifier,
                      n_folds=cfg.detection_folds, random_state=s_det_w)
    cols = column_distances(full_t.iloc[first], full_t.iloc[second])
    lo, hi = OVERLAP_BOUNDS
    baseline = {"detection_auc": det_w.auc, "chi2": det_w.chi2, "detection_auc_full": det.auc,
                "chi2_full": det.chi2, "max_column_distance": float(cols["distance"].max()),
                "overlap": float(np.mean((fit.propensity >= lo) & (fit.propensity <= hi))),
                "treated_share": float(train.a.mean()),
                "utility_trtr": trtr[cfg.utility_learners[0]], "trtr": dict(trtr)}
    return Reference(train, hold, fit, ate_all, trtr, enc, groups,
                     pd.DataFrame(grows, columns=["subgroup", "real_n", "real_ate", "real_std_error"]),
                     baseline)


# ----------------------------------------------------------------------------- one repeat
def _spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman correlation over the finite pairs; NaN with fewer than 3 or a constant side."""
    from scipy.stats import spearmanr
    u, v = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(u) & np.isfinite(v)
    if ok.sum() < 3 or np.ptp(u[ok]) == 0 or np.ptp(v[ok]) == 0:
        return float("nan")
    return float(spearmanr(u[ok], v[ok])[0])


def run_repeat(syn: CausalData, truth: pd.DataFrame | None, ref: Reference, cfg: AuditConfig,
               seed: np.random.SeedSequence) -> dict[str, Any]:
    """All comparisons of one synthetic draw with the real reference."""
    s_est, s_util, s_det, s_det_w, s_dcr = seed.spawn(5)
    train = ref.train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = estimate_all(syn, cfg, s_est)
    real = ref.fit.table.set_index("estimator")
    est = fit.table.copy()
    est["real_ate"] = real.loc[est["estimator"], "ate"].to_numpy()
    est["real_std_error"] = real.loc[est["estimator"], "std_error"].to_numpy()
    est["diff"] = est["ate"] - est["real_ate"]
    est["rel_error"] = np.abs(est["diff"]) / np.abs(est["real_ate"]).replace(0.0, np.nan)
    est["z"] = est["diff"] / est["real_std_error"]
    est["ci_overlap"] = ((est["ci_lower"] <= real.loc[est["estimator"], "ci_upper"].to_numpy())
                         & (real.loc[est["estimator"], "ci_lower"].to_numpy() <= est["ci_upper"]))
    est["sign_agree"] = np.sign(est["ate"]) == np.sign(est["real_ate"])

    cov = syn.covariate_frame
    sub = []
    for g, (_, real_row) in zip(ref.groups, ref.group_rows.iterrows()):
        mask = g.mask(cov)
        n, ate, se = _group_effect(fit.psi, mask)
        tr = float(truth["cate"].to_numpy()[mask].mean()) if truth is not None and mask.any() else np.nan
        sub.append({"subgroup": g.name, "n": n, "ate": ate, "std_error": se, "truth": tr,
                    "real_n": int(real_row["real_n"]), "real_ate": real_row["real_ate"],
                    "real_std_error": real_row["real_std_error"]})
    sub = pd.DataFrame(sub, columns=["subgroup", "n", "ate", "std_error", "truth", "real_n",
                                     "real_ate", "real_std_error"])
    sub["diff"] = sub["ate"] - sub["real_ate"]
    sub["z"] = sub["diff"] / sub["real_std_error"]

    real_t, syn_t, hold_t = _table(train), _table(syn), _table(ref.holdout)
    tstr = utility_scores(syn_t, hold_t, target=train.outcome, learners=cfg.utility_learners,
                          encoder=ref.encoder, random_state=s_util)
    util = pd.DataFrame({"learner": list(tstr), "tstr": list(tstr.values()),
                         "trtr": [ref.trtr[k] for k in tstr]})
    cols = column_distances(real_t, syn_t)
    det = detection(real_t, syn_t, classifier=cfg.detection_classifier,
                    n_folds=cfg.detection_folds, random_state=s_det)
    det_w = detection(train.covariate_frame, cov, classifier=cfg.detection_classifier,
                      n_folds=cfg.detection_folds, random_state=s_det_w)
    priv = dcr(train.covariate_frame, cov, holdout=ref.holdout.covariate_frame, random_state=s_dcr)
    lo, hi = OVERLAP_BOUNDS
    first = cfg.utility_learners[0]
    p = cfg.primary_estimator
    run = {
        "n_synthetic": syn.n_obs, "treated_share": float(syn.a.mean()),
        "sate": float(truth["cate"].mean()) if truth is not None else np.nan,
        "utility": tstr[first], "utility_trtr": ref.trtr[first],
        "detection_auc": det_w.auc, "chi2": det_w.chi2,
        "detection_auc_full": det.auc, "chi2_full": det.chi2,
        "corr_diff": correlation_difference(real_t, syn_t),
        "mean_column_distance": float(cols["distance"].mean()),
        "max_column_distance": float(cols["distance"].max()),
        "exact_copy_share": priv.exact_copy_share, "closer_to_train_share": priv.closer_to_train_share,
        "membership_auc": priv.membership_auc, "dcr_median": float(np.median(priv.synthetic_to_train)),
        "dcr_holdout_median": float(np.median(np.asarray(priv.holdout_to_train))),
        "propensity_ks": ks_statistic(fit.propensity, ref.fit.propensity),
        "overlap": float(np.mean((fit.propensity >= lo) & (fit.propensity <= hi))),
        "learner_rank_corr": _spearman(util["tstr"], util["trtr"]),
        "estimator_rank_corr": _spearman(est["ate"], est["real_ate"]),
        "worst_subgroup_z": float(np.nanmax(np.abs(sub["z"]))) if sub["z"].notna().any() else np.nan,
        "ate_error": float(abs(est.set_index("estimator").loc[p, "diff"])),
    }
    return {"run": run, "estimates": est, "subgroups": sub, "utility": util, "columns": cols}


