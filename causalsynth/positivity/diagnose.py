r"""Overlap diagnostics: where the estimated propensity leaves :math:`[\delta, 1-\delta]`.

Behind :func:`causalsynth.positivity.diagnose_positivity`. Definitions (all
computed from the cross-fitted estimated propensity :math:`\hat e_i`, not clipped):

* share outside: :math:`n^{-1}\#\{i: \hat e_i < \delta \text{ or } \hat e_i > 1-\delta\}`;
* inverse-probability weights :math:`w_i = 1/\hat e_i` (treated), :math:`1/(1-\hat e_i)`
  (controls); Kish effective sample size per arm
  :math:`\mathrm{ESS} = (\sum w_i)^2 / \sum w_i^2` (Kish 1965), reported also as a share of
  the arm's size;
* overlap coefficient of the propensity distributions of the two arms,
  :math:`\mathrm{OVL} = \sum_b \min(p_{1b}, p_{0b})`, with :math:`p_{ab}` the share of arm
  :math:`a` in bin :math:`b` of ``n_bins`` equal-width bins on [0, 1] (1 = identical
  distributions, 0 = disjoint; Inman & Bradley 1989);
* regions: a shallow decision tree (CART) over the covariates predicting the label
  below / inside / above; a leaf is reported when at least ``min_region_share`` of its
  units are outside :math:`[\delta, 1-\delta]`, as the conjunction of its split rules.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_delta, check_int, check_range
from .._random import RandomState, as_seed_sequence
from .._resample import make_folds
from ..data import CausalData, check_data
from ..errors import PositivityWarning, SpecError
from ..estimators import MIN_ESS_SHARE, kish_ess, overlap_fails
from ..report.render import SummaryView, View
from ..learners import resolve_learner
from ..nuisance import cross_fit_propensity

__all__ = ["PositivityReport", "diagnose_positivity", "diagnose", "propensity_out_of_fold",
           "kish_ess", "overlap_coefficient"]

_FLOOR = 1e-12
#: Rows of the largest inverse-probability weights a report lists.
N_LARGEST = 5
#: A leaf of the region tree is flagged when at least this share of its units lies outside.
MIN_REGION_SHARE = 0.5


def propensity_out_of_fold(data: CausalData, spec: Any, folds: np.ndarray,
                           seed: np.random.SeedSequence) -> tuple[np.ndarray, str]:
    """Out-of-fold propensities of learner ``spec`` (in sample with one fold) and its description."""
    learner = resolve_learner(spec, role="propensity", data=data)
    e, _ = cross_fit_propensity(learner, data, folds, seed.spawn(int(folds.max()) + 1))
    return e, learner.description


def overlap_coefficient(e: np.ndarray, a: np.ndarray, n_bins: int = 50) -> float:
    """:math:`\\sum_b \\min(p_{1b}, p_{0b})` over ``n_bins`` equal-width bins on [0, 1]."""
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    h1 = np.histogram(e[a == 1], bins=bins)[0] / max(int(np.sum(a == 1)), 1)
    h0 = np.histogram(e[a == 0], bins=bins)[0] / max(int(np.sum(a == 0)), 1)
    return float(np.minimum(h1, h0).sum())


# ------------------------------------------------------------------------- tree rules
def _condition(name: str, kind: str | None, lo: float | None, hi: float | None) -> str:
    if kind == "onehot":  # name is "col[level]"
        col, level = name[:-1].split("[", 1)
        return f"{col} == {level}" if lo is not None else f"{col} != {level}"
    if kind == "binary":
        return f"{name} == 1" if lo is not None else f"{name} == 0"
    if lo is not None and hi is not None:
        return f"{lo:.3g} < {name} <= {hi:.3g}"
    return f"{name} > {lo:.3g}" if lo is not None else f"{name} <= {hi:.3g}"


def tree_rules(tree: Any, names: list[str], kinds: list[str | None]) -> dict[int, str]:
    """Leaf id -> readable conjunction of the split conditions on the path to it."""
    t = tree.tree_
    rules: dict[int, str] = {}

    def walk(node: int, bounds: dict[int, list]) -> None:
        if t.children_left[node] == -1:
            parts = [_condition(names[j], kinds[j], lo, hi) for j, (lo, hi) in sorted(bounds.items())]
            rules[node] = " and ".join(parts) if parts else "all units"
            return
        j, thr = int(t.feature[node]), float(t.threshold[node])
        lo, hi = bounds.get(j, [None, None])
        left = dict(bounds)
        left[j] = [lo, thr if hi is None else min(hi, thr)]
        right = dict(bounds)
        right[j] = [thr if lo is None else max(lo, thr), hi]
        walk(int(t.children_left[node]), left)
        walk(int(t.children_right[node]), right)

    walk(0, {})
    return rules


def _region_tree(data: CausalData, e: np.ndarray, delta: float, max_depth: int,
                 min_region_share: float) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Leaves of a shallow tree predicting below/inside/above; one row per leaf."""
    from sklearn.tree import DecisionTreeClassifier
    X, names = data.design_matrix()
    kinds = []
    for nm in names:
        base = nm.split("[", 1)[0]
        kind = data.covariate_kinds.get(nm)
        kinds.append("onehot" if nm not in data.covariate_kinds and base in data.covariate_kinds
                     else ("binary" if kind == "binary" else None))
    label = np.where(e < delta, 1, np.where(e > 1 - delta, 2, 0))
    n = data.n_obs
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(5, n // 100),
                                  random_state=0).fit(X, label)
    leaf = tree.apply(X)
    rules = tree_rules(tree, names, kinds)
    a = data.a
    rows = []
    for node, rule in rules.items():
        m = leaf == node
        n_low, n_high = int(np.sum(label[m] == 1)), int(np.sum(label[m] == 2))
        share = (n_low + n_high) / max(int(m.sum()), 1)
        rows.append({"region_id": int(node), "rule": rule, "n_obs": int(m.sum()),
                     "share_outside": share, "n_below": n_low, "n_above": n_high,
                     "side": "almost always treated" if n_high >= n_low else "almost never treated",
                     "mean_propensity": float(e[m].mean()) if m.any() else float("nan"),
                     "n_treated": int(a[m].sum()), "n_control": int(m.sum() - a[m].sum()),
                     "flagged": bool(share >= min_region_share and (n_low + n_high) > 0)})
    table = pd.DataFrame(rows).sort_values(["flagged", "share_outside"], ascending=False)
    return table.reset_index(drop=True), leaf, int(tree.tree_.feature[0])


# ------------------------------------------------------------------------- the report
@dataclass(frozen=True, eq=False, kw_only=True)
class PositivityReport(SummaryView):
    """Overlap diagnostics of one dataset (see :mod:`causalsynth.positivity.diagnose`).

    Attributes
    ----------
    delta : the overlap threshold :math:`\\delta`.
    n_obs, n_treated : counts.
    share_outside, n_below, n_above : units with :math:`\\hat e < \\delta` or
        :math:`\\hat e > 1 - \\delta`.
    ess, ess_share : dicts arm (1 treated, 0 control) -> Kish ESS of the inverse-probability
        weights, and ESS divided by the arm's size.
    overlap_coefficient : OVL of the propensity distributions of the arms.
    largest_weights : DataFrame of the largest weights: row, arm, propensity, weight,
        share_of_arm (the weight over its arm's total weight).
    leaves : DataFrame, one row per leaf of the region tree (rule, counts, flagged).
    warning : the PositivityWarning message, or None when overlap is acceptable.
    propensity : array (n_obs,) of cross-fitted estimated propensities.
    n_folds : cross-fitting folds (1 = in sample, 0 = scores passed by the caller).
    """

    delta: float
    n_obs: int
    n_treated: int
    share_outside: float
    n_below: int
    n_above: int
    ess: dict
    ess_share: dict
    overlap_coefficient: float
    largest_weights: pd.DataFrame = field(repr=False)
    leaves: pd.DataFrame = field(repr=False)
    propensity_learner: str
    n_folds: int
    warning: str | None
    propensity: np.ndarray = field(repr=False, compare=False)
    treatment: np.ndarray = field(repr=False, compare=False)
    leaf: np.ndarray = field(repr=False, compare=False)
    covariate: np.ndarray | None = field(default=None, repr=False, compare=False)
    covariate_name: str | None = None

    @property
    def regions(self) -> pd.DataFrame:
        """The flagged leaves: covariate regions where overlap fails."""
        return self.leaves.loc[self.leaves["flagged"]].drop(columns="flagged").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per metric (metric, value)."""
        rows = [("n_obs", self.n_obs), ("n_treated", self.n_treated), ("delta", self.delta),
                ("share_outside", self.share_outside), ("n_below_delta", self.n_below),
                ("n_above_1_minus_delta", self.n_above), ("ess_treated", self.ess[1]),
                ("ess_control", self.ess[0]), ("ess_share_treated", self.ess_share[1]),
                ("ess_share_control", self.ess_share[0]),
                ("overlap_coefficient", self.overlap_coefficient),
                ("largest_weight", float(self.largest_weights["weight"].max())),
                ("n_regions", len(self.regions))]
        return pd.DataFrame(rows, columns=["metric", "value"], dtype=object)

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        out = {r.metric: r.value for r in self.summary().itertuples()}
        out.update(propensity_learner=self.propensity_learner, n_folds=self.n_folds,
                   regions=self.regions, largest_weights=self.largest_weights, warning=self.warning)
        return json_safe(out)

    def _lines(self) -> list[str]:
        view = self._view()
        return [view.title, *view.lines]

    def _view(self) -> View:
        """``print(report)``: the numbers of summary() in words, then the regions (a table in HTML)."""
        m = dict(zip(self.summary()["metric"], self.summary()["value"]))
        d = m["delta"]
        how = (f"{self.n_folds}-fold cross-fitted" if self.n_folds > 1
               else "fitted in sample" if self.n_folds == 1 else "scores passed in")
        lines = [f"  outside [{d:g}, {1 - d:g}]: {m['share_outside']:.1%} ({m['n_below_delta']} below, "
                 f"{m['n_above_1_minus_delta']} above)",
                 f"  effective sample size: treated {m['ess_treated']:.1f} ({m['ess_share_treated']:.1%}), "
                 f"control {m['ess_control']:.1f} ({m['ess_share_control']:.1%})",
                 f"  overlap coefficient: {m['overlap_coefficient']:.3f}; largest weight "
                 f"{m['largest_weight']:.1f}"]
        regions = self.regions
        if len(regions):
            lines.append("  regions where overlap fails:")
            lines += [f"    {r.rule}: {r.side}, {r.n_obs} units, {r.share_outside:.0%} outside, "
                      f"{r.n_treated} treated / {r.n_control} control" for r in regions.itertuples()]
        else:
            lines.append("  no covariate region where overlap fails")
        return View(f"Positivity diagnostics: n={m['n_obs']} ({m['n_treated']} treated), propensity "
                    f"{self.propensity_learner}, {how}", lines=tuple(lines), float_format=".3g",
                    html_tables=(regions,))

    def plot(self, ax: Any = None) -> Any:
        """Histograms of the estimated propensity by arm, with the :math:`\\delta` bounds."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.8))
        bins = np.linspace(0, 1, 41)
        e, a = self.propensity, self.treatment
        ax.hist(e[a == 0], bins=bins, alpha=0.6, density=True, label=f"control (n={int(np.sum(a == 0))})")
        ax.hist(e[a == 1], bins=bins, alpha=0.6, density=True, label=f"treated (n={int(np.sum(a == 1))})")
        for x in (self.delta, 1 - self.delta):
            ax.axvline(x, color="grey", ls="--", lw=1)
        ax.set_xlabel("estimated propensity")
        ax.set_ylabel("density")
        ax.set_title(f"Propensity by arm (OVL {self.overlap_coefficient:.2f})")
        ax.legend()
        return ax

    def plot_regions(self, ax: Any = None) -> Any:
        """Estimated propensity against the covariate of the tree's first split."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.8))
        x = self.covariate if self.covariate is not None else np.arange(self.n_obs)
        for arm, label in ((0, "control"), (1, "treated")):
            m = self.treatment == arm
            ax.scatter(x[m], self.propensity[m], s=6, alpha=0.5, label=label)
        for y in (self.delta, 1 - self.delta):
            ax.axhline(y, color="grey", ls="--", lw=1)
        ax.set_xlabel(self.covariate_name or "row")
        ax.set_ylabel("estimated propensity")
        ax.legend()
        return ax

    def sections(self) -> list:
        import matplotlib.pyplot as plt

        from ..report.render import Section
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        self.plot(ax=axes[0])
        self.plot_regions(ax=axes[1])
        fig.tight_layout()
        return [Section("Overlap diagnostics", "\n".join(self._lines()), self.summary(), fig),
                Section("Regions where overlap fails",
                        "Leaves of a shallow decision tree over the covariates; a leaf is listed when "
                        "most of its units have an estimated propensity outside the bounds.",
                        self.regions),
                Section("Largest weights", "", self.largest_weights)]

    def write_report(self, out_dir, *, provenance: dict | None = None) -> dict:
        """Markdown, HTML, JSON and PNG files in ``out_dir`` (see :mod:`causalsynth.report`);
        ``provenance`` from :func:`causalsynth.report.provenance` (default: "Python API")."""
        from ..report.render import write_report
        return write_report(out_dir, "Positivity diagnostics", self.sections(), self.to_dict(),
                            stem="positivity", provenance=provenance)


def _check_propensity_array(values: Any, n: int) -> np.ndarray:
    e = np.asarray(values, dtype=float)
    if e.shape != (n,) or not np.all(np.isfinite(e)) or np.any((e < 0) | (e > 1)):
        raise SpecError(f"propensity given as an array must have shape ({n},) with values in [0, 1]; "
                        f"got shape {e.shape}")
    return e


def diagnose(data: CausalData, e: np.ndarray, *, delta: float, learner: str, n_folds: int,
             max_depth: int = 2, n_bins: int = 50, tolerance: float = 0.01,
             min_ess_share: float = MIN_ESS_SHARE) -> PositivityReport:
    """The report from given propensities (no warning raised here); the overlap verdict is
    :func:`causalsynth.estimators.overlap_fails` with ``max_outside=tolerance``."""
    n_largest, min_region_share = N_LARGEST, MIN_REGION_SHARE
    a = data.a
    ec = np.clip(e, _FLOOR, 1 - _FLOOR)
    w = np.where(a == 1, 1 / ec, 1 / (1 - ec))
    n_below, n_above = int(np.sum(e < delta)), int(np.sum(e > 1 - delta))
    ess = {arm: kish_ess(w[a == arm]) for arm in (1, 0)}
    ess_share = {arm: ess[arm] / max(int(np.sum(a == arm)), 1) for arm in (1, 0)}
    totals = {arm: float(np.sum(w[a == arm])) for arm in (1, 0)}
    top = np.argsort(-w, kind="stable")[:n_largest]
    largest = pd.DataFrame({"row": top, "arm": a[top].astype(int), "propensity": e[top], "weight": w[top],
                            "share_of_arm": [w[i] / totals[int(a[i])] for i in top]})
    root = -1
    if n_below + n_above:
        leaves, leaf, root = _region_tree(data, e, delta, max_depth, min_region_share)
    else:
        leaves = pd.DataFrame({"region_id": [0], "rule": ["all units"], "n_obs": [data.n_obs],
                               "share_outside": [0.0], "n_below": [0], "n_above": [0],
                               "side": [""], "mean_propensity": [float(e.mean())],
                               "n_treated": [data.n_treated], "n_control": [data.n_control],
                               "flagged": [False]})
        leaf = np.zeros(data.n_obs, dtype=np.int64)
    share = (n_below + n_above) / data.n_obs
    message = None
    if overlap_fails(share, ess_share.values(), max_outside=tolerance, min_ess_share=min_ess_share):
        regions = leaves.loc[leaves["flagged"], "rule"].tolist()
        message = (f"{n_below + n_above} of {data.n_obs} units ({share:.1%}) have estimated propensity "
                   f"outside [{delta:g}, {1 - delta:g}]; effective sample size is "
                   f"{ess_share[1]:.0%} of the treated and {ess_share[0]:.0%} of the controls"
                   + (f"; overlap fails where {' | '.join(regions)}" if regions else "")
                   + ". IPW and AIPW are fragile here: restrict the sample, change the estimand, "
                     "or see causalsynth.positivity.augment_positivity.")
    X, names = data.design_matrix()
    j = root if root >= 0 else 0
    cov, cov_name = X[:, j], names[j]
    return PositivityReport(delta=delta, n_obs=data.n_obs, n_treated=data.n_treated, share_outside=share,
                            n_below=n_below, n_above=n_above, ess=ess, ess_share=ess_share,
                            overlap_coefficient=overlap_coefficient(e, a, n_bins), largest_weights=largest,
                            leaves=leaves, propensity_learner=learner, n_folds=n_folds, warning=message,
                            propensity=e, treatment=a, leaf=leaf, covariate=cov, covariate_name=cov_name)


def diagnose_positivity(
    data: CausalData,
    *,
    propensity: Any = None,
    delta: float = 0.05,
    n_folds: int = 5,
    max_depth: int = 2,
    n_bins: int = 50,
    tolerance: float = 0.01,
    min_ess_share: float = MIN_ESS_SHARE,
    random_state: RandomState = None,
) -> PositivityReport:
    r"""Diagnose practical positivity (overlap) problems.

    Parameters
    ----------
    data : CausalData
    propensity : learner specification (preset, scikit-learn classifier, formula; default
        main-terms logistic), or an array (n_obs,) of propensity scores you computed.
    delta : float in (0, 0.5), default 0.05
        Units with estimated propensity outside :math:`[\delta, 1-\delta]` lack overlap.
    n_folds : cross-fitting folds of the propensity model (1 = fit and predict in sample).
    max_depth : depth of the decision tree that describes the regions (default 2).
    n_bins : bins of the overlap coefficient's histograms on [0, 1].
    tolerance : a :class:`~causalsynth.errors.PositivityWarning` is issued when more than
        this share of units lies outside :math:`[\delta, 1-\delta]` ...
    min_ess_share : ... or when an arm's effective sample size is below this share of its size.
    random_state : seeds the folds and the learner.

    Returns
    -------
    PositivityReport
    """
    data = check_data(data)
    delta = check_delta(delta)
    n_folds = check_int("n_folds", n_folds, 1)
    max_depth = check_int("max_depth", max_depth, 1)
    n_bins = check_int("n_bins", n_bins, 2)
    check_range("tolerance", tolerance, 0.0, 1.0)
    check_range("min_ess_share", min_ess_share, 0.0, 1.0)
    fold_seed, p_seed = as_seed_sequence(random_state).spawn(2)
    if isinstance(propensity, (np.ndarray, list, pd.Series)):
        e = _check_propensity_array(propensity, data.n_obs)
        learner, n_folds = "given by the caller", 0
    else:
        smallest = min(data.n_treated, data.n_control)
        if n_folds > 1 and smallest < 2 * n_folds:
            raise SpecError(f"n_folds={n_folds} is too many for the smallest arm ({smallest} rows); "
                            "use fewer folds.")
        folds = make_folds(data.a, n_folds, fold_seed) if n_folds > 1 else np.zeros(data.n_obs, dtype=np.int64)
        e, learner = propensity_out_of_fold(data, propensity, folds, p_seed)
    report = diagnose(data, e, delta=delta, learner=learner, n_folds=n_folds, max_depth=max_depth,
                      n_bins=n_bins, tolerance=tolerance, min_ess_share=min_ess_share)
    if report.warning:
        warnings.warn(report.warning, PositivityWarning, stacklevel=2)
    return report
