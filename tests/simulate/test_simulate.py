"""The simulation engine: truth accounting, Kang-Schafer, coverage, determinism, resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from causalsynth.datasets.designs import KANG_SCHAFER_FORMULAS as KSF
from causalsynth.datasets.designs import KangSchafer2007, LinearLogisticDesign
from causalsynth.errors import SpecError
from causalsynth import RunOptions
from causalsynth.simulate import Simulation, SimulationOptions, SimulationResult, SimulationSpec, simulate
from causalsynth.simulate.run import ROW_COLUMNS
from causalsynth.synth.hybrid import HybridSynthesizer

TIMING = ["seconds_nuisance", "seconds_estimator"]


def _strip(frame):
    return frame.drop(columns=[c for c in frame.columns if c.startswith("seconds")])


@pytest.fixture(scope="module")
def kang_schafer():
    learners = {
        "correct": {"propensity": KSF[("propensity", "Z")], "outcome": KSF[("outcome", "Z")]},
        "misspecified": {"propensity": KSF[("propensity", "X")], "outcome": KSF[("outcome", "X")]},
    }
    return simulate(KangSchafer2007(), n=1000, n_reps=200, learners=learners, random_state=2007)


@pytest.mark.slow  # the kang_schafer fixture: 200 replicates
def test_kang_schafer_correct_models_unbiased(kang_schafer):
    for target in ("ate", "mu1"):
        summ = kang_schafer.summary(target=target)
        ok = summ[summ["learner"] == "correct"]
        assert (np.abs(ok["bias"]) < 4 * ok["bias_mcse"]).all(), ok[["estimator", "bias", "bias_mcse"]]


@pytest.mark.slow  # the kang_schafer fixture: 200 replicates
def test_kang_schafer_misspecified_pattern(kang_schafer):
    summ = kang_schafer.summary(target="mu1").set_index(["learner", "estimator"]).loc["misspecified"]
    # Published reproduction (Biometrika 2012, Table 1): OR bias -0.82 (RMSE 1.70) at n=1000
    assert abs(summ.loc["or", "bias"] + 0.82) < 3 * summ.loc["or", "bias_mcse"]
    assert abs(summ.loc["or", "rmse"] - 1.70) < 3 * summ.loc["or", "rmse_mcse"] + 0.1
    # AIPW with inverse weights (clipped at 0.01) fails badly; TMLE's bounded fluctuation holds up better
    a, t, o = summ.loc["aipw"], summ.loc["tmle"], summ.loc["or"]
    assert a["rmse"] - o["rmse"] > 3 * np.hypot(a["rmse_mcse"], o["rmse_mcse"])
    assert a["rmse"] - t["rmse"] > 3 * np.hypot(a["rmse_mcse"], t["rmse_mcse"])
    rec = kang_schafer.recommendation()
    unfit = rec.table[rec.table["unfit"]]
    assert ("misspecified", "aipw") in set(zip(unfit["learner"], unfit["estimator"]))
    assert "AIPW with the 'misspecified' learners in given" in str(rec)


@pytest.mark.slow  # the kang_schafer fixture: 200 replicates
def test_ranking_and_recommendation(kang_schafer):
    rank = kang_schafer.ranking()
    assert rank["p_best"].sum() == pytest.approx(1.0)
    assert rank.iloc[0]["learner"] == "correct"
    best = kang_schafer.best()
    assert best["learner"].name == "correct"


@pytest.fixture(scope="module")
def hybrid_dgp():
    real = LinearLogisticDesign(n_features=4, effect=1.0, heterogeneity=0.5).sample(5000, random_state=11)
    return HybridSynthesizer(random_state=0, n_reference=100_000).fit(real.data)


@pytest.mark.slow  # 300 replicates
def test_coverage_on_well_specified_hybrid(hybrid_dgp):
    res = simulate(hybrid_dgp, estimators=("aipw", "tmle"), n=1000, n_reps=300, random_state=5)
    summ = res.summary().set_index("estimator")
    lo, hi = binom.ppf([0.0005, 0.9995], 300, 0.95) / 300
    for name in ("aipw", "tmle"):
        assert lo <= summ.loc[name, "coverage"] <= hi
        assert abs(summ.loc[name, "bias"]) < 4 * summ.loc[name, "bias_mcse"]
    # against the sample truth the same intervals are conservative (they target the PATE)
    s = res.summary(truth="sample").set_index("estimator")
    assert (s["coverage"] >= summ["coverage"] - 1e-12).all()


def test_scenarios_and_sizes(hybrid_dgp):
    scenarios = {"base": {}, "poor overlap": {"overlap": 2.5}, "null": {"ate": 0.0}}
    res = simulate(hybrid_dgp, estimators=("ipw", "aipw"), n=[300, 600], n_reps=20, random_state=1,
                   options=SimulationOptions(scenarios=scenarios))
    summ = res.summary()
    assert set(summ["scenario"]) == {"base", "poor overlap", "null"}
    assert res.population_ates[("given", "null")] == 0.0
    pivot = res.replicates.groupby("scenario")["n_clipped"].mean()
    assert pivot["poor overlap"] > pivot["base"]


def test_plan_before_run(hybrid_dgp):
    sim = Simulation(hybrid_dgp, n=[200, 400], n_reps=50, learners={"glm": "logistic", "gbm": "gbm"},
                     random_state=0)
    plan = sim.plan(pilot_reps=1)
    assert len(plan.grid) == 2 * 2 * 4
    assert plan.n_tasks == 100 and plan.n_fits == 200
    assert plan.estimated_seconds > 0
    assert "nuisance fits" in str(plan)


def test_failures_recorded_not_fatal():
    class Flaky:
        population_ate_ = 1.0

        def __init__(self):
            self.inner = LinearLogisticDesign()

        def sample(self, n, random_state=None):
            rng = np.random.default_rng(random_state)
            if rng.random() < 0.3:
                raise RuntimeError("simulated failure")
            return self.inner.sample(n, random_state=rng)

    res = simulate(Flaky(), n=200, n_reps=40, random_state=3)
    summ = res.summary()
    assert (summ["failure_rate"] > 0).all() and (summ["failure_rate"] < 1).all()
    assert res.replicates.loc[res.replicates["failed"], "error"].str.contains("simulated failure").all()
    assert np.isfinite(summ["bias"]).all()


@pytest.mark.slow
def test_same_results_any_backend(tmp_path):
    design = LinearLogisticDesign()
    kw = dict(n=300, n_reps=24, estimators=("or", "aipw", "tmle"), random_state=8,
              options=SimulationOptions(batch_size=4))
    serial = simulate(design, **kw)
    two = simulate(design, **kw, run=RunOptions(n_jobs=2))
    dask = simulate(design, **kw, run=RunOptions(n_jobs=2, backend="dask"))
    ref = _strip(serial.replicates)
    pd.testing.assert_frame_equal(ref, _strip(two.replicates))
    pd.testing.assert_frame_equal(ref, _strip(dask.replicates))
    pd.testing.assert_frame_equal(_strip(serial.summary()), _strip(dask.summary()))


SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    from causalsynth.datasets.designs import LinearLogisticDesign
    from causalsynth import RunOptions
    from causalsynth.simulate import SimulationOptions, simulate

    class Slow:
        population_ate_ = 1.0
        def sample(self, n, random_state=None):
            time.sleep(0.04)
            return LinearLogisticDesign().sample(n, random_state=random_state)

    if __name__ == "__main__":
        simulate(Slow(), n=200, n_reps=60, random_state=4, options=SimulationOptions(batch_size=3),
                 run=RunOptions(checkpoint=sys.argv[1], resume=len(sys.argv) > 2))
""")


def test_kill_and_resume_gives_identical_replicates(tmp_path):
    script = tmp_path / "slowsim.py"
    script.write_text(SCRIPT)
    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen([sys.executable, str(script), str(ckpt)])
    deadline = time.time() + 120
    while time.time() < deadline and len(list(ckpt.glob("part-*.parquet"))) < 4:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_parts = len(list(ckpt.glob("part-*.parquet")))
    assert 4 <= n_parts < 20, "the run must be killed part-way"
    # resume in this process, with the same grid
    sys.path.insert(0, str(tmp_path))
    try:
        import slowsim
        resumed = simulate(slowsim.Slow(), n=200, n_reps=60, random_state=4,
                           options=SimulationOptions(batch_size=3),
                           run=RunOptions(checkpoint=ckpt, resume=True))
        fresh = simulate(slowsim.Slow(), n=200, n_reps=60, random_state=4,
                         options=SimulationOptions(batch_size=3))
    finally:
        sys.path.remove(str(tmp_path))
    assert resumed.n_resumed == 3 * n_parts
    assert resumed.replicates.groupby(["n", "rep", "estimator"]).size().max() == 1
    pd.testing.assert_frame_equal(_strip(resumed.replicates), _strip(fresh.replicates))
    # a finished checkpoint is not silently overwritten
    with pytest.raises(SpecError, match="resume=True"):
        simulate(slowsim.Slow() if False else LinearLogisticDesign(), n=200, n_reps=60, random_state=4,
                 options=SimulationOptions(batch_size=3), run=RunOptions(checkpoint=ckpt))


def test_checkpoint_of_other_grid_refused(tmp_path):
    design = LinearLogisticDesign()
    simulate(design, n=100, n_reps=4, random_state=0, run=RunOptions(checkpoint=tmp_path / "c"))
    with pytest.raises(SpecError, match="different simulation grid"):
        simulate(design, n=200, n_reps=4, random_state=0,
                 run=RunOptions(checkpoint=tmp_path / "c", resume=True))


def test_report_files(tmp_path, hybrid_dgp):
    res = simulate(hybrid_dgp, n=300, n_reps=20, learners={"glm": "logistic", "gbm": "gbm"}, random_state=0)
    paths = res.write_report(tmp_path / "rep")
    md = paths["markdown"].read_text()
    assert "## Recommendation" in md and "recommended" in md and "## Regret across worlds" in md
    doc = json.loads(paths["json"].read_text())
    assert len(doc["summary"]) == 8 and "recommendation" in doc and doc["recommendations"][0]["choice"]
    assert len([p for p in paths if str(p).endswith(".png")]) == 4  # regret, distributions, bias/RMSE, coverage
    assert "<img" in paths["html"].read_text()


def test_bad_input():
    design = LinearLogisticDesign()
    with pytest.raises(SpecError, match="unknown estimator"):
        simulate(design, estimators=("ols",), n=100, n_reps=5)
    with pytest.raises(SpecError, match="n_reps must be an integer >= 2"):
        simulate(design, n=100, n_reps=1)
    with pytest.raises(SpecError, match="sample sizes n must be integers >= 20"):
        simulate(design, n=5, n_reps=5)
    with pytest.raises(SpecError, match="dgp must have sample"):
        simulate(object(), n=100, n_reps=5)
    with pytest.raises(SpecError, match="backend must be one of"):
        simulate(design, n=100, n_reps=5, run=RunOptions(backend="spark"))
    with pytest.raises(SpecError, match="has no knob"):
        simulate(design, n=100, n_reps=5, options=SimulationOptions(scenarios={"x": {"wibble": 1}}))
    with pytest.raises(SpecError, match=r"resume=True needs a checkpoint folder"):
        simulate(design, n=100, n_reps=5, run=RunOptions(resume=True))


def test_ranking_ignores_wins_by_failing():
    rng = np.random.default_rng(0)
    rows = []
    for rep in range(200):
        hard = rng.random() < 0.15
        for est, sd in (("aipw", 0.8), ("ipw", 0.6)):
            err = rng.normal(0, 3.0 if hard else sd) if est == "ipw" else rng.normal(0, sd)
            failed = est == "ipw" and hard
            rows.append({"scenario": "base", "n": 500, "learner": "default", "estimator": est, "rep": rep,
                         "ate": np.nan if failed else err, "pate": 0.0, "sate": 0.0, "failed": failed})
    reps = pd.DataFrame(rows)
    for col in ROW_COLUMNS:
        if col not in reps:
            reps[col] = 0.0 if col.startswith("seconds") else ("" if col == "error" else np.nan)
    reps["std_error"] = 1.0
    reps["ci_lower"], reps["ci_upper"] = reps["ate"] - 1.96, reps["ate"] + 1.96
    res = SimulationResult(SimulationSpec.build(estimators=("aipw", "ipw"), n=500, n_reps=200), reps)
    rank = res.ranking()
    # scored on the 170-odd replicates both succeeded; ipw is still better there, but the
    # recommendation says so and the failures are reported
    assert (rank["n_scored"] == (~reps.loc[reps.estimator == "ipw", "failed"]).sum()).all()
    rec = res.recommendation()
    assert (rec.table["n_ok"] == rank["n_scored"].iloc[0]).all()
    assert "Scored on the replicates where every configuration succeeded" in str(rec)


def test_resume_with_other_level_refused(tmp_path):
    design = LinearLogisticDesign()
    simulate(design, n=100, n_reps=4, random_state=0, run=RunOptions(checkpoint=tmp_path / "c"))
    with pytest.raises(SpecError, match="different simulation grid"):
        simulate(design, n=100, n_reps=4, random_state=0, options=SimulationOptions(level=0.5),
                 run=RunOptions(checkpoint=tmp_path / "c", resume=True))
