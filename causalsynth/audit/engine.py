r"""ATE preservation audit: does a synthetic copy of the data keep the treatment effect?

Predictive utility and fidelity scores can look excellent while the average treatment effect
(ATE) of the synthetic data is wrong: a generator that models the joint law of (W, A, Y)
learns the treatment contrast :math:`\mu_1(W) - \mu_0(W)` only through the rows where both
arms occur (a prediction loss weighs the contrast by the overlap :math:`e(W)\{1-e(W)\}`),
while the bulk of its likelihood is spent on :math:`W \to A` and :math:`W \to Y`. The hybrid
synthesizer keeps the contrast by drawing A and Y from separately fitted nuisance models.
:func:`audit` shows both kinds side by side:

1. the real rows are split once (seeded, within each arm) into a training part, which every
   synthesizer and the real reference see, and a holdout, used only as the test set of
   train-on-synthetic-test-on-real (TSTR) utility and as the DCR baseline;
2. each synthesizer is fitted ``n_reps`` times with fresh seeds and draws ``n_synthetic``
   rows each time; a draw that cannot be analysed (an empty arm, a failed fit) is recorded
   as a failed repeat;
3. on every draw: the ATE of each estimator against the same estimator on the real training
   rows (difference, relative error, difference in real standard errors, interval overlap,
   sign); TSTR against TRTR utility of several outcome learners; per-column distances, the
   correlation difference, detection AUC and the chi-squared divergence
   (:mod:`causalsynth.fidelity`); distance to closest record (:mod:`causalsynth.privacy`);
   the synthetic propensity distribution and overlap against the real; subgroup effects;
   the rank agreement of learners and of estimators.

Example
-------
>>> from causalsynth.audit import AuditConfig, audit
>>> from causalsynth.datasets import load_nhefs
>>> result = audit(load_nhefs(), AuditConfig(n_reps=3), synthesizers=["hybrid", "copula"],
...                random_state=0)                                        # doctest: +SKIP
>>> result.summary()                                                      # doctest: +SKIP
"""
from __future__ import annotations

import time
import warnings
import zlib
from typing import Any

import numpy as np
import pandas as pd

from .._random import RandomState, as_seed_sequence, child_seed
from ..data import CausalData
from ..estimators import DEFAULT_ESTIMATORS
from ..errors import CausalSynthError, CausalSynthWarning, SpecError
from ..learners import resolve_learner
from ..progress import progress as _progress
from .reference import RUN_METRICS, AuditConfig, make_reference, run_repeat
from .result import AuditResult
from .synthesizers import (
    DEFAULT_SYNTHESIZERS,
    SYNTHESIZERS,
    draw_synthetic,
    resolve_synthesizers,
)

__all__ = ["audit", "AuditConfig"]


def _child(ss: np.random.SeedSequence, label: str) -> np.random.SeedSequence:
    """A child stream keyed by ``label``: adding or reordering synthesizers changes no other."""
    return child_seed(ss, 0xA0D17, zlib.crc32(label.encode()))


#: What makes one repeat fail (recorded) rather than the whole audit.
_FAILURES = (CausalSynthError, ValueError, RuntimeError, np.linalg.LinAlgError)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def audit(
    data: CausalData,
    config: AuditConfig | None = None,
    *,
    synthesizers: Any = DEFAULT_SYNTHESIZERS,
    subgroups: Any = None,
    progress: bool | None = None,
    random_state: RandomState = None,
) -> AuditResult:
    """Audit whether synthetic copies of ``data`` keep its average treatment effect.

    Parameters
    ----------
    data : CausalData
        The real data.
    config : :class:`~causalsynth.audit.AuditConfig`, the settings of the audit: estimators,
        nuisance learners, ``n_synthetic``, ``n_reps`` (fits and draws per synthesizer,
        default 5), utility learners, detection classifier, holdout share, deep-generator
        epochs, level and propensity bounds (default: ``AuditConfig()``).
    synthesizers : names from :data:`SYNTHESIZERS` (``"hybrid"``, ``"hybrid-bootstrap"``,
        ``"hybrid-ctgan"``, ``"hybrid-tvae"``, ``"copula"``, ``"ctgan"``, ``"tvae"``,
        ``"bootstrap"``), :class:`~causalsynth.synth.hybrid.HybridSynthesizer` instances
        (rebuilt with a fresh seed every repeat), or a mapping label -> either.
        Default: hybrid, copula, ctgan, tvae, bootstrap.
    subgroups : None (quartiles of each numeric covariate with at least five values), a list
        of covariates (levels of categorical ones, quartiles of numeric ones) or a mapping
        name -> callable(frame) -> bool array or an expression such as ``"age > 50"`` (the
        closed vocabulary of derived columns, see :func:`causalsynth._checks.check_expression`).
    progress : show a progress bar over the fits (default: when stderr is a terminal).
    random_state : seeds the split, every fit and draw and every metric. Each synthesizer
        draws from a stream keyed by its label, so adding one leaves the others unchanged.

    Returns
    -------
    AuditResult

    Raises
    ------
    SpecError
        An unknown synthesizer (the message lists the valid names), a config that is not an
        AuditConfig (its own checks name the setting out of range).
    ImportError
        A deep generator (CTGAN/TVAE) is asked for but ``ctgan`` is not installed.
    """
    if not isinstance(data, CausalData):
        raise SpecError(f"data must be a CausalData; got {type(data).__name__}. Build one with "
                        "causalsynth.CausalData(frame, treatment=..., outcome=...).")
    if config is None:
        config = AuditConfig()
    elif not isinstance(config, AuditConfig):
        raise SpecError(f"config must be an AuditConfig; got {type(config).__name__}. Build one with "
                        "causalsynth.audit.AuditConfig(n_reps=..., estimators=...).")
    cfg = config
    specs = resolve_synthesizers(synthesizers)
    ss = as_seed_sequence(random_state)
    ref = make_reference(data, cfg, subgroups, _child(ss, "reference"))
    n_syn = cfg.n_synthetic or ref.train.n_obs
    tasks = [(spec, r, seed) for spec in specs
             for r, seed in enumerate(_child(ss, spec.name).spawn(cfg.n_reps))]
    runs: list[dict] = []
    details: dict[str, list[pd.DataFrame]] = {k: [] for k in _DETAIL_COLUMNS}
    for spec, r, seed in _progress(tasks, desc="audit: fitting synthesizers", total=len(tasks),
                                   show=progress):
        runs.append(_one_repeat(spec, r, seed, ref, cfg, n_syn, details))
    # every column present even when every repeat failed
    run_table = pd.DataFrame(runs).reindex(columns=[
        "synthesizer", "kind", "repeat", "status", "error", "seconds", "population_ate", *RUN_METRICS])
    if (run_table["status"] != "ok").all():
        warnings.warn("every repeat of every synthesizer failed; see result.failures()",
                      CausalSynthWarning, stacklevel=2)
    real = ref.fit.table.assign(ate_all_rows=[ref.ate_all_rows[e] for e in cfg.estimators])
    return AuditResult(
        synthesizers=tuple(s.name for s in specs), kinds={s.name: s.kind for s in specs},
        estimators=cfg.estimators, primary_estimator=cfg.primary_estimator, level=float(cfg.level),
        real=real, runs=run_table,
        estimates=_stack(details, "estimates"), subgroup_estimates=_stack(details, "subgroups"),
        utility_scores=_stack(details, "utility"), column_scores=_stack(details, "columns"),
        baseline=ref.baseline, settings=_settings(data, cfg, ref, specs, n_syn))


#: The detail tables of an audit and their columns (besides synthesizer and repeat).
_DETAIL_COLUMNS = {
    "estimates": ["estimator", "ate", "diff", "z", "rel_error", "ci_overlap", "sign_agree", "std_error",
                  "ci_lower", "ci_upper"],
    "subgroups": ["subgroup", "n", "ate", "std_error", "truth", "real_n", "real_ate", "real_std_error",
                  "diff", "z"],
    "utility": ["learner", "tstr", "trtr"],
    "columns": ["column", "metric", "distance"],
}


def _one_repeat(spec, r: int, seed, ref, cfg: AuditConfig, n_syn: int, details: dict) -> dict:
    """Fit and draw one synthesizer once and compare; a failure is recorded, not raised."""
    draw_seed, compare_seed = seed.spawn(2)
    start = time.perf_counter()
    row = {"synthesizer": spec.name, "kind": spec.kind, "repeat": r, "status": "ok", "error": ""}
    failure: BaseException | None = None
    try:
        syn, truth, pate = draw_synthetic(spec, ref.train, n_syn, draw_seed, cfg.synth_options)
    except SpecError:
        raise  # a synthesizer's configuration fails every repeat alike: report it now
    except _FAILURES as exc:
        failure = exc
    else:
        try:  # SpecError included: a draw can defeat the analysis (too few rows for the folds)
            out = run_repeat(syn, truth, ref, cfg, compare_seed)
        except _FAILURES as exc:
            failure = exc
    if failure is not None:
        row.update(status="failed", error=_one_line(failure))
    else:
        row.update(population_ate=pate, **out["run"])
        for key in _DETAIL_COLUMNS:
            details[key].append(out[key].assign(synthesizer=spec.name, repeat=r))
    row["seconds"] = time.perf_counter() - start
    return row


def _stack(details: dict, key: str) -> pd.DataFrame:
    frames = details[key]
    front = ["synthesizer", "repeat"]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=front + _DETAIL_COLUMNS[key])
    return frame[front + [c for c in frame.columns if c not in front]]


def _settings(data: CausalData, cfg: AuditConfig, ref, specs, n_syn: int) -> dict:
    return {
        "treatment": data.treatment, "outcome": data.outcome, "outcome_type": data.outcome_type,
        "n_obs": data.n_obs, "n_train": ref.train.n_obs, "n_holdout": ref.holdout.n_obs,
        "n_synthetic": n_syn, "n_reps": cfg.n_reps, "holdout": float(cfg.holdout),
        "estimators": list(cfg.estimators), "utility_learners": list(cfg.utility_learners),
        "utility_metric": "auc" if data.outcome_type == "binary" else "r2",
        "detection_classifier": str(cfg.detection_classifier), "detection_folds": cfg.detection_folds,
        "epochs": cfg.epochs, "generator_options": dict(cfg.generator_options), "level": float(cfg.level),
        "propensity_bounds": list(cfg.propensity_bounds), "n_folds": cfg.n_folds,
        "propensity_learner": resolve_learner(cfg.propensity, role="propensity", data=data).description,
        "outcome_learner": resolve_learner(cfg.outcome, role="outcome", data=data).description,
        "synthesizers": {s.name: SYNTHESIZERS.get(s.name, f"user HybridSynthesizer ({s.name})")
                         for s in specs},
        "subgroups": [g.name for g in ref.groups],
    }
