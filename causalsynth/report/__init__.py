"""Report rendering shared by simulations, audits and positivity analyses."""
from __future__ import annotations

from .render import Section, markdown_table, write_report

__all__ = ["Section", "markdown_table", "write_report"]
