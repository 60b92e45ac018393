"""The command line: JSON output, one-line errors, non-zero exits."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from causalsynth.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "causalsynth.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_estimate_embedded_json(capsys):
    assert main(["estimate", "nhefs", "--book-models", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ipw = [r for r in doc["estimates"] if r["estimator"] == "ipw"][0]
    assert ipw["ate"] == pytest.approx(3.4405, abs=1e-4)


def test_estimate_csv_file(tmp_path, capsys, nhefs):
    path = tmp_path / "data.csv"
    nhefs.frame.to_csv(path, index=False)
    code = main(["estimate", str(path), "-a", "qsmk", "-y", "wt82_71", "--categorical",
                 "education,exercise,active", "--estimators", "aipw,tmle", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["estimator"] for r in doc["estimates"]] == ["aipw", "tmle"]
    pq = tmp_path / "data.parquet"
    nhefs.frame.to_parquet(pq)
    assert main(["estimate", str(pq), "-a", "qsmk", "-y", "wt82_71", "--json"]) == 0


@pytest.mark.parametrize("args, message", [
    (["estimate", "missing.csv", "-a", "a", "-y", "y"], "file not found"),
    (["estimate", "nhefs", "--estimators", "ols"], "unknown estimator"),
    (["estimate", "nhefs", "-a", "quit"], "treatment column 'quit' is not in the frame"),
    (["estimate", "nhefs", "--level", "95"], "level must be"),
])
def test_bad_input_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_unreadable_file_subprocess(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"this is not parquet")
    proc = run_cli("estimate", str(bad), "-a", "a", "-y", "y")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_for_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("estimate", "demo"):
        sub = run_cli(command, "--help")
        assert sub.returncode == 0 and "--json" in sub.stdout
