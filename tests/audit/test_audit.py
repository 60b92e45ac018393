"""ATE preservation audit: the designed case, the result object, determinism, CLI, bad input."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from causalsynth.audit import SYNTHESIZERS, AuditConfig, AuditResult, audit
from causalsynth.datasets.designs import LimitedOverlapDesign
from causalsynth.errors import CausalSynthWarning, SpecError
from causalsynth.synth.hybrid import HybridSynthesizer

FAST = dict(utility_learners=("linear", "gbm", "knn"), detection_classifier="logistic")


@pytest.fixture(scope="module")
def lalonde_audit(lalonde):
    return audit(lalonde, AuditConfig(n_reps=2, **FAST), synthesizers=["hybrid", "copula", "bootstrap"],
                 random_state=0)


@pytest.fixture(scope="module")
def designed():
    """Strong imbalance, small overlap, modest effect: hybrid against the joint copula."""
    data = LimitedOverlapDesign().sample(1500, random_state=1).data
    with pytest.warns(Warning):  # the real data has propensities beyond the clipping bounds
        return audit(data, AuditConfig(estimators=("or", "aipw"), n_reps=8, n_synthetic=3000, **FAST),
                     synthesizers=["hybrid", "copula"], random_state=0)


# ----------------------------------------------------------------------------- the designed case
def test_designed_case_joint_generator_predicts_well_but_misses_the_ate(designed):
    # Setup
    s = designed.summary().set_index("synthesizer")
    hyb, cop = s.loc["hybrid"], s.loc["copula"]
    # Assert: the joint copula keeps the predictive utility of training on real data ...
    assert cop["utility"] > 0.97 * cop["utility_trtr"]
    assert cop["detection_auc"] < 0.6  # ... and a detector cannot tell it from real data,
    # ... but its ATE error exceeds the hybrid's by more than 3 standard errors of the
    # difference over repeats (the margin comes from the repeats' own spread)
    gap = cop["ate_error"] - hyb["ate_error"]
    se_gap = np.hypot(cop["ate_error_se"], hyb["ate_error_se"])
    assert gap > 3 * se_gap
    assert cop["z_error"] > 3  # far outside the real interval
    assert bool(hyb["ate_preserved"]) and not bool(cop["ate_preserved"])
    # every repeat is on the expected side
    runs = designed.runs.pivot(index="repeat", columns="synthesizer", values="ate_error")
    assert (runs["copula"] > runs["hybrid"]).mean() >= 0.75


def test_designed_case_hybrid_truth_tracks_the_real_estimate(designed):
    hyb = designed.runs[designed.runs["synthesizer"] == "hybrid"]
    real = designed.real.set_index("estimator").loc["aipw"]
    # the hybrid's sample ATE (its own truth) is close to the real estimate it was fitted on
    assert abs(hyb["sate"].mean() - real["ate"]) < 2 * real["std_error"]
    assert designed.runs.loc[designed.runs["synthesizer"] == "copula", "sate"].isna().all()


# ----------------------------------------------------------------------------- the result object
def test_summary_columns_and_counts(lalonde_audit):
    s = lalonde_audit.summary()
    assert list(s["synthesizer"]) == ["hybrid", "copula", "bootstrap"]
    assert list(s["kind"]) == ["hybrid", "joint", "joint"]
    for col in ("ate_error", "ate_error_se", "rel_error", "z_error", "ci_overlap", "sign_agree",
                "utility", "utility_trtr", "detection_auc", "chi2", "corr_diff", "exact_copy_share",
                "membership_auc", "propensity_ks", "overlap", "learner_rank_corr",
                "estimator_rank_corr", "worst_subgroup_z"):
        assert col in s.columns, col
    assert (s["n_ok"] == 2).all() and (s["n_failed"] == 0).all()
    # the bootstrap copies real covariate rows; the hybrid's copula much less often
    # (LaLonde is mostly discrete, so even new rows often coincide with a real one)
    copies = s.set_index("synthesizer")["exact_copy_share"]
    assert copies["bootstrap"] > 0.5
    assert copies["hybrid"] < 0.5 * copies["bootstrap"]


def test_ate_table_compares_each_estimator_with_the_real_one(lalonde_audit):
    t = lalonde_audit.ate_table()
    assert len(t) == 3 * 4
    real = lalonde_audit.real.set_index("estimator")
    row = t[(t["synthesizer"] == "copula") & (t["estimator"] == "ipw")].iloc[0]
    assert row["real_ate"] == real.loc["ipw", "ate"]
    est = lalonde_audit.estimates
    e = est[(est["synthesizer"] == "copula") & (est["estimator"] == "ipw")]
    assert row["ate_mean"] == pytest.approx(e["ate"].mean())
    assert row["abs_error"] == pytest.approx((e["ate"] - real.loc["ipw", "ate"]).abs().mean())
    assert np.allclose(e["z"], (e["ate"] - real.loc["ipw", "ate"]) / real.loc["ipw", "std_error"])


def test_real_reference_is_the_training_rows(lalonde_audit, lalonde):
    st = lalonde_audit.settings
    assert st["n_train"] + st["n_holdout"] == lalonde.n_obs
    assert st["n_synthetic"] == st["n_train"]
    assert st["n_holdout"] == pytest.approx(0.2 * lalonde.n_obs, abs=2)


def test_subgroups_and_consistency(lalonde_audit):
    sub = lalonde_audit.subgroups()
    assert {"real_ate", "ate_mean", "truth_mean", "flagged"} <= set(sub.columns)
    assert sub["subgroup"].str.startswith("age").any()
    hyb = sub[sub["synthesizer"] == "hybrid"]
    assert hyb["truth_mean"].notna().all()  # the hybrid carries its truth
    assert sub.loc[sub["synthesizer"] == "copula", "truth_mean"].isna().all()
    fid = lalonde_audit.column_fidelity()
    assert list(fid.columns) == ["column", "metric", "hybrid", "copula", "bootstrap"]
    assert set(fid["column"]) == {"treat", "re78", "age", "educ", "black", "hisp", "marr", "nodegree",
                                  "re74", "re75"}
    cons = lalonde_audit.consistency()
    assert list(cons["synthesizer"]) == ["hybrid", "copula", "bootstrap"]
    assert cons["learner_rank_corr"].between(-1, 1).all()


def test_export_text_html_json_and_plots(lalonde_audit, tmp_path):
    import matplotlib.pyplot as plt
    d = lalonde_audit.to_dict()
    json.dumps(d)
    assert {"settings", "real", "summary", "ate_table", "subgroups", "consistency"} <= set(d)
    assert "ATE preservation audit" in str(lalonde_audit)
    assert "<table" in lalonde_audit._repr_html_()
    for plot in (lalonde_audit.plot_ate, lalonde_audit.plot_utility_vs_error, lalonde_audit.plot_subgroups):
        assert plot().figure is not None
    plt.close("all")
    paths = lalonde_audit.write_report(tmp_path)
    for key in ("markdown", "html", "json"):
        assert paths[key].exists()
    md = paths["markdown"].read_text()
    assert "Utility against ATE error" in md and ".png" in md
    assert json.loads(paths["json"].read_text())["summary"][0]["synthesizer"] == "hybrid"
    with pytest.raises(SpecError, match="not in this audit"):
        lalonde_audit.plot_ate(estimator="dml")


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_summary(lalonde):
    kw = dict(config=AuditConfig(n_reps=2, **FAST), synthesizers=["hybrid", "copula"], random_state=7)
    a, b = audit(lalonde, **kw), audit(lalonde, **kw)
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    pd.testing.assert_frame_equal(a.estimates, b.estimates)


def test_streams_are_keyed_by_synthesizer_label(lalonde, lalonde_audit):
    alone = audit(lalonde, AuditConfig(n_reps=2, **FAST), synthesizers=["copula"], random_state=0)
    both = lalonde_audit.estimates
    pd.testing.assert_frame_equal(alone.estimates.reset_index(drop=True),
                                  both[both["synthesizer"] == "copula"].reset_index(drop=True))


# ----------------------------------------------------------------------------- options
def test_instances_user_subgroups_and_failed_repeats(lalonde):
    # Setup: a hybrid whose treated share leaves almost no treated rows fails every draw
    starved = HybridSynthesizer(treated_share=0.002)
    res = audit(lalonde, AuditConfig(estimators=("aipw",), n_reps=2, **FAST),
                synthesizers={"starved": starved, "hyb": HybridSynthesizer()}, random_state=0,
                subgroups={"black": "black == 1", "young": lambda f: f["age"].to_numpy() < 25})
    # Assert
    s = res.summary().set_index("synthesizer")
    assert s.loc["starved", "n_ok"] == 0 and s.loc["starved", "n_failed"] == 2
    assert "DataError" in res.failures()["error"].iloc[0]
    assert s.loc["hyb", "n_ok"] == 2
    assert set(res.subgroups()["subgroup"]) == {"black", "young"}
    assert "every repeat failed" in str(res) or "failed repeat" in str(res)


def test_a_draw_that_defeats_the_analysis_is_a_failed_repeat(lalonde):
    # 60 folds need 120 rows in each arm: the real training rows have them, a hybrid draw
    # with a 15% treated share does not (fit_nuisance raises SpecError inside the repeat)
    with pytest.warns(CausalSynthWarning, match="every repeat"):
        res = audit(lalonde, AuditConfig(estimators=("aipw",), n_folds=60, n_reps=2, **FAST),
                    synthesizers={"few treated": HybridSynthesizer(treated_share=0.15)}, random_state=0)
    assert (res.runs["status"] == "failed").all()
    assert res.failures()["error"].str.contains("SpecError: n_folds=60").all()


def test_subgroups_by_column_names(lalonde):
    res = audit(lalonde, AuditConfig(estimators=("aipw",), n_reps=1, **FAST), synthesizers=["hybrid"],
                subgroups=["black", "age"], random_state=0)
    names = set(res.subgroups()["subgroup"])
    assert {"black = 0", "black = 1"} <= names
    assert sum(n.startswith("age") for n in names) == 4


def test_registry_lists_hybrids_and_joint_baselines():
    assert {"hybrid", "hybrid-bootstrap", "hybrid-ctgan", "hybrid-tvae", "copula", "ctgan", "tvae",
            "bootstrap"} == set(SYNTHESIZERS)


@pytest.mark.slow
def test_deep_generators_run_with_few_epochs(lalonde):
    res = audit(lalonde, AuditConfig(estimators=("aipw",), n_reps=2, epochs=2, generator_options={"batch_size": 100},
                                     **FAST), synthesizers=["tvae", "hybrid-tvae"], random_state=0)
    s = res.summary()
    assert (s["n_ok"] + s["n_failed"] == 2).all()
    assert s.set_index("synthesizer").loc["hybrid-tvae", "n_ok"] == 2


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(synthesizers=["hybrid", "gan"]), r"unknown synthesizer 'gan'; valid names: hybrid, hybrid-bootstrap"),
    (dict(synthesizers=[]), "empty"),
    (dict(synthesizers=[3]), "HybridSynthesizer"),
    (dict(synthesizers=["copula", "copula"]), "unique"),
    (dict(estimators=("aipw", "magic")), "unknown estimator"),
    (dict(n_reps=0), "n_reps"),
    (dict(n_synthetic=5), "n_synthetic"),
    (dict(holdout=0.9), "holdout"),
    (dict(level=95), "level"),
    (dict(utility_learners=("svm",)), "utility learners"),
    (dict(detection_classifier="svm"), "detection_classifier"),
    (dict(subgroups=["nope"]), "not covariates"),
    (dict(subgroups={"bad": 3}), "callable or a query"),
    (dict(subgroups={"bad": "nope > 1"}), "cannot be evaluated"),
])
def test_bad_input(lalonde, kwargs, match):
    own = {k: kwargs.pop(k) for k in ("synthesizers", "subgroups") if k in kwargs}
    with pytest.raises(SpecError, match=match):
        audit(lalonde, AuditConfig(**{"n_reps": 1, **kwargs}), **{"synthesizers": ["copula"], **own})


def test_data_must_be_causaldata(lalonde):
    with pytest.raises(SpecError, match="CausalData"):
        audit(lalonde.frame, synthesizers=["copula"])


def test_result_is_frozen(lalonde_audit):
    import dataclasses
    assert isinstance(lalonde_audit, AuditResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lalonde_audit.level = 0.9
