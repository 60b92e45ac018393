"""``causalsynth augment``: the file it writes, its JSON, and bad input."""
from __future__ import annotations

import contextlib
import io
import json
import warnings

import pandas as pd
import pytest

from causalsynth.cli import build_parser
from causalsynth.errors import PositivityWarning
from causalsynth.positivity import PoorOverlapDesign


@pytest.fixture(scope="module")
def poor():
    return PoorOverlapDesign().sample(1000, random_state=11)


def _parser():
    return build_parser()


def test_cli_augment(poor, tmp_path):
    src = tmp_path / "poor.csv"
    poor.data.frame.to_csv(src, index=False)
    out = tmp_path / "aug.csv"
    args = _parser().parse_args(["augment", str(src), "-a", "a", "-y", "y", "--out", str(out),
                                 "--budget", "25", "--json", "--report", str(tmp_path / "rep"), "--seed", "3"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.warns(PositivityWarning):
        assert args.func(args) == 0
    payload = json.loads(buf.getvalue())
    assert payload["augmentation"]["n_added"] == 25 and payload["augmentation"]["budget"] == 25
    assert payload["diagnostics"]["regions"][0]["rule"].startswith(("w1 >", "2.")) or \
        "w1" in payload["diagnostics"]["regions"][0]["rule"]
    assert {e["estimator"] for e in payload["estimates"]} == {"or", "ipw", "aipw", "tmle"}
    written = pd.read_csv(out)
    assert len(written) == poor.data.n_obs + 25 and written["aug_synthetic"].sum() == 25
    assert written["aug_weight"].sum() == pytest.approx(poor.data.n_obs)
    assert (tmp_path / "rep" / "augmentation.md").exists()
    # text output and Parquet
    args = _parser().parse_args(["augment", str(src), "-a", "a", "-y", "y", "--out",
                                 str(tmp_path / "aug.parquet"), "--delta", "0.1"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore", PositivityWarning)
        args.func(args)
    assert "synthetic" in buf.getvalue() and len(pd.read_parquet(tmp_path / "aug.parquet")) > poor.data.n_obs


def test_cli_augment_bad_input(poor, tmp_path):
    src = tmp_path / "poor.csv"
    poor.data.frame.to_csv(src, index=False)
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        _parser().parse_args(["augment", str(src), "-a", "a", "-y", "y"])  # --out is required
    for bad in (["--delta", "0.8"], ["--budget", "0"]):  # refused by the parser, before any work
        with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            _parser().parse_args(["augment", str(src), "-a", "a", "-y", "y", "--out", str(tmp_path / "x.csv"), *bad])
