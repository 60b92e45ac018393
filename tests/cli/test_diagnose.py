"""``causalsynth diagnose``: positivity without augmenting (text, JSON, report, plot)."""
from __future__ import annotations

import json

from causalsynth.cli import main
from causalsynth.positivity import PoorOverlapDesign


def test_diagnose_poor_overlap_json_report_and_plot(tmp_path, capsys):
    src = tmp_path / "poor.csv"
    PoorOverlapDesign().sample(600, random_state=3).data.frame.to_csv(src, index=False)
    code = main(["diagnose", str(src), "-a", "a", "-y", "y", "--delta", "0.05", "--n-folds", "3",
                 "--report", str(tmp_path / "rep"), "--plot", str(tmp_path / "p.png"), "--json", "--seed", "2"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    pos = doc["positivity"]
    assert pos["share_outside"] > 0.01 and pos["n_regions"] >= 1 and pos["n_folds"] == 3
    assert 0 <= pos["overlap_coefficient"] <= 1 and pos["ess_treated"] > 0
    assert doc["verdict"].startswith("verdict: overlap problem.")
    assert (tmp_path / "p.png").stat().st_size > 1000
    html = (tmp_path / "rep" / "positivity.html").read_text()
    assert "Regions where overlap fails" in html and "causalsynth diagnose" in html  # provenance: the command
    assert json.loads((tmp_path / "rep" / "positivity.json").read_text())["provenance"]["seed"] == 2


def test_diagnose_text_on_an_embedded_dataset(capsys):
    assert main(["diagnose", "lalonde", "--n-folds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("data: embedded dataset 'lalonde', 445 rows")
    assert "outside [0.05, 0.95]" in out and "effective sample size" in out and "overlap coefficient" in out
    assert "verdict:" in out


def test_diagnose_bad_input_is_one_line(capsys):
    assert main(["diagnose", "lalonde", "--delta", "0.7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "delta" in err and len(err.splitlines()) == 1
