"""Embedded real datasets (nothing is downloaded at run time) and cited simulation designs."""
from __future__ import annotations

from ._real import DATASETS, load_dataset, load_lalonde, load_nhefs, load_nhefs_frame

__all__ = ["DATASETS", "load_dataset", "load_lalonde", "load_nhefs", "load_nhefs_frame"]
