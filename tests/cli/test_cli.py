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
    (["estimate", "nhefs", "--level", "95"], "argument --level: expected a number in (0, 1); got '95'"),
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
    for command in ("estimate", "diagnose", "demo", "synthesize", "dcr", "simulate", "audit", "augment"):
        sub = run_cli(command, "--help")
        assert sub.returncode == 0 and "--json" in sub.stdout


def test_synthesize_and_dcr(tmp_path, capsys):
    out, truth, model = tmp_path / "s.csv", tmp_path / "t.parquet", tmp_path / "m.pkl"
    assert main(["synthesize", "nhefs", "--n", "800", "--out", str(out), "--truth-out", str(truth),
                 "--save-model", str(model), "--min-dcr", "auto", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == 800 and doc["dcr"]["exact_copy_share"] == 0.0
    import pandas as pd
    frame, t = pd.read_csv(out), pd.read_parquet(truth)
    assert len(frame) == 800 and list(t.columns) == ["y0", "y1", "mu0", "mu1", "propensity", "cate"]
    from causalsynth.synth.hybrid import HybridSynthesizer
    from causalsynth.synth.io import read_header
    assert read_header(model)["payload"] == "arrays"  # the safe format: no pickle
    assert HybridSynthesizer.load(model).sample(100, random_state=1).data.n_obs == 100
    real = tmp_path / "real.csv"
    from causalsynth.datasets import load_nhefs
    load_nhefs().frame.to_csv(real, index=False)
    assert main(["dcr", str(real), str(out), "--json", "--plot", str(tmp_path / "d.png")]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n_synthetic"] == 800 and rep["exact_copy_share"] == 0.0
    assert (tmp_path / "d.png").stat().st_size > 1000


def test_save_model_with_a_learner_only_a_pickle_holds(tmp_path, capsys, monkeypatch):
    from causalsynth.datasets.designs import LinearLogisticDesign
    from causalsynth.synth.hybrid import HybridSynthesizer
    from causalsynth.synth.io import read_header
    csv, out, model = tmp_path / "d.csv", tmp_path / "s.csv", tmp_path / "m.csz"
    LinearLogisticDesign().sample(300, random_state=0).data.frame.to_csv(csv, index=False)
    base = ["synthesize", str(csv), "-a", "a", "-y", "y", "--n", "200", "--out", str(out),
            "--propensity", "gbm", "--save-model", str(model)]
    assert main(base) == 2  # refused before fitting, nothing written
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--model-key" in err and "'gbm'" in err
    assert not out.exists() and not model.exists()
    monkeypatch.delenv("CS_TEST_KEY", raising=False)
    assert main([*base, "--model-key", "CS_TEST_KEY"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'CS_TEST_KEY' is unset" in err
    monkeypatch.setenv("CS_TEST_KEY", "a secret")
    assert main([*base, "--model-key", "CS_TEST_KEY"]) == 0
    assert read_header(model)["payload"] == "pickle" and read_header(model)["hmac_sha256"]
    assert HybridSynthesizer.load(model, key="a secret").sample(100, random_state=1).data.n_obs == 100
    assert "--model-key" in run_cli("synthesize", "--help").stdout


def test_dcr_column_mismatch_one_line(tmp_path, capsys):
    import pandas as pd
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"a": [1, 2], "c": [3, 4]}).to_csv(tmp_path / "s.csv", index=False)
    assert main(["dcr", str(tmp_path / "r.csv"), str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "columns missing: SYNTH: ['b']" in err and len(err.splitlines()) == 1


def test_synthesize_bad_knob(capsys, tmp_path):
    assert main(["synthesize", "nhefs", "--n", "100", "--out", str(tmp_path / "x.csv"), "--overlap", "-2"]) == 2
    assert "overlap must be in" in capsys.readouterr().err


def test_demo_small(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--n-reps", "6", "--learners", "glm", "--reps-per-config", "glm=6", "--refits", "2",
                 "--refit-reps", "4", "--n-jobs", "1", "--out", str(out), "--json"])
    assert code == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["recommended"]["estimator"] in ("or", "ipw", "aipw", "tmle")
    assert doc["dcr"]["exact_copy_share"] == 0.0
    assert len(doc["simulation"]["summary"]) == 4 * 4  # 4 worlds x 4 estimators
    assert (out / "report.html").exists() and (out / "report.md").exists()
    md = (out / "report.md").read_text()
    assert "Generator uncertainty" in md
    # provenance, the real data's positivity, and the plan printed on stderr with --json
    assert "- command: causalsynth demo --n-reps 6" in md and "- data: embedded dataset 'nhefs'" in md
    assert "## Positivity of the real data: overlap diagnostics" in md
    assert doc["positivity"]["n_obs"] == 1566 and doc["data_source"] == "embedded dataset 'nhefs'"
    report = json.loads((out / "report.json").read_text())
    assert report["provenance"]["seed"] == 0 and report["provenance"]["rows"] == 1566
    err = captured.err
    assert err.index("plan: fit 4 world(s)") < err.index("[1/4] fitting") < err.index("ETA about")


def test_simulate_csv_with_checkpoint_resume(tmp_path, capsys, lalonde):
    path = tmp_path / "nsw.csv"
    lalonde.frame.to_csv(path, index=False)
    args = ["simulate", str(path), "-a", "treat", "-y", "re78", "--n-reps", "6", "--refits", "0",
            "--n-jobs", "1", "--checkpoint", str(tmp_path / "ck"), "--out", str(tmp_path / "rep"), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 2  # the checkpoint exists: refuse to overwrite without --resume
    assert "resume" in capsys.readouterr().err
    assert main(args + ["--resume", "--force"]) == 0  # --force: the report of the first run is replaced
    again = json.loads(capsys.readouterr().out)
    assert again["simulation"]["resumed_replicates"] == 6 * 4  # 6 replicates in each of 4 worlds
    assert again["simulation"]["summary"] == first["simulation"]["summary"]


def test_usage_errors_are_one_line():
    proc = run_cli("augment", "lalonde")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "required: --out" in proc.stderr


def test_augment_with_bootstrap_standard_errors(tmp_path, capsys):
    out = tmp_path / "aug.csv"
    assert main(["augment", "nhefs", "--out", str(out), "--bootstrap", "20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for e in doc["estimates"]:
        assert e["se_bootstrap"] > 0
        assert e["ci_lower"] < e["ate_augmented_weighted"] < e["ci_upper"]
    assert main(["augment", "nhefs", "--out", str(out), "--bootstrap", "5"]) == 2
    assert "at least 20" in capsys.readouterr().err
