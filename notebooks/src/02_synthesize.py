"""Cells of notebooks/02_synthesize.ipynb (built by notebooks/_build.py)."""

CELLS = [
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
from causalsynth.synth.hybrid import HybridSynthesizer, SynthSettings

data = load_nhefs()
real = estimate(data, random_state=0).summary().set_index("estimator")
real"""),
    ("md", "## Three generators: bootstrap (a baseline that copies rows), Gaussian copula, TVAE"),
    ("code", """synths, reports, rows = {}, {}, []
options = {"bootstrap": None, "copula": None, "tvae": {"epochs": 60, "batch_size": 250}}
for name, opts in options.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        synth = HybridSynthesizer(generator=name, settings=SynthSettings(covariate_options=opts), random_state=1).fit(data)
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
