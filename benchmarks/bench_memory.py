"""Peak memory of each workload, each measured in a fresh subprocess (ru_maxrss).

    python benchmarks/bench_memory.py [--quick]

Checks the bounds DESIGN.md sets: simulation memory flat in the number of replicates, DCR
memory bounded by the chunk size (not the number of rows).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

CHILD = r'''
import json, resource, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
kind, size = sys.argv[1], int(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if kind == "simulate":
    from causalsynth.datasets.designs import LinearLogisticDesign
    from causalsynth import RunOptions
    from causalsynth.simulate import simulate
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    simulate(LinearLogisticDesign(n_features=20), n=2000, n_reps=size, random_state=0, run=RunOptions(progress=False))
elif kind == "dcr":
    from causalsynth.privacy import nearest_distances
    rng = np.random.default_rng(0)
    x = rng.standard_normal((size, 30)).astype(np.float32)
    y = rng.standard_normal((size, 30)).astype(np.float32)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    nearest_distances(x, y)
elif kind == "sample":
    from causalsynth.datasets import load_nhefs
    from causalsynth.synth.hybrid import HybridSynthesizer
    s = HybridSynthesizer(random_state=0, n_reference=20_000).fit(load_nhefs())
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s.sample(size, random_state=1)
elif kind == "estimate":
    from causalsynth import estimate
    from causalsynth.datasets.designs import LinearLogisticDesign
    data = LinearLogisticDesign(n_features=20).sample(size, random_state=0).data
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    estimate(data, random_state=0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kind": kind, "size": size, "peak_mb": peak / 1024, "increment_mb": (peak - base) / 1024}))
'''


def measure(kind: str, size: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(size)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    plan = ([("simulate", 25), ("simulate", 100), ("dcr", 5_000), ("dcr", 20_000), ("sample", 100_000),
             ("estimate", 100_000)] if args.quick else
            [("simulate", 50), ("simulate", 200), ("simulate", 800), ("dcr", 10_000), ("dcr", 100_000),
             ("sample", 1_000_000), ("estimate", 1_000_000)])
    rows = []
    for kind, size in plan:
        r = measure(kind, size)
        rows.append(r)
        print(f"{kind:>9} size={size:>8}: peak {r['peak_mb']:8.1f} MB, workload increment {r['increment_mb']:8.1f} MB")
    sims = [r for r in rows if r["kind"] == "simulate"]
    dcrs = [r for r in rows if r["kind"] == "dcr"]
    checks = {
        # flat in replicates: the largest run's peak within 10% (+20 MB) of the smallest's
        "simulate_memory_flat": sims[-1]["peak_mb"] <= 1.1 * sims[0]["peak_mb"] + 20,
        # DCR: increment bounded by the chunk (4 MiB blocks) plus the inputs, far below 1 GB
        "dcr_under_1gb": all(r["increment_mb"] < 1024 for r in dcrs),
    }
    print("checks:", checks)
    payload = {"rows": rows, "checks": checks}
    print(f"wrote {write('memory' + ('_quick' if args.quick else ''), payload)}")
    return payload


if __name__ == "__main__":
    main()
