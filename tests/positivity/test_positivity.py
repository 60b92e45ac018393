"""Positivity diagnostics, targeted augmentation and their evaluation against a known truth."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import PositivityWarning, SpecError
from causalsynth.positivity import (AugmentSpec, PoorOverlapDesign, augment_positivity, diagnose_positivity,
                                    evaluate_augmentation)


@pytest.fixture(scope="module")
def poor():
    return PoorOverlapDesign().sample(1000, random_state=11)


@pytest.fixture(scope="module")
def augmented(poor):
    return augment_positivity(poor.data, random_state=5)


@pytest.fixture(scope="module")
def evaluation():
    # 200 seeded repeats of n=500: the margins below come from the repeats' spread.
    return evaluate_augmentation(PoorOverlapDesign(), n=500, n_reps=200, estimators=("ipw", "aipw", "or"),
                                 random_state=0)


def _with_group(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return frame.assign(grp=rng.choice(["north", "south", "east"], len(frame)),
                        count=rng.poisson(3, len(frame)))


# ------------------------------------------------------------------------- the design
def test_design_contract_and_truth():
    design = PoorOverlapDesign()
    big = design.sample(200_000, random_state=1)
    assert list(big.truth.columns) == ["y0", "y1", "mu0", "mu1", "propensity", "cate"]
    cate = big.truth["cate"].to_numpy()
    assert abs(cate.mean() - design.population_ate_) < 4 * cate.std() / np.sqrt(len(cate))
    e = big.truth["propensity"].to_numpy()
    w1 = big.data.frame["w1"].to_numpy()
    # the designed region: above the threshold (other covariates near 0) the propensity exceeds 0.95
    assert 2.0 < design.threshold(0.05) < 2.5
    assert np.mean(e[w1 > 3.0] > 0.95) > 0.95 and np.mean(e[w1 < 1.0] > 0.95) < 0.001
    again = design.truth_at(big.data.frame.head(50))
    np.testing.assert_allclose(again["cate"], cate[:50])
    with pytest.raises(SpecError, match="n must be an integer"):
        design.sample(5)
    with pytest.raises(SpecError, match="n_features"):
        PoorOverlapDesign(n_features=1)


# ------------------------------------------------------------------------- diagnostics
def test_diagnostics_find_the_designed_region(poor):
    with pytest.warns(PositivityWarning, match=r"outside \[0.05, 0.95\].*w1 >"):
        report = diagnose_positivity(poor.data, random_state=0)
    regions = report.regions
    assert len(regions) >= 1
    top = regions.iloc[0]
    assert top["side"] == "almost always treated"
    # the rule names w1 with a lower bound near the designed threshold (about 2.2)
    assert "w1 >" in top["rule"] and "w2" not in top["rule"]
    lower = float(top["rule"].split("w1 >")[1].split()[0]) if "<" not in top["rule"] else \
        float(top["rule"].split("<")[0])
    assert 1.5 < lower < 3.2
    assert report.n_above > 0.05 * report.n_obs and report.n_below < 0.01 * report.n_obs
    assert report.ess_share[0] < report.ess_share[1]
    assert "w1 >" in str(report) and "<table" in report._repr_html_()
    json.dumps(report.to_dict())


def test_diagnostics_other_side_when_arms_flipped(poor):
    frame = poor.data.frame
    frame["a"] = 1 - frame["a"]
    with pytest.warns(PositivityWarning):
        report = diagnose_positivity(CausalData(frame, treatment="a", outcome="y"), random_state=0)
    assert report.n_below > 0.05 * report.n_obs and report.n_above == 0
    assert report.regions.iloc[0]["side"] == "almost never treated"
    assert "w1 >" in report.regions.iloc[0]["rule"]


def test_ess_overlap_coefficient_and_weights_by_hand(poor):
    rng = np.random.default_rng(3)
    e = rng.uniform(0.02, 0.98, poor.data.n_obs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PositivityWarning)
        report = diagnose_positivity(poor.data, propensity=e, n_bins=10)
    a = poor.data.a
    for arm in (0, 1):
        w = 1 / e[a == 1] if arm == 1 else 1 / (1 - e[a == 0])
        ess = sum(w) ** 2 / sum(v * v for v in w)
        assert report.ess[arm] == pytest.approx(ess, rel=1e-12)
        assert report.ess_share[arm] == pytest.approx(ess / len(w), rel=1e-12)
    ovl = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        inside = lambda x: (x >= lo) & ((x < hi) if b < 9 else (x <= hi))  # noqa: E731
        ovl += min(np.mean(inside(e[a == 1])), np.mean(inside(e[a == 0])))
    assert report.overlap_coefficient == pytest.approx(ovl, abs=1e-12)
    w_all = np.where(a == 1, 1 / e, 1 / (1 - e))
    assert report.largest_weights["weight"].iloc[0] == pytest.approx(w_all.max())
    assert int(report.largest_weights["row"].iloc[0]) == int(np.argmax(w_all))
    assert report.share_outside == pytest.approx(np.mean((e < 0.05) | (e > 0.95)))


def test_no_warning_when_overlap_is_good():
    data = LinearLogisticDesign().sample(1000, random_state=2).data
    with warnings.catch_warnings():
        warnings.simplefilter("error", PositivityWarning)
        report = diagnose_positivity(data, random_state=0)
    assert report.warning is None and report.share_outside < 0.01 and len(report.regions) == 0


# ------------------------------------------------------------------------- augmentation
def test_added_outcomes_never_come_from_a_model_that_saw_the_source(augmented):
    added = augmented.added
    assert len(added) > 50 and added["synthetic"].all()
    for rec in added.itertuples():
        assert rec.source_index not in set(augmented.training_rows[rec.fold])
        assert augmented.folds[rec.source_index] == rec.fold
    for k, rows in augmented.training_rows.items():
        np.testing.assert_array_equal(rows, np.flatnonzero(augmented.folds != k))


def test_fold_models_are_refittable_from_their_training_rows(poor):
    """With the fold's main model and no noise, each record's outcome is reproduced by a
    least-squares fit on that fold's training rows of the missing arm (no other rows)."""
    res = augment_positivity(poor.data, AugmentSpec(uncertainty="none", noise=False), random_state=1)
    data = poor.data
    X, _ = data.design_matrix()
    Xd = np.hstack([np.ones((len(X), 1)), X])
    rec_X = np.hstack([np.ones((res.n_added, 1)),
                       res.data.design_matrix()[0][res.n_original:]])
    for k in np.unique(res.added["fold"]):
        sel = (res.added["fold"] == k).to_numpy()
        arm = int(res.added.loc[sel, "arm"].iloc[0])
        rows = res.training_rows[k]
        rows = rows[data.a[rows] == arm]
        coef = np.linalg.lstsq(Xd[rows], data.y[rows], rcond=None)[0]
        np.testing.assert_allclose(res.data.y[res.n_original:][sel], rec_X[sel] @ coef, atol=1e-8)


def test_pooled_outcome_formula_is_cross_fitted_too(poor):
    res = augment_positivity(poor.data, AugmentSpec(outcome="y ~ a + w1 + w2 + w3 + w4 + a:w1", budget=30),
                             random_state=2)
    assert res.n_added == 30
    for rec in res.added.itertuples():
        assert rec.source_index not in set(res.training_rows[rec.fold])


def test_records_are_marked_and_weights_restore_the_original_law(augmented, poor):
    res = augmented
    n = res.n_original
    assert res.data.n_obs == n + res.n_added
    assert res.weights.sum() == pytest.approx(n)
    assert np.all(res.weights > 0)
    added = res.added
    assert set(added["arm"]) == {0} and (res.data.a[n:] == 0).all()
    assert added["flagged_region"].mean() > 0.8 and added["region"].str.contains("w1").all()
    frame = res.frame()
    assert frame["aug_synthetic"].sum() == res.n_added
    assert (frame.loc[~frame["aug_synthetic"], "aug_source_index"] == -1).all()
    # the shift is reported, and the weights remove it
    smd = res.smd.set_index("covariate")
    assert smd.loc["w1", "smd_augmented"] > 0.1 and abs(smd.loc["w1", "smd_weighted"]) < 0.01
    assert res.mmd["unweighted"] > 10 * res.mmd["weighted"]
    text = str(res)
    assert "max |SMD|" in text and "estimand" in text
    # original rows are unchanged
    pd.testing.assert_frame_equal(res.data.frame.iloc[:n], poor.data.frame)


@pytest.mark.parametrize("budget", [10, 300, None])
def test_budget_is_respected(poor, budget):
    # if_risky="ignore": budget 10 takes the most extreme sources, which the risk check withholds by default
    res = augment_positivity(poor.data, AugmentSpec(budget=budget, if_risky="ignore"), random_state=3)
    per_source = res.added.groupby("source_index").size()
    if budget is None:
        assert res.n_added == res.n_candidates and (per_source == 1).all()
    elif budget <= res.n_candidates:
        assert res.n_added == budget == len(per_source)
    else:
        assert res.n_added == budget and len(per_source) == res.n_candidates and per_source.min() >= 1
        score = res.added.groupby("source_index").first()
        score = (1 - score["pseudo_propensity"] / score["source_propensity"]) * score["outcome_sd"]
        assert per_source[score.idxmax()] == per_source.max()
    assert res.weights.sum() == pytest.approx(res.n_original)


def test_budget_goes_where_the_ensemble_disagrees(poor):
    res = augment_positivity(poor.data, AugmentSpec(budget=15, if_risky="ignore"), random_state=4)  # the most extreme sources
    all_units = augment_positivity(poor.data, random_state=4).added
    score = (1 - all_units["pseudo_propensity"] / all_units["source_propensity"]) * all_units["outcome_sd"]
    top = set(all_units.loc[score.sort_values(ascending=False).index[:15], "source_index"])
    assert set(res.added["source_index"]) == top


def test_weighted_estimate_targets_the_original_ate(augmented, poor):
    result = augmented.estimate()
    table = result.summary().set_index("estimator")
    assert set(table.index) == {"or", "ipw", "aipw", "tmle"}
    for name in ("or", "aipw", "tmle", "ipw"):
        assert abs(table.loc[name, "ate"] - poor.sate) < 0.4
    assert "too small" in result.se_method


def test_categorical_and_integer_covariates_with_both_generators():
    base = PoorOverlapDesign().sample(600, random_state=7).data.frame
    data = CausalData(_with_group(base, 7), treatment="a", outcome="y")
    for generator in ("local", "hybrid"):
        res = augment_positivity(data, AugmentSpec(generator=generator, budget=40), random_state=8)
        rec = res.data.frame.iloc[res.n_original:]
        assert res.n_added == 40
        assert set(rec["grp"]) <= {"north", "south", "east"}
        assert rec["count"].dtype == data.frame["count"].dtype
        src = data.frame.iloc[res.added["source_index"].to_numpy()]
        gap = np.abs(rec["w1"].to_numpy() - src["w1"].to_numpy())
        assert np.median(gap) < (0.5 if generator == "local" else 1.0)
        if generator == "local":
            assert (rec["grp"].to_numpy() == src["grp"].to_numpy()).all()


def test_binary_outcome():
    frame = PoorOverlapDesign().sample(800, random_state=9).data.frame
    frame["y"] = (frame["y"] > frame["y"].median()).astype(int)
    data = CausalData(frame, treatment="a", outcome="y")
    res = augment_positivity(data, random_state=1)
    assert res.n_added > 0 and set(np.unique(res.data.y[res.n_original:])) <= {0.0, 1.0}
    assert np.all((res.added["prediction"] >= 0) & (res.added["prediction"] <= 1))


def test_nothing_to_add_when_overlap_is_good():
    data = LinearLogisticDesign().sample(500, random_state=4).data
    res = augment_positivity(data, random_state=0)
    if res.n_candidates == 0:
        assert res.n_added == 0 and res.data is data
    assert res.n_added == res.n_candidates
    assert np.isfinite(res.estimate()["aipw"])


def test_determinism(poor):
    one = augment_positivity(poor.data, AugmentSpec(budget=50), random_state=21)
    two = augment_positivity(poor.data, AugmentSpec(budget=50), random_state=21)
    other = augment_positivity(poor.data, AugmentSpec(budget=50), random_state=22)
    pd.testing.assert_frame_equal(one.added, two.added)
    pd.testing.assert_frame_equal(one.data.frame, two.data.frame)
    assert not np.allclose(one.data.y[one.n_original:], other.data.y[other.n_original:])
    ev1 = evaluate_augmentation(PoorOverlapDesign(), n=300, n_reps=3, estimators=("ipw",), random_state=4)
    ev2 = evaluate_augmentation(PoorOverlapDesign(), n=300, n_reps=3, estimators=("ipw",), random_state=4)
    pd.testing.assert_frame_equal(ev1.records, ev2.records)


# ------------------------------------------------------------------------- evaluation
@pytest.mark.slow  # the evaluation fixture: 200 repeats
def test_augmentation_reduces_ipw_and_aipw_error(evaluation):
    from scipy.stats import norm
    summary = evaluation.summary().set_index("estimator")
    z = norm.ppf(0.975)
    wide = evaluation.records.pivot_table(index=["estimator", "_rep"], columns="variant", values="error")
    for name in ("ipw", "aipw"):
        d = wide.loc[name, "original"].to_numpy() ** 2 - wide.loc[name, "augmented"].to_numpy() ** 2
        margin = z * d.std(ddof=1) / np.sqrt(len(d))  # from the spread of the 200 repeats
        assert summary.loc[name, "mse_reduction"] == pytest.approx(d.mean())
        assert summary.loc[name, "margin"] == pytest.approx(margin)
        assert d.mean() - margin > 0, name
        assert summary.loc[name, "verdict"] == "paid off"
        assert summary.loc[name, "rmse_variant"] < summary.loc[name, "rmse_baseline"]
    # the fill-in, not clipping alone, is what helps IPW: clipping to [delta, 1-delta] without
    # records leaves a truncation bias that the records remove
    comp = evaluation.comparison().set_index(["estimator", "variant", "baseline"])
    assert comp.loc[("ipw", "augmented", "clipped"), "verdict"] == "paid off"
    table = evaluation.table().set_index(["estimator", "variant"])
    clipped, aug = table.loc[("ipw", "clipped")], table.loc[("ipw", "augmented")]
    assert clipped["bias"] - 3 * clipped["bias_mcse"] > abs(aug["bias"]) + 3 * aug["bias_mcse"]


@pytest.mark.slow  # the evaluation fixture: 200 repeats
def test_evaluation_reports_shift_and_estimand(evaluation):
    shift = evaluation.shift().set_index("metric")["mean"]
    assert shift["max_abs_smd_augmented"] > 0.1 and shift["max_abs_smd_weighted"] < 0.01
    assert shift["mmd_augmented"] > 10 * shift["mmd_weighted"]
    assert shift["treated_share_augmented"] < shift["treated_share_original"]
    rep = evaluation.repeats
    # the unweighted augmented data target a different ATE: more mass where the effect is larger
    assert (rep["psi_augmented"] - rep["sate"]).mean() > 0.05
    table = evaluation.table().set_index(["estimator", "variant"])
    assert np.isfinite(table["rmse_mcse"]).all() and (table["rmse_mcse"] > 0).all()
    cate = evaluation.cate()
    assert set(cate["scope"]) == {"all units", "low-overlap units"} and (cate["pehe"] > 0).all()
    text = evaluation.verdict()
    assert "augmented covariate law" in text and "MMD" in text and "PEHE" in text
    json.dumps(evaluation.to_dict())
    assert "paid off" in str(evaluation)


@pytest.mark.slow  # the evaluation fixture: 200 repeats
def test_reports_are_written(augmented, evaluation, tmp_path):
    paths = augmented.write_report(tmp_path / "aug")
    assert paths["markdown"].read_text().count("![") >= 2
    assert (tmp_path / "aug" / "augmentation.json").exists()
    paths = augmented.diagnostics.write_report(tmp_path / "diag")
    assert "Regions where overlap fails" in paths["markdown"].read_text()
    paths = evaluation.write_report(tmp_path / "eval")
    assert "Verdict" in paths["markdown"].read_text() and paths["html"].exists()


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"budget": 0}, "budget must be a positive integer"),
    ({"budget": 2.5}, "budget must be a positive integer"),
    ({"delta": 0.7}, r"delta must be in \(0, 0.5\)"),
    ({"delta": "x"}, "delta must be a number"),
    ({"generator": "gan"}, "generator must be one of"),
    ({"uncertainty": "bayes"}, "uncertainty must be one of"),
    ({"n_folds": 1}, "n_folds must be an integer >= 2"),
    ({"n_models": 1}, "n_models must be an integer >= 2"),
    ({"bandwidth": -1.0}, "bandwidth must be a number"),
    ({"outcome": "nope"}, "not a preset"),
    ({"random_state": -3}, "random_state must be a non-negative"),
])
def test_augment_bad_input(poor, kwargs, match):
    seed = kwargs.pop("random_state", None)
    with pytest.raises(SpecError, match=match):
        augment_positivity(poor.data, AugmentSpec(**kwargs), random_state=seed)


def test_other_bad_input(poor):
    with pytest.raises(SpecError, match="data must be a CausalData"):
        augment_positivity(poor.data.frame)
    with pytest.raises(SpecError, match="data must be a CausalData"):
        diagnose_positivity(poor.data.frame)
    with pytest.raises(SpecError, match="propensity given as an array"):
        diagnose_positivity(poor.data, propensity=np.full(3, 0.5))
    with pytest.raises(SpecError, match=r"tolerance must be in \[0, 1\]"):
        diagnose_positivity(poor.data, tolerance=2)
    with pytest.raises(SpecError, match="design must have a sample"):
        evaluate_augmentation(object(), n_reps=2)
    with pytest.raises(SpecError, match="supports or, ipw, aipw and tmle"):
        evaluate_augmentation(PoorOverlapDesign(), estimators=("dml",), n_reps=2)
    with pytest.raises(SpecError, match="n_reps must be an integer"):
        evaluate_augmentation(PoorOverlapDesign(), n_reps=1)


# ------------------------------------------------------------------------- slower checks
@pytest.mark.slow
def test_hybrid_generator_also_pays_off_for_ipw():
    ev = evaluate_augmentation(PoorOverlapDesign(), AugmentSpec(budget=None, generator="hybrid"), n=500,
                               n_reps=100, estimators=("ipw",), random_state=1)
    row = ev.summary().iloc[0]
    assert row["verdict"] == "paid off" and row["mse_reduction"] - row["margin"] > 0


@pytest.mark.slow
def test_misspecified_outcome_model_is_not_rescued():
    """With a quadratic outcome and a linear outcome model, the synthetic fill-in is biased:
    augmentation must not make AIPW look better than it is (no 'paid off' verdict)."""
    ev = evaluate_augmentation(PoorOverlapDesign(nonlinearity=0.3), n=500, n_reps=100, estimators=("aipw",),
                               random_state=2)
    row = ev.summary().iloc[0]
    assert row["verdict"] in ("hurt", "inconclusive")
    assert abs(ev.table().set_index("variant").loc["augmented", "bias"]) > 0.05


@pytest.mark.slow
def test_evaluation_on_a_hybrid_design_with_poor_overlap(nhefs):
    from causalsynth.synth.hybrid import HybridSynthesizer
    synth = HybridSynthesizer(generator="copula", overlap=3.0, ate=3.0, n_reference=20_000,
                              random_state=0).fit(nhefs)
    ev = evaluate_augmentation(synth, n=800, n_reps=20, estimators=("ipw", "aipw"), random_state=3)
    assert ev.repeats["n_added"].mean() > 10
    assert np.isfinite(ev.repeats["psi_augmented"]).all()
    assert np.isfinite(ev.table()["rmse"]).all()


# ------------------------------------------------------------------ standard errors
@pytest.mark.slow  # the evaluation fixture: 200 repeats
def test_coverage_table_matches_a_hand_computation(evaluation):
    from scipy.stats import norm
    cov = evaluation.coverage().set_index(["estimator", "variant", "se"])
    assert set(cov.index.get_level_values("variant")) == {"original", "clipped", "augmented"}
    rec = evaluation.records
    pate = evaluation.repeats.set_index("repeat")["population_ate"]
    assert np.allclose(pate, 1.0)  # PoorOverlapDesign's population ATE
    for name in ("ipw", "aipw", "or"):
        g = rec[(rec["estimator"] == name) & (rec["variant"] == "augmented")]
        hit = np.abs(g["ate"] - 1.0) <= norm.ppf(0.975) * g["std_error"]
        row = cov.loc[(name, "augmented", "influence")]
        assert row["coverage"] == pytest.approx(hit.mean())
        assert row["empirical_sd"] == pytest.approx(g["ate"].std(ddof=1))
        assert row["se_ratio"] == pytest.approx(g["std_error"].mean() / g["ate"].std(ddof=1))
        assert row["target"] == "population ATE"


def test_bootstrap_standard_errors_of_an_augmentation(poor):
    aug = augment_positivity(poor.data, AugmentSpec(uncertainty="none"), random_state=5)
    inf = aug.estimate(estimators=("ipw", "aipw")).summary().set_index("estimator")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no resample may fail here
        boot = aug.estimate(estimators=("ipw", "aipw"), se_method="bootstrap", n_bootstrap=25, random_state=3)
    again = aug.estimate(estimators=("ipw", "aipw"), se_method="bootstrap", n_bootstrap=25, random_state=3)
    b = boot.summary().set_index("estimator")
    pd.testing.assert_frame_equal(b, again.summary().set_index("estimator"))
    np.testing.assert_allclose(b["ate"], inf["ate"])  # same point estimates
    assert (b["std_error"] > 0).all()
    np.testing.assert_allclose(b["ci_upper"] - b["ate"], 1.959964 * b["std_error"], rtol=1e-6)
    assert "25 bootstrap augmentations" in b.loc["aipw", "note"]
    assert "bootstrap of the whole augmentation" in str(boot)
    with pytest.raises(SpecError, match="se_method must be"):
        aug.estimate(se_method="jackknife")
    with pytest.raises(SpecError, match="n_bootstrap"):
        aug.estimate(se_method="bootstrap", n_bootstrap=5)


def test_evaluation_reports_bootstrap_coverage():
    ev = evaluate_augmentation(PoorOverlapDesign(), AugmentSpec(budget=None, uncertainty="none"), n=300,
                               n_reps=3, estimators=("aipw",), n_bootstrap=20, random_state=1)
    cov = ev.coverage()
    kinds = cov[cov["variant"] == "augmented"]["se"].tolist()
    assert kinds == ["influence", "bootstrap"]
    boot = ev.records[ev.records["variant"] == "augmented"]["std_error_bootstrap"]
    assert boot.notna().all() and (boot > 0).all()
    assert ev.records[ev.records["variant"] == "original"]["std_error_bootstrap"].isna().all()


@pytest.mark.slow
def test_bootstrap_se_tracks_the_spread_of_augmented_estimates():
    """Seeded, 40 repeats x 20 bootstrap augmentations (n=400). The empirical SD of 40
    estimates has a relative MC error of about 1/sqrt(2*39) = 11%, so the mean bootstrap SE
    must be within 3 of those (ratio in [0.67, 1.33]) of the SD. And it must exceed the
    influence-function SE (which ignores the outcome model's uncertainty) by more than 3
    standard errors of the paired difference: the bootstrap sees what the default misses."""
    ev = evaluate_augmentation(PoorOverlapDesign(), AugmentSpec(budget=None, uncertainty="none"), n=400,
                               n_reps=40, estimators=("aipw",), n_bootstrap=20, random_state=7)
    cov = ev.coverage().set_index(["variant", "se"])
    ratio = cov.loc[("augmented", "bootstrap"), "se_ratio"]
    rel = 1 / np.sqrt(2 * (ev.n_reps - 1))
    assert 1 - 3 * rel < ratio < 1 + 3 * rel, ratio
    rec = ev.records[ev.records["variant"] == "augmented"]
    diff = (rec["std_error_bootstrap"] - rec["std_error"]).to_numpy()
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)), (diff.mean(), diff.std())
