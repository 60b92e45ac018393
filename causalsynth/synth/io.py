"""Saving and loading fitted synthesizers, without unpickling anything by default.

File layout (format 2): one line of magic text (``causalsynth-synthesizer``), one line of
JSON header, then the payload, exactly ``payload_size`` bytes. The header is an object with
the keys ``format_version`` (the integer 2), ``causalsynth`` (the version that wrote it),
``class`` (``"HybridSynthesizer"``), ``payload`` (``"arrays"`` or ``"pickle"``),
``payload_size``, ``payload_sha256`` and ``hmac_sha256`` (null, or the HMAC-SHA256 with the
user's key of the magic line, the canonical header without this key, and the payload).

``"arrays"`` (the default, written by ``save(path)``): an uncompressed zip holding
``manifest.json`` and ``arrays/<name>.npy`` members written with ``allow_pickle=False``. The
manifest holds the constructor parameters, the real data (each column's values or category
codes, categories and dtype; the roles), the train/holdout split, the covariate generator's
fitted state (bootstrap: nothing beyond its training rows; Gaussian copula: correlation,
Cholesky factor, marginals), the GLM and formula models (coefficients, bread matrix, flags;
a formula's patsy design is rebuilt on load by running patsy again on the stored rows and
checked against the saved column names and means), the noise model (out-of-fold residuals,
SDs, variance GLMs), the privacy filter's threshold and scales, the calibration constants,
the reference propensities, the seed sequences and the sampling counter. Loading rebuilds
the object from these, reads arrays with ``allow_pickle=False`` and accepts only boolean,
integer and float arrays, so an array file never runs code; the loaded synthesizer draws the
same samples, bit for bit, as the one saved.

This module is the container only (magic line, header, digest, HMAC, zip, atomic write, and
the checks below): the state itself is written and read by the parts that own it,
:meth:`HybridSynthesizer.to_state <causalsynth.synth.hybrid.HybridSynthesizer.to_state>` and
``from_state``, which delegate to the generator, the learners' fitted models, the outcome model
and its noise kind (:mod:`causalsynth.synth.models`), the two-part model and the privacy
filter (:class:`~causalsynth.synth.dcr.DCRFiltered`). A part that gains a fitted attribute
adds it to its own ``to_state``; tests/synth/test_state_roundtrip.py fails until it does.

Text that is code in another library is checked before anything is restored: every stored
formula is split by patsy's parser and each factor checked against the closed vocabulary of
:func:`causalsynth.learners.check_formula_code` (the saved column names, numbers,
arithmetic, ``I``/``C``/``Q``, splines, ``np.log`` and the like), and patsy then runs it in an
environment holding only those functions; every derived-column expression is checked against
:func:`causalsynth._checks.check_expression` with the saved covariate names and is evaluated
at ``sample()`` by causalsynth's own interpreter, never as Python. A file whose text falls
outside (it was edited: ``save`` never writes such a file) raises
:class:`~causalsynth.errors.DataFileError` naming the field, and nothing in it is evaluated.
JSON nested deeper than ``MAX_JSON_DEPTH`` is refused the same way.

``"pickle"``: synthesizers with parts the array format cannot hold (scikit-learn learners
such as the ``"gbm"``, ``"superlearner"`` and ``"flexible"`` presets, CTGAN/TVAE generators,
your own objects) are refused by ``save(path)`` with
:class:`~causalsynth.errors.PickleRequiredError`. ``save(path, key=...)`` writes them as a
pickle signed with your key (bytes or str; HMAC-SHA256 from the standard library), and
``load(path, key=...)`` checks the signature before unpickling: a wrong key or changed bytes
raise :class:`~causalsynth.errors.SignatureError` and nothing is unpickled. An unsigned
pickle (a format 1 file from an older causalsynth, or a file made by hand) is read only with
``load(path, trust_pickle=True)``, with a :class:`~causalsynth.errors.TrustedPickleWarning`;
without it, :class:`~causalsynth.errors.UntrustedFileError`. With a key, a storable
synthesizer is still written as arrays, signed.

Every problem with a file (magic, header, version, sizes, digest, contents) raises a
:class:`~causalsynth.errors.DataFileError` (or :class:`~causalsynth.errors.VersionMismatchError`)
naming the file and the fix. ``save`` creates missing parent folders and writes atomically
(a temporary file in the same folder, then :func:`os.replace`), so a crash never leaves half
a file; the file is created readable and writable by its owner only (mode 0600), since it
holds real rows.

What a file holds: the fitted models and the real rows they need (all real rows with their
roles and dtypes; the copula's sorted real values). Treat a saved synthesizer like the real
data it was fitted on; share synthetic samples, not the synthesizer.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_expression
from .._version import __version__
from ..errors import (
    CausalSynthError,
    DataFileError,
    PickleRequiredError,
    SignatureError,
    SpecError,
    TrustedPickleWarning,
    UntrustedFileError,
    VersionMismatchError,
)
from ..learners import LEARNER_PRESETS, Pooled, check_formula_code
from ._state import is_int as _is_int

__all__ = ["FORMAT_VERSION", "MAGIC", "KNOWN_CLASSES", "save_synthesizer", "load_synthesizer",
           "read_header", "needs_key"]

MAGIC = b"causalsynth-synthesizer\n"
#: Bumped whenever the layout or the saved attributes change incompatibly.
FORMAT_VERSION = 2
#: Format 1 files are unsigned pickles: read only with ``trust_pickle=True``.
LEGACY_PICKLE_VERSION = 1
#: Classes a synthesizer file may hold.
KNOWN_CLASSES = ("HybridSynthesizer",)
PAYLOADS = ("arrays", "pickle")
HEADER_KEYS = ("format_version", "causalsynth", "class", "payload", "payload_size",
               "payload_sha256", "hmac_sha256")
MAX_HEADER_BYTES = 64 * 1024
MAX_MEMBERS = 100_000
#: Deepest nesting of brackets read in a header or manifest (causalsynth writes at most 8).
MAX_JSON_DEPTH = 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ARRAY_NAME = re.compile(r"a[0-9]{1,9}")
_KEY_FIX = ("Fix: save(path, key=...) with a secret key (bytes or str, e.g. secrets.token_hex(32)) "
            "writes a pickle signed with it, which load(path, key=...) verifies before unpickling.")


# ---------------------------------------------------------------------------- helpers
def _name(path) -> str:
    return repr(str(path))


def _as_key(key) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise SpecError(f"key must be a non-empty bytes or str secret; got {type(key).__name__}"
                        + ("" if not isinstance(key, (bytes, bytearray, str)) else " (empty)"))
    return bytes(key)


def _canonical(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _signature(key: bytes, header: dict, payload: bytes) -> str:
    unsigned = {k: v for k, v in header.items() if k != "hmac_sha256"}
    mac = hmac.new(key, MAGIC, hashlib.sha256)
    mac.update(_canonical(unsigned) + b"\n")
    mac.update(payload)
    return mac.hexdigest()


def needs_key(*, generator: Any = "copula", propensity: Any = None, outcome: Any = None) -> list[str]:
    """Why a synthesizer built from these specifications needs ``save(path, key=...)``.

    An empty list when the array format can store it (the ``"bootstrap"`` and ``"copula"``
    generators; the ``"logistic"`` and ``"linear"`` presets, formulas, and the defaults).
    Checks names only, before anything is fitted (the command line uses it).
    """
    reasons = []
    if not (isinstance(generator, str) and generator.strip().lower() in ("bootstrap", "copula")):
        reasons.append(f"the covariate generator {generator!r}")
    for role, spec in (("propensity", propensity), ("outcome", outcome)):
        inner = spec.split(":", 1)[1].strip() if isinstance(spec, str) and spec.startswith("pooled:") else spec
        inner = inner.learner if isinstance(inner, Pooled) else inner
        if not (inner is None or (isinstance(inner, str) and ("~" in inner or inner in ("logistic", "linear")))):
            label = inner if isinstance(inner, str) and inner in LEARNER_PRESETS else type(inner).__name__
            reasons.append(f"the {role} learner {label!r}")
    return reasons


# ---------------------------------------------------------------------------- values <-> JSON + arrays
class _Packer:
    """Turns a state of JSON values and numpy arrays into a manifest and named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def pack(self, value):
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise PickleRequiredError(f"an array of dtype {value.dtype} has no array-format form")
            name = f"a{len(self.arrays)}"
            self.arrays[name] = np.ascontiguousarray(value)
            return {"__array__": name}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value) or "__array__" in value:
                raise PickleRequiredError(f"a mapping with keys {list(value)[:5]} has no array-format form")
            return {k: self.pack(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.pack(v) for v in value]
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (np.bool_,)):
            return bool(value)
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return float(value)
        raise PickleRequiredError(f"a {type(value).__name__} has no array-format form")


def _unpack(value, arrays: dict[str, np.ndarray]):
    if isinstance(value, dict):
        if "__array__" in value:
            if len(value) != 1 or value["__array__"] not in arrays:
                raise ValueError(f"reference to a missing array {value!r}")
            return arrays[value["__array__"]]
        return {k: _unpack(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, arrays) for v in value]
    return value


def _zip(manifest: dict, arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        def put(name: str, data: bytes) -> None:
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
        put("manifest.json", json.dumps(manifest).encode())
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            put(f"arrays/{name}.npy", member.getvalue())
    return buf.getvalue()


def _unzip(payload: bytes, path) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile as exc:
        raise DataFileError(f"{_name(path)} has a damaged array payload ({exc}); save it again") from exc
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(infos) > MAX_MEMBERS or len(set(names)) != len(names) or "manifest.json" not in names:
        raise DataFileError(f"{_name(path)} has a damaged array payload (members {names[:5]}...); save it again")
    manifest, arrays = None, {}
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(payload):
            raise DataFileError(f"{_name(path)}: member {info.filename!r} is compressed or oversized; "
                                "causalsynth writes stored members only. Save the synthesizer again.")
        data = zf.read(info)
        if info.filename == "manifest.json":
            manifest = _load_json(data, _name(path), "manifest")
            continue
        stem = info.filename[len("arrays/"):-len(".npy")]
        if not (info.filename.startswith("arrays/") and info.filename.endswith(".npy") and _ARRAY_NAME.fullmatch(stem)):
            raise DataFileError(f"{_name(path)} holds an unexpected member {info.filename!r}; save it again")
        try:
            arr = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
        except ValueError as exc:  # an object array: a pickle inside the .npy member
            raise DataFileError(f"{_name(path)}: member {info.filename!r} is not a plain array "
                                f"({exc}); it was not unpickled. Save the synthesizer again.") from exc
        if arr.dtype.kind not in "biuf":
            raise DataFileError(f"{_name(path)}: member {info.filename!r} has dtype {arr.dtype}; "
                                "only boolean, integer and float arrays are read")
        arrays[stem] = arr
    if not isinstance(manifest, dict):
        raise DataFileError(f"{_name(path)} has a damaged manifest (not a JSON object); save it again")
    return manifest, arrays


# ---------------------------------------------------------------------------- writing
def _atomic_write(path: Path, chunks: list[bytes]) -> None:
    """Through the one writer (:mod:`causalsynth.report.writer`): a temporary file created
    with ``O_EXCL`` in the folder, fsynced, renamed over ``path``; nothing partial is left."""
    from ..report.writer import write_file
    if path.is_dir():
        raise DataFileError(f"{_name(path)} is a folder; give a file name such as {str(path / 'synth.csz')!r}")

    def write(fh) -> None:
        for chunk in chunks:
            fh.write(chunk)
    write_file(path, write, what="synthesizer file")


def save_synthesizer(obj, path, *, key: bytes | str | None = None) -> None:
    """Write ``obj`` to ``path``: arrays and JSON, or with ``key`` a signed file.

    Without ``key`` a synthesizer the array format cannot hold raises
    :class:`~causalsynth.errors.PickleRequiredError` naming its parts and the fix.
    """
    cls_name = type(obj).__name__
    if cls_name not in KNOWN_CLASSES:
        raise SpecError(f"cannot save a {cls_name}; synthesizer files hold {list(KNOWN_CLASSES)}")
    secret = None if key is None else _as_key(key)
    try:
        packer = _Packer()
        manifest = {"class": cls_name, "state": packer.pack(obj.to_state())}
        kind, payload = "arrays", _zip(manifest, packer.arrays)
    except PickleRequiredError as exc:
        if secret is None:
            raise PickleRequiredError(f"cannot save {_name(path)} as arrays: {exc} can be stored only as "
                                      f"a pickle. {_KEY_FIX}") from None
        kind, payload = "pickle", pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = {"format_version": FORMAT_VERSION, "causalsynth": __version__, "class": cls_name,
              "payload": kind, "payload_size": len(payload),
              "payload_sha256": hashlib.sha256(payload).hexdigest(), "hmac_sha256": None}
    if secret is not None:
        header["hmac_sha256"] = _signature(secret, header, payload)
    _atomic_write(Path(path), [MAGIC, json.dumps(header).encode() + b"\n", payload])


# ---------------------------------------------------------------------------- reading
def _json_depth(text: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (brackets inside strings not counted)."""
    codes = np.frombuffer(re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', text), dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(codes, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


def _load_json(text: bytes, where: str, what: str):
    """JSON text as Python values; DataFileError for anything else, too deep nesting included."""
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise DataFileError(f"{where} has a damaged {what}: brackets nested deeper than {MAX_JSON_DEPTH} "
                            "levels (causalsynth writes at most 8); it was not read. Copy or save it again.")
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise DataFileError(f"{where} has a damaged {what} ({type(exc).__name__}: {exc}); "
                            "copy or save it again") from None


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"repeated keys {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def _parse_header(raw: bytes, path) -> tuple[dict, int]:
    """The header and the offset of the payload; raises on anything but a well-formed header."""
    where = _name(path)
    if not raw.startswith(MAGIC):
        raise DataFileError(f"{where} is not a causalsynth synthesizer file (it does not start with "
                            f"{MAGIC.decode().strip()!r}); give the path of a file written by save()")
    end = raw.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER_BYTES + 1)
    if end < 0:
        raise DataFileError(f"{where} has a damaged header (no end of line in the first "
                            f"{MAX_HEADER_BYTES} bytes after the magic line): the file is truncated or not "
                            "a synthesizer file. Copy or save it again.")
    header = _load_json(raw[len(MAGIC):end], where, "header")
    if not isinstance(header, dict):
        raise DataFileError(f"{where} has a damaged header (not a JSON object); copy or save it again")
    version = header.get("format_version")
    if not _is_int(version):
        raise DataFileError(f"{where} has a damaged header: format_version must be an integer; got "
                            f"{version!r}. Save the synthesizer again.")
    if version not in (FORMAT_VERSION, LEGACY_PICKLE_VERSION):
        raise VersionMismatchError(
            f"{where} was saved in synthesizer format {version} by causalsynth "
            f"{header.get('causalsynth')}; this causalsynth reads format {FORMAT_VERSION}. "
            "Refit the synthesizer on the real data with this version.")
    if version == FORMAT_VERSION:
        _check_header(header, where, len(raw) - end - 1)
    return header, end + 1


def _check_header(header: dict, where: str, n_payload: int) -> None:
    missing = [k for k in HEADER_KEYS if k not in header]
    extra = sorted(set(header) - set(HEADER_KEYS))
    if missing or extra:
        raise DataFileError(f"{where} has a damaged header: " + "; ".join(
            ([f"missing {missing}"] if missing else []) + ([f"unknown keys {extra}"] if extra else []))
            + ". Save the synthesizer again.")
    problems = []
    if not isinstance(header["causalsynth"], str):
        problems.append("causalsynth must be a version string")
    if header["class"] not in KNOWN_CLASSES:
        problems.append(f"class {header['class']!r} is not one of {list(KNOWN_CLASSES)}")
    if header["payload"] not in PAYLOADS:
        problems.append(f"payload {header['payload']!r} is not one of {list(PAYLOADS)}")
    size = header["payload_size"]
    if not _is_int(size) or size < 0:
        problems.append(f"payload_size must be a non-negative integer; got {size!r}")
    if not (isinstance(header["payload_sha256"], str) and _HEX64.fullmatch(header["payload_sha256"])):
        problems.append("payload_sha256 must be 64 lower-case hex digits")
    sig = header["hmac_sha256"]
    if sig is not None and not (isinstance(sig, str) and _HEX64.fullmatch(sig)):
        problems.append("hmac_sha256 must be null or 64 lower-case hex digits")
    if problems:
        raise DataFileError(f"{where} has a damaged header: {'; '.join(problems)}. Save the synthesizer again.")
    if n_payload != size:
        raise DataFileError(
            f"{where} is {'truncated' if n_payload < size else 'longer than its header says'}: the header "
            f"announces {size} payload bytes, the file holds {n_payload}. The file was cut short or "
            "changed (an interrupted copy?); copy or save it again.")


def read_header(path) -> dict:
    """The checked header of a synthesizer file (nothing past it is interpreted)."""
    return _parse_header(_read(path), path)[0]


def _read(path) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"no synthesizer file at {str(path)!r}; check the path")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read {str(path)!r}: {exc}") from exc


def _unpickle(payload: bytes, path, header: dict, key, trust_pickle: bool):
    """Unpickle only with a verified signature or on explicit trust."""
    where = _name(path)
    version = header["format_version"]
    if key is None and not trust_pickle:
        signed = version == FORMAT_VERSION and header["hmac_sha256"] is not None
        raise UntrustedFileError(
            f"{where} holds a pickle (format {version}{', signed' if signed else ', unsigned'}), which can run "
            "any code when loaded; it was not unpickled. Fix: "
            + ("load(path, key=...) with the key it was signed with" if signed else
               "load(path, trust_pickle=True) only if you or someone you trust wrote it"
               + (", then save it again (format 2)" if version == LEGACY_PICKLE_VERSION else "")) + ".")
    if key is None:
        warnings.warn(f"unpickling {where} unverified (trust_pickle=True): it runs any code it holds",
                      TrustedPickleWarning, stacklevel=4)
    try:
        return pickle.loads(payload)
    except Exception as exc:
        raise DataFileError(f"cannot load {where}: {exc}") from exc


def load_synthesizer(path, expected: type | None = None, *, key: bytes | str | None = None,
                     trust_pickle: bool = False):
    """Read a file written by :func:`save_synthesizer`; ``expected`` checks the class.

    ``key`` verifies a signed file before reading its payload. ``trust_pickle=True`` reads an
    unsigned pickle (warning); without it a pickle is never unpickled.
    """
    if not isinstance(trust_pickle, bool):
        raise SpecError(f"trust_pickle must be True or False; got {trust_pickle!r}")
    secret = None if key is None else _as_key(key)
    raw = _read(path)
    header, start = _parse_header(raw, path)
    payload, where = raw[start:], _name(path)
    if header["format_version"] == LEGACY_PICKLE_VERSION:
        if secret is not None and not trust_pickle:
            raise SignatureError(f"{where} is a format 1 file, an unsigned pickle: a key cannot verify it, "
                                 "and it was not unpickled. Fix: load(path, trust_pickle=True) only if you "
                                 "trust it, then save it again.")
        obj = _unpickle(payload, path, header, None, trust_pickle)
    else:
        if expected is not None and header["class"] != expected.__name__:
            raise DataFileError(f"{where} holds a {header['class']}, not a {expected.__name__}")
        if hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
            raise DataFileError(f"{where} is damaged: its payload does not match the SHA-256 digest in its "
                                "header (changed bytes). Copy or save it again.")
        if secret is not None:
            if header["hmac_sha256"] is None:
                raise SignatureError(f"{where} is not signed, so the key cannot verify it; nothing was read. "
                                     + ("Fix: it is an unsigned pickle: load(path, trust_pickle=True) only if "
                                        "you trust it." if header["payload"] == "pickle" else
                                        "Fix: load it without key= (array files run no code) or save it "
                                        "again with save(path, key=...)."))
            if not hmac.compare_digest(_signature(secret, header, payload), header["hmac_sha256"]):
                raise SignatureError(f"{where} does not verify with this key (wrong key, or the file changed "
                                     "since it was signed); nothing was unpickled. Fix: pass the key it was "
                                     "saved with, or refit and save again.")
        if header["payload"] == "pickle":
            obj = _unpickle(payload, path, header, secret, trust_pickle)
        else:
            obj = _load_arrays(payload, path, expected)
    if expected is not None and not isinstance(obj, expected):
        raise DataFileError(f"{where} holds a {type(obj).__name__}, not a {expected.__name__}")
    return obj


def _stored_code(value, field: str):
    """Every stored formula in a state, as (field, text): the learners' ``formula`` fields."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "formula" and v is not None:
                yield f"{field}.formula", v
            else:
                yield from _stored_code(v, f"{field}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _stored_code(v, f"{field}[{i}]")


def _refuse_code(state: dict, where: str) -> None:
    """Check every formula and derived expression of an array file against the safe vocabulary
    (with the saved column names) before anything is restored: an unsigned file can be edited,
    and its text must never reach patsy or an evaluator unchecked."""
    t = state["template"]
    columns = [col["name"] for col in t["frame"]["columns"]]
    covariates = t["covariates"]
    if not (isinstance(covariates, list) and all(isinstance(c, str) for c in [*columns, *covariates])):
        raise ValueError("column names must be strings")
    formulas = list(_stored_code(state, "state"))
    for role in ("propensity", "outcome"):
        spec = state["params"][role]
        spec = spec.get("pooled") if isinstance(spec, dict) else spec
        if isinstance(spec, str) and "~" in spec:
            formulas.append((f"state.params.{role}", spec))
    derived = state["derived"]
    if not isinstance(derived, dict):
        raise ValueError("derived columns must map covariates to expressions")
    try:
        for field, text in formulas:
            check_formula_code(text, columns)
        for col, text in derived.items():
            field = f"state.derived[{col!r}]"
            check_expression(text, covariates, what=f"derived column {col!r}: the expression")
    except SpecError as exc:
        raise DataFileError(f"{where} was refused: its field {field} holds code outside the vocabulary a "
                            f"synthesizer file may hold ({exc}). Nothing in it was evaluated. A file written by "
                            "save() never holds this: it was edited. Refit the synthesizer, or load only "
                            "files you or someone you trust wrote.") from None


def _load_arrays(payload: bytes, path, expected):
    manifest, arrays = _unzip(payload, path)
    if manifest.get("class") not in KNOWN_CLASSES or sorted(manifest) != ["class", "state"]:
        raise DataFileError(f"{_name(path)} has a damaged manifest (class {manifest.get('class')!r}); save it again")
    if expected is None or expected.__name__ != manifest["class"]:
        raise SpecError(f"{_name(path)} holds a {manifest['class']}: read it with "
                        f"{manifest['class']}.load(path)")
    try:
        state = _unpack(manifest["state"], arrays)
        _refuse_code(state, _name(path))
        return expected.from_state(state)
    except DataFileError:
        raise
    except CausalSynthError as exc:
        raise DataFileError(f"{_name(path)} has damaged contents: {exc}. Save the synthesizer again.") from exc
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise DataFileError(f"{_name(path)} has damaged contents ({type(exc).__name__}: {exc}). "
                            "Save the synthesizer again.") from exc
