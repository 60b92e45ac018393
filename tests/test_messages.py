"""Issue 16, unclear messages on the data/library side: each says what is wrong and the fix."""
from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

import causalsynth as cs
from causalsynth.cli import main, read_table
from causalsynth.errors import CausalSynthWarning, DataError, DataFileError, SpecError


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    return pd.DataFrame({"x1": x, "x2": rng.integers(0, 40, n), "A": a, "Y": x + a + rng.normal(size=n)})


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# --- a category treatment holding 0/1 --------------------------------------------------------

@pytest.mark.parametrize("convert", [lambda s: s.astype("category"), lambda s: s.astype(str).astype("category")],
                         ids=["levels 0/1", "levels '0'/'1'"])
def test_a_categorical_treatment_with_levels_0_1_is_binary(convert):
    f = _frame()
    d = cs.CausalData(f.assign(A=convert(f["A"])), treatment="A", outcome="Y")
    np.testing.assert_array_equal(d.a, f["A"].to_numpy())
    assert d.n_treated == int(f["A"].sum())


def test_a_categorical_treatment_with_other_levels_names_its_dtype():
    f = _frame()
    with pytest.raises(DataError, match=r"dtype category with values .*not the levels 0 and 1"):
        cs.CausalData(f.assign(A=f["A"].map({0: "c", 1: "t"}).astype("category")), treatment="A", outcome="Y")


# --- with_knobs(ate=inf) ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def synth():
    from causalsynth.datasets.designs import LinearLogisticDesign
    data = LinearLogisticDesign(n_features=3).sample(200, random_state=0).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.HybridSynthesizer(generator="copula", propensity="logistic", outcome="linear", min_dcr=0.0,
                                    n_reference=2000, random_state=0).fit(data)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_with_knobs_asks_for_a_finite_ate(synth, value):
    with pytest.raises(SpecError) as info:
        synth.with_knobs(ate=value)
    text = str(info.value)
    assert "ate must be a finite number" in text and "[-inf, inf]" not in text


def test_a_bounded_knob_says_finite_and_its_interval(synth):
    with pytest.raises(SpecError, match=r"overlap must be in \[0, 20\]; got inf \(a finite number is needed"):
        synth.with_knobs(overlap=np.inf)


# --- a trailing comma on every CSV row --------------------------------------------------------

def _csv_with_trailing_commas(tmp_path, header_too: bool):
    f = _frame(60)
    lines = [",".join(f.columns) + ("," if header_too else "")]
    lines += [",".join(str(v) for v in row) + "," for row in f.itertuples(index=False)]
    path = tmp_path / ("both.csv" if header_too else "rows.csv")
    path.write_text("\n".join(lines) + "\n")
    return f, path


@pytest.mark.parametrize("header_too", [False, True], ids=["rows only", "header too"])
def test_trailing_commas_are_dropped_and_said(tmp_path, header_too):
    f, path = _csv_with_trailing_commas(tmp_path, header_too)
    with pytest.warns(CausalSynthWarning, match="trailing comma"):
        read = read_table(path)
    assert list(read.columns) == list(f.columns)  # no shifted columns, no empty extra column
    np.testing.assert_allclose(read["x1"].to_numpy(), f["x1"].to_numpy())
    np.testing.assert_array_equal(read["A"].to_numpy(), f["A"].to_numpy())


def test_header_trailing_comma_names_the_empty_column(tmp_path):
    _, path = _csv_with_trailing_commas(tmp_path, True)
    with pytest.warns(CausalSynthWarning, match=r"column 5 has no name and is empty on every row \(trailing comma\?\); "
                                                r"it was dropped"):
        read_table(path)


def test_an_extra_nonempty_field_is_refused_not_shifted(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("x,A,Y\n1,0,2,9\n3,1,4,9\n")
    with pytest.raises(DataFileError, match="one more field than the header"):
        read_table(path)


def test_a_column_empty_on_every_row_is_named_not_dropped_rows():
    f = _frame().assign(empty=np.nan)
    with pytest.raises(DataError, match=r"\['empty'\] are empty on every row") as info:
        cs.CausalData(f, treatment="A", outcome="Y")
    assert "would drop them all" in str(info.value)
    with pytest.raises(DataError, match="empty on every row"):
        cs.CausalData(f, treatment="A", outcome="Y", missing="drop")


def test_cli_trailing_comma_file_runs(tmp_path):
    _, path = _csv_with_trailing_commas(tmp_path, True)
    code, out, err = _run_cli(["estimate", str(path), "-a", "A", "-y", "Y", "--estimators", "ipw"])
    assert code == 0, err
    assert "trailing comma" in err


# --- a level spelled "NA" ------------------------------------------------------------------------

def _na_level_csv(tmp_path):
    f = _frame(80)
    f["grp"] = np.where(np.arange(80) % 3 == 0, "NA", np.where(np.arange(80) % 3 == 1, "EU", "AS"))
    path = tmp_path / "na.csv"
    f.to_csv(path, index=False)
    return f, path


def test_a_level_spelled_na_is_said_and_can_be_kept(tmp_path):
    f, path = _na_level_csv(tmp_path)
    with pytest.warns(CausalSynthWarning, match=r"column\(s\) 'grp' \(27 x 'NA'\).*--no-default-na"):
        read = read_table(path)
    assert read["grp"].isna().sum() == 27
    kept = read_table(path, na={"keep_default_na": False, "na_values": [""]})  # --no-default-na
    assert (kept["grp"] == "NA").sum() == 27 and kept.notna().all().all()


def test_the_missing_value_message_names_the_column_and_the_default_na_rule(tmp_path):
    f, path = _na_level_csv(tmp_path)
    g = pd.read_csv(path)
    with pytest.raises(DataError) as info:
        cs.CausalData(g, treatment="A", outcome="Y")
    text = str(info.value)
    assert "missing values in grp: 27" in text and "'NA'" in text and "keep_default_na=False" in text
    code, _, err = _run_cli(["estimate", str(path), "-a", "A", "-y", "Y", "--estimators", "ipw"])
    assert code != 0 and "--no-default-na" in err
    code, out, err = _run_cli(["estimate", str(path), "-a", "A", "-y", "Y", "--estimators", "ipw", "--no-default-na"])
    assert code == 0, err


# --- an integer column with one "?" ---------------------------------------------------------------

def test_numbers_with_one_question_mark_warn_naming_column_value_and_fix(tmp_path):
    f = _frame(80)
    f["x2"] = f["x2"].astype(str)
    f.loc[17, "x2"] = "?"
    with pytest.warns(CausalSynthWarning, match=r"covariate 'x2' holds numbers except 1 cell\(s\) \['\?'\].*"
                                                r"categorical.*na_values='\?'"):
        d = cs.CausalData(f, treatment="A", outcome="Y")
    assert d.covariate_kinds["x2"] == "categorical"
    path = tmp_path / "q.csv"
    f.to_csv(path, index=False)
    code, _, err = _run_cli(["estimate", str(path), "-a", "A", "-y", "Y", "--estimators", "ipw"])
    assert "--na-values ?" in err  # the command's own option in the fix
    code, _, err = _run_cli(["estimate", str(path), "-a", "A", "-y", "Y", "--estimators", "ipw",
                             "--na-values", "?", "--drop-missing"])
    assert code == 0 and "holds numbers except" not in err


def test_a_declared_categorical_or_a_real_text_column_does_not_warn():
    f = _frame(80)
    f["x2"] = f["x2"].astype(str)
    f.loc[17, "x2"] = "?"
    f["txt"] = np.where(np.arange(80) % 2 == 0, "a", "b")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CausalSynthWarning)
        cs.CausalData(f, treatment="A", outcome="Y", categorical=["x2"])
