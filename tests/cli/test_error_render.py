"""Issue 19: the command line renders the library's structured error fields with its options
(one table, ``OPTIONS``), no regex rewriting of the words. Every hint the old regexes gave is
still given; rewording a message keeps its hint."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalsynth as cs
from causalsynth.cli.app import OPTIONS, cli_hint, cli_setting, main
from causalsynth.errors import NO_VALUE, DataError, Fix, PositivityWarning, PrivacyWarning, SpecError

ALL = frozenset(o for o in OPTIONS.values() if o.startswith("--"))


@pytest.mark.parametrize("argument, value, expected", [
    ("missing", "drop", "--drop-missing"),          # was: pass missing='drop' -> use --drop-missing
    ("resume", True, "--resume"),                   # was: pass resume=True -> pass --resume
    ("holdout", NO_VALUE, "--holdout"),  # set holdout > 0
    ("min_dcr", "auto", "--min-dcr auto"),          # use min_dcr='auto'
    ("se_method", "bootstrap", "--se bootstrap"),   # se_method='bootstrap'
    ("propensity_bounds", "adaptive", "--propensity-bounds adaptive"),
    ("causalsynth.positivity", NO_VALUE, "causalsynth diagnose"),
    ("random_state", 3, "--seed 3"),                # the aliases
    ("n_bootstrap", 200, "--bootstrap 200"),
    ("n_refits", 2, "--refits 2"),
    ("utility_learners", "glm", "--utility-learners glm"),
])
def test_every_old_hint_has_its_option(argument, value, expected):
    assert cli_setting(argument, value, ALL) == expected


def test_an_option_the_command_lacks_keeps_the_python_spelling():
    assert cli_setting("min_dcr", "auto", frozenset({"--seed"})) == "min_dcr='auto'"
    assert cli_setting("outcome_model", "mean", ALL) == "outcome_model='mean'"  # not the CLI's --outcome-model


def test_rewording_keeps_the_hint():
    for words in ("checkpoint folder x already holds a simulation", "x is taken", "anything at all"):
        error = SpecError(words, fix=[Fix("pass {} to continue it", "resume", True), Fix("choose another folder")])
        text = cli_hint(error, ALL)
        assert text.startswith(words) and "; fix: pass --resume to continue it; or choose another folder" in text


def test_the_data_error_says_drop_missing():
    frame = pd.DataFrame({"A": [0, 1] * 10, "Y": np.arange(20.0), "x": [np.nan] + list(range(19))})
    with pytest.raises(DataError) as info:
        cs.CausalData(frame, treatment="A", outcome="Y")
    text = cli_hint(info.value, ALL)
    assert "pass --drop-missing to keep the complete cases" in text and "missing='drop'" not in text


def test_min_dcr_fixes_in_cli_words():
    hybrid = cs.HybridSynthesizer(min_dcr="auto", settings=cs.synth.SynthSettings(holdout=0.0))
    data = cs.datasets.load_nhefs()
    with pytest.raises(SpecError) as info:
        hybrid.fit(data)
    text = cli_hint(info.value, ALL)
    assert text.startswith("--min-dcr auto derives the threshold") and "set --holdout > 0" in text
    assert "min_dcr='auto'" in str(info.value) and "set holdout > 0" in str(info.value)


def test_positivity_warning_points_to_diagnose_and_bootstrap():
    from causalsynth.estimators import untrusted_message
    w = untrusted_message({"share_outside_bounds": 0.6, "ess_share_treated": 0.01, "ess_share_control": 0.5,
                           "intervals_trusted": False, "estimand": "ate"}, "ate")
    assert isinstance(w, PositivityWarning)
    text = cli_hint(w, ALL)
    assert "--se bootstrap" in text and "causalsynth diagnose to see where overlap fails" in text
    assert "--estimand trimmed" in text
    assert "se_method='bootstrap'" in str(w) and "causalsynth.positivity" in str(w)


def test_a_plain_message_is_shown_as_it_is():
    assert cli_hint("n_jobs=0 is wrong", ALL) == "n_jobs=0 is wrong"  # no regex: words are not parsed
    assert cli_hint(PrivacyWarning("two\nlines"), ALL) == "two"


def test_the_command_prints_the_fix(tmp_path, capsys):
    frame = cs.datasets.load_nhefs().frame.copy()
    frame.loc[:4, "wt71"] = float("nan")
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["estimate", str(path), "-a", "qsmk", "-y", "wt82_71", "--estimators", "ipw"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("causalsynth estimate: error: missing values in wt71")
    assert "; fix: " in err and "pass --drop-missing" in err and len(err.splitlines()) == 1
