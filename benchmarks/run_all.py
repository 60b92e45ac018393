"""Run every benchmark, record the results, and check ratio bounds (quick mode).

    python benchmarks/run_all.py            # full: every workload at full size (about 20 min)
    python benchmarks/run_all.py --quick    # small sizes, a few minutes; --check enforces the bounds

Each benchmark runs in its own process and writes benchmarks/results/<name>.json. Every run
prints a table of all results on record (ours, the alternative and the floor side by side,
with the ratios); a full run also writes that table into benchmarks/README.md between the
``<!-- generated:start -->`` and ``<!-- generated:end -->`` markers. ``--check`` fails (exit 1) if a ratio measured in this run
passes its bound in BOUNDS: bounds are on ratios between two timings taken in the same run,
never on absolute times. A benchmark whose timing bound fails is re-measured once, and only
a failure on both measurements counts (a real regression fails both; a slow spell of a shared
machine rarely does).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("CAUSALSYNTH_BENCH_RESULTS", HERE / "results"))

#: (script, extra args, result name)
BENCHES = [
    ("bench_estimate.py", [], "estimate"),
    ("bench_simulate.py", [], "simulate_glm"),
    ("bench_gbm_cost.py", [], "gbm_cost"),
    ("bench_simulate.py", ["--gbm"], "simulate_gbm"),
    ("bench_simulate.py", ["--gbm", "--pooled"], "simulate_gbm_pooled"),
    ("bench_dcr.py", [], "dcr"),
    ("bench_sample.py", [], "sample"),
    ("bench_memory.py", [], "memory"),
    ("bench_scaleout.py", [], "scaleout"),
    ("bench_scaling.py", [], "scaling"),
]
QUICK_SKIP = {"simulate_gbm", "simulate_gbm_pooled", "scaling"}  # too slow for CI's quick mode; no ratio bound

#: Bounds checked in quick mode: (result, key, "min"|"max", bound, why).
BOUNDS = [
    ("estimate", "ours_over_floor", "max", 2.0, "estimate() costs at most 2x its nuisance fits"),
    ("estimate", "speedup_vs_causallib", "min", 1.5, "shared nuisance fit beats refitting per estimator"),
    ("gbm_cost", "gbm_over_hgb", "max", 0.4, "gbm preset at most 1/3 of scikit-learn's per replicate (0.4 in quick mode)"),
    ("simulate_glm", "speedup_simulate_vs_zepid", "min", 15.0, "target 30x at full size; half in quick mode"),
    ("simulate_glm", "speedup_estimate_vs_zepid", "min", 10.0, "target 20x at full size; half in quick mode"),
    ("simulate_glm", "simulate_over_floor", "max", 1.6, "harness overhead over the nuisance fits"),
    ("simulate_glm", "max_abs_ate_difference", "max", 5e-3, "same estimates as zepid"),
    ("dcr", "ours_over_floor", "max", 1.6, "DCR within 1.5x of the matmul + running-min floor"),
    ("memory", "checks.simulate_memory_flat", "eq", True, "simulation memory flat in replicates"),
    ("memory", "checks.dcr_under_1gb", "eq", True, "DCR memory bounded by the chunk"),
    ("scaleout", "identical", "eq", True, "same replicates on serial, joblib and dask"),
]

#: Which keys above are ratios of timings (noisy; a failure is re-measured once).
TIMING = {"estimate": ("ours_over_floor", "speedup_vs_causallib"), "gbm_cost": ("gbm_over_hgb",),
          "simulate_glm": ("speedup_simulate_vs_zepid", "speedup_estimate_vs_zepid", "simulate_over_floor"),
          "dcr": ("ours_over_floor",)}


def _get(doc: dict, key: str):
    for part in key.split("."):
        doc = doc[part]
    return doc


def check(quick: bool, names=None) -> list[str]:
    failures = []
    suffix = "_quick" if quick else ""
    for name, key, kind, bound, why in BOUNDS:
        if names is not None and name not in names:
            continue
        path = RESULTS / f"{name}{suffix}.json"
        if not path.exists():
            failures.append(f"{name}: no result file {path.name}")
            continue
        value = _get(json.loads(path.read_text()), key)
        ok = (value >= bound if kind == "min" else value <= bound if kind == "max" else value == bound)
        status = "ok " if ok else "FAIL"
        print(f"  [{status}] {name}.{key} = {value!r} ({kind} {bound!r}): {why}")
        if not ok:
            failures.append(f"{name}.{key} = {value!r} violates {kind} {bound!r} ({why})")
    return failures


def _load(name: str, quick: bool):
    path = RESULTS / f"{name}{'_quick' if quick else ''}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table(quick: bool) -> str:
    """Markdown table of every result on record: ours, alternative, floor, ratios."""
    rows = ["| workload | causalsynth | alternative | floor | vs alternative | over floor |",
            "|---|---|---|---|---|---|"]
    machine = None
    d = _load("estimate", quick)
    if d:
        machine = d["machine"]
        rows.append(f"| estimate(): OR/IPW/AIPW/TMLE, n={d['n']:,} x {d['features']} | {d['seconds_ours']:.3f} s "
                    f"| causallib, one call per estimator: {d['seconds_causallib']:.3f} s "
                    f"| nuisance fits: {d['seconds_floor']:.3f} s | {d['speedup_vs_causallib']:.1f}x "
                    f"| {d['ours_over_floor']:.2f}x |")
    d = _load("gbm_cost", quick)
    if d:
        machine = machine or d["machine"]
        rows.append(f"| gbm preset (LightGBM) per replicate, n={d['n']:,} x {d['features']}, 5 folds, 15 fits "
                    f"| {d['seconds_per_rep_gbm']:.3f} s | hgb preset (scikit-learn): {d['seconds_per_rep_hgb']:.3f} s "
                    f"| - | {1 / d['gbm_over_hgb']:.1f}x | - |")
    for name in ("simulate_glm", "simulate_gbm", "simulate_gbm_pooled"):
        d = _load(name, quick)
        if not d:
            continue
        machine = machine or d["machine"]
        rows.append(f"| simulate(): {d['kind']}, n={d['n']:,}, {d['reps']} reps "
                    f"| {d['reps'] / d['seconds_simulate']:.2f} reps/s "
                    f"| zepid loop: {d['peer_reps'] / d['seconds_peer']:.2f} reps/s "
                    f"| nuisance fits: {d['reps'] / d['seconds_floor']:.2f} reps/s "
                    f"| {d['speedup_simulate_vs_zepid']:.1f}x | {d['simulate_over_floor']:.2f}x |")
    d = _load("dcr", quick)
    if d:
        sdm = d.get("sdmetrics") or []
        last = sdm[-1] if sdm else None
        alt = (f"SDMetrics at {last['size']:,} a side: {last['sdmetrics_s']:.1f} s vs ours {last['ours_s']:.3f} s"
               if last else "-")
        vs_alt = f"{last['sdmetrics_over_ours']:.0f}x" if last else "-"
        rows.append(f"| DCR nearest distances, {d['n']:,} x {d['n']:,} x {d['cols']} | {d['nearest_distances_s']:.2f} s "
                    f"| {alt} | float32 matmul + running min: {d['floor_matmul_min_s']:.2f} s "
                    f"| {vs_alt} | {d['ours_over_floor']:.2f}x |")
    d = _load("sample", quick)
    if d and d.get("rows"):
        r = d["rows"][-1]
        rows.append(f"| hybrid sampling, {r['n']:,} rows | {r['seconds_hybrid']:.2f} s | - "
                    f"| covariates alone: {r['seconds_covariates']:.2f} s | - | {r['ratio']:.2f}x |")
    d = _load("scaleout", quick)
    if d:
        sec = d["seconds"]
        rows.append(f"| simulation on {d['workers']} workers, {d['reps']} reps | Dask: {sec['dask']:.1f} s "
                    f"| joblib: {sec['joblib']:.1f} s | serial: {sec['serial']:.1f} s "
                    f"| {1 / d['dask_over_joblib']:.2f}x | {d['speedup_dask']:.2f}x faster than serial |")
    d = _load("memory", quick)
    if d:
        sims = [r for r in d["rows"] if r["kind"] == "simulate"]
        peaks = " / ".join(f"{r['peak_mb']:.0f}" for r in sims)
        rows.append(f"| simulation peak memory at {' / '.join(str(r['size']) for r in sims)} reps "
                    f"| {peaks} MB | - | - | - | flat: {d['checks']['simulate_memory_flat']} |")
    if machine:
        rows.append("")
        rows.append(f"Machine: {machine.get('platform')}, {machine.get('cpu_count')} cores, Python "
                    f"{machine.get('python')}, numpy {machine.get('numpy')}, scikit-learn "
                    f"{machine.get('scikit-learn')}.")
    return "\n".join(rows)


def write_readme_table(text: str) -> bool:
    readme = HERE / "README.md"
    doc = readme.read_text()
    start, end = "<!-- generated:start -->", "<!-- generated:end -->"
    if start not in doc or end not in doc:
        return False
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}")
    return True


def run_benches(names: list[str], quick: bool, env: dict) -> bool:
    for script, extra, name in BENCHES:
        if name not in names:
            continue
        cmd = [sys.executable, str(HERE / script), *extra] + (["--quick"] if quick else [])
        if script == "bench_dcr.py":
            cmd += ["--out", str(RESULTS / f"dcr{'_quick' if quick else ''}.json")]
            if quick:
                cmd += ["--sdmetrics-limit", "3"]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, text=True, capture_output=True)
        print("\n".join(line for line in proc.stdout.splitlines() if line.strip()))
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            print(f"== {name} FAILED (exit {proc.returncode})")
            return False
        print(f"== {name} done in {time.perf_counter() - t0:.0f} s", flush=True)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", action="store_true", help="enforce the ratio bounds")
    parser.add_argument("--only", nargs="*", help="result names to run")
    args = parser.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "2"),
           "CAUSALSYNTH_PROGRESS": "0"}
    t_all = time.perf_counter()
    names = [name for _, _, name in BENCHES
             if not (args.only and name not in args.only) and not (args.quick and name in QUICK_SKIP)]
    if not run_benches(names, args.quick, env):
        return 1
    print(f"all benchmarks done in {time.perf_counter() - t_all:.0f} s")
    text = table(args.quick)
    print(text)
    if not args.quick and "CAUSALSYNTH_BENCH_RESULTS" not in os.environ and write_readme_table(text):
        print("updated the generated table in benchmarks/README.md")
    if args.check:
        print("ratio bounds:")
        failures = check(args.quick, names)
        # A timing ratio is a median over interleaved rounds, but a shared machine can still have
        # a slow spell: a benchmark whose *timing* bound fails is measured once more, and only a
        # failure on both runs counts. Exact checks (same estimates, memory) get no second try.
        again = sorted({name for name, key, *_ in BOUNDS if key in TIMING.get(name, ()) and name in names
                        and any(f.startswith(f"{name}.{key} ") for f in failures)})
        if again:
            print(f"timing bound(s) failed in {', '.join(again)}: measuring once more")
            if not run_benches(again, args.quick, env):
                return 1
            print("ratio bounds (second measurement):")
            failures = check(args.quick, names)
        if failures:
            print("\n".join(["REGRESSIONS:"] + failures))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
