"""Cells of notebooks/01_estimate.ipynb (built by notebooks/_build.py)."""

CELLS = [
    ("md", """# 01 - Estimating the effect of quitting smoking on weight gain (NHEFS)

Hernan & Robins, *Causal Inference: What If*, chapters 12-13: 1,566 smokers, treatment `qsmk`
(quit between 1971 and 1982), outcome `wt82_71` (weight change, kg). The book reports IP
weighting 3.4 kg (95% CI 2.4 to 4.5) and standardization 3.5 kg."""),
    ("code", """import matplotlib.pyplot as plt
import numpy as np
from causalsynth import estimate
from causalsynth.datasets import load_nhefs
from causalsynth.datasets import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA

data = load_nhefs()
data"""),
    ("md", "Fit the book's propensity and outcome models once; all four estimators reuse them."),
    ("code", """result = estimate(data, propensity=NHEFS_PROPENSITY_FORMULA, outcome=NHEFS_OUTCOME_FORMULA,
                  random_state=0)
print(result)
table = result.summary().set_index("estimator")
assert abs(table.loc["ipw", "ate"] - 3.4405) < 1e-4   # Program 12.2
assert abs(table.loc["or", "ate"] - 3.517) < 5e-4     # Program 13.3 (over the 1,566)"""),
    ("md", "## Overlap: estimated propensity by arm"),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
e, a = result.propensity, data.a
bins = np.linspace(0, 1, 41)
axes[0].hist(e[a == 0], bins=bins, alpha=0.6, density=True, label="did not quit (A=0)")
axes[0].hist(e[a == 1], bins=bins, alpha=0.6, density=True, label="quit (A=1)")
axes[0].set_xlabel("estimated propensity P(qsmk=1 | W)")
axes[0].set_ylabel("density")
axes[0].legend()
axes[0].set_title("Propensity by arm")
result.plot(ax=axes[1])
axes[1].axvline(3.4405, color="C3", ls="--", lw=1, label="What If IPW 3.44")
axes[1].legend(loc="lower right")
axes[1].set_title("Estimates with 95% intervals")
fig.tight_layout()"""),
    ("md", """## Flexible learners with cross-fitting

Gradient boosting for both nuisance models, 5 shared folds, plus DML (econml)."""),
    ("code", """flex = estimate(data, estimators=("or", "ipw", "aipw", "tmle", "dml"), propensity="gbm",
                outcome="gbm", n_folds=5, random_state=0)
flex.summary()"""),
]
