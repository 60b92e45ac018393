"""The ``causalsynth`` command.

Every subcommand has ``--help`` and ``--json`` (one JSON document on stdout), and exits with
status 2 and a one-line message on stderr when the input is bad (``--debug`` shows the
traceback instead).

The entry point is :func:`main`; each subcommand lives in a module of its own
(``estimate``, ``simulate`` for ``demo`` and ``simulate``, ``synthesize`` for ``synthesize``
and ``dcr``, ``audit``, ``augment``), and everything they share in ``_common``.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import CausalSynthError
from ._common import load_data_arg, one_line, read_table

__all__ = ["main", "build_parser", "read_table", "load_data_arg"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like every other bad input."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="causalsynth", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from . import audit, augment, estimate, simulate, synthesize
    estimate.register(sub)
    simulate.register(sub)
    synthesize.register(sub)
    audit.register(sub)
    augment.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def _show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {category.__name__}: {message}", file=sys.stderr)

    warnings.showwarning = _show
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CausalSynthError, ValueError, TypeError, OSError, KeyError) as exc:
        if args.debug:
            raise
        print(f"causalsynth {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal error: still one line, with the way to see more
        if args.debug:
            raise
        print(f"causalsynth {args.command}: internal error ({type(exc).__name__}): {one_line(exc)}; "
              "rerun with --debug for the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
