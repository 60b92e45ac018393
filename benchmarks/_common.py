"""Shared helpers of the benchmark scripts: timing, machine info, JSON output."""
from __future__ import annotations

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
