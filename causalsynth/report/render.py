"""Write a report as Markdown (with PNG figures beside it), self-contained HTML and JSON.

A report is a title, a provenance block (:func:`provenance`: the causalsynth version, the
command line or "Python API", the seed, the data, the date in ISO 8601 UTC, the Python,
numpy, pandas and scikit-learn versions), a list of :class:`Section` (text, an optional
table, an optional matplotlib figure) and a JSON-safe summary dictionary.

Every number in a table goes through one formatter, :func:`format_value`: integers without
decimals, shares and coverages (columns whose names say so) as percentages, other numbers
to 4 significant digits, and a missing value (NaN, None) as an en dash, in HTML and Markdown
alike. Text is split into paragraphs at blank lines, and every line of a paragraph is its
own paragraph (indented lines and lines starting with "- " are list items), so sentences
written one per line never run together. HTML tables sit in a horizontally scrolling
container, so a wide table never makes the page wider than the window.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__

__all__ = ["Section", "write_report", "markdown_table", "html_table", "json_safe", "format_value",
           "provenance", "positivity_sections", "MISSING", "View", "SummaryView", "view_text", "view_html"]

#: How a missing value (NaN, None) is shown in HTML and Markdown tables.
MISSING = "\u2013"

_SHARE_WORDS = ("share", "coverage", "rate", "p_best", "percent")
_COUNT_NAMES = {"n", "rep", "repeat", "row", "rows", "count", "region_id", "arm", "seed", "fold", "folds"}


@dataclass
class Section:
    """One part of a report. ``text`` is plain text; blank lines separate paragraphs and every
    line is shown on its own (lines indented or starting with "- " as list items)."""

    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    figure: Any = None  # matplotlib Figure


# ---------------------------------------------------------------------------- result views
@dataclass(frozen=True)
class View:
    """How a result shows itself (``print(result)``, a notebook cell): a title, lines under it,
    tables taken from its ``summary()`` (or other DataFrame methods), and lines after them.
    The text and the HTML forms are both made from one View, so they show the same things."""

    title: str
    tables: tuple[pd.DataFrame, ...] = ()
    lines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    float_format: str = ".4f"
    index: bool = False
    html_tables: tuple[pd.DataFrame, ...] | None = None  # None: the same as ``tables``


def _fmt(view: View):
    return lambda v: format(v, view.float_format)


def view_text(view: View) -> str:
    """The text form of ``view``: title, lines, the tables (a blank line between two), notes."""
    out = [view.title, *view.lines]
    for i, table in enumerate(view.tables):
        out += ([""] if i else []) + [table.to_string(index=view.index, float_format=_fmt(view))]
    out += list(view.notes)
    return "\n".join(out)


def view_html(view: View) -> str:
    """The HTML form of ``view`` (a notebook's rich display): the same parts as :func:`view_text`."""
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in view.lines if line.strip())
    parts = [f"<div><strong>{html.escape(view.title)}</strong>", f"<ul>{items}</ul>" if items else ""]
    tables = view.tables if view.html_tables is None else view.html_tables
    parts += [t.to_html(index=view.index, float_format=_fmt(view), na_rep=MISSING) for t in tables]
    notes = "\n".join(view.notes).strip()
    if notes:
        parts.append("<pre>" + html.escape(notes) + "</pre>")
    return "".join(parts) + "</div>"


class SummaryView:
    """Mixin of the result classes: ``__str__`` and ``_repr_html_`` derived from one
    :class:`View`, whose table comes from ``summary()`` (a DataFrame). A class overrides
    ``_view()`` to add its title and prose; by default the title is the class name."""

    def _view(self) -> View:
        return View(type(self).__name__, (self.summary(),))

    def __str__(self) -> str:
        return view_text(self._view())

    def _repr_html_(self) -> str:
        return view_html(self._view())


# ---------------------------------------------------------------------------- numbers
def _is_share(column: Any) -> bool:
    name = str(column).lower()
    return any(word in name for word in _SHARE_WORDS)


def _is_count(column: Any) -> bool:
    name = str(column).lower()
    return name in _COUNT_NAMES or name.startswith("n_") or name.endswith(("_n", "_count", "_rows"))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def format_value(value: Any, column: Any = None) -> str:
    """The one number formatter of every report table.

    * missing (NaN, None) -> :data:`MISSING` (an en dash);
    * booleans -> "yes" / "no";
    * integers, and whole floats in a count column (``n``, ``n_*``, ``*_count``, ``rep``) -> no decimals;
    * shares (column names with share, coverage, rate, p_best, percent) -> a percentage, 1 decimal;
    * other numbers -> 4 significant digits (no exponent between 1e-4 and 1e6);
    * anything else -> ``str(value)``.
    """
    if _is_missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if not _is_number(value):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if not math.isfinite(v):
        return "inf" if v > 0 else "-inf"
    if _is_share(column):
        return f"{100 * v:.1f}%"
    if _is_count(column) and v.is_integer():
        return str(int(v))
    text = f"{v:.4g}"
    if "e" in text and 1e4 <= abs(v) < 1e6:
        text = f"{v:.0f}"
    return text


def _cells(frame: pd.DataFrame) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """Header names and, per row, (formatted text, is a number) for every cell."""
    cols = [str(c) for c in frame.columns]
    metric = "metric" in cols and "value" in cols  # a metric/value table: each row's metric names its number
    rows = []
    for rec in frame.itertuples(index=False):
        values = list(rec)
        hint_row = dict(zip(cols, values))
        row = []
        for col, v in zip(cols, values):
            hint = hint_row["metric"] if metric and col == "value" else col
            row.append((format_value(v, hint), _is_number(v) and not _is_missing(v)))
        rows.append(row)
    return cols, rows


def markdown_table(frame: pd.DataFrame, *, index: bool = False) -> str:
    """A GitHub-flavoured Markdown table, numbers by :func:`format_value`."""
    frame = frame.reset_index() if index else frame
    cols, rows = _cells(frame)
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |",
             "|" + "".join("---:|" if rows and rows[0][j][1] else "---|" for j in range(len(cols)))]
    for row in rows:
        lines.append("| " + " | ".join(text.replace("|", "\\|").replace("\n", " ") for text, _ in row) + " |")
    return "\n".join(lines)


def html_table(frame: pd.DataFrame) -> str:
    """An HTML table in a horizontally scrolling container, numbers by :func:`format_value`."""
    cols, rows = _cells(frame)
    head = "".join(f"<th>{html.escape(c).replace('_', '_<wbr>')}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f'<td class="{"num" if num else "txt"}">{html.escape(text)}</td>'
                                    for text, num in row) + "</tr>" for row in rows)
    return (f'<div class="table-wrap"><table class="tbl"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


# ---------------------------------------------------------------------------- text
def _lines_of(paragraph: str) -> list[tuple[str, int]]:
    """(text, list level) per line: 0 = a paragraph, 1+ = a list item (indent or "- ")."""
    out = []
    for raw in paragraph.split("\n"):
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        text = raw.strip()
        if text.startswith("- "):
            out.append((text[2:].strip(), 1 + indent // 4))
        else:
            out.append((text, 0 if indent == 0 else 1 + (indent - 1) // 4))
    return out


def _text_html(text: str) -> list[str]:
    parts: list[str] = []
    for para in [p for p in text.split("\n\n") if p.strip()]:
        items: list[str] = []
        for line, level in _lines_of(para):
            if level == 0:
                if items:
                    parts.append("<ul>" + "".join(items) + "</ul>")
                    items = []
                parts.append(f"<p>{html.escape(line)}</p>")
            else:
                cls = f' class="sub{level - 1}"' if level > 1 else ""
                items.append(f"<li{cls}>{html.escape(line)}</li>")
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
    return parts


def _text_markdown(text: str) -> list[str]:
    md: list[str] = []
    for para in [p for p in text.split("\n\n") if p.strip()]:
        in_list = False
        for line, level in _lines_of(para):
            if level == 0:
                if in_list:
                    md.append("")
                md += [line, ""]
                in_list = False
            else:
                md.append("  " * (level - 1) + "- " + line)
                in_list = True
        if in_list:
            md.append("")
    return md


# ---------------------------------------------------------------------------- provenance
def _version_of(dist: str) -> str:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:  # not installed, or no metadata
        return "not installed"


def provenance(*, command: str | None = None, seed: Any = None, data: Any = None,
               data_name: str | None = None, date: _dt.datetime | None = None) -> dict:
    """The provenance block of a report.

    ``command``: the command line (default "Python API"); ``seed``: the seed when known;
    ``data``: a CausalData (its rows, treatment and outcome are recorded) and ``data_name`` its
    name or path; ``date``: default now. Pass the result as ``provenance=`` to any
    ``write_report``.
    """
    when = (date or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    return {
        "causalsynth": __version__,
        "command": command or "Python API",
        "seed": None if seed is None else (int(seed) if _is_number(seed) else str(seed)),
        "data": data_name,
        "rows": int(data.n_obs) if hasattr(data, "n_obs") else None,
        "treatment": getattr(data, "treatment", None),
        "outcome": getattr(data, "outcome", None),
        "date": when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": _version_of("scikit-learn"),
    }


def _provenance_now() -> dict:
    """The provenance of a report written from Python without one: version, date, machine."""
    return provenance()


_PROVENANCE_LABELS = {"causalsynth": "causalsynth version", "command": "command", "seed": "seed",
                      "data": "data", "rows": "rows", "treatment": "treatment", "outcome": "outcome",
                      "date": "date (UTC)", "python": "Python", "numpy": "numpy", "pandas": "pandas",
                      "scikit-learn": "scikit-learn"}


def _provenance_items(prov: dict) -> list[tuple[str, str]]:
    out = []
    for key, label in _PROVENANCE_LABELS.items():
        value = prov.get(key)
        out.append((label, "not recorded" if value is None else str(value)))
    out += [(str(k), str(v)) for k, v in prov.items() if k not in _PROVENANCE_LABELS]
    return out


def positivity_sections(report: Any, *, what: str = "the real data", missing: str | None = None) -> list[Section]:
    """The positivity part of a study's report: the sections of a
    :class:`~causalsynth.positivity.PositivityReport` (duck-typed: anything with ``sections()``)
    titled for ``what``, or one section saying why there is none (``missing``)."""
    if report is None:
        return [Section("Positivity", missing or (
            f"The overlap of {what} was not diagnosed for this report. Run causalsynth diagnose DATA, or "
            "pass positivity=causalsynth.diagnose_positivity(data) to write_report."))]
    out = []
    for sec in report.sections():
        title = sec.title[0].lower() + sec.title[1:]
        out.append(Section(f"Positivity of {what}: {title}", sec.text, sec.table, sec.figure))
    return out


# ---------------------------------------------------------------------------- files
def json_safe(obj: Any) -> Any:
    """Convert numpy scalars/arrays, NaN and DataFrames into JSON-safe values."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return json_safe(obj.to_dict(orient="records"))
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "figure"


_STYLE = (
    "html{-webkit-text-size-adjust:100%}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1180px;margin:1.5em auto;"
    "padding:0 1em;color:#222;line-height:1.45;overflow-wrap:break-word}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #e5e5e5}"
    "p,li{max-width:60em}ul{padding-left:1.4em}li.sub1{margin-left:1.5em}li.sub2{margin-left:3em}"
    ".table-wrap{overflow-x:auto;max-width:100%;margin:0.8em 0}"
    "table.tbl{border-collapse:collapse;font-size:0.8em;table-layout:auto}"
    "table.tbl th{text-align:left;vertical-align:bottom;background:#f5f5f5;padding:4px 6px;max-width:10em;"
    "border-bottom:2px solid #ccc}"
    "table.tbl td{border-bottom:1px solid #e2e2e2;padding:3px 6px;vertical-align:top}"
    "table.tbl td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "table.tbl td.txt{text-align:left;max-width:30em;overflow-wrap:break-word}"
    ".provenance{font-size:0.85em;background:#f7f7f7;border:1px solid #e3e3e3;padding:0.4em 1em;"
    "display:grid;grid-template-columns:max-content 1fr;gap:0.15em 1em}"
    ".provenance dt{font-weight:600}.provenance dd{margin:0;overflow-wrap:anywhere}"
    "img{max-width:100%;height:auto}")


def write_report(out_dir: str | Path, title: str, sections: list[Section], summary: dict,
                 *, stem: str = "report", provenance: dict | None = None) -> dict[str, Path]:
    """Write ``{stem}.md``, ``{stem}.html``, ``{stem}.json`` and one PNG per figure into ``out_dir``.

    ``stem`` must be a plain file name (no folder, no '..'): SpecError otherwise. Every file is
    written atomically (:func:`causalsynth.report.writer.write_file`), replacing an older one.
    ``provenance`` (see :func:`provenance`; default: this call's, as "Python API") opens every
    file; the JSON file holds it under "provenance" beside the summary's keys.
    """
    import matplotlib.pyplot as plt

    from .writer import check_stem, write_bytes, write_text
    check_stem(stem)
    prov = provenance if provenance is not None else _provenance_now()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        from ..errors import OutputError
        raise OutputError(f"out_dir {str(out)!r} is a file, not a folder. Fix: give a folder (it is created if missing)")
    items = _provenance_items(prov)
    md = [f"# {title}", "", "## Provenance", "", *[f"- {k}: {v}" for k, v in items], ""]
    body = [f"<h1>{html.escape(title)}</h1>",
            '<dl class="provenance" id="provenance">'
            + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items) + "</dl>"]
    paths: dict[str, Path] = {}
    for i, sec in enumerate(sections, start=1):
        md += [f"## {sec.title}", ""]
        body.append(f'<section><h2>{html.escape(sec.title)}</h2>')
        md += _text_markdown(sec.text)
        body += _text_html(sec.text)
        if sec.table is not None and len(sec.table):
            md += [markdown_table(sec.table), ""]
            body.append(html_table(sec.table))
        if sec.figure is not None:
            name = f"{stem}-{i:02d}-{_slug(sec.title)}.png"
            buf = io.BytesIO()
            sec.figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
            plt.close(sec.figure)
            write_bytes(out / name, buf.getvalue(), what="report figure")
            md += [f"![{sec.title}]({name})", ""]
            b64 = base64.b64encode(buf.getvalue()).decode()
            body.append(f'<img alt="{html.escape(sec.title)}" src="data:image/png;base64,{b64}"/>')
            paths[name] = out / name
        body.append("</section>")
    doc = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
           f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
           f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>")
    write_text(out / f"{stem}.md", "\n".join(md), what="report")
    write_text(out / f"{stem}.html", doc, what="report")
    write_text(out / f"{stem}.json", json.dumps(json_safe({"provenance": prov, **summary}), indent=2), what="report")
    paths.update({"markdown": out / f"{stem}.md", "html": out / f"{stem}.html", "json": out / f"{stem}.json"})
    return paths
