"""Shared helpers of the benchmark scripts: timing, machine info, JSON output."""
from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import time
from pathlib import Path

#: Where results go; the test suite points this at a temporary folder.
RESULTS = Path(os.environ.get("CAUSALSYNTH_BENCH_RESULTS", Path(__file__).resolve().parent / "results"))


def timed(fn, repeats: int = 3):
    """Run ``fn`` ``repeats`` times; return (median seconds, last result)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def compare(fns: dict, repeats: int = 3, warmup: int = 1) -> tuple[dict, dict]:
    """Time several callables side by side: ``warmup`` untimed calls of each, then ``repeats``
    rounds in which every callable runs once, in turn (interleaved, so a slow spell of the
    machine hits all of them alike). As in ``timeit``, garbage is collected before each timed
    call and the collector is off during it, so one side does not pay for another's garbage.
    Returns (median seconds per name, last result per name). Ratios of these medians are what
    the bounds in run_all.py check."""
    out = {}
    for _ in range(warmup):
        for name, fn in fns.items():
            out[name] = fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                out[name] = fn()
                times[name].append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return {name: statistics.median(ts) for name, ts in times.items()}, out


def machine() -> dict:
    import numpy
    import pandas
    import sklearn
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "numpy": numpy.__version__, "pandas": pandas.__version__,
            "scikit-learn": sklearn.__version__}
    try:
        import causalsynth
        info["causalsynth"] = causalsynth.__version__
    except ImportError:  # pragma: no cover
        pass
    return info


def write(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=float))
    return path
