r"""Evaluation of positivity augmentation against a known truth (see :mod:`causalsynth.positivity`).

Each repeat draws a dataset from a design with known truth, augments it, and estimates
the ATE four ways, all from the same cross-fitted nuisance fit and folds:

* ``original``: the original rows, propensity clipped to [0.01, 0.99] (``estimate()``'s default);
* ``clipped``: the original rows, propensity clipped to :math:`[\delta, 1-\delta]`;
* ``augmented``: the augmented rows with the augmentation weights (targets the ATE over the
  original covariate law, see :mod:`causalsynth.positivity.augment`);
* ``augmented_unweighted``: nuisances refitted on the augmented rows, no weights, as a user
  who takes the augmented file to any package would do. Its estimand is the ATE over the
  augmented covariate law, :math:`\psi_{aug} = (n+m)^{-1}\sum_{i \le n+m} \tau(W_i)`.

Errors are measured against the original rows' sample ATE
:math:`\psi = n^{-1}\sum_{i\le n}\tau(W_i)` (for ``augmented_unweighted`` also against
:math:`\psi_{aug}`, when the design can evaluate :math:`\tau` at new covariates). Margins
come from the repeats' spread: for the paired differences
:math:`d_r = \mathrm{err}^2_{base,r} - \mathrm{err}^2_{new,r}` the margin is
:math:`z_{level}\,\mathrm{sd}(d)/\sqrt{R}`; "paid off" means the mean reduction exceeds its
margin, "hurt" that the mean increase does, otherwise "inconclusive".
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_int, check_level, z_value
from .._random import RandomState, as_seed_sequence
from ..errors import SpecError
from ..estimators import estimate_from_nuisance, select_estimators
from ..report.render import SummaryView, View
from ..nuisance import fit_nuisance
from .augment import augment_positivity
from .spec import AugmentSpec

__all__ = ["evaluate_augmentation", "AugmentationEvaluation", "VARIANTS"]

#: What each compared variant is.
VARIANTS = {
    "original": "original rows, propensity clipped to [0.01, 0.99]",
    "clipped": "original rows, propensity clipped to [delta, 1 - delta]",
    "augmented": "augmented rows, weighted to the original covariate law",
    "augmented_unweighted": "augmented rows refitted without weights (targets the augmented law)",
}


def _cate_at(design: Any, frame: pd.DataFrame) -> np.ndarray | None:
    """True CATE at new covariate rows, when the design can say it (``truth_at``)."""
    if hasattr(design, "truth_at"):
        return design.truth_at(frame)["cate"].to_numpy()
    return None


def _one_repeat(design, seed, *, n, names, spec: AugmentSpec, n_bootstrap=None) -> tuple[list[dict], dict]:
    delta = spec.delta
    s_data, s_aug, s_refit, s_boot = seed.spawn(4)  # the first three as in earlier versions
    sample = design.sample(n, random_state=s_data)
    data, cate = sample.data, sample.truth["cate"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aug = augment_positivity(data, spec, random_state=s_aug)
        fit = aug.original_fit
        est = {"original": estimate_from_nuisance(data, fit, names),
               "clipped": estimate_from_nuisance(data, fit, names, propensity_bounds=(delta, 1 - delta))}
        wsum = aug.estimate(estimators=names).summary().set_index("estimator")
        weighted, weighted_se = wsum["ate"], wsum["std_error"]
        boot_se = (aug.estimate(estimators=names, se_method="bootstrap", n_bootstrap=n_bootstrap, random_state=s_boot,
                                progress=False).summary().set_index("estimator")["std_error"]
                   if n_bootstrap else None)
        refit = fit_nuisance(aug.data, propensity=spec.propensity, outcome=spec.outcome,
                             n_folds=spec.n_folds, random_state=s_refit)
        est["augmented_unweighted"] = estimate_from_nuisance(aug.data, refit, names)
    psi = float(cate.mean())
    extra = _cate_at(design, aug.data.covariate_frame.iloc[n:]) if aug.n_added else np.zeros(0)
    psi_aug = float(np.r_[cate, extra].mean()) if extra is not None else float("nan")
    records = []
    for variant in VARIANTS:
        for name in names:
            ate = float(weighted[name]) if variant == "augmented" else est[variant].row(name).ate
            se = float(weighted_se[name]) if variant == "augmented" else est[variant].row(name).std_error
            target = psi_aug if variant == "augmented_unweighted" else psi
            records.append({"estimator": name, "variant": variant, "ate": ate, "error": ate - psi,
                            "error_own_estimand": ate - target, "std_error": se,
                            "std_error_bootstrap": float(boot_se[name]) if (boot_se is not None and
                                                                            variant == "augmented") else np.nan})
    low = (aug.diagnostics.propensity < delta) | (aug.diagnostics.propensity > 1 - delta)
    tau_o = fit.mu1 - fit.mu0
    tau_u = refit.mu1[:n] - refit.mu0[:n]
    rms = (lambda d: float(np.sqrt(np.mean(d ** 2))) if len(d) else float("nan"))  # noqa: E731
    pate = getattr(sample, "population_ate", None)
    info = {"sate": psi, "population_ate": float(pate) if pate is not None else np.nan,
            "psi_augmented": psi_aug, "n_added": aug.n_added,
            "n_candidates": aug.n_candidates,
            "pehe_original": rms(tau_o - cate), "pehe_augmented": rms(tau_u - cate),
            "pehe_region_original": rms((tau_o - cate)[low]),
            "pehe_region_augmented": rms((tau_u - cate)[low]),
            "max_abs_smd_augmented": float(aug.smd["smd_augmented"].abs().max()),
            "max_abs_smd_weighted": float(aug.smd["smd_weighted"].abs().max()),
            "mmd_augmented": aug.mmd["unweighted"], "mmd_weighted": aug.mmd["weighted"],
            "mmd_reference_halves": aug.mmd["reference"],
            "treated_share_original": float(data.a.mean()),
            "treated_share_augmented": float(aug.data.a.mean())}
    return records, info


def _paired(base: np.ndarray, new: np.ndarray, z: float) -> dict:
    d = base ** 2 - new ** 2
    se = float(np.std(d, ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    mean = float(d.mean())
    verdict = ("paid off" if mean - z * se > 0 else "hurt" if mean + z * se < 0 else "inconclusive")
    return {"rmse_baseline": float(np.sqrt(np.mean(base ** 2))), "rmse_variant": float(np.sqrt(np.mean(new ** 2))),
            "mse_reduction": mean, "margin": z * se, "verdict": verdict}


@dataclass(frozen=True, eq=False)
class AugmentationEvaluation(SummaryView):
    """Per-repeat results of :func:`evaluate_augmentation` and their summaries.

    Attributes
    ----------
    records : long DataFrame, one row per repeat, estimator and variant (``ate``, ``error``
        against the original rows' SATE, ``error_own_estimand``).
    repeats : DataFrame, one row per repeat: truths, rows added, PEHE, shift metrics.
    settings : dict of the evaluation's arguments.
    level : confidence level of the margins.
    """

    records: pd.DataFrame = field(repr=False)
    repeats: pd.DataFrame = field(repr=False)
    settings: dict
    level: float

    @property
    def n_reps(self) -> int:
        return len(self.repeats)

    def table(self) -> pd.DataFrame:
        """Per estimator and variant: bias, RMSE (vs the original rows' SATE) with MC SEs."""
        rows = []
        for (name, variant), g in self.records.groupby(["estimator", "variant"], sort=False):
            err, own = g["error"].to_numpy(), g["error_own_estimand"].to_numpy()
            r = len(err)
            rmse = float(np.sqrt(np.mean(err ** 2)))
            rows.append({"estimator": name, "variant": variant, "bias": float(err.mean()),
                         "bias_mcse": float(err.std(ddof=1) / np.sqrt(r)), "rmse": rmse,
                         "rmse_mcse": float(np.std(err ** 2, ddof=1) / np.sqrt(r) / (2 * rmse)),
                         "bias_own_estimand": float(np.mean(own))})
        return pd.DataFrame(rows)

    def coverage(self) -> pd.DataFrame:
        """Do the reported standard errors hold? Per estimator, variant and kind of SE: the
        coverage of the nominal interval (against the design's population ATE, the estimand
        of these influence-function SEs; against the sample ATE if the design has none), its
        Monte Carlo SE, the mean reported SE, the empirical SD of the estimates over repeats,
        and their ratio (1 = honest, below 1 = too small). The unweighted augmented variant
        has another estimand and is left out."""
        z = z_value(self.level)
        pate = self.repeats["population_ate"].to_numpy() if "population_ate" in self.repeats else None
        use_pate = pate is not None and np.isfinite(pate).all()
        target = pd.Series(pate if use_pate else self.repeats["sate"].to_numpy(),
                           index=self.repeats["repeat"].to_numpy())
        rows = []
        for (name, variant), g in self.records.groupby(["estimator", "variant"], sort=False):
            if variant == "augmented_unweighted" or "std_error" not in g:
                continue
            for kind, col in (("influence", "std_error"), ("bootstrap", "std_error_bootstrap")):
                if col not in g or not np.isfinite(g[col].to_numpy()).all():
                    continue
                ate, se = g["ate"].to_numpy(), g[col].to_numpy()
                err = ate - target.loc[g["_rep"].to_numpy()].to_numpy()
                hit = np.abs(err) <= z * se
                r = len(hit)
                cov = float(hit.mean())
                emp = float(ate.std(ddof=1))
                rows.append({"estimator": name, "variant": variant, "se": kind, "coverage": cov,
                             "coverage_mcse": float(np.sqrt(cov * (1 - cov) / r)),
                             "mean_se": float(se.mean()), "empirical_sd": emp,
                             "se_ratio": float(se.mean() / emp) if emp > 0 else np.nan,
                             "target": "population ATE" if use_pate else "sample ATE"})
        return pd.DataFrame(rows)

    def comparison(self) -> pd.DataFrame:
        """Paired MSE reductions with margins: each variant against ``original``, and
        ``augmented`` against ``clipped``."""
        z = z_value(self.level)
        wide = self.records.pivot_table(index=["estimator", "_rep"], columns="variant", values="error")
        rows = []
        for name in self.records["estimator"].unique():
            w = wide.loc[name]
            pairs = [("original", v) for v in ("clipped", "augmented", "augmented_unweighted")]
            for base, variant in pairs + [("clipped", "augmented")]:
                rows.append({"estimator": name, "variant": variant, "baseline": base,
                             **_paired(w[base].to_numpy(), w[variant].to_numpy(), z)})
        return pd.DataFrame(rows)

    def cate(self) -> pd.DataFrame:
        """PEHE of the T-learner from the original fit and from the refit on augmented rows."""
        rows = []
        for scope, suffix in (("all units", ""), ("low-overlap units", "_region")):
            for model in ("original", "augmented"):
                v = self.repeats[f"pehe{suffix}_{model}"].dropna().to_numpy()
                rows.append({"scope": scope, "outcome_model_fitted_on": model, "pehe": float(v.mean()),
                             "pehe_mcse": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan})
        return pd.DataFrame(rows)

    def shift(self) -> pd.DataFrame:
        """Covariate shift of the augmented data (mean over repeats, with MC SE)."""
        cols = ["max_abs_smd_augmented", "max_abs_smd_weighted", "mmd_augmented", "mmd_weighted",
                "mmd_reference_halves", "treated_share_original", "treated_share_augmented", "n_added"]
        r = self.repeats
        return pd.DataFrame({"metric": cols, "mean": [float(r[c].mean()) for c in cols],
                             "mcse": [float(r[c].std(ddof=1) / np.sqrt(len(r))) for c in cols]})

    def summary(self) -> pd.DataFrame:
        """The comparison of ``augmented`` with ``original`` per estimator."""
        c = self.comparison()
        return c[(c["variant"] == "augmented") & (c["baseline"] == "original")].reset_index(drop=True)

    def verdict(self) -> str:
        """Plain-language conclusions, with their margins and the estimand caveats."""
        lv, r = f"{self.level:.0%}", self.n_reps
        comp = self.comparison()
        main = self.summary()
        groups = [f"{v} for {', '.join(main.loc[main['verdict'] == v, 'estimator'])}"
                  for v in ("paid off", "inconclusive", "hurt") if (main["verdict"] == v).any()]
        lines = [f"Augmented (weighted) vs original data, ATE error against the original-sample ATE: "
                 f"{'; '.join(groups)}."]
        for row in comp[comp["variant"] == "augmented"].itertuples():
            lines.append(f"{row.estimator} ({row.variant} vs {row.baseline}): {row.verdict}; RMSE "
                         f"{row.rmse_baseline:.4f} -> {row.rmse_variant:.4f}, MSE reduction "
                         f"{row.mse_reduction:.5f} +- {row.margin:.5f} ({lv} margin, {r} repeats).")
        rep, tab = self.repeats, self.table()
        gap = float((rep["psi_augmented"] - rep["sate"]).mean())
        unw = tab[tab["variant"] == "augmented_unweighted"]
        lines.append(
            f"Shift: the augmented rows move the covariate law (mean max |SMD| "
            f"{rep['max_abs_smd_augmented'].mean():.3f}, MMD {rep['mmd_augmented'].mean():.4f}; "
            f"treated share {rep['treated_share_original'].mean():.3f} -> "
            f"{rep['treated_share_augmented'].mean():.3f}); the weights undo it (max |SMD| "
            f"{rep['max_abs_smd_weighted'].mean():.3f}, MMD {rep['mmd_weighted'].mean():.4f}).")
        if np.isfinite(gap):
            lines.append(f"Unweighted, the augmented data target the ATE over the augmented covariate "
                         f"law, on average {gap:+.4f} from the original SATE; estimators refitted on them "
                         f"have bias {', '.join(f'{t.estimator} {t.bias:+.4f}' for t in unw.itertuples())} "
                         "against the original SATE.")
        cate = self.cate().set_index(["scope", "outcome_model_fitted_on"])["pehe"]
        lines.append(f"CATE: PEHE {cate['all units', 'original']:.4f} (original fit) vs "
                     f"{cate['all units', 'augmented']:.4f} (refit on augmented rows); in the low-overlap "
                     f"units {cate['low-overlap units', 'original']:.4f} vs "
                     f"{cate['low-overlap units', 'augmented']:.4f}. Synthetic outcomes come from models "
                     "fitted on the same real data, so they add no information: any gain is a transfer "
                     "of the outcome model's extrapolation into the region, right only if that model is.")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        return json_safe({"settings": self.settings, "level": self.level, "n_reps": self.n_reps,
                          "table": self.table(), "comparison": self.comparison(), "cate": self.cate(),
                          "coverage": self.coverage(),
                          "shift": self.shift(), "verdict": self.verdict(), "variants": VARIANTS})

    def _view(self) -> View:
        """``print(evaluation)``: table(), comparison() (summary() is its main rows), coverage(), verdict()."""
        s = self.settings
        return View(f"Positivity augmentation evaluated on {s['design']}: n={s['n']}, {self.n_reps} repeats, "
                    f"delta={s['delta']}, budget={s['budget']}, generator={s['generator']}",
                    (self.table(), self.comparison(), self.coverage()), notes=("", self.verdict()),
                    html_tables=(self.comparison(),))

    def plot(self, ax: Any = None) -> Any:
        """Box plots of the ATE errors by estimator and variant."""
        import matplotlib.pyplot as plt
        names = list(self.records["estimator"].unique())
        if ax is None:
            _, ax = plt.subplots(figsize=(max(6, 2.4 * len(names)), 4))
        width = 0.8 / len(VARIANTS)
        for j, variant in enumerate(VARIANTS):
            rec = self.records[self.records["variant"] == variant]
            data = [rec.loc[rec["estimator"] == name, "error"].to_numpy() for name in names]
            pos = np.arange(len(names)) + (j - (len(VARIANTS) - 1) / 2) * width
            bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False)
            for patch in bp["boxes"]:
                patch.set_facecolor(f"C{j}")
                patch.set_alpha(0.6)
            ax.plot([], [], color=f"C{j}", lw=6, alpha=0.6, label=variant)
        ax.axhline(0, color="grey", lw=0.8, ls=":")
        ax.set_xticks(np.arange(len(names)), names)
        ax.set_ylabel("ATE error vs original-sample ATE")
        ax.legend(fontsize=8)
        return ax

    def write_report(self, out_dir, *, provenance: dict | None = None) -> dict:
        """Markdown, HTML, JSON and PNG files in ``out_dir``; ``provenance`` from
        :func:`causalsynth.report.provenance` (default: "Python API")."""
        import matplotlib.pyplot as plt

        from ..report.render import Section, positivity_sections, write_report
        fig, ax = plt.subplots(figsize=(9, 4))
        self.plot(ax=ax)
        sections = [Section("Verdict", self.verdict().replace("\n", "\n\n")),
                    Section("ATE error by estimator and variant",
                            "\n\n".join(f"{k}: {v}" for k, v in VARIANTS.items()), self.table(), fig),
                    Section("Paired comparisons", "", self.comparison()),
                    Section("Standard errors: interval coverage", self.coverage.__doc__.split("\n\n")[0]
                            if self.coverage.__doc__ else "", self.coverage()),
                    Section("CATE error (PEHE)", "", self.cate()),
                    Section("Covariate shift", "", self.shift()),
                    *positivity_sections(None, missing="The evaluation draws from a design with a known truth "
                                         "and poor overlap by construction; the diagnostics of one draw: "
                                         "causalsynth.diagnose_positivity(design.sample(n).data).")]
        return write_report(out_dir, "Positivity augmentation: evaluation with a known truth", sections,
                            self.to_dict(), stem="evaluation", provenance=provenance)


def evaluate_augmentation(
    design: Any,
    spec: AugmentSpec | None = None,
    *,
    n: int = 1000,
    n_reps: int = 50,
    estimators=("ipw", "aipw", "or", "tmle"),
    level: float = 0.95,
    n_bootstrap: int | None = None,
    progress: bool | None = None,
    random_state: RandomState = None,
) -> AugmentationEvaluation:
    """Compare estimators on original and augmented data drawn from a design with known truth.

    Parameters
    ----------
    design : object with ``sample(n, *, random_state=)`` returning a SyntheticSample (a
        design from :mod:`causalsynth.datasets` or a fitted HybridSynthesizer).
    spec : :class:`~causalsynth.positivity.AugmentSpec` passed to :func:`augment_positivity`
        on every repeat (default: ``AugmentSpec(budget=None)``, one record per low-overlap unit).
    n, n_reps : rows per dataset and number of seeded repeats.
    estimators : estimators that take case weights (see :data:`causalsynth.ESTIMATORS`).
    level : level of the margins of the paired comparisons and of the intervals.
    n_bootstrap : also compute the bootstrap SE of the augmented estimates (``n_bootstrap`` bootstrap
        augmentations per repeat, so ``n_reps * n_bootstrap`` augmentations in all) and report
        its coverage beside the influence-function SE's in :meth:`AugmentationEvaluation.coverage`.
    progress : show a progress bar over the repeats (default: when stderr is a terminal).
    random_state : one seed; repeat r uses the r-th spawned child.

    Returns
    -------
    AugmentationEvaluation
    """
    from ..progress import progress as _progress
    if not callable(getattr(design, "sample", None)):
        raise SpecError(f"design must have a sample(n, random_state=) method; got {type(design).__name__}")
    spec = AugmentSpec(budget=None) if spec is None else spec
    if not isinstance(spec, AugmentSpec):
        raise SpecError(f"spec must be an AugmentSpec; got {type(spec).__name__}. Build one with "
                        "causalsynth.positivity.AugmentSpec(delta=..., generator=...).")
    names, _ = select_estimators(estimators, weighted=True)  # the augmented estimates are case-weighted
    n = check_int("n", n, 50)
    n_reps = check_int("n_reps", n_reps, 2)
    check_level(level)
    records, infos = [], []
    seeds = as_seed_sequence(random_state).spawn(n_reps)
    for r, seed in enumerate(_progress(seeds, desc="augmentation repeats", total=n_reps, show=progress)):
        rec, info = _one_repeat(design, seed, n=n, names=names, spec=spec, n_bootstrap=n_bootstrap)
        records += [{"_rep": r, **x} for x in rec]
        infos.append({"repeat": r, **info})
    # every setting of the spec is reported (learners by name), not a hand-picked few
    settings = {"design": repr(design), "n": n, "n_reps": n_reps, "estimators": list(names), "n_bootstrap": n_bootstrap,
                **spec.to_dict(), "propensity": str(spec.propensity or "logistic"),
                "outcome": str(spec.outcome or "linear/logistic")}
    return AugmentationEvaluation(pd.DataFrame(records), pd.DataFrame(infos), settings, float(level))
