"""One name per concept on the command line (docs/glossary.md): the old option names still
parse, into the new destination, with a one-line deprecation note (issue 19)."""
from __future__ import annotations

import pytest

from causalsynth.cli import build_parser


@pytest.mark.parametrize("argv, dest, value, old, new", [
    (["audit", "lalonde", "--n-repeats", "2"], "n_reps", 2, "--n-repeats", "--n-reps"),
    (["audit", "lalonde", "--outcome-model", "gbm"], "outcome_learner", "gbm", "--outcome-model", "--outcome-learner"),
    (["estimate", "nhefs", "--outcome-model", "gbm"], "outcome_learner", "gbm", "--outcome-model",
     "--outcome-learner"),
    (["augment", "lalonde", "--out", "a.csv", "--outcome-model", "gbm"], "outcome_learner", "gbm", "--outcome-model",
     "--outcome-learner"),
    (["synthesize", "lalonde", "--n", "10", "--out", "s.csv", "--outcome-model", "gbm"], "outcome_learner", "gbm", "--outcome-model",
     "--outcome-learner"),
    (["simulate", "lalonde", "--generators", "0"], "refits", 0, "--generators", "--refits"),
    (["demo", "--generators", "4"], "refits", 4, "--generators", "--refits"),
])
def test_old_option_names_still_parse_with_a_note(capsys, argv, dest, value, old, new):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"note: {old} is deprecated and will be removed; use {new}"]


def test_new_names_parse_quietly_and_old_ones_are_hidden(capsys):
    parser = build_parser()
    args = parser.parse_args(["audit", "lalonde", "--n-reps", "2", "--outcome-learner", "gbm"])
    assert (args.n_reps, args.outcome_learner) == (2, "gbm")
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit):
        parser.parse_args(["audit", "--help"])
    text = capsys.readouterr().out
    assert "--outcome-learner" in text and "--outcome-model" not in text and "--n-repeats" not in text


def test_defaults_survive_when_the_old_name_is_not_given():
    assert build_parser().parse_args(["simulate", "lalonde"]).refits == 3
    assert build_parser().parse_args(["audit", "lalonde"]).n_reps == 5
