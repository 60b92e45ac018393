"""Tests of causalsynth.synth.covariates (bootstrap, Gaussian copula, CTGAN, TVAE)."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth.errors import DataError, NotFittedError, PrivacyWarning, SpecError
from causalsynth.synth.covariates import (
    COVARIATE_GENERATORS,
    BootstrapGenerator,
    CovariateGenerator,
    CTGANGenerator,
    GaussianCopulaGenerator,
    TVAEGenerator,
    covariate_kinds,
    make_covariate_generator,
)

HAS_CTGAN = importlib.util.find_spec("ctgan") is not None
needs_ctgan = pytest.mark.skipif(not HAS_CTGAN, reason='needs pip install "causalsynth[deep]"')
DEEP = [pytest.param(name, marks=needs_ctgan) for name in ("ctgan", "tvae")]
ALL = ["bootstrap", "copula", *DEEP]
DEEP_NAMES = ("ctgan", "tvae")
# Small, fast settings for the neural generators (batch_size: even, multiple of pac=10).
DEEP_KWARGS = {"epochs": 3, "batch_size": 50, "device": "cpu"}


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Mixed covariates: correlated floats (rho=0.8), integers, bool, categories, strings."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], size=n)
    return pd.DataFrame({
        "x": z[:, 0],
        "y": 10.0 + 2.0 * z[:, 1],
        "age": rng.integers(18, 90, size=n),
        "visits": pd.array(rng.poisson(2.0, size=n), dtype="Int64"),
        "smoker": rng.random(n) < 0.3,
        "region": pd.Categorical(rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.3, 0.2]),
                                 categories=["north", "south", "east", "west"]),
        "sex": rng.choice(["f", "m"], size=n).astype(object),
        "f32": rng.gamma(2.0, size=n).astype(np.float32),
    })


def build(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return make_covariate_generator(name, **(DEEP_KWARGS if name in DEEP_NAMES else {}))


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Torch's thread pool crawls when the (2-core) machine is busy; one thread is faster."""
    if not HAS_CTGAN:
        yield
        return
    torch = importlib.import_module("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return make_frame(200, seed=1)


@pytest.fixture(scope="module")
def fitted(small):
    """Fitted generators by name, fitted once on first use (the deep ones are slow)."""
    cache = {}

    def get(name):
        if name not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PrivacyWarning)
                cache[name] = build(name).fit(small, random_state=7)
        return cache[name]

    return get


# --- reproducibility ------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_sample(fitted, name):
    gen = fitted(name)
    first, second = gen.sample(300, random_state=11), gen.sample(300, random_state=11)
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("name", ALL)
def test_different_seed_different_sample(fitted, name):
    gen = fitted(name)
    assert not gen.sample(300, random_state=11).equals(gen.sample(300, random_state=12))


@pytest.mark.parametrize("name", ["copula", *DEEP])
def test_refit_same_seed_same_model_and_sample(fitted, small, name):
    again = build(name).fit(small, random_state=7)
    pd.testing.assert_frame_equal(again.sample(300, random_state=3),
                                  fitted(name).sample(300, random_state=3))
    if name == "copula":
        np.testing.assert_array_equal(again.correlation_, fitted(name).correlation_)
    else:
        net = "_generator" if name == "ctgan" else "decoder"
        ours = getattr(again.model_, net).state_dict()
        theirs = getattr(fitted(name).model_, net).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(np.array_equal(ours[k].numpy(), theirs[k].numpy()) for k in ours)


@pytest.mark.parametrize("name", ["copula", *DEEP])
def test_refit_other_seed_differs(fitted, small, name):
    other = build(name).fit(small, random_state=8)
    assert not other.sample(300, random_state=3).equals(fitted(name).sample(300, random_state=3))


@pytest.mark.parametrize("name", ["copula", DEEP[0]])
def test_global_random_state_untouched(fitted, name):
    before = np.random.get_state()[1].copy()
    fitted(name).sample(50, random_state=0)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_generator_random_state_accepted(fitted):
    a = fitted("copula").sample(50, random_state=np.random.default_rng(5))
    b = fitted("copula").sample(50, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)


# --- layout, dtypes, bounds, categories --------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_layout_dtypes_bounds_categories(fitted, small, name):
    out = fitted(name).sample(400, random_state=2)
    assert list(out.columns) == list(small.columns)
    pd.testing.assert_series_equal(out.dtypes, small.dtypes)
    assert len(out) == 400 and out.index.equals(pd.RangeIndex(400))
    assert not out.isna().any().any()
    for col in ["x", "y", "age", "visits", "f32"]:
        assert out[col].min() >= small[col].min() and out[col].max() <= small[col].max(), col
    assert pd.api.types.is_integer_dtype(out["age"]) and out["age"].dtype == np.int64
    assert out["visits"].dtype == "Int64"
    assert out["smoker"].dtype == bool
    assert out["region"].dtype == small["region"].dtype  # same categories, incl. unseen "west"
    assert set(out["region"]) <= set(small["region"])  # "west" never observed, never sampled
    assert set(out["sex"]) <= {"f", "m"}


def test_string_and_nullable_dtypes_preserved():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "s": pd.array(rng.choice(["a", "b", "c"], 50), dtype="string"),
        "flag": pd.array(rng.random(50) < 0.5, dtype="boolean"),
        "w": pd.array(rng.normal(size=50), dtype="Float64"),
        "u8": rng.integers(0, 200, 50).astype(np.uint8),
    })
    out = GaussianCopulaGenerator().fit(frame, random_state=0).sample(100, random_state=1)
    pd.testing.assert_series_equal(out.dtypes, frame.dtypes)
    assert set(out["s"]) <= {"a", "b", "c"}


@pytest.mark.parametrize("name", ALL)
def test_fit_does_not_mutate_input(small, name):
    frame = small.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        build(name).fit(frame, random_state=0).sample(10, random_state=0)
    pd.testing.assert_frame_equal(frame, small)


def test_covariate_kinds(small):
    assert covariate_kinds(small) == {
        "x": "continuous", "y": "continuous", "age": "integer", "visits": "integer",
        "smoker": "binary", "region": "categorical", "sex": "categorical", "f32": "continuous",
    }


@needs_ctgan
def test_deep_discrete_columns(fitted):
    # categorical/binary always discrete; "visits" has <= 10 levels, "age" has more.
    assert fitted("ctgan").discrete_columns_ == ["visits", "smoker", "region", "sex"]
    assert fitted("tvae").discrete_columns_ == ["visits", "smoker", "region", "sex"]


# --- copula fidelity ------------------------------------------------------------------

@pytest.fixture(scope="module")
def copula_pair():
    real = make_frame(4000, seed=2)
    gen = GaussianCopulaGenerator().fit(real, random_state=0)
    return real, gen.sample(40000, random_state=1)


def test_copula_means_and_sds(copula_pair):
    real, synth = copula_pair
    n_real, n_syn = len(real), len(synth)
    for col in ["x", "y", "age", "visits", "f32"]:
        r = real[col].astype(float)
        s = synth[col].astype(float)
        sd = r.std()
        se_mean = sd * np.sqrt(1 / n_real + 1 / n_syn)
        assert abs(s.mean() - r.mean()) < 4 * se_mean, col
        # SE of an SD: sqrt((kurtosis - 1) / (4 n)) * sd, with the real data's kurtosis.
        kurt = ((r - r.mean()) ** 4).mean() / sd ** 4
        se_sd = sd * np.sqrt((kurt - 1) / 4 * (1 / n_real + 1 / n_syn))
        # rounding of integer columns adds up to 1/12 variance; allow for it
        extra = (1 / 12) / (2 * sd) if col in ("age", "visits") else 0.0
        assert abs(s.std() - sd) < 4 * se_sd + extra, col


def test_copula_correlation(copula_pair):
    real, synth = copula_pair
    r_real = real["x"].corr(real["y"])
    r_syn = synth["x"].corr(synth["y"])
    assert abs(r_real - 0.8) < 0.05
    # Stated tolerance: 0.03 (about 4 SEs of r for n=4000: (1 - 0.64) / sqrt(4000) = 0.006,
    # plus the slight attenuation from rank jitter).
    assert abs(r_syn - r_real) < 0.03
    # independent columns stay roughly uncorrelated
    assert abs(synth["x"].corr(synth["age"].astype(float))) < 0.05


def test_copula_category_frequencies(copula_pair):
    real, synth = copula_pair
    for col in ["region", "sex", "smoker"]:
        p_real = real[col].value_counts(normalize=True)
        p_syn = synth[col].value_counts(normalize=True).reindex(p_real.index, fill_value=0.0)
        se = np.sqrt(p_real * (1 - p_real) * (1 / len(real) + 1 / len(synth)))
        assert (np.abs(p_syn - p_real) < 4 * se + 1e-12).all(), col
    assert (synth["region"] == "west").sum() == 0


def test_copula_interpolates_between_observed_values(copula_pair):
    real, synth = copula_pair
    assert np.isin(synth["x"].to_numpy(), real["x"].to_numpy()).mean() < 0.01


def test_copula_correlation_matrix_valid(fitted):
    corr = fitted("copula").correlation_
    np.testing.assert_allclose(np.diag(corr), 1.0)
    np.testing.assert_allclose(corr, corr.T)
    assert np.linalg.eigvalsh(corr).min() > 0


def test_copula_degenerate_columns():
    frame = pd.DataFrame({"c": [1.0, 1.0, 1.0], "d": [2, 2, 3], "e": ["a", "a", "a"]})
    out = GaussianCopulaGenerator().fit(frame, random_state=0).sample(20, random_state=0)
    assert (out["c"] == 1.0).all() and set(out["d"]) <= {2, 3} and (out["e"] == "a").all()


def test_copula_bad_eigen_floor(small):
    with pytest.raises(SpecError, match="eigen_floor"):
        GaussianCopulaGenerator(eigen_floor=0).fit(small)


# --- bootstrap ------------------------------------------------------------------------

def test_bootstrap_warns_privacy(small):
    with pytest.warns(PrivacyWarning, match="no privacy"):
        BootstrapGenerator().fit(small)


def test_bootstrap_rows_are_real(fitted, small):
    out = fitted("bootstrap").sample(100, random_state=0)
    real_rows = set(map(tuple, small.astype(str).to_numpy()))
    assert all(tuple(row) in real_rows for row in out.astype(str).to_numpy())


# --- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_not_fitted(name):
    with pytest.raises(NotFittedError, match="call fit"):
        build(name).sample(10)


@pytest.mark.parametrize("name", ["bootstrap", "copula"])
def test_missing_values(small, name):
    frame = small.copy()
    frame.loc[[0, 5], "x"] = np.nan
    frame.loc[3, "sex"] = None
    with pytest.raises(DataError, match=r"missing values.*'x' \(2\).*'sex' \(1\)"):
        build(name).fit(frame)


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame({"a": [1.0]}),
                                   pd.DataFrame(index=range(5))])
def test_too_small_frame(frame):
    with pytest.raises(DataError, match="at least 2 rows"):
        GaussianCopulaGenerator().fit(frame)


def test_not_a_frame():
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        GaussianCopulaGenerator().fit(np.zeros((5, 2)))


def test_unsupported_dtype_and_infinite():
    dates = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=4), "x": np.arange(4.0)})
    with pytest.raises(DataError, match="unsupported dtype: 'd'"):
        GaussianCopulaGenerator().fit(dates)
    with pytest.raises(DataError, match=r"infinite values in columns 'x' \(1\)"):
        GaussianCopulaGenerator().fit(pd.DataFrame({"x": [1.0, np.inf, 2.0]}))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_n(fitted, name, n):
    with pytest.raises(SpecError, match="n must be a positive integer"):
        fitted(name).sample(n)


def test_unknown_generator_name():
    with pytest.raises(SpecError, match=r"one of 'bootstrap', 'copula', 'ctgan', 'tvae'.*'gan'"):
        make_covariate_generator("gan")


def test_object_without_protocol():
    with pytest.raises(SpecError, match="CovariateGenerator protocol"):
        make_covariate_generator(object())
    with pytest.raises(SpecError, match="CovariateGenerator protocol"):
        make_covariate_generator(42)


@needs_ctgan
def test_deep_bad_parameters(small):
    with pytest.raises(SpecError, match="unknown keyword arguments.*'not_an_option'"):
        CTGANGenerator(epochs=1, batch_size=50, not_an_option=1).fit(small)
    with pytest.raises(SpecError, match="batch_size must be even and a multiple of pac"):
        CTGANGenerator(epochs=1, batch_size=55).fit(small)
    with pytest.raises(SpecError, match="epochs must be a positive integer"):
        TVAEGenerator(epochs=0).fit(small)
    with pytest.raises(SpecError, match="set by the wrapper"):
        TVAEGenerator(epochs=1, verbose=True).fit(small)
    with pytest.raises(SpecError, match="device must be"):
        TVAEGenerator(epochs=1, device="toaster").fit(small)


def test_deep_missing_ctgan_names_the_extra(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "ctgan", None)  # makes `import ctgan` fail
    with pytest.raises(ImportError, match=r'pip install "causalsynth\[deep\]"'):
        CTGANGenerator(epochs=1, batch_size=50).fit(small)


# --- registry and protocol -----------------------------------------------------------

def test_registry_and_factory():
    assert set(COVARIATE_GENERATORS) == {"bootstrap", "copula", *DEEP_NAMES}
    assert isinstance(make_covariate_generator(" Copula "), GaussianCopulaGenerator)
    gen = make_covariate_generator("tvae", epochs=4, embedding_dim=8)  # no ctgan import yet
    assert isinstance(gen, TVAEGenerator) and gen.epochs == 4
    assert gen.model_kwargs == {"embedding_dim": 8}
    assert isinstance(make_covariate_generator(GaussianCopulaGenerator, eigen_floor=1e-4),
                      GaussianCopulaGenerator)
    for name in COVARIATE_GENERATORS:
        assert isinstance(build(name), CovariateGenerator)


class ConstantGenerator:
    """A user-defined generator following the protocol: repeats the first row."""

    def fit(self, frame, *, random_state=None):
        self.row_ = frame.iloc[[0]]
        return self

    def sample(self, n, *, random_state=None):
        return self.row_.iloc[[0] * n].reset_index(drop=True)


def test_user_defined_generator_accepted(small):
    user = ConstantGenerator()
    assert isinstance(user, CovariateGenerator)
    assert make_covariate_generator(user) is user
    assert len(make_covariate_generator(user).fit(small).sample(3)) == 3
    with pytest.raises(SpecError, match="apply only when generator is a name"):
        make_covariate_generator(user, epochs=3)
