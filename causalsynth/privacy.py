"""Distance to closest record (DCR): how close synthetic rows come to real training rows.

Rows are compared on the :class:`MixedEncoder` metric; nearest neighbours are searched by
blocked float32 matrix products (BLAS) in memory that does not grow with n_rows^2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._checks import check_int
from ._random import RandomState, as_generator
from .data import column_kind
from .errors import DataError, NotFittedError, SpecError
from .report.render import SummaryView, View

__all__ = ["MixedEncoder", "nearest_distances", "dcr", "DCRReport", "default_min_dcr", "rank_auc"]

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
# Distance blocks hold at most this many float32 values (4 MiB) so that a block written by
# the matrix product is still in cache when it is scanned for its minimum.
_BLOCK_ELEMENTS = 1 << 20


def _kind(dtype: Any) -> str | None:
    """'numeric', 'categorical' (category, object, string, bool) or None (unsupported)."""
    kind = column_kind(dtype)
    if kind in ("categorical", "binary"):
        return "categorical"
    return "numeric" if kind in ("integer", "continuous") else None


def _check_frame(frame: Any, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise SpecError(f"{what} must be a pandas DataFrame; got {type(frame).__name__}. "
                        "Pass the data as a DataFrame.")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(f"{what} must have at least one row and one column; got shape "
                        f"{frame.shape}. Pass a non-empty frame.")
    if frame.columns.has_duplicates:
        raise DataError(f"{what} has duplicated column names "
                        f"{sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})}"
                        "; column names must be unique. Rename the duplicated columns.")
    return frame


def _check_columns(got: Any, expected: list, what: str, against: str) -> None:
    missing = [c for c in expected if c not in set(got)]
    extra = [c for c in got if c not in set(expected)]
    if missing or extra:
        raise DataError(
            f"{what} must have the same columns as {against}; missing: {missing}, extra: "
            f"{extra}. Select or rename the columns so that both frames match.",
            problems=[f"missing column {c!r}" for c in missing]
            + [f"extra column {c!r}" for c in extra])


def _check_missing(frame: pd.DataFrame, what: str) -> None:
    counts = frame.isna().sum()
    bad = counts[counts > 0]
    if len(bad):
        problems = [f"{c!r} ({int(n)} missing)" for c, n in bad.items()]
        raise DataError(f"{what} has missing values in {len(bad)} column(s): "
                        f"{', '.join(problems)}; distances are undefined for missing values. "
                        "Impute them or drop those rows first.", problems=problems)


class MixedEncoder:
    """Encode a mixed-type frame as float32 rows for Euclidean distances.

    Numeric columns (integer or float, not bool) are standardized with the mean and the
    population standard deviation (``ddof=0``) of the frame passed to :meth:`fit`; a
    standard deviation of 0 is replaced by 1.  Categorical columns (pandas ``category``,
    object, string and bool) are one-hot encoded over the categories seen at fit time, each
    indicator equal to ``1/sqrt(2)``: two rows that differ in one categorical column are at
    squared distance exactly 1, as are two rows one standard deviation apart in one numeric
    column.  A category not seen at fit time encodes as all zeros, at squared distance 1/2
    from every seen category.

    Fitted attributes: ``columns_`` (numeric columns first), ``numeric_columns_``,
    ``categorical_columns_``, ``means_``, ``scales_``, ``categories_`` (column -> Index)
    and ``n_features_`` (width of the encoding).
    """

    def fit(self, frame: pd.DataFrame) -> MixedEncoder:
        """Learn scales and categories from ``frame`` (the real training data)."""
        return self._fit(frame, "frame")

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame``; returns a C-contiguous float32 array (rows x ``n_features_``)."""
        return self._transform(frame, "frame")

    def _fit(self, frame: pd.DataFrame, what: str) -> MixedEncoder:
        frame = _check_frame(frame, what)
        kinds = {c: _kind(frame[c].dtype) for c in frame.columns}
        bad = [f"{c!r} ({frame[c].dtype})" for c, k in kinds.items() if k is None]
        if bad:
            raise DataError(f"{what} has columns of unsupported dtype: {', '.join(bad)}; only "
                            "numeric, bool, category, object and string columns have a "
                            "distance. Convert them (for example dates to days since an "
                            "origin) or drop them.", problems=bad)
        _check_missing(frame, what)
        self.numeric_columns_ = [c for c in frame.columns if kinds[c] == "numeric"]
        self.categorical_columns_ = [c for c in frame.columns if kinds[c] == "categorical"]
        self.columns_ = self.numeric_columns_ + self.categorical_columns_
        values = self._numeric(frame, what)
        self.means_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.scales_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.categories_ = {c: pd.Index(pd.unique(frame[c].to_numpy(dtype=object)))
                            for c in self.categorical_columns_}
        self.n_features_ = len(self.numeric_columns_) + sum(
            len(v) for v in self.categories_.values())
        return self

    def _numeric(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        values = np.empty((len(frame), len(self.numeric_columns_)), dtype=np.float64)
        for j, c in enumerate(self.numeric_columns_):
            values[:, j] = frame[c].to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            problems = [f"{c!r} ({int(n)} infinite)" for c, n in
                        zip(self.numeric_columns_, bad.sum(axis=0)) if n]
            raise DataError(f"{what} has infinite values: {', '.join(problems)}. Replace or "
                            "drop them.", problems=problems)
        return values

    def _transform(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        if not hasattr(self, "columns_"):
            raise NotFittedError("MixedEncoder.transform needs fit; call fit(real) first.")
        frame = _check_frame(frame, what)
        _check_columns(frame.columns, self.columns_, what, "the frame the encoder was fit on")
        frame = frame[self.columns_]
        wrong = [f"{c!r} (fitted as {k}, here {frame[c].dtype})"
                 for cols, k in ((self.numeric_columns_, "numeric"),
                                 (self.categorical_columns_, "categorical"))
                 for c in cols if _kind(frame[c].dtype) != k]
        if wrong:
            raise DataError(f"{what} has columns whose type differs from the fitted frame: "
                            f"{', '.join(wrong)}. Cast them to the fitted dtypes.",
                            problems=wrong)
        _check_missing(frame, what)
        n = len(frame)
        out = np.zeros((n, self.n_features_), dtype=np.float32)
        k = len(self.numeric_columns_)
        out[:, :k] = (self._numeric(frame, what) - self.means_) / self.scales_
        rows = np.arange(n)
        for c in self.categorical_columns_:
            cats = self.categories_[c]
            codes = cats.get_indexer(frame[c].to_numpy(dtype=object))
            hit = codes >= 0
            out[rows[hit], k + codes[hit]] = _INV_SQRT2
            k += len(cats)
        return out


def _as_matrix(x: Any, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{what} must be a 2-D numeric array; got ndim={arr.ndim}, dtype="
                        f"{arr.dtype}. Encode frames with MixedEncoder first.")
    if not np.isfinite(arr).all():
        raise DataError(f"{what} contains NaN or infinite values; distances need finite "
                        "values. Impute or drop those rows.")
    return arr


def _tile_shape(chunk_size: int, n_query: int, n_ref: int) -> tuple[int, int]:
    """Query rows and reference rows per distance block (at most chunk_size each)."""
    r_tile = max(1, min(chunk_size, n_ref))
    q_tile = max(1, min(chunk_size, n_query, _BLOCK_ELEMENTS // r_tile))
    return q_tile, r_tile


def nearest_distances(query: np.ndarray, reference: np.ndarray, *, chunk_size: int = 4096,
                      return_index: bool = False
                      ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each query row to its nearest reference row.

    The nearest row is searched in blocks of at most ``chunk_size`` x ``chunk_size``
    squared distances ``||x||^2 + ||y||^2 - 2 x.y``, computed in float32 by one matrix
    product per block (``||y||^2`` rides along as an extra column; ``||x||^2`` does not
    change the argmin, so it is never added and no negative rounding needs clipping), with a
    running minimum.  Extra memory is one block (at most 4 MiB unless ``chunk_size`` is
    smaller) plus float32 copies of the inputs, never ``n_query * n_reference`` values.  The
    distance to the chosen neighbour is then recomputed in float64 from the inputs, so exact
    copies give exactly 0.0.

    Parameters
    ----------
    query, reference : array_like of shape (n, d) and (m, d)
        Encoded rows (see :class:`MixedEncoder`); finite values, ``m >= 1``.
    chunk_size : int, default 4096
        Largest number of rows of either side in one block.
    return_index : bool, default False
        Also return the index of the chosen reference row.

    Returns
    -------
    distances : numpy.ndarray of float64, shape (n,)
    index : numpy.ndarray of intp, shape (n,)
        Only when ``return_index`` is true.

    Notes
    -----
    Candidates are ranked in float32: when several reference rows are within float32
    rounding (about ``1e-7 * (||x||^2 + ||y||^2)`` in squared distance) of the nearest one,
    any of them may be chosen, and the reported distance exceeds the true minimum by at most
    that rounding.  Results do not depend on ``chunk_size`` beyond such near-ties.
    """
    q_src = _as_matrix(query, "query")
    r_src = _as_matrix(reference, "reference")
    chunk = check_int("chunk_size", chunk_size, fix="Use for example the default 4096.")
    if q_src.shape[1] != r_src.shape[1]:
        raise DataError(f"query and reference must have the same number of columns; got "
                        f"{q_src.shape[1]} and {r_src.shape[1]}. Encode both with one encoder.")
    if r_src.shape[0] == 0:
        raise DataError("reference must have at least one row; got 0. Pass a non-empty "
                        "reference set.")
    (n_q, d), n_r = q_src.shape, r_src.shape[0]
    q_aug = np.empty((n_q, d + 1), dtype=np.float32)
    q_aug[:, :d] = q_src
    q_aug[:, d] = 1.0
    r_aug = np.empty((n_r, d + 1), dtype=np.float32)
    np.multiply(r_src, -2.0, out=r_aug[:, :d], casting="unsafe")
    r_aug[:, d] = np.einsum("ij,ij->i", r_src, r_src, dtype=np.float64)
    q_tile, r_tile = _tile_shape(chunk, n_q, n_r)
    buffer = np.empty(q_tile * r_tile, dtype=np.float32)
    distances = np.empty(n_q, dtype=np.float64)
    index = np.empty(n_q, dtype=np.intp)
    for q0 in range(0, n_q, q_tile):
        xb = q_aug[q0:q0 + q_tile]
        m = xb.shape[0]
        rows = np.arange(m)
        best = np.full(m, np.inf, dtype=np.float32)
        best_i = np.zeros(m, dtype=np.intp)
        for r0 in range(0, n_r, r_tile):
            yb = r_aug[r0:r0 + r_tile]
            block = buffer[:m * yb.shape[0]].reshape(m, yb.shape[0])
            np.matmul(xb, yb.T, out=block)
            arg = block.argmin(axis=1)
            val = block[rows, arg]
            better = val < best
            best[better] = val[better]
            best_i[better] = arg[better] + r0
        diff = q_src[q0:q0 + m].astype(np.float64) - r_src[best_i].astype(np.float64)
        distances[q0:q0 + m] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        index[q0:q0 + m] = best_i
    return (distances, index) if return_index else distances


def _resolve(obj: Any, what: str) -> tuple[pd.DataFrame, list]:
    """The frame of ``obj`` and the columns it contributes (roles first, if it has them)."""
    if isinstance(obj, pd.DataFrame):
        return _check_frame(obj, what), list(obj.columns)
    frame = getattr(obj, "frame", None)
    if isinstance(frame, pd.DataFrame) and all(
            hasattr(obj, a) for a in ("covariates", "treatment", "outcome")):
        cols = [*obj.covariates, obj.treatment, obj.outcome]
        absent = [c for c in cols if c not in set(_check_frame(frame, f"{what}.frame"))]
        if absent or len(set(cols)) != len(cols):
            raise DataError(f"the roles of {what} must name distinct columns of {what}.frame; "
                            f"absent: {absent}, roles: {cols}. Fix the covariates, treatment "
                            "or outcome.")
        return frame, cols
    raise SpecError(f"{what} must be a pandas DataFrame or a dataset with .frame, .covariates, "
                    f".treatment and .outcome; got {type(obj).__name__}.")


def _row_hashes(frame: pd.DataFrame, enc: MixedEncoder) -> np.ndarray:
    """Row hashes that do not depend on int/float or category/object storage."""
    norm = {c: frame[c].to_numpy(dtype=np.float64) + 0.0 for c in enc.numeric_columns_}
    norm.update({c: frame[c].to_numpy(dtype=object) for c in enc.categorical_columns_})
    return pd.util.hash_pandas_object(pd.DataFrame(norm, columns=enc.columns_),
                                      index=False).to_numpy()


def rank_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counting 1/2 (Mann-Whitney U / n1 n0)."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    n1, n0 = len(pos), len(neg)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _stats(d: np.ndarray) -> dict[str, float]:
    q = np.quantile(d, [0.05, 0.25, 0.5, 0.75])
    return {"n": int(d.size), "min": float(d.min()), "q05": float(q[0]), "q25": float(q[1]),
            "median": float(q[2]), "q75": float(q[3]), "mean": float(d.mean())}


@dataclass(frozen=True, eq=False)
class DCRReport(SummaryView):
    """Distances to closest record and the privacy scores derived from them.

    Attributes
    ----------
    synthetic_to_train, holdout_to_train : numpy.ndarray (read-only)
        Distance of each synthetic (holdout) row to its nearest training row; the holdout
        distances are the baseline of how close genuinely new rows come (None without).
    exact_copy_share, holdout_exact_copy_share : float
        Share of synthetic (holdout) rows identical to some training row (row hashing).
    closer_to_train_share : float or None
        Share of synthetic rows closer to (a same-size sample of) train than to holdout,
        ties 1/2: about 0.5 without memorization, near 1 with it.
    membership_auc : float or None
        AUC of telling train from holdout rows by minus their distance to the nearest
        synthetic row: 0.5 means no leakage, 1 that every member is recognisable.
    n_train, n_synthetic, n_holdout : int
        Row counts (``n_holdout`` is None without holdout).
    """

    synthetic_to_train: np.ndarray
    holdout_to_train: np.ndarray | None
    exact_copy_share: float
    holdout_exact_copy_share: float | None
    closer_to_train_share: float | None
    membership_auc: float | None
    n_train: int
    n_synthetic: int
    n_holdout: int | None

    def summary(self) -> pd.DataFrame:
        """One row per distance set: count, quantiles, mean and shares."""
        rows = {"synthetic->train": {**_stats(self.synthetic_to_train),
                                     "exact_copy_share": self.exact_copy_share,
                                     "closer_to_train_share": self.closer_to_train_share}}
        if self.holdout_to_train is not None:
            rows["holdout->train"] = {**_stats(self.holdout_to_train),
                                      "exact_copy_share": self.holdout_exact_copy_share,
                                      "closer_to_train_share": None}
        return pd.DataFrame.from_dict(rows, orient="index").astype(
            {"n": "int64", "closer_to_train_share": "float64", "exact_copy_share": "float64"})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe scalars: counts, shares, AUC and distance quantiles."""
        out: dict[str, Any] = {
            "n_train": self.n_train, "n_synthetic": self.n_synthetic,
            "n_holdout": self.n_holdout, "exact_copy_share": self.exact_copy_share,
            "holdout_exact_copy_share": self.holdout_exact_copy_share,
            "closer_to_train_share": self.closer_to_train_share,
            "membership_auc": self.membership_auc}
        for name, d in (("synthetic_to_train", self.synthetic_to_train),
                        ("holdout_to_train", self.holdout_to_train)):
            if d is not None:
                out.update({f"{name}_{k}": v for k, v in _stats(d).items() if k != "n"})
        return out

    def _headline(self) -> list[tuple[str, str]]:
        fmt = (lambda v: "n/a (no holdout)" if v is None else f"{v:.4f}")  # noqa: E731
        return [("exact copies of train rows", fmt(self.exact_copy_share)
                 + ("" if self.holdout_exact_copy_share is None
                    else f" (holdout baseline {self.holdout_exact_copy_share:.4f})")),
                ("closer to train than holdout", f"{fmt(self.closer_to_train_share)} (ideal 0.5)"),
                ("membership-inference AUC", f"{fmt(self.membership_auc)} (ideal 0.5)")]

    def _view(self) -> View:
        """``print(report)``: the headline shares, then summary() (its shares are in the headline)."""
        return View(f"DCR report: {self.n_synthetic} synthetic, {self.n_train} train, {self.n_holdout or 0} holdout rows",
                    (self.summary().drop(columns=["exact_copy_share", "closer_to_train_share"]),),
                    tuple(f"  {k:<29}: {v}" for k, v in self._headline()), float_format=".4g", index=True,
                    html_tables=(self.summary(),))

    def plot(self, ax: Any = None) -> Any:
        """Overlay the empirical CDFs of both distance sets; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for label, d in (("synthetic \u2192 train", self.synthetic_to_train),
                         ("holdout \u2192 train", self.holdout_to_train)):
            if d is not None:
                x = np.sort(d)
                ax.step(x, np.arange(1, x.size + 1) / x.size, where="post",
                        label=f"{label} (n={x.size})")
        ax.set_xlabel("distance to closest training record")
        ax.set_ylabel("cumulative share of rows")
        ax.set_ylim(0.0, 1.0)
        ax.legend(loc="lower right")
        return ax


def _prepare(real: Any, others: dict[str, Any]) -> tuple[MixedEncoder, dict]:
    """Resolve inputs to frames with real's columns, fit the encoder on real, encode all."""
    frame, cols = _resolve(real, "real")
    frames = {"real": frame[cols]}
    for what, obj in others.items():
        if obj is not None:
            f, c = _resolve(obj, what)
            _check_columns(c, cols, what, "real")
            frames[what] = f[cols]
    enc = MixedEncoder()._fit(frames["real"], "real")
    return enc, {w: (f, enc._transform(f, w)) for w, f in frames.items()}


def dcr(real: Any, synthetic: Any, *, holdout: Any = None, chunk_size: int = 4096,
        random_state: RandomState = None) -> DCRReport:
    """Distance-to-closest-record report of ``synthetic`` against the training data ``real``.

    Parameters
    ----------
    real, synthetic, holdout : pandas.DataFrame or dataset
        Training data the generator saw, its synthetic output and, optionally, real rows it
        did not see, all with the same columns.  A dataset (an object with ``.frame``,
        ``.covariates``, ``.treatment`` and ``.outcome``) contributes the covariate,
        treatment and outcome columns in that order.  The encoder is fit on ``real``.
    chunk_size : int, default 4096
        Block size of the nearest-neighbour search (see :func:`nearest_distances`).
    random_state : int, numpy Generator, SeedSequence or None
        Seeds the subsample used by ``closer_to_train_share``.

    Returns
    -------
    DCRReport

    Notes
    -----
    Exact copies are found by hashing whole rows (``pandas.util.hash_pandas_object``), not
    by a distance threshold; their distance is set to exactly 0.

    ``closer_to_train_share`` compares each synthetic row's distance to train with its
    distance to holdout.  Because a larger reference set is closer on average, train and
    holdout are first brought to the same size: a seeded random subsample of train of the
    holdout's size (or, if holdout is the larger, of holdout of the train's size) is used,
    so 0.5 is the ideal whatever the sizes.  Ties count 1/2.  The price: a generator that
    copies every train row scores about ``r + (1 - r) / 2`` with ``r = n_holdout / n_train``,
    not 1, when train is the larger.

    ``membership_auc`` scores every train row (members) and holdout row (non-members) by
    minus its distance to the nearest synthetic row; it is computed by the rank
    (Mann-Whitney) formula with ties counting 1/2.
    """
    chunk = check_int("chunk_size", chunk_size, fix="Use for example the default 4096.")
    rng = as_generator(random_state)
    enc, data = _prepare(real, {"synthetic": synthetic, "holdout": holdout})
    (train, e_train), (syn, e_syn) = data["real"], data["synthetic"]
    near = lambda a, b: nearest_distances(a, b, chunk_size=chunk)  # noqa: E731
    syn_to_train = near(e_syn, e_train)
    train_hashes = _row_hashes(train, enc)
    copies = np.isin(_row_hashes(syn, enc), train_hashes)
    syn_to_train[copies] = 0.0
    hold_to_train = hold_copy = closer = auc = n_hold = None
    if "holdout" in data:
        hold, e_hold = data["holdout"]
        n_t, n_hold = len(train), len(hold)
        hold_to_train = near(e_hold, e_train)
        hold_copies = np.isin(_row_hashes(hold, enc), train_hashes)
        hold_to_train[hold_copies] = 0.0
        hold_copy = float(hold_copies.mean())
        d_train, d_hold = syn_to_train, None
        if n_t > n_hold:
            sub = np.sort(rng.choice(n_t, size=n_hold, replace=False))
            d_train = near(e_syn, e_train[sub])
        elif n_hold > n_t:
            sub = np.sort(rng.choice(n_hold, size=n_t, replace=False))
            d_hold = near(e_syn, e_hold[sub])
        if d_hold is None:
            d_hold = near(e_syn, e_hold)
        closer = float(np.mean(d_train < d_hold) + 0.5 * np.mean(d_train == d_hold))
        auc = rank_auc(-near(e_train, e_syn), -near(e_hold, e_syn))
        hold_to_train.setflags(write=False)
    syn_to_train.setflags(write=False)
    return DCRReport(synthetic_to_train=syn_to_train, holdout_to_train=hold_to_train,
                     exact_copy_share=float(copies.mean()), holdout_exact_copy_share=hold_copy,
                     closer_to_train_share=closer, membership_auc=auc, n_train=len(train),
                     n_synthetic=len(syn), n_holdout=n_hold)


def default_min_dcr(real: Any, holdout: Any, *, quantile: float = 0.05,
                    chunk_size: int = 4096) -> float:
    """Privacy-filter threshold: the ``quantile`` of holdout-to-train distances.

    Synthetic rows closer to the training data than the closest ``quantile`` share of
    genuinely new real rows (the holdout) are suspiciously close and may be redrawn.

    Parameters
    ----------
    real, holdout : pandas.DataFrame or dataset
        Training data and real rows not used for training, with the same columns.
    quantile : float, default 0.05
        Strictly between 0 and 1.
    chunk_size : int, default 4096
        Block size of the nearest-neighbour search.

    Returns
    -------
    float
        ``numpy.quantile(holdout_to_train, quantile)`` on the :class:`MixedEncoder` metric
        fit on ``real`` (the same distances as ``dcr(...).holdout_to_train``).
    """
    if isinstance(quantile, (bool, np.bool_)) or not isinstance(
            quantile, (int, float, np.integer, np.floating)) or not 0.0 < quantile < 1.0:
        raise SpecError(f"quantile must be a number strictly between 0 and 1; got "
                        f"{quantile!r}. Use for example 0.05.")
    chunk = check_int("chunk_size", chunk_size, fix="Use for example the default 4096.")
    enc, data = _prepare(real, {"holdout": holdout})
    (train, e_train), (hold, e_hold) = data["real"], data["holdout"]
    d = nearest_distances(e_hold, e_train, chunk_size=chunk)
    d[np.isin(_row_hashes(hold, enc), _row_hashes(train, enc))] = 0.0
    return float(np.quantile(d, float(quantile)))
