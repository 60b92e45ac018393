"""Regression tests for bad inputs found by an adversarial review: each gets a typed error (or
correct output), never a deep traceback or a silently wrong result."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalsynth as cs
from causalsynth.cli import main
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.synth import SynthSettings


def _frame(n=300, seed=0, binary_y=False):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x1))).astype(int)
    y = (rng.random(n) < 0.3 + 0.2 * a).astype(int) if binary_y else x1 + a + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "A": a, "Y": y})


# ---------------------------------------------------------------- missing="drop"
def test_drop_missing_treatment_is_validated_on_the_kept_rows():
    f = _frame().astype({"A": float})
    f.loc[[3, 7], "A"] = np.nan
    d = cs.CausalData(f, treatment="A", outcome="Y", missing="drop")
    assert d.n_obs == len(f) - 2 and d.n_dropped == 2
    assert set(np.unique(d.a)) == {0.0, 1.0}


def test_drop_missing_outcome_keeps_every_outcome_check():
    f = _frame(binary_y=True).astype({"Y": float})
    f.loc[5, "Y"] = np.nan
    assert cs.CausalData(f, treatment="A", outcome="Y", missing="drop").outcome_type == "binary"
    g = _frame()
    g.loc[5, "Y"], g.loc[6, "Y"] = np.nan, np.inf
    with pytest.raises(cs.DataError, match="infinite"):
        cs.CausalData(g, treatment="A", outcome="Y", missing="drop")
    h = _frame().assign(Y=3.0)
    h.loc[5, "Y"] = np.nan
    with pytest.raises(cs.DataError, match="constant"):
        cs.CausalData(h, treatment="A", outcome="Y", missing="drop")


@pytest.mark.parametrize("value", [0, 1.0, True])
def test_constant_binary_outcome_is_refused(value):
    with pytest.raises(cs.DataError, match="outcome 'Y' is constant"):
        cs.CausalData(_frame().assign(Y=value), treatment="A", outcome="Y")


def test_identifier_free_text_and_date_columns_are_refused():
    f = _frame()
    f["id"] = [f"patient-{i:05d}" for i in range(len(f))]
    with pytest.raises(cs.DataError, match="'id' is categorical with 300 levels"):
        cs.CausalData(f, treatment="A", outcome="Y")
    f = _frame().assign(visit=pd.date_range("2020-01-01", periods=300).strftime("%Y-%m-%d"))
    with pytest.raises(cs.DataError, match="holds dates: pandas.to_datetime"):
        cs.CausalData(f, treatment="A", outcome="Y")
    # a genuine categorical with a few levels is fine
    f = _frame().assign(region=np.tile(["n", "s", "e"], 100))
    assert cs.CausalData(f, treatment="A", outcome="Y").covariate_kinds["region"] == "categorical"


# ---------------------------------------------------------------- learners
def test_outcome_constant_within_one_arm_with_flexible_learners():
    f = _frame(n=400, binary_y=True)
    f.loc[f["A"] == 1, "Y"] = 1
    d = cs.CausalData(f, treatment="A", outcome="Y")
    expected = 1 - f.loc[f["A"] == 0, "Y"].mean()  # unconfounded outcome: the contrast of means
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for learner in ("gbm", LinearRegression()):
            res = cs.estimate(d, outcome=learner, estimators=("or", "aipw"), random_state=0)
            assert res.summary()["ate"].between(expected - 0.1, expected + 0.1).all()


def test_learner_type_mistakes_are_named():
    d = cs.CausalData(_frame(), treatment="A", outcome="Y")
    with pytest.raises(cs.SpecError, match="is a classifier"):
        cs.estimate(d, outcome=LogisticRegression())
    with pytest.raises(cs.SpecError, match="pass an instance"):
        cs.estimate(d, propensity=LogisticRegression)


# ---------------------------------------------------------------- synthesizer
@pytest.mark.parametrize("kwargs, match", [
    ({"propensity_bounds": (0.9, 0.1)}, "propensity_bounds"),
    ({"propensity_bounds": 0.1}, "propensity_bounds"),
    ({"propensity_bounds": (-1, 2)}, "propensity_bounds"),
    ({"treated_share": "0.5"}, "treated_share must be a number"),
    ({"ate": "3"}, "ate must be a number"),
    ({"settings": SynthSettings(covariate_options={"epochs": 2})}, "no option"),
])
def test_hybrid_synthesizer_refuses_bad_settings(kwargs, match):
    d = cs.CausalData(_frame(), treatment="A", outcome="Y")
    with pytest.raises(cs.SpecError, match=match):
        cs.HybridSynthesizer(random_state=0, **kwargs).fit(d)


# ---------------------------------------------------------------- simulation
class _Broken(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise ValueError("boom")


def test_simulation_refuses_bad_specs_up_front_and_recommends_nothing_when_all_fail():
    design = LinearLogisticDesign(n_features=3)
    with pytest.raises(cs.SpecError, match="'foo' is not a preset"):
        cs.simulate(design, n=100, n_reps=2, learners={"x": "foo"})
    with pytest.raises(cs.SpecError, match="real data with no known truth"):
        cs.simulate(design.sample(100, random_state=0).data.frame, n=100, n_reps=2)
    res = cs.simulate(design, n=100, n_reps=3,
                      learners={"bad": {"propensity": "logistic", "outcome": _Broken()}},
                      run=cs.RunOptions(progress=False))
    assert "no recommendation" in str(res.recommendation()) and "boom" in str(res.recommendation())
    with pytest.raises(cs.EstimationError, match="no method succeeded"):
        res.best()
    # "glm", the command line's panel name, means the main-terms GLMs
    ok = cs.simulate(design, n=100, n_reps=2, learners=["glm"], run=cs.RunOptions(progress=False))
    assert not ok.replicates["failed"].any()


def test_audit_names_a_too_small_holdout():
    d = cs.CausalData(_frame(n=30, seed=2), treatment="A", outcome="Y")
    with pytest.raises(cs.DataError, match="real holdout .* Fix: change holdout"):
        cs.audit(d, cs.AuditConfig(n_reps=1), synthesizers=("hybrid",), random_state=0)


# ---------------------------------------------------------------- command line
@pytest.mark.parametrize("args, message", [
    (["estimate", "lalonde", "--book-models"], "--book-models applies to the embedded nhefs"),
    (["synthesize", "nhefs", "--n", "50", "--out", "s.xlsx"], "tables are written as .csv"),
    (["augment", "nhefs", "--out", "a.xlsx"], "tables are written as .csv"),
])
def test_cli_refuses_before_working(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_role_overrides_on_embedded_data(capsys):
    import json
    assert main(["estimate", "nhefs", "-w", "age,sex", "--estimators", "or", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["estimates"][0]["estimator"] == "or"
    assert main(["estimate", "nhefs", "-y", "sex", "--estimators", "or", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"] == "sex"


# ---------------------------------------------------------------- smaller cases
@pytest.mark.parametrize("kwargs, match", [
    ({"n": 25.7}, "n must be an integer"),
    ({"n": "100"}, "n must be an integer"),
    ({"level": "0.9"}, "level must be a number"),
    ({"propensity_bounds": 0.1}, "propensity_bounds must be a pair"),
])
def test_simulation_argument_types(kwargs, match):
    args = {"n": 100, "n_reps": 2, **kwargs}
    opts = {k: args.pop(k) for k in ("level", "propensity_bounds") if k in args}
    with pytest.raises(cs.SpecError, match=match):
        cs.simulate(LinearLogisticDesign(n_features=3), **args, options=cs.SimulationOptions(**opts))


def test_estimators_listed_twice_run_once_and_fold_labels_are_checked():
    d = cs.CausalData(_frame(), treatment="A", outcome="Y")
    res = cs.estimate(d, estimators=("aipw", "AIPW", "or"))
    assert res.summary()["estimator"].tolist() == ["aipw", "or"]
    from causalsynth.nuisance import fit_nuisance
    with pytest.raises(cs.SpecError, match="integer labels"):
        fit_nuisance(d, folds=np.tile([0.5, 1.5, 2.5], 100))
    with pytest.raises(cs.SpecError, match="disagrees"):
        fit_nuisance(d, folds=np.tile([0, 1, 2], 100), n_folds=5)
    assert fit_nuisance(d, folds=np.tile([0.0, 1.0, 2.0], 100)).n_folds == 3


def test_augment_max_depth_and_no_numpy_warning_on_separated_data():
    from causalsynth.positivity import augment_positivity
    d = cs.CausalData(_frame(), treatment="A", outcome="Y")
    with pytest.raises(cs.SpecError, match="max_depth"):
        augment_positivity(d, cs.AugmentSpec(max_depth=-1))
    f = _frame(n=400, seed=4)
    f["A"] = (f["x1"] > 0.3).astype(int)  # separated by x1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", cs.PositivityWarning)
        augment_positivity(cs.CausalData(f, treatment="A", outcome="Y"),
                           cs.AugmentSpec(n_folds=2, n_models=2, uncertainty="none"), random_state=0)


def test_synthesizer_files_with_odd_headers_or_contents(tmp_path):
    import pickle

    from causalsynth.errors import TrustedPickleWarning
    from causalsynth.synth.io import MAGIC
    for i, header in enumerate((b"[1, 2]\n", b"7\n")):
        path = tmp_path / f"h{i}.pkl"
        path.write_bytes(MAGIC + header)
        with pytest.raises(cs.DataFileError, match="not a JSON object"):
            cs.HybridSynthesizer.load(path)
    path = tmp_path / "dict.pkl"
    path.write_bytes(MAGIC + b'{"format_version": 1}\n' + pickle.dumps({"a": 1}))
    # a format 1 file is an unsigned pickle: refused unless the caller trusts it explicitly
    with pytest.raises(cs.DataFileError, match="trust_pickle=True"):
        cs.HybridSynthesizer.load(path)
    with pytest.warns(TrustedPickleWarning), \
            pytest.raises(cs.DataFileError, match="holds a dict, not a HybridSynthesizer"):
        cs.HybridSynthesizer.load(path, trust_pickle=True)


def test_cli_odd_csv_files(tmp_path, capsys):
    (tmp_path / "dup.csv").write_text("x,x,A,Y\n1,2,0,1.5\n2,3,1,2.5\n")
    (tmp_path / "hdr.csv").write_text("x,A,Y\n")
    pd.DataFrame({"x": [1, 2], "A": [0, 1]}).to_parquet(tmp_path / "pq.csv")
    for name, message in (("dup.csv", "repeats column name(s) ['x']"), ("hdr.csv", "no rows"),
                          ("pq.csv", "is a Parquet file")):
        assert main(["estimate", str(tmp_path / name), "-a", "A", "-y", "Y"]) == 2
        assert message in capsys.readouterr().err


def test_unreachable_min_dcr_fails_fast_and_binary_noise_warns():
    import time
    d = cs.CausalData(_frame(), treatment="A", outcome="Y")
    t0 = time.perf_counter()
    with pytest.raises(cs.DataError, match="min_dcr=100 is out of reach"):
        cs.HybridSynthesizer(min_dcr=100, random_state=0).fit(d)
    assert time.perf_counter() - t0 < 20  # refused by the pilot draw, not after 50 redraws
    b = cs.CausalData(_frame(binary_y=True), treatment="A", outcome="Y")
    with pytest.warns(UserWarning, match="drawn as Bernoulli"):
        cs.HybridSynthesizer(noise="residuals", random_state=0).fit(b)


def test_auto_min_dcr_of_zero_on_tied_rows_is_not_silent():
    # coarse covariates: every real holdout row is an exact copy of a training row, so the 5%
    # quantile of the holdout distances, the 'auto' threshold, is 0 and would filter nothing
    rng = np.random.default_rng(4)
    n = 400
    f = pd.DataFrame({"x1": rng.integers(0, 2, n), "x2": rng.integers(0, 2, n)})
    f["A"] = (rng.random(n) < 0.3 + 0.4 * f["x1"]).astype(int)
    f["Y"] = f["x1"] + f["A"] + rng.normal(size=n)
    d = cs.CausalData(f, treatment="A", outcome="Y")
    with pytest.warns(cs.PrivacyWarning, match=r"min_dcr='auto' is 0 here.*\d+\.\d% of 500 pilot draws.*exact "
                                               r"copies.*fix: pass a positive min_dcr"):
        synth = cs.HybridSynthesizer(min_dcr="auto", random_state=0).fit(d)
    assert synth.min_dcr_ == 0.0
    # on continuous covariates the threshold is positive and nothing is said
    with warnings.catch_warnings():
        warnings.simplefilter("error", cs.PrivacyWarning)
        assert cs.HybridSynthesizer(min_dcr="auto", random_state=0).fit(
            cs.CausalData(_frame(), treatment="A", outcome="Y")).min_dcr_ > 0


def test_list_valued_column_is_named():
    f = _frame().assign(tags=[[1, 2]] * 300)
    with pytest.raises(cs.DataError, match="'tags' holds unsupported objects"):
        cs.CausalData(f, treatment="A", outcome="Y")


# ------------------------------------------- no false alarms on valid or derived data
def test_checks_for_user_data_do_not_fire_on_subsets_resamples_or_samples():
    rng = np.random.default_rng(5)
    f = _frame(n=400, binary_y=True).assign(site=rng.choice([f"s{i}" for i in range(30)], 400))
    f["Y"] = 0
    f.loc[[1, 50, 200], "Y"] = 1  # three events: bootstrap resamples can be constant
    d = cs.CausalData(f, treatment="A", outcome="Y")
    assert d.subset(np.arange(45)).n_obs == 45  # 30 levels in 45 rows: fine for a subset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.estimate(d, estimators=("ipw",), options=cs.EstimateOptions(se_method="bootstrap", n_bootstrap=30),
                          random_state=0)
    assert np.isfinite(res.summary()["std_error"]).all()
    synth = cs.HybridSynthesizer(random_state=0).fit(d)
    assert synth.sample(40, random_state=1).data.n_obs == 40


def test_valid_inputs_that_look_odd_are_accepted(tmp_path, capsys):
    f = _frame().assign(code=pd.Series(list(np.array(["a", "b", "c"] * 100)), dtype=object))
    assert cs.CausalData(f, treatment="A", outcome="Y").covariate_kinds["code"] == "categorical"
    (tmp_path / "odd.csv").write_text("1,01,A,Y\n" + "\n".join(
        f"{i % 3},{i % 5},{i % 2},{i * 0.1}" for i in range(60)) + "\n")
    assert main(["estimate", str(tmp_path / "odd.csv"), "-a", "A", "-y", "Y", "--estimators", "or"]) == 0
    out = tmp_path / "s.csv.gz"
    assert main(["synthesize", "lalonde", "--n", "100", "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 100
    res = cs.simulate(LinearLogisticDesign(n_features=3), n=range(100, 201, 100), n_reps=2,
                      run=cs.RunOptions(progress=False))
    assert sorted(res.replicates["n"].unique()) == [100, 200]
    from causalsynth.nuisance import fit_nuisance, make_folds
    d = cs.CausalData(_frame(), treatment="A", outcome="Y")
    assert fit_nuisance(d, folds=np.arange(300) % 2 == 1).n_folds == 2
    # bootstrap copies of a unit share a fold
    groups = np.r_[np.arange(300), np.arange(0, 300, 3)]
    folds = make_folds(np.r_[d.a, d.a[::3]], 5, np.random.SeedSequence(0), groups=groups)
    assert np.array_equal(folds[300:], folds[:300][::3])


def test_complex_and_overflowing_values_are_named():
    f = _frame().assign(c=np.where(np.arange(300) % 2, 1 + 2j, 0j))
    with pytest.raises(cs.DataError, match="'c' holds complex numbers"):
        cs.CausalData(f, treatment="A", outcome="Y")
    f = _frame()
    f["x1"] = f["x1"] * 1e300
    with pytest.raises(cs.DataError, match="'x1' has values up to .* rescale"):
        cs.CausalData(f, treatment="A", outcome="Y")
    f = _frame()
    f["Y"] = f["Y"] * 1e200
    with pytest.raises(cs.DataError, match="outcome 'Y' has values up to"):
        cs.CausalData(f, treatment="A", outcome="Y")
