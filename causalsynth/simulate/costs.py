"""Expected cost of the work left in a simulation, re-estimated from the work measured so far.

The time left of a run is (expected seconds of one core left) / (seconds of one core finished
per second of wall time, measured). The first factor starts from the pilot timings of
:meth:`Simulation.plan` (one replicate per world: noisy, and timed in the main process, cold)
and is corrected as replicates finish: each finished replicate's rows carry the seconds its
worker spent drawing it, fitting each configuration and running the estimators, and the
expected cost of a kind of replicate (world, size, configurations it fits) becomes the mean
measured cost of the finished replicates of that kind; kinds not yet seen are scaled by the
ratio measured / expected over everything finished. The second factor is the workers' real
speed-up (two workers on a shared machine may give 1.2x one core, not 2x).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable

import pandas as pd

__all__ = ["WorkModel", "measured_seconds", "spread"]


def spread(items: list, kind: Callable) -> list:
    """``items`` reordered so that every kind advances at the same pace: the i-th of the n
    items of a kind goes at (i + 1/2) / n of the run (ties keep the given order). The work
    measured early is then a sample of every kind, so the re-estimated work left is right
    from the first few percent on, however wrong the pilot was about one kind."""
    position, seen, counts = {}, Counter(), Counter(kind(x) for x in items)
    for j, x in enumerate(items):
        k = kind(x)
        position[j] = ((seen[k] + 0.5) / counts[k], j)
        seen[k] += 1
    return [items[j] for j in sorted(range(len(items)), key=position.__getitem__)]


def measured_seconds(rows: pd.DataFrame) -> dict:
    """Seconds of one core per replicate in ``rows`` (one row per configuration x estimator):
    drawing it (shared out over its rows), each configuration's nuisance fit once (every
    estimator row repeats it), every estimator. Keyed by
    (world, scenario, n, rep)."""
    if not len(rows) or "seconds_nuisance" not in rows:
        return {}
    keys = ["world", "scenario", "n", "rep"]
    draw = rows.groupby(keys)["seconds_draw"].sum(min_count=1).fillna(0.0)  # each row holds a share
    fits = rows.drop_duplicates([*keys, "learner"]).groupby(keys)["seconds_nuisance"].sum(min_count=1).fillna(0.0)
    est = rows.groupby(keys)["seconds_estimator"].sum(min_count=1).fillna(0.0)
    total = draw.add(fits, fill_value=0.0).add(est, fill_value=0.0)
    return {k: float(v) for k, v in total.items()}


class WorkModel:
    """Expected seconds of one core per kind of unit, from a prior and from measurements.

    ``prior(kind)`` is the expected cost before any unit of that kind finished. ``observe(kind,
    seconds)`` records a finished unit; ``expect(kind)`` is then the mean measured cost of
    that kind, or the prior times the measured / prior ratio over all finished units.
    """

    def __init__(self, prior: Callable[[Hashable], float]):
        self._prior = prior
        self._sum: dict = defaultdict(float)
        self._count: Counter = Counter()
        self._measured = self._expected = 0.0

    def observe(self, kind: Hashable, seconds: float) -> None:
        self._sum[kind] += seconds
        self._count[kind] += 1
        self._measured += seconds
        self._expected += self._prior(kind)

    def expect(self, kind: Hashable) -> float:
        if self._count[kind]:
            return self._sum[kind] / self._count[kind]
        scale = self._measured / self._expected if self._expected > 0 and self._measured > 0 else 1.0
        return self._prior(kind) * scale

    def left(self, kinds: Iterable[tuple[Hashable, int]]) -> float:
        """Expected seconds of ``count`` units of each ``kind``."""
        return sum(self.expect(kind) * count for kind, count in kinds)
