"""User formulas, derived columns and subgroup rules are checked against a closed vocabulary
and never evaluated as Python: payloads raise SpecError and leave no marker file; legitimate
expressions give the values pandas eval gave and formulas the estimates they gave."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalsynth.learners as learners
from causalsynth import CausalData
from causalsynth._checks import check_expression, evaluate_expression
from causalsynth.audit.subgroups import resolve_subgroups
from causalsynth.datasets import (
    NHEFS_OUTCOME_FORMULA,
    NHEFS_PROPENSITY_FORMULA,
    load_lalonde_cps,
    load_nhefs,
)
from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import SpecError
from causalsynth.estimators import estimate
from causalsynth.learners import check_formula_code
from causalsynth.synth.hybrid import HybridSynthesizer, SynthSettings


@pytest.fixture(scope="module")
def data():
    return LinearLogisticDesign().sample(200, random_state=0).data


@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "PWNED"
    yield m
    assert not m.exists(), "a payload ran"


# ---------------------------------------------------------------- formulas at fit time
def test_the_issue_formula_payload_is_refused_and_runs_nothing(data, marker):
    payload = f"a ~ w1 + w2 + I(0*len(open({str(marker)!r},'w').name))"
    with pytest.raises(SpecError, match=r"the call of 'len' is not allowed; allowed: column names"):
        estimate(data, propensity=payload, estimators=["ipw"])
    with pytest.raises(SpecError, match="'len' is not allowed"):
        HybridSynthesizer(propensity=payload, n_reference=1000, random_state=0).fit(data)


REFUSED = {
    "attribute": ("a ~ w1.__class__", "attribute access"),
    "method": ("a ~ w1.to_csv('x')", "the call of 'w1.to_csv'"),
    "module": ("a ~ np.load('x')", "the call of 'np.load'"),
    "os": ("a ~ I(__import__('os'))", "the call of '__import__'"),
    "eval": ("a ~ I(eval('1'))", "the call of 'eval'"),
    "subscript": ("a ~ I(w1[0])", "subscripting"),
    "lambda": ("a ~ I((lambda: w1)())", "the call of"),
    "Q builtins": ("a ~ Q('__builtins__')", "Q takes one quoted column name"),
    "unknown name": ("a ~ w1 + zz", "the name 'zz'"),
    "starred": ("a ~ np.log(*w1)", "a starred argument"),
    "double star": ("a ~ bs(w1, **{'df': 3})", r"a \*\* or private keyword"),
    "text arithmetic": ("a ~ I('x' * 10)", "the constant"),
    "walrus": ("a ~ I((z := w1))", "assignment"),
    "out argument": ("a ~ np.log(w1, w2)", r"log\(\) with 2 arguments"),
    "out keyword": ("a ~ np.exp(w1, out=w2)", r"keyword arguments to exp\(\)"),
    "list outside a call": ("a ~ C(w1 > 0, levels=[True, False] * 3)", "a List expression"),
    "too long": ("a ~ " + " + ".join(["w1"] * 2000), "characters long"),
    "too deep": ("a ~ I(" + "-" * 60 + "w1)", "nesting deeper"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_formulas_outside_the_vocabulary_are_refused(data, case):
    formula, message = REFUSED[case]
    with pytest.raises(SpecError, match=message):
        estimate(data, propensity=formula, estimators=["ipw"])


ALLOWED = ["a ~ w1 + w2 + I(w3**2)", "a ~ np.log(np.abs(w1) + 1) + exp(w2 / 10) + sqrt(abs(w3))",
           "a ~ bs(w1, df=3) + center(w3) + standardize(w4) + scale(w2)", "a ~ cr(w2, df=3) + w1 - 1",
           "a ~ bs(w1, knots=[-0.5, 0.5], degree=2) + C(I(w2 > 0), levels=[False, True])",
           "a ~ Q('w1') + I(w2 > 0) + I((w1 > 0) & (w2 < 1)) + w1:w2 - 1",
           "a ~ C(I(w1 > 0), Treatment(reference=True)) + C(I(w2 > 0), Sum) + I(w3 // 1 % 2)"]


@pytest.mark.parametrize("formula", ALLOWED)
def test_formulas_in_the_vocabulary_fit(data, formula):
    res = estimate(data, propensity=formula, estimators=["ipw"])
    assert np.isfinite(res.summary()["ate"].iloc[0])


def test_builtins_stay_out_of_reach_even_if_the_check_had_a_gap(data, marker, monkeypatch):
    monkeypatch.setattr(learners, "check_formula_code", lambda *a, **k: None)
    with pytest.raises(SpecError, match="may call only the functions"):
        estimate(data, propensity=f"a ~ w1 + I(len(open({str(marker)!r}, 'w').name))", estimators=["ipw"])


def test_the_book_formulas_give_the_same_estimates_as_before():
    # Figures from causalsynth 0.2 before this change (patsy evaluating with the caller's frame).
    res = estimate(load_nhefs(), propensity=NHEFS_PROPENSITY_FORMULA, outcome=NHEFS_OUTCOME_FORMULA,
                   estimators=["or", "ipw", "aipw", "tmle"]).summary().set_index("estimator")
    expected = {"or": (3.517374200885515, 0.4775823192742974), "ipw": (3.440535429616764, 0.5254935529995408),
                "aipw": (3.457284289774408, 0.4886509138317875), "tmle": (3.456724694213431, 0.48832842025530226)}
    for name, (ate, se) in expected.items():
        assert res.loc[name, "ate"] == pytest.approx(ate, rel=1e-12, abs=0)
        assert res.loc[name, "std_error"] == pytest.approx(se, rel=1e-12, abs=0)


def test_check_formula_code_reads_every_factor():
    cols = ["y", "x", "g"]
    check_formula_code("y ~ x + C(g, Treatment(reference='b')) + I(x**2) + x:C(g)", cols)
    with pytest.raises(SpecError, match="the call of 'open'"):
        check_formula_code("y ~ x + x:I(open('f'))", cols)
    with pytest.raises(SpecError, match="cannot be parsed"):
        check_formula_code("y ~ x +", cols)


# ---------------------------------------------------------------- derived columns and subgroups
@pytest.mark.parametrize("payload", ["w1.to_csv({m!r}) == w1", "@pd.read_pickle({m!r})",
                                     "__import__('os').system('touch {m}') == 0", "w1.to_pickle({m!r}) is None"])
def test_derived_payloads_are_refused_at_fit(data, marker, payload):
    expr = payload.format(m=str(marker))
    frame = data.frame.assign(pos=(data.frame["w1"] > 0).astype("int64"))
    with pytest.raises(SpecError, match="derived column 'pos': the expression"):
        CausalData(frame, treatment="a", outcome="y", derived={"pos": expr})
    plain = CausalData(frame, treatment="a", outcome="y")
    with pytest.raises(SpecError, match="derived column 'pos': the expression"):
        HybridSynthesizer(settings=SynthSettings(derived={"pos": expr}), n_reference=1000, random_state=0).fit(plain)


def test_subgroup_payloads_are_refused_and_plain_rules_work(marker):
    data = load_lalonde_cps()
    with pytest.raises(SpecError, match="subgroup 'bad' cannot be evaluated.*'age.to_csv' is not allowed"):
        resolve_subgroups({"bad": f"age.to_csv({str(marker)!r}) == age"}, data)
    (g,) = resolve_subgroups({"young black": "black == 1 and age < 25"}, data)
    f = data.frame
    np.testing.assert_array_equal(g.mask(f), ((f["black"] == 1) & (f["age"] < 25)).to_numpy())


def test_lalonde_derived_columns_unchanged():
    data = load_lalonde_cps()
    f = data.frame
    assert data.derived == {"u74": "re74 == 0", "u75": "re75 == 0"}
    for col, src in (("u74", "re74"), ("u75", "re75")):
        assert f[col].dtype == np.int64
        np.testing.assert_array_equal(f[col].to_numpy(), (f[src] == 0).astype("int64").to_numpy())


# ---------------------------------------------------------------- the interpreter
@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(3)
    n = 50
    return pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(-3, 4, n), "b": rng.integers(0, 2, n) == 1,
                         "g": pd.Categorical(rng.choice(["lo", "hi"], n)), "my col": rng.normal(size=n)})


SAME_AS_PANDAS = ["x > 0", "(x > 0) & (k < 2)", "(x > 0) | b", "~b", "x * 2 + k ** 2 - 1", "k // 2", "k % 3",
                  "x / (k + 10)", "-x", "x > 0 and k > 0", "x > 0 or not b", "g == 'hi'", "g != 'lo'",
                  "`my col` * 2", "0 < k <= 2", "k == 1.0"]


@pytest.mark.parametrize("expr", SAME_AS_PANDAS)
def test_interpreter_agrees_with_pandas_eval(frame, expr):
    got = evaluate_expression(expr, frame)
    want = pd.Series(frame.eval(expr)).to_numpy()
    np.testing.assert_array_equal(got, want)


def test_interpreter_functions(frame):
    x, k = frame["x"].to_numpy(), frame["k"].to_numpy()
    np.testing.assert_allclose(evaluate_expression("np.log(abs(x) + 1)", frame), np.log(np.abs(x) + 1))
    np.testing.assert_array_equal(evaluate_expression("where(x > 0, k, 0)", frame), np.where(x > 0, k, 0))
    np.testing.assert_array_equal(evaluate_expression("clip(k, -1, 1)", frame), np.clip(k, -1, 1))
    np.testing.assert_array_equal(evaluate_expression("maximum(k, 0)", frame), np.maximum(k, 0))
    np.testing.assert_array_equal(evaluate_expression("1", frame), np.ones(len(frame), dtype=np.int64))


@pytest.mark.parametrize("expr, message", [
    ("x.sum()", "the call of 'x.sum'"), ("x.values", "attribute access"), ("x[0]", "subscripting"),
    ("@y", "'@' local variables"), ("lambda: 1", "a lambda"), ("x if b else k", "an if-expression"),
    ("[x]", "a List expression"), ("print(x)", "the call of 'print'"), ("log(x, k)", "takes 1"),
    ("np.log(x=x)", "keyword arguments"), ("__class__", "the name '__class__'"), ("'a' * 3 == 'aaa'", "the constant"),
    ("(" * 300 + "x" + ")" * 300, "not a valid expression|nesting deeper"), ("x +" * 1000 + "x", "characters long"),
    ("10 ** 10 ** 10 > x", None), ("x == None", "the constant None"),
])
def test_interpreter_refusals(frame, expr, message):
    if message is None:  # huge powers of constants are numpy scalars: bounded work, no hang
        evaluate_expression(expr, frame)
        return
    with pytest.raises(SpecError, match=message):
        evaluate_expression(expr, frame, what="derived column 'u'")
    with pytest.raises(SpecError):
        check_expression(expr, frame.columns)


def test_messages_name_the_piece_and_the_vocabulary(frame):
    with pytest.raises(SpecError) as info:
        evaluate_expression("x.to_csv('f') == x", frame, what="derived column 'u': the expression")
    msg = str(info.value)
    assert msg.startswith("derived column 'u': the expression \"x.to_csv('f') == x\": the call of 'x.to_csv'")
    assert "allowed: column names, numbers" in msg and "log" in msg and "np.log" in msg
