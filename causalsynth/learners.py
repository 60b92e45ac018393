"""Nuisance learners: presets, scikit-learn estimators and statsmodels-style formulas.

A learner is given as

* a preset name from :data:`LEARNER_PRESETS`: ``"logistic"`` and ``"linear"`` (main-terms
  GLMs fitted by maximum likelihood, categoricals one-hot), ``"gbm"`` (gradient boosting
  with LightGBM on one thread), ``"hgb"`` (scikit-learn's histogram gradient boosting, the
  ``gbm`` preset of earlier releases), ``"superlearner"`` (a stacked, cross-validated ensemble of a GLM, a random
  forest and gradient boosting);
* any scikit-learn estimator (a classifier with ``predict_proba`` for the propensity and for
  binary outcomes; a regressor otherwise), cloned for every fit;
* a formula string such as ``"qsmk ~ sex + age + I(age**2) + C(education)"`` (patsy syntax,
  as in ``statsmodels.formula.api``), fitted as a GLM: logistic for binary targets, linear
  otherwise. Its Python is checked first (:func:`check_formula_code`): column names, numbers,
  arithmetic, comparisons, ``log``/``exp``/``sqrt``/``abs`` (also ``np.log`` ...), ``I``,
  ``C`` with contrasts, ``Q``, splines and ``center``/``standardize``/``scale``; patsy then
  sees only these functions, never the builtins or a module. An outcome formula whose right-hand side uses the treatment column is one
  pooled model over both arms (predictions at A=1 and A=0 set the column); otherwise every
  outcome learner is fitted separately in each arm.

Any preset or scikit-learn outcome learner can also be pooled: ``pooled("gbm")`` (or the
string ``"pooled:gbm"``, handy on the command line) fits one model on both arms with the
treatment as an extra feature (an "S-learner"), instead of one model per arm (a
"T-learner", the default). Pooling halves the outcome fits. It is what zepid and most
g-computation code do; the price is that a regularized learner may shrink the treatment
contrast towards zero, which the AIPW/TMLE correction repairs but OR does not.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._checks import EXPR_FUNCTIONS, FORMULA_FUNCTIONS, check_expression
from ._glm import GLMFit, fit_glm
from ._random import seed_int
from .data import CausalData, main_terms
from .errors import EstimationError, SpecError

__all__ = ["LEARNER_PRESETS", "Learner", "resolve_learner", "FittedModel", "pooled", "Pooled", "learner_class",
           "fitted_model_state", "fitted_model_from_state", "check_formula_code"]

Role = Literal["propensity", "outcome"]


@dataclass(frozen=True)
class Pooled:
    """An outcome learner fitted once on both arms with the treatment as a feature."""

    learner: Any

    def __repr__(self) -> str:
        return f"pooled({self.learner!r})"


def pooled(learner: Any) -> Pooled:
    """Mark an outcome learner (preset name or scikit-learn estimator) as pooled over arms.

    ``estimate(data, outcome=pooled("gbm"))`` fits one gradient-boosting model on all rows
    with the treatment as a feature and predicts at A=1 and A=0. Formulas pool by naming the
    treatment on their right-hand side instead.
    """
    if isinstance(learner, Pooled):
        return learner
    return Pooled(learner)


def _with_treatment(X: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The pooled design: the covariate design with the treatment as the last column."""
    return np.hstack([X, np.asarray(values, dtype=float).reshape(-1, 1)])


#: The ``gbm`` preset: LightGBM, one thread, deterministic. 100 trees of at most 15 leaves,
#: learning rate 0.1, at least 20 rows a leaf, 63 histogram bins. The cost of a boosting
#: iteration at these sizes is mostly the per-bin split search, not the rows, so fewer bins
#: and half the iterations at twice the rate cost about a fifth of the ``hgb`` preset's fit
#: with estimates as good (benchmarks/README.md, "The gbm preset").
GBM_PARAMS = dict(n_estimators=100, learning_rate=0.1, num_leaves=15, min_child_samples=20, max_bin=63)
#: The ``hgb`` preset: scikit-learn's histogram gradient boosting, the ``gbm`` preset of earlier releases
HGB_PARAMS = dict(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
                  early_stopping=False)


def _lightgbm(target_type: str, seed: int, params: dict) -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # a core dependency; an environment may still lack it
        raise SpecError("the 'gbm' preset and the flexible learner need the package lightgbm, which is not "
                        f"installed ({exc}). Fix: pip install lightgbm, or choose the preset 'hgb' "
                        "(scikit-learn's histogram gradient boosting).") from None
    cls = lightgbm.LGBMClassifier if target_type == "binary" else lightgbm.LGBMRegressor
    # one thread and deterministic: results never depend on n_jobs or on the machine's cores
    return cls(**params, random_state=seed, n_jobs=1, deterministic=True, force_col_wise=True,
               verbose=-1)


def _gbm(target_type: str, seed: int) -> Any:
    return _lightgbm(target_type, seed, GBM_PARAMS)


def _hgb(target_type: str, seed: int) -> Any:
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    cls = HistGradientBoostingClassifier if target_type == "binary" else HistGradientBoostingRegressor
    return cls(**HGB_PARAMS, random_state=seed)


def _superlearner(target_type: str, seed: int) -> Any:
    from sklearn.ensemble import (
        RandomForestClassifier,
        RandomForestRegressor,
        StackingClassifier,
        StackingRegressor,
    )
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if target_type == "binary":
        base = [
            ("glm", make_pipeline(StandardScaler(), LogisticRegression(C=1e4, max_iter=2000))),
            ("rf", RandomForestClassifier(n_estimators=200, min_samples_leaf=10, random_state=seed)),
            ("gbm", _gbm("binary", seed)),
        ]
        return StackingClassifier(base, final_estimator=LogisticRegression(max_iter=2000),
                                  cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                                  stack_method="predict_proba")
    base = [
        ("glm", LinearRegression()),
        ("rf", RandomForestRegressor(n_estimators=200, min_samples_leaf=10, random_state=seed)),
        ("gbm", _gbm("continuous", seed)),
    ]
    return StackingRegressor(base, final_estimator=LinearRegression(positive=True),
                             cv=KFold(5, shuffle=True, random_state=seed))


def _spline_basis() -> Any:
    """Additive cubic splines of every standardized column plus all pairwise products."""
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler
    return make_pipeline(StandardScaler(), make_union(
        SplineTransformer(n_knots=5, degree=3, extrapolation="linear"),
        PolynomialFeatures(2, interaction_only=True, include_bias=False)))


#: The boosted half of the flexible world's learner (LightGBM like the ``gbm`` preset, with
#: other settings: more, shallower-rate trees, smaller leaves, an L2 penalty and finer bins).
FLEXIBLE_BOOST_PARAMS = dict(n_estimators=150, learning_rate=0.08, num_leaves=15, min_child_samples=15,
                             reg_lambda=1.0, max_bin=127)


def _flexible(target_type: str, seed: int) -> Any:
    """The flexible world's learner: a 3-fold cross-validated stack of gradient boosting (its
    own settings, not the ``gbm`` preset's) and a penalized spline-and-interaction GLM. It
    belongs to neither candidate class (main-terms GLM, the ``gbm`` preset), so a simulation
    world built from it gives no candidate a home advantage."""
    from sklearn.ensemble import StackingClassifier, StackingRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    boosting = _lightgbm(target_type, seed, FLEXIBLE_BOOST_PARAMS)
    if target_type == "binary":
        base = [("boosting", boosting),
                ("splines", make_pipeline(_spline_basis(), LogisticRegression(C=0.1, max_iter=3000)))]
        return StackingClassifier(base, final_estimator=LogisticRegression(max_iter=2000),
                                  cv=StratifiedKFold(3, shuffle=True, random_state=seed),
                                  stack_method="predict_proba")
    base = [("boosting", boosting),
            ("splines", make_pipeline(_spline_basis(), RidgeCV(alphas=np.logspace(-1, 4, 11))))]
    return StackingRegressor(base, final_estimator=LinearRegression(positive=True),
                             cv=KFold(3, shuffle=True, random_state=seed))


#: Preset learner names and what they build.
LEARNER_PRESETS: dict[str, str] = {
    "logistic": "main-terms logistic regression (maximum likelihood)",
    "linear": "main-terms linear regression (least squares)",
    "gbm": "gradient boosting (LightGBM, one thread: 100 trees of 15 leaves, learning rate 0.1)",
    "hgb": "histogram gradient boosting (scikit-learn: 200 trees of 15 leaves, learning rate 0.05)",
    "superlearner": "stacked ensemble of GLM, random forest and gradient boosting, 5-fold CV",
    "flexible": "stack of gradient boosting and a spline-and-interaction GLM, 3-fold CV",
}
#: Builders of the scikit-learn presets: (target type, integer seed) -> unfitted estimator.
_SKLEARN_PRESETS = {"gbm": _gbm, "hgb": _hgb, "superlearner": _superlearner, "flexible": _flexible}


@dataclass(frozen=True)
class Learner:
    """A resolved learner specification (not fitted)."""

    kind: Literal["glm", "sklearn", "formula"]
    description: str
    family: Literal["gaussian", "binomial"] = "gaussian"
    estimator: Any = None
    preset: str | None = None
    formula: str | None = None
    pooled: bool = False  # one model over both arms, the treatment a feature
    role: Role = "outcome"

    @property
    def parametric(self) -> bool:
        return self.kind in ("glm", "formula")

    def make_estimator(self, seed: int) -> Any:
        """A fresh, unfitted scikit-learn estimator for a preset or user estimator (cloned,
        seeded with ``seed`` when it has an unset ``random_state``)."""
        if self.kind != "sklearn":
            raise SpecError(f"learner {self.description!r} is a GLM, not a scikit-learn estimator")
        if self.preset is not None:
            return _SKLEARN_PRESETS[self.preset]("binary" if self.family == "binomial" else "continuous", seed)
        from sklearn.base import clone
        est = clone(self.estimator)
        if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
            est.set_params(random_state=seed)
        return est

    def fit(self, data: CausalData, rows: np.ndarray, target: np.ndarray,
            seed: np.random.SeedSequence) -> FittedModel:
        """Fit on ``rows`` (positions into ``data``) against ``target`` (values for those rows)."""
        return _KINDS[self.kind].fit(self, data, rows, target, seed)


class _Rows:
    """Covariate rows a design is built on: positions into a CausalData (whose main-terms
    design is cached) or a frame with the columns and dtypes of ``template``."""

    def __init__(self, template: CausalData, *, rows: np.ndarray | None = None, frame: pd.DataFrame | None = None):
        self.template, self.rows, self.frame = template, rows, frame

    def table(self) -> pd.DataFrame:
        return self.template.take(self.rows) if self.frame is None else self.frame

    def main_terms(self) -> np.ndarray:
        t = self.template
        return t.design_matrix()[0][self.rows] if self.frame is None else \
            main_terms(self.frame, t.covariates, t.covariate_kinds)[0]

    def treatment(self) -> np.ndarray:
        t = self.template
        if self.frame is None:
            return t.a[self.rows]
        if t.treatment not in self.frame:
            raise SpecError("a pooled outcome model needs a treatment value to predict at")
        return self.frame[t.treatment].to_numpy(dtype=float)

    def __len__(self) -> int:
        return len(self.rows) if self.frame is None else len(self.frame)


def _main_design(learner: Learner, X: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    """The main-terms design of a GLM or scikit-learn learner, without the intercept: the
    covariate block, with the treatment as the last column when pooled."""
    return _with_treatment(X, treatment) if learner.pooled else X


class _GLMKind:
    """A main-terms GLM (the ``logistic`` and ``linear`` presets)."""

    @staticmethod
    def fit(learner: Learner, data: CausalData, rows: np.ndarray, target: np.ndarray, seed) -> FittedModel:
        X, names = data.design_matrix()
        X = _main_design(learner, X[rows], data.a[rows])
        names = [*names, data.treatment] if learner.pooled else names
        return FittedModel(learner, glm=fit_glm(X, target, learner.family, names=names))

    @staticmethod
    def design(model: FittedModel, src: _Rows, treatment: Any) -> np.ndarray:
        X = _main_design(model.learner, src.main_terms(), treatment() if model.learner.pooled else None)
        return np.hstack([np.ones((X.shape[0], 1)), X])


class _FormulaKind:
    """A patsy formula fitted as a GLM (its own intercept and columns)."""

    @staticmethod
    def fit(learner: Learner, data: CausalData, rows: np.ndarray, target: np.ndarray, seed) -> FittedModel:
        design_info, X = _formula_design(learner.formula, data.take(rows), None)
        glm = fit_glm(X, target, learner.family, intercept=False, names=design_info.column_names)
        return FittedModel(learner, glm=glm, design_info=design_info)

    @staticmethod
    def design(model: FittedModel, src: _Rows, treatment: Any) -> np.ndarray:
        frame, t = src.table(), src.template
        if treatment.value is not None:
            frame = frame.assign(**{t.treatment: np.full(len(frame), int(treatment.value))})
        elif model.learner.pooled and t.treatment not in frame:
            raise SpecError("a pooled outcome model needs a treatment value to predict at")
        return _formula_design(None, frame, model.design_info)[1]


class _SklearnKind:
    """A scikit-learn estimator (a preset or the user's), cloned and seeded for every fit."""

    @staticmethod
    def fit(learner: Learner, data: CausalData, rows: np.ndarray, target: np.ndarray, seed) -> FittedModel:
        est = learner.make_estimator(seed_int(seed))
        X = _main_design(learner, data.design_matrix()[0][rows], data.a[rows])
        y = target.astype(int) if learner.family == "binomial" else target
        if len(np.unique(y)) < 2:
            if learner.role == "propensity":
                raise EstimationError("the training rows hold one treatment arm only; use fewer folds")
            # an arm (or a fold of it) whose outcome never varies: its regression is that constant
            return FittedModel(learner, constant=float(y[0]))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
            est.fit(X, y)
        return FittedModel(learner, estimator=est)

    @staticmethod
    def design(model: FittedModel, src: _Rows, treatment: Any) -> np.ndarray:
        return _main_design(model.learner, src.main_terms(), treatment() if model.learner.pooled else None)


class _Treatment:
    """The treatment column of a design: a fixed value, or (None) the rows' own values."""

    def __init__(self, src: _Rows, value: float | None) -> None:
        self.src, self.value = src, value

    def __call__(self) -> np.ndarray:
        return self.src.treatment() if self.value is None else np.full(len(self.src), float(self.value))


#: What each kind of learner does: fit on rows of a CausalData, and build its design on rows.
_KINDS = {"glm": _GLMKind, "formula": _FormulaKind, "sklearn": _SklearnKind}


@dataclass
class FittedModel:
    """A fitted nuisance model that predicts on rows of a CausalData."""

    learner: Learner
    glm: GLMFit | None = None
    estimator: Any = None
    design_info: Any = None
    constant: float | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def _design(self, src: _Rows, treatment_value: float | None) -> np.ndarray:
        """The one path from covariate rows to this model's design matrix."""
        return _KINDS[self.learner.kind].design(self, src, _Treatment(src, treatment_value))

    def design(self, data: CausalData, rows: np.ndarray, treatment_value: float | None = None) -> np.ndarray:
        return self._design(_Rows(data, rows=rows), treatment_value)

    def predict(self, data: CausalData, rows: np.ndarray, treatment_value: float | None = None) -> np.ndarray:
        return self._predict_design(self.design(data, rows, treatment_value))

    def predict_frame(self, frame: pd.DataFrame, template: CausalData,
                      treatment_value: float | None = None) -> np.ndarray:
        """Predict on a covariate frame with the roles and dtypes of ``template``.

        Used for synthetic covariates: categorical columns must carry the template's categories.
        """
        return self._predict_design(self._design(_Rows(template, frame=frame), treatment_value))

    def to_state(self, data: CausalData, rows: np.ndarray) -> dict:
        """A GLM or formula model as JSON values and arrays; ``rows`` of ``data`` are the rows it
        was fitted on. TypeError for a fitted scikit-learn estimator (only a pickle holds it)."""
        return fitted_model_state(self, data, rows)

    @classmethod
    def from_state(cls, state: dict, data: CausalData, rows: np.ndarray) -> FittedModel:
        """Inverse of :meth:`to_state` (ValueError when the state is malformed)."""
        return fitted_model_from_state(state, data, rows)

    def _predict_design(self, X: np.ndarray) -> np.ndarray:
        if self.constant is not None:
            return np.full(X.shape[0], self.constant)
        if self.glm is not None:
            return self.glm.predict(X)
        if self.learner.family == "binomial" and hasattr(self.estimator, "predict_proba"):
            return self.estimator.predict_proba(X)[:, 1]
        return np.asarray(self.estimator.predict(X), dtype=float)


_LEARNER_FIELDS = ("kind", "description", "family", "preset", "formula", "pooled", "role")


def fitted_model_state(model: FittedModel, data: CausalData | None = None,
                       rows: np.ndarray | None = None) -> dict:
    """A GLM or formula model as JSON values and arrays (the array file format of synthesizers).

    A formula's patsy design is not stored: :func:`fitted_model_from_state` rebuilds it by
    running patsy again on the fitting rows; the column names and column means of the design
    on ``rows`` of ``data`` are stored to check that rebuild. Raises TypeError for the
    scikit-learn kinds (fitted estimators only a pickle can hold).
    """
    learner = model.learner
    if learner.kind not in ("glm", "formula") or model.glm is None or learner.estimator is not None:
        raise TypeError(f"learner {learner.description!r} is a fitted scikit-learn estimator")
    state = {"learner": {f: getattr(learner, f) for f in _LEARNER_FIELDS}, "glm": model.glm.to_state()}
    if learner.kind == "formula":
        X = _formula_design(None, data.take(rows), model.design_info)[1]
        state["design_columns"] = list(model.design_info.column_names)
        state["design_means"] = X.mean(axis=0)
    return state


def fitted_model_from_state(state: dict, data: CausalData, rows: np.ndarray) -> FittedModel:
    """Inverse of :func:`fitted_model_state`; ``rows`` are the rows of ``data`` it was fitted on.

    ValueError when the state is malformed or the rebuilt formula design differs from the
    saved one (another patsy, or other rows).
    """
    fields = state["learner"]
    if sorted(fields) != sorted(_LEARNER_FIELDS):
        raise ValueError(f"a learner needs the fields {list(_LEARNER_FIELDS)}")
    if fields["kind"] not in ("glm", "formula") or fields["family"] not in ("gaussian", "binomial") \
            or fields["role"] not in ("propensity", "outcome") or not isinstance(fields["pooled"], bool) \
            or fields["preset"] not in (None, "logistic", "linear") or not isinstance(fields["description"], str):
        raise ValueError(f"not a GLM or formula learner: {fields!r}")
    learner = Learner(**fields)
    glm = GLMFit.from_state(state["glm"])
    if learner.kind == "glm":
        return FittedModel(learner, glm=glm)
    if not isinstance(learner.formula, str) or "~" not in learner.formula:
        raise ValueError(f"formula learner without a formula: {learner.formula!r}")
    design_info, X = _formula_design(learner.formula, data.take(rows), None)
    means = state["design_means"]
    if list(design_info.column_names) != state["design_columns"] or X.shape[1] != len(glm.coef) \
            or not isinstance(means, np.ndarray) or means.shape != (X.shape[1],) \
            or not np.allclose(X.mean(axis=0), means, rtol=1e-10, atol=1e-12):
        raise ValueError(f"the design of formula {learner.formula!r} rebuilt by patsy differs from the "
                         "saved one (another patsy version?)")
    return FittedModel(learner, glm=glm, design_info=design_info)


def _formula_design(formula: str | None, frame: pd.DataFrame, design_info: Any) -> tuple[Any, np.ndarray]:
    import patsy
    try:
        if design_info is None:
            check_formula_code(formula, frame.columns)
            rhs = formula.split("~", 1)[1]
            mat = patsy.dmatrix(rhs, frame, eval_env=_formula_env(), return_type="matrix", NA_action="raise")
            return mat.design_info, np.asarray(mat, dtype=float)
        (mat,) = patsy.build_design_matrices([design_info], frame, NA_action="raise")
        return design_info, np.asarray(mat, dtype=float)
    except patsy.PatsyError as exc:
        raise SpecError(f"cannot build the design of formula {formula!r}: {exc}".splitlines()[0]) from exc


#: Longest formula accepted, in characters.
MAX_FORMULA_CHARS = 5000


def check_formula_code(formula: Any, columns) -> None:
    """Refuse a formula whose Python is outside the safe vocabulary, before patsy evaluates it.

    patsy's own parser splits ``formula`` into terms and factors (it evaluates nothing); the
    Python code of every factor is then checked by :func:`causalsynth._checks.check_expression`
    with ``formula=True``: names of ``columns``, numbers, arithmetic, comparisons, the numeric
    functions (``log``, ``np.log``, ...), patsy's ``I``, ``C`` (with contrasts), ``Q``, splines
    and ``center``/``standardize``/``scale`` with constant arguments. SpecError otherwise.
    """
    import patsy
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise SpecError(f"formula {formula!r} must be a string of the form 'target ~ terms'")
    if len(formula) > MAX_FORMULA_CHARS:
        raise SpecError(f"formula is {len(formula)} characters long; at most {MAX_FORMULA_CHARS} are allowed")
    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except (patsy.PatsyError, SyntaxError, ValueError, RecursionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError(f"formula {formula!r} cannot be parsed: {msg}") from None
    for term in [*desc.lhs_termlist, *desc.rhs_termlist]:
        for factor in term.factors:
            check_expression(factor.code, columns, what=f"formula {formula!r}: the term", formula=True)


def _refused(*args: Any, **kwargs: Any) -> None:
    raise SpecError("a formula may call only the functions of causalsynth._checks.FORMULA_FUNCTIONS "
                    "and EXPR_FUNCTIONS")


def _formula_env() -> Any:
    """The only names a formula's Python sees: the allowed functions, and every builtin shadowed
    by a refusal (eval falls back to the builtins otherwise)."""
    import builtins
    import types

    import patsy
    import patsy.builtins
    names = {name: _refused for name in dir(builtins)}
    numeric = {name: fn for name, (fn, _, _) in EXPR_FUNCTIONS.items()}
    names.update(numeric, **{name: getattr(patsy.builtins, name) for name in FORMULA_FUNCTIONS})
    names["np"] = names["numpy"] = types.SimpleNamespace(**numeric)
    return patsy.EvalEnvironment([names])


def _uses_column(rhs: str, name: str) -> bool:
    """Whether a formula's right-hand side names the column ``name`` as a whole word (not as
    part of a longer name such as ``name_lag`` or ``df.name``, nor as a function ``name(...)``)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])(?!\s*\()", rhs) is not None


def _check_formula(formula: str, role: Role, data: CausalData) -> bool:
    """Validate the formula's sides and say whether it uses the treatment.

    The target must not appear on the right-hand side (a model of Y on Y fits perfectly and
    its contrast is zero), nor may the propensity formula use the treatment or the outcome.
    """
    if formula.count("~") != 1:
        raise SpecError(f"formula {formula!r} must have the form 'target ~ terms'")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    expected = data.treatment if role == "propensity" else data.outcome
    if lhs != expected:
        raise SpecError(
            f"the {role} formula's left-hand side is {lhs!r} but the {role} target is "
            f"{expected!r}; write '{expected} ~ {rhs}'."
        )
    uses_treatment = _uses_column(rhs, data.treatment)
    leaks = [(what, name) for what, name in (("treatment", data.treatment), ("outcome", data.outcome))
             if _uses_column(rhs, name) and (role == "propensity" or what == "outcome")]
    if leaks:
        what, name = leaks[0]
        why = ("it would predict the outcome from itself (a perfect fit and an ATE of 0)"
               if role == "outcome" else f"a propensity model predicts the treatment from the "
               f"covariates only; the {what} is not a covariate")
        raise SpecError(f"the {role} formula {formula!r} uses the {what} {name!r} on its "
                        f"right-hand side: {why}. Fix: remove {name!r} from the right-hand side.")
    _formula_design(formula, data.take(slice(0, min(50, data.n_obs))), None)
    return uses_treatment


def learner_class(spec: Any) -> str:
    """The model class of a learner specification: ``"glm"`` (main-terms presets, formulas and
    the defaults), ``"gbm"`` (the preset and any scikit-learn gradient boosting), ``"flexible"``,
    ``"superlearner"``, or the lower-cased class name of another scikit-learn estimator.

    Simulation worlds use it to tell when a world is built from a candidate's own class.
    """
    if isinstance(spec, str) and spec.startswith("pooled:"):
        spec = spec.split(":", 1)[1].strip()
    if isinstance(spec, Pooled):
        return learner_class(spec.learner)
    if spec is None or (isinstance(spec, str) and ("~" in spec or spec in ("logistic", "linear", "glm"))):
        return "glm"
    if isinstance(spec, str):
        return "gbm" if spec == "hgb" else spec
    name = type(spec).__name__
    if "GradientBoosting" in name or name.startswith(("LGBM", "XGB")):
        return "gbm"
    if name in ("LogisticRegression", "LinearRegression"):
        return "glm"
    return name.lower()


def check_learner_spec(spec: Any, *, role: Role) -> None:
    """Check a learner specification without data (names, types), so that a simulation
    refuses a misspelt preset before it runs rather than failing every replicate."""
    if spec is None:
        return
    if isinstance(spec, str) and spec.startswith("pooled:"):
        spec = Pooled(spec.split(":", 1)[1].strip())
    if isinstance(spec, Pooled):
        if role != "outcome":
            raise SpecError("only the outcome learner can be pooled over arms")
        return check_learner_spec(spec.learner, role=role)
    if isinstance(spec, str):
        if "~" in spec or spec in LEARNER_PRESETS:
            return
        raise SpecError(f"{role} learner {spec!r} is not a preset; choose one of {sorted(LEARNER_PRESETS)}, "
                        "pass a scikit-learn estimator, or a formula like 'y ~ x1 + C(x2)'.")
    if isinstance(spec, type):
        raise SpecError(f"the {role} learner is the class {spec.__name__}; pass an instance, "
                        f"e.g. {spec.__name__}()")
    if not (hasattr(spec, "fit") and hasattr(spec, "get_params")):
        raise SpecError(f"{role} learner must be a preset name {sorted(LEARNER_PRESETS)}, a formula string or a "
                        f"scikit-learn estimator; got {type(spec).__name__}")


def resolve_learner(spec: Any, *, role: Role, data: CausalData) -> Learner:
    """Turn a user's learner specification into a :class:`Learner`.

    ``role`` says what is predicted: the propensity (binary target) or the outcome (the
    outcome's type decides between classification and regression).
    """
    import dataclasses
    return dataclasses.replace(_resolve(spec, role=role, data=data), role=role)


def _resolve(spec: Any, *, role: Role, data: CausalData) -> Learner:
    if isinstance(spec, str) and spec.startswith("pooled:"):
        spec = Pooled(spec.split(":", 1)[1].strip())
    if isinstance(spec, Pooled):
        inner = spec.learner
        if role != "outcome":
            raise SpecError("only the outcome learner can be pooled over arms; the propensity "
                            "model predicts the treatment, so it cannot use it as a feature")
        if isinstance(inner, (str, type(None))) and "~" in (inner or ""):
            raise SpecError("a formula is pooled by naming the treatment on its right-hand side "
                            f"(e.g. '{data.outcome} ~ {data.treatment} + ...'), not with pooled()")
        base = _resolve(inner, role=role, data=data)
        return Learner(base.kind, f"{base.description}, pooled over arms (treatment as a feature)",
                       family=base.family, estimator=base.estimator, preset=base.preset, pooled=True)
    binary = role == "propensity" or data.outcome_type == "binary"
    family = "binomial" if binary else "gaussian"
    if spec is None:
        spec = "logistic" if binary else "linear"
    if isinstance(spec, str):
        if "~" in spec:
            pooled = _check_formula(spec, role, data)
            return Learner("formula", f"formula GLM: {spec}", family=family, formula=spec,
                           pooled=pooled)
        if spec not in LEARNER_PRESETS:
            raise SpecError(
                f"{role} learner {spec!r} is not a preset; choose one of {sorted(LEARNER_PRESETS)}, "
                "pass a scikit-learn estimator, or a formula like 'y ~ x1 + C(x2)'."
            )
        if spec == "logistic" and not binary:
            raise SpecError(f"the {role} target is continuous; 'logistic' needs a binary target. Use 'linear'.")
        if spec in ("logistic", "linear"):
            return Learner("glm", LEARNER_PRESETS["logistic" if binary else "linear"], family=family,
                           preset=spec)
        return Learner("sklearn", LEARNER_PRESETS[spec], family=family, preset=spec)
    if isinstance(spec, type):
        check_learner_spec(spec, role=role)
    if hasattr(spec, "fit") and hasattr(spec, "get_params"):
        from sklearn.base import is_classifier
        if not binary and is_classifier(spec):
            raise SpecError(f"the outcome is continuous; {type(spec).__name__} is a classifier. "
                            "Pass a regressor (e.g. LinearRegression()) or a preset.")
        if binary and role == "propensity" and not hasattr(spec, "predict_proba"):
            raise SpecError(
                f"the propensity learner {type(spec).__name__} has no predict_proba; pass a classifier."
            )
        if not binary and hasattr(spec, "predict_proba") and not hasattr(spec, "predict"):
            raise SpecError(f"the outcome is continuous; {type(spec).__name__} is not a regressor.")
        return Learner("sklearn", type(spec).__name__, family=family, estimator=spec)
    raise SpecError(
        f"{role} learner must be a preset name {sorted(LEARNER_PRESETS)}, a formula string or a "
        f"scikit-learn estimator; got {type(spec).__name__}"
    )
