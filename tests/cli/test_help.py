"""``--help`` of every command (defaults, examples), a light start, CLI-native hints, DATA naming."""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys

import pytest

from causalsynth.cli import build_parser, main

COMMANDS = ("estimate", "diagnose", "demo", "simulate", "synthesize", "dcr", "audit", "augment")


def _subparsers(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_command_is_registered():
    assert set(_subparsers(build_parser())) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_description_defaults_and_examples(command):
    sub = _subparsers(build_parser())[command]
    text = sub.format_help()
    assert len(sub.description) > 80 and "The ``causalsynth``" not in text
    # every option states its default (or that it is required)
    for action in sub._actions:
        if not action.option_strings or action.dest == "help" or action.help == "==SUPPRESS==":
            continue  # hidden deprecated aliases (docs/glossary.md) show nothing
        shown = sub.formatter_class(prog="x")._get_help_string(action)
        assert action.required or "default" in shown.lower(), (command, action.option_strings)
    assert "examples:" in text
    examples = [line.strip() for line in sub.epilog.splitlines()[1:] if line.strip()]
    assert 2 <= len(examples) <= 3
    for line in examples:  # every example parses with this parser
        argv = shlex.split(line.split("#")[0].split(">")[0])
        assert argv[:2] == ["causalsynth", command]
        build_parser().parse_args(argv[1:])


def test_top_level_help():
    parser = build_parser()
    text = parser.format_help()
    assert text.startswith("usage: causalsynth")
    assert "The ``causalsynth`` command." not in text
    assert "synthetic data whose truth is known" in text and "examples:" in text
    assert "diagnose" in text and "./nhefs" in text  # the DATA naming rule is documented


def test_embedded_dataset_names_match_the_datasets():
    from causalsynth.audit.synthesizers import DEFAULT_SYNTHESIZERS, SYNTHESIZERS
    from causalsynth.cli import EMBEDDED
    from causalsynth.cli.audit import DEFAULT_SYNTHESIZER_NAMES, SYNTHESIZER_NAMES
    from causalsynth.datasets import DATASETS
    assert set(EMBEDDED) == set(DATASETS)
    assert tuple(SYNTHESIZERS) == SYNTHESIZER_NAMES and tuple(DEFAULT_SYNTHESIZERS) == DEFAULT_SYNTHESIZER_NAMES


_NO_HEAVY = """
import sys
import causalsynth.cli.app as app
parser = app.build_parser()
for command in {commands!r}:
    sub = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"][0].choices[command]
    sub.format_help()
parser.format_help()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "pandas", "scipy", "sklearn", "matplotlib",
                                                              "torch", "joblib"))
print(",".join(heavy))
"""


def test_help_imports_no_numpy_or_pandas():
    """Startup is kept light by what is imported, not by a timed test (benchmarks time it)."""
    proc = subprocess.run([sys.executable, "-c", _NO_HEAVY.format(commands=COMMANDS)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "causalsynth.cli", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "examples:" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in ("numpy", "pandas", "scipy", "sklearn")}


# the regex hints of cli_hint were replaced by structured error fields (issue 19):
# tests/cli/test_error_render.py pins every hint they gave


def test_missing_values_error_names_the_cli_option(tmp_path, capsys, nhefs):
    frame = nhefs.frame.copy()
    frame.loc[:4, "wt71"] = float("nan")
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    assert main(["estimate", str(path), "-a", "qsmk", "-y", "wt82_71", "--estimators", "ipw"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pass --drop-missing" in err and "missing='drop'" not in err and len(err.splitlines()) == 1
    assert main(["estimate", str(path), "-a", "qsmk", "-y", "wt82_71", "--estimators", "ipw", "--drop-missing",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data_source"] == f"file {str(path)!r}"


def test_embedded_name_wins_over_a_local_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nhefs").mkdir()  # a folder named like the embedded dataset
    assert main(["estimate", "nhefs", "--estimators", "ipw", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data_source"].startswith("embedded dataset 'nhefs' (not the local folder 'nhefs'")
    assert main(["estimate", "nhefs", "--estimators", "ipw"]) == 0
    assert capsys.readouterr().out.startswith("data: embedded dataset 'nhefs'")
    # something that looks like a path is a path
    assert main(["estimate", "./nhefs", "--estimators", "ipw"]) == 2
    err = capsys.readouterr().err
    assert "--treatment and --outcome are required" in err and "read as a path" in err
    assert main(["estimate", "./nhefs", "-a", "qsmk", "-y", "wt82_71"]) == 2
    assert "is a directory" in capsys.readouterr().err
