"""The one home of argument validators (``check_data``, which must know the class it checks,
lives beside it in :mod:`causalsynth.data`).

Every public entry point checks its arguments with these functions, so a rule is written
once and its message reads the same everywhere: the parameter, the rule, the value received
and, where it helps, the fix. Each returns the value in its canonical type.
"""
from __future__ import annotations

import numbers
import re
from typing import Any, get_args

import numpy as np

from .errors import SpecError

__all__ = ["is_int", "check_int", "check_range", "check_choice", "check_bounds", "adaptive_bound", "resolve_bounds",
           "check_level", "z_value", "check_delta"]


def is_int(value: Any) -> bool:
    """True for Python and numpy integers, False for booleans and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, low: int = 1, *, fix: str = "") -> int:
    """An integer ``>= low`` (booleans refused); ``fix`` is appended to the message."""
    if not is_int(value) or value < low:
        rule = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise SpecError(f"{{}} must be {rule}; got {value!r}." + (f" {fix}" if fix else ""), argument=name)
    return int(value)


def check_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
                high_open: bool = False, allow_none: bool = False) -> float | None:
    """A finite real number in the interval from ``low`` to ``high`` (ends open on request)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (str, bytes, bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise SpecError(f"{{}} must be a number; got {value!r}", argument=name)
    v = float(value)
    finite_only = not np.isfinite(low) and not np.isfinite(high)
    bound = ("a finite number" if finite_only else
             f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")
    if not np.isfinite(v):
        raise SpecError(f"{{}} must be {bound}; got {value!r} (a finite number is needed: not infinity or NaN)",
                         argument=name)
    if v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise SpecError(f"{{}} must be {bound}; got {value!r}", argument=name)
    return v


def check_choice(name: str, value: Any, options: Any) -> Any:
    """One of ``options`` (a sequence, or a ``typing.Literal`` whose arguments are the options)."""
    allowed = get_args(options) or tuple(options)
    if value not in allowed:
        raise SpecError(f"{{}} must be one of {list(allowed)}; got {value!r}", argument=name)
    return value


def check_bounds(propensity_bounds: Any) -> tuple[float, float]:
    """Propensity clipping bounds ``(low, high)`` with ``0 <= low < 0.5 < high <= 1``."""
    try:
        lo, hi = (float(b) for b in propensity_bounds)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{{}} must be a pair (low, high); got {propensity_bounds!r}", argument="propensity_bounds") from exc
    if not (0 <= lo < 0.5 < hi <= 1):
        raise SpecError(f"{{}} must satisfy 0 <= low < 0.5 < high <= 1; got {(lo, hi)}", argument="propensity_bounds")
    return lo, hi


def adaptive_bound(n: int) -> float:
    """The data-adaptive propensity truncation :math:`5/(\\sqrt n \\ln n)` (Gruber, Phillips, Lee &
    van der Laan 2022, "Data-adaptive selection of the propensity score truncation level")."""
    return float(5.0 / (np.sqrt(n) * np.log(n)))


def resolve_bounds(propensity_bounds: Any, n: int) -> tuple[float, float]:
    """Propensity clipping bounds: a checked pair, or ``"adaptive"`` resolved for ``n`` rows."""
    if isinstance(propensity_bounds, str):
        if propensity_bounds != "adaptive":
            raise SpecError(f"{{}} must be a pair (low, high) or 'adaptive'; got {propensity_bounds!r}", argument="propensity_bounds")
        delta = min(adaptive_bound(max(int(n), 3)), 0.49)
        return delta, 1.0 - delta
    return check_bounds(propensity_bounds)


def check_level(level: Any) -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(level, (str, bytes, bool, np.bool_)) or not isinstance(level, numbers.Real) \
            or not 0 < float(level) < 1:
        raise SpecError(f"{{}} must be a number strictly between 0 and 1 (e.g. 0.95); got {level!r}", argument="level")
    return float(level)


def z_value(level: Any) -> float:
    """The two-sided normal critical value of ``level`` (1.96 for 0.95)."""
    from scipy.stats import norm
    return float(norm.ppf(0.5 + check_level(level) / 2))


def check_delta(delta: Any) -> float:
    """An overlap bound in (0, 0.5)."""
    try:
        d = float(delta)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{{}} must be a number in (0, 0.5); got {delta!r}", argument="delta") from exc
    if not (0 < d < 0.5):
        raise SpecError(f"{{}} must be in (0, 0.5), e.g. 0.05; got {delta!r}", argument="delta")
    return d


# ---------------------------------------------------------------------------- safe expressions
# Derived columns, subgroup rules and the Python inside formula factors are user text. They are
# parsed with ``ast`` and checked against a closed vocabulary; expressions are then evaluated by
# the small interpreter below over numpy arrays (never ``eval``, ``DataFrame.eval`` or patsy).
import ast as _ast
import operator as _op

__all__ += ["EXPR_FUNCTIONS", "FORMULA_FUNCTIONS", "check_expression", "evaluate_expression"]

#: Functions an expression may call: name -> (numpy function, fewest and most arguments).
#: ``np.<name>`` and ``numpy.<name>`` are the same functions.
EXPR_FUNCTIONS = {
    **{f: (getattr(np, f), 1, 1) for f in ("log", "log1p", "log2", "log10", "exp", "expm1", "sqrt",
                                            "abs", "absolute", "sign", "floor", "ceil", "isnan")},
    "round": (np.round, 1, 2), "minimum": (np.minimum, 2, 2), "maximum": (np.maximum, 2, 2),
    "where": (np.where, 3, 3), "clip": (np.clip, 3, 3),
}
#: patsy's own functions a formula may call, besides :data:`EXPR_FUNCTIONS`.
FORMULA_FUNCTIONS = ("I", "C", "Q", "bs", "cr", "cc", "te", "center", "standardize", "scale",
                     "Treatment", "Sum", "Poly", "Helmert", "Diff")
_CONTRASTS = ("Treatment", "Sum", "Poly", "Helmert", "Diff")
_NUMPY = ("np", "numpy")
MAX_EXPRESSION_CHARS = 2000
MAX_EXPRESSION_DEPTH = 40
MAX_EXPRESSION_NODES = 400
_BINARY = {_ast.Add: _op.add, _ast.Sub: _op.sub, _ast.Mult: _op.mul, _ast.Div: _op.truediv,
           _ast.FloorDiv: _op.floordiv, _ast.Mod: _op.mod, _ast.Pow: _op.pow, _ast.BitAnd: _op.and_,
           _ast.BitOr: _op.or_}
_UNARY = {_ast.UAdd: _op.pos, _ast.USub: _op.neg, _ast.Invert: _op.invert, _ast.Not: np.logical_not}
_COMPARE = {_ast.Eq: _op.eq, _ast.NotEq: _op.ne, _ast.Lt: _op.lt, _ast.LtE: _op.le, _ast.Gt: _op.gt,
            _ast.GtE: _op.ge}
_BACKTICK = re.compile(r"`([^`]+)`")


def _allowed(formula: bool) -> str:
    funcs = sorted(EXPR_FUNCTIONS) + (list(FORMULA_FUNCTIONS) if formula else [])
    return ("allowed: column names, numbers, + - * / // % **, comparisons, & | ~, and/or/not"
            + (", string constants in comparisons" if not formula else ", constant arguments")
            + f" and the functions {', '.join(funcs)} (also spelled np.log etc.)")


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class _Checker:
    """Walks a parsed expression and refuses every node outside the vocabulary."""

    def __init__(self, columns, formula: bool, what: str, text: str) -> None:
        self.columns, self.formula, self.what, self.text, self.n_nodes = set(columns), formula, what, text, 0

    def refuse(self, piece: str) -> None:
        raise SpecError(f"{self.what} {_short(self.text)!r}: {piece} is not allowed; {_allowed(self.formula)}.")

    def function(self, node) -> str | None:
        """The whitelisted name a call's function spells, or None."""
        if isinstance(node, _ast.Name):
            name = node.id
        elif isinstance(node, _ast.Attribute) and isinstance(node.value, _ast.Name) and node.value.id in _NUMPY:
            name = node.attr
            if name not in EXPR_FUNCTIONS:
                return None
        else:
            return None
        return name if name in EXPR_FUNCTIONS or (self.formula and name in FORMULA_FUNCTIONS) else None

    def check(self, node, depth: int = 0, parent=None) -> None:
        self.n_nodes += 1
        if depth > MAX_EXPRESSION_DEPTH or self.n_nodes > MAX_EXPRESSION_NODES:
            self.refuse(f"nesting deeper than {MAX_EXPRESSION_DEPTH} or more than {MAX_EXPRESSION_NODES} parts")
        kids = list(_ast.iter_child_nodes(node))
        if isinstance(node, _ast.Name):
            if node.id not in self.columns and not (self.formula and node.id in _CONTRASTS):
                self.refuse(f"the name {node.id!r} (not a column: columns are {sorted(self.columns)[:20]})")
            return
        if isinstance(node, _ast.Constant):
            self.constant(node.value, parent)
            return
        if isinstance(node, (_ast.List, _ast.Tuple)) and self.formula and isinstance(parent, (_ast.Call, _ast.keyword)):
            if all(isinstance(e, _ast.Constant) or (isinstance(e, _ast.UnaryOp) and isinstance(e.op, _ast.USub)
                                                     and isinstance(e.operand, _ast.Constant)) for e in node.elts):
                for e in node.elts:
                    self.check(e, depth + 1, node)
                return
        if isinstance(node, _ast.Call):
            self.call(node, depth)
            return
        if isinstance(node, _ast.BinOp) and type(node.op) in _BINARY:
            pass
        elif isinstance(node, _ast.UnaryOp) and type(node.op) in _UNARY:
            pass
        elif isinstance(node, _ast.BoolOp) or (isinstance(node, _ast.Compare)
                                                and all(type(o) in _COMPARE for o in node.ops)):
            pass
        else:
            self.refuse(self.describe(node))
        for kid in kids:
            if not isinstance(kid, (_ast.operator, _ast.unaryop, _ast.cmpop, _ast.boolop)):
                self.check(kid, depth + 1, node)

    def constant(self, value, parent) -> None:
        if isinstance(value, (bool, int, float)) and not isinstance(value, complex):
            return
        if isinstance(value, str) and len(value) <= 200 and (
                isinstance(parent, _ast.Compare) or (self.formula and isinstance(parent, (_ast.Call, _ast.keyword,
                                                                                        _ast.List, _ast.Tuple)))):
            return
        if value is None and self.formula and isinstance(parent, _ast.keyword):
            return
        self.refuse(f"the constant {value!r}" + (" (text only in comparisons)" if isinstance(value, str) else ""))

    def call(self, node, depth: int) -> None:
        name = self.function(node.func)
        if name is None:
            self.refuse(f"the call of {_ast.unparse(node.func)!r}")
        if name in EXPR_FUNCTIONS or not self.formula:  # numpy's out=/where= would write into a column
            if node.keywords:
                self.refuse(f"keyword arguments to {name}()")
            _, low, high = EXPR_FUNCTIONS[name]
            if not low <= len(node.args) <= high:
                self.refuse(f"{name}() with {len(node.args)} arguments (it takes {low}"
                            + (f" to {high})" if high != low else ")"))
        if name == "Q" and not (len(node.args) == 1 and not node.keywords and isinstance(node.args[0], _ast.Constant)
                                and node.args[0].value in self.columns):
            self.refuse(f"{_ast.unparse(node)!r} (Q takes one quoted column name)")
        for arg in node.args:
            if isinstance(arg, _ast.Starred):
                self.refuse("a starred argument")
            self.check(arg, depth + 1, node)
        for kw in node.keywords:
            if kw.arg is None or kw.arg.startswith("_"):
                self.refuse("a ** or private keyword argument")
            self.check(kw.value, depth + 1, kw)

    @staticmethod
    def describe(node) -> str:
        kinds = {_ast.Attribute: "attribute access", _ast.Subscript: "subscripting", _ast.Lambda: "a lambda",
                 _ast.Starred: "a starred argument", _ast.IfExp: "an if-expression", _ast.NamedExpr: "assignment"}
        label = next((v for k, v in kinds.items() if isinstance(node, k)), f"a {type(node).__name__} expression")
        try:
            return f"{label} {_ast.unparse(node)[:60]!r}"
        except Exception:  # pragma: no cover - unparse of a partial tree
            return label


def check_expression(text: Any, columns, *, what: str = "expression", formula: bool = False) -> _ast.Expression:
    """Parse ``text`` and check it against the closed vocabulary; returns the tree.

    ``columns`` are the names it may use. ``formula=True`` checks the Python inside one factor
    of a patsy formula: patsy's functions (``I``, ``C`` with contrasts, ``Q``, splines,
    ``center``/``standardize``/``scale``) and constant arguments are allowed too. Anything else
    (attribute access other than ``np.<function>``, subscripts, lambdas, ``@`` locals, calls
    of other functions, starred arguments, very long or deep text) raises SpecError naming it.
    """
    if not isinstance(text, str):
        raise SpecError(f"{what} must be a string; got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise SpecError(f"{what} is {len(text)} characters long; at most {MAX_EXPRESSION_CHARS} are allowed")
    columns = set(columns)
    names = {m: f"_bq{i}_" for i, m in enumerate(dict.fromkeys(_BACKTICK.findall(text)))}
    source = _BACKTICK.sub(lambda m: names[m.group(1)], text)
    try:
        tree = _ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        msg = getattr(exc, "msg", None) or type(exc).__name__
        if "@" in text:
            msg += "; '@' local variables (pandas eval's @name) are not allowed"
        raise SpecError(f"{what} {_short(text)!r} is not a valid expression ({msg}); {_allowed(formula)}.") from None
    aliases = {v: k for k, v in names.items()}
    for node in _ast.walk(tree):
        if isinstance(node, _ast.Name) and node.id in aliases:
            node.id = aliases[node.id]
    _Checker(columns, formula, what, text).check(tree.body)
    return tree


def evaluate_expression(text: str, frame, *, what: str = "expression", columns=None) -> np.ndarray:
    """Evaluate a checked expression over the columns of ``frame`` (one value per row).

    ``columns`` (default: all of the frame's) are the names the expression may use. Raises
    SpecError when the text is outside the vocabulary or fails on these values.
    """
    tree = check_expression(text, frame.columns if columns is None else columns, what=what)
    values = {}
    try:
        with np.errstate(all="ignore"):
            out = _run(tree.body, frame, values)
        out = np.asarray(out)
    except SpecError:
        raise
    except Exception as exc:  # numpy raises many kinds for values that do not fit an operation
        raise SpecError(f"{what} {_short(text)!r} cannot be evaluated on these columns: {type(exc).__name__}: {exc}") from exc
    if out.ndim == 0:
        out = np.full(len(frame), out[()])
    if out.shape != (len(frame),):
        raise SpecError(f"{what} {_short(text)!r} gives shape {out.shape}, not one value per row ({len(frame)})")
    return out


def _run(node, frame, values: dict):
    if isinstance(node, _ast.Name):
        if node.id not in values:
            values[node.id] = frame[node.id].to_numpy()
        return values[node.id]
    if isinstance(node, _ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return np.bool_(v)
        if isinstance(v, int):
            return np.int64(v) if -2**63 <= v < 2**63 else np.float64(v)
        return np.float64(v) if isinstance(v, float) else v
    if isinstance(node, _ast.BinOp):
        return _BINARY[type(node.op)](_run(node.left, frame, values), _run(node.right, frame, values))
    if isinstance(node, _ast.UnaryOp):
        return _UNARY[type(node.op)](_run(node.operand, frame, values))
    if isinstance(node, _ast.BoolOp):
        parts = [np.asarray(_run(v, frame, values), dtype=bool) for v in node.values]
        return (np.logical_and if isinstance(node.op, _ast.And) else np.logical_or).reduce(parts)
    if isinstance(node, _ast.Compare):
        left, result = _run(node.left, frame, values), np.bool_(True)
        for op, right_node in zip(node.ops, node.comparators):
            right = _run(right_node, frame, values)
            result = np.logical_and(result, np.asarray(_COMPARE[type(op)](left, right), dtype=bool))
            left = right
        return result
    name = node.func.attr if isinstance(node.func, _ast.Attribute) else node.func.id
    return EXPR_FUNCTIONS[name][0](*(_run(a, frame, values) for a in node.args))
