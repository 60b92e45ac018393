"""Scale-out: the same simulation grid serially, on joblib worker processes and on a Dask
LocalCluster, with identical results checked.

    python benchmarks/bench_scaleout.py [--workers 2] [--reps 60] [--quick]

On a 2-core machine the best possible speed-up is 2x; the point is that the grid runs
unchanged on Dask (and so on a multi-machine cluster) with the same replicates.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from causalsynth.datasets import load_nhefs  # noqa: E402
from causalsynth import RunOptions  # noqa: E402
from causalsynth.simulate import simulate  # noqa: E402
from causalsynth.synth.hybrid import HybridSynthesizer  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    reps = 40 if args.quick else args.reps
    synth = HybridSynthesizer(random_state=0, n_reference=50_000).fit(load_nhefs())
    learners = ({"glm": "logistic"} if args.quick else
                {"glm": "logistic", "gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 3}})
    kw = dict(n=1566, n_reps=reps, learners=learners, random_state=1)
    timings, results = {}, {}
    for label, run in (("serial", RunOptions(progress=False)),
                       ("joblib", RunOptions(n_jobs=args.workers, progress=False)),
                       ("dask", RunOptions(n_jobs=args.workers, backend="dask", progress=False))):
        t0 = time.perf_counter()
        results[label] = simulate(synth, run=run, **kw)
        timings[label] = time.perf_counter() - t0
        print(f"{label:>7}: {reps} replicates in {timings[label]:.1f} s")

    def strip(f):
        return f.drop(columns=[c for c in f.columns if c.startswith("seconds")])
    ref = strip(results["serial"].replicates)
    identical = all(strip(results[k].replicates).equals(ref) for k in ("joblib", "dask"))
    print(f"identical replicates across backends: {identical}")
    print(f"speed-up joblib: {timings['serial'] / timings['joblib']:.2f}x, dask: "
          f"{timings['serial'] / timings['dask']:.2f}x (dask/joblib time {timings['dask'] / timings['joblib']:.2f})")
    payload = {"reps": reps, "workers": args.workers, "seconds": timings, "identical": identical,
               "speedup_joblib": timings["serial"] / timings["joblib"],
               "speedup_dask": timings["serial"] / timings["dask"],
               "dask_over_joblib": timings["dask"] / timings["joblib"]}
    print(f"wrote {write('scaleout' + ('_quick' if args.quick else ''), payload)}")
    if not identical:
        raise SystemExit("results differ between backends")
    return payload


if __name__ == "__main__":
    main()
