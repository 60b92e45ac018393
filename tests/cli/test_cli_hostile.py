"""Hostile command lines: outputs over inputs, outputs over each other, late argument errors,
full disks, dangling links, and messages in the command's own words (issue 16)."""
from __future__ import annotations

import errno
import os

import pandas as pd
import pytest

from causalsynth.cli import main
from causalsynth.cli.app import build_parser, cli_hint


@pytest.fixture
def data_csv(tmp_path, nhefs):
    path = tmp_path / "data.csv"
    nhefs.frame.to_csv(path, index=False)
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Any fit is a failure of the test: the refusal must come before the work."""
    def refuse(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")
    from causalsynth.positivity import augment as aug_mod
    from causalsynth.simulate import worlds
    from causalsynth.synth.hybrid import HybridSynthesizer
    monkeypatch.setattr(HybridSynthesizer, "fit", refuse)
    monkeypatch.setattr(worlds, "build_worlds", refuse)
    monkeypatch.setattr(aug_mod, "augment_positivity", refuse, raising=False)
    import causalsynth.positivity as pos
    monkeypatch.setattr(pos, "augment_positivity", refuse)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err  # one line
    return err


ROLES = ["-a", "qsmk", "-y", "wt82_71"]


# ---------------------------------------------------------------------------- outputs over inputs
def test_synthesize_out_over_the_input_is_refused_before_fitting(data_csv, capsys, no_work):
    before = data_csv.read_bytes()
    for target in (str(data_csv), str(data_csv.parent / "sub" / ".." / "data.csv")):
        code = main(["synthesize", str(data_csv), *ROLES, "--n", "100", "--out", target, "--force"])
        err = _error(capsys)
        assert code == 2 and "--out" in err and "input DATA" in err and "data.csv" in err
    assert data_csv.read_bytes() == before


def test_out_through_a_link_to_the_input_is_refused(data_csv, capsys, no_work):
    link = data_csv.parent / "alias.csv"
    link.symlink_to(data_csv)
    hard = data_csv.parent / "hard.csv"
    os.link(data_csv, hard)
    for target in (link, hard):
        assert main(["synthesize", str(data_csv), *ROLES, "--n", "100", "--out", str(target), "--force"]) == 2
        assert "input DATA" in _error(capsys)


def test_augment_out_over_the_input_is_refused(data_csv, capsys, no_work):
    before = data_csv.read_bytes()
    assert main(["augment", str(data_csv), *ROLES, "--out", str(data_csv)]) == 2
    err = _error(capsys)
    assert "--out" in err and "input DATA" in err
    assert data_csv.read_bytes() == before


@pytest.mark.parametrize("extra, names", [
    (["--truth-out", "s.csv"], "--out and --truth-out"),
    (["--save-model", "s.csv"], "--out and --save-model"),
])
def test_two_outputs_on_one_file_are_refused(tmp_path, capsys, no_work, monkeypatch, extra, names):
    monkeypatch.chdir(tmp_path)
    assert main(["synthesize", "nhefs", "--n", "100", "--out", "s.csv", *extra]) == 2
    assert names + " name the same file" in _error(capsys)
    assert not (tmp_path / "s.csv").exists()


def test_existing_out_needs_force(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.csv").write_text("keep\n")
    assert main(["synthesize", "nhefs", "--n", "200", "--out", "s.csv"]) == 2
    assert "--force" in _error(capsys) and (tmp_path / "s.csv").read_text() == "keep\n"
    assert main(["synthesize", "nhefs", "--n", "200", "--out", "s.csv", "--force"]) == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == 200
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_parent_that_is_a_file_is_named(tmp_path, capsys, no_work):
    (tmp_path / "somefile.csv").write_text("x")
    assert main(["synthesize", "nhefs", "--n", "100", "--out", str(tmp_path / "somefile.csv" / "out.csv")]) == 2
    err = _error(capsys)
    assert "--out" in err and "somefile.csv" in err and "is a file, not a folder" in err


# ---------------------------------------------------------------------------- simulate checks up front
def test_simulate_out_existing_file_is_refused_up_front(tmp_path, capsys, no_work):
    f = tmp_path / "existing.txt"
    f.write_text("x")
    assert main(["simulate", "nhefs", "--n-reps", "2", "--out", str(f)]) == 2
    err = _error(capsys)
    assert "--out" in err and "is a file, not a folder" in err and f.read_text() == "x"


def test_simulate_existing_report_needs_force_up_front(tmp_path, capsys, no_work):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.html").write_text("old")
    assert main(["simulate", "nhefs", "--n-reps", "2", "--out", str(out)]) == 2
    assert "--force" in _error(capsys) and (out / "report.html").read_text() == "old"
    with pytest.raises(AssertionError, match="work started"):  # --force: the checks pass, the work starts
        main(["--debug", "simulate", "nhefs", "--n-reps", "2", "--out", str(out), "--force"])


@pytest.mark.parametrize("argv, option, rule", [
    (["simulate", "nhefs", "--n-reps", "0"], "--n-reps", ">= 1"),
    (["simulate", "nhefs", "--n-jobs", "0"], "--n-jobs", ">= 1"),
    (["demo", "--n-jobs", "0"], "--n-jobs", ">= 1"),
    (["simulate", "nhefs", "--refits", "-1"], "--refits", ">= 0"),
    (["synthesize", "nhefs", "--n", "0", "--out", "x.csv"], "--n", ">= 1"),
    (["synthesize", "nhefs", "--n", "10", "--out", "x.csv", "--min-dcr", "abc"], "--min-dcr",
     "a distance >= 0 or 'auto'"),
    (["synthesize", "nhefs", "--n", "10", "--out", "x.csv", "--holdout", "1.5"], "--holdout", "[0, 1)"),
    (["synthesize", "nhefs", "--n", "10", "--out", "x.csv", "--seed", "-3"], "--seed", ">= 0"),
    (["synthesize", "nhefs", "--n", "10", "--out", "x.csv", "--ate", "inf"], "--ate", "finite"),
    (["estimate", "nhefs", "--level", "abc"], "--level", "(0, 1)"),
    (["diagnose", "nhefs", "--delta", "0.7"], "--delta", "(0, 0.5)"),
    (["audit", "nhefs", "--n-reps", "0"], "--n-reps", ">= 1"),
])
def test_argument_errors_are_refused_by_the_parser_naming_the_option(capsys, argv, option, rule):
    assert main(argv) == 2
    err = _error(capsys)
    assert f"argument {option}:" in err and rule in err and "could not convert" not in err


@pytest.mark.parametrize("extra, message", [
    (["--estimators", "or,foo"], "--estimators"),
    (["--worlds", "glm,mars"], "--worlds"),
    (["--propensity-bounds", "x"], "--propensity-bounds"),
    (["--resume"], "--checkpoint"),
    (["--checkpoint", "SAME"], "--checkpoint and --out name the same folder"),
])
def test_simulate_late_errors_come_before_any_fit(capsys, no_work, tmp_path, extra, message):
    extra = [str(tmp_path / "r") if e == "SAME" else e for e in extra]
    assert main(["simulate", "nhefs", "--out", str(tmp_path / "r"), *extra]) == 2
    assert message in _error(capsys)


def test_dangling_symlink_checkpoint_is_named_up_front(tmp_path, capsys, no_work):
    link = tmp_path / "ck"
    link.symlink_to(tmp_path / "nowhere")
    assert main(["simulate", "nhefs", "--out", str(tmp_path / "r"), "--checkpoint", str(link)]) == 2
    err = _error(capsys)
    assert str(link) in err and "symbolic link" in err and "does not exist" in err


# ---------------------------------------------------------------------------- --n named
def test_synthesize_small_n_is_refused_before_fitting_naming_n(capsys, no_work, tmp_path):
    assert main(["synthesize", "nhefs", "--n", "10", "--out", str(tmp_path / "s.csv")]) == 2
    err = _error(capsys)
    assert err.startswith("causalsynth synthesize: error: --n 10 is too small") and "--n 100" in err


def test_synthesize_unlucky_draw_names_n(capsys, tmp_path, monkeypatch):
    from causalsynth.errors import DataError
    from causalsynth.synth.hybrid import HybridSynthesizer

    def sample(self, n, **kw):
        raise DataError("too few rows: 2 treated and 18 control; each arm needs at least 5 rows")
    monkeypatch.setattr(HybridSynthesizer, "sample", sample)
    assert main(["synthesize", "nhefs", "--n", "20", "--out", str(tmp_path / "s.csv")]) == 2
    err = _error(capsys)
    assert "--n 20" in err and "too few rows" in err and not (tmp_path / "s.csv").exists()


# ---------------------------------------------------------------------------- a full disk
def test_full_disk_leaves_no_truncated_csv(tmp_path, capsys, monkeypatch):
    original = pd.DataFrame.to_csv

    def to_csv(self, buf=None, *args, **kwargs):
        original(self.iloc[: len(self) // 2], buf, *args, **kwargs)  # about half the rows, then ENOSPC
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    out = tmp_path / "s.csv"
    assert main(["synthesize", "nhefs", "--n", "2000", "--out", str(out)]) == 2
    err = _error(capsys)
    assert "disk is full" in err and "s.csv" in err
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary file


# ---------------------------------------------------------------------------- messages in CLI words
def test_python_names_become_options():
    # structured fields, no regex (issue 19): the parameter an error is about becomes the option
    from causalsynth.errors import SpecError
    options = {"--seed", "--n-jobs", "--n-reps", "--min-dcr"}
    error = SpecError("{} must be an integer >= 0; got -1.", argument="random_state")
    assert cli_hint(error, options) == "--seed must be an integer >= 0; got -1."
    assert cli_hint(error, {"--n-jobs"}) == "random_state must be an integer >= 0; got -1."  # no such option
    assert cli_hint("cannot read /tmp/n_jobs/random_state.csv", options) == "cannot read /tmp/n_jobs/random_state.csv"


def test_every_writing_command_has_force():
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict))
    for name in ("synthesize", "dcr", "augment", "audit", "diagnose", "simulate", "demo"):
        assert "--force" in sub.choices[name].format_help(), name
