"""Small, fast generalized linear models (Gaussian identity, binomial logit) in numpy.

They give the maximum-likelihood fits that statsmodels' GLM gives, an order of magnitude
faster on the small designs a simulation refits thousands of times, and they expose what
the delta method needs (bread matrix and score contributions) for influence-function
standard errors of g-computation.

Scale invariance. Every fit runs on an internally standardized design ``Z = X T``: each
non-constant column is centred (when the design holds a constant column, the intercept)
and divided by its standard deviation, the intercept is kept, and a column constant on the
fitting rows becomes zero. ``T`` is invertible, so the model is the same one; the
coefficients and the bread matrix are mapped back to the user's columns
(``coef = T gamma``, ``bread = T B_Z T'``). Predictions, derivatives and influence
contributions computed from them are then the same, to rounding, whatever unit a covariate
is measured in (cents or dollars, seconds or years).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import expit

from .errors import ConvergenceWarning, EstimationError, SingularDesignWarning

Family = Literal["gaussian", "binomial"]

__all__ = ["GLMFit", "fit_glm", "SEPARATION_ETA", "CONDITION_LIMIT"]

#: A fitted linear predictor beyond this (probability within 1e-13 of 0 or 1) signals
#: (quasi-)complete separation.
SEPARATION_ETA = 30.0
#: Condition number of the standardized X'X above which a design is called near-singular.
CONDITION_LIMIT = 1e10
#: A column whose range is below this fraction of its magnitude is constant.
_CONSTANT_RTOL = 1e-13


@dataclass(frozen=True)
class GLMFit:
    """A fitted GLM; ``coef`` and ``bread`` refer to the columns of the design as given."""

    family: Family
    coef: np.ndarray  # (p,)
    bread: np.ndarray  # inverse of X' W X, (p, p)
    converged: bool
    separated: bool
    n_iter: int
    condition: float = 1.0  # of the standardized X'X over its non-constant columns
    #: the fit on its own standardized design (None for a fit restored from a saved state)
    standardized: _Standardized | None = field(default=None, compare=False, repr=False)
    bread_z: np.ndarray | None = field(default=None, compare=False, repr=False)

    def linear_predictor(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef

    def predict(self, X: np.ndarray) -> np.ndarray:
        eta = X @ self.coef
        return expit(eta) if self.family == "binomial" else eta

    def mean_derivative(self, X: np.ndarray) -> np.ndarray:
        """d mean / d eta at each row of X."""
        if self.family == "binomial":
            p = expit(X @ self.coef)
            return p * (1.0 - p)
        return np.ones(X.shape[0])

    def coef_influence(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-row influence of the fitting rows on ``coef``: bread @ x_i (y_i - mu_i).

        Summing outer products of these rows gives the HC0 sandwich covariance.
        """
        resid = y - self.predict(X)
        return (X * resid[:, None]) @ self.bread

    def _z(self, X: np.ndarray) -> np.ndarray:
        """``X`` in the coordinates of the fit's standardized design (``X`` itself without one)."""
        return X if self.standardized is None else self.standardized.apply(X)

    def delta_influence(self, X_fit: np.ndarray, y_fit: np.ndarray,
                        targets: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
        """Per fitting row, the delta-method influence of the coefficients on
        :math:`\\sum_s c_s\\,\\mathrm{mean}\\{\\mu(X_s)\\}` for ``targets`` = pairs ``(c_s, X_s)``:
        :math:`g' B x_i (y_i - \\mu_i)` with :math:`g` the gradient of that sum in the coefficients.

        It is computed on the fit's standardized design, where ``g`` and ``B`` are well scaled:
        on the user's columns a covariate far from zero (a location of 1e8) makes ``B`` hold
        entries of 1e16 that cancel in the product, so the result would depend on the origin
        of the covariate. The two are equal in exact arithmetic.
        """
        bread = self.bread if self.bread_z is None else self.bread_z
        grad = sum(c * (self.mean_derivative(X)[:, None] * self._z(X)).mean(0) for c, X in targets)
        resid = y_fit - self.predict(X_fit)
        return (self._z(X_fit) * resid[:, None]) @ (bread @ grad)

    def to_state(self) -> dict:
        """The fit as JSON values and arrays (for the array file format of synthesizers)."""
        return {"family": self.family, "coef": np.asarray(self.coef, dtype=np.float64),
                "bread": np.asarray(self.bread, dtype=np.float64), "converged": bool(self.converged),
                "separated": bool(self.separated), "n_iter": int(self.n_iter),
                "condition": float(self.condition), "bread_z": self.bread_z,
                "standardized": None if self.standardized is None else self.standardized.to_state()}

    @classmethod
    def from_state(cls, state: dict) -> GLMFit:
        """Inverse of :meth:`to_state`; ValueError when the state is not a GLM fit."""
        family, coef, bread = state["family"], state["coef"], state["bread"]
        flags = (state["converged"], state["separated"])
        if family not in ("gaussian", "binomial"):
            raise ValueError(f"unknown GLM family {family!r}")
        if not (isinstance(coef, np.ndarray) and coef.ndim == 1 and coef.dtype == np.float64
                and isinstance(bread, np.ndarray) and bread.shape == (len(coef), len(coef))
                and bread.dtype == np.float64):
            raise ValueError("a GLM needs a float64 coef (p,) and bread (p, p)")
        if not all(isinstance(f, bool) for f in flags) or type(state["n_iter"]) is not int:
            raise ValueError("GLM flags must be booleans and n_iter an integer")
        # condition, standardized design and bread_z: absent from files of causalsynth <= 0.2
        condition = float(state.get("condition", 1.0))
        std = state.get("standardized")
        std = None if std is None else _Standardized.from_state(std, len(coef))
        bread_z = state.get("bread_z")
        if bread_z is not None and not (isinstance(bread_z, np.ndarray) and bread_z.dtype == np.float64
                                        and bread_z.shape == bread.shape):
            raise ValueError("a GLM's bread_z must be a float64 (p, p) array")
        return cls(family, coef, bread, flags[0], flags[1], state["n_iter"], condition, std, bread_z)


@dataclass(frozen=True)
class _Standardized:
    """The fitting design ``Z = X T`` and what it takes to map back to ``X``'s columns."""

    Z: np.ndarray
    T: np.ndarray
    intercept: int | None  # the column kept as the intercept (constant, non-zero)
    constant: np.ndarray  # bool (p,): other columns constant on the fitting rows (zero in Z)
    centre: np.ndarray | None = None  # (p,) subtracted from each column (0 for the intercept)
    scale: np.ndarray | None = None  # (p,) then divided by

    def to_state(self) -> dict:
        """What :meth:`apply` needs (the fitting design ``Z`` itself is not kept)."""
        return {"n_rows": int(self.Z.shape[0]), "T": self.T, "intercept": self.intercept,
                "constant": self.constant, "centre": self.centre, "scale": self.scale}

    @classmethod
    def from_state(cls, state: dict, p: int) -> _Standardized:
        T, constant, intercept = state["T"], state["constant"], state["intercept"]
        vectors = [v for v in (state["centre"], state["scale"]) if v is not None]
        if not (isinstance(T, np.ndarray) and T.shape == (p, p) and isinstance(constant, np.ndarray)
                and constant.dtype == np.bool_ and constant.shape == (p,) and type(state["n_rows"]) is int
                and (intercept is None or type(intercept) is int)
                and all(isinstance(v, np.ndarray) and v.shape == (p,) for v in vectors)):
            raise ValueError("a GLM's standardized design does not fit its coefficients")
        return cls(np.empty((state["n_rows"], p)), T, intercept, constant, state["centre"], state["scale"])

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Other rows of the same columns in the standardized coordinates (``X T`` without
        the cancellation of forming it from ``T``)."""
        Z = (np.asarray(X, dtype=float) - self.centre) / self.scale
        Z[:, self.constant] = 0.0
        return Z


def _standardize(X: np.ndarray, intercept: int | None) -> _Standardized:
    """Centre and scale every non-constant column; keep the intercept; zero other constants.

    ``intercept`` is the index of a known intercept column, or None to look for a constant
    non-zero column (formula designs carry their own). Without one, columns are only scaled
    (by their root mean square), since centring would change the model.
    """
    n = X.shape[0]
    cols = np.ascontiguousarray(X.T)  # one row per column: fast reductions
    lo, hi, mean = cols.min(axis=1), cols.max(axis=1), cols.mean(axis=1)
    constant = (hi - lo) <= _CONSTANT_RTOL * np.maximum(np.abs(lo), np.abs(hi))  # zero columns too
    if intercept is None:
        candidates = np.flatnonzero(constant & (hi != 0))
        ones = [j for j in candidates if hi[j] == 1.0]
        intercept = int(ones[0]) if ones else (int(candidates[0]) if len(candidates) else None)
    varying = ~constant
    centre = np.zeros(X.shape[1])
    if intercept is not None:
        constant[intercept] = False
        varying[intercept] = False
        centre = np.where(constant, hi, np.where(varying, mean, 0.0))
    dev = cols - centre[:, None]
    scale = np.where(varying, np.sqrt(np.einsum("ij,ij->i", dev, dev) / n), 1.0)
    dev /= scale[:, None]
    dev[constant] = 0.0  # exactly: a constant column carries nothing beyond the intercept
    Z = dev.T  # F-ordered: the products below are fastest this way
    T = np.diag(1.0 / scale)
    if intercept is not None:
        T[intercept, :] -= centre / (scale * hi[intercept])
        T[intercept, intercept] = 1.0
    return _Standardized(Z, T, intercept, constant, centre, scale)


def _eigen(G: np.ndarray, std: _Standardized) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decomposition of ``G / n`` (``G`` the standardized X'X) over its non-constant
    columns: (indices of those columns, eigenvalues ascending, eigenvectors)."""
    keep = np.flatnonzero(~std.constant)
    if not len(keep):
        return keep, np.ones(1), np.eye(1)
    ev, vec = np.linalg.eigh(G[np.ix_(keep, keep)] / std.Z.shape[0])
    return keep, ev, vec


def _pinv_from_eigen(p: int, keep: np.ndarray, ev: np.ndarray, vec: np.ndarray, n: int) -> np.ndarray:
    """The pseudo-inverse of ``G`` from :func:`_eigen` (numpy's cut-off, 1e-15 of the largest
    eigenvalue; constant columns are exact zeros of ``G`` and get zero rows and columns)."""
    out = np.zeros((p, p))
    if not len(keep):
        return out
    large = np.abs(ev) > 1e-15 * np.max(np.abs(ev))
    v = vec[:, large]
    out[np.ix_(keep, keep)] = (v / (ev[large] * n)) @ v.T
    return out


def _condition(keep: np.ndarray, ev: np.ndarray, vec: np.ndarray, std: _Standardized,
               names: Sequence[str]) -> tuple[float, str | None]:
    """Condition number of the standardized X'X over its non-constant columns, and a
    warning message naming the constant and the (nearly) collinear columns, if any."""
    top = max(float(ev[-1]), np.finfo(float).tiny)
    small = ev <= top / CONDITION_LIMIT
    cond = float("inf") if ev[0] <= top * 1e-15 else top / float(ev[0])
    if not small.any() and not std.constant.any():
        return cond, None
    parts = []
    if std.constant.any():
        cols = [names[j] for j in np.flatnonzero(std.constant)]
        parts.append(f"{_listing(cols)} {'is' if len(cols) == 1 else 'are'} constant on the "
                     "fitting rows (no information beyond the intercept)")
    if small.any():
        load = np.abs(vec[:, small]).max(axis=1)
        cols = [names[keep[j]] for j in np.flatnonzero(load > 0.1)]
        parts.append(f"{_listing(cols)} are (nearly) collinear (condition number "
                     f"{'inf' if not np.isfinite(cond) else f'{cond:.2g}'} of the standardized X'X)")
    return cond, ("the GLM design is singular or nearly so: " + "; ".join(parts) +
                  ". Their coefficients are not identified (fitted values are, and are kept); "
                  "predictions outside the fitting rows may be arbitrary. Drop or combine those columns.")


def _listing(cols: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in cols[:8])
    return ("column " if len(cols) == 1 else "columns ") + shown + (f" and {len(cols) - 8} more" if len(cols) > 8 else "")


def _column_names(names: Sequence[str] | None, p: int, intercept: bool) -> list[str]:
    if names is None:
        names = [f"x{j}" for j in range(p - intercept)]
    names = [str(n) for n in names]
    if len(names) != p - intercept:
        raise EstimationError(f"{len(names)} column names for a design of {p - intercept} columns")
    return (["intercept"] if intercept else []) + names


def fit_glm(X: np.ndarray, y: np.ndarray, family: Family, *, intercept: bool = True,
            max_iter: int = 100, tol: float = 1e-10, ridge: float = 0.0,
            names: Sequence[str] | None = None) -> GLMFit:
    """Maximum-likelihood GLM by least squares (Gaussian) or Newton-IRLS (binomial).

    Parameters
    ----------
    X : array (n, p) without intercept when ``intercept=True``.
    y : array (n,)
    family : "gaussian" or "binomial"
    ridge : small L2 penalty on the standardized slopes (0 = plain maximum likelihood).
    names : the columns of ``X``, used in the warning on a singular design.

    The fit runs on the standardized design (see the module docstring) and is reported on
    the columns of ``X``. Constant and collinear columns are handled with a pseudo-inverse
    (the fitted values are unique even when the coefficients are not) and named in a
    :class:`~causalsynth.errors.SingularDesignWarning`.
    """
    X = np.asarray(X, dtype=float)
    Xd = np.hstack([np.ones((X.shape[0], 1)), X]) if intercept else X
    n, p = Xd.shape
    if n == 0:
        raise EstimationError("cannot fit a model on zero rows")
    std = _standardize(Xd, 0 if intercept else None)
    Z = std.Z
    G = Z.T @ Z
    keep, ev, vec = _eigen(G, std)
    cond, problem = _condition(keep, ev, vec, std, _column_names(names, p, intercept))
    if problem:
        warnings.warn(problem, SingularDesignWarning, stacklevel=3)
    pen = np.where(std.constant, 0.0, ridge)
    if std.intercept is not None:
        pen[std.intercept] = 0.0
    if family == "gaussian":
        bread_z = (np.linalg.pinv(G + np.diag(pen), hermitian=True) if ridge
                   else _pinv_from_eigen(p, keep, ev, vec, n))
        gamma = bread_z @ (Z.T @ y)
        return _on_user_scale("gaussian", std, gamma, bread_z, True, False, 1, cond)
    return _fit_binomial(std, y, pen, max_iter, tol, cond)


def _on_user_scale(family, std, gamma, bread_z, converged, separated, n_iter, cond) -> GLMFit:
    """The fit of ``Z = X T`` reported on ``X``: coef = T gamma, bread = T B_Z T' (the
    standardized fit is kept beside them for :meth:`GLMFit.delta_influence`)."""
    T = std.T
    bread = T @ bread_z @ T.T
    light = _Standardized(np.empty((0, T.shape[0])), T, std.intercept, std.constant, std.centre, std.scale)
    return GLMFit(family, T @ gamma, 0.5 * (bread + bread.T), converged, separated, n_iter, cond,
                  light, 0.5 * (bread_z + bread_z.T))


def _fit_binomial(std: _Standardized, y: np.ndarray, pen: np.ndarray, max_iter: int, tol: float,
                  cond: float) -> GLMFit:
    """Logit link: Newton steps with step halving on the penalized deviance, on ``std.Z``."""
    Xd = std.Z
    p = Xd.shape[1]
    coef = np.zeros(p)
    ybar = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    if std.intercept is not None:
        coef[std.intercept] = np.log(ybar / (1 - ybar)) / Xd[0, std.intercept]

    def objective(b: np.ndarray) -> float:
        eta = Xd @ b
        # negative log-likelihood, computed stably
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(pen * b * b))

    obj = objective(coef)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        eta = Xd @ coef
        mu = expit(eta)
        w = mu * (1 - mu)
        grad = Xd.T @ (y - mu) - pen * coef
        hess = (Xd * w[:, None]).T @ Xd + np.diag(pen)
        try:
            step = np.linalg.solve(hess + 1e-12 * np.eye(p), grad)
        except np.linalg.LinAlgError:
            step = np.linalg.pinv(hess) @ grad
        t = 1.0
        while True:
            cand = coef + t * step
            cand_obj = objective(cand)
            if cand_obj <= obj + 1e-12 or t < 1e-8:
                break
            t *= 0.5
        if cand_obj > obj + 1e-12:  # no descent even with tiny steps: stop where we are
            break
        change = obj - cand_obj
        coef, obj = cand, cand_obj
        if abs(change) <= tol * (abs(obj) + tol) or np.max(np.abs(t * step)) < 1e-9:
            converged = True
            break
        if np.max(np.abs(Xd @ coef)) > 3 * SEPARATION_ETA:
            break
    eta = Xd @ coef
    separated = bool(np.max(np.abs(eta)) > SEPARATION_ETA)
    if not converged and not separated:
        warnings.warn(f"logistic regression did not converge in {max_iter} Newton steps",
                      ConvergenceWarning, stacklevel=4)
    mu = expit(eta)
    w = mu * (1 - mu)
    hess = (Xd * w[:, None]).T @ Xd + np.diag(pen)
    return _on_user_scale("binomial", std, coef, np.linalg.pinv(hess, hermitian=True),
                          converged, separated, it, cond)
