"""Checkpoint store: a folder of Parquet parts, one per finished batch of tasks.

Layout::

    DIR/meta.json              spec fingerprint, seed entropy, grid description
    DIR/part-<first task>.parquet   replicate rows of one batch (written to a temporary
                               name, then renamed: a killed run never leaves half a part)

A task's rows are all in one part, so resuming reads the parts, collects the finished
(scenario, size, rep) triples and runs only the others. Nothing is duplicated and nothing
that finished is lost.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..errors import DataFileError, SpecError

__all__ = ["CheckpointStore"]


class CheckpointStore:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @property
    def meta_path(self) -> Path:
        return self.path / "meta.json"

    def exists(self) -> bool:
        return self.meta_path.exists()

    def open(self, meta: dict, *, resume: bool) -> None:
        """Create the folder, or check that an existing checkpoint belongs to this simulation."""
        if self.exists():
            old = json.loads(self.meta_path.read_text())
            if not resume:
                raise SpecError(
                    f"checkpoint folder {str(self.path)!r} already holds a simulation; pass resume=True "
                    "(CLI: --resume) to continue it, or choose another folder.")
            if old.get("fingerprint") != meta["fingerprint"]:
                raise SpecError(
                    f"checkpoint {str(self.path)!r} was written by a different simulation grid "
                    f"(fingerprint {old.get('fingerprint')} != {meta['fingerprint']}); use another folder.")
            meta["entropy"] = old["entropy"]
            return
        if self.path.exists() and any(self.path.iterdir()):
            raise SpecError(f"checkpoint folder {str(self.path)!r} exists and is not empty")
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2))
        os.replace(tmp, self.meta_path)

    def meta(self) -> dict:
        return json.loads(self.meta_path.read_text())

    def write_part(self, key: str, rows: pd.DataFrame) -> None:
        final = self.path / f"part-{key}.parquet"
        tmp = self.path / f".part-{key}.parquet.tmp"
        rows.to_parquet(tmp, index=False)
        os.replace(tmp, final)

    def read(self) -> pd.DataFrame:
        parts = sorted(self.path.glob("part-*.parquet"))
        if not parts:
            return pd.DataFrame()
        try:
            return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        except Exception as exc:
            raise DataFileError(f"cannot read checkpoint parts in {str(self.path)!r}: {exc}") from exc
