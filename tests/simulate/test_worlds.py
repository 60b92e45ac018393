"""Worlds, the recommendation across them, generator refits, and the engine scoring itself."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth.datasets.designs import KangSchafer2007, LinearLogisticDesign, NonlinearHeterogeneousDesign
from causalsynth.errors import CausalSynthWarning, SpecError
from causalsynth.simulate import Simulation, simulate
from causalsynth.simulate.recommend import recommend
from causalsynth.progress import RunOptions
from causalsynth.simulate.selection import DEFAULT_PANEL, StudyOptions, selection_study
from causalsynth.simulate.uncertainty import RefitOptions, generator_uncertainty
from causalsynth.simulate.worlds import WORLDS, build_worlds
from causalsynth.synth.hybrid import HybridSynthesizer
from causalsynth.synth.placebo import PlaceboSynthesizer

GLM = {"propensity": "logistic", "outcome": None}
GBM = {"propensity": "gbm", "outcome": "gbm", "n_folds": 3}


@pytest.fixture(scope="module")
def small_real():
    return NonlinearHeterogeneousDesign().sample(600, random_state=4).data


@pytest.fixture(scope="module")
def worlds(small_real):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_worlds(small_real, list(WORLDS), n_reference=10_000, random_state=0)


def test_worlds_are_fitted_with_their_classes_and_truths(worlds, small_real):
    assert list(worlds) == ["flexible", "glm", "gbm", "placebo"]
    assert worlds["flexible"].classes == {"flexible"} and worlds["glm"].classes == {"glm"}
    assert worlds["gbm"].classes == {"gbm"}
    for name, w in worlds.items():
        sample = w.dgp.sample(300, random_state=1)
        assert sample.data.covariates == small_real.covariates
        assert np.isfinite(sample.truth["cate"]).all()
    assert worlds["flexible"].dgp.noise_ == "residuals"


def test_placebo_world_keeps_real_outcomes_and_has_no_effect(small_real):
    world = PlaceboSynthesizer(random_state=0).fit(small_real)
    controls = small_real.frame[small_real.a == 0]
    sample = world.sample(10_000, random_state=2)  # more than the pool: every control, once
    assert sample.data.n_obs == len(controls) == world.n_controls_
    assert sorted(sample.data.y) == sorted(controls[small_real.outcome])
    assert (sample.truth["cate"] == 0).all() and sample.population_ate == 0.0
    assert (sample.truth["y0"] == sample.truth["y1"]).all()
    # the placebo share is the real treated share, in expectation
    shares = [world.sample(200, random_state=s).data.a.mean() for s in range(40)]
    assert abs(np.mean(shares) - small_real.a.mean()) < 4 * np.std(shares) / np.sqrt(40)
    # confounding: placebo-treated controls differ from the others where the real treated do
    s = world.sample(10_000, random_state=3).data.frame
    real = small_real.frame
    sign_real = np.sign(real.loc[real.a == 1, "w1"].mean() - real.loc[real.a == 0, "w1"].mean())
    assert np.sign(s.loc[s.a == 1, "w1"].mean() - s.loc[s.a == 0, "w1"].mean()) == sign_real


def test_simulation_over_worlds_and_the_plan(worlds):
    chosen = {k: worlds[k] for k in ("flexible", "glm", "placebo")}
    sim = Simulation(chosen, n=300, n_reps=6, learners={"glm": {**GLM, "n_reps": 12}, "gbm": GBM},
                     estimators=("or", "aipw"), random_state=0)
    assert sim.decision_worlds == ("flexible", "placebo")  # glm is the GLM candidates' home
    plan = sim.plan(pilot_reps=1)
    text = str(plan)
    assert all(f"world {w}" in text for w in chosen)
    assert set(plan.costs["world"]) == set(chosen) and (plan.costs["estimated_seconds"] > 0).all()
    res = sim.run()
    counts = res.replicates.groupby(["world", "learner"])["rep"].nunique()
    assert (counts.xs("glm", level="learner") == 12).all() and (counts.xs("gbm", level="learner") == 6).all()
    assert res.n_resumed == 3  # the plan's pilot replicates were reused, not recomputed
    summ = res.summary()
    assert set(summ["world"]) == set(chosen)
    rec = res.recommendation()
    assert rec.choice in set(zip(summ["learner"], summ["estimator"]))
    assert rec.decision_worlds == ("flexible", "placebo")
    text = str(rec)
    assert "glm world (a candidate's home, not deciding)" in text
    assert all(s.endswith(".") for s in rec.sentences())
    # the pilot replicates are the run's own: the same as a run without a plan
    again = Simulation(chosen, n=300, n_reps=6, learners={"glm": {**GLM, "n_reps": 12}, "gbm": GBM},
                       estimators=("or", "aipw"), random_state=0).run()
    cols = ["world", "learner", "estimator", "rep", "ate", "std_error"]
    pd.testing.assert_frame_equal(res.replicates[cols], again.replicates[cols])


def test_a_single_home_world_warns():
    design = LinearLogisticDesign()
    real = design.sample(400, random_state=0).data
    synth = HybridSynthesizer(n_reference=5000, random_state=0).fit(real)
    with pytest.warns(CausalSynthWarning, match="home advantage"):
        Simulation(synth, n=200, n_reps=3, learners={"glm": "logistic"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", CausalSynthWarning)
        Simulation(design, n=200, n_reps=3, learners={"glm": "logistic"})  # a design: no class, no warning


def test_bad_worlds_are_refused(small_real):
    with pytest.raises(SpecError, match="unknown world"):
        Simulation(small_real, worlds=("flexible", "bayes"))
    with pytest.raises(SpecError, match="built from real data"):
        Simulation(LinearLogisticDesign(), worlds=("flexible",))
    with pytest.raises(SpecError, match="no known truth"):
        Simulation({"mine": small_real})
    with pytest.raises(SpecError, match="twice"):
        Simulation(small_real, worlds=("glm", "glm"))


def _rows(errors: dict, truth=0.0, se=1.0):
    """Replicate rows from {(world, learner, estimator): errors}."""
    out = []
    for (world, lrn, est), err in errors.items():
        for rep, e in enumerate(err):
            out.append({"world": world, "scenario": "base", "n": 100, "learner": lrn, "estimator": est, "rep": rep,
                        "ate": truth + e, "pate": truth, "std_error": se, "ci_lower": truth + e - 1.96 * se,
                        "ci_upper": truth + e + 1.96 * se, "failed": False})
    return pd.DataFrame(out)


def test_recommendation_minimises_the_worst_regret_among_fit_configurations():
    rng = np.random.default_rng(0)
    R = 400
    errors = {
        # "a" is best in w1, poor in w2; "b" is second everywhere; "c" has tiny errors but its
        # intervals are far too narrow in w2 (unfit there)
        ("w1", "x", "a"): rng.normal(0, 0.5, R), ("w2", "x", "a"): rng.normal(0, 2.0, R),
        ("w1", "x", "b"): rng.normal(0, 0.7, R), ("w2", "x", "b"): rng.normal(0, 0.8, R),
        ("w1", "x", "c"): rng.normal(0, 0.9, R), ("w2", "x", "c"): rng.normal(0.0, 0.3, R) + 2.5,
    }
    rows = _rows(errors)
    rows.loc[(rows.world == "w2") & (rows.estimator == "c"), ["ci_lower", "ci_upper"]] = (
        rows.loc[(rows.world == "w2") & (rows.estimator == "c"), "ate"].to_numpy()[:, None] + [-0.1, 0.1])
    rec = recommend(rows.assign(_t=rows["pate"]), scenario="", n=100, level=0.95, decision_worlds=("w1", "w2"),
                    truth_col="_t", n_boot=200)
    assert rec.choice == ("x", "b")
    t = rec.table.set_index(["world", "estimator"])
    assert t.loc[("w2", "c"), "unfit"] and not t.loc[("w1", "b"), "unfit"]
    assert t.loc[("w1", "a"), "regret"] == pytest.approx(1.0)
    assert rec.p_best > 0.8 and rec.runner_up is not None and rec.runner_up != rec.choice
    assert rec.agreement == {"w1": ("x", "a"), "w2": ("x", "b")}
    assert "disagree" in str(rec)
    # a world outside the deciding ones changes nothing but is reported
    more = pd.concat([rows, _rows({("home", "x", m): rng.normal(0, 0.1 if m == "a" else 1, R) for m in "abc"})])
    rec2 = recommend(more.assign(_t=more["pate"]), scenario="", n=100, level=0.95, decision_worlds=("w1", "w2"),
                     truth_col="_t", n_boot=50)
    assert rec2.choice == ("x", "b") and "In the home world" in str(rec2)


def test_over_coverage_is_stated_only_when_the_interval_supports_it():
    rng = np.random.default_rng(1)
    # errors sd 1 and SE 1: coverage 95%; with SE 1.3 coverage ~99%, significant with 400 reps
    exact = _rows({("w", "x", "a"): rng.normal(0, 1, 400)})
    wide = _rows({("w", "x", "a"): rng.normal(0, 1, 400)}, se=1.3)
    for rows, flagged in ((exact, False), (wide, True)):
        rec = recommend(rows.assign(_t=rows["pate"]), scenario="", n=100, level=0.95, decision_worlds=("w",),
                        truth_col="_t", n_boot=20)
        assert ("conservative" in str(rec)) == flagged


def test_generator_refits_use_the_given_learners_and_say_whether_the_choice_survives(small_real):
    res = simulate(small_real, worlds=("flexible", "placebo"), n=300, n_reps=8, learners={"glm": GLM},
                   estimators=("or", "ipw"), random_state=0)
    unc = generator_uncertainty(small_real, worlds=("flexible", "placebo"), n=300, refits=RefitOptions(n_refits=2, n_reps=8),
                                learners={"glm": GLM}, estimators=("or", "ipw"), original=res, random_state=1)
    assert set(unc.table["generator"]) == {"original", "refit 1", "refit 2"}
    assert set(unc.table["world"]) == {"flexible", "placebo"}
    assert unc.verdict in ("survives", "fragile", "does not survive")
    assert unc.robust_choice in {("glm", "or"), ("glm", "ipw")}
    assert "refits of the worlds" in str(unc)


def test_cli_demo_states_its_worlds_and_agrees_with_itself(tmp_path, capsys):
    import json

    from causalsynth.cli import main
    code = main(["demo", "--n-reps", "3", "--reps-per-config", "glm=6", "--worlds", "flexible,glm,placebo",
                 "--refits", "0", "--n-jobs", "1", "--estimators", "or,aipw", "--out", str(tmp_path), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [w["world"] for w in doc["worlds"]] == ["flexible", "glm", "placebo"]
    rec = doc["simulation"]["recommendations"][0]
    assert rec["decision_worlds"] == ["flexible", "placebo"]
    # step 4 estimates with the configuration the recommendation names
    assert [doc["recommended"]["learner"], doc["recommended"]["estimator"]] == rec["choice"]
    assert doc["real_estimate"]["estimates"][0]["estimator"] == rec["choice"][1]
    assert (tmp_path / "report.html").exists()


def test_selection_study_scores_the_engine_against_real_draws():
    design = LinearLogisticDesign()
    study = selection_study(design, n=300, study=StudyOptions(n_real=20, n_observed=1), n_reps=6,
                            learners={"glm": {**GLM, "n_reps": 12}, "gbm": GBM}, estimators=("or", "aipw"),
                            random_state=0)
    scores = study.scores().set_index("score")
    assert {"regret", "rank_corr", "coverage_error", "coverage_error_recommended",
            "regret always AIPW-GBM"} <= set(scores.index)
    assert scores.loc["regret", "mean"] >= 1.0
    assert len(study.real) == 4 and set(study.draws.columns) >= {"recommended", "regret"}
    assert "Selection study" in str(study)


def test_default_engine_beats_the_glm_world_on_kang_schafer_with_misspecified_covariates():
    # The GLM world is the GLM candidates' home: in it, misspecification is invisible and a GLM
    # configuration wins. On the real law (outcome and propensity nonlinear in the observed
    # X), GLM configurations are badly biased. The engine's worlds must see that.
    design = KangSchafer2007(effect=10, observed="X")
    panel = {"glm": {**GLM, "n_reps": 30}, "gbm": {**DEFAULT_PANEL["gbm"], "n_folds": 3}}
    common = dict(n=500, n_reps=15, learners=panel, run=RunOptions(n_jobs=2), random_state=0)
    engine = selection_study(design, study=StudyOptions(n_real=40, n_observed=1), **common)
    glm_world = selection_study(design, worlds=("glm",), study=StudyOptions(n_real=40, n_observed=1, real=engine.real),
                                **common)
    real = engine.real.set_index(["learner", "estimator"])
    floor = real["rmse"].min()

    def regret_and_se(study):
        choice = tuple(study.draws["recommended"].iloc[0].split("-")[::-1])
        return real.loc[choice, "rmse"] / floor, real.loc[choice, "rmse_mcse"] / floor
    r_engine, se_engine = regret_and_se(engine)
    r_glm, se_glm = regret_and_se(glm_world)
    margin = 3 * np.hypot(se_engine, se_glm)  # the MC error of the real RMSEs of the two choices
    assert r_glm - r_engine > margin, (r_engine, r_glm, margin)
