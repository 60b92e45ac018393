"""Tests of causalsynth.privacy (distance to closest record)."""
from __future__ import annotations

import json
import math
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from causalsynth.errors import DataError, NotFittedError, SpecError
from causalsynth.privacy import (
    DCRReport,
    MixedEncoder,
    dcr,
    default_min_dcr,
    nearest_distances,
)

matplotlib.use("Agg")


def mixed(n: int, seed: int) -> pd.DataFrame:
    """Numeric (float and int), categorical, object and bool columns."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(50, 10, n),
        "dose": rng.integers(0, 6, n),
        "site": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "sex": rng.choice(["f", "m"], n),
        "smoker": rng.random(n) < 0.3,
        "y": rng.normal(0, 1, n),
    })


def brute_force(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return cdist(query.astype(np.float64), reference.astype(np.float64)).min(axis=1)


def test_encoding_metric():
    train = mixed(200, 0)
    enc = MixedEncoder().fit(train)
    x = enc.transform(train)
    assert x.dtype == np.float32 and x.flags.c_contiguous
    assert x.shape == (200, 3 + 3 + 2 + 2)
    np.testing.assert_allclose(x[:, 0], (train["age"] - train["age"].mean()) / train["age"].std(ddof=0),
                               atol=1e-5)
    # one categorical mismatch = squared distance 1, like one standard deviation
    other = train.iloc[[0]].copy()
    other["site"] = "b" if other["site"].iloc[0] != "b" else "a"
    diff = enc.transform(other)[0].astype(np.float64) - x[0]
    assert np.sum(diff**2) == pytest.approx(1.0, abs=1e-6)
    shifted = train.iloc[[0]].copy()
    shifted["y"] = shifted["y"] + train["y"].std(ddof=0)
    diff = enc.transform(shifted)[0].astype(np.float64) - x[0]
    assert np.sum(diff**2) == pytest.approx(1.0, abs=1e-5)
    unseen = train.iloc[[0]].copy()
    unseen["sex"] = "x"
    assert np.all(enc.transform(unseen)[0, 6:8] == 0.0)
    constant = pd.DataFrame({"c": [3.0] * 5})
    assert np.all(MixedEncoder().fit(constant).transform(constant) == 0.0)


def test_nearest_distances_matches_brute_force():
    train, synth = mixed(150, 1), mixed(90, 2)
    enc = MixedEncoder().fit(train)
    a, b = enc.transform(synth), enc.transform(train)
    d, idx = nearest_distances(a, b, return_index=True)
    full = cdist(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(d, full.min(axis=1), atol=1e-5)
    np.testing.assert_allclose(full[np.arange(len(a)), idx], d, atol=1e-12)
    np.testing.assert_allclose(dcr(train, synth).synthetic_to_train, brute_force(a, b), atol=1e-5)


def test_chunk_size_independence():
    train, synth, hold = mixed(300, 3), mixed(200, 4), mixed(150, 5)
    enc = MixedEncoder().fit(train)
    a, b = enc.transform(synth), enc.transform(train)
    d1, i1 = nearest_distances(a, b, chunk_size=7, return_index=True)
    d2, i2 = nearest_distances(a, b, chunk_size=4096, return_index=True)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(i1, i2)
    r1 = dcr(train, synth, holdout=hold, chunk_size=7, random_state=0)
    r2 = dcr(train, synth, holdout=hold, chunk_size=4096, random_state=0)
    np.testing.assert_array_equal(r1.synthetic_to_train, r2.synthetic_to_train)
    np.testing.assert_array_equal(r1.holdout_to_train, r2.holdout_to_train)
    assert r1.to_dict() == r2.to_dict()


def test_exact_copies():
    train, fresh = mixed(400, 6), mixed(100, 7)
    k = 37
    copied = train.iloc[np.arange(0, 2 * k, 2)]
    # the copies are stored with other dtypes: hashing must not depend on storage
    copied = copied.astype({"dose": "float64", "site": "object"})
    synth = pd.concat([copied, fresh.astype({"dose": "float64", "site": "object"})],
                      ignore_index=True)
    report = dcr(train, synth)
    assert report.exact_copy_share == k / len(synth)
    assert np.all(report.synthetic_to_train[:k] == 0.0)
    assert np.all(report.synthetic_to_train[k:] > 0.0)
    raw = nearest_distances(MixedEncoder().fit(train).transform(copied),
                            MixedEncoder().fit(train).transform(train))
    assert np.all(raw == 0.0)


def test_fresh_draw_is_private_and_memorization_is_not():
    train, hold, fresh = mixed(1500, 8), mixed(1000, 9), mixed(1200, 10)
    report = dcr(train, fresh, holdout=hold, random_state=1)
    # Under "no memorization" each synthetic row is equally likely to be closer to the
    # train subsample or to the holdout: binomial standard error sqrt(1/4 / n_synthetic).
    se_share = math.sqrt(0.25 / len(fresh))
    assert abs(report.closer_to_train_share - 0.5) < 4 * se_share
    # Null standard error of the Mann-Whitney AUC: sqrt((n1 + n0 + 1) / (12 n1 n0)).
    n1, n0 = len(train), len(hold)
    se_auc = math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    assert abs(report.membership_auc - 0.5) < 4 * se_auc
    assert report.exact_copy_share == 0.0
    # holdout larger than train: the holdout is subsampled instead
    swapped = dcr(hold, fresh, holdout=train, random_state=2)
    assert abs(swapped.closer_to_train_share - 0.5) < 4 * se_share

    rng = np.random.default_rng(11)
    leaky = train.copy()
    for col in ("age", "y"):
        leaky[col] = leaky[col] + rng.normal(0, 1e-3, len(leaky))
    bad = dcr(train, leaky, holdout=hold, random_state=1)
    # Train is subsampled to the holdout's size, so only n_hold / n_train of the leaked
    # rows have their source in the subsample: expected share 2/3 + 1/3 * 1/2 = 0.83.
    assert bad.closer_to_train_share > 0.75
    same_size = dcr(train.iloc[:1000], leaky.iloc[:1000], holdout=hold, random_state=1)
    assert same_size.closer_to_train_share > 0.95
    assert bad.membership_auc > 0.9
    assert bad.exact_copy_share == 0.0
    assert np.median(bad.synthetic_to_train) < np.quantile(bad.holdout_to_train, 0.05)


def test_auc_rank_formula_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    from causalsynth.privacy import rank_auc

    rng = np.random.default_rng(12)
    pos, neg = rng.integers(0, 5, 60).astype(float), rng.integers(1, 6, 45).astype(float)
    expected = roc_auc_score(np.r_[np.ones(60), np.zeros(45)], np.r_[pos, neg])
    assert rank_auc(pos, neg) == pytest.approx(expected, abs=1e-12)


def test_missing_values_raise():
    train, synth = mixed(50, 13), mixed(40, 14)
    synth.loc[[1, 3], "age"] = np.nan
    synth.loc[2, "sex"] = None
    with pytest.raises(DataError, match=r"synthetic has missing values in 2 column.*'age' \(2 missing\)"):
        dcr(train, synth)
    with pytest.raises(DataError, match=r"real has missing values"):
        dcr(synth, train)


def test_mismatched_columns_raise():
    train, synth = mixed(50, 15), mixed(40, 16)
    with pytest.raises(DataError, match=r"missing: \['dose'\], extra: \['extra'\]"):
        dcr(train, synth.drop(columns="dose").assign(extra=1.0))
    with pytest.raises(DataError, match=r"holdout must have the same columns.*missing: \['y'\]"):
        dcr(train, synth, holdout=synth.drop(columns="y"))
    with pytest.raises(DataError, match=r"'age' \(fitted as numeric"):
        dcr(train, synth.astype({"age": str}))
    with pytest.raises(DataError, match=r"unsupported dtype.*'when'"):
        dcr(train.assign(when=pd.Timestamp("2020-01-01")), synth.assign(when=pd.Timestamp(0)))


def test_bad_arguments_raise():
    train, hold = mixed(50, 17), mixed(40, 18)
    for q in (0, 1, 1.5, -0.1, True, "0.05"):
        with pytest.raises(SpecError, match=r"quantile must be a number strictly between 0 and 1"):
            default_min_dcr(train, hold, quantile=q)
    with pytest.raises(SpecError, match=r"chunk_size must be a positive integer; got 0"):
        dcr(train, hold, chunk_size=0)
    with pytest.raises(SpecError, match=r"synthetic must be a pandas DataFrame or a dataset"):
        dcr(train, hold.to_numpy())
    with pytest.raises(DataError, match=r"same number of columns"):
        nearest_distances(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(DataError, match=r"NaN or infinite"):
        nearest_distances(np.array([[np.nan, 1.0]]), np.zeros((3, 2)))
    with pytest.raises(NotFittedError, match="fit"):
        MixedEncoder().transform(train)


def test_default_min_dcr_is_the_holdout_quantile():
    train, hold, synth = mixed(300, 19), mixed(200, 20), mixed(100, 21)
    report = dcr(train, synth, holdout=hold, random_state=0)
    for q in (0.05, 0.5):
        expected = float(np.quantile(report.holdout_to_train, q))
        assert default_min_dcr(train, hold, quantile=q) == pytest.approx(expected, abs=1e-12)


def test_report_outputs_and_plot():
    import matplotlib.pyplot as plt

    train, hold, synth = mixed(200, 22), mixed(150, 23), mixed(120, 24)
    report = dcr(train, synth, holdout=hold, random_state=0)
    assert isinstance(report, DCRReport)
    assert (report.n_train, report.n_synthetic, report.n_holdout) == (200, 120, 150)
    table = report.summary()
    assert list(table.index) == ["synthetic->train", "holdout->train"]
    assert {"n", "min", "q05", "q25", "median", "q75", "mean", "exact_copy_share",
            "closer_to_train_share"} <= set(table.columns)
    assert table.loc["synthetic->train", "median"] == pytest.approx(
        np.median(report.synthetic_to_train))
    json.dumps(report.to_dict())
    assert "membership-inference AUC" in str(report)
    assert "<table" in report._repr_html_()
    ax = report.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.get_lines()) == 2 and ax.get_legend() is not None
    plt.close("all")
    alone = dcr(train, synth)
    assert alone.holdout_to_train is None and alone.membership_auc is None
    assert list(alone.summary().index) == ["synthetic->train"]
    assert "no holdout" in str(alone)
    with pytest.raises((AttributeError, TypeError)):
        report.exact_copy_share = 0.5  # frozen
    with pytest.raises(ValueError):
        report.synthetic_to_train[0] = 1.0  # read-only array


def test_determinism_and_no_mutation():
    train, hold, synth = mixed(300, 25), mixed(120, 26), mixed(200, 27)
    before = [f.copy() for f in (train, hold, synth)]
    r1 = dcr(train, synth, holdout=hold, random_state=42)
    r2 = dcr(train, synth, holdout=hold, random_state=42)
    assert r1.to_dict() == r2.to_dict()
    np.testing.assert_array_equal(r1.synthetic_to_train, r2.synthetic_to_train)
    for f, b in zip((train, hold, synth), before):
        pd.testing.assert_frame_equal(f, b)


def test_dataset_objects_use_role_columns():
    train, hold, synth = mixed(200, 28), mixed(100, 29), mixed(150, 30)
    roles = dict(covariates=["age", "dose", "site", "sex"], treatment="smoker", outcome="y")
    as_ds = lambda f: SimpleNamespace(frame=f.assign(row_id=np.arange(len(f))), **roles)  # noqa: E731
    r1 = dcr(as_ds(train), as_ds(synth), holdout=as_ds(hold), random_state=0)
    r2 = dcr(train, synth, holdout=hold, random_state=0)
    assert r1.to_dict() == r2.to_dict()
    assert default_min_dcr(as_ds(train), hold) == default_min_dcr(train, hold)
