"""The quick benchmark suite: every ratio bound measured within one run (never absolute times)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmarks_meet_ratio_bounds(tmp_path):
    pytest.importorskip("zepid")
    env = {**os.environ, "CAUSALSYNTH_BENCH_RESULTS": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--check"],
                          capture_output=True, text=True, timeout=1200, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "ratio bounds:" in proc.stdout and "FAIL" not in proc.stdout
