"""The report files: provenance, one element per sentence, scrolling tables, one number formatter,
and (when a Chromium is installed) the page rendered at 1280 px without getting wider."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from causalsynth.report import MISSING, Section, format_value, provenance, write_report

SENTENCES = ["n=1566: recommended AIPW with the 'glm' learners.",
             "It has the least worst-case regret across the deciding worlds (flexible, placebo).",
             "Its 95% intervals cover 94.0% in flexible, 95.5% in placebo."]


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def iter(self, tag):
        for child in self.children:
            if child.tag == tag:
                yield child
            yield from child.iter(tag)

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)


class Tree(HTMLParser):
    VOID = {"meta", "img", "br", "wbr", "hr", "link", "input"}

    def __init__(self, text):
        super().__init__()
        self.root = self.node = Node("#root", {}, None)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.node)
        self.node.children.append(node)
        if tag not in self.VOID:
            self.node = node

    def handle_endtag(self, tag):
        node = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.node = node.parent

    def handle_data(self, data):
        self.node.text += data


def _wide_table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"world": ["flexible", "placebo", "glm"], "n": [1566, 1566, 1566],
                          "learner": ["glm", "gbm", "glm"], "estimator": ["aipw", "tmle", "or"]})
    for name in ("bias", "bias_mcse", "variance", "rmse", "rmse_mcse", "ci_width", "se_ratio", "seconds"):
        frame[name] = rng.normal(size=3) * 10.0 ** rng.integers(-3, 4, size=3)
    frame["coverage"] = [0.94, 0.955, np.nan]
    frame["coverage_mcse"] = [0.0134, 0.0120, np.nan]
    frame["failure_rate"] = [0.0, 0.02, 1.0]
    frame["n_ok"] = [24.0, 24.0, np.nan]
    frame["note"] = ["a long note " * 12, "", None]
    return frame


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    table = _wide_table()
    sections = [Section("Recommendation", "\n".join("- " + s for s in SENTENCES)),
                Section("Plain lines", "First line of a paragraph.\nSecond line, on its own.\n  an indented detail"),
                Section("Performance", "A wide table.", table),
                Section("Metrics", "", pd.DataFrame({"metric": ["n_obs", "share_outside", "ess_treated"],
                                                     "value": [445, 0.0123, 173.81087]}, dtype=object))]
    prov = provenance(command="causalsynth demo --n-reps 6", seed=7, data_name="embedded dataset 'nhefs'")
    paths = write_report(out, "A test report", sections, {"answer": 42}, provenance=prov)
    return paths, table


def test_provenance_in_every_format(report):
    paths, _ = report
    tree = Tree(paths["html"].read_text())
    prov = next(n for n in tree.root.iter("dl") if n.attrs.get("id") == "provenance")
    labels = [dt.all_text() for dt in prov.iter("dt")]
    values = dict(zip(labels, [dd.all_text() for dd in prov.iter("dd")]))
    for label in ("causalsynth version", "command", "seed", "data", "rows", "treatment", "outcome", "date (UTC)",
                  "Python", "numpy", "pandas", "scikit-learn"):
        assert label in values
    assert values["command"] == "causalsynth demo --n-reps 6" and values["seed"] == "7"
    assert values["date (UTC)"].endswith("Z") and values["date (UTC)"][4] == "-"
    md = paths["markdown"].read_text()
    assert md.index("## Provenance") < md.index("## Recommendation") and "- seed: 7" in md
    doc = json.loads(paths["json"].read_text())
    assert doc["provenance"]["command"] == "causalsynth demo --n-reps 6" and doc["answer"] == 42


def test_python_api_provenance_by_default(tmp_path):
    paths = write_report(tmp_path, "t", [Section("s", "x")], {})
    assert json.loads(paths["json"].read_text())["provenance"]["command"] == "Python API"


def test_each_sentence_is_its_own_element(report):
    paths, _ = report
    tree = Tree(paths["html"].read_text())
    texts = [n.all_text() for tag in ("p", "li") for n in tree.root.iter(tag)]
    for sentence in SENTENCES:
        assert sentence in texts  # an element holding exactly that sentence
    assert "First line of a paragraph." in texts and "Second line, on its own." in texts
    assert "an indented detail" in texts
    md = paths["markdown"].read_text()
    assert all(f"- {s}" in md.splitlines() for s in SENTENCES)
    assert "First line of a paragraph.\n\nSecond line, on its own." in md


def test_every_table_scrolls_and_numbers_use_one_formatter(report):
    paths, table = report
    text = paths["html"].read_text()
    tree = Tree(text)
    tables = list(tree.root.iter("table"))
    assert len(tables) == 2
    for t in tables:
        assert any(a.tag == "div" and a.attrs.get("class") == "table-wrap" for a in t.ancestors())
    assert ".table-wrap{overflow-x:auto" in text and "max-width:1180px" in text
    wide = tables[0]
    header = [th.all_text() for th in wide.iter("th")]
    assert header == [str(c) for c in table.columns]
    rows = [[td.all_text() for td in tr.iter("td")] for tr in wide.iter("tr") if list(tr.iter("td"))]
    for row, (_, source) in zip(rows, table.iterrows()):
        assert row == [format_value(v, c) for c, v in source.items()]
    # what the formatter does, on this table
    cov = header.index("coverage")
    assert [r[cov] for r in rows] == ["94.0%", "95.5%", MISSING]
    assert [r[header.index("n")] for r in rows] == ["1566"] * 3
    assert [r[header.index("n_ok")] for r in rows] == ["24", "24", MISSING]
    assert rows[2][header.index("note")] == MISSING
    bias = header.index("bias")
    for r, v in zip(rows, table["bias"]):
        assert float(r[bias]) == pytest.approx(float(f"{v:.4g}"), rel=1e-12)
    # a metric/value table formats each value by its metric's name
    metrics = [[td.all_text() for td in tr.iter("td")] for tr in tables[1].iter("tr") if list(tr.iter("td"))]
    assert metrics == [["n_obs", "445"], ["share_outside", "1.2%"], ["ess_treated", "173.8"]]
    md = paths["markdown"].read_text()
    assert f"| {MISSING} |" in md and "| 94.0% |" in md and "| nan |" not in md.lower()


@pytest.mark.parametrize("value, column, expected", [
    (float("nan"), "bias", MISSING), (None, "x", MISSING), (3, "x", "3"), (np.int64(1566), "n", "1566"),
    (24.0, "n_reps", "24"), (0.9512, "coverage", "95.1%"), (0.25, "treated_share", "25.0%"),
    (3.44051, "ate", "3.441"), (1794.3421, "ate", "1794"), (12345.678, "ate", "12346"),
    (0.000123456, "se", "0.0001235"), (1.5e-7, "se", "1.5e-07"), (True, "unfit", "yes"),
    (math.inf, "regret", "inf"), ("aipw", "estimator", "aipw"),
])
def test_format_value(value, column, expected):
    assert format_value(value, column) == expected


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_at_1280_px_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on PATH (chromium, chromium-browser or google-chrome): the browser check "
                    "is skipped; the HTML structure tests above still run")
    paths, _ = report
    # the report plus a script that records how wide the document is, read back from the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(paths["html"].read_text().replace(
        "</body>", "<script>document.body.setAttribute('data-scroll-width', "
                   "String(document.documentElement.scrollWidth));</script></body>"))
    shot = tmp_path / "out.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--window-size=1280,2000"]
    subprocess.run([*common, f"--screenshot={shot}", probe.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 1000
    dom = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    tree = Tree(dom)
    body = next(tree.root.iter("body"))
    width = int(body.attrs["data-scroll-width"])
    assert width <= 1280, f"the document is {width} px wide at a 1280 px window"
