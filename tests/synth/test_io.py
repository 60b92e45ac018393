"""Synthesizer files: array round trips bit for bit, no unpickling without a key or explicit
trust, strict headers, folders created, atomic writes."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickle
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from causalsynth import CausalData
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import (
    DataFileError,
    PickleRequiredError,
    PrivacyWarning,
    SignatureError,
    TrustedPickleWarning,
    UntrustedFileError,
    VersionMismatchError,
)
from causalsynth.synth.hybrid import HybridSynthesizer
from causalsynth.synth.io import FORMAT_VERSION, MAGIC, needs_key, read_header


@pytest.fixture(scope="module")
def data():
    return LinearLogisticDesign().sample(300, random_state=0).data


@pytest.fixture(scope="module")
def mixed():
    """Categorical (text and integer-coded), binary and integer covariates, a binary outcome."""
    f = LinearLogisticDesign().sample(300, random_state=1).data.frame
    rng = np.random.default_rng(0)
    f = f.assign(grp=rng.choice(["x", "y", "z"], 300), k=rng.integers(0, 4, 300),
                 flag=rng.integers(0, 2, 300).astype(bool), cnt=rng.integers(0, 9, 300),
                 y=(f["y"] > f["y"].median()).astype(int))
    return CausalData(f, treatment="a", outcome="y", categorical=["k"])


def _fit(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return HybridSynthesizer(n_reference=2000, random_state=0, **kw).fit(d)


@pytest.fixture(scope="module")
def glm(data):
    return _fit(data)


def _same_samples(a, b):
    sa, sb = a.sample(200, random_state=1), b.sample(200, random_state=1)
    pd.testing.assert_frame_equal(sa.data.frame, sb.data.frame, check_exact=True)
    pd.testing.assert_frame_equal(sa.truth, sb.truth, check_exact=True)
    assert a.population_ate_ == b.population_ate_ and a.population_ate_se_ == b.population_ate_se_


CASES = {
    "copula-glm": ("data", {}),
    "bootstrap-formula": ("data", {"generator": "bootstrap",
                                   "propensity": "a ~ w1 + w2 + I(w3**2)", "outcome": "y ~ w1 + w2 + w4"}),
    "copula-pooled-formula": ("data", {"outcome": "y ~ a + w1 + a:w2 + center(w3)"}),
    "binary-outcome": ("mixed", {"propensity": "a ~ w1 + C(grp) + C(k) + cnt", "ate": 0.1}),
    "binary-pooled-glm": ("mixed", {"outcome": "pooled:logistic", "generator": "bootstrap"}),
    "heteroscedastic-min-dcr": ("data", {"noise": "heteroscedastic", "min_dcr": "auto", "overlap": 1.5}),
    "residuals-min-dcr": ("data", {"noise": "residuals", "min_dcr": "auto", "ate": 1.0}),
    "binary-min-dcr": ("mixed", {"min_dcr": "auto", "treated_share": 0.3}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_is_bit_identical(case, request, tmp_path, monkeypatch):
    name, kw = CASES[case]
    synth = _fit(request.getfixturevalue(name), **kw)
    synth.sample(50)  # advances the counter of random_state=None draws: saved too
    path = tmp_path / "s.csz"
    synth.save(path)
    assert read_header(path)["payload"] == "arrays" and read_header(path)["hmac_sha256"] is None

    def refuse(*a, **k):
        raise AssertionError("loading an array file must not unpickle")
    for name_ in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name_, refuse)
    loaded = HybridSynthesizer.load(path)
    monkeypatch.undo()
    _same_samples(synth, loaded)
    assert sorted(vars(loaded)) == sorted(vars(synth))
    pd.testing.assert_frame_equal(loaded.sample(30).frame(with_truth=True), synth.sample(30).frame(with_truth=True))
    assert loaded.to_dict() == synth.to_dict()  # summary() is a DataFrame since issue 19
    pd.testing.assert_frame_equal(loaded.real_train_, synth.real_train_, check_exact=True)
    assert loaded.template_.covariate_kinds == synth.template_.covariate_kinds
    k1, k2 = synth.with_knobs(confounding=0.5), loaded.with_knobs(confounding=0.5)
    assert k1.population_ate_ == k2.population_ate_
    if synth.min_dcr_ is not None:
        assert loaded.min_dcr_ == synth.min_dcr_
        assert loaded.dcr_report(random_state=3).to_dict() == synth.dcr_report(random_state=3).to_dict()


def test_signed_arrays_and_signed_pickle_round_trip(tmp_path, data, glm):
    path = tmp_path / "signed.csz"
    glm.save(path, key="s3cret")
    header = read_header(path)
    assert header["payload"] == "arrays" and len(header["hmac_sha256"]) == 64
    _same_samples(glm, HybridSynthesizer.load(path, key="s3cret"))
    _same_samples(glm, HybridSynthesizer.load(path))  # arrays are safe to read unverified
    with pytest.raises(SignatureError, match="does not verify with this key"):
        HybridSynthesizer.load(path, key=b"other")
    gbm = _fit(data, propensity="gbm")
    gpath = tmp_path / "gbm.csz"
    gbm.save(gpath, key=b"k" * 32)
    assert read_header(gpath)["payload"] == "pickle"
    _same_samples(gbm, HybridSynthesizer.load(gpath, key=b"k" * 32))


def test_learners_only_a_pickle_holds_need_a_key(tmp_path, data):
    gbm = _fit(data, propensity="gbm")
    path = tmp_path / "gbm.csz"
    with pytest.raises(PickleRequiredError, match=r"save\(path, key=\.\.\.\)") as info:
        gbm.save(path)
    assert "propensity model" in str(info.value) and "scikit-learn" in str(info.value)
    assert not path.exists()
    assert needs_key(propensity="gbm") == ["the propensity learner 'gbm'"]
    assert needs_key(generator="ctgan", outcome="pooled:superlearner") == [
        "the covariate generator 'ctgan'", "the outcome learner 'superlearner'"]
    assert needs_key(generator="bootstrap", propensity="a ~ w1", outcome="pooled:linear") == []


# ------------------------------------------------------------------ crafted files: nothing runs
def _file(header: dict, payload: bytes) -> bytes:
    return MAGIC + json.dumps(header).encode() + b"\n" + payload


def _header(payload: bytes, kind: str = "pickle", **over) -> dict:
    h = {"format_version": FORMAT_VERSION, "causalsynth": "0", "class": "HybridSynthesizer",
         "payload": kind, "payload_size": len(payload),
         "payload_sha256": hashlib.sha256(payload).hexdigest(), "hmac_sha256": None}
    h.update(over)
    return h


@pytest.fixture
def marker(tmp_path):
    """A pickle that creates a marker file when unpickled, and the marker's path."""
    target = tmp_path / "MARKER"

    class Bomb:
        def __reduce__(self):
            return (open, (str(target), "w"))
    return pickle.dumps(Bomb()), target


def test_a_marker_pickle_never_runs_without_key_or_trust(tmp_path, marker):
    bomb, target = marker
    cases = {"v2-pickle": _file(_header(bomb), bomb),
             "v2-claims-arrays": _file(_header(bomb, "arrays"), bomb),
             "legacy-v1": MAGIC + b'{"format_version": 1, "class": "HybridSynthesizer"}\n' + bomb}
    npy = io.BytesIO()  # an object array: the .npy header, then the pickle
    np.lib.format.write_array_header_1_0(npy, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"class": "HybridSynthesizer", "state": {"__array__": "a0"}}))
        zf.writestr("arrays/a0.npy", npy.getvalue() + bomb)
    cases["object-npy-in-zip"] = _file(_header(zbuf.getvalue(), "arrays"), zbuf.getvalue())
    for name, content in cases.items():
        path = tmp_path / f"{name}.csz"
        path.write_bytes(content)
        with pytest.raises(DataFileError) as info:
            HybridSynthesizer.load(path)
        assert not target.exists(), name
        if name in ("v2-pickle", "legacy-v1"):
            assert isinstance(info.value, UntrustedFileError) and "trust_pickle=True" in str(info.value)
        with pytest.raises(DataFileError):
            HybridSynthesizer.load(path, key="wrong")
        assert not target.exists(), name
    # a pickle signed (as the module docstring says) with another key: refused before unpickling
    path = tmp_path / "signed.csz"
    good = _header(bomb)
    canon = json.dumps({k: v for k, v in good.items() if k != "hmac_sha256"}, sort_keys=True,
                       separators=(",", ":")).encode()
    good["hmac_sha256"] = hmac.new(b"right", MAGIC + canon + b"\n" + bomb, hashlib.sha256).hexdigest()
    path.write_bytes(_file(good, bomb))
    with pytest.raises(SignatureError, match="does not verify"):
        HybridSynthesizer.load(path, key="wrong")
    with pytest.raises(UntrustedFileError, match="key="):
        HybridSynthesizer.load(path)
    assert not target.exists()
    # opt-in is explicit and warned: the (hostile) payload does run then
    legacy = tmp_path / "legacy-v1.csz"
    with pytest.warns(TrustedPickleWarning, match="unverified"), pytest.raises(DataFileError, match="not a HybridSyn"):
        HybridSynthesizer.load(legacy, trust_pickle=True)
    assert target.exists()


def test_tampered_signed_file_is_refused(tmp_path, data, marker):
    bomb, target = marker
    gbm = _fit(data, propensity="gbm")
    path = tmp_path / "gbm.csz"
    gbm.save(path, key="k")
    raw = path.read_bytes()
    magic, head, payload = raw.split(b"\n", 2)
    path.write_bytes(magic + b"\n" + head + b"\n" + payload[:-1] + bytes([payload[-1] ^ 1]))
    with pytest.raises(DataFileError, match="SHA-256"):
        HybridSynthesizer.load(path, key="k")
    header = json.loads(head)
    header.update(payload_size=len(bomb), payload_sha256=hashlib.sha256(bomb).hexdigest())
    path.write_bytes(_file(header, bomb))  # a swapped payload with a consistent digest
    with pytest.raises(SignatureError, match="does not verify"):
        HybridSynthesizer.load(path, key="k")
    assert not target.exists()


# ------------------------------------------------------------------ strict headers
@pytest.mark.parametrize("change, error, message", [
    ({"format_version": True}, DataFileError, "format_version must be an integer; got True"),
    ({"format_version": "2"}, DataFileError, "format_version must be an integer"),
    ({"format_version": 2.0}, DataFileError, "format_version must be an integer"),
    ({"format_version": 3}, VersionMismatchError, "format 3"),
    ({"class": "Evil"}, DataFileError, "class 'Evil' is not one of"),
    ({"payload": "exec"}, DataFileError, "payload 'exec' is not one of"),
    ({"payload_size": True}, DataFileError, "payload_size must be a non-negative integer"),
    ({"payload_size": -1}, DataFileError, "payload_size must be"),
    ({"payload_sha256": "x"}, DataFileError, "payload_sha256 must be"),
    ({"hmac_sha256": 5}, DataFileError, "hmac_sha256 must be"),
    ({"extra": 1}, DataFileError, "unknown keys"),
    ({"causalsynth": None}, DataFileError, "version string"),
])
def test_bad_headers_are_refused(tmp_path, glm, change, error, message):
    path = tmp_path / "s.csz"
    glm.save(path)
    magic, head, payload = path.read_bytes().split(b"\n", 2)
    header = {**json.loads(head), **change}
    path.write_bytes(magic + b"\n" + json.dumps(header).encode() + b"\n" + payload)
    with pytest.raises(error, match=message) as info:
        HybridSynthesizer.load(path)
    assert str(path) in str(info.value)


def test_malformed_and_truncated_files(tmp_path, glm):
    path = tmp_path / "s.csz"
    glm.save(path)
    raw = path.read_bytes()
    _, head, payload = raw.split(b"\n", 2)
    header = json.loads(head)
    bad = tmp_path / "bad.csz"
    for content, message in [
        (raw[:-10], "is truncated: the header announces"),
        (raw[: len(MAGIC) + 20], "damaged header"),
        (raw + b"x", "longer than its header says"),
        (raw[:-1] + bytes([raw[-1] ^ 1]), "SHA-256"),
        (b"causalsynth-synthesizer \n" + raw[len(MAGIC):], "not a causalsynth synthesizer file"),
        (MAGIC + head.replace(b"{", b'{"class": "X", ', 1) + b"\n" + payload, "repeated keys"),
        (MAGIC + b"x" * 70_000, "no end of line"),
        (_file({k: v for k, v in header.items() if k != "payload_sha256"}, payload), r"missing \['payload_sha256'\]"),
        (_file(_header(b"PK-not-a-zip", "arrays"), b"PK-not-a-zip"), "damaged array payload"),
        (b"", "not a causalsynth synthesizer file"),
    ]:
        bad.write_bytes(content)
        with pytest.raises(DataFileError, match=message):
            HybridSynthesizer.load(bad)
    with pytest.raises(DataFileError, match="no synthesizer file"):
        HybridSynthesizer.load(tmp_path / "absent.csz")


def test_damaged_contents_are_typed_errors(tmp_path, glm):
    path = tmp_path / "s.csz"
    glm.save(path)
    payload = path.read_bytes().split(b"\n", 2)[2]
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {i.filename: zf.read(i) for i in zf.infolist() if i.filename != "manifest.json"}
    manifest["state"]["split"]["train_rows"] = manifest["state"]["split"]["holdout_rows"]
    del manifest["state"]["calibration"]["population_ate"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    path.write_bytes(_file(_header(buf.getvalue(), "arrays"), buf.getvalue()))
    with pytest.raises(DataFileError, match="damaged contents"):
        HybridSynthesizer.load(path)


# ------------------------------------------------------------------ writing
def test_missing_folders_are_created_and_bad_targets_named(tmp_path, glm):
    path = tmp_path / "a" / "b" / "s.csz"
    glm.save(path)
    _same_samples(glm, HybridSynthesizer.load(path))
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataFileError, match="cannot create the folder") as info:
        glm.save(tmp_path / "file" / "s.csz")
    assert str(tmp_path / "file") in str(info.value)
    with pytest.raises(DataFileError, match="is a folder"):
        glm.save(tmp_path / "a")


def test_writes_are_atomic(tmp_path, glm, monkeypatch):
    path = tmp_path / "s.csz"
    path.write_bytes(b"the previous file")

    def crash(src, dst):
        raise OSError("disk gone")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DataFileError, match="disk gone"):
        glm.save(path)
    with pytest.raises(DataFileError):
        glm.save(tmp_path / "new.csz")
    monkeypatch.undo()
    assert path.read_bytes() == b"the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csz"]  # no partial target, no temp file
