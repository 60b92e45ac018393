"""Generators of synthetic covariate tables.

Every generator follows :class:`CovariateGenerator`: ``fit(frame, *, random_state=None)``
learns from a real table and ``sample(n, *, random_state=None)`` returns ``n`` synthetic
rows with the same columns, column order and dtypes as the fitted frame.  Column kinds are
inferred from dtypes (see :func:`covariate_kinds`); numeric values stay inside the observed
``[min, max]`` and categorical values come only from the categories seen in fitting.
"""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .._checks import check_int
from .._random import RandomState, as_generator
from ..data import column_kind
from ..errors import DataError, NotFittedError, PrivacyWarning, SpecError
from . import _deep

if TYPE_CHECKING:
    from typing import Self

__all__ = [
    "CovariateGenerator",
    "BootstrapGenerator",
    "GaussianCopulaGenerator",
    "CTGANGenerator",
    "TVAEGenerator",
    "COVARIATE_GENERATORS",
    "make_covariate_generator",
    "covariate_kinds",
]

_NUMERIC = ("continuous", "integer")


@runtime_checkable
class CovariateGenerator(Protocol):
    """What a covariate generator must provide: ``fit`` then ``sample``."""

    def fit(self, frame: pd.DataFrame, *, random_state: RandomState = None) -> Self:
        """Learn the joint distribution of ``frame``; return ``self``."""
        ...

    def sample(self, n: int, *, random_state: RandomState = None) -> pd.DataFrame:
        """Return ``n`` synthetic rows with the fitted frame's columns and dtypes."""
        ...


def covariate_kinds(frame: pd.DataFrame) -> dict[Hashable, str]:
    """Infer the kind of every column of ``frame`` from its dtype.

    Parameters
    ----------
    frame : pandas.DataFrame
        The covariate table.

    Returns
    -------
    dict
        Column name -> ``"continuous"`` (float), ``"integer"`` (numpy or nullable
        integer), ``"binary"`` (bool) or ``"categorical"`` (category, object, string).

    Raises
    ------
    DataError
        If ``frame`` is not a DataFrame or a column has an unsupported dtype.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"frame must be a pandas DataFrame; got {type(frame).__name__}. "
            "Wrap the data with pandas.DataFrame(...)."
        )
    kinds = {name: column_kind(dtype) for name, dtype in frame.dtypes.items()}
    bad = [f"{name!r} ({frame.dtypes.iloc[j]})" for j, (name, kind) in enumerate(kinds.items())
           if kind is None]
    if bad:
        raise DataError(
            f"frame has columns of unsupported dtype: {', '.join(bad)}. Supported: float, "
            "integer, bool, category, object and string; convert the others (for example "
            "datetimes to numbers) before fitting.",
            [f"unsupported dtype in column {b}" for b in bad],
        )
    return kinds  # type: ignore[return-value]


def _validate_frame(frame: Any) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"frame must be a pandas DataFrame; got {type(frame).__name__}. "
            "Wrap the data with pandas.DataFrame(...)."
        )
    n_rows, n_cols = frame.shape
    if n_cols == 0 or n_rows < 2:
        raise DataError(
            f"frame must have at least 1 column and at least 2 rows; got {n_rows} rows x "
            f"{n_cols} columns. Pass the real covariate table to fit."
        )
    dup = list(frame.columns[frame.columns.duplicated()].unique())
    if dup:
        raise DataError(f"frame has duplicated column names {dup}; every name must be unique. "
                        "Rename the columns.")
    kinds = covariate_kinds(frame)
    problems = []
    missing = frame.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        listed = ", ".join(f"{name!r} ({count})" for name, count in missing.items())
        problems.append(f"frame has missing values in columns {listed}; every value must be "
                        "present. Drop or impute the missing values before fitting.")
    infinite = {name: int(np.isinf(frame[name].to_numpy(dtype=np.float64)).sum())
                for name, kind in kinds.items() if kind == "continuous"}
    infinite = {name: count for name, count in infinite.items() if count}
    if infinite:
        listed = ", ".join(f"{name!r} ({count})" for name, count in infinite.items())
        problems.append(f"frame has infinite values in columns {listed}; values must be "
                        "finite. Replace or drop them before fitting.")
    if problems:
        raise DataError(" ".join(problems), problems)


@dataclass(frozen=True)
class _Column:
    """What sampling needs to rebuild one column: kind, dtype, bounds, categories."""

    name: Hashable
    kind: str
    dtype: Any
    low: float = np.nan
    high: float = np.nan
    categories: np.ndarray | None = None


def _encode(frame: pd.DataFrame) -> tuple[list[_Column], list[np.ndarray]]:
    """Column descriptions and arrays: float64 values (numeric) or int codes (discrete)."""
    schema, arrays = [], []
    for name, kind in covariate_kinds(frame).items():
        series = frame[name]
        if kind in _NUMERIC:
            values = series.to_numpy(dtype=np.float64)
            schema.append(_Column(name, kind, series.dtype, values.min(), values.max()))
            arrays.append(values)
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes = series.cat.codes.to_numpy()
            categories = np.asarray(series.cat.categories, dtype=object)
        else:
            try:
                codes, uniques = pd.factorize(series, sort=True)
            except TypeError:  # values of mixed, unorderable types
                codes, uniques = pd.factorize(series, sort=False)
            categories = np.asarray(uniques, dtype=object)
        schema.append(_Column(name, kind, series.dtype, categories=categories))
        arrays.append(codes.astype(np.intp))
    return schema, arrays


def _decode(col: _Column, values: np.ndarray) -> Any:
    """Inverse of :func:`_encode` for one column, enforcing bounds and dtype."""
    if col.kind in _NUMERIC:
        values = np.clip(values, col.low, col.high)
        if col.kind == "integer":
            values = np.rint(values).astype(np.int64)
        if isinstance(col.dtype, np.dtype):
            return values.astype(col.dtype, copy=False)
        return pd.array(values, dtype=col.dtype)
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(values, dtype=col.dtype)
    labels = col.categories[values]
    if isinstance(col.dtype, np.dtype):
        return labels.astype(col.dtype, copy=False)
    return pd.array(labels, dtype=col.dtype)


class _BaseGenerator:
    """Shared validation and reconstruction of the fitted frame's layout."""

    def _start_fit(self, frame: pd.DataFrame) -> list[np.ndarray]:
        _validate_frame(frame)
        schema, arrays = _encode(frame)
        self.columns_ = frame.columns.copy()
        self.dtypes_ = frame.dtypes.copy()
        self.kinds_ = {col.name: col.kind for col in schema}
        self.n_rows_ = len(frame)
        self._schema_ = schema
        return arrays

    def _check_sample(self, n: Any) -> int:
        if not hasattr(self, "columns_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(frame) before sample."
            )
        return check_int("n", n, fix="Pass the number of rows to generate.")

    def _restored_layout(self, frame: pd.DataFrame, state: dict) -> None:
        """Rebuild the layout from the fitted frame and check it is the frame of ``state``."""
        self._start_fit(frame)
        if state.get("n_rows") != self.n_rows_ or state.get("columns") != [str(c) for c in self.columns_]:
            raise ValueError(f"the {type(self).__name__} state was fitted on another frame")

    def _layout_state(self) -> dict:
        return {"n_rows": int(self.n_rows_), "columns": [str(c) for c in self.columns_]}

    def _assemble(self, arrays: list[np.ndarray]) -> pd.DataFrame:
        data = {j: _decode(col, values)
                for j, (col, values) in enumerate(zip(self._schema_, arrays))}
        out = pd.DataFrame(data, copy=False)
        out.columns = self.columns_
        return out


class BootstrapGenerator(_BaseGenerator):
    """Resample real rows with replacement (a baseline, not a privacy-preserving generator).

    Every synthetic row is a copy of a real row, so it offers no privacy: ``fit`` warns
    with :class:`~causalsynth.errors.PrivacyWarning`.  Use it only as a baseline.

    Attributes
    ----------
    columns_, dtypes_, kinds_, n_rows_
        Layout of the fitted frame.
    """

    def __init__(self) -> None:
        pass

    def fit(self, frame: pd.DataFrame, *, random_state: RandomState = None) -> Self:
        """Store a copy of ``frame`` (``random_state`` is accepted and unused)."""
        self._start_fit(frame)
        warnings.warn(
            "BootstrapGenerator copies real rows into the synthetic data and offers no "
            "privacy; use it only as a baseline, never to release data.",
            PrivacyWarning,
            stacklevel=2,
        )
        self._rows_ = frame.reset_index(drop=True).copy()
        return self

    def sample(self, n: int, *, random_state: RandomState = None) -> pd.DataFrame:
        """Draw ``n`` real rows with replacement (fresh draw when ``random_state`` is None)."""
        n = self._check_sample(n)
        index = as_generator(random_state).integers(0, self.n_rows_, size=n)
        return self._rows_.iloc[index].reset_index(drop=True)

    def to_state(self) -> dict:
        """The fitted state apart from the frame it was fitted on (which is all it keeps)."""
        return self._layout_state()

    @classmethod
    def from_state(cls, frame: pd.DataFrame, state: dict) -> BootstrapGenerator:
        """The generator fitted on ``frame`` (no warning: the caller saved it knowingly)."""
        gen = cls()
        gen._restored_layout(frame, state)
        gen._rows_ = frame.reset_index(drop=True).copy()
        return gen


def _positive_definite(corr: np.ndarray, floor: float) -> np.ndarray:
    """Floor the eigenvalues of ``corr`` at ``floor`` and rescale to a unit diagonal."""
    values, vectors = np.linalg.eigh((corr + corr.T) / 2.0)
    fixed = (vectors * np.maximum(values, floor)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(scale, scale)
    np.fill_diagonal(fixed, 1.0)
    return fixed


def _interpolate(sorted_values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse empirical CDF: linear interpolation at position ``u * (n - 1)`` (in place on u)."""
    last = len(sorted_values) - 1
    position = np.multiply(u, last, out=u)
    index = np.minimum(position.astype(np.intp), last - 1)
    position -= index  # fraction of the way to the next sorted value
    low = sorted_values[index]
    position *= sorted_values[index + 1] - low
    position += low
    return position


class GaussianCopulaGenerator(_BaseGenerator):
    """Gaussian copula with empirical marginals.

    Numeric columns use the inverse empirical CDF with linear interpolation between the
    sorted observed values (integer columns are then rounded), so samples are not limited
    to observed values but stay within ``[min, max]``.  Categorical and binary columns
    give every category an interval of ``[0, 1]`` as wide as its frequency.  In fitting,
    every value gets a normal score from a seeded uniform draw inside its interval (ties in
    numeric columns are handled the same way); the correlation of the scores, made positive
    definite, couples the columns.  Sampling draws correlated normals, maps them through
    the normal CDF and inverts the marginals.  Fully vectorized.

    Parameters
    ----------
    eigen_floor : float, default 1e-6
        Smallest eigenvalue allowed in the correlation matrix of the normal scores, in (0, 1).

    Attributes
    ----------
    correlation_ : ndarray of shape (n_columns, n_columns)
        Correlation of the normal scores, positive definite with unit diagonal.
    columns_, dtypes_, kinds_, n_rows_
        Layout of the fitted frame.

    Notes
    -----
    The fitted object stores the sorted real values of numeric columns, so it must be
    protected like the real data.
    """

    def __init__(self, *, eigen_floor: float = 1e-6) -> None:
        self.eigen_floor = eigen_floor

    def fit(self, frame: pd.DataFrame, *, random_state: RandomState = None) -> Self:
        """Fit marginals and the score correlation; ``random_state`` seeds the jitter."""
        floor = self.eigen_floor
        if isinstance(floor, (bool, np.bool_)) or not isinstance(floor, numbers.Real) \
                or not 0.0 < float(floor) < 1.0:
            raise SpecError(f"eigen_floor must be a number in (0, 1); got {floor!r}. "
                            "Use a small value such as 1e-6.")
        arrays = self._start_fit(frame)
        n = self.n_rows_
        jitter = as_generator(random_state).random((n, len(arrays)))
        scores = np.empty((n, len(arrays)))
        marginals = []
        for j, (col, values) in enumerate(zip(self._schema_, arrays)):
            if col.kind in _NUMERIC:
                marginal = np.sort(values)
                below = np.searchsorted(marginal, values, side="left")
                upto = np.searchsorted(marginal, values, side="right")
            else:
                counts = np.bincount(values, minlength=len(col.categories))
                edges = np.concatenate([[0], np.cumsum(counts)])
                below, upto = edges[values], edges[values + 1]
                marginal = edges[1:-1] / n  # category boundaries on [0, 1]
            uniform = (below + jitter[:, j] * (upto - below)) / n
            scores[:, j] = ndtri(np.clip(uniform, 1e-10, 1.0 - 1e-10))
            marginals.append(marginal)
        corr = np.atleast_2d(np.corrcoef(scores, rowvar=False))
        self.correlation_ = _positive_definite(corr, float(floor))
        self._cholesky_ = np.linalg.cholesky(self.correlation_)
        self._marginals_ = marginals
        return self

    def sample(self, n: int, *, random_state: RandomState = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows (fresh randomness when ``random_state`` is None)."""
        n = self._check_sample(n)
        rng = as_generator(random_state)
        normals = self._cholesky_ @ rng.standard_normal((len(self._schema_), n))
        uniforms = ndtr(normals, out=normals)
        arrays = []
        for col, marginal, u in zip(self._schema_, self._marginals_, uniforms):
            if col.kind in _NUMERIC:
                arrays.append(_interpolate(marginal, u))
            else:
                arrays.append(np.searchsorted(marginal, u, side="right"))
        return self._assemble(arrays)

    def to_state(self) -> dict:
        """The fitted state apart from the frame: correlation, its Cholesky factor, marginals."""
        return {**self._layout_state(), "eigen_floor": float(self.eigen_floor),
                "correlation": self.correlation_, "cholesky": self._cholesky_,
                "marginals": list(self._marginals_)}

    @classmethod
    def from_state(cls, frame: pd.DataFrame, state: dict) -> GaussianCopulaGenerator:
        """The generator fitted on ``frame`` with the saved ``state`` (ValueError if inconsistent)."""
        gen = cls(eigen_floor=state["eigen_floor"])
        gen._restored_layout(frame, state)
        k = len(gen._schema_)
        corr, chol, marginals = state["correlation"], state["cholesky"], state["marginals"]
        square = all(isinstance(m, np.ndarray) and m.shape == (k, k) and m.dtype == np.float64
                     for m in (corr, chol))
        if not square or not isinstance(marginals, list) or len(marginals) != k:
            raise ValueError(f"a copula of {k} columns needs ({k}, {k}) matrices and {k} marginals")
        for col, m in zip(gen._schema_, marginals):
            size = gen.n_rows_ if col.kind in _NUMERIC else len(col.categories) - 1
            if not (isinstance(m, np.ndarray) and m.dtype == np.float64 and m.shape == (size,)):
                raise ValueError(f"the copula marginal of {col.name!r} should hold {size} floats")
        gen.correlation_, gen._cholesky_, gen._marginals_ = corr, chol, marginals
        return gen


class _DeepGenerator(_BaseGenerator):
    """Common code of the wrappers around the ``ctgan`` package (work done in ``_deep``)."""

    _family = ""

    def __init__(self, *, epochs: int = 300, batch_size: int = 500, progress: bool = False,
                 device: Any = "auto", **model_kwargs: Any) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.progress = progress
        self.device = device
        self.model_kwargs = model_kwargs

    def fit(self, frame: pd.DataFrame, *, random_state: RandomState = None) -> Self:
        """Train the network on ``frame``; the same ``random_state`` gives the same model."""
        return _deep.fit_generator(self, frame, random_state)

    def sample(self, n: int, *, random_state: RandomState = None) -> pd.DataFrame:
        """Draw ``n`` rows; the same ``random_state`` gives the same rows (fresh when None)."""
        return _deep.sample_generator(self, n, random_state)


class CTGANGenerator(_DeepGenerator):
    __doc__ = _deep.DOC.format(
        summary="Conditional tabular GAN (``ctgan.CTGAN``) with dtype-preserving post-processing.",
        batch_rule="; even and a multiple of ``pac`` (default 10)", kwargs_name="ctgan_kwargs",
        model="CTGAN")
    _family = "ctgan"

    def __init__(self, *, epochs: int = 300, batch_size: int = 500, progress: bool = False,
                 device: Any = "auto", **ctgan_kwargs: Any) -> None:
        super().__init__(epochs=epochs, batch_size=batch_size, progress=progress,
                         device=device, **ctgan_kwargs)


class TVAEGenerator(_DeepGenerator):
    __doc__ = _deep.DOC.format(
        summary="Tabular variational autoencoder (``ctgan.TVAE``) with dtype-preserving "
                "post-processing.", batch_rule="", kwargs_name="kwargs", model="TVAE")
    _family = "tvae"


COVARIATE_GENERATORS: dict[str, type] = {
    "bootstrap": BootstrapGenerator,
    "copula": GaussianCopulaGenerator,
    "ctgan": CTGANGenerator,
    "tvae": TVAEGenerator,
}


def _follows_protocol(obj: Any) -> bool:
    return callable(getattr(obj, "fit", None)) and callable(getattr(obj, "sample", None))


def _construct(cls: type, name: str, kwargs: dict):
    """Instantiate ``cls`` with ``kwargs``, naming unknown options instead of a TypeError."""
    import inspect
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return cls(**kwargs)
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        known = [k for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            raise SpecError(f"generator {name!r} has no option(s) {unknown}; its options are "
                            f"{known or 'none'}" + (" (epochs apply to ctgan and tvae)"
                                                    if "epochs" in unknown else ""))
    return cls(**kwargs)


def make_covariate_generator(spec: Any, **kwargs: Any) -> Any:
    """Return a covariate generator from a registry name, a class or an object.

    Parameters
    ----------
    spec : str, class or object
        A name in :data:`COVARIATE_GENERATORS` (``"bootstrap"``, ``"copula"``, ``"ctgan"``,
        ``"tvae"``), a class with ``fit`` and ``sample`` (instantiated with ``kwargs``), or
        an object with callable ``fit(frame, *, random_state=None)`` and
        ``sample(n, *, random_state=None)``, returned unchanged.
    **kwargs
        Keyword arguments of the generator's constructor (names and classes only).

    Returns
    -------
    CovariateGenerator
        An unfitted generator (or ``spec`` itself when it is an object).

    Raises
    ------
    SpecError
        Unknown name, an object lacking ``fit``/``sample``, or ``kwargs`` given with an object.
    """
    valid = ", ".join(repr(name) for name in COVARIATE_GENERATORS)
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key not in COVARIATE_GENERATORS:
            raise SpecError(f"generator must be one of {valid} or an object with fit and "
                            f"sample methods; got {spec!r}. Use one of the listed names.")
        return _construct(COVARIATE_GENERATORS[key], key, kwargs)
    if not _follows_protocol(spec):
        raise SpecError(
            f"generator must be one of {valid} or follow the CovariateGenerator protocol "
            "(callable fit(frame, *, random_state=None) returning self and "
            f"sample(n, *, random_state=None) returning a DataFrame); got "
            f"{type(spec).__name__} without them. Pass a name or implement both methods.")
    if isinstance(spec, type):
        return _construct(spec, spec.__name__, kwargs)
    if kwargs:
        raise SpecError(f"keyword arguments {sorted(kwargs)} apply only when generator is a "
                        "name or a class; got an object. Configure the object yourself.")
    return spec
