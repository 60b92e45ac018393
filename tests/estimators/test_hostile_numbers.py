"""Inputs that used to give silently wrong numbers (issue 16, "Silent wrong numbers").

* integers past int64 (uint64 above 2**63, Python ints, CSV text) were wrapped to negative
  int64 values: they become float64, or are refused where float64 would lose them;
* the OR standard error depended on the location of a covariate (its delta-method term ran
  on the raw design): location and scale of any covariate change no estimate and no SE;
* the core estimators took negative, NaN, all-zero and short weight arrays;
* ``propensity_bounds=(0, 1)`` with a separating covariate returned NaN estimates.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData, estimate
from causalsynth.cli import main
from causalsynth.errors import DataError, EstimationError, SpecError
from causalsynth.estimators.core import CORE_ESTIMATORS

CORE = ("or", "ipw", "aipw", "tmle")


def _simulated(n: int = 2000, seed: int = 0, binary_outcome: bool = False) -> pd.DataFrame:
    """Two continuous covariates and a binary one, confounding, true ATE 1 (continuous Y)."""
    rng = np.random.default_rng(seed)
    x1, x2, b = rng.normal(size=n), rng.normal(size=n), rng.binomial(1, 0.4, n)
    a = rng.binomial(1, 1 / (1 + np.exp(-(0.6 * x1 - 0.4 * x2 + 0.5 * b))))
    lin = 1.0 * a + x1 + 0.5 * x2 + b
    y = rng.binomial(1, 1 / (1 + np.exp(-0.5 * lin))) if binary_outcome else lin + rng.normal(size=n)
    return pd.DataFrame({"a": a, "y": y, "x1": x1, "x2": x2, "b": b})


def _table(frame: pd.DataFrame, estimators=CORE, **kw) -> np.ndarray:
    data = CausalData(frame, treatment="a", outcome="y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = estimate(data, estimators=estimators, random_state=0, **kw)
    return res.summary().set_index("estimator").loc[list(estimators), ["ate", "std_error"]].to_numpy()


# --------------------------------------------------------------------------- 1: wide integers
def _spanning_uint64(x: np.ndarray) -> np.ndarray:
    """``x`` mapped linearly onto [0, 1.8e19]: about half the values lie above 2**63."""
    return ((x - x.min()) / (x.max() - x.min()) * 1.8e19).astype(np.uint64)


def test_uint64_covariate_past_int64_is_read_as_float_not_wrapped():
    frame = _simulated()
    frame["x1"] = _spanning_uint64(frame["x1"].to_numpy())
    assert frame["x1"].dtype == np.uint64 and (frame["x1"] > np.iinfo(np.int64).max).mean() > 0.2
    data = CausalData(frame, treatment="a", outcome="y")
    assert data.frame["x1"].dtype == np.float64 and data.frame["x1"].min() >= 0
    np.testing.assert_array_equal(data.frame["x1"].to_numpy(), frame["x1"].to_numpy(dtype=float))
    got = _table(frame)
    # the same numbers as the column given as floats, and near the true effect 1 (SE ~0.05)
    np.testing.assert_allclose(got, _table(frame.assign(x1=frame["x1"].astype(float))), rtol=1e-12)
    assert np.all(np.abs(got[[0, 2, 3], 0] - 1.0) < 0.2)


def test_int64_past_2_53_that_float64_holds_apart_is_kept():
    frame = _simulated(n=500)
    frame["x1"] = np.int64(2 ** 60) + (frame["x1"].to_numpy() * 2 ** 50).astype(np.int64)
    data = CausalData(frame, treatment="a", outcome="y")
    assert data.covariate_kinds["x1"] == "integer" and data.frame["x1"].dtype == np.int64


def test_python_integers_beyond_64_bits_are_numbers_not_categories():
    frame = _simulated(n=500)
    x = frame["x1"].to_numpy()
    frame["x1"] = pd.Series([2 ** 70 + int(v * 2 ** 60) for v in x], dtype=object)
    data = CausalData(frame, treatment="a", outcome="y")
    assert data.covariate_kinds["x1"] == "continuous"
    np.testing.assert_allclose(data.frame["x1"].to_numpy(), 2.0 ** 70 + x * 2.0 ** 60, rtol=1e-15)


@pytest.mark.parametrize("column", [
    pd.Series(np.uint64(2 ** 63) + np.arange(500, dtype=np.uint64)),  # spacing of float64 there: 2048
    pd.Series(np.int64(2 ** 62) + np.arange(500, dtype=np.int64)),  # fits int64, not the float64 design
    pd.Series([2 ** 70 + i for i in range(500)], dtype=object),
])
def test_integers_float64_cannot_hold_apart_are_refused(column):
    frame = _simulated(n=500).assign(x1=column)
    with pytest.raises(DataError, match=r"'x1' holds integers .* beyond the 2\*\*53"):
        CausalData(frame, treatment="a", outcome="y")


def test_wide_integers_with_missing_values_report_the_missing_values():
    frame = _simulated(n=100)
    frame["x1"] = pd.Series([None] + [2 ** 70 + i * 2 ** 60 for i in range(99)], dtype=object)
    with pytest.raises(DataError, match="missing values in x1: 1"):
        CausalData(frame, treatment="a", outcome="y")
    data = CausalData(frame, treatment="a", outcome="y", missing="drop")
    assert data.n_obs == 99 and data.covariate_kinds["x1"] == "continuous"


def _cli_estimates(path, capsys) -> np.ndarray:
    assert main(["estimate", str(path), "-a", "a", "-y", "y", "--estimators", "or,aipw", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    return np.array([[r["ate"], r["std_error"]] for r in doc["estimates"]])


def test_cli_reads_integers_past_int64_from_csv_without_wrapping(tmp_path, capsys):
    frame = _simulated()
    wide = frame.assign(x1=_spanning_uint64(frame["x1"].to_numpy()))
    wide.to_csv(tmp_path / "wide.csv", index=False)
    assert pd.read_csv(tmp_path / "wide.csv")["x1"].dtype == np.uint64  # what pandas hands over
    wide.assign(x1=wide["x1"].astype(float)).to_csv(tmp_path / "float.csv", index=False)
    got = _cli_estimates(tmp_path / "wide.csv", capsys)
    np.testing.assert_allclose(got, _cli_estimates(tmp_path / "float.csv", capsys), rtol=1e-9)
    assert np.all(np.abs(got[:, 0] - 1.0) < 0.2)


def test_cli_reads_integers_beyond_64_bits_from_csv_as_numbers(tmp_path, capsys):
    frame = _simulated(n=500)
    big = [2 ** 70 + int(v * 2 ** 60) for v in frame["x1"]]
    lines = ["a,y,x1,x2,b"] + [f"{r.a},{r.y!r},{v},{r.x2!r},{r.b}" for r, v in zip(frame.itertuples(), big)]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    assert pd.read_csv(tmp_path / "big.csv")["x1"].dtype == object  # pandas leaves them as text
    frame.assign(x1=[float(v) for v in big]).to_csv(tmp_path / "float.csv", index=False)
    np.testing.assert_allclose(_cli_estimates(tmp_path / "big.csv", capsys),
                               _cli_estimates(tmp_path / "float.csv", capsys), rtol=1e-9)


# --------------------------------------------------------------------------- 2: location and scale
#: relative agreement asked of every estimate and SE. A shift of 1e9 stores a unit-scale
#: covariate to about 1e-7 (float64 spacing at 1e9 is 1.2e-7), so the data themselves differ
#: by that much; before the fix the OR SE on this data moved by a factor 1.7 at 1e8 and 133 at 1e9.
RTOL = 1e-6
SCALES = (1e-8, 1e-4, 1e4, 1e9)
SHIFTS = (1e4, 1e8, 1e9)
LEARNERS = {
    "presets": {},
    "presets-explicit": {"propensity": "logistic", "outcome": "linear"},
    "formula": {"propensity": "a ~ x1 + x2 + b", "outcome": "y ~ x1 + x2 + b"},
    "pooled": {"outcome": "pooled:linear"},
}
TRANSFORMS = [("scale", f) for f in SCALES] + [("shift", s) for s in SHIFTS]


def _transformed(frame, column, how, value):
    return frame.assign(**{column: frame[column] * value if how == "scale" else frame[column] + value})


@pytest.fixture(scope="module")
def small():
    return _simulated(n=400, seed=3)


@pytest.fixture(scope="module")
def small_binary():
    return _simulated(n=400, seed=4, binary_outcome=True)


@pytest.mark.parametrize("how, value", TRANSFORMS)
@pytest.mark.parametrize("column", ["x1", "b"])
@pytest.mark.parametrize("learners", list(LEARNERS))
def test_location_and_scale_change_no_estimate_and_no_se(small, learners, column, how, value):
    kw = LEARNERS[learners]
    np.testing.assert_allclose(_table(_transformed(small, column, how, value), **kw), _table(small, **kw),
                               rtol=RTOL)


@pytest.mark.parametrize("how, value", TRANSFORMS)
def test_location_and_scale_invariance_with_a_binary_outcome(small_binary, how, value):
    np.testing.assert_allclose(_table(_transformed(small_binary, "x1", how, value)), _table(small_binary),
                               rtol=RTOL)


def test_or_se_no_longer_depends_on_the_origin_of_a_covariate(small):
    """The case of the issue: +1e8 on a covariate multiplied the OR SE by 2.86 (here 1.7; 133 at 1e9)."""
    base = _table(small, estimators=("or",))[0]
    for shift in (1e8, 1e9):
        np.testing.assert_allclose(_table(_transformed(small, "x1", "shift", shift), estimators=("or",))[0],
                                   base, rtol=RTOL)


@pytest.mark.parametrize("how, value", TRANSFORMS)
@pytest.mark.parametrize("dataset", ["small", "small_binary"])
def test_dml_ignores_location_and_scale(dataset, how, value, request):
    pytest.importorskip("econml")
    # the GLMs handed to econml are standardized first (with C=1e6 on raw coefficients a
    # scale of 1e-8 moved the DML estimate by 40%)
    frame = request.getfixturevalue(dataset)
    np.testing.assert_allclose(_table(_transformed(frame, "x1", how, value), estimators=("dml",)),
                               _table(frame, estimators=("dml",)), rtol=RTOL)


# --------------------------------------------------------------------------- 4: case weights
@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(5)
    n = 60
    a = np.r_[np.ones(30), np.zeros(30)]
    return a, rng.normal(size=n) + a, np.full(n, 0.5), np.zeros(n), np.ones(n)


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("weights, message", [
    (lambda n: -np.ones(n), r"weights must be >= 0 .*60 of 60 are negative"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], r"weights must be finite; 1 of 60 are NaN"),
    (lambda n: np.zeros(n), r"weights of the treated sum to 0"),
    (lambda n: np.r_[np.zeros(30), np.ones(30)], r"weights of the treated sum to 0"),
    (lambda n: np.ones(n - 1), r"one number per row: shape \(60,\); got shape \(59,\)"),
    (lambda n: np.ones((n, 2)), r"one number per row"),
    (lambda n: ["x"] * n, r"weights must be an array of numbers"),
])
def test_core_estimators_refuse_bad_weights(arrays, name, weights, message):
    a, y, e, mu0, mu1 = arrays
    with pytest.raises(SpecError, match=message):
        CORE_ESTIMATORS[name](a, y, e, mu0, mu1, weights=weights(len(a)))


@pytest.mark.parametrize("name", CORE)
def test_core_estimators_take_valid_weights(arrays, name):
    a, y, e, mu0, mu1 = arrays
    w = np.r_[np.zeros(5), np.ones(55)]  # zeros are allowed: those rows count for nothing
    est = CORE_ESTIMATORS[name](a, y, e, mu0, mu1, weights=list(w))
    assert np.isfinite(est.ate) and np.isfinite(est.std_error)


# --------------------------------------------------------------------------- 5: bounds (0, 1)
def _separated() -> CausalData:
    rng = np.random.default_rng(6)
    x = rng.normal(size=300)
    a = (x > 0).astype(int)
    return CausalData(pd.DataFrame({"a": a, "y": a + x + rng.normal(size=300), "x": x,
                                    "z": rng.normal(size=300)}), treatment="a", outcome="y")


@pytest.mark.parametrize("estimators", [("ipw",), ("aipw",), ("tmle",), CORE])
def test_unclipped_bounds_with_separation_raise_instead_of_nan(estimators):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EstimationError, match=r"exactly 0 or 1.*propensity_bounds=\(0.01, 0.99\) or 'adaptive'"):
            estimate(_separated(), estimators=estimators, propensity_bounds=(0, 1), random_state=0)


def test_core_estimators_refuse_propensities_of_zero_or_one(arrays):
    a, y, e, mu0, mu1 = arrays
    e = e.copy()
    e[0] = 1.0
    for name in ("ipw", "aipw", "tmle"):
        with pytest.raises(EstimationError, match="exactly 0 or 1"):
            CORE_ESTIMATORS[name](a, y, e, mu0, mu1)


def test_separation_with_clipping_bounds_still_gives_finite_numbers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = estimate(_separated(), propensity_bounds=(0.01, 0.99), random_state=0).summary()
    assert np.all(np.isfinite(table[["ate", "std_error"]].to_numpy()))

