"""The ``causalsynth`` command's parser and entry point (the package face re-exports them).

Building the parser imports no numpy, pandas or scikit-learn (``causalsynth --help`` is
fast); each command imports what it needs when it runs. Errors are printed on one line, the
library's structured fields (the parameter, the fix) spelled with this command's options
("pass --drop-missing" where Python reads "pass missing='drop'"): see :func:`cli_hint`.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import textwrap
import warnings

from .._version import __version__
from ..errors import NO_VALUE, CausalSynthError, StructuredMessage, python_setting
from ._common import DATA_RULE, HelpFormatter, one_line

__all__ = ["main", "build_parser", "cli_hint", "cli_setting", "OPTIONS", "HEARTBEAT_SECONDS"]

#: The first lines of ``causalsynth --help``.
DESCRIPTION = (
    "causalsynth: choose and check a treatment-effect estimator for an observational study with "
    "synthetic data whose truth is known.\n\n"
    "Estimate the average treatment effect of a binary treatment A on an outcome Y adjusted for "
    "covariates W (OR, IPW, AIPW, TMLE, DML); diagnose positivity (overlap); synthesize (W, A, Y) "
    "with its truth; simulate the candidate estimators on many synthetic replicates to pick one "
    "before touching the real outcomes; audit whether synthetic data keep the effect.\n\n" + DATA_RULE)

EXAMPLES = [
    "causalsynth demo                                    # the main job on embedded NHEFS",
    "causalsynth estimate nhefs --book-models            # What If's IP weighting and standardization",
    "causalsynth diagnose lalonde --report positivity/   # overlap, without augmenting",
    "causalsynth simulate lalonde --n-reps 50 --out report/",
    "causalsynth COMMAND --help                          # every option with its default, and examples",
]

#: Heartbeat interval of the command when stderr is not a terminal (CAUSALSYNTH_HEARTBEAT overrides).
HEARTBEAT_SECONDS = 15.0

#: THE table from library parameters (and tools) to this command line's words. An error or
#: warning names the parameter it is about and the settings of its fixes in structured fields
#: (``argument``, ``value``, ``fixes``: see :mod:`causalsynth.errors`); :func:`cli_hint` spells
#: them with these options. A key ``(parameter, value)`` is a setting with an option of its own.
OPTIONS: dict = {
    ("missing", "drop"): "--drop-missing",
    "random_state": "--seed",
    "n_bootstrap": "--bootstrap",
    "n_refits": "--refits",
    "n_reps": "--n-reps",
    "n_repeats": "--n-reps",
    "n_jobs": "--n-jobs",
    "n": "--n",
    "se_method": "--se",
    "propensity_bounds": "--propensity-bounds",
    "estimand": "--estimand",
    "estimators": "--estimators",
    "level": "--level",
    "delta": "--delta",
    "utility_learners": "--utility-learners",
    "min_dcr": "--min-dcr",
    "holdout": "--holdout",
    "na_values": "--na-values",
    "resume": "--resume",
    "checkpoint": "--checkpoint",
    "causalsynth.positivity": "causalsynth diagnose",
}


def cli_setting(argument: str | None, value=NO_VALUE, options: set[str] | frozenset = frozenset()) -> str:
    """How this command line spells the library setting ``argument=value``: its option
    (``--seed 3``, ``--resume``, ``--drop-missing``) when the command has it, else the Python
    spelling (``random_state=3``)."""
    if argument is None:
        return ""
    option = OPTIONS.get((argument, value)) if _hashable(value) else None
    whole = option is not None
    option = option or OPTIONS.get(argument)
    if option is None or (option.startswith("--") and option not in options):
        return python_setting(argument, value)
    if whole or value is NO_VALUE or value is True:
        return option
    if isinstance(value, (list, tuple)):
        return f"{option} {','.join(map(str, value))}"
    return f"{option} {value}"


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def cli_hint(problem, options: set[str] | frozenset = frozenset()) -> str:
    """An error or warning in this command's words, on one line: the message and its fixes
    with every library setting spelled as an option (:data:`OPTIONS`). A plain message (an
    exception or warning without structured fields) is shown as it is."""
    if isinstance(problem, StructuredMessage):
        text = problem.render(lambda argument, value: cli_setting(argument, value, options))
    else:
        text = str(problem)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(problem).__name__


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like every other bad input."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    desc = "\n\n".join(textwrap.fill(par, 88) for par in DESCRIPTION.split("\n\n"))
    parser = _Parser(prog="causalsynth", description=desc, formatter_class=HelpFormatter,
                     epilog="examples:\n" + "\n".join(f"  {e}" for e in EXAMPLES))
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("--version", action="version", version=f"causalsynth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    from . import audit, augment, diagnose, estimate, simulate, synthesize
    estimate.register(sub)
    diagnose.register(sub)
    simulate.register(sub)
    synthesize.register(sub)
    audit.register(sub)
    augment.register(sub)
    return parser


def _options_of(parser: argparse.ArgumentParser, command: str | None) -> set[str]:
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    chosen = sub.choices.get(command) if sub is not None and command else None
    return {o for a in (chosen or parser)._actions for o in a.option_strings}


def _heartbeat_seconds() -> float:
    raw = os.environ.get("CAUSALSYNTH_HEARTBEAT", "").strip()
    try:
        return float(raw) if raw else HEARTBEAT_SECONDS
    except ValueError:
        return HEARTBEAT_SECONDS


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (2, one line on stderr), --help or --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    args.command_line = "causalsynth " + shlex.join(argv)
    options = _options_of(parser, args.command)

    def _show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {category.__name__}: {cli_hint(message, options)}", file=sys.stderr)

    from ..progress import set_heartbeat
    previous_show, previous_beat = warnings.showwarning, set_heartbeat(_heartbeat_seconds(), tag=args.command)
    warnings.showwarning = _show
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CausalSynthError, ValueError, TypeError, OSError, KeyError) as exc:
        if args.debug:
            raise
        print(f"causalsynth {args.command}: error: {cli_hint(exc, options)}", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal error: still one line, with the way to see more
        if args.debug:
            raise
        print(f"causalsynth {args.command}: internal error ({type(exc).__name__}): {one_line(exc)}; "
              "rerun with --debug for the traceback", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = previous_show
        set_heartbeat(previous_beat[0], tag=previous_beat[1])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
