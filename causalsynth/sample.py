"""SyntheticSample: synthetic rows together with their ground truth."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import CausalData

__all__ = ["SyntheticSample", "estimand_truth", "population_truth"]


def estimand_truth(cate: np.ndarray, a: np.ndarray, propensity: np.ndarray, estimand: str,
                   keep: np.ndarray | None = None) -> float:
    """The sample value of an estimand from per-row truths: the mean CATE over all rows (ate),
    the treated (att), the controls (atc), the kept rows (trimmed), or weighted by the true
    e(1-e) (overlap)."""
    cate = np.asarray(cate, dtype=float)
    if estimand == "ate":
        return float(cate.mean())
    if estimand == "att":
        return float(cate[a == 1].mean())
    if estimand == "atc":
        return float(cate[a == 0].mean())
    if estimand == "trimmed":
        return float(cate[keep].mean())
    if estimand == "overlap":
        h = propensity * (1 - propensity)
        return float(np.sum(h * cate) / np.sum(h))
    raise ValueError(f"unknown estimand {estimand!r}")


def population_truth(dgp, estimand: str, *, n_mc: int = 200_000) -> float:
    """A data-generating process's population value of ``estimand``.

    ``population_<estimand>_`` when the process has it (the hybrid synthesizer computes every
    one on its reference sample; designs give the ATE exactly), else a Monte Carlo estimate
    from one seeded draw of ``n_mc`` rows: :math:`E[e\tau]/E[e]` (att), :math:`E[(1-e)\tau]/E[1-e]`
    (atc), :math:`E[e(1-e)\tau]/E[e(1-e)]` (overlap), with the true propensity. The trimmed ATE
    is data-adaptive (its population is the units an estimator keeps): NaN here.
    """
    if estimand == "trimmed":
        return float("nan")
    direct = getattr(dgp, f"population_{estimand}_", None)
    if direct is not None:
        return float(direct)
    cache = getattr(dgp, "_population_truths", None)
    if isinstance(cache, dict) and estimand in cache:
        return cache[estimand]
    sample = dgp.sample(n_mc, random_state=20260)
    t = sample.truth
    e = t["propensity"].to_numpy(dtype=float)
    cate = t["cate"].to_numpy(dtype=float)
    if not np.isfinite(e).all():
        return float("nan")
    h = {"ate": np.ones_like(e), "att": e, "atc": 1 - e, "overlap": e * (1 - e)}[estimand]
    value = float(np.sum(h * cate) / np.sum(h))
    try:  # remember it on the object when it allows (frozen dataclasses do not)
        object.__setattr__(dgp, "_population_truths", {**(cache or {}), estimand: value})
    except (AttributeError, TypeError):
        pass
    return value


@dataclass(frozen=True)
class SyntheticSample:
    """Rows drawn from a generator that knows the potential outcomes.

    Attributes
    ----------
    data : CausalData with the observed (W, A, Y)
    truth : DataFrame, one row per row of ``data``: ``y0``, ``y1`` (potential outcomes; for a
        binary outcome, the drawn Bernoulli outcomes), ``mu0``, ``mu1`` (conditional means),
        ``propensity`` and ``cate = mu1 - mu0``.
    population_ate : the generator's population ATE (None if unknown)
    """

    data: CausalData
    truth: pd.DataFrame = field(repr=False)
    population_ate: float | None = None

    @property
    def sate(self) -> float:
        """Sample ATE: mean of the conditional effect over this sample's rows."""
        return float(np.mean(self.truth["cate"].to_numpy()))

    def truth_of(self, estimand: str = "ate", keep: np.ndarray | None = None) -> float:
        """This sample's value of ``estimand`` (SATE, SATT, SATC, the overlap-weighted or the
        trimmed sample effect; ``keep`` marks the rows of the trimmed population)."""
        t = self.truth
        return estimand_truth(t["cate"].to_numpy(), self.data.a, t["propensity"].to_numpy(dtype=float),
                              estimand, keep)

    @property
    def n_obs(self) -> int:
        return self.data.n_obs

    def frame(self, *, with_truth: bool = False) -> pd.DataFrame:
        """The observed table, optionally with the truth columns appended."""
        frame = self.data.frame
        if with_truth:
            frame = pd.concat([frame, self.truth.add_prefix("true_")], axis=1)
        return frame
