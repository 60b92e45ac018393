"""Checkpoint store: a folder of Parquet parts, one per finished batch of tasks.

Layout::

    DIR/meta.json                   format, fingerprint and the settings that decide the rows
                                    (see :mod:`causalsynth.simulate.fingerprint`)
    DIR/part-<first task>.parquet   replicate rows of one finished batch
    DIR/writer.lock                 held while a run writes (pid, host, start time)

Every file is written to a temporary name in the same folder, then renamed over its final
name (``os.replace``): a killed run never leaves half a part or half a ``meta.json``.

**Resume reads tasks, not batches.** A task's rows are all in one part; resuming collects the
finished (world, scenario, size, rep) tasks from the rows and runs only the others, grouped
in batches of the new run's ``batch_size``. A task's seed depends on its indices only, so
``batch_size`` changes neither the rows nor the checkpoint's key, and may differ between the
interrupted run and its resumption. Resuming with any setting that does decide the rows
(seed, ``n_reps``, a world's fitted state, the grid, the package version) is refused with a
:class:`~causalsynth.errors.CheckpointMismatchError` naming the settings that differ.

**One writer at a time.** A run creates ``writer.lock`` atomically (``O_CREAT | O_EXCL``)
before it reads or writes anything and removes it when it ends, however it ends. A second run
on the folder, in another process or in this one, is refused with a
:class:`~causalsynth.errors.CheckpointLockedError`. A lock left by a process that died on this
machine (its pid no longer runs) is stale: the next run takes it over with a warning. A lock
from another machine cannot be checked: delete it by hand once that run is gone. Two parts
holding the same task are refused on reading, naming both files.

Every fault of the store is a :class:`~causalsynth.errors.CheckpointError` naming the file
and the fix: a path that is a file, permissions, an invalid ``meta.json``, an unreadable or
foreign part, a full disk (:class:`~causalsynth.errors.DiskFullError`: the parts finished
before are safe).
"""
from __future__ import annotations

import errno
import json
import os
import socket
import time
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..errors import (
    CausalSynthWarning,
    CheckpointCorruptError,
    CheckpointError,
    CheckpointLockedError,
    CheckpointMismatchError,
    DiskFullError,
    Fix,
    OutputExistsError,
    SpecError,
)
from .fingerprint import setting_differences

__all__ = ["CheckpointStore", "FORMAT", "LOCK_NAME"]

FORMAT = 2  # meta.json layout: 2 records the settings (earlier checkpoints are refused)
LOCK_NAME = "writer.lock"
TASK_COLUMNS = ["world", "scenario", "n", "rep"]
ROW_KEY = ["world", "scenario", "n", "learner", "estimator", "rep"]
_HELD: set[str] = set()  # lock files held by runs of this process


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # no signal 0 to ask with: assume it runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def _lock_holder(lock: Path) -> dict | None:
    """The lock file's content; {} if it cannot be read as such, None if it is gone."""
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


class CheckpointStore:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.n_done = 0  # tasks held by the parts (after read(), and counting the parts written)
        self._token: str | None = None

    @property
    def meta_path(self) -> Path:
        return self.path / "meta.json"

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_NAME

    @property
    def _where(self) -> str:
        return repr(str(self.path))

    def _check_path(self) -> None:
        if self.path.is_symlink() and not self.path.exists():
            raise CheckpointError(f"checkpoint {self._where} is a symbolic link to {os.readlink(self.path)!r}, which "
                                  "does not exist (a dangling link): create the folder it points to, or remove the "
                                  "link, or pass another checkpoint folder")
        if self.path.exists() and not self.path.is_dir():
            raise CheckpointError(f"checkpoint {self._where} is a file, not a folder: pass the path of a folder "
                                  "(it is created if missing), or move the file away")

    def exists(self) -> bool:
        self._check_path()
        return self.meta_path.exists()

    # ------------------------------------------------------------------ errors of writes
    def _write_error(self, exc: OSError, target: Path) -> CheckpointError:
        code = getattr(exc, "errno", None)
        text = str(exc)
        if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)) or "No space left" in text or "[Errno 28]" in text:
            safe = (f"the {self.n_done} replicate task(s) finished before are safe in the checkpoint"
                    if self.n_done else "nothing of the run is lost")
            return DiskFullError(f"the disk holding checkpoint {self._where} is full (writing {target.name}): "
                                 f"{safe}", fix=Fix("free some space and run again with {}", "resume", True))
        if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM, errno.EROFS):
            return CheckpointError(f"cannot write {str(target)!r}: permission denied or a read-only file system; "
                                   "make the folder writable, or use another checkpoint folder")
        return CheckpointError(f"cannot write {str(target)!r}: {_first_line(exc)}; check the folder, or use "
                               "another checkpoint folder")

    def _write_atomic(self, target: Path, write, *, exclusive: bool = False) -> None:
        """``write(fh)`` into a new temporary file of the folder (``O_EXCL``, random name: a link
        planted in the folder is never followed), then renamed over ``target`` (or, with
        ``exclusive``, linked to it, never replacing a file); a failure leaves no temporary file."""
        from ..report.writer import write_file
        try:
            write_file(target, write, exclusive=exclusive, what="checkpoint file")
        except CheckpointError:
            raise
        except OSError as exc:
            if isinstance(exc, OutputExistsError):
                raise CheckpointCorruptError(
                    f"checkpoint part {str(target)!r} exists already: another run wrote to this folder; use "
                    "another folder, or delete that part and resume") from exc
            raise self._write_error(exc, target) from exc

    # ------------------------------------------------------------------ the lock
    @contextmanager
    def writing(self):
        """Hold the folder's lock (creating the folder) for the duration of a run."""
        self._check_path()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise CheckpointError(f"cannot create checkpoint folder {self._where}: a part of that path is a "
                                  "file; pass the path of a folder") from exc
        except OSError as exc:
            raise self._write_error(exc, self.path) from exc
        self._acquire()
        try:
            yield self
        finally:
            self._release()

    def _acquire(self) -> None:
        lock = self.lock_path
        for attempt in (1, 2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _lock_holder(lock)
                if attempt == 1 and (holder is None or self._take_over_stale(lock, holder)):
                    continue
                raise self._locked_error(lock, holder or {}) from None
            except OSError as exc:
                raise self._write_error(exc, lock) from exc
            _HELD.add(os.path.realpath(lock))  # before its content: a thread reading it sees it held
            self._token = uuid.uuid4().hex
            info = {"pid": os.getpid(), "host": socket.gethostname(), "token": self._token,
                    "started": time.strftime("%Y-%m-%d %H:%M:%S")}
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(info, fh)
            except OSError as exc:
                self._release()
                raise self._write_error(exc, lock) from exc
            return
        raise self._locked_error(lock, _lock_holder(lock) or {})  # pragma: no cover

    def _is_stale(self, lock: Path, holder: dict) -> bool:
        pid = holder.get("pid")
        if not isinstance(pid, int) or holder.get("host") != socket.gethostname():
            return False
        if pid == os.getpid():
            return os.path.realpath(lock) not in _HELD
        return not _pid_alive(pid)

    def _take_over_stale(self, lock: Path, holder: dict) -> bool:
        """Remove a stale lock (one takeover at a time); True to try the lock again."""
        if not self._is_stale(lock, holder):
            return False
        guard = lock.with_name(LOCK_NAME + ".takeover")
        try:
            os.close(os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except OSError:
            return False  # another run is taking it over
        try:
            if _lock_holder(lock) == holder:
                warnings.warn(f"taking over the stale lock {str(lock)!r} of process {holder['pid']}, which no "
                              "longer runs on this machine (a run that was killed); its finished replicates "
                              "are kept", CausalSynthWarning, stacklevel=5)
                lock.unlink(missing_ok=True)
            return True
        finally:
            guard.unlink(missing_ok=True)

    def _locked_error(self, lock: Path, holder: dict) -> CheckpointLockedError:
        pid, host = holder.get("pid"), holder.get("host")
        if pid is None:
            who = "an unknown run (the lock file is empty or unreadable)"
        elif pid == os.getpid() and host == socket.gethostname():
            who = f"another run in this process (pid {pid})"
        else:
            who = f"process {pid} on {host}" + (f", since {holder['started']}" if holder.get("started") else "")
        return CheckpointLockedError(
            f"checkpoint {self._where} is being written by {who}: its lock file {str(lock)!r} is held",
            fix=[Fix("wait for that run to finish"), Fix("use another folder"),
                 Fix("run again with {}" + f" after deleting {str(lock)!r}, if no run is writing to it (one "
                     "killed on another machine)", "resume", True)])

    def _release(self) -> None:
        lock = self.lock_path
        _HELD.discard(os.path.realpath(lock))
        holder = _lock_holder(lock)
        if holder and holder.get("pid") == os.getpid() and holder.get("token") == self._token:
            try:
                lock.unlink(missing_ok=True)
            except OSError:  # pragma: no cover - the run's own error matters more
                pass
        self._token = None

    # ------------------------------------------------------------------ meta.json
    def open(self, meta: dict, *, resume: bool) -> None:
        """Write ``meta`` to a new checkpoint, or check that an existing one holds the same
        settings (``meta["settings"]``); the caller holds the lock (:meth:`writing`)."""
        if self.exists():
            old = self.meta()
            if not resume:
                raise SpecError(f"checkpoint folder {self._where} already holds a simulation",
                                fix=[Fix("pass {} to continue it", "resume", True), Fix("choose another folder")])
            self._check_settings(old, meta)
            return
        others = [p.name for p in self.path.iterdir() if p.name != LOCK_NAME]
        if any(n.startswith("part-") for n in others):
            raise CheckpointCorruptError(
                f"checkpoint {self._where} holds replicate parts but no meta.json, so they cannot be checked "
                "against this run: restore its meta.json, or use another folder")
        if others:
            raise SpecError(f"checkpoint folder {self._where} exists and is not empty (it holds {sorted(others)[:3]}); "
                            "choose an empty or new folder")
        text = json.dumps(meta, indent=2).encode("utf-8")
        self._write_atomic(self.meta_path, lambda fh: fh.write(text))

    def _check_settings(self, old: dict, meta: dict) -> None:
        if old.get("format") != FORMAT or not isinstance(old.get("settings"), dict):
            raise CheckpointMismatchError(
                f"checkpoint {self._where} was written by an older causalsynth that did not record the settings "
                "of its rows, so it cannot be checked against this run: use another folder",
                [("format", str(old.get("format", 1)), str(FORMAT))])
        if old.get("fingerprint") == meta["fingerprint"]:
            return
        diffs = setting_differences(old["settings"], meta["settings"])
        if not diffs:
            diffs = [("fingerprint", f"fingerprint {old.get('fingerprint')}", f"fingerprint {meta['fingerprint']}")]
        hint = ""
        if any(name == "seed" for name, _, _ in diffs) and isinstance(old.get("entropy"), list):
            entropy, key = old["entropy"][0], old["entropy"][1] if len(old["entropy"]) > 1 else []
            seed = (f"random_state={entropy}" if not key and isinstance(entropy, int) else
                    f"random_state=numpy.random.SeedSequence({entropy}, spawn_key={tuple(key)})")
            hint = f" (to resume it, pass its seed: {seed})"
        raise CheckpointMismatchError(
            f"checkpoint {self._where} belongs to a different simulation grid: it was written with "
            f"{', '.join(a for _, a, _ in diffs)}; this run has {', '.join(b for _, _, b in diffs)}: "
            f"use another folder or the same settings{hint}", diffs)

    def meta(self) -> dict:
        """The checkpoint's meta.json, checked to be a JSON object with a fingerprint."""
        where = repr(str(self.meta_path))
        try:
            text = self.meta_path.read_bytes().decode("utf-8")
        except PermissionError as exc:
            raise CheckpointError(f"cannot read {where}: permission denied; make it readable") from exc
        except UnicodeDecodeError as exc:
            raise self._corrupt_meta(where, "it is not UTF-8 text") from exc
        except OSError as exc:
            raise CheckpointError(f"cannot read {where}: {_first_line(exc)}") from exc
        try:
            meta = json.loads(text)
        except ValueError as exc:
            raise self._corrupt_meta(where, f"it is not valid JSON: {_first_line(exc)}") from exc
        if not isinstance(meta, dict) or not isinstance(meta.get("fingerprint"), str):
            raise self._corrupt_meta(where, "it has no fingerprint")
        return meta

    def _corrupt_meta(self, where: str, why: str) -> CheckpointCorruptError:
        return CheckpointCorruptError(
            f"{where} is damaged ({why}; truncated or edited?), so the checkpoint's settings cannot be checked: "
            f"restore that file, or use another folder (delete {self._where} to start over)")

    # ------------------------------------------------------------------ parts
    def write_part(self, key: str, rows: pd.DataFrame) -> None:
        """Write one finished batch's rows as a new part (never over an existing one)."""
        final = self.path / f"part-{key}.parquet"
        if final.exists():
            raise CheckpointCorruptError(
                f"checkpoint part {str(final)!r} exists already: another run wrote to this folder; use another "
                "folder, or delete that part and resume")
        self._write_atomic(final, lambda fh: rows.to_parquet(fh, index=False), exclusive=True)
        self.n_done += len(rows[TASK_COLUMNS].drop_duplicates()) if len(rows) else 0

    def read(self, spec=None) -> pd.DataFrame:
        """The replicate rows of every part. With ``spec`` (the
        :class:`~causalsynth.simulate.spec.SimulationSpec` being resumed), a part holding rows
        outside its grid is refused; two parts holding one task always are."""
        self._check_path()
        parts = sorted(self.path.glob("part-*.parquet"))
        frames, owner = [], {}
        for path in parts:
            frame = self._read_part(path, spec)
            for task in frame[TASK_COLUMNS].drop_duplicates().itertuples(index=False, name=None):
                task = (str(task[0]), str(task[1]), int(task[2]), int(task[3]))
                if task in owner:
                    raise CheckpointCorruptError(
                        f"checkpoint parts {str(owner[task])!r} and {str(path)!r} both hold the replicate (world "
                        f"{task[0]!r}, scenario {task[1]!r}, n={task[2]}, rep {task[3]}): two runs wrote to the "
                        "folder at once, or a part was copied in; delete one of the two files and resume")
                owner[task] = path
            frames.append(frame)
        self.n_done = len(owner)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _read_part(self, path: Path, spec) -> pd.DataFrame:
        where = repr(str(path))
        try:
            frame = pd.read_parquet(path)
        except PermissionError as exc:
            raise CheckpointError(f"cannot read checkpoint part {where}: permission denied; make it readable") from exc
        except Exception as exc:  # pyarrow raises many kinds
            raise CheckpointCorruptError(
                f"checkpoint part {where} cannot be read ({_first_line(exc)}): delete that file and resume; "
                "its replicates run again") from exc
        if "world" not in frame:  # parts written before worlds existed: the single world
            frame = frame.assign(world=spec.worlds[0] if spec is not None else "given")
        missing = [c for c in ROW_KEY if c not in frame]
        if missing:
            raise CheckpointCorruptError(f"checkpoint part {where} lacks the column(s) {missing}: it is not a "
                                         "replicate part of causalsynth; remove it and resume")
        if spec is not None:
            self._check_grid(where, frame, spec)
        if frame.duplicated(ROW_KEY).any():
            raise CheckpointCorruptError(f"checkpoint part {where} holds a replicate row twice: remove it and resume; "
                                         "its replicates run again")
        return frame

    @staticmethod
    def _check_grid(where: str, frame: pd.DataFrame, spec) -> None:
        allowed = {"world": list(spec.worlds), "scenario": [s.name for s in spec.scenarios], "n": list(spec.sizes),
                   "learner": [c.name for c in spec.learners], "estimator": list(spec.estimators)}
        for col, values in allowed.items():
            bad = sorted({v.item() if hasattr(v, "item") else v for v in frame[col].unique()} - set(values), key=str)
            if bad:
                raise CheckpointCorruptError(
                    f"checkpoint part {where} holds {col} {bad[:3]}, which this grid does not have (its {col} "
                    f"values: {values}): the part was not written by this simulation; remove it, or use another folder")
        reps = frame["learner"].map({c.name: spec.reps_of(c) for c in spec.learners})
        out = (frame["rep"] < 0) | (frame["rep"] >= reps)
        if out.any():
            row = frame[out].iloc[0]
            raise CheckpointCorruptError(
                f"checkpoint part {where} holds rep {int(row['rep'])} of learner {row['learner']!r}, beyond this "
                f"grid's {int(reps[out].iloc[0])} replicates: the part was not written by this simulation; remove "
                "it, or use another folder")
