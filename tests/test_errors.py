"""Issue 19: errors and warnings carry structured fields (the argument, the fixes); the words
can change without losing a fix, and the fields survive pickling (worker processes)."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import causalsynth as cs
from causalsynth.errors import (
    NO_VALUE,
    CausalSynthError,
    DataError,
    DiskFullError,
    Fix,
    OutputDiskFullError,
    PositivityWarning,
    SpecError,
)


def test_fields_and_python_rendering():
    e = SpecError("{} needs a checkpoint folder", argument="resume", value=True,
                  fix=Fix("give {} the folder", "checkpoint"))
    assert (e.argument, e.value) == ("resume", True)
    assert str(e) == "resume=True needs a checkpoint folder; fix: give checkpoint the folder"
    assert isinstance(e, ValueError) and isinstance(e, CausalSynthError)


def test_plain_errors_read_as_before():
    assert str(SpecError("plain words")) == "plain words"
    e = SpecError("plain")
    assert e.argument is None and e.value is NO_VALUE and e.fixes == ()


def test_several_fixes_and_a_string_fix():
    e = DataError("bad.", ["bad"], fix=["do this", Fix("lower {}", "min_dcr")])
    assert str(e) == "bad; fix: do this; or lower min_dcr" and e.problems == ["bad"]


def test_only_the_first_mark_is_filled():
    e = SpecError("{} must be an integer; got {}", argument="n")  # a value whose repr holds braces
    assert str(e) == "n must be an integer; got {}"


@pytest.mark.parametrize("error", [
    SpecError("{} bad", argument="n_reps", value=3, fix=Fix("use {}", "resume", True)),
    DiskFullError("full", fix=Fix("free space, then {}", "resume", True)),
    OutputDiskFullError("full", fix="free space"),
])
def test_fields_survive_pickling(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    assert back.fixes == error.fixes and back.argument == error.argument
    assert (back.value is NO_VALUE) == (error.value is NO_VALUE)


def test_warnings_carry_the_fields():
    with pytest.warns(PositivityWarning) as record:
        warnings.warn(PositivityWarning("weak overlap.", fix=Fix("use {}", "se_method", "bootstrap")))
    w = record[0].message
    assert str(w) == "weak overlap; fix: use se_method='bootstrap'" and w.fixes[0].argument == "se_method"


def test_the_missing_values_fix_is_a_field_not_words():
    frame = pd.DataFrame({"A": [0, 1] * 10, "Y": np.arange(20.0), "x": [np.nan] + list(range(19))})
    with pytest.raises(DataError, match=r"missing values in x: 1 .*missing='drop'") as info:
        cs.CausalData(frame, treatment="A", outcome="Y")
    fix = [f for f in info.value.fixes if f.argument == "missing"]
    assert fix and fix[0].value == "drop"


def test_resume_without_checkpoint_is_structured():
    with pytest.raises(SpecError) as info:
        cs.RunOptions(resume=True)
    assert info.value.argument == "resume" and info.value.value is True
    assert [f.argument for f in info.value.fixes] == ["checkpoint"]
    assert "resume=True" in str(info.value)
