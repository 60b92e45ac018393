"""Resampling of rows: cross-fitting folds, the holdout split and the bootstrap within arms.

Every function draws from the seed or generator it is given and from nothing else, so a
caller that passes the same stream gets the same rows.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["make_folds", "split_holdout", "bootstrap_within_arms"]


def make_folds(a: np.ndarray, n_folds: int, seed: np.random.SeedSequence,
               groups: np.ndarray | None = None) -> np.ndarray:
    """Fold labels 0..K-1 stratified by treatment, balanced in size, seeded.

    ``groups`` (one label per row, e.g. the original row of a bootstrap copy) keeps rows of a
    group in one fold, so no copy of a unit is in the training rows of its own prediction.
    """
    if groups is not None:
        groups = np.asarray(groups)
        uniq, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
        return make_folds(a[first], n_folds, seed)[inverse]
    rng = np.random.default_rng(seed)
    folds = np.empty(len(a), dtype=np.int64)
    offset = 0
    for arm in (0.0, 1.0):
        idx = np.flatnonzero(a == arm)
        perm = rng.permutation(idx)
        folds[perm] = (np.arange(len(perm)) + offset) % n_folds
        offset += len(perm)
    return folds


def split_holdout(a: np.ndarray, share: float, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    """Train and holdout positions, the holdout drawn within each arm (``share`` of each arm)."""
    rng = np.random.default_rng(seed)
    parts = []
    for arm in (0.0, 1.0):
        idx = rng.permutation(np.flatnonzero(a == arm))
        parts.append(idx[:int(round(share * len(idx)))])
    hold = np.sort(np.concatenate(parts))
    return np.setdiff1d(np.arange(len(a)), hold), hold


def bootstrap_within_arms(a: np.ndarray, rng: np.random.Generator, *, rows: np.ndarray | None = None,
                          order: Sequence[int] = (1, 0)) -> np.ndarray:
    """Positions drawn with replacement within each treatment arm, so each arm keeps its size.

    ``rows`` restricts the draw to those positions (default: all); ``order`` lists the arms
    to draw, in the order their draws are made and concatenated (a single arm draws only that
    arm). The order is part of the random stream: callers keep theirs.
    """
    rows = np.arange(len(a)) if rows is None else np.asarray(rows)
    arm_of = a[rows]
    return np.concatenate([rng.choice(r, len(r)) for r in (rows[arm_of == arm] for arm in order)])
