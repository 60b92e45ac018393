"""Each fitted part owns its state: every fitted attribute of a synthesizer survives save/load
(a forgotten one fails here), files of the starting format still load, and seeded draws are
pinned to the values computed before the state moved into the parts (issue 19)."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import PrivacyWarning
from causalsynth.synth.hybrid import HybridSynthesizer
from tests.synth.test_io import CASES as IO_CASES

FIXTURES = Path(__file__).parent / "fixtures"


def _datasets():
    data = LinearLogisticDesign().sample(300, random_state=0).data
    f = LinearLogisticDesign().sample(300, random_state=1).data.frame
    rng = np.random.default_rng(0)
    f = f.assign(grp=rng.choice(["x", "y", "z"], 300), k=rng.integers(0, 4, 300),
                 flag=rng.integers(0, 2, 300).astype(bool), cnt=rng.integers(0, 9, 300),
                 y=(f["y"] > f["y"].median()).astype(int))
    mixed = CausalData(f, treatment="a", outcome="y", categorical=["k"])
    g = LinearLogisticDesign().sample(300, random_state=2).data.frame
    g = g.assign(y=np.where(g["y"] > g["y"].quantile(0.3), np.exp(g["y"] / 4), 0.0))
    semi = CausalData(g, treatment="a", outcome="y")
    h = LinearLogisticDesign().sample(300, random_state=3).data.frame
    h = h.assign(y=np.clip(np.rint(h["y"] + 3), 0, None))
    counts = CausalData(h, treatment="a", outcome="y")
    return {"data": data, "mixed": mixed, "semi": semi, "counts": counts}


# the save/load cases, a two-part outcome and a scaled count outcome
CASES = {**IO_CASES, "two-part": ("semi", {"ate": 0.5}),
         "counts-scaled": ("counts", {"noise_scale": (0.5, 0.8), "effect_scale": 0.5, "confounding": 0.7})}


def _fit(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return HybridSynthesizer(n_reference=2000, random_state=0, **kw).fit(d)


def _fingerprint(s):
    smp = s.sample(80, random_state=7)
    f = smp.data.frame
    num = f.select_dtypes("number").to_numpy(dtype=float)
    t = smp.truth
    cov = s.sample_covariates(40, random_state=3).select_dtypes("number").to_numpy(dtype=float)
    s2 = s.sample(25)  # the counter stream
    return {"population_ate": s.population_ate_, "frame_sum": float(num.sum()),
            "frame_00": float(num[0, 0]), "frame_11": float(num[1, 1]), "frame_last": float(num[-1, -1]),
            "y_sum": float(f["y"].sum()), "a_sum": int(f["a"].sum()), "y0_sum": float(t["y0"].sum()),
            "y1_sum": float(t["y1"].sum()), "mu1_sum": float(t["mu1"].sum()),
            "prop_sum": float(t["propensity"].sum()), "cov_sum": float(cov.sum()),
            "counter_y_sum": float(s2.data.frame["y"].sum())}


#: computed on the starting commit (3bb5a08), before any edit: sample(80, random_state=7),
#: sample_covariates(40, random_state=3) and sample(25) with the counter stream
PINNED = {'copula-glm': {'population_ate': 1.3134978932986063,
                'frame_sum': 63.01361494630046,
                'frame_00': 1.0,
                'frame_11': 3.0048757004918283,
                'frame_last': -0.581530499326145,
                'y_sum': 60.313875890612074,
                'a_sum': 44,
                'y0_sum': -0.11778886164720426,
                'y1_sum': 102.23491953491802,
                'mu1_sum': 101.52113742469004,
                'prop_sum': 42.65273019091449,
                'cov_sum': 1.0727659573093336,
                'counter_y_sum': 10.82185547826266},
 'bootstrap-formula': {'population_ate': 1.659443656741681,
                       'frame_sum': 49.08346613473769,
                       'frame_00': 1.0,
                       'frame_11': 4.986565767593932,
                       'frame_last': -0.6077406304422468,
                       'y_sum': 68.41499379679256,
                       'a_sum': 46,
                       'y0_sum': -13.160710963982869,
                       'y1_sum': 117.51024020841687,
                       'mu1_sum': 116.65844100792296,
                       'prop_sum': 42.3913953048619,
                       'cov_sum': -7.659793250148262,
                       'counter_y_sum': 20.10439997176069},
 'copula-pooled-formula': {'population_ate': 1.5044736797571654,
                           'frame_sum': 57.756183786110064,
                           'frame_00': 1.0,
                           'frame_11': 3.1634929124843625,
                           'frame_last': -0.581530499326145,
                           'y_sum': 55.0564447304217,
                           'a_sum': 44,
                           'y0_sum': -18.430444289021622,
                           'y1_sum': 107.7349695444032,
                           'mu1_sum': 106.87559722543378,
                           'prop_sum': 42.65273019091449,
                           'cov_sum': 1.0727659573093336,
                           'counter_y_sum': 12.362401731980514},
 'binary-outcome': {'population_ate': 0.10000000000000005,
                    'frame_sum': 345.89655122269096,
                    'frame_00': 1.0,
                    'frame_11': 1.0,
                    'frame_last': 0.0,
                    'y_sum': 40.0,
                    'a_sum': 45,
                    'y0_sum': 35.0,
                    'y1_sum': 44.0,
                    'mu1_sum': 43.57701592983493,
                    'prop_sum': 40.59461757482686,
                    'cov_sum': 165.5142751746539,
                    'counter_y_sum': 9.0},
 'binary-pooled-glm': {'population_ate': 0.25459535037739356,
                       'frame_sum': 361.03339382016355,
                       'frame_00': 1.0,
                       'frame_11': 1.0,
                       'frame_last': 1.0,
                       'y_sum': 46.0,
                       'a_sum': 44,
                       'y0_sum': 36.0,
                       'y1_sum': 52.0,
                       'mu1_sum': 52.96260310575636,
                       'prop_sum': 42.53892336262959,
                       'cov_sum': 161.77420638232334,
                       'counter_y_sum': 15.0},
 'heteroscedastic-min-dcr': {'population_ate': 1.3154639780335065,
                             'frame_sum': 68.27785126686763,
                             'frame_00': 1.0,
                             'frame_11': 2.9052381718238913,
                             'frame_last': -0.581530499326145,
                             'y_sum': 66.14094403677137,
                             'a_sum': 47,
                             'y0_sum': 0.14591561332257896,
                             'y1_sum': 103.32746415703505,
                             'mu1_sum': 101.97407535312078,
                             'prop_sum': 42.50933036264179,
                             'cov_sum': -0.7511614241639011,
                             'counter_y_sum': 11.219928152664863},
 'residuals-min-dcr': {'population_ate': 1.0,
                       'frame_sum': 34.72986293757607,
                       'frame_00': 1.0,
                       'frame_11': 1.5672772160494486,
                       'frame_last': -0.581530499326145,
                       'y_sum': 33.59295570747982,
                       'a_sum': 46,
                       'y0_sum': -16.708834363694837,
                       'y1_sum': 62.14826299552447,
                       'mu1_sum': 76.73695711044026,
                       'prop_sum': 42.49468838589024,
                       'cov_sum': -0.7511614241639011,
                       'counter_y_sum': 4.14021707428852},
 'binary-min-dcr': {'population_ate': 0.22659671798913872,
                    'frame_sum': 372.2520282993256,
                    'frame_00': 1.0,
                    'frame_11': 1.0,
                    'frame_last': 0.0,
                    'y_sum': 45.0,
                    'a_sum': 32,
                    'y0_sum': 37.0,
                    'y1_sum': 55.0,
                    'mu1_sum': 54.2854461077878,
                    'prop_sum': 25.450213215651893,
                    'cov_sum': 153.64211304362954,
                    'counter_y_sum': 10.0},
 'two-part': {'population_ate': 0.49999999999999994,
              'frame_sum': 91.84824442910474,
              'frame_00': 1.0,
              'frame_11': 1.838402046383067,
              'frame_last': -0.7334903544049114,
              'y_sum': 102.253255323179,
              'a_sum': 47,
              'y0_sum': 74.68980185251301,
              'y1_sum': 116.65053008915973,
              'mu1_sum': 113.32845962256899,
              'prop_sum': 45.2812266498446,
              'cov_sum': -6.693301026309272,
              'counter_y_sum': 24.032196359713726},
 'counts-scaled': {'population_ate': 0.853234375,
                   'frame_sum': 339.6851813135718,
                   'frame_00': 1.0,
                   'frame_11': 6.0,
                   'frame_last': -0.7063522256606272,
                   'y_sum': 301.0,
                   'a_sum': 48,
                   'y0_sum': 257.0,
                   'y1_sum': 325.0,
                   'mu1_sum': 324.078125,
                   'prop_sum': 44.66726284339772,
                   'cov_sum': 11.538757521139498,
                   'counter_y_sum': 81.0}}

#: the same, on the files of tests/synth/fixtures (saved by the starting commit after sample(40))
PINNED_FILES = {'copula-glm': {'population_ate': 1.3134978932986063,
                'frame_sum': 63.01361494630046,
                'frame_00': 1.0,
                'frame_11': 3.0048757004918283,
                'frame_last': -0.581530499326145,
                'y_sum': 60.313875890612074,
                'a_sum': 44,
                'y0_sum': -0.11778886164720426,
                'y1_sum': 102.23491953491802,
                'mu1_sum': 101.52113742469004,
                'prop_sum': 42.65273019091449,
                'cov_sum': 1.0727659573093336,
                'counter_y_sum': 20.167848317236643},
 'heteroscedastic-min-dcr': {'population_ate': 1.3154639780335065,
                             'frame_sum': 68.27785126686763,
                             'frame_00': 1.0,
                             'frame_11': 2.9052381718238913,
                             'frame_last': -0.581530499326145,
                             'y_sum': 66.14094403677137,
                             'a_sum': 47,
                             'y0_sum': 0.14591561332257896,
                             'y1_sum': 103.32746415703505,
                             'mu1_sum': 101.97407535312078,
                             'prop_sum': 42.50933036264179,
                             'cov_sum': -0.7511614241639011,
                             'counter_y_sum': 24.32176345040454},
 'two-part': {'population_ate': 0.49999999999999994,
              'frame_sum': 91.84824442910474,
              'frame_00': 1.0,
              'frame_11': 1.838402046383067,
              'frame_last': -0.7334903544049114,
              'y_sum': 102.253255323179,
              'a_sum': 47,
              'y0_sum': 74.68980185251301,
              'y1_sum': 116.65053008915973,
              'mu1_sum': 113.32845962256899,
              'prop_sum': 45.2812266498446,
              'cov_sum': -6.693301026309272,
              'counter_y_sum': 32.155610651809305},
 'binary-pooled-glm': {'population_ate': 0.25459535037739356,
                       'frame_sum': 361.03339382016355,
                       'frame_00': 1.0,
                       'frame_11': 1.0,
                       'frame_last': 1.0,
                       'y_sum': 46.0,
                       'a_sum': 44,
                       'y0_sum': 36.0,
                       'y1_sum': 52.0,
                       'mu1_sum': 52.96260310575636,
                       'prop_sum': 42.53892336262959,
                       'cov_sum': 161.77420638232334,
                       'counter_y_sum': 14.0}}


@pytest.fixture(scope="module")
def datasets():
    return _datasets()


def _fitted(datasets, case):
    """A fresh fit (fits take milliseconds here; patsy designs cannot be deep-copied)."""
    name, kw = CASES[case]
    return _fit(datasets[name], **kw)


def _assert_pinned(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for key, value in want.items():
        assert abs(got[key] - value) <= 1e-12 * max(1.0, abs(value)), (key, got[key], value)


@pytest.mark.parametrize("case", list(CASES))
def test_seeded_draws_are_those_of_the_starting_commit(datasets, case):
    _assert_pinned(_fingerprint(_fitted(datasets, case)), PINNED[case])


@pytest.mark.parametrize("case", list(PINNED_FILES))
def test_files_of_the_starting_commit_still_load(case):
    loaded = HybridSynthesizer.load(FIXTURES / f"format2-{case}.csz")
    _assert_pinned(_fingerprint(loaded), PINNED_FILES[case])


# ------------------------------------------------------------------ every fitted attribute
_LEAVES = (str, bytes, int, float, bool, complex, type(None), np.generic)


def _differences(a, b, path: str, seen: set) -> list[str]:
    """Where ``a`` and ``b`` differ, recursing through containers and every object's vars()."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, _LEAVES):
        same = a == b or (isinstance(a, (float, np.floating)) and np.isnan(a) and np.isnan(b))
        return [] if same else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, np.ndarray):
        ok = a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        return [] if ok else [f"{path}: arrays differ"]
    if isinstance(a, (pd.DataFrame, pd.Series, pd.Index)):
        dtypes = [getattr(x, "dtypes", getattr(x, "dtype", None)) for x in (a, b)]
        same_dtypes = list(dtypes[0]) == list(dtypes[1]) if isinstance(a, pd.DataFrame) else dtypes[0] == dtypes[1]
        return [] if a.equals(b) and same_dtypes else [f"{path}: frames differ"]
    if isinstance(a, np.random.SeedSequence):
        same = (a.entropy, a.spawn_key, a.pool_size, a.n_children_spawned) == \
            (b.entropy, b.spawn_key, b.pool_size, b.n_children_spawned)
        return [] if same else [f"{path}: seed sequences differ"]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]", seen)]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{path}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{path}[{k!r}]", seen)]
    if callable(a) and hasattr(a, "__self__"):  # a bound method: the same method of the same kind
        return [] if a.__name__ == b.__name__ else [f"{path}: methods differ"]
    if id(a) in seen:
        return []
    seen.add(id(a))
    if not type(a).__module__.startswith("causalsynth"):
        # a foreign object (a patsy design, a pandas dtype): its printed form
        return [] if repr(a) == repr(b) else [f"{path}: {type(a).__name__} differs"]
    va, vb = _fitted_vars(a), _fitted_vars(b)
    if sorted(va) != sorted(vb):
        return [f"{path}: attributes {sorted(set(va) ^ set(vb))} present on one side only"]
    return [d for k in sorted(va) for d in _differences(va[k], vb[k], f"{path}.{k}", seen)]


#: Caches filled on first use (FittedModel's predictions, CausalData's main-terms design):
#: recomputed from the state, not part of it.
_CACHES = {"_cache", "_design"}


def _fitted_vars(obj) -> dict:
    """Everything an object holds (its slots or vars()), caches aside."""
    names = getattr(obj, "__dict__", None)
    out = dict(names) if names is not None else {k: getattr(obj, k) for k in getattr(type(obj), "__slots__", ())}
    return {k: v for k, v in out.items() if k not in _CACHES}


def _reloaded(synth, tmp_path):
    path = tmp_path / "s.csz"
    synth.save(path)
    return HybridSynthesizer.load(path)


@pytest.mark.parametrize("case", list(CASES))
def test_every_fitted_attribute_round_trips(datasets, case, tmp_path):
    synth = _fitted(datasets, case)
    synth.sample(50)  # the sampling counter is state too
    loaded = _reloaded(synth, tmp_path)
    fitted_names = [k for k in vars(synth) if k.endswith("_")]
    assert {"template_", "generator_", "propensity_model_", "population_ate_"} <= set(fitted_names)
    assert _differences(synth, loaded, "synth", set()) == []


def test_a_forgotten_attribute_fails_the_round_trip(datasets, tmp_path):
    """An attribute set at fit but missing from the state is caught, at the top and in a part."""
    synth = _fitted(datasets, "copula-glm")
    synth.extra_calibration_ = 1.5
    problems = _differences(synth, _reloaded(synth, tmp_path), "synth", set())
    assert problems == ["synth: attributes ['extra_calibration_'] present on one side only"]
    synth = _fitted(datasets, "residuals-min-dcr")
    synth.outcome_.noise.extra_scale_ = 2.0  # in a part: the noise kind
    problems = _differences(synth, _reloaded(synth, tmp_path), "synth", set())
    assert problems == ["synth.outcome_.noise: attributes ['extra_scale_'] present on one side only"]
    del synth.outcome_.noise.extra_scale_
    loaded = _reloaded(synth, tmp_path)
    part = synth.propensity_model_
    part.glm.coef[0] += 1e-15  # a value changed in a part after save
    problems = _differences(synth, loaded, "synth", set())
    assert problems and all("propensity_model_" in p for p in problems)
