"""The ``causalsynth`` command.

Every subcommand has ``--help`` and ``--json`` (one JSON document on stdout), and exits with
status 2 and a one-line message on stderr when the input is bad (``--debug`` shows the
traceback instead).

The entry point is :func:`main` (in ``app``, with the parser); each subcommand lives in a module of its own
(``estimate``, ``simulate`` for ``demo`` and ``simulate``, ``synthesize`` for ``synthesize``
and ``dcr``, ``audit``, ``augment``), and everything they share in ``_common``.
"""
from __future__ import annotations

from ._common import load_data_arg, read_table
from .app import build_parser, main

__all__ = ["main", "build_parser", "read_table", "load_data_arg"]
