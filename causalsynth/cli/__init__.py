"""The ``causalsynth`` command.

Every subcommand has ``--help`` and ``--json`` (one JSON document on stdout), and exits with
status 2 and a one-line message on stderr when the input is bad (``--debug`` shows the
traceback instead).

The entry point is :func:`main` (in ``app``, with the parser); each subcommand lives in a module of its own
(``estimate``, ``diagnose``, ``simulate`` for ``demo`` and ``simulate``, ``synthesize`` for
``synthesize`` and ``dcr``, ``audit``, ``augment``), and everything they share in ``_common``.
Nothing here imports numpy or pandas until a command runs, so ``--help`` is fast.
"""
from __future__ import annotations

from ._common import EMBEDDED, load_data_arg, read_table
from .app import build_parser, cli_hint, main

__all__ = ["main", "build_parser", "cli_hint", "read_table", "load_data_arg", "EMBEDDED"]
