"""Cells of notebooks/03_simulate.ipynb (built by notebooks/_build.py)."""

CELLS = [
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
