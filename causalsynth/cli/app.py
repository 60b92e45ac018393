"""The ``causalsynth`` command's parser and entry point (the package face re-exports them)."""
from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import CausalSynthError
from ._common import one_line

__all__ = ["main", "build_parser"]

#: The first line of ``causalsynth --help``.
DESCRIPTION = "The ``causalsynth`` command."


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like every other bad input."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="causalsynth", description=DESCRIPTION)
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
