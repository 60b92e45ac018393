"""A selection (worlds fitted to one dataset, the GLM/GBM panel simulated in them) at large n,
its cost against n and against replicates, and the same selection on a Dask cluster.

    python benchmarks/bench_selection_scale.py                 # n = 2,000, 20,000, 100,000; ~10 min on 2 cores
    python benchmarks/bench_selection_scale.py --sizes 2000,20000 --reps 2
    python benchmarks/bench_selection_scale.py --scheduler tcp://host:8786   # Dask part on an existing cluster

For each n: one draw of NonlinearHeterogeneousDesign (datasets/designs.py) is the "real" data;
the deciding worlds (flexible, placebo) are fitted to it (timed), then ``--reps`` replicates
of the panel (OR/IPW/AIPW/TMLE x main-terms GLM and 5-fold cross-fitted gbm) are simulated in
each world on one core (timed per replicate). The cost of a selection with R replicates per
world is then world fits + R x (seconds per replicate) x worlds: a line in R, which the
plot draws from the measured points (stated as extrapolated beyond the replicates run).
At the smallest size above 10,000 the same simulation runs again on a Dask LocalCluster of
separate worker processes (``processes=True``; or on ``--scheduler``) and its replicates are
compared with the serial run's (they must be identical). Writes results/selection_scale.json
and results/selection_scale.png.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, write  # noqa: E402

from causalsynth.datasets.designs import NonlinearHeterogeneousDesign  # noqa: E402
from causalsynth import RunOptions  # noqa: E402
from causalsynth.simulate import Simulation  # noqa: E402

PANEL = {"glm": {"propensity": "logistic", "outcome": None},
         "gbm": {"propensity": "gbm", "outcome": "gbm", "n_folds": 5}}


def _strip(frame):
    return frame.drop(columns=[c for c in frame.columns if c.startswith("seconds")]).reset_index(drop=True)


def one_size(n: int, reps: int, seed: int = 0) -> tuple[dict, Simulation]:
    data = NonlinearHeterogeneousDesign().sample(n, random_state=seed).data
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulation(data, worlds=("flexible", "placebo"), n=n, n_reps=reps, learners=PANEL, random_state=seed)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = sim.run(RunOptions(n_jobs=1, progress=False))
    t_run = time.perf_counter() - t0
    per_world = t_run / reps / 2  # seconds per replicate of the whole panel in one world
    row = {"n": n, "reps": reps, "fit_worlds_seconds": t_fit, "simulate_seconds": t_run,
           "seconds_per_replicate_per_world": per_world,
           "world_fit_seconds": {w["world"]: w["fit_seconds"] for w in res.worlds},
           "per_learner_nuisance_seconds": res.replicates.drop_duplicates(["world", "learner", "rep"])
           .groupby("learner")["seconds_nuisance"].mean().to_dict()}
    print(f"n={n:>7,}: worlds fitted in {t_fit:6.1f} s; {reps} replicates x 2 worlds in {t_run:6.1f} s "
          f"({per_world:.2f} s per replicate per world); nuisance s per rep {row['per_learner_nuisance_seconds']}",
          flush=True)
    return row, (sim, res)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,20000,100000")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--plot-only", action="store_true", help="redraw the plot from results/selection_scale.json")
    args = ap.parse_args(argv)
    if args.plot_only:
        import json
        doc = json.loads((RESULTS / "selection_scale.json").read_text())
        _plot(doc["rows"], doc["rows"][0]["reps"])
        return doc
    sizes = [2000, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rows, runs = [], {}
    dask = None
    big = [n for n in sizes if n >= 10_000]
    name = "selection_scale" + ("_quick" if args.quick else "")
    for n in sizes:
        row, runs[n] = one_size(n, args.reps)
        rows.append(row)
        write(name, {"rows": rows, "partial": True})  # a long run keeps what it measured
        if not big or n != big[0]:
            runs.pop(n)  # keep only the run the Dask part repeats (memory)
            continue
        n = big[0]
        sim, serial = runs[n]
        t0 = time.perf_counter()
        on_dask = sim.run(RunOptions(n_jobs=args.workers, backend="dask", scheduler=args.scheduler,
                                     progress=False))
        t_dask = time.perf_counter() - t0
        same = _strip(on_dask.replicates).equals(_strip(serial.replicates))
        dask = {"n": n, "workers": args.workers, "scheduler": args.scheduler or "LocalCluster(processes=True)",
                "seconds": t_dask, "serial_seconds": next(r for r in rows if r["n"] == n)["simulate_seconds"],
                "identical": bool(same)}
        print(f"dask at n={n:,}: {t_dask:.1f} s on {args.workers} worker processes (serial {dask['serial_seconds']:.1f} s); "
              f"identical replicates: {same}", flush=True)
        runs.pop(n)
    curve = [{"n": r["n"], **{f"reps_{k}": r["fit_worlds_seconds"] + k * 2 * r["seconds_per_replicate_per_world"]
                              for k in (args.reps, 10, 20, 50, 200)}} for r in rows]
    payload = {"design": "NonlinearHeterogeneousDesign", "worlds": ["flexible", "placebo"], "panel": PANEL,
               "rows": rows, "dask": dask, "extrapolated": curve,
               "note": f"{args.reps} replicates per world measured at each n; other replicate counts are "
                       "world fits + R x measured seconds per replicate (linear in R: replicates are independent)"}
    _plot(rows, args.reps)
    print(f"wrote {write(name, payload)}")
    if dask and not dask["identical"]:
        raise SystemExit("the Dask run's replicates differ from the serial run's")
    return payload


def _plot(rows, measured_reps):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    ns = np.array([r["n"] for r in rows], dtype=float)
    a.loglog(ns, [r["fit_worlds_seconds"] for r in rows], "o-", label="fit the 2 worlds")
    a.loglog(ns, [r["seconds_per_replicate_per_world"] for r in rows], "s-", label="one replicate of the panel, one world")
    a.set_xlabel("rows n")
    a.set_ylabel("seconds, one core")
    a.set_title("cost against n (measured)")
    a.legend()
    reps = np.array([measured_reps, 10, 20, 50, 100, 200])
    for r in rows:
        total = r["fit_worlds_seconds"] + reps * 2 * r["seconds_per_replicate_per_world"]
        b.loglog(reps, total / 60, "-", label=f"n={r['n']:,}")
        b.loglog([measured_reps], [total[0] / 60], "ko")
    b.set_xlabel("replicates per world (2 worlds)")
    b.set_ylabel("minutes, one core")
    b.set_title(f"cost against replicates (dots: {measured_reps} measured)")
    b.legend()
    fig.tight_layout()
    path = RESULTS / "selection_scale.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
