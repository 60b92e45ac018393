"""Write the example notebooks from the cell sources below (run: python notebooks/_build.py).

The notebooks are executed by tests/test_notebooks.py; keeping their sources here keeps
diffs readable.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01_estimate.ipynb"] = [
    ("md", """# 01 - Estimating the effect of quitting smoking on weight gain (NHEFS)

Hernan & Robins, *Causal Inference: What If*, chapters 12-13: 1,566 smokers, treatment `qsmk`
(quit between 1971 and 1982), outcome `wt82_71` (weight change, kg). The book reports IP
weighting 3.4 kg (95% CI 2.4 to 4.5) and standardization 3.5 kg."""),
    ("code", """import matplotlib.pyplot as plt
import numpy as np
from causalsynth import estimate
from causalsynth.datasets import load_nhefs
from causalsynth.datasets._real import NHEFS_OUTCOME_FORMULA, NHEFS_PROPENSITY_FORMULA

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

NOTEBOOKS["02_synthesize.ipynb"] = [
    ("md", """# 02 - Hybrid synthetic NHEFS: three covariate generators, DCR, and the knobs

The hybrid synthesizer generates the covariates W with a generator, then draws the treatment
from a fitted propensity model and the outcome from fitted outcome models plus noise, so every
synthetic row carries its truth. A fifth of the real rows is held out as the baseline of the
distance-to-closest-record (DCR) check."""),
    ("code", """import warnings
import matplotlib.pyplot as plt
import numpy as np
from causalsynth import estimate
from causalsynth.datasets import load_nhefs
from causalsynth.errors import PrivacyWarning
from causalsynth.synth.hybrid import HybridSynthesizer

data = load_nhefs()
real = estimate(data, random_state=0).summary().set_index("estimator")
real"""),
    ("md", "## Three generators: bootstrap (a baseline that copies rows), Gaussian copula, TVAE"),
    ("code", """synths, reports, rows = {}, {}, []
options = {"bootstrap": None, "copula": None, "tvae": {"epochs": 60, "batch_size": 250}}
for name, opts in options.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        synth = HybridSynthesizer(covariates=name, covariate_options=opts, random_state=1).fit(data)
    sample = synth.sample(data.n_obs, random_state=2)
    est = estimate(sample.data, random_state=0).summary().set_index("estimator").loc["aipw"]
    report = synth.dcr_report(random_state=0)
    synths[name], reports[name] = synth, report
    rows.append({"generator": name, "population ATE": synth.population_ate_, "sample ATE": sample.sate,
                 "AIPW on synthetic": est["ate"], "exact copies": report.exact_copy_share,
                 "closer to train than holdout": report.closer_to_train_share,
                 "membership AUC": report.membership_auc})
import pandas as pd
table = pd.DataFrame(rows).set_index("generator")
assert table.loc["copula", "exact copies"] == 0.0
assert table.loc["bootstrap", "exact copies"] == 1.0
table.round(3)"""),
    ("md", """The bootstrap copies real rows (every DCR is 0); the copula and TVAE rows lie about as far
from the training rows as genuinely new real rows (the holdout) do."""),
    ("code", """fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), sharey=True)
for ax, (name, report) in zip(axes, reports.items()):
    report.plot(ax=ax)
    ax.set_title(name)
fig.tight_layout()"""),
    ("md", "## The knobs: overlap, confounding, effect size and heterogeneity"),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
bins = np.linspace(0, 1, 51)
for s in (0.5, 1.0, 2.0):
    synth = HybridSynthesizer(overlap=s, random_state=1, n_reference=50_000).fit(data)
    e = synth.reference_propensity_
    share = np.mean((e < 0.05) | (e > 0.95))
    axes[0].hist(e, bins=bins, histtype="step", density=True, lw=1.5,
                 label=f"overlap={s}: {100 * share:.1f}% outside [0.05, 0.95]")
axes[0].set_xlabel("true propensity of synthetic rows")
axes[0].legend(fontsize=8)
axes[0].set_title("overlap tempers the propensity (treated share kept)")
for k in (0.0, 1.0, 3.0):
    synth = HybridSynthesizer(ate=5.0, effect_scale=k, random_state=1, n_reference=50_000).fit(data)
    cate = synth.sample(20_000, random_state=3).truth["cate"]
    axes[1].hist(cate, bins=np.linspace(-15, 25, 81), histtype="step", density=True, lw=1.5,
                 label=f"effect_scale={k}: ATE {synth.population_ate_:.2f}")
axes[1].set_xlabel("CATE of synthetic rows (kg)")
axes[1].legend(fontsize=8)
axes[1].set_title("ate=5 with more or less heterogeneity")
fig.tight_layout()"""),
    ("code", """randomized = HybridSynthesizer(confounding=0.0, random_state=1).fit(data).sample(5000, random_state=4)
print("confounding=0: propensity range", randomized.truth["propensity"].min(), randomized.truth["propensity"].max())
est = estimate(randomized.data, estimators=("ipw",), propensity="qsmk ~ 1", random_state=0)
print("difference in means on randomized synthetic data:", round(est["ipw"], 3),
      "vs sample ATE", round(randomized.sate, 3))"""),
]

NOTEBOOKS["03_simulate.ipynb"] = [
    ("md", """# 03 - Choosing an estimator before touching the real outcomes

1. Kang and Schafer (2007): the classic design where both nuisance models can be misspecified.
2. NHEFS: fit the hybrid synthesizer, simulate the estimator panel on replicates with a known
   truth, rank, and check whether the ranking survives refitting the generator."""),
    ("code", """import matplotlib.pyplot as plt
import numpy as np
from causalsynth.datasets import load_nhefs
from causalsynth.datasets.designs import KANG_SCHAFER_FORMULAS as F, KangSchafer2007
from causalsynth.simulate import Simulation, simulate
from causalsynth.simulate.report import plot_bias_rmse, plot_coverage
from causalsynth.simulate.uncertainty import generator_uncertainty
from causalsynth.synth.hybrid import HybridSynthesizer"""),
    ("md", "## Kang-Schafer: correct (Z) against misspecified (X) covariates, n = 1000"),
    ("code", """learners = {
    "correct": {"propensity": F[("propensity", "Z")], "outcome": F[("outcome", "Z")]},
    "misspecified": {"propensity": F[("propensity", "X")], "outcome": F[("outcome", "X")]},
}
sim = Simulation(KangSchafer2007(), n=1000, n_reps=100, learners=learners, random_state=2007)
print(sim.plan(pilot_reps=1))
ks = sim.run()
table = ks.summary(target="mu1")[["learner", "estimator", "bias", "bias_mcse", "rmse", "rmse_mcse"]]
table"""),
    ("code", """mis = table[table.learner == "misspecified"].set_index("estimator")
# both misspecified: outcome regression is biased downwards (published: -0.82), AIPW with
# clipped inverse weights does worst, TMLE's bounded fluctuation holds up better than AIPW
assert mis.loc["or", "bias"] < 0
assert mis.loc["aipw", "rmse"] > mis.loc["tmle", "rmse"] > mis.loc["or", "rmse"]
fig = plot_bias_rmse(ks)"""),
    ("md", "## NHEFS: which estimator for data like these?"),
    ("code", """data = load_nhefs()
synth = HybridSynthesizer(covariates="copula", random_state=1, n_reference=50_000).fit(data)
res = simulate(synth, n=data.n_obs, n_reps=80, learners={"glm": "logistic"},
               scenarios={"as fitted": {}, "poorer overlap": {"overlap": 2.0}}, random_state=3)
print(res.recommendation())
fig = plot_coverage(res)"""),
    ("code", """summ = res.summary().set_index(["scenario", "estimator"])
# the poorer-overlap scenario makes IPW noisier than in the fitted scenario
assert summ.loc[("poorer overlap", "ipw"), "rmse"] > summ.loc[("as fitted", "ipw"), "rmse"]
unc = generator_uncertainty(data, HybridSynthesizer(n_reference=20_000), n_generators=3, n_reps=40,
                            learners={"glm": "logistic"}, random_state=4)
print(unc)"""),
]


def build(names=None) -> None:
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    build(sys.argv[1:])
