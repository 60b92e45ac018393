"""The ``causalsynth`` command's parser and entry point (the package face re-exports them).

Building the parser imports no numpy, pandas or scikit-learn (``causalsynth --help`` is
fast); each command imports what it needs when it runs. Errors are printed on one line, with
the library's advice in Python terms ("pass missing='drop'") translated into this command's
options ("use --drop-missing"): see :func:`cli_hint`.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import textwrap
import warnings

from .._version import __version__
from ..errors import CausalSynthError
from ._common import DATA_RULE, HelpFormatter, one_line

__all__ = ["main", "build_parser", "cli_hint", "HEARTBEAT_SECONDS"]

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

#: Library advice in Python terms -> the command's own words (regex, replacement). Checked in
#: order; then ``name=value`` of a keyword argument becomes ``--name value`` when the command has
#: an option of that name (see :func:`cli_hint`).
HINTS = [
    (r"pass missing='drop'", "use --drop-missing"),
    (r"missing='drop'", "--drop-missing"),
    (r"pass resume=True", "pass --resume"),
    (r"set holdout > 0", "set --holdout above 0"),
    (r"use min_dcr='auto' \(set from the real holdout\)", "use --min-dcr auto (set from the real holdout)"),
    (r"pass a lower min_dcr yourself", "pass a lower --min-dcr yourself"),
    (r"lower min_dcr\b", "lower --min-dcr"),
    (r"se_method='bootstrap'", "--se bootstrap"),
    (r"propensity_bounds='adaptive'", "--propensity-bounds adaptive"),
    (r"causalsynth\.positivity to see where overlap fails", "causalsynth diagnose to see where overlap fails"),
]
#: Keyword names whose option means something else on the command line (--outcome is a column).
NOT_OPTIONS = {"outcome", "outcome_model", "treatment", "covariates", "key", "truth", "axis", "missing"}


#: Python parameter names whose command-line option has another name.
ALIASES = {"random_state": "--seed", "n_bootstrap": "--bootstrap", "n_generators": "--refits",
           "se_method": "--se", "utility_learners": "--utility-learners"}


def _option_for(name: str, options: set[str]) -> str | None:
    """The command's option for Python parameter ``name`` (None when it has none)."""
    if name in NOT_OPTIONS:
        return None
    option = ALIASES.get(name, "--" + name.replace("_", "-"))
    return option if option in options else None


def cli_hint(message: str, options: set[str] = frozenset()) -> str:
    """``message`` with Python-argument advice replaced by the command's options: ``name=value``
    becomes ``--name value`` and a bare parameter name (``random_state``, ``n_jobs``) its option
    (``--seed``, ``--n-jobs``) when the command has one."""
    for pattern, repl in HINTS:
        message = re.sub(pattern, repl, message)

    def keyword(m: re.Match) -> str:
        name, value = m.group(1), m.group(2)
        option = _option_for(name, options)
        if option is None:
            return m.group(0)
        if value == "True":
            return option
        return f"{option} {value.strip(chr(39) + chr(34))}"
    message = re.sub(r"(?<![\w.-])([a-z][a-z0-9]*(?:_[a-z0-9]+)*)=('[^']*'|\"[^\"]*\"|True|[-0-9.]+)", keyword, message)

    def bare(m: re.Match) -> str:
        return _option_for(m.group(1), options) or m.group(0)
    # a snake_case name not quoted, not an attribute, a call or part of a path: a Python parameter
    return re.sub(r"(?<![\w.'\"`/\\-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w'\"`=(/\\]|\.\w)", bare, message)


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
        print(f"warning: {category.__name__}: {cli_hint(str(message), options)}", file=sys.stderr)

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
        print(f"causalsynth {args.command}: error: {cli_hint(one_line(exc), options)}", file=sys.stderr)
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
