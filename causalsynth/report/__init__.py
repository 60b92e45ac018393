"""Report rendering shared by simulations, audits and positivity analyses."""
from __future__ import annotations

from .render import (
    MISSING,
    Section,
    format_value,
    html_table,
    markdown_table,
    positivity_sections,
    provenance,
    write_report,
)

__all__ = ["Section", "markdown_table", "html_table", "write_report", "format_value", "provenance",
           "positivity_sections", "MISSING"]
