"""Issue 18: the time left is measured from the workers' real speed, for the simulation and the refits.

No test here times real work: a fake clock runs a fake workload of the demo's shape.
"""
from __future__ import annotations

import heapq

import numpy as np
import pandas as pd
import pytest

from causalsynth.progress import Progress


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _demo_like_workload(rng):
    """(true seconds of one core, pilot estimate) per task: 4 worlds x 160 replicates, the first
    20 of each fitting the expensive configuration too, in the run's order (replicate-major);
    the pilot (one replicate per world) is off by up to 20% per world and every task's cost
    varies by 10% around its world's."""
    draws = [0.12, 0.01, 0.07, 0.02]
    off = 1 + rng.uniform(-0.2, 0.2, size=4)
    true, pilot = [], []
    for r in range(160):
        for w in range(4):
            cost = draws[w] + 0.15 + (1.0 if r < 20 else 0.0)
            true.append(cost * rng.uniform(0.9, 1.1))
            pilot.append(cost * off[w])
    return np.array(true), np.array(pilot)


def _run_parallel(true, pilot, *, workers, speedup, batch, clock, bar):
    """Hand batches to ``workers`` workers in order; together they run at ``speedup`` cores.
    Returns (time of each completion, the time left the bar printed then)."""
    per_worker = speedup / workers  # cores' worth of speed each worker gets
    batches = [list(range(i, min(i + batch, len(true)))) for i in range(0, len(true), batch)]
    free = [(0.0, k) for k in range(workers)]
    events, nxt = [], 0
    heapq.heapify(free)
    while nxt < len(batches):
        t, k = heapq.heappop(free)
        end = t + true[batches[nxt]].sum() / per_worker
        heapq.heappush(events, (end, nxt))
        heapq.heappush(free, (end, k))
        nxt += 1
    seen = []
    while events:
        end, b = heapq.heappop(events)
        clock.now = end
        bar.update(len(batches[b]), work=float(pilot[batches[b]].sum()))
        seen.append((end, bar.time_left(), bar.speedup()))
    return seen


@pytest.mark.parametrize("speedup", [1.2, 1.9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_time_left_within_25_percent_after_ten_percent_of_the_work(speedup, seed):
    rng = np.random.default_rng(seed)
    true, pilot = _demo_like_workload(rng)
    clock = FakeClock()
    bar = Progress(len(true), "replicates", clock=clock, ticker=False, show=False,
                   work=float(pilot.sum()), work_seconds=True)
    seen = _run_parallel(true, pilot, workers=2, speedup=speedup, batch=2, clock=clock, bar=bar)
    total = seen[-1][0]
    checked = 0
    for t, left, _ in seen:
        if 0.1 * total <= t <= 0.9 * total:
            assert left is not None
            truth = total - t
            assert abs(left - truth) <= 0.25 * truth, (t, left, truth)
            checked += 1
    assert checked > 100
    # the measured speed-up is the workers' real one (in pilot seconds), not the count of workers
    ratio = pilot.sum() / true.sum()
    assert seen[-2][2] == pytest.approx(speedup * ratio, rel=0.15)


def test_an_eta_from_the_worker_count_would_miss_by_more_than_25_percent():
    """The estimate printed before the run used to be one core's pilot cost / workers: on a
    shared machine where two workers give 1.2x, the truth is 1.67x that."""
    rng = np.random.default_rng(0)
    true, pilot = _demo_like_workload(rng)
    clock = FakeClock()
    bar = Progress(len(true), "replicates", clock=clock, ticker=False, show=False, work=float(pilot.sum()),
                   work_seconds=True)
    seen = _run_parallel(true, pilot, workers=2, speedup=1.2, batch=2, clock=clock, bar=bar)
    by_cores = pilot.sum() / 2
    assert abs(by_cores - seen[-1][0]) > 0.25 * seen[-1][0]


def test_line_shows_the_measured_speed_up(capsys):
    clock = FakeClock()
    bar = Progress(10, "replicates", clock=clock, ticker=False, show=False, work=10.0, work_seconds=True)
    clock.now = 5.0
    bar.update(3, work=6.0)  # 6 s of one core's work in 5 s of wall time
    assert bar.speedup() == pytest.approx(1.2)
    assert bar.line().endswith("about 3 s left (running at 1.2x one core)")
    plain = Progress(10, "replicates", clock=clock, ticker=False, show=False, work=10.0)
    plain.update(3, work=6.0)
    assert plain.speedup() is None and "one core" not in plain.line()


def _tiny_data(n=300, seed=0):
    from causalsynth.data import CausalData
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    a = (rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 * x1))).astype(int)
    y = 1.0 + a + x1 + 0.5 * x2 + rng.normal(size=n)
    return CausalData(pd.DataFrame({"x1": x1, "x2": x2, "a": a, "y": y}), treatment="a", outcome="y")


def test_refits_share_one_progress_weighed_by_the_original_costs(monkeypatch):
    """The refit line used to count generators (2 units: no time left until the last one);
    now every world fit and replicate of every refit is a unit of one Progress whose work is
    the expected seconds from the original simulation, and it adds up to the total."""
    import importlib
    unc = importlib.import_module("causalsynth.simulate.uncertainty")
    seen = []

    class Spy(Progress):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(unc, "Progress", Spy)
    data = _tiny_data()
    res = unc.generator_uncertainty(data, worlds=("glm", "placebo"), n_generators=2, n_reps=6,
                                    estimators=("or", "aipw"), learners={"glm": {"propensity": "logistic"}},
                                    random_state=0, show_progress=False)
    assert len(res.choices) == 3
    (bar,) = seen
    assert bar.total == 2 * 2 * (6 + 1)
    assert bar.done == bar.total
    assert bar.work_seconds and bar.work > 0
    assert bar.work_done == pytest.approx(bar.work, rel=1e-9)


def test_simulation_reports_to_a_given_progress():
    from causalsynth.simulate import Simulation
    clock = FakeClock()
    bar = Progress(8, "replicates", clock=clock, ticker=False, show=False, work=16.0, work_seconds=True)
    sim = Simulation(_tiny_data(), worlds=("placebo",), n_reps=8, estimators=("or",), random_state=0)
    sim.run(progress=bar, task_cost=lambda world, learners: 2.0 * len(learners))
    assert bar.done == 8 and bar.work_done == pytest.approx(16.0)


def test_replicates_run_replicate_major_across_worlds(monkeypatch):
    """So that the first tenth of the work samples every world (the time left does not inherit
    one world's pilot error), and the costly first replicates go first."""
    import importlib
    simulation = importlib.import_module("causalsynth.simulate.simulation")
    order = []
    real = simulation.execute

    def spy(dgps, spec, entropy, batches, **kw):
        order.extend(t for b in batches for t in b)
        yield from real(dgps, spec, entropy, batches, **kw)

    monkeypatch.setattr(simulation, "execute", spy)
    sim = simulation.Simulation(_tiny_data(), worlds=("glm", "placebo"), n_reps=4, estimators=("or",), random_state=0)
    sim.run()
    assert [(t.rep, t.world) for t in order] == [(r, w) for r in range(4) for w in range(2)]
