"""The plain-value forms (JSON values and numeric arrays) of what a synthesizer's state holds
beside its fitted parts: data frames, seed sequences, learner specifications, the constructor
parameters and the real data (the template). Each fitted part writes its own state
(``to_state``/``from_state``); :mod:`causalsynth.synth.io` only packs states into files."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import CausalData
from ..errors import PickleRequiredError
from ..learners import Pooled
from .covariates import BootstrapGenerator, GaussianCopulaGenerator

__all__ = ["GENERATORS", "frame_state", "frame_from_state", "seed_state", "seed_from_state", "is_int",
           "spec_state", "spec_from_state", "params_state", "params_from_state", "template_state",
           "template_from_state", "check_rows"]

#: The covariate generators whose state the array format holds.
GENERATORS = {"BootstrapGenerator": BootstrapGenerator, "GaussianCopulaGenerator": GaussianCopulaGenerator}

_CATEGORY_DTYPES = ("object", "string", "str", "bool", "int8", "int16", "int32", "int64", "uint8",
                    "uint16", "uint32", "uint64", "float32", "float64")


def frame_state(frame: pd.DataFrame, what: str) -> dict:
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        raise PickleRequiredError(f"{what} has an index other than 0..n-1")
    columns = []
    for name in frame.columns:
        s = frame[name]
        if not isinstance(name, str):
            raise PickleRequiredError(f"{what} has a column named {name!r}, not a string")
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            values = [v.item() if isinstance(v, np.generic) else v for v in cats]
            if str(cats.dtype) not in _CATEGORY_DTYPES or not all(
                    isinstance(v, (str, int, float, bool)) for v in values):
                raise PickleRequiredError(f"{what} column {name!r} has categories of dtype {cats.dtype}")
            columns.append({"name": name, "codes": s.cat.codes.to_numpy(), "categories": values,
                            "categories_dtype": str(cats.dtype), "ordered": bool(s.cat.ordered)})
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf":
            columns.append({"name": name, "values": s.to_numpy()})
        else:
            raise PickleRequiredError(f"{what} column {name!r} has dtype {s.dtype}")
    return {"n_rows": len(frame), "columns": columns}


def frame_from_state(state: dict) -> pd.DataFrame:
    n, out = state["n_rows"], {}
    for col in state["columns"]:
        name = col["name"]
        if not isinstance(name, str) or name in out:
            raise ValueError(f"bad or repeated column name {name!r}")
        if "codes" in col:
            if col["categories_dtype"] not in _CATEGORY_DTYPES or not isinstance(col["ordered"], bool):
                raise ValueError(f"column {name!r}: unsupported categories")
            cats = pd.Index(col["categories"], dtype=col["categories_dtype"])
            codes = col["codes"]
            if str(cats.dtype) != col["categories_dtype"] or codes.dtype.kind != "i" or codes.ndim != 1 \
                    or (len(codes) and (codes.min() < -1 or codes.max() >= len(cats))):
                raise ValueError(f"column {name!r}: codes do not fit the categories")
            out[name] = pd.Categorical.from_codes(codes, categories=cats, ordered=col["ordered"])
        else:
            out[name] = col["values"]
        if len(out[name]) != n or np.ndim(out[name]) != 1:
            raise ValueError(f"column {name!r} does not hold {n} values")
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def seed_state(ss: np.random.SeedSequence) -> dict:
    entropy = ss.entropy
    entropy = int(entropy) if isinstance(entropy, (int, np.integer)) else [int(e) for e in entropy]
    return {"entropy": entropy, "spawn_key": [int(k) for k in ss.spawn_key], "pool_size": int(ss.pool_size),
            "n_children_spawned": int(ss.n_children_spawned)}


def is_int(v) -> bool:
    return type(v) is int


def seed_from_state(state: dict) -> np.random.SeedSequence:
    entropy = state["entropy"]
    ok = (is_int(entropy) or (isinstance(entropy, list) and all(is_int(e) for e in entropy))) \
        and all(is_int(k) and k >= 0 for k in state["spawn_key"]) \
        and is_int(state["pool_size"]) and is_int(state["n_children_spawned"])
    if not ok:
        raise ValueError(f"not a seed sequence: {state!r}")
    return np.random.SeedSequence(entropy, spawn_key=tuple(state["spawn_key"]), pool_size=state["pool_size"],
                                  n_children_spawned=state["n_children_spawned"])


def spec_state(spec, role: str):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, Pooled) and isinstance(spec.learner, str):
        return {"pooled": spec.learner}
    raise PickleRequiredError(f"the {role} specification {type(spec).__name__}")


def spec_from_state(value):
    if isinstance(value, dict):
        if list(value) != ["pooled"] or not isinstance(value["pooled"], str):
            raise ValueError(f"bad learner specification {value!r}")
        return Pooled(value["pooled"])
    if value is not None and not isinstance(value, str):
        raise ValueError(f"bad learner specification {value!r}")
    return value


#: Constructor parameters of format 2 files that now live in ``settings=SynthSettings(...)``:
#: stored flat, as before, so that files keep one layout.
SETTINGS = ("covariate_options", "n_folds", "holdout", "propensity_bounds", "outcome_model", "outcome_bounds",
            "derived")


def params_state(obj) -> dict:
    """The constructor's parameters (the knobs and settings included) as plain values."""
    params = obj.get_params(deep=False)
    params.pop("settings")
    params.update({name: getattr(obj, name) for name in SETTINGS})
    params["settings_given"] = obj.settings is not None
    cov = params["generator"]
    if isinstance(cov, str):
        params["generator"] = {"name": cov}
    elif isinstance(cov, type) and cov in GENERATORS.values():
        params["generator"] = {"class": cov.__name__}
    elif cov is obj.generator_ and type(cov) in GENERATORS.values():
        params["generator"] = {"fitted_generator": True}
    else:
        raise PickleRequiredError(f"the covariate generator {type(cov).__name__}")
    options = params["covariate_options"]
    if options is not None and not (isinstance(options, dict) and all(
            isinstance(k, str) and (v is None or isinstance(v, (bool, int, float, str))) for k, v in options.items())):
        raise PickleRequiredError("covariate_options other than a dict of plain values")
    params["propensity"] = spec_state(params["propensity"], "propensity")
    params["outcome"] = spec_state(params["outcome"], "outcome")
    rs = params["random_state"]
    if isinstance(rs, np.random.SeedSequence):
        params["random_state"] = {"seed_sequence": seed_state(rs)}
    elif isinstance(rs, np.random.Generator):  # its state at fit time is gone: nothing to store
        params["random_state"] = {"numpy_generator": True}
    params["propensity_bounds"] = [float(b) for b in params["propensity_bounds"]]
    return params


def params_from_state(params: dict, generator) -> dict:
    params = dict(params)
    if "covariates" in params and "generator" not in params:  # files of causalsynth <= 0.2 name it so
        params["generator"] = params.pop("covariates")
    cov = params["generator"]
    if not isinstance(cov, dict):
        raise ValueError(f"bad generator parameter {cov!r}")
    if "name" in cov:
        params["generator"] = cov["name"]
    elif "class" in cov:
        params["generator"] = GENERATORS[cov["class"]]
    elif cov == {"fitted_generator": True}:
        params["generator"] = generator
    else:
        raise ValueError(f"bad generator parameter {cov!r}")
    params["propensity"] = spec_from_state(params["propensity"])
    params["outcome"] = spec_from_state(params["outcome"])
    rs = params["random_state"]
    if isinstance(rs, dict):
        params["random_state"] = (seed_from_state(rs["seed_sequence"]) if "seed_sequence" in rs else None)
    if isinstance(params.get("noise_scale"), list):  # a pair (control, treated), stored as a JSON list
        params["noise_scale"] = tuple(params["noise_scale"])
    from .settings import SynthSettings
    settings = SynthSettings(**{name: params.pop(name) for name in SETTINGS})
    given = params.pop("settings_given", None)  # absent from files of causalsynth <= 0.2
    if not (given is None or isinstance(given, bool)):
        raise ValueError(f"settings_given must be true or false; got {given!r}")
    # without settings= the synthesizer was built with the defaults: restore settings=None
    params["settings"] = settings if given or (given is None and settings != SynthSettings()) else None
    return params


def template_state(t: CausalData) -> dict:
    """The real data a synthesizer was fitted on, with their roles."""
    return {"frame": frame_state(t.frame, "the real data"), "treatment": t.treatment,
            "outcome": t.outcome, "covariates": list(t.covariates), "kinds": dict(t.covariate_kinds),
            "outcome_type": t.outcome_type, "n_dropped": int(t.n_dropped)}


def template_from_state(st: dict) -> CausalData:
    """Inverse of :func:`template_state`; ValueError when the rows do not validate the same."""
    frame = frame_from_state(st["frame"])
    kinds = st["kinds"]
    data = CausalData(frame, treatment=st["treatment"], outcome=st["outcome"], covariates=st["covariates"],
                      categorical=[c for c, k in kinds.items() if k == "categorical"], constant="keep",
                      _derived=True)
    if data.covariate_kinds != kinds or data.outcome_type != st["outcome_type"] or not data.frame.equals(frame):
        raise ValueError("the stored real data do not validate to the same roles and dtypes")
    data.n_dropped = st["n_dropped"]
    return data


def check_rows(value, n: int) -> np.ndarray:
    """Row positions read from a file: a 1-D integer array inside [0, n)."""
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind == "i"
            and (not len(value) or (value.min() >= 0 and value.max() < n))):
        raise ValueError(f"row positions must be integers in [0, {n})")
    return value
