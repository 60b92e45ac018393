"""Saving and loading fitted synthesizers.

File layout: one line of magic text, one line of JSON header (format version, causalsynth
version, class), then a pickle of the object. The header is read and checked before
anything is unpickled, so a file from an incompatible format version fails with
:class:`~causalsynth.errors.VersionMismatchError` without running its contents.

What a file holds: the fitted models and the real rows they need (the real training and
holdout covariates for the DCR filter and report, the real data's roles and dtypes, and, for
the copula generator, each numeric column's sorted real values). Treat a saved synthesizer
like the real data it was fitted on; share synthetic samples, not the synthesizer.

What loading trusts: the pickle part can run arbitrary code when unpickled, like any pickle
(and like joblib or torch checkpoints). Load only files you or someone you trust wrote.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

from .._version import __version__
from ..errors import DataFileError, VersionMismatchError

__all__ = ["FORMAT_VERSION", "save_synthesizer", "load_synthesizer"]

MAGIC = b"causalsynth-synthesizer\n"
#: Bumped whenever the saved attributes change incompatibly.
FORMAT_VERSION = 1


def save_synthesizer(obj, path) -> None:
    header = {"format_version": FORMAT_VERSION, "causalsynth": __version__,
              "class": type(obj).__name__}
    with open(path, "wb") as fh:
        fh.write(MAGIC)
        fh.write(json.dumps(header).encode() + b"\n")
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


def load_synthesizer(path, expected: type | None = None):
    """Read a file written by :func:`save_synthesizer`; ``expected`` checks the class."""
    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"no synthesizer file at {str(path)!r}")
    with open(p, "rb") as fh:
        if fh.readline() != MAGIC:
            raise DataFileError(f"{str(path)!r} is not a causalsynth synthesizer file")
        try:
            header = json.loads(fh.readline())
        except ValueError as exc:
            raise DataFileError(f"{str(path)!r} has a damaged header") from exc
        if not isinstance(header, dict):
            raise DataFileError(f"{str(path)!r} has a damaged header (not a JSON object)")
        version = header.get("format_version")
        if version != FORMAT_VERSION:
            raise VersionMismatchError(
                f"{str(path)!r} was saved in synthesizer format {version} by causalsynth "
                f"{header.get('causalsynth')}; this causalsynth reads format {FORMAT_VERSION}. "
                "Refit the synthesizer on the real data with this version.")
        try:
            obj = pickle.load(fh)
        except Exception as exc:
            raise DataFileError(f"cannot load {str(path)!r}: {exc}") from exc
    if expected is not None and not isinstance(obj, expected):
        raise DataFileError(f"{str(path)!r} holds a {type(obj).__name__}, not a {expected.__name__}")
    return obj
