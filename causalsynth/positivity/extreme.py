"""The documented study on a near-deterministic design (Xu 2026): propensity truncation rules
and positivity augmentation with and without an external randomized study.

Each repeat draws ``n`` observational rows and, for the external variants, a randomized study
of ``n_external`` rows from the same population and outcome law
(:meth:`~causalsynth.datasets.Xu2026Positivity.randomized`). From one nuisance fit per
learner it scores IPW and AIPW under the fixed bounds (0.01, 0.99) and the adaptive rule
5/(sqrt(n) ln n); then it augments the rows with outcomes from the same data and from the
external study, and scores the weighted estimators. Errors are against the rows' sample ATE.
``python -m causalsynth.positivity --design xu2026`` prints the tables of ``docs/positivity.md``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_int
from .._random import RandomState, as_seed_sequence
from ..errors import PositivityWarning, SpecError
from ..estimators import estimate_from_nuisance
from ..nuisance import fit_nuisance
from .augment import augment_positivity
from .spec import AugmentSpec

__all__ = ["extreme_overlap_study", "ExtremeOverlapStudy", "forest_learners"]

ESTIMATORS = ("ipw", "aipw")


def forest_learners(seed: int = 0) -> tuple[Any, Any]:
    """The random forests of the seed paper's remedy: propensity and (binary) outcome models."""
    from sklearn.ensemble import RandomForestClassifier
    kw = {"n_estimators": 200, "min_samples_leaf": 5, "random_state": seed, "n_jobs": 1}
    return RandomForestClassifier(**kw), RandomForestClassifier(**kw)


def _variants(data, external, seed, n_folds: int, budget) -> tuple[list[dict], dict]:
    s_glm, s_rf, s_aug, s_ext = seed.spawn(4)
    rows, info = [], {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {"glm": fit_nuisance(data, random_state=s_glm),
                "forest": fit_nuisance(data, propensity=forest_learners()[0], outcome=forest_learners()[1],
                                       n_folds=n_folds, random_state=s_rf)}
        for learner, fit in fits.items():
            for rule, bounds in (("fixed (0.01, 0.99)", (0.01, 0.99)), ("adaptive", "adaptive")):
                est = estimate_from_nuisance(data, fit, ESTIMATORS, propensity_bounds=bounds)
                rows += [{"learner": learner, "variant": rule, "estimator": r.estimator, "ate": r.ate} for r in est.rows]
    prop, out = forest_learners()
    for label, ext, s in (("augmented, data only", None, s_aug), ("augmented, external RCT", external, s_ext)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spec = AugmentSpec(propensity=prop, outcome=out, n_folds=n_folds, uncertainty="none", budget=budget,
                               if_risky="warn")
            aug = augment_positivity(data, spec, external=ext, random_state=s)
            # "warn": the study measures what the records do (the default withholds risky ones)
        warned = any(issubclass(w.category, PositivityWarning) and "expected to hurt" in str(w.message)
                     for w in caught)
        info[label] = {"n_added": aug.n_added, "warned": warned,
                       "median_logit_gap": aug.risk.get("median_logit_gap", np.nan)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summ = aug.estimate(estimators=ESTIMATORS, propensity_bounds="adaptive").summary().set_index("estimator")
        rows += [{"learner": "forest", "variant": label, "estimator": k, "ate": float(summ.loc[k, "ate"])}
                 for k in ESTIMATORS]
    return rows, info


@dataclass
class ExtremeOverlapStudy:
    """Per-repeat estimates (``records``) and augmentation facts (``augmentations``)."""

    records: pd.DataFrame
    augmentations: pd.DataFrame
    settings: dict

    def table(self) -> pd.DataFrame:
        """MSE (with its Monte Carlo SE) and bias of each estimator, learner and variant, per n."""
        r = self.records.assign(sq=lambda d: d["error"] ** 2)
        g = r.groupby(["n", "learner", "variant", "estimator"], sort=False)
        out = g.agg(mse=("sq", "mean"), mse_mc_se=("sq", lambda s: s.std(ddof=1) / np.sqrt(len(s))),
                    bias=("error", "mean"), n_reps=("sq", "size")).reset_index()
        return out

    def warnings_table(self) -> pd.DataFrame:
        """How often augmentation warned that it would hurt, per n and outcome source."""
        a = self.augmentations
        return (a.groupby(["n", "source"], sort=False)
                .agg(warned_share=("warned", "mean"), mean_records=("n_added", "mean"),
                     median_logit_gap=("median_logit_gap", "median")).reset_index())

    def __str__(self) -> str:
        t = self.table()
        lines = [f"Extreme-overlap study ({self.settings['design']}): MSE (MC SE) against the sample ATE, "
                 f"{self.settings['n_reps']} repeats per n"]
        wide = t.assign(cell=[f"{m:.4f} ({s:.4f})" for m, s in zip(t["mse"], t["mse_mc_se"])])
        wide = wide.pivot_table(index=["learner", "variant", "estimator"], columns="n", values="cell",
                                aggfunc="first", sort=False)
        lines.append(wide.to_string())
        lines.append("")
        lines.append(self.warnings_table().to_string(index=False))
        failed = self.settings.get("failed", {})
        if any(failed.values()):
            lines.append(f"repeats skipped (an arm too small to cross-fit): {failed}")
        return "\n".join(lines)


def extreme_overlap_study(design: Any = None, *, ns=(100, 200, 500), n_reps: int = 50, n_external: int = 1000,
                          n_folds: int = 3, budget: Any = "auto", random_state: RandomState = 0,
                          progress: bool | None = None) -> ExtremeOverlapStudy:
    """Run the study (see the module docstring). ``design`` needs ``sample`` and ``randomized``
    (default :class:`~causalsynth.datasets.Xu2026Positivity`); ``budget`` is the augmentation
    budget (default ``"auto"``; None = one record per low-overlap unit, the old default); repeats
    whose smaller arm is too small for ``n_folds`` folds are skipped and counted."""
    from ..datasets.designs import Xu2026Positivity
    from ..progress import progress as _progress
    design = Xu2026Positivity() if design is None else design
    if not callable(getattr(design, "randomized", None)):
        raise SpecError(f"design must offer randomized(n, random_state=) for the external study; "
                        f"{type(design).__name__} does not")
    n_reps = check_int("n_reps", n_reps, 2)
    records, augs, failed = [], [], {}
    for n, s_n in zip(ns, as_seed_sequence(random_state).spawn(len(ns))):
        n = check_int("n", n, 20)
        failed[n] = 0
        for rep, seed in enumerate(_progress(s_n.spawn(n_reps), desc=f"n={n}", total=n_reps, show=progress)):
            s_obs, s_ext, s_fit = seed.spawn(3)
            sample = design.sample(n, random_state=s_obs)
            if min(sample.data.n_treated, sample.data.n_control) < 2 * n_folds:
                failed[n] += 1
                continue
            external = design.randomized(n_external, random_state=s_ext).data
            rows, info = _variants(sample.data, external, s_fit, n_folds, budget)
            sate = sample.sate
            records += [{"n": n, "repeat": rep, **r, "error": r["ate"] - sate} for r in rows]
            augs += [{"n": n, "repeat": rep, "source": k, **v} for k, v in info.items()]
    settings = {"design": type(design).__name__, "ns": list(ns), "n_reps": n_reps, "n_external": n_external,
                "n_folds": n_folds, "budget": budget, "failed": failed}
    return ExtremeOverlapStudy(pd.DataFrame(records), pd.DataFrame(augs), settings)
