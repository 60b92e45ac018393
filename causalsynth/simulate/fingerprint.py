"""What decides a simulation's replicate rows, as named settings with a stable hash each.

A checkpoint records these settings in its ``meta.json``; resuming compares them one by one,
so a refusal names what differs instead of mixing replicates of two simulations.

* a data-generating process (a world) is hashed by its fitted state: for objects with
  ``get_params`` the class name, the parameters and every other attribute (the fitted
  arrays, models and tables); for dataclass designs their fields; for other objects with
  attributes the class name and the attributes; for objects without (extension types) their
  pickle bytes, falling back to ``repr`` without memory addresses. Attributes named
  ``last_*`` (diagnostics of the last draw) are left out, and so is the state of a random
  generator, which advances as it draws. Class names are used without their module, so a
  class defined in a script hashes the same whether the script runs as ``__main__`` or is
  imported.
* the seed is its entropy and spawn key; the grid its estimators, sizes, ``n_reps`` and each
  learner configuration's, learners, scenarios, world names, propensity bounds and level;
  and the package version.

``batch_size`` is not a setting: a task's seed depends on its indices only, so how tasks are
grouped into batches changes neither the rows nor the checkpoint (resume reads finished
tasks, not batches).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import re
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._random import seed_parts
from .._version import __version__

__all__ = ["state_hash", "describe", "grid_settings", "run_settings", "settings_fingerprint",
           "setting_differences"]

_MAX_DEPTH = 60
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def state_hash(obj: Any) -> str:
    """A stable hex digest of ``obj``'s state (see the module notes for what counts)."""
    h = hashlib.sha256()
    _feed(h, obj, set(), 0)
    return h.hexdigest()[:20]


def _tag(h, *parts) -> None:
    h.update(("\x1f".join(str(p) for p in parts) + "\x1e").encode())


def _attributes(obj: Any) -> dict | None:
    try:
        state = vars(obj)
    except TypeError:
        return None
    return {k: v for k, v in state.items() if not k.startswith("last_") and not k.startswith("__")}


def _feed(h, obj: Any, stack: set, depth: int) -> None:
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        # 1, 1.0 and numpy.float64(1.0) draw the same rows: one hash
        exact = isinstance(obj, float) or abs(obj) < 2 ** 53
        _tag(h, "number", repr(float(obj)) if exact else repr(obj))
        return
    if obj is None or isinstance(obj, (bool, complex, str)):
        _tag(h, type(obj).__name__, repr(obj))
        return
    if isinstance(obj, (bytes, bytearray)):
        _tag(h, "bytes", len(obj))
        h.update(bytes(obj))
        return
    if depth > _MAX_DEPTH or id(obj) in stack:
        _tag(h, "deep", type(obj).__qualname__)
        return
    stack.add(id(obj))
    try:
        _feed_container(h, obj, stack, depth + 1)
    finally:
        stack.discard(id(obj))


def _feed_container(h, obj: Any, stack: set, depth: int) -> None:
    if isinstance(obj, np.ndarray):
        _tag(h, "ndarray", obj.dtype.str, obj.shape)
        if obj.dtype.hasobject:
            for item in obj.ravel(order="C"):
                _feed(h, item, stack, depth)
        else:
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
        _tag(h, type(obj).__name__, obj.shape)
        if isinstance(obj, pd.DataFrame):
            _feed(h, [str(c) for c in obj.columns], stack, depth)
            _tag(h, *(repr(d) for d in obj.dtypes))
        else:
            _tag(h, repr(obj.dtype), obj.name)
        h.update(pd.util.hash_pandas_object(obj, index=not isinstance(obj, pd.Index)).to_numpy().tobytes())
    elif isinstance(obj, Mapping):
        _tag(h, "mapping", len(obj))
        for key in sorted(obj, key=lambda k: (type(k).__name__, repr(k))):
            _feed(h, key, stack, depth)
            _feed(h, obj[key], stack, depth)
    elif isinstance(obj, (list, tuple)):
        _tag(h, type(obj).__name__, len(obj))
        for item in obj:
            _feed(h, item, stack, depth)
    elif isinstance(obj, (set, frozenset)):
        _tag(h, "set", len(obj), *sorted(state_hash(item) for item in obj))
    elif isinstance(obj, np.random.SeedSequence):  # not n_children_spawned: spawning moves it
        _tag(h, "SeedSequence", repr(obj.entropy), tuple(obj.spawn_key), obj.pool_size)
    elif isinstance(obj, (np.random.Generator, np.random.BitGenerator, np.random.RandomState)):
        _tag(h, "random generator", type(obj).__name__)  # its state advances as it draws
    elif isinstance(obj, (types.FunctionType, types.MethodType)):
        func = getattr(obj, "__func__", obj)
        _tag(h, "function", func.__qualname__)
        h.update(func.__code__.co_code)
        _feed(h, [c for c in func.__code__.co_consts if not isinstance(c, types.CodeType)], stack, depth)
    elif isinstance(obj, type):
        _tag(h, "class", obj.__qualname__)
    else:
        _feed_object(h, obj, stack, depth)


def _feed_object(h, obj: Any, stack: set, depth: int) -> None:
    name = type(obj).__qualname__
    if dataclasses.is_dataclass(obj):
        _tag(h, "dataclass", name)
        for f in dataclasses.fields(obj):
            _tag(h, f.name)
            _feed(h, getattr(obj, f.name, None), stack, depth)
        return
    attributes = _attributes(obj)
    if callable(getattr(obj, "get_params", None)):
        try:
            params = dict(obj.get_params(deep=False))
        except Exception:  # a get_params that needs arguments or fails: the attributes decide
            params = {}
        _tag(h, "estimator", name)
        _feed(h, params, stack, depth)
        _feed(h, {k: v for k, v in (attributes or {}).items() if k not in params}, stack, depth)
        return
    if attributes is not None and not isinstance(obj, (types.ModuleType,)):
        _tag(h, "object", name)
        _feed(h, attributes, stack, depth)
        return
    try:
        data = pickle.dumps(obj, protocol=4)
    except Exception:
        _tag(h, "repr", name, _ADDRESS.sub("", repr(obj)))
    else:
        _tag(h, "pickle", name, len(data))
        h.update(data)


def describe(obj: Any, width: int = 110) -> str:
    """A short one-line description of a process or learner (its repr, else its class name)."""
    if obj is None or isinstance(obj, (str, int, float)):
        return repr(obj) if isinstance(obj, str) else str(obj)
    text = repr(obj)
    if _ADDRESS.search(text) or text.startswith("<"):
        text = f"{type(obj).__qualname__}()"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _learner_text(value: Any, default: str) -> str:
    return default if value is None else value if isinstance(value, str) else describe(value, 60)


def grid_settings(spec) -> dict[str, dict]:
    """The settings of a :class:`~causalsynth.simulate.spec.SimulationSpec` that decide its rows:
    ``{name: {"text": how a message shows it, "key": its hash}}`` (``batch_size`` left out)."""
    out: dict[str, dict] = {}

    def put(name, text, value):
        out[name] = {"text": text, "key": state_hash(value)}
    put("n_reps", f"n_reps={spec.n_reps}", spec.n_reps)
    sizes = list(spec.sizes)
    put("n", f"n={sizes[0] if len(sizes) == 1 else sizes}", sizes)
    put("estimators", f"estimators={', '.join(spec.estimators)}", list(spec.estimators))
    put("worlds", f"worlds={', '.join(spec.worlds)}", list(spec.worlds))
    put("learners", f"learners={', '.join(c.name for c in spec.learners)}", [c.name for c in spec.learners])
    for c in spec.learners:
        own = "" if c.n_reps is None else f", n_reps={c.n_reps}"  # else the simulation's n_reps
        if c.propensity_bounds is not None:
            own += f", propensity_bounds={c.propensity_bounds}"
        text = (f"learner {c.name!r} = (propensity={_learner_text(c.propensity, 'logistic')}, "
                f"outcome={_learner_text(c.outcome, 'default')}, n_folds={c.n_folds}{own})")
        value = [c.propensity, c.outcome, c.n_folds, c.n_reps]
        if c.propensity_bounds is not None:  # configurations without one keep their old key
            value.append(c.propensity_bounds if isinstance(c.propensity_bounds, str) else list(c.propensity_bounds))
        put(f"learner {c.name!r}", text, value)
    scen = "; ".join(f"{s.name} {dict(s.knobs)}" if s.knobs else s.name for s in spec.scenarios)
    put("scenarios", f"scenarios={scen}",
        [[s.name, {str(k): float(v) for k, v in dict(s.knobs).items()}] for s in spec.scenarios])
    bounds = spec.propensity_bounds
    put("propensity_bounds", f"propensity_bounds={bounds if isinstance(bounds, str) else tuple(bounds)}",
        bounds if isinstance(bounds, str) else list(bounds))
    put("level", f"level={spec.level}", float(spec.level))
    estimand = getattr(spec, "estimand", "ate")
    trim = getattr(spec, "trim_bounds", None)
    put("estimand", f"estimand={estimand}" + (f", trim_bounds={tuple(trim)}" if trim else ""),
        [estimand, None if trim is None else list(trim)])
    return out


def _seed_text(entropy, spawn_key) -> str:
    if not spawn_key:
        return f"seed {entropy}"
    return f"seed entropy={entropy}, spawn_key={tuple(spawn_key)}"


def run_settings(spec, dgps: Mapping[str, Any], seed: np.random.SeedSequence) -> dict[str, dict]:
    """Everything that decides a run's rows: the package version, the seed, the grid and the
    fitted state of each world's data-generating process (``dgps``: name -> process)."""
    entropy, key = seed_parts(seed)
    out = {"version": {"text": f"causalsynth {__version__}", "key": state_hash(__version__)},
           "seed": {"text": _seed_text(entropy, key), "key": state_hash([entropy, key])}}
    out.update(grid_settings(spec))
    for name, dgp in dgps.items():
        out[f"world {name!r}"] = {"text": f"world {name!r} = {describe(dgp)}", "key": state_hash(dgp)}
    return out


def settings_fingerprint(settings: Mapping[str, Mapping]) -> str:
    """One hash of all settings."""
    payload = json.dumps({k: v["key"] for k, v in settings.items()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def setting_differences(old: Mapping[str, Mapping], new: Mapping[str, Mapping]) -> list[tuple[str, str, str]]:
    """``(setting, text in old, text in new)`` for each setting whose hash differs, in ``new``'s
    order, then those only ``old`` has. Equal texts of different hashes (a process fitted to
    other data, say) show the hashes."""
    out = []
    for name in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(name), new.get(name)
        if a is not None and b is not None and a.get("key") == b.get("key"):
            continue
        ta = a.get("text", name) if a is not None else f"no {name}"
        tb = b.get("text", name) if b is not None else f"no {name}"
        if ta == tb:
            ta, tb = f"{ta} [fitted state {a.get('key', '?')[:12]}]", f"{tb} [fitted state {b.get('key', '?')[:12]}]"
        out.append((name, ta, tb))
    return out
