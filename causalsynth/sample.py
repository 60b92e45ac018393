"""SyntheticSample: synthetic rows together with their ground truth."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import CausalData

__all__ = ["SyntheticSample"]


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

    @property
    def n_obs(self) -> int:
        return self.data.n_obs

    def frame(self, *, with_truth: bool = False) -> pd.DataFrame:
        """The observed table, optionally with the truth columns appended."""
        frame = self.data.frame
        if with_truth:
            frame = pd.concat([frame, self.truth.add_prefix("true_")], axis=1)
        return frame
