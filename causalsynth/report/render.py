"""Write a report as Markdown (with PNG figures beside it), self-contained HTML and JSON.

A report is a title, a list of :class:`Section` (text, an optional table, an optional
matplotlib figure) and a JSON-safe summary dictionary.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Section", "write_report", "markdown_table", "json_safe"]


@dataclass
class Section:
    """One part of a report. ``text`` is plain text; blank lines separate paragraphs."""

    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    figure: Any = None  # matplotlib Figure


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "" if math.isnan(value) else str(value)
        return f"{value:.4g}"
    return str(value)


def markdown_table(frame: pd.DataFrame, *, index: bool = False) -> str:
    """A GitHub-flavoured Markdown table (no third-party dependency)."""
    frame = frame.reset_index() if index else frame
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


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


def write_report(out_dir: str | Path, title: str, sections: list[Section], summary: dict,
                 *, stem: str = "report") -> dict[str, Path]:
    """Write ``{stem}.md``, ``{stem}.html``, ``{stem}.json`` and one PNG per figure into ``out_dir``."""
    import matplotlib.pyplot as plt
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    paths: dict[str, Path] = {}
    for i, sec in enumerate(sections, start=1):
        md += [f"## {sec.title}", ""]
        body.append(f"<h2>{html.escape(sec.title)}</h2>")
        for para in [p.strip() for p in sec.text.split("\n\n") if p.strip()]:
            md += [para, ""]
            body.append(f"<p>{html.escape(para)}</p>")
        if sec.table is not None and len(sec.table):
            md += [markdown_table(sec.table), ""]
            body.append(sec.table.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="",
                                          border=0, classes="tbl"))
        if sec.figure is not None:
            name = f"{stem}-{i:02d}-{_slug(sec.title)}.png"
            sec.figure.savefig(out / name, dpi=110, bbox_inches="tight")
            buf = io.BytesIO()
            sec.figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
            plt.close(sec.figure)
            md += [f"![{sec.title}]({name})", ""]
            b64 = base64.b64encode(buf.getvalue()).decode()
            body.append(f'<img alt="{html.escape(sec.title)}" src="data:image/png;base64,{b64}"/>')
            paths[name] = out / name
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table.tbl{border-collapse:collapse;font-size:0.9em;margin:1em 0}"
             "table.tbl td,table.tbl th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}"
             "img{max-width:100%}")
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{style}</style></head><body>{''.join(body)}</body></html>")
    (out / f"{stem}.md").write_text("\n".join(md))
    (out / f"{stem}.html").write_text(doc)
    (out / f"{stem}.json").write_text(json.dumps(json_safe(summary), indent=2))
    paths.update({"markdown": out / f"{stem}.md", "html": out / f"{stem}.html", "json": out / f"{stem}.json"})
    return paths
