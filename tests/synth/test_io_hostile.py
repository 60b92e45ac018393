"""Hostile synthesizer files: an attacker who edits ``manifest.json`` of an unsigned array file
(and fixes the header's size and digest) must not get code run by ``load()`` or ``sample()``,
and deeply nested JSON is a typed DataFileError, not a RecursionError."""
from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import DataFileError, PrivacyWarning, SpecError
from causalsynth.synth.hybrid import HybridSynthesizer
from causalsynth.synth.io import MAGIC


def _fit(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return HybridSynthesizer(n_reference=1000, random_state=0, **kw).fit(d)


@pytest.fixture(scope="module")
def data():
    return LinearLogisticDesign().sample(200, random_state=0).data


@pytest.fixture(scope="module")
def formula_synth(data):
    return _fit(data, generator="bootstrap", propensity="a ~ w1 + w2 + I(w3**2)", outcome="y ~ w1 + w2 + w4")


@pytest.fixture(scope="module")
def derived_data(data):
    f = data.frame.assign(pos=(data.frame["w1"] > 0).astype("int64"))
    return CausalData(f, treatment="a", outcome="y", derived={"pos": "w1 > 0"})


@pytest.fixture(scope="module")
def derived_synth(derived_data):
    return _fit(derived_data, generator="bootstrap")


# ---------------------------------------------------------------- the attacker's tool
def _split(path):
    raw = path.read_bytes()
    assert raw.startswith(MAGIC)
    end = raw.index(b"\n", len(MAGIC))
    return json.loads(raw[len(MAGIC):end]), raw[end + 1:]


def _rezip(payload: bytes, manifest_bytes: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(payload))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            data = manifest_bytes if info.filename == "manifest.json" else src.read(info)
            out.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _write(path, header: dict, payload: bytes) -> None:
    header = dict(header, payload_size=len(payload), payload_sha256=hashlib.sha256(payload).hexdigest())
    path.write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + payload)


def tamper(path, edit) -> None:
    """Edit the manifest of an unsigned array file with ``edit(state)`` and fix the header's
    size and digest, exactly as an attacker with the file format in hand would."""
    header, payload = _split(path)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(payload)).read("manifest.json"))
    edit(manifest["state"])
    _write(path, header, _rezip(payload, json.dumps(manifest).encode()))


def _saved(synth, tmp_path):
    path = tmp_path / "s.csz"
    synth.save(path)
    return path


# ---------------------------------------------------------------- formulas
def _open_payload(marker) -> str:
    return f"I(0*len(open({str(marker)!r},'w').name))"


FORMULA_FIELDS = {
    "propensity learner": lambda st, p: st["propensity_model"]["learner"].update(formula=f"a ~ w1 + w2 + {p}"),
    "outcome learner": lambda st, p: st["outcome_models"]["1"]["learner"].update(formula=f"y ~ w1 + {p}"),
    "constructor parameter": lambda st, p: st["params"].update(propensity=f"a ~ w1 + {p}"),
}


@pytest.mark.parametrize("field", list(FORMULA_FIELDS))
def test_a_formula_payload_in_a_file_runs_nothing_at_load(tmp_path, formula_synth, field):
    marker = tmp_path / "PWNED"
    path = _saved(formula_synth, tmp_path)
    tamper(path, lambda st: FORMULA_FIELDS[field](st, _open_payload(marker)))
    with pytest.raises(DataFileError, match=r"was refused: its field state\..*formula.*'len' is not allowed"):
        HybridSynthesizer.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("payload", ["np.load('x')", "w1.__class__", "Q('__builtins__')", "w1[0]",
                                     "C(w1, levels=__import__('os'))", "I((lambda: 1)())"])
def test_other_formula_payloads_are_refused_at_load(tmp_path, formula_synth, payload):
    path = _saved(formula_synth, tmp_path)
    tamper(path, lambda st: FORMULA_FIELDS["propensity learner"](st, payload))
    with pytest.raises(DataFileError, match="is not allowed|not a valid expression"):
        HybridSynthesizer.load(path)


def test_untampered_formula_file_still_loads_bit_for_bit(tmp_path, formula_synth):
    path = _saved(formula_synth, tmp_path)
    tamper(path, lambda st: None)  # rewritten by the tool, unchanged: still a good file
    loaded = HybridSynthesizer.load(path)
    a, b = formula_synth.sample(100, random_state=4), loaded.sample(100, random_state=4)
    pd.testing.assert_frame_equal(a.data.frame, b.data.frame, check_exact=True)


# ---------------------------------------------------------------- derived columns
@pytest.mark.parametrize("make", [
    lambda m: f"w1.to_csv({str(m)!r}) == w1",
    lambda m: f"@pd.read_pickle({str(m)!r})",
    lambda m: f"w1.to_pickle({str(m)!r}) is None",
    lambda m: f"__import__('os').system('touch {m}')",
])
def test_a_derived_payload_in_a_file_is_refused_at_load(tmp_path, derived_synth, make):
    marker = tmp_path / "x.csv"
    path = _saved(derived_synth, tmp_path)
    tamper(path, lambda st: st["derived"].update(pos=make(marker)))
    with pytest.raises(DataFileError, match=r"field state\.derived\['pos'\]"):
        HybridSynthesizer.load(path)
    assert not marker.exists()


def test_the_payload_would_run_under_pandas_eval(tmp_path):
    """The marker check above is meaningful: pandas eval (what sample() used) writes the file."""
    marker = tmp_path / "x.csv"
    pd.DataFrame({"w1": [1.0, 2.0]}).eval(f"w1.to_csv({str(marker)!r}) == w1")
    assert marker.exists()


def test_sample_evaluates_derived_columns_without_python(tmp_path, derived_synth):
    marker = tmp_path / "x.csv"
    path = _saved(derived_synth, tmp_path)
    loaded = HybridSynthesizer.load(path)
    s = loaded.sample(300, random_state=2).data.frame
    np.testing.assert_array_equal(s["pos"].to_numpy(), (s["w1"] > 0).astype("int64").to_numpy())
    assert s["pos"].dtype == np.int64
    loaded.derived_ = {"pos": f"w1.to_csv({str(marker)!r}) == w1"}  # past any load check
    with pytest.raises(SpecError, match="derived column 'pos'.*'w1.to_csv' is not allowed"):
        loaded.sample(10, random_state=2)
    assert not marker.exists()


def test_a_derived_name_outside_the_covariates_is_refused(tmp_path, derived_synth):
    path = _saved(derived_synth, tmp_path)
    tamper(path, lambda st: st["derived"].update(pos="y > 0"))  # the outcome is not a covariate
    with pytest.raises(DataFileError, match="the name 'y'"):
        HybridSynthesizer.load(path)


# ---------------------------------------------------------------- nested JSON
def test_deeply_nested_json_header_is_a_data_file_error(tmp_path):
    path = tmp_path / "deep.csz"
    for body in (b"[" * 60_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"[" * 65 + b"]" * 65):
        path.write_bytes(MAGIC + body + b"\n")
        with pytest.raises(DataFileError, match="nested deeper"):
            HybridSynthesizer.load(path)


def test_deeply_nested_manifest_is_a_data_file_error(tmp_path, formula_synth):
    path = _saved(formula_synth, tmp_path)
    header, payload = _split(path)
    deep = b'{"class": "HybridSynthesizer", "state": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _write(path, header, _rezip(payload, deep))
    with pytest.raises(DataFileError, match="damaged manifest: brackets nested deeper"):
        HybridSynthesizer.load(path)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path, formula_synth):
    path = _saved(formula_synth, tmp_path)
    tamper(path, lambda st: st["propensity_model"]["learner"].update(description="[" * 500 + '"\\"{{{'))
    loaded = HybridSynthesizer.load(path)
    assert loaded.propensity_model_.learner.description.startswith("[[[")
