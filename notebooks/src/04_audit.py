"""Cells of notebooks/04_audit.ipynb (built by notebooks/_build.py)."""

CELLS = [
    ("md", """# 04 - Does the synthetic copy keep the treatment effect?

Predictive utility (train on synthetic, test on real) and fidelity scores (column distances,
a detector's AUC) are how synthetic data is usually judged. They can look excellent while the
average treatment effect (ATE) in the synthetic data is wrong: a generator of the joint
(W, A, Y) sees the treatment contrast only where both arms occur, a small part of its
likelihood when overlap is poor. The hybrid synthesizer draws A and Y from separately fitted
nuisance models, so it keeps the contrast. `causalsynth.audit` puts all the figures side by side."""),
    ("code", """import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from causalsynth.audit import AuditConfig, audit
from causalsynth.datasets import load_nhefs
from causalsynth.datasets import LimitedOverlapDesign

pd.set_option("display.precision", 3)
FAST = dict(utility_learners=("linear", "gbm", "knn"), detection_classifier="logistic")"""),
    ("md", """## A designed case: strong imbalance, small overlap, modest effect

`LimitedOverlapDesign`: four normal covariates and the treatment explain about 94% of the
outcome's variance; a quarter of the units are treated, about half of all units have propensity
below 0.1 or above 0.9; the effect is 1 (a quarter
of the outcome's SD). We audit the hybrid against a Gaussian copula fitted to the whole table."""),
    ("code", """data = LimitedOverlapDesign().sample(1500, random_state=1).data
designed = audit(data, AuditConfig(estimators=("or", "aipw"), n_reps=8, n_synthetic=3000, **FAST),
                 synthesizers=["hybrid", "copula"], random_state=0)
designed.summary()[["synthesizer", "real_ate", "ate_mean", "ate_error", "ate_error_se", "z_error",
                    "utility", "utility_trtr", "detection_auc", "chi2"]]"""),
    ("md", """The two key plots: the ATE by synthesizer against the real estimate, and predictive utility
against ATE error (one point per repeat)."""),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
designed.plot_ate(ax=axes[0])
designed.plot_utility_vs_error(ax=axes[1])
fig.tight_layout()"""),
    ("md", """The claims, checked: the copula predicts the outcome as well as a model trained on real data
and a detector cannot tell its rows from real ones, yet its ATE error exceeds the hybrid's by
more than three standard errors (over the repeats) of the difference."""),
    ("code", """s = designed.summary().set_index("synthesizer")
hyb, cop = s.loc["hybrid"], s.loc["copula"]
assert cop["utility"] > 0.97 * cop["utility_trtr"]          # good prediction ...
assert cop["detection_auc"] < 0.6                           # ... good fidelity ...
gap = cop["ate_error"] - hyb["ate_error"]
assert gap > 3 * np.hypot(cop["ate_error_se"], hyb["ate_error_se"])   # ... bad ATE
assert hyb["ate_preserved"] and not cop["ate_preserved"]
print(f"copula misses the ATE by {cop['ate_error']:.2f} ({cop['z_error']:.1f} real SEs), "
      f"the hybrid by {hyb['ate_error']:.2f} ({hyb['z_error']:.1f})")"""),
    ("md", """## Real data: NHEFS (quitting smoking and weight gain)

Three repeats each of the hybrid, the joint Gaussian copula and a bootstrap copy of the real
rows (CTGAN and TVAE are left to `docs/audit.md`, they take minutes to train)."""),
    ("code", """nhefs = audit(load_nhefs(), AuditConfig(n_reps=3, **FAST), synthesizers=["hybrid", "copula", "bootstrap"],
              random_state=0)
print(nhefs)"""),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
nhefs.plot_ate(ax=axes[0])
nhefs.plot_utility_vs_error(ax=axes[1])
fig.tight_layout()"""),
    ("md", """The hybrid and the copula use the same copula for the covariates, so their covariate fidelity
is alike; only the hybrid keeps the effect (the copula shrinks it)."""),
    ("code", """s = nhefs.summary().set_index("synthesizer")
assert abs(s.loc["hybrid", "detection_auc"] - s.loc["copula", "detection_auc"]) < 0.05
assert s.loc["copula", "ate_error"] > 2 * s.loc["hybrid", "ate_error"]
assert s.loc["hybrid", "ate_preserved"]
assert s.loc["bootstrap", "exact_copy_share"] == 1.0 and s.loc["hybrid", "exact_copy_share"] < 0.01"""),
    ("md", """## Granular view and model-comparison consistency

Group effects (means of AIPW pseudo-outcomes within covariate quartiles) and the rank agreement
of outcome learners (by utility) and of estimators (by their ATEs) between synthetic and real data."""),
    ("code", """sub = nhefs.subgroups()
sub[sub["synthesizer"] == "hybrid"].head(8)"""),
    ("code", """nhefs.consistency()"""),
    ("code", """import tempfile
paths = nhefs.write_report(tempfile.mkdtemp())
sorted(p.name for p in paths.values())"""),
]
