"""The privacy filter as a covariate generator: :class:`DCRFiltered` wraps another generator and
redraws every row closer than ``min_dcr`` (in the metric of :mod:`causalsynth.privacy`) to a
real training row.

``DCRFiltered(generator, min_dcr)`` fits like any generator (``fit(frame, random_state=)``:
the inner generator is fitted with that seed, then the filter's scales and threshold are set
on ``frame``); ``min_dcr="auto"`` takes the 5% quantile of the distances from the real
``holdout`` rows to ``frame``. A pilot draw of 500 rows refuses an unreachable threshold at
fit. ``sample(n, random_state=)`` draws ``n`` rows that all pass; ``draw`` also says how many
were replaced. ``transform`` (optional) post-processes every draw of the inner generator
before its distances are measured (the synthesizer gives real dtypes and derived columns).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

from .._random import RandomState, as_seed_sequence
from ..errors import DataError, Fix, PrivacyWarning
from ..privacy import MixedEncoder, default_min_dcr, nearest_distances

__all__ = ["DCRFiltered"]

#: Pilot rows drawn at fit, and the least share of them that must pass.
PILOT_ROWS, MIN_PASS_SHARE = 500, 0.05
#: Redraw rounds before giving up, and the most rows a round draws.
MAX_ROUNDS, MAX_ROUND_ROWS = 50, 2_000_000


def _short_number(x: float) -> float | int:
    """``x`` to 3 significant digits, an integer when whole (``min_dcr=100``, not ``100.0``)."""
    v = float(f"{x:.3g}")
    return int(v) if v.is_integer() else v


class DCRFiltered:
    """Covariate draws of ``generator`` at distance >= ``min_dcr`` from every real training row."""

    def __init__(self, generator: Any, min_dcr: float | str, *, holdout: pd.DataFrame | None = None,
                 transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                 pilot_seed: RandomState = None, label: Any = None) -> None:
        self.generator = generator
        self.min_dcr = min_dcr
        self.holdout = holdout
        self.transform = transform
        self.pilot_seed = pilot_seed
        self.label = label

    def _prepared(self, W: pd.DataFrame) -> pd.DataFrame:
        return W if self.transform is None else self.transform(W)

    def fit(self, frame: pd.DataFrame, *, random_state: RandomState = None) -> DCRFiltered:
        """Fit the inner generator on ``frame`` with ``random_state``, then the filter."""
        self.generator.fit(frame, random_state=random_state)
        return self.fit_filter(frame)

    def fit_filter(self, frame: pd.DataFrame) -> DCRFiltered:
        """The scales and threshold of the filter on the training rows ``frame`` (the inner
        generator already fitted), checked by a pilot draw."""
        self.encoder_ = MixedEncoder().fit(frame)
        self.train_encoded_ = self.encoder_.transform(frame)
        self.threshold_ = (default_min_dcr(frame, self.holdout) if self.min_dcr == "auto"
                           else float(self.min_dcr))
        # a pilot draw: refuse an unreachable threshold now, not after minutes of redraws
        pilot = self._prepared(self.generator.sample(PILOT_ROWS, random_state=self.pilot_seed))
        d = nearest_distances(self.encoder_.transform(pilot), self.train_encoded_)
        share = float(np.mean(d >= self.threshold_))
        self.pilot_share_ = max(share, MIN_PASS_SHARE)
        if self.min_dcr == "auto" and self.threshold_ <= 0.0:
            self._warn_zero_threshold(d)
        if share < MIN_PASS_SHARE:
            fixes = ([Fix("lower {}", "min_dcr"), Fix("use {} (set from the real holdout)", "min_dcr", "auto")]
                     if self.min_dcr != "auto" else [Fix("pass a lower {} yourself", "min_dcr")])
            if self.label == "bootstrap":
                fixes.append(Fix("use another generator (the 'bootstrap' generator copies real rows)"))
            raise DataError(
                f"{{}} is out of reach: {share:.1%} of {PILOT_ROWS} pilot draws of the "
                f"{self.label!r} generator lie that far from every real training row (their "
                f"nearest distances: median {np.median(d):.3g}, 99th percentile {np.quantile(d, 0.99):.3g}).",
                argument="min_dcr", value=_short_number(self.threshold_), fix=fixes)
        return self

    def _warn_zero_threshold(self, pilot_distances: np.ndarray) -> None:
        """min_dcr='auto' came out 0 (at least 5% of the real holdout rows are exact copies of
        training rows: tied or duplicate rows): the filter would redraw nothing, so say so."""
        copies = float(np.mean(pilot_distances == 0.0))
        positive = pilot_distances[pilot_distances > 0]
        suggestion = f" (e.g. {float(np.quantile(positive, 0.05)):.3g}, the 5% quantile of the positive pilot distances)" \
            if len(positive) else ""
        warnings.warn(PrivacyWarning(
            f"{{}} is 0 here: at least 5% of the real holdout rows are exact copies of real "
            f"training rows (tied or duplicate rows), so the privacy filter removes nothing and "
            f"{copies:.1%} of {PILOT_ROWS} pilot draws of the {self.label!r} generator are exact copies of real "
            "training rows.", argument="min_dcr", value="auto",
            fix=[Fix(f"pass a positive {{}}{suggestion} to redraw exact copies", "min_dcr"),
                 Fix("accept them if these covariates are coarse enough that copies disclose nothing")]),
            stacklevel=5)

    def sample(self, n: int, *, random_state: RandomState = None) -> pd.DataFrame:
        """``n`` rows, every one at distance >= the threshold from the training rows."""
        return self.draw(n, random_state)[0]

    def draw(self, n: int, random_state: RandomState = None) -> tuple[pd.DataFrame, int]:
        """``n`` filtered rows and how many first draws were rejected and redrawn."""
        first, rest = as_seed_sequence(random_state).spawn(2)
        W = self._prepared(self.generator.sample(int(n), random_state=first))
        d = nearest_distances(self.encoder_.transform(W), self.train_encoded_)
        bad = np.flatnonzero(d < self.threshold_)
        replaced = len(bad)
        for child in rest.spawn(MAX_ROUNDS):
            if not len(bad):
                break
            # enough draws to replace every rejected row at the pilot's pass rate (twice the
            # rejected count when most draws pass), at most MAX_ROUND_ROWS a round
            k = min(max(len(bad) * 2, int(np.ceil(1.25 * len(bad) / self.pilot_share_)), 64), MAX_ROUND_ROWS)
            extra = self._prepared(self.generator.sample(k, random_state=child))
            de = nearest_distances(self.encoder_.transform(extra), self.train_encoded_)
            good = extra.loc[de >= self.threshold_]
            take = min(len(good), len(bad))
            W.iloc[bad[:take]] = good.iloc[:take].to_numpy()
            bad = bad[take:]
        if len(bad):
            raise DataError(
                f"the privacy filter could not find {len(bad)} covariate rows at distance >= "
                f"{self.threshold_:.3g} from every real training row after {MAX_ROUNDS} redraws (for a draw of "
                f"{n} rows).", argument="min_dcr", fix=[Fix("lower {}", "min_dcr"), Fix("use another generator")])
        return self._prepared(W), replaced

    def to_state(self) -> dict:
        """The fitted filter (the inner generator's state is its own)."""
        return {"min_dcr": self.threshold_, "means": self.encoder_.means_, "scales": self.encoder_.scales_,
                "pilot_share": self.pilot_share_}

    @classmethod
    def from_state(cls, generator: Any, frame: pd.DataFrame, state: dict, *, min_dcr: float | str | None = None,
                   **kwargs: Any) -> DCRFiltered:
        """Inverse of :meth:`to_state`: ``generator`` fitted already, ``frame`` the training rows;
        ``min_dcr`` and ``kwargs`` as given to the constructor (default: the stored threshold)."""
        new = cls(generator, state["min_dcr"] if min_dcr is None else min_dcr, **kwargs)
        enc = MixedEncoder().fit(frame)
        if state["means"].shape != enc.means_.shape or state["scales"].shape != enc.scales_.shape:
            raise ValueError("the privacy filter's scales do not fit the training rows")
        enc.means_, enc.scales_ = state["means"], state["scales"]
        new.encoder_, new.train_encoded_ = enc, enc.transform(frame)
        new.threshold_, new.pilot_share_ = float(state["min_dcr"]), float(state["pilot_share"])
        return new
