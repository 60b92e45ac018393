"""Progress bars for long loops (tqdm when available and wanted, silent otherwise)."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["progress"]


def _enabled(show: bool | None) -> bool:
    if show is not None:
        return show
    if os.environ.get("CAUSALSYNTH_PROGRESS", "").lower() in ("0", "false", "no"):
        return False
    return sys.stderr.isatty()


def progress(items: Iterable[T], *, desc: str = "", total: int | None = None,
             show: bool | None = None) -> Iterator[T]:
    """Iterate ``items`` with a tqdm bar on stderr when ``show`` (default: stderr is a terminal)."""
    if not _enabled(show):
        yield from items
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        yield from items
        return
    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)
