"""Issue 16: when its own risk check fires, augment_positivity's default hands back no records
expected to hurt (the original data, the reason attached); if_risky="ignore" keeps them."""
from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from causalsynth import AugmentSpec, augment_positivity
from causalsynth.cli import build_parser
from causalsynth.datasets import Xu2026Positivity
from causalsynth.errors import PositivityWarning


@pytest.fixture(scope="module")
def xu():
    # seed 0 at n=200: the check fires (median logit gap about 16 > 4; docs/positivity.md)
    return Xu2026Positivity().sample(200, random_state=0).data


def _run(data, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = augment_positivity(data, AugmentSpec(**kw), random_state=0)
    return res, [str(w.message) for w in caught if issubclass(w.category, PositivityWarning)]


def test_default_returns_the_original_data_and_the_reason(xu):
    res, warned = _run(xu)
    assert res.risk["verdict"].startswith("risky")
    assert res.n_added == 0 and res.data.n_obs == xu.n_obs
    pd.testing.assert_frame_equal(res.data.frame, xu.frame)
    np.testing.assert_array_equal(res.weights, np.ones(xu.n_obs))
    assert res.risk["withheld"] > 0
    assert "withheld" in res.risk["reason"] and "if_risky='ignore'" in res.risk["reason"]
    assert res.risk["reason"] in str(res)
    assert any(m.startswith("no records added") for m in warned)
    # estimates on the result are those of the original rows
    from causalsynth.estimators import estimate_from_nuisance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = estimate_from_nuisance(xu, res.original_fit, ["ipw"])
    assert res.estimate(estimators=("ipw",))["ipw"] == pytest.approx(original["ipw"], abs=1e-12)


def test_ignore_keeps_the_records_on_request(xu):
    res, warned = _run(xu, if_risky="ignore")
    assert res.n_added > 0 and res.data.n_obs == xu.n_obs + res.n_added
    assert "withheld" not in res.risk and not warned
    warn, warned = _run(xu, if_risky="warn")
    assert warn.n_added == res.n_added and any("expected to hurt" in m for m in warned)


def test_cli_default_writes_the_original_rows_and_says_why(xu, tmp_path):
    src, out = tmp_path / "xu.csv", tmp_path / "aug.csv"
    xu.frame.to_csv(src, index=False)
    args = build_parser().parse_args(["augment", str(src), "-a", "a", "-y", "y", "--out", str(out), "--json"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert args.func(args) == 0
    payload = json.loads(buf.getvalue())
    assert payload["augmentation"]["n_added"] == 0 and payload["augmentation"]["withheld"] > 0
    assert "withheld" in payload["augmentation"]["withheld_reason"]
    written = pd.read_csv(out)
    assert len(written) == xu.n_obs and not written["aug_synthetic"].any()
    args = build_parser().parse_args(["augment", str(src), "-a", "a", "-y", "y", "--out", str(tmp_path / "b.csv")])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args.func(args)
    assert "were withheld (--if-risky withhold, the default)" in buf.getvalue()
    assert "--if-risky ignore" in buf.getvalue()
    args = build_parser().parse_args(["augment", str(src), "-a", "a", "-y", "y", "--out", str(tmp_path / "c.csv"),
                                      "--if-risky", "ignore"])
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args.func(args)
    assert len(pd.read_csv(tmp_path / "c.csv")) > xu.n_obs
