r"""The recommendation: the configuration whose worst regret across the deciding worlds is least.

For one (scenario, n) and every world :math:`w` and configuration (learner, estimator)
:math:`c`, from the replicates of the simulation:

* :math:`\mathrm{RMSE}_w(c)` against the world's truth, and the **regret**
  :math:`r_w(c) = \mathrm{RMSE}_w(c) / \min_{c'} \mathrm{RMSE}_w(c')` (1 = the best there);
* **fitness**: :math:`c` is *unfit* in :math:`w` when the 95% Wilson interval of its
  coverage lies below the nominal level (its intervals significantly under-cover), or when it
  failed in more than half the replicates.

The choice minimises the worst regret :math:`\max_{w \in D} r_w(c)` over the deciding worlds
:math:`D` (those built from no candidate's model class, see
:func:`~causalsynth.simulate.worlds.decision_worlds`), among the configurations fit in
every deciding world (or, when none is, among those unfit in the fewest). Its uncertainty
comes from a bootstrap of the replicates within each world (paired across configurations
when they share replicates): **P(best)** is the share of resamples in which a configuration
is chosen; the **runner-up** is the other configuration with the highest P(best). Per world,
P(best) is the share of resamples in which the configuration has the lowest RMSE there.

Statements about coverage are made only where the Wilson interval supports them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._random import as_generator
from ..report.render import View, view_html
from .metrics import wilson_interval

__all__ = ["Recommendation", "recommend"]


@dataclass(frozen=True)
class _Cell:
    reps: np.ndarray  # replicate indices with a finite estimate
    err: np.ndarray  # estimate - truth on those replicates
    hit: np.ndarray  # interval covers the truth (bool)
    n_rows: int  # replicates attempted (failures included)
    n_failed: int


def _cells(rows: pd.DataFrame, truth_col: str) -> tuple[dict, dict]:
    """Errors and coverage per (world, method); and, per world, the replicates dropped by pairing.

    When every method of a world ran on the same replicates, each is scored on the replicates
    where all the methods that succeed in at least half of them succeeded (paired), so a
    method cannot win by failing on the hard replicates.
    """
    out, dropped = {}, {}
    for world, gw in rows.groupby("world", sort=False):
        raw = {}
        for (lrn, est), g in gw.groupby(["learner", "estimator"], sort=False):
            g = g.sort_values("rep")
            ok = ~g["failed"].to_numpy(dtype=bool) & np.isfinite(g["ate"].to_numpy(dtype=float))
            raw[lrn, est] = (g, ok)
        same = len({tuple(g["rep"]) for g, _ in raw.values()}) == 1
        keep = None
        if same:
            eligible = [ok for _, ok in raw.values() if ok.mean() >= 0.5]
            keep = np.logical_and.reduce(eligible) if eligible else None
            dropped[world] = int(len(keep) - keep.sum()) if keep is not None else 0
        for m, (g, ok) in raw.items():
            use = ok & keep if (keep is not None and ok.mean() >= 0.5) else ok
            sub = g[use]
            e = sub["ate"].to_numpy(dtype=float) - sub[truth_col].to_numpy(dtype=float)
            lo, hi, tr = (sub[c].to_numpy(dtype=float) for c in ("ci_lower", "ci_upper", truth_col))
            out[world, m] = _Cell(sub["rep"].to_numpy(), e, (lo <= tr) & (tr <= hi), len(g), int((~ok).sum()))
    return out, dropped


def _stats(cells: dict, worlds, methods, level: float, index: dict | None = None, allowance: dict | None = None):
    """RMSE, coverage, fitness and regret per (world, method), on resampled positions ``index``.

    ``allowance[w]``: coverage in world ``w`` is judged against ``level - allowance[w]`` (a
    world less faithful to the data than the tolerances allow; see :func:`recommend`)."""
    allowance = allowance or {}
    rmse, cover, unfit = {}, {}, {}
    for w in worlds:
        for m in methods:
            c = cells.get((w, m))
            if c is None or len(c.err) < 2 or c.n_failed > 0.5 * c.n_rows:
                rmse[w, m], cover[w, m], unfit[w, m] = np.inf, np.nan, True
                continue
            pos = index[w][m] if index is not None else slice(None)
            err, hit = c.err[pos], c.hit[pos]
            rmse[w, m] = float(np.sqrt(np.mean(err ** 2)))
            cover[w, m] = float(hit.mean())
            unfit[w, m] = bool(wilson_interval(cover[w, m], len(hit))[1] < level - allowance.get(w, 0.0))
    regret = {}
    for w in worlds:
        best = min(rmse[w, m] for m in methods)
        for m in methods:
            regret[w, m] = rmse[w, m] / best if np.isfinite(best) and best > 0 else np.inf
    return rmse, cover, unfit, regret


def _choose(methods, deciding, unfit, regret):
    """The configuration with the least worst regret among the fittest; and the scores."""
    n_unfit = {m: sum(unfit[w, m] for w in deciding) for m in methods}
    worst = {m: max(regret[w, m] for w in deciding) for m in methods}
    fewest = min(n_unfit.values())
    pool = [m for m in methods if n_unfit[m] == fewest and np.isfinite(worst[m])]
    choice = min(pool, key=lambda m: (worst[m], methods.index(m))) if pool else None
    return choice, n_unfit, worst


def _resample_index(cells: dict, worlds, methods, rng) -> dict:
    """Bootstrap positions per world; the same replicates for methods that share them."""
    index = {}
    for w in worlds:
        index[w] = {}
        shared: dict = {}
        for m in methods:
            c = cells.get((w, m))
            if c is None or not len(c.err):
                index[w][m] = np.zeros(0, dtype=np.intp)
                continue
            key = c.reps.tobytes()
            if key not in shared:  # draw the replicates once; methods with the same ones reuse them
                shared[key] = rng.integers(0, len(c.reps), len(c.reps))
            index[w][m] = shared[key]
    return index


@dataclass(frozen=True)
class Recommendation:
    """The recommended configuration for one (scenario, n), with why and how sure.

    Attributes
    ----------
    choice, runner_up : (learner, estimator) or None.
    table : one row per (world, learner, estimator): rmse, regret, coverage with its Wilson
        interval, unfit, decides (the world is a deciding one), p_best_world.
    scores : one row per configuration: worst_regret (deciding worlds), n_unfit, p_best
        (across worlds).
    p_best : P(best) of the choice across worlds; ``agreement`` world -> its best fit configuration.
    caveats : sentences that the Monte Carlo intervals support.
    """

    scenario: str
    n: int
    level: float
    decision_worlds: tuple
    choice: tuple | None
    runner_up: tuple | None
    p_best: float
    table: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    agreement: dict = field(default_factory=dict)
    caveats: tuple = ()
    reason: str = ""
    multi_learner: bool = True
    n_boot: int = 0

    def _name(self, m) -> str:
        return f"{m[1].upper()} with the '{m[0]}' learners" if self.multi_learner else m[1].upper()

    def sentences(self) -> list[str]:
        where = f"Scenario '{self.scenario}', n={self.n}: " if self.scenario else f"n={self.n}: "
        if self.choice is None:
            return [where + "no recommendation. " + self.reason]
        pct = f"{100 * self.level:g}%"
        c = self.choice
        t = self.table.set_index(["world", "learner", "estimator"])
        s = self.scores.set_index(["learner", "estimator"]).loc[c]
        deciding = ", ".join(self.decision_worlds)
        out = [where + f"recommended {self._name(c)}.",
               f"It has the least worst-case regret across the deciding worlds ({deciding}): its RMSE is at "
               f"most {s['worst_regret']:.2f} times the best configuration's there."]
        per_world = ", ".join(f"{w} {100 * t.loc[(w, *c), 'p_best_world']:.0f}%" for w in self.decision_worlds)
        out.append(f"It is chosen in {100 * self.p_best:.0f}% of {self.n_boot} bootstrap resamples of the "
                   f"replicates; it has the lowest RMSE in {per_world} of them, per world.")
        if self.runner_up is not None:
            r = self.scores.set_index(["learner", "estimator"]).loc[self.runner_up]
            out.append(f"Runner-up by P(best): {self._name(self.runner_up)} (chosen in {100 * r['p_best']:.0f}%).")
        agree = [w for w, m in self.agreement.items() if m == c]
        if len(agree) == len(self.agreement):
            out.append(f"The deciding worlds agree: it is the best fit configuration in all {len(agree)}.")
        else:
            others = "; ".join(f"{w} prefers {self._name(m)}" for w, m in self.agreement.items() if m != c)
            out.append(f"The deciding worlds disagree: {others}.")
        cov = ", ".join(f"{t.loc[(w, *c), 'coverage'] * 100:.1f}% in {w}" for w in self.decision_worlds)
        out.append(f"Its {pct} intervals cover {cov}.")
        return out + list(self.caveats)

    def summary(self) -> pd.DataFrame:
        """One row per configuration (learner, estimator): worst-case regret over the deciding
        worlds, the number of worlds where it is unfit, P(best) over bootstrap resamples, and
        whether it is the choice; best first. Empty when no recommendation could be made."""
        out = self.scores.reset_index(drop=True).copy()
        if len(out):
            out["chosen"] = [(r.learner, r.estimator) == self.choice for r in out.itertuples()]
        return out

    def __str__(self) -> str:
        """The recommendation in sentences (richer than its table by design; summary() has the table)."""
        return "\n".join(self.sentences())

    def _repr_html_(self) -> str:
        lines = self.sentences()
        return view_html(View(lines[0], (self.summary(),), tuple(lines[1:])))

    def to_dict(self) -> dict:
        from ..report.render import json_safe
        return json_safe({"scenario": self.scenario, "n": self.n, "level": self.level,
                          "decision_worlds": list(self.decision_worlds),
                          "choice": list(self.choice) if self.choice else None,
                          "runner_up": list(self.runner_up) if self.runner_up else None,
                          "p_best": self.p_best, "agreement": {w: list(m) for w, m in self.agreement.items()},
                          "caveats": list(self.caveats), "reason": self.reason, "sentences": self.sentences(),
                          "table": self.table, "scores": self.scores})


def _caveats(rec_args: dict) -> tuple:
    """Sentences the intervals support: unfitness, over-coverage, failures, uncertainty, homes."""
    c, t, level, deciding = rec_args["choice"], rec_args["table"], rec_args["level"], rec_args["deciding"]
    name = rec_args["name"]
    pct = f"{100 * level:g}%"
    out = []
    mine = t[(t["learner"] == c[0]) & (t["estimator"] == c[1])].set_index("world")
    bad = [w for w in deciding if mine.loc[w, "unfit"]]
    if bad:
        out.append(f"No configuration covers at {pct} in every deciding world; this one under-covers "
                   f"significantly in {', '.join(bad)}: widen or distrust its intervals there.")
    over = [w for w in deciding if mine.loc[w, "coverage_lower"] > level]
    if over:
        out.append(f"Its intervals are conservative (coverage significantly above {pct}) in {', '.join(over)}.")
    failed = int(mine["n_failed"].sum())
    if failed:
        out.append(f"It failed in {failed} replicate(s) across the worlds.")
    if rec_args["p_best"] < 0.5 and rec_args["runner_up"] is not None:
        out.append(f"The choice is uncertain: it wins fewer than half the resamples; more replicates "
                   f"would separate it from {name(rec_args['runner_up'])}.")
    unfit = t[t["decides"] & t["unfit"]]
    allowance = rec_args.get("allowance") or {}
    if len(unfit):
        def why(r):
            a = allowance.get(r.world, 0.0)
            against = f"{100 * (level - a):g}% (the world is less faithful to the data)" if a else pct
            return f"{name((r.learner, r.estimator))} in {r.world} (coverage {r.coverage:.2f}, significantly below {against})"
        listed = "; ".join(why(r) for r in unfit.itertuples())
        out.append(f"Excluded as unfit: {listed}.")
    relaxed = [w for w in deciding if allowance.get(w, 0.0) > 0]
    if relaxed:
        out.append("Coverage judged against a lower level in " + ", ".join(
            f"{w} ({100 * (level - allowance[w]):g}%)" for w in relaxed)
            + ": these worlds are materially easier or noisier than the data (see the fidelity table).")
    for world in [w for w in dict.fromkeys(t["world"]) if w not in deciding]:
        h = t[t["world"] == world]
        top = h.loc[h["rmse"].idxmin()]
        out.append(f"In the {world} world (a candidate's home, not deciding), {name((top['learner'], top['estimator']))} "
                   "has the lowest RMSE.")
    return tuple(out)


def recommend(rows: pd.DataFrame, *, scenario: str, n: int, level: float, decision_worlds, truth_col: str = "pate",
              n_boot: int = 500, random_state=0, multi_learner: bool = True,
              coverage_allowance: dict | None = None) -> Recommendation:
    """The :class:`Recommendation` for the replicate ``rows`` of one (scenario, n).

    ``coverage_allowance``: world -> how far below the nominal level its coverage may be
    before a configuration is unfit there. A world that is materially easier or noisier than
    the real data (:mod:`causalsynth.simulate.difficulty`) distorts coverage, and must not
    exclude the truly best configuration on that account alone; the recommendation says
    which configurations were excluded, where and against which level."""
    allowance = dict(coverage_allowance or {})
    worlds = list(dict.fromkeys(rows["world"]))
    deciding = tuple(w for w in decision_worlds if w in worlds) or tuple(worlds)
    methods = list(dict.fromkeys(zip(rows["learner"], rows["estimator"])))
    cells, dropped = _cells(rows, truth_col)
    rmse, cover, unfit, regret = _stats(cells, worlds, methods, level, allowance=allowance)
    choice, n_unfit, worst = _choose(methods, deciding, unfit, regret)
    if choice is None:
        return Recommendation(scenario, n, level, deciding, None, None, 0.0, pd.DataFrame(), pd.DataFrame(),
                              reason="no method succeeded in at least half the replicates of every "
                                     "deciding world.", multi_learner=multi_learner)
    rng = as_generator(random_state)
    wins = {m: 0 for m in methods}
    world_wins = {(w, m): 0 for w in worlds for m in methods}
    for _ in range(n_boot):
        idx = _resample_index(cells, worlds, methods, rng)
        b_rmse, _, b_unfit, b_regret = _stats(cells, worlds, methods, level, idx, allowance)
        b_choice = _choose(methods, deciding, b_unfit, b_regret)[0]
        if b_choice is not None:
            wins[b_choice] += 1
        for w in worlds:
            world_wins[w, min(methods, key=lambda m: (b_rmse[w, m], methods.index(m)))] += 1
    p_best = {m: wins[m] / n_boot if n_boot else float(m == choice) for m in methods}
    rivals = [m for m in methods if m != choice and p_best[m] > 0]
    runner = max(rivals, key=lambda m: (p_best[m], -worst[m])) if rivals else (
        min((m for m in methods if m != choice), key=lambda m: worst[m], default=None))
    table = []
    for w in worlds:
        for m in methods:
            c = cells.get((w, m))
            n_ok = len(c.hit) if c is not None else 0
            lo, hi = wilson_interval(cover[w, m], n_ok) if n_ok else (np.nan, np.nan)
            table.append({"world": w, "learner": m[0], "estimator": m[1], "rmse": rmse[w, m],
                          "regret": regret[w, m], "coverage": cover[w, m], "coverage_lower": float(lo),
                          "coverage_upper": float(hi), "unfit": unfit[w, m], "decides": w in deciding,
                          "n_ok": n_ok, "n_failed": c.n_failed if c is not None else 0,
                          "p_best_world": world_wins[w, m] / n_boot if n_boot else np.nan})
    table = pd.DataFrame(table)
    scores = pd.DataFrame([{"learner": m[0], "estimator": m[1], "worst_regret": worst[m], "n_unfit": n_unfit[m],
                            "p_best": p_best[m]} for m in methods]).sort_values(["n_unfit", "worst_regret"])
    agreement = {}
    for w in deciding:
        fit = [m for m in methods if not unfit[w, m]] or methods
        agreement[w] = min(fit, key=lambda m: (rmse[w, m], methods.index(m)))
    probe = Recommendation(scenario, n, level, deciding, choice, runner, p_best[choice], table, scores,
                           agreement, (), multi_learner=multi_learner, n_boot=n_boot)
    caveats = _caveats({"choice": choice, "table": table, "level": level, "deciding": deciding,
                        "p_best": p_best[choice], "runner_up": runner, "name": probe._name, "allowance": allowance})
    paired = [f"{w} ({k} dropped)" for w, k in dropped.items() if k]
    if paired:
        caveats = (f"Scored on the replicates where every configuration succeeded: {', '.join(paired)}.",
                   *caveats)
    return Recommendation(scenario, n, level, deciding, choice, runner, p_best[choice], table,
                          scores.reset_index(drop=True), agreement, caveats, multi_learner=multi_learner,
                          n_boot=n_boot)
