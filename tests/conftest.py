from __future__ import annotations

import os

# One OpenMP/BLAS thread per process: tests run beside other processes on 2 cores, where
# spinning OpenMP threads (HistGradientBoosting) slow down by 100x. Set before sklearn loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")
os.environ.setdefault("CAUSALSYNTH_PROGRESS", "0")


@pytest.fixture(scope="session")
def nhefs():
    from causalsynth.datasets import load_nhefs
    return load_nhefs()


@pytest.fixture(scope="session")
def lalonde():
    from causalsynth.datasets import load_lalonde
    return load_lalonde()
