"""``causalsynth audit``: JSON, the report, help and bad names."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from causalsynth.cli import build_parser
from causalsynth.errors import SpecError


def _parser():
    return build_parser()


def test_cli_audit_json_and_report(tmp_path):
    args = _parser().parse_args(["audit", "lalonde", "--synthesizers", "hybrid,copula", "--n-reps", "1",
                                 "--estimators", "or,aipw", "--utility-learners", "linear",
                                 "--out", str(tmp_path / "rep"), "--json"])
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        assert args.func(args) == 0
    payload = json.loads(buf.getvalue())
    assert [r["synthesizer"] for r in payload["summary"]] == ["hybrid", "copula"]
    assert (tmp_path / "rep" / "audit.html").exists()
    assert payload["report"]["markdown"].endswith("audit.md")
    # the plan first (on stderr with --json); the real data's positivity and the provenance in the report
    assert "plan: 2 synthesizer(s) (hybrid, copula) x 1 repeat(s) = 2 fits" in err.getvalue()
    md = (tmp_path / "rep" / "audit.md").read_text()
    assert "## Positivity of the real data: overlap diagnostics" in md and "- command: causalsynth audit" in md
    assert payload["positivity"]["n_obs"] == 445


def test_cli_audit_help_and_bad_names():
    parser = _parser()
    help_text = parser._subparsers._group_actions[0].choices["audit"].format_help()
    assert "--synthesizers" in help_text and "--epochs" in help_text
    args = parser.parse_args(["audit", "lalonde", "--synthesizers", "hybrid,gan"])
    with pytest.raises(SpecError, match="valid names"):
        args.func(args)
    with pytest.raises(SystemExit):  # refused by the parser, before the data are read
        parser.parse_args(["audit", "lalonde", "--n-reps", "0"])
