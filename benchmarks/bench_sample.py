"""Sampling hybrid rows: copula covariates + fitted nuisance models + noise, with truth.

    python benchmarks/bench_sample.py [--sizes 1000 10000 100000 1000000] [--quick]

Target (DESIGN.md): 1,000,000 rows in under 10 s on 2 cores. The floor is the covariate
generator's own sampling; the rest is the propensity/outcome predictions, the draws and the
validation of the synthetic table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed, write  # noqa: E402

from causalsynth.datasets import load_nhefs  # noqa: E402
from causalsynth.synth.hybrid import HybridSynthesizer  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="sizes up to 100,000, 1 repeat")
    args = parser.parse_args(argv)
    sizes, repeats = ([1_000, 10_000, 100_000], 1) if args.quick else (args.sizes, args.repeats)
    synth = HybridSynthesizer(generator="copula", random_state=0).fit(load_nhefs())
    rows = []
    print(f"{'rows':>10} {'hybrid s':>10} {'covariates s':>13} {'hybrid/floor':>13}")
    for n in sizes:
        t_all, _ = timed(lambda: synth.sample(n, random_state=1), repeats)
        t_cov, _ = timed(lambda: synth.generator_.sample(n, random_state=1), repeats)
        rows.append({"n": n, "seconds_hybrid": t_all, "seconds_covariates": t_cov, "ratio": t_all / t_cov})
        print(f"{n:>10} {t_all:>10.3f} {t_cov:>13.3f} {t_all / t_cov:>13.2f}")
    payload = {"rows": rows, "target": "1,000,000 rows < 10 s"}
    big = [r for r in rows if r["n"] == 1_000_000]
    if big:
        payload["meets_target"] = big[0]["seconds_hybrid"] < 10
        print(f"1,000,000 rows: {big[0]['seconds_hybrid']:.2f} s (target < 10 s)")
    print(f"wrote {write('sample' + ('_quick' if args.quick else ''), payload)}")
    return payload


if __name__ == "__main__":
    main()
