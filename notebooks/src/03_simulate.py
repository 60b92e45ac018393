"""Cells of notebooks/03_simulate.ipynb (built by notebooks/_build.py)."""

CELLS = [
    ("md", """# 03 - Choosing an estimator before touching the real outcomes

1. Kang and Schafer (2007): the classic design where both nuisance models can be misspecified.
2. NHEFS: fit several simulation worlds to the data, simulate the estimator panel in each with a
   known truth, recommend by worst-case regret, and check whether the choice survives refitting
   the worlds."""),
    ("code", """import matplotlib.pyplot as plt
import numpy as np
from causalsynth import RunOptions
from causalsynth.datasets import load_nhefs
from causalsynth.datasets.designs import KANG_SCHAFER_FORMULAS as F, KangSchafer2007
from causalsynth.simulate import Simulation, simulate
from causalsynth.simulate.report import plot_bias_rmse, plot_coverage
from causalsynth.simulate.uncertainty import RefitOptions, generator_uncertainty"""),
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
    ("md", """## NHEFS: which estimator for data like these?

A single synthetic world built from main-terms GLMs would make every GLM estimator correct by
construction. So the candidates run in several worlds fitted to the same data: `flexible`
(a stack of boosting and spline/interaction GLMs, a class no candidate has), `glm` (the GLM
candidates' home world, shown, not deciding) and `placebo` (real control outcomes, a
placebo treatment, true effect 0). The recommendation minimises the worst regret across the
deciding worlds. Here with few replicates and n = 600 to keep the notebook quick."""),
    ("code", """data = load_nhefs()
sim = Simulation(data, worlds=("flexible", "glm", "placebo"), n=600, n_reps=10,
                 learners={"glm": {"propensity": "logistic", "outcome": None, "n_reps": 100},
                           "gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 3}},
                 random_state=3)
print(sim.world_table()[["world", "model_classes", "decides"]])
print(sim.plan(pilot_reps=1))
res = sim.run(RunOptions(n_jobs=2))
rec = res.recommendation()
print(rec)"""),
    ("code", """from causalsynth.simulate.report import plot_regret
fig = plot_regret(rec)
assert rec.decision_worlds == ("flexible", "placebo")
assert rec.choice is not None"""),
    ("md", "Does the choice survive refitting the deciding worlds on bootstrap resamples of the real rows?"),
    ("code", """unc = generator_uncertainty(data, worlds=("flexible", "placebo"), n=600, refits=RefitOptions(n_refits=2, n_reps=40),
                            learners={"glm": {"propensity": "logistic", "outcome": None}}, random_state=4)
print(unc)
fig = plot_coverage(res)"""),
]
